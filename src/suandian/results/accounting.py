"""Carbon and energy books from a result Dataset alone (pure post-processing, no model).

Each component's ``account(ds)`` recomputes its flows by carrier from the Dataset (the
mirror of its ports); this module sums them and defines every measure once, for the KPIs,
the certifier and the docs (``docs/math/accounting.md``):

* intake[s,t]  = sum of the families' ``intake`` flows                              (MW)
* consumption  = sum_t intake * dt                                                   (MWh)
* green        = sum_t green flows * dt + certificates                               (MWh)
* PUE[s]       = sum_t facility / sum_t IT (storage losses excluded)
* WUE[s]       = sum_t water * dt / sum_t IT * dt  (m3/MWh = L/kWh)
* ERF[s]       = sum_t heat recovered * dt / sum_t facility * dt (ISO/IEC 30134-6)
* location-based CO2 = sum_t co2 flows * dt                                          (tCO2)
* market-based CO2   = max(0, sum_t co2_market flows * dt + certificate credit) per site
* hourly CFE   = sum_h cfe_h / sum_h load_h per site (Google's 24/7 score): load = facility
  energy in the clock hour, cfe = the carbon-free energy that served it (green intake and the
  carbon-free part of battery discharge first, then the grid's carbon-free share
  ``grid_cfe`` of what the grid supplied: the site's node's for grid import, the sending
  node's for the non-green part of corridor deliveries); certificates excluded (:func:`cfe`)

With representative periods every ``sum_t`` above is ``sum_t w_t ...`` (``period_weight``
in the Dataset; the families' accounts weight their per-period costs the same way) and every
cost term is multiplied by the scenario's ``probability`` (attribute; applied here, once, to
the families' unweighted-by-probability ``Account.cost``). The hourly CFE weights each
clock hour by the mean weight of its periods (the battery's carbon-free store follows the
modelled periods in order).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from ..catalogue import known
from ..checks import carbon_free, node_series, period_weight, probability, site_time_zeros
from ..component import CARRIERS, HOURS_PER_YEAR, Account, Totals

#: carriers summed per site and period by :func:`flows`: the books' own plus every carrier
#: that states a carbon-free share of its energy (the supply of the hourly CFE)
CARRIER_FLOWS = tuple(
    dict.fromkeys(
        (
            "power",
            "intake",
            "green",
            "co2",
            "co2_market",
            "it",
            "facility",
            *(c.name for c in CARRIERS.values() if c.carbon_free is not None and not c.horizon),
        )
    )
)


def accounts(ds: xr.Dataset) -> dict[str, Account]:
    """Every family's account of the Dataset."""
    return {c.name: c.account(ds) for c in known(ds) if c.account is not None}


def flows(ds: xr.Dataset, acc: dict[str, Account] | None = None) -> xr.Dataset:
    """Per-site flows by carrier, summed over the families, (site, time)."""
    acc = accounts(ds) if acc is None else acc
    zeros = site_time_zeros(ds)
    out = {}
    for carrier in CARRIER_FLOWS:
        total = zeros
        for a in acc.values():
            if carrier in a.flows:
                total = total + a.flows[carrier]
        out[carrier] = total
    return xr.Dataset(out)


def _horizon(acc: dict[str, Account], carrier: str, ds: xr.Dataset) -> xr.DataArray:
    total = xr.zeros_like(ds["site"], dtype=float)
    for a in acc.values():
        if carrier in a.horizon:
            total = total + a.horizon[carrier]
    return total


def _claim(owner: dict[str, str], kind: str, key: str, name: str) -> None:
    """Record ``name`` as the owner of ``key``; a second owner is an error naming both."""
    first = owner.setdefault(key, name)
    if first != name:
        raise ValueError(
            f"{kind} {key!r} is given by both {first!r} and {name!r}: output, cost-term and "
            "energy names share one namespace; rename one of them"
        )


