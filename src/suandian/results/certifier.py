"""Independent certifier: re-check a plan from its result Dataset alone (no Pyomo, no model).

Every constraint family of the formulation is recomputed with xarray from the decisions and
the inputs the Dataset carries (``role`` = ``decision`` / ``input``); the shared measures
(intake, green energy, consumption, cost) come from :mod:`suandian.results.accounting`, where
they are defined once. Check names follow the model's components, e.g. ``ledger.balance``,
``stor.e_soc_balance``, ``dc.job_completion``, ``green_share.share_min``,
``pue_cap.pue_max``, ``res.p_used.bounds`` (variable bounds), ``dc.n_on.integrality``,
``dc.RUN`` (a value outside its variable's index set) and ``total_cost`` (the objective).
A relaxed (diagnosis) plan certifies with its slacks: ``x_unserved`` / ``x_unfinished`` enter
``dc.demand_served`` / ``dc.job_completion`` and ``e_green_shortfall`` / ``e_pue_excess``
enter ``green_share.share_min`` / ``pue_cap.pue_max`` whenever the Dataset holds them.

Tolerance rule
--------------
A row ``lhs <= rhs`` (or ``>=``, ``==``) is violated when it misses by more than
``tol * max(floor, |scale|)``: ``scale`` is the row's natural magnitude (the limit for a
bound or capacity, the largest flow for a balance, the energy capacity for a state-of-charge
step) and ``floor`` is 1 in the row's own unit (MW, MWh, blocks), except for compute rows,
whose floor is the largest block capacity: the model holds compute in units of the largest
block (``compute_scale``), so the solver's absolute feasibility tolerance is scaled by it.
The recomputed cost must match ``attrs['objective']`` within
``max(1e-3 CNY, 1e-6 * |objective|)``: both are the same linear function of the same stored
values, so only round-off separates them, and a millionth of the bill is far below any real
missing term. Without an objective (e.g. a diagnosis Dataset) the cost is not checked.

Every violation is returned (no cap; a tampered plan can yield one per row): checks in a
fixed order, and within each row test in index order (``where`` lists the dimensions in the
order scope, workload, job, corridor, contract, renewable, storage, node, site, time).
Inputs are trusted as given: a NaN limit means "no limit" (``import_limit``, ``pue_cap``,
``soc_final_min``, ``initial_on``), a NaN decision fails its bounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from .accounting import books, flows

#: relative tolerance of the cost check (see the module docstring)
COST_RTOL = 1e-6
#: absolute floor of the cost check, CNY
COST_ATOL = 1e-3

#: order of dimensions in ``Violation.where``
_DIM_ORDER = (
    "scope",
    "workload",
    "job",
    "corridor",
    "contract",
    "renewable",
    "storage",
    "node",
    "site",
    "time",
)


@dataclass(frozen=True)
class Violation:
    """One violated row of a check.

    Attributes
    ----------
    check : str
        The constraint family, named like the model component (``ledger.balance``).
    where : str
        The index of the row, e.g. ``site=cq_dc time=2026-07-15 10:15`` (``all`` for a
        scalar row).
    value : float
        The recomputed left-hand side (for a share or PUE row: the share or PUE achieved).
    limit : float
        The right-hand side it had to meet.
    """

    check: str
    where: str
    value: float
    limit: float

    def __str__(self) -> str:
        return (
            f"{self.check} at {self.where}: {self.value:.10g} against {self.limit:.10g} "
            f"(off by {self.value - self.limit:+.3g})"
        )


def certify(ds: xr.Dataset, tol: float = 1e-5) -> list[Violation]:
    """Re-check a plan from its Dataset alone.

    Parameters
    ----------
    ds : xarray.Dataset
        A result Dataset (``Result.ds`` or :func:`suandian.read_result`).
    tol : float
        Relative tolerance; see the module docstring for how it is scaled.

    Returns
    -------
    list of Violation
        Every violated row, empty when the plan satisfies the formulation.

    Raises
    ------
    ValueError
        If the Dataset holds no plan (no decisions).
    """
    if "p_grid" not in ds:
        raise ValueError("the Dataset holds no plan (no decision variables); nothing to certify")
    ds = _normalise(ds)
    c = _Checker(ds, tol)
    c.bounds()
    c.index_sets()
    c.ledger()
    c.grid()
    c.green_power()
    c.datacenter()
    c.storage()
    c.policies()
    c.cost()
    return c.out


# ------------------------------------------------------------------------ helpers
def _normalise(ds: xr.Dataset) -> xr.Dataset:
    """Undo netCDF round-trip effects on flags (stored as integers) so they mask as bool."""
    flags = {
        name: ds[name].astype(bool)
        for name in ("serve_eligible", "run_eligible", "storage_exclusive")
        if name in ds and ds[name].dtype != bool
    }
    return ds.assign(flags) if flags else ds


def _da(x) -> xr.DataArray:
    return x if isinstance(x, xr.DataArray) else xr.DataArray(x)


def _label(dim: str, value) -> str:
    if dim == "time":
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def _attr(ds: xr.Dataset, name: str) -> float:
    value = ds.attrs.get(name)
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


class _Checker:
    """Holds the Dataset, the tolerance and the violations found so far."""

    def __init__(self, ds: xr.Dataset, tol: float):
        self.ds = ds
        self.tol = float(tol)
        self.dt = float(ds.attrs["dt_hours"])
        self.out: list[Violation] = []
        self.f = flows(ds)
        caps = ds["block_capacity"].values
        #: compute rows are measured in blocks (the model's scaling): their absolute floor
        self.cs = float(caps.max()) if caps.size else 1.0
        self.books = books(ds)

    # ------------------------------------------------------------- row tests
    def _flag(self, check: str, bad: xr.DataArray, value, limit) -> None:
        bad, value, limit = xr.broadcast(bad, _da(value), _da(limit))
        order = [d for d in _DIM_ORDER if d in bad.dims]
        order += [d for d in bad.dims if d not in order]
        bad, value, limit = (a.transpose(*order) for a in (bad, value, limit))
        mask = np.asarray(bad.values, dtype=bool)
        for ix in np.argwhere(mask):
            where = (
                " ".join(
                    f"{d}={_label(d, bad[d].values[i])}" for d, i in zip(order, ix, strict=True)
                )
                or "all"
            )
            key = tuple(ix)
            self.out.append(
                Violation(check, where, float(value.values[key]), float(limit.values[key]))
            )

    def _row(self, check, sense, lhs, rhs, scale, floor, value, limit) -> None:
        """Flag rows ``lhs <sense> rhs`` missed by more than ``tol * max(floor, |scale|)``.

        One alignment, then plain numpy; a NaN ``rhs`` means no limit, a NaN ``lhs`` fails.
        """
        lhs, rhs = _da(lhs), _da(rhs)
        arrays = xr.broadcast(lhs, rhs, _da(rhs if scale is None else scale))
        left, right, size = (np.asarray(a.values, dtype=float) for a in arrays)
        thr = self.tol * np.maximum(floor, np.abs(size))
        with np.errstate(invalid="ignore"):
            if sense == "<=":
                ok = left - right <= thr
            elif sense == ">=":
                ok = right - left <= thr
            else:
                ok = np.abs(left - right) <= thr
        bad = ~np.isnan(right) & ~ok
        if bad.any():
            self._flag(
                check,
                arrays[0].copy(data=bad),
                lhs if value is None else value,
                rhs if limit is None else limit,
            )

    def le(self, check, lhs, rhs, scale=None, floor=1.0, value=None, limit=None) -> None:
        """Flag ``lhs <= rhs`` rows missed by more than the tolerance (NaN rhs: no limit)."""
        self._row(check, "<=", lhs, rhs, scale, floor, value, limit)

    def ge(self, check, lhs, rhs, scale=None, floor=1.0, value=None, limit=None) -> None:
        """Flag ``lhs >= rhs`` rows missed by more than the tolerance (NaN rhs: no limit)."""
        self._row(check, ">=", lhs, rhs, scale, floor, value, limit)

    def eq(self, check, lhs, rhs, scale=None, floor=1.0) -> None:
        """Flag ``lhs == rhs`` rows missed by more than the tolerance."""
        self._row(check, "==", lhs, rhs, scale, floor, None, None)

    def zero_outside(self, check, x, allowed, floor=1.0) -> None:
        """Flag non-zero values of ``x`` where ``allowed`` is False (outside the index set)."""
        x = _da(x)
        bad = ~_da(allowed) & ~(np.abs(x) <= self.tol * floor)
        self._flag(check, bad, x, 0.0)

    # ----------------------------------------------------------------- checks
    def bounds(self) -> None:
        """Variable bounds, non-negativity and integrality of every decision."""
        ds, cs = self.ds, self.cs
        inf = np.inf
        table = [  # (variable, check prefix, lower, upper, floor)
            ("n_on", "dc.n_on", ds["min_on"], ds["blocks"], 1.0),
            ("n_start", "dc.n_start", 0.0, inf, 1.0),
            ("x_serve", "dc.x_serve", 0.0, inf, cs),
            ("x_run", "dc.x_run", 0.0, inf, cs),
            ("p_it", "dc.p_it", 0.0, inf, 1.0),
            ("p_loss", "dc.p_loss", 0.0, inf, 1.0),
            ("p_cool", "dc.p_cool", 0.0, inf, 1.0),
            ("p_facility", "dc.p_facility", 0.0, inf, 1.0),
            ("p_grid", "grid.p_grid", 0.0, inf, 1.0),
            ("p_renewable", "res.p_used", 0.0, ds["p_renewable_available"], 1.0),
            ("p_charge", "stor.p_charge", 0.0, ds["storage_power"], 1.0),
            ("p_discharge", "stor.p_discharge", 0.0, ds["storage_power"], 1.0),
            ("e_soc", "stor.e_soc", 0.0, ds["storage_energy"], 1.0),
            ("p_send", "green.p_send", 0.0, inf, 1.0),
            ("p_contract", "green.p_contract", 0.0, inf, 1.0),
            (
                "e_certificate",
                "green.e_certificate",
                0.0,
                inf if not np.isnan(_attr(ds, "certificate_price")) else 0.0,
                1.0,
            ),
            ("x_unserved", "dc.x_unserved", 0.0, inf, cs),
            ("x_unfinished", "dc.x_unfinished", 0.0, inf, cs),
            ("e_green_shortfall", "green_share.e_shortfall", 0.0, inf, 1.0),
            (
                "e_pue_excess",
                "pue_cap.e_excess",
                0.0,
                xr.where(ds["pue_cap"].notnull(), inf, 0.0),
                1.0,
            ),
        ]
        for var, name, lo, hi, floor in table:
            if var not in ds:
                continue
            x = ds[var]
            self.ge(f"{name}.bounds", x, lo, floor=floor)
            hi = _da(hi)
            self.le(f"{name}.bounds", x, hi.where(np.isfinite(hi)), floor=floor)
        n_on = ds["n_on"]
        self.eq("dc.n_on.integrality", n_on, np.round(n_on))

    def index_sets(self) -> None:
        """Values outside the variables' index sets must be zero."""
        ds, cs = self.ds, self.cs
        self.zero_outside("dc.SERVE", ds["x_serve"], ds["serve_eligible"], floor=cs)
        self.zero_outside("dc.RUN", ds["x_run"], ds["run_eligible"] & self._in_window(), floor=cs)
        self.zero_outside("green.SEND", ds["p_send"], ds["site_node"] == ds["corridor_to_node"])
        self.zero_outside("green.TAKE", ds["p_contract"], ds["site_node"] == ds["contract_node"])

    def _in_window(self) -> xr.DataArray:
        ds = self.ds
        t = xr.DataArray(np.arange(ds.sizes["time"]), dims="time", coords={"time": ds["time"]})
        return (t >= ds["job_release"]) & (t < ds["job_deadline"])

    def ledger(self) -> None:
        """Electricity balance per site and period."""
        f, p_fac = self.f, self.ds["p_facility"]
        supply = f["grid"] + f["renewables"] + f["corridor"] + f["contract"] + f["discharge"]
        demand = p_fac + f["charge"]
        self.eq(
            "ledger.balance", supply - demand, 0.0, scale=np.maximum(np.abs(supply), np.abs(demand))
        )

    def grid(self) -> None:
        """Grid import per node within its limit."""
        ds = self.ds
        at_node = ds["site_node"] == ds["node"]
        imported = (ds["p_grid"] * at_node).sum("site")
        self.le("grid.import_limit", imported, ds["import_limit"])

    def green_power(self) -> None:
        """Corridor capacity, minimum and blocks; contract capacity."""
        ds = self.ds
        sent = ds["p_send"].sum("site")
        self.le("green.corridor_capacity", sent, ds["corridor_capacity"])
        minimum = ds["corridor_min"]
        self.ge("green.corridor_min", sent, minimum.where(minimum > 0))
        for k in ds["corridor"].values:
            block = float(ds["corridor_block_mw"].sel(corridor=k))
            if np.isnan(block):
                continue
            s = sent.sel(corridor=k)
            ids = ds["corridor_window"].sel(corridor=k).values.astype(int)
            held = np.zeros(ids.shape)
            for w in np.unique(ids[ids >= 0]):
                held[ids == w] = block * np.round(np.median(s.values[ids == w]) / block)
            held = xr.DataArray(held, dims="time", coords={"time": ds["time"]})
            self.eq(
                "green.corridor_block",
                s.expand_dims(corridor=[k]),
                held.expand_dims(corridor=[k]),
                scale=np.maximum(held, block),
            )
        self.le("green.contract_capacity", ds["p_contract"].sum("site"), ds["contract_capacity"])

    def datacenter(self) -> None:
        """Demand served, job completion and rate, capacity, start-ups and power chain."""
        ds, cs, dt = self.ds, self.cs, self.dt
        served = ds["x_serve"].where(ds["serve_eligible"], 0.0).sum("site")
        if "x_unserved" in ds:  # diagnosis slack (compute_shortfall_penalty)
            served = served + ds["x_unserved"]
        self.eq("dc.demand_served", served, ds["demand"], floor=cs)

        done = dt * ds["x_run"].where(ds["run_eligible"] & self._in_window(), 0.0).sum(
            ("site", "time")
        )
        if "x_unfinished" in ds:
            done = done + ds["x_unfinished"]
        self.eq("dc.job_completion", done, ds["job_work"], floor=cs)
        self.le("dc.job_rate", ds["x_run"].sum("site"), ds["job_max_rate"], floor=cs)

        compute = ds["x_serve"].sum("workload") + ds["x_run"].sum("job")
        n_on = ds["n_on"]
        self.le(
            "dc.compute_capacity",
            compute,
            ds["block_capacity"] * n_on,
            scale=ds["block_capacity"] * np.maximum(n_on, 1.0),
        )

        before = n_on.shift(time=1)
        before[{"time": 0}] = ds["initial_on"]
        self.ge("dc.start_count", ds["n_start"], n_on - before, scale=ds["blocks"])

        p_it, p_loss, p_cool = ds["p_it"], ds["p_loss"], ds["p_cool"]
        self.eq("dc.p_it_def", p_it, ds["idle_power"] * n_on + ds["dynamic_power"] * compute)
        self.eq("dc.p_loss_def", p_loss, ds["loss_fraction"] * p_it)
        self.eq("dc.p_cool_def", p_cool, (p_it + p_loss) / ds["cop"])
        self.eq("dc.p_facility_def", ds["p_facility"], p_it + p_loss + p_cool)

    def storage(self) -> None:
        """State-of-charge dynamics, end-of-horizon rule and charge/discharge exclusivity."""
        ds, dt = self.ds, self.dt
        if not ds.sizes.get("storage", 0):
            return
        energy = ds["storage_energy"]
        soc = ds["e_soc"]
        before = soc.shift(time=1)
        before[{"time": 0}] = ds["soc_initial"] * energy
        keep = (1.0 - ds["self_discharge"]) ** dt
        expected = keep * before + dt * (
            ds["eta_charge"] * ds["p_charge"] - ds["p_discharge"] / ds["eta_discharge"]
        )
        self.eq("stor.e_soc_balance", soc, expected, scale=energy)
        last = soc.isel(time=-1)
        self.ge("stor.e_soc_final", last, ds["soc_final_min"] * energy, scale=energy)

        both = np.minimum(ds["p_charge"], ds["p_discharge"])
        exclusive = ds["storage_exclusive"]
        self.le(
            "stor.charge_mode",
            both,
            xr.zeros_like(both).where(exclusive),
            scale=ds["storage_power"],
        )

    def policies(self) -> None:
        """Green share and certificate cap per scope; PUE cap per site."""
        ds, dt = self.ds, self.dt
        k = self.books
        sites = [str(s) for s in ds["site"].values]
        scope = str(ds.attrs.get("green_share_scope", "none"))
        groups = {s: [s] for s in sites} if scope == "site" else {"portfolio": sites}
        label = "site" if scope == "site" else "scope"
        names = list(groups)
        cons = xr.DataArray(
            [sum(k["consumption_mwh"][s] for s in groups[g]) for g in names],
            dims=label,
            coords={label: names},
        )
        green = xr.DataArray(
            [sum(k["green_mwh"][s] for s in groups[g]) for g in names],
            dims=label,
            coords={label: names},
        )
        cert = ds["e_certificate"]
        certs = xr.DataArray(
            [float(cert.sel(site=groups[g]).sum()) for g in names],
            dims=label,
            coords={label: names},
        )
        target = _attr(ds, "green_share_target")
        if not np.isnan(target):
            shortfall = xr.zeros_like(green)
            if "e_green_shortfall" in ds:  # diagnosis slack (shortfall_penalty)
                shortfall = xr.DataArray(
                    ds["e_green_shortfall"].values,
                    dims=label,
                    coords={label: [str(s) for s in ds["scope"].values]},
                )
            got = green + shortfall
            share = got / cons.where(cons > 0)
            self.ge(
                "green_share.share_min",
                got,
                target * cons,
                value=share.fillna(np.inf),
                limit=target,
            )
        max_share = _attr(ds, "certificate_max_share")
        if not np.isnan(max_share):
            self.le("green_share.certificate_cap", certs, max_share * cons)

        e_it = ds["p_it"].sum("time") * dt
        e_fac = ds["p_facility"].sum("time") * dt
        if "e_pue_excess" in ds:
            e_fac = e_fac - ds["e_pue_excess"]
        cap = ds["pue_cap"]
        pue = (e_fac / e_it.where(e_it > 0)).fillna(np.inf).where(e_fac > 0, 0.0)
        self.le("pue_cap.pue_max", e_fac, cap * e_it, value=pue, limit=cap)

    def cost(self) -> None:
        """Recomputed total cost against the objective the solver reported."""
        objective = _attr(self.ds, "objective")
        if np.isnan(objective):
            return
        total = float(self.books["cost"]["total"])
        if not abs(total - objective) <= max(COST_ATOL, COST_RTOL * abs(objective)):
            self.out.append(Violation("total_cost", "all", total, objective))