def merge(acc: dict[str, Account], part: str) -> tuple[dict[str, float], dict[str, str]]:
    """The accounts' ``cost`` or ``energy`` tables merged, and the owner of each key.

    Raises
    ------
    ValueError
        For a key given by two components, naming both.
    """
    out: dict[str, float] = {}
    owner: dict[str, str] = {}
    for name, a in acc.items():
        for key, value in getattr(a, part).items():
            _claim(owner, f"{part} key", key, name)
            out[key] = value
    return out, owner


def books(ds: xr.Dataset, acc: dict[str, Account] | None = None) -> dict:
    """Compute the KPIs of a result Dataset.

    Returns
    -------
    dict
        ``cost`` (CNY by term and total), ``energy_mwh`` (by source), ``consumption_mwh``,
        ``green_mwh``, ``green_share`` (portfolio and per site) and its certificate part
        ``green_share_certificates``, ``pue`` per site, ``emissions_tco2`` (location- and
        market-based), ``cfe_hourly``, ``cue_kg_per_kwh``; then each component's own KPIs
        (its ``kpis`` hook, in build order): ``wue_l_per_kwh`` and ``co2_per_compute`` (dc),
        ``erf`` and ``heat_reused_mwh`` (thermal), ``green_share_year``, ``pue_grade`` and
        ``pue_year`` (policies; the year's figures only where given). ``pue_grade`` is
        informative, not a compliance grade (docs/math/pue_cap.md, "KPIs"); ``green_share``
        is the horizon's, the rule's is the year's (docs/math/green_share.md).
    """
    acc = accounts(ds) if acc is None else acc
    dt = float(ds.attrs["dt_hours"])
    w = period_weight(ds)
    f = flows(ds, acc)
    sites = [str(s) for s in ds["site"].values]
    consumption = (f["intake"] * w).sum("time") * dt
    certificates = _horizon(acc, "certificates", ds)
    green = (f["green"] * w).sum("time") * dt + certificates
    e_it = (f["it"] * w).sum("time") * dt
    e_fac = (f["facility"] * w).sum("time") * dt
    location = (f["co2"] * w).sum("time") * dt
    market = ((f["co2_market"] * w).sum("time") * dt + _horizon(acc, "co2_market", ds)).clip(
        min=0.0
    )
    cf = (carbon_free(ds, f) * w).sum("time") * dt
    totals = Totals(sites, dt, consumption, green, e_it, e_fac, location, market, w, cf)

    hourly = cfe(ds, f)
    if not isinstance(w, float):
        hours = ClockHours(ds["time"].values)
        mean_w = hours.mean(np.asarray(w.transpose("time").values, dtype=float))
        hourly = hourly * xr.DataArray(mean_w, dims="time", coords={"time": hourly["time"]})
    hourly = hourly.sum("time")

    def ratio(a, b):
        a, b = float(a), float(b)
        return a / b if b > 0 else float("nan")

    cost, cost_owner = merge(acc, "cost")
    energy, _ = merge(acc, "energy")
    own: dict[str, Any] = {}
    kpi_owner: dict[str, str] = {}
    for c in known(ds):
        if c.kpis is None:
            continue
        part = dict(c.kpis(ds, totals))
        for key, value in part.pop("cost", {}).items():  # a cost on a book total
            _claim(cost_owner, "cost key", key, c.name)
            cost[key] = value
        for key in part:
            _claim(kpi_owner, "KPI", key, c.name)
        own.update(part)
    chance = probability(ds)
    if chance != 1.0:
        cost = {term: value * chance for term, value in cost.items()}
    if "user_objective" in ds.attrs:  # the user's Pyomo objective terms, as solved
        cost["user_objective"] = float(ds.attrs["user_objective"])
    cost["total"] = sum(cost.values())
    pue = {s: ratio(e_fac.sel(site=s), e_it.sel(site=s)) for s in sites}
    return {
        "cost": cost,
        "energy_mwh": energy,
        "consumption_mwh": {s: float(consumption.sel(site=s)) for s in sites},
        "green_mwh": {s: float(green.sel(site=s)) for s in sites},
        "green_share": {
            "portfolio": ratio(green.sum(), consumption.sum()),
            **{s: ratio(green.sel(site=s), consumption.sel(site=s)) for s in sites},
        },
        "green_share_certificates": {
            "portfolio": ratio(certificates.sum(), consumption.sum()),
            **{s: ratio(certificates.sel(site=s), consumption.sel(site=s)) for s in sites},
        },
        "pue": pue,
        "emissions_tco2": {
            "location_based": float(location.sum()),
            "market_based": float(market.sum()),
            **{f"location_based_{s}": float(location.sel(site=s)) for s in sites},
            **{f"market_based_{s}": float(market.sel(site=s)) for s in sites},
        },
        "cfe_hourly": {
            "portfolio": ratio(hourly["cfe"].sum(), hourly["load"].sum()),
            **{s: ratio(hourly["cfe"].sel(site=s), hourly["load"].sel(site=s)) for s in sites},
        },
        "cue_kg_per_kwh": ratio(location.sum(), e_it.sum()),
        **own,
        **sizing(ds, cost, float(e_fac.sum()), own.get("compute_served")),
    }


def sizing(
    ds: xr.Dataset, cost: dict[str, float], load_mwh: float, compute: float | None = None
) -> dict[str, Any]:
    """The sizing KPIs of a plan with chosen capacities (none without one).

    ``capacity_chosen``: every chosen capacity (``{name}_built`` in the Dataset) as
    ``<name>.<label>`` -> existing + built (MW or MWh, the field's unit); ``cost_annualised``:
    each cost term (and ``total``) per year, ``cost x 8,760 / H`` with ``H`` the hours the
    horizon stands for (``dt x sum_t w_t``); ``cny_per_mwh_load``: ``portfolio`` total cost over
    the load (facility energy) it served, weighted like every horizon sum;
    ``cny_per_compute``: ``portfolio`` total cost over the compute served ``compute``
    (compute unit x h, the ``compute_served`` KPI of ``dc``), where given.
    """
    names = [str(n)[: -len("_built")] for n in ds.data_vars if str(n).endswith("_built")]
    if not names:
        return {}
    chosen: dict[str, float] = {}
    for name in names:
        if name not in ds or f"{name}_max" not in ds:
            continue
        dim = ds[name].dims[0]
        for label, top, value in zip(
            ds[dim].values, ds[f"{name}_max"].values, ds[name].values, strict=True
        ):
            if top == top:  # chosen (NaN max: a number)
                chosen[f"{name}.{label}"] = float(value)
    w = period_weight(ds)
    hours = float(ds.attrs["dt_hours"]) * (
        float(np.sum(np.asarray(w))) if not isinstance(w, float) else ds.sizes["time"]
    )
    per_year = HOURS_PER_YEAR / hours
    total = cost.get("total", sum(cost.values()))
    out: dict[str, Any] = {
        "capacity_chosen": chosen,
        "cost_annualised": {term: value * per_year for term, value in cost.items()},
        "cny_per_mwh_load": {"portfolio": total / load_mwh if load_mwh > 0 else float("nan")},
    }
    if compute is not None:
        out["cny_per_compute"] = {"portfolio": total / compute if compute > 0 else float("nan")}
    return out


# --------------------------------------------------------------------------- hourly CFE
class ClockHours:
    """The clock hours of a time axis, to sum periods into hours with numpy.

    The bins are those of ``xarray``'s ``resample(time="1h")``: one per clock hour from the
    hour of the first period to the hour of the last, labelled by the hour's start; an hour
    holding no period is empty (NaN in :meth:`sum` and :meth:`mean`, as ``resample`` gives).
    When every hour holds the same number ``k`` of consecutive periods (15-min, hourly), the
    sum is a reshape to ``(..., hours, k)``; otherwise a ``numpy.add.reduceat`` over the runs
    of periods of one hour.

    Parameters
    ----------
    time : numpy.ndarray
        The periods' start times (``datetime64``), in any order.
    """

    def __init__(self, time: np.ndarray):
        stamps = np.asarray(time).astype("datetime64[ns]")
        hour = stamps.astype("datetime64[h]")
        first = hour.min()
        #: bin of each period (int), 0 = the first hour
        self.index = (hour - first).astype(np.int64)
        #: number of hours H (empty ones included)
        self.size = int(self.index.max()) + 1
        #: label of each hour (its start, datetime64[ns])
        self.labels = (first + np.arange(self.size).astype("timedelta64[h]")).astype(
            "datetime64[ns]"
        )
        T = self.index.size
        self.count = np.bincount(self.index, minlength=self.size)
        k = T // self.size
        #: periods per hour when every hour holds k consecutive periods in order, else None
        self.regular = (
            k if k * self.size == T and np.array_equal(self.index, np.arange(T) // k) else None
        )
        self.order = np.argsort(self.index, kind="stable")
        sorted_index = self.index[self.order]
        #: start of each non-empty hour's run of periods in the sorted order, and its hour
        self.starts = np.flatnonzero(np.r_[True, sorted_index[1:] != sorted_index[:-1]])
        self.filled = sorted_index[self.starts]

    def sum(self, x: np.ndarray) -> np.ndarray:
        """Sum ``x`` (..., periods) over each hour's periods -> (..., hours); empty hours NaN."""
        x = np.asarray(x, dtype=float)
        if np.isnan(x).any():  # resample's sum skips NaN
            x = np.where(np.isnan(x), 0.0, x)
        if self.regular is not None:
            return x.reshape(*x.shape[:-1], self.size, self.regular).sum(axis=-1)
        out = np.full((*x.shape[:-1], self.size), np.nan)
        out[..., self.filled] = np.add.reduceat(x[..., self.order], self.starts, axis=-1)
        return out

    def mean(self, x: np.ndarray) -> np.ndarray:
        """Mean of ``x`` (..., periods) over each hour's periods -> (..., hours); empty NaN."""
        total = self.sum(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return total / np.where(self.count > 0, self.count, np.nan)


def _site_time(x) -> np.ndarray:
    """A (site, time) DataArray, or a scalar, as a float array (site, time)."""
    if isinstance(x, xr.DataArray):
        return np.asarray(x.transpose("site", "time").values, dtype=float)
    return np.asarray(x, dtype=float)


def cfe(ds: xr.Dataset, f: xr.Dataset | None = None) -> xr.Dataset:
    """Hourly carbon-free energy per site (Google's 24/7 CFE method), from the Dataset alone.

    Periods are summed to clock hours. In each hour and site, the load (facility energy) is
    served first by the carbon-free supply at hand: green intake (own and direct renewables
    used, the green part of corridor and contract deliveries: the ``green`` carrier, which
    already holds only energy with a green attribute) and the carbon-free part of battery
    discharge. Carbon-free supply beyond the load charges the batteries. The rest of the load
    and of the charging is served by a pool: grid-mix energy (the ``grid_mix`` carrier: grid
    import, the non-green part of contract deliveries), carbon-free at the site's node's
    ``grid_cfe``; the non-green part of corridor deliveries, carbon-free at the sending
    node's ``grid_cfe`` (stated on ``remote_cfe``); any other intake (a generator's), not
    carbon-free; battery discharge without carbon-free content. Both draw on the pool pro
    rata. The supply is read from the carriers' stated carbon-free shares alone
    (:func:`supply`). Each battery carries the carbon-free share of
    what charged it (one store per battery, losses in proportion; initial content counted not
    carbon-free). Certificates do not count.

    Parameters
    ----------
    ds : xarray.Dataset
        A result Dataset.
    f : xarray.Dataset, optional
        Its per-site flows (:func:`flows`), if already computed.

    Returns
    -------
    xarray.Dataset
        (site, time) by clock hour, MWh: ``load`` (facility energy), ``cfe`` (carbon-free
        energy that served the load), ``clean`` (carbon-free supply at hand: green intake plus
        the carbon-free part of discharge), ``grid_cfe`` (the part of ``cfe`` credited from the
        grid's carbon-free share). The score is ``cfe.sum() / load.sum()``.
    """
    f = flows(ds) if f is None else f
    dt = float(ds.attrs["dt_hours"])
    clean, pool_cf = supply(ds, f)
    hours = ClockHours(ds["time"].values)
    load, green, grid_cf = (hours.sum(_site_time(x) * dt) for x in (f["facility"], clean, pool_cf))
    S, H = load.shape
    charge = np.zeros((S, H))
    discharge = np.zeros((S, H))
    discharge_cf = np.zeros((S, H))
    if ds.sizes.get("storage", 0) and "p_charge" in ds:
        charge, discharge, discharge_cf = _storage_cf(ds, hours, load, green, grid_cf)
    clean_mwh = green + discharge_cf
    matched, _, residual_load, _, pool_share = _match(load, clean_mwh, grid_cf, discharge, charge)
    from_grid = pool_share * residual_load
    coords = {"site": ds["site"], "time": hours.labels}
    dims = ("site", "time")
    return xr.Dataset(
        {
            "load": (dims, load),
            "cfe": (dims, matched + from_grid),
            "clean": (dims, clean_mwh),
            "grid_cfe": (dims, from_grid),
        },
        coords=coords,
    )


def supply(ds: xr.Dataset, f: xr.Dataset) -> tuple[xr.DataArray, xr.DataArray]:
    """The hourly CFE's supply by carrier: carbon-free at hand, and carbon-free in the pool (MW).

    Every carrier of :data:`~suandian.component.CARRIERS` that states a ``carbon_free`` share
    counts: a share of 1 (``green``) is carbon-free supply at hand, served first; a share given
    by a node input (``grid_mix`` at ``grid_cfe`` of the site's node) or a number below 1 is
    pool energy, of which that share is carbon-free; ``"own"`` (``remote_cfe``: the non-green
    part of corridor deliveries at the sending node's ``grid_cfe``) is carbon-free MW of pool
    energy as the writing family states it. Intake on no such carrier (a generator's) adds to
    the pool with nothing carbon-free, through the load it serves.

    Returns
    -------
    tuple of xarray.DataArray
        (site, time), MW: the carbon-free supply at hand and the carbon-free MW of the pool.
    """
    zero = site_time_zeros(ds)
    clean, pool_cf = zero, zero
    for carrier in CARRIERS.values():
        share = carrier.carbon_free
        if share is None or carrier.name not in f:
            continue
        if share == "own":
            pool_cf = pool_cf + np.maximum(f[carrier.name], 0.0)
        elif isinstance(share, str):
            part = node_series(ds, share) if share in ds else 0.0
            pool_cf = pool_cf + part * np.maximum(f[carrier.name], 0.0)
        elif share >= 1.0:
            clean = clean + f[carrier.name]
        elif share > 0.0:
            pool_cf = pool_cf + share * np.maximum(f[carrier.name], 0.0)
    return clean, pool_cf


def _match(load, clean, grid_cf, discharge, charge):
    """One hour's allocation (arrays of any shape, MWh).

    Returns the clean energy serving the load, the excess clean energy going into batteries,
    the residual load and residual charging served by the pool, and the pool's carbon-free
    share (grid energy at ``grid_cfe``, discharge without carbon-free content at 0).
    """
    matched = np.minimum(load, clean)
    excess = np.minimum(clean - matched, charge)
    residual_load = load - matched
    residual_charge = np.maximum(charge - excess, 0.0)
    pool = residual_load + residual_charge
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(pool > 1e-12, np.minimum(grid_cf / pool, 1.0), 0.0)
    return matched, excess, residual_load, residual_charge, share


def _storage_cf(ds, hours, load, green, grid_cf):
    """Battery flows by site and hour with the carbon-free part of discharge (MWh).

    Each battery's stored energy ``E`` and its carbon-free part ``F`` follow the battery's own
    balance hour by hour (self-discharge and losses in proportion): discharge takes out the
    share ``F / E`` it held at the start of the hour, charging adds the carbon-free share of
    the site's charging in the hour. The recursion is sequential in time, so it loops over
    hours (a year: 8,760 steps on small arrays). It reads the battery family's outputs: the
    only family that stores electricity (a thermal tank shifts facility load, which the load
    already holds); a second electricity store would declare the same outputs or a carrier.
    """
    dt = float(ds.attrs["dt_hours"])
    c_u = hours.sum(np.asarray(ds["p_charge"].transpose("storage", "time").values, float) * dt)
    x_u = hours.sum(np.asarray(ds["p_discharge"].transpose("storage", "time").values, float) * dt)
    onehot = (ds["storage_site"].values[:, None] == ds["site"].values[None, :]).astype(float)
    eta_c = ds["eta_charge"].values.astype(float)
    eta_d = ds["eta_discharge"].values.astype(float)
    keep = 1.0 - ds["self_discharge"].values.astype(float)  # per clock hour
    energy = ds["soc_initial"].values.astype(float) * ds["storage_energy"].values.astype(float)
    carbon_free = np.zeros_like(energy)
    charge = onehot.T @ c_u
    discharge = onehot.T @ x_u
    # hour by hour on rows of (hour, site) / (hour, battery) arrays; _match's arithmetic, in
    # the same order, inlined (a year: 8,760 steps of a few small ufuncs each)
    c_h, x_h = np.ascontiguousarray(c_u.T), np.ascontiguousarray(x_u.T)
    load_h, green_h, grid_h = (np.ascontiguousarray(a.T) for a in (load, green, grid_cf))
    charge_h = np.ascontiguousarray(charge.T)
    charging = charge_h > 1e-12
    added = eta_c * c_h  # MWh into each battery in the hour
    taken = x_h / eta_d  # MWh out of each battery in the hour
    to_site = np.ascontiguousarray(onehot)  # (battery, site): x @ to_site sums by site
    from_site = np.ascontiguousarray(onehot.T)  # (site, battery): y @ from_site spreads
    discharge_cf = np.zeros(load_h.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k in range(load_h.shape[0]):
            # 0 <= F <= E after every step (F's clip below), so F / E needs no clip to [0, 1]
            frac = np.where(energy > 1e-12, carbon_free / energy, 0.0)
            x_cf = frac * x_h[k]
            d_cf = x_cf @ to_site
            discharge_cf[k] = d_cf
            clean = green_h[k] + d_cf
            load_k, charge_k = load_h[k], charge_h[k]
            matched = np.minimum(load_k, clean)
            excess = np.minimum(clean - matched, charge_k)
            residual_charge = np.maximum(charge_k - excess, 0.0)
            pool = (load_k - matched) + residual_charge
            share = np.where(pool > 1e-12, np.minimum(grid_h[k] / pool, 1.0), 0.0)
            into = excess + share * residual_charge  # carbon-free MWh charged, per site
            site_frac = np.where(charging[k], into / charge_k, 0.0)
            cf_in = c_h[k] * (site_frac @ from_site)
            energy = np.maximum(keep * energy + added[k] - taken[k], 0.0)
            carbon_free = np.minimum(
                np.maximum(keep * carbon_free + eta_c * cf_in - x_cf / eta_d, 0.0), energy
            )
    return charge, discharge, np.ascontiguousarray(discharge_cf.T)


def shadow_prices(ds: xr.Dataset) -> dict[str, float]:
    """Scalar shadow prices by name: every non-NaN value of the outputs declared ``shadow``.

    Keys are ``<output>_<label>_<shadow>`` (``shadow_pue_s1_cny_per_0.01``), or
    ``<output>_<shadow>`` for a scalar (``shadow_co2_cap_cny_per_tco2``), in the build order
    of the components and the order of their output tables.
    """
    out: dict[str, float] = {}
    for component in known(ds):
        for o in component.outputs:
            if not o.shadow or o.name not in ds:
                continue
            da = ds[o.name]
            if not da.dims:
                if not np.isnan(float(da)):
                    out[f"{o.name}_{o.shadow}"] = float(da)
                continue
            for label in da[da.dims[0]].values:
                value = float(da.sel({da.dims[0]: label}))
                if not np.isnan(value):
                    out[f"{o.name}_{label}_{o.shadow}"] = value
    return out
