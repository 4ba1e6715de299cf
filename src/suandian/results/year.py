"""A long horizon planned window by window: the committed parts, stitched, booked and certified.

Math: ``docs/math/rolling.md``. A rolling horizon (:func:`suandian.solve_rolling`) solves
windows of ``committed + look-ahead`` periods in sequence and keeps the first ``committed``
periods of each. This module holds what that leaves:

* :func:`committed_costs`: the cost by term owed by the first ``t`` periods of a window's
  plan alone. Per-period terms are the window's ``cost_period`` (the model's split of each
  term over the periods) summed over those periods; horizon terms come from each family's
  ``commit_costs`` hook (a monthly peak's rise, a pro-rata fixed charge, an event's capacity
  payment), or, without one, count in full where the part is the whole window and not at all
  otherwise (a rule judged at the horizon's end: certificates, penalties on annual slacks).
* :class:`Part`: one committed window's record (its log line, the state it started from and
  the one it handed over, its committed cost), JSON-able: the checkpoint beside the window's
  Dataset.
* :class:`YearResult`: the parts stitched into one plan over the horizon (every output with
  a time dimension, concatenated over the committed periods), the per-site flows of the
  books over the horizon, the books (cost by term = the sum of the committed parts; annual
  green share with certificates, PUE, emissions; month by month) and
  :meth:`YearResult.certify`, which re-checks it as a whole from the parts' data alone.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import xarray as xr

from ..catalogue import known
from ..checks import Violation, attr, counted_share, probability
from . import io
from .accounting import accounts, books, flows
from .certifier import COST_ATOL, COST_RTOL, _certify

#: relative tolerance of a recomputed state or energy against the recorded one
STATE_RTOL = 1e-6

_T = TypeVar("_T")


def exact_join(fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """``fn(*args, **kwargs)`` under xarray's exact join; where labels differ, the default.

    xarray aligns the labels of the two sides of each arithmetic operation. The books and
    checks of one plan read arrays of one Dataset, whose labels agree, and there the exact
    join (which only checks that they do) gives the same figures as the default inner join
    at a third of the cost of an operation (measured on a window's (site, time) arrays: 230
    against 630 microseconds; a window's books and certifier 15-25 % faster). Where labels
    differ it raises, and ``fn`` runs again with the default join.
    """
    try:
        with xr.set_options(arithmetic_join="exact"):
            return fn(*args, **kwargs)
    except xr.AlignmentError:
        return fn(*args, **kwargs)


def committed_costs(
    ds: xr.Dataset, t: int, f: xr.Dataset | None = None, acc: dict[str, Any] | None = None
) -> dict[str, float]:
    """The cost by term (CNY) owed by the first ``t`` periods of the plan in ``ds``.

    Per-period terms: ``cost_period`` summed over periods ``0 .. t-1``. Horizon terms
    (``attrs['horizon_cost_terms']``): the families' ``commit_costs`` hooks (times the
    scenario's probability), else the books' figure when ``t`` is the whole horizon and 0
    otherwise. ``committed_costs(ds, T)`` equals the books' cost table. ``f``: the plan's
    per-site flows (:func:`~suandian.results.accounting.flows`) and ``acc`` its accounts
    (:func:`~suandian.results.accounting.accounts`), if at hand.
    """
    T = ds.sizes["time"]
    if not 0 < t <= T:
        raise ValueError(f"committed periods {t} outside 1..{T}")
    cost: dict[str, float] = {}
    if "cost_period" in ds:
        part = ds["cost_period"].values[:, :t].sum(axis=1)
        cost.update({str(k): float(v) for k, v in zip(ds["cost_term"].values, part, strict=True)})
    horizon = [h for h in str(ds.attrs.get("horizon_cost_terms", "")).split(",") if h]
    whole = books(ds, acc)["cost"] if t == T else {}
    hooked: dict[str, float] = {}
    if t < T:
        f = flows(ds) if f is None else f
        for c in known(ds):
            if c.commit_costs is not None:
                hooked.update(c.commit_costs(ds, t, f))
    chance = probability(ds)
    for term in horizon:
        if term in hooked:
            cost[term] = hooked[term] * chance
        else:
            cost[term] = float(whole.get(term, 0.0)) if t == T else 0.0
    for term, value in whole.items():  # a term in neither list (a cost on a book total)
        if term != "total" and term not in cost:
            cost[term] = float(value) if t == T else 0.0
    cost["total"] = float(sum(v for k, v in cost.items() if k != "total"))
    return cost


def committed_certificates(
    ds: xr.Dataset, t: int, acc: dict[str, Any] | None = None, f: xr.Dataset | None = None
) -> xr.DataArray:
    """Certificates (MWh per site) owed by the first ``t`` periods of the plan in ``ds``.

    The families' horizon ``certificates`` (their accounts), pro rata to the consumption the
    budgets count in those periods (:func:`~suandian.checks.counted_share`): all of them at a
    rolling window's commit point. ``acc`` and ``f``: the plan's accounts and flows
    (:func:`~suandian.results.accounting.accounts`, ``flows``), if at hand.
    """
    acc = accounts(ds) if acc is None else acc
    f = flows(ds, acc) if f is None else f
    zero = xr.zeros_like(f["intake"].isel(time=0), dtype=float).drop_vars("time", errors="ignore")
    bought = sum(
        (a.horizon["certificates"] for a in acc.values() if "certificates" in a.horizon), zero
    )
    return bought * counted_share(ds, f["intake"], t - 1)


@dataclass
class Part:
    """One committed window of a rolling horizon (a line of its log, its checkpoint).

    Attributes
    ----------
    index : int
        Position of the window (0, 1, ...).
    start : int
        Its first period in the horizon.
    periods : int
        Periods solved (committed + look-ahead).
    committed : int
        Periods kept (the first ones).
    time : str
        Timestamp of its first period.
    status : str
        The window's solve status (``optimal``, ``time_limit``...).
    objective, mip_gap : float
        The window's objective (CNY, with its look-ahead) and gap.
    cost : dict
        Cost by term owed by its committed periods (:func:`committed_costs`), with ``total``.
    seconds : dict
        Seconds by phase: ``window`` (cutting the window and handing the state over),
        ``presolve`` (a DR baseline's plan, when the window has an event; its HiGHS part
        also as ``presolve_highs``), ``build``,
        ``warm`` (the warm start's shifted plan, and keeping this window's), ``handover``,
        ``mip_start`` (the constructive start's LPs), ``solve`` (HiGHS's branch and bound),
        ``duals``, ``extract``, ``books`` (committed costs and the state handed on),
        ``certify``, ``checkpoint``.
    state_in : dict
        The state it started from (the previous part's ``state_out``; empty for the first).
    state_out : dict
        The state at the end of its committed periods, handed to the next window.
    violations : list of str
        Violations the certifier found in the window's plan (empty: certified).
    forecast : dict
        The annual budgets' energies expected after the window, handed to it like a state
        (``docs/math/rolling.md``, "Annual budgets"; empty under the neutral rule).
    start_plan : dict
        The MIP start the window's search began from (empty without one): ``step`` (which
        rounding gave it: ``shifted+nearest`` for the previous plan shifted, ``dive+...``
        for a rounding of the LP relaxation), ``objective`` (CNY), ``gap`` (its objective's
        relative gap to the LP relaxation) and ``origin`` (where the plan returned came from:
        ``branch_and_bound``, ``mip_start``, ...).
    """

    index: int
    start: int
    periods: int
    committed: int
    time: str
    status: str
    objective: float
    mip_gap: float
    cost: dict[str, float]
    seconds: dict[str, float]
    state_in: dict[str, Any] = field(default_factory=dict)
    state_out: dict[str, Any] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    forecast: dict[str, Any] = field(default_factory=dict)
    start_plan: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The record as a JSON-able dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Part:
        """The record written by :meth:`to_json` (NaN was written as null)."""
        data = dict(data)
        for key in ("objective", "mip_gap"):
            data[key] = float("nan") if data.get(key) is None else float(data[key])
        return cls(**data)


def stitch(parts: list[xr.Dataset], committed: list[int]) -> xr.Dataset:
    """Every output with a time dimension, concatenated over the parts' committed periods.

    Outputs without one (a job's runs, a month's peak, certificates) stay in the parts.
    Labels that some windows lack (a job outside a window) and periods of windows without
    the output are filled with 0 for decisions and expressions and NaN for inputs. Outputs
    whose other labels are the same in every window are joined as plain arrays.
    """
    cut = [ds.isel(time=slice(0, t)) for ds, t in zip(parts, committed, strict=True)]
    time = np.concatenate([ds["time"].values for ds in cut])
    # read through the Variables: ``ds[name]`` builds a DataArray by a pass over every
    # variable of the Dataset, which made stitching quadratic in the outputs (measured)
    names = list(
        dict.fromkeys(str(v) for ds in cut for v in ds.data_vars if "time" in ds.variables[v].dims)
    )
    out: dict[str, xr.DataArray] = {}
    for name in names:
        held = [(ds, ds.variables[name]) for ds in cut if name in ds.variables]
        first_ds, first = held[0]
        role = first.attrs.get("role")
        fill = 0.0 if role in ("decision", "expression") and first.dtype.kind in "fiub" else None
        others = [d for d in first.dims if d != "time"]
        same = len(held) == len(cut) and all(
            v.dims == first.dims
            and all(np.array_equal(_labels(ds, d), _labels(first_ds, d)) for d in others)
            for ds, v in held
        )
        if same:
            axis = first.dims.index("time")
            values = np.concatenate([v.values for _, v in held], axis=axis)
            coords = {d: _labels(first_ds, d) for d in others} | {"time": time}
            joined = xr.DataArray(values, dims=first.dims, coords=coords, attrs=first.attrs)
        else:
            pieces = [ds[name] for ds, _ in held]
            joined = xr.concat(pieces, dim="time", join="outer", coords="minimal")
            joined = joined.reindex(time=time)
            if fill is not None:
                joined = joined.fillna(fill)
            joined.attrs = first.attrs
        out[name] = joined
    stitched = xr.Dataset(out)
    stitched.attrs = {
        k: v
        for k, v in parts[0].attrs.items()
        if k in ("scenario", "compute_unit", "dt_hours", "resolution", "components")
    }
    return stitched


def _labels(ds: xr.Dataset, dim: Hashable) -> np.ndarray:
    """The labels of ``dim`` in ``ds`` (positions when it has no coordinate)."""
    return ds.variables[dim].values if dim in ds.variables else np.arange(ds.sizes[dim])


def _close(a: Any, b: Any, scale: float = 1.0) -> bool:
    """Nested dicts/lists/numbers equal within STATE_RTOL (strings exactly)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], scale) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y, scale) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return abs(a - b) <= STATE_RTOL * max(1.0, abs(a), abs(b))
    return a == b


@dataclass
class YearResult:
    """A rolling horizon's plan over its whole horizon (see the module docstring).

    Attributes
    ----------
    parts : list of Part
        The committed windows, in order.
    datasets : list of xarray.Dataset
        Each window's whole plan (with its look-ahead), as solved.
    ds : xarray.Dataset
        The committed plan over the horizon (:func:`stitch`).
    flows : xarray.Dataset
        Per-site flows of the books by carrier (site, time) over the horizon, MW: each
        window's :func:`~suandian.results.accounting.flows` over its committed periods.
    foresight : dict
        The same horizon as one model (:func:`suandian.run.rolling.foresight`), when solved:
        ``objective`` (CNY; a lower bound on any plan's cost when integers are relaxed),
        ``relaxed``, ``status``, ``seconds``, ``pue`` and ``green_share`` per site.
    """

    parts: list[Part]
    datasets: list[xr.Dataset]
    ds: xr.Dataset
    flows: xr.Dataset
    foresight: dict[str, Any] = field(default_factory=dict)
    #: seconds of the run outside the windows: ``foresight`` (the horizon's LP, with its
    #: build and extraction), ``stitch`` (:meth:`from_parts`), ``replay`` (resuming)
    seconds: dict[str, float] = field(default_factory=dict)
    #: each window's committed certificates (MWh per site, :func:`committed_certificates`),
    #: read once (None: not yet)
    certificates: list[xr.DataArray] | None = None

    @classmethod
    def from_parts(
        cls,
        parts: list[Part],
        datasets: list[xr.Dataset],
        committed_flows: list | None = None,
        certificates: list[xr.DataArray] | None = None,
    ) -> YearResult:
        """Stitch the committed windows (each window's plan and its record).

        ``committed_flows``: each window's flows over its committed periods, and
        ``certificates``: each window's committed certificates
        (:func:`committed_certificates`), if at hand.
        """
        committed = [p.committed for p in parts]
        stitched = stitch(datasets, committed)
        if committed_flows is None:
            committed_flows = [
                flows(ds).isel(time=slice(0, t)) for ds, t in zip(datasets, committed, strict=True)
            ]
        f = xr.concat(committed_flows, dim="time")
        return cls(parts, datasets, stitched, f, certificates=certificates)

    # ------------------------------------------------------------------ books
    @property
    def objective(self) -> float:
        """Total cost of the committed plan, CNY (the sum of the committed parts)."""
        return float(sum(p.cost["total"] for p in self.parts))

    @property
    def costs(self) -> dict[str, float]:
        """Cost by term over the horizon (the sum of the committed parts), with ``total``."""
        out: dict[str, float] = {}
        for p in self.parts:
            for term, value in p.cost.items():
                if term != "total":
                    out[term] = out.get(term, 0.0) + value
        out["total"] = float(sum(out.values()))
        return out

    @property
    def windows(self) -> pd.DataFrame:
        """The per-window log: one row per committed window."""
        rows = []
        for p in self.parts:
            rows.append(
                {
                    "window": p.index,
                    "time": p.time,
                    "start": p.start,
                    "periods": p.periods,
                    "committed": p.committed,
                    "status": p.status,
                    "objective": p.objective,
                    "mip_gap": p.mip_gap,
                    "committed_cost": p.cost["total"],
                    "violations": len(p.violations),
                    "start_step": p.start_plan.get("step", ""),
                    "start_gap": p.start_plan.get("gap", float("nan")),
                    "origin": p.start_plan.get("origin", ""),
                    **{f"{k}_s": v for k, v in p.seconds.items()},
                }
            )
        return pd.DataFrame(rows).set_index("window")

    def _certificates(self) -> xr.DataArray:
        """Certificates committed (MWh per site), summed over the windows.

        Each window's, pro rata to the consumption its budgets count in its committed periods
        (all of them at a rolling window's commit point; :func:`committed_certificates`).
        Read once per window and kept (``certificates``; a rolling run hands them over).
        """
        if self.certificates is None:
            self.certificates = [
                committed_certificates(ds, p.committed)
                for p, ds in zip(self.parts, self.datasets, strict=True)
            ]
        total = xr.zeros_like(self.flows["intake"].isel(time=0), dtype=float)
        total = total.drop_vars("time", errors="ignore")
        for bought in self.certificates:
            total = total + bought
        return total

    @property
    def kpis(self) -> dict[str, Any]:
        """The horizon's books: cost, energy, green share (with certificates), PUE, emissions.

        Energies are the committed flows summed over the horizon (weighted like the books of
        a single plan); certificates are those the last window bought (a horizon figure
        counted at the end); ``months`` gives the same figures month by month, to date.
        """
        dt = float(self.ds.attrs["dt_hours"])
        f = self.flows
        sites = [str(s) for s in f["site"].values]
        cert = self._certificates()
        cons = f["intake"].sum("time") * dt
        green = f["green"].sum("time") * dt + cert
        it = f["it"].sum("time") * dt
        fac = f["facility"].sum("time") * dt
        co2 = f["co2"].sum("time") * dt

        def ratio(a: Any, b: Any) -> float:
            a, b = float(a), float(b)
            return a / b if b > 0 else float("nan")

        return {
            "cost": self.costs,
            "compliance": self.compliance(),
            "consumption_mwh": {s: float(cons.sel(site=s)) for s in sites},
            "green_mwh": {s: float(green.sel(site=s)) for s in sites},
            "certificates_mwh": {s: float(cert.sel(site=s)) for s in sites},
            "green_share": {
                "portfolio": ratio(green.sum(), cons.sum()),
                **{s: ratio(green.sel(site=s), cons.sel(site=s)) for s in sites},
            },
            "pue": {s: ratio(fac.sel(site=s), it.sel(site=s)) for s in sites},
            "emissions_tco2": {"location_based": float(co2.sum())},
            "windows": len(self.parts),
            "certified_windows": sum(not p.violations for p in self.parts),
        }

    def compliance(self) -> dict[str, dict[str, Any]]:
        """The annual rules judged on the horizon's energies (``docs/math/rolling.md``).

        ``pue``: per capped site, the PUE over the horizon (with the year to date and
        forecast the scenario gave, when its basis is ``year``), the cap and ``ok``;
        ``green_share``: per scope with a target, likewise with certificates. The year's
        figures count the energies outside the horizon through the first window's
        allowance: ``facility - cap x IT <= allowance`` and ``green - target x consumption
        >= -allowance``.
        """
        first = self.datasets[0]
        ahead = self.parts[0].forecast  # what window 0 was told of the rest: not the year's
        dt = float(self.ds.attrs["dt_hours"])
        f = self.flows
        out: dict[str, dict[str, Any]] = {"pue": {}, "green_share": {}}
        if "pue_cap" in first:
            fac = f["facility"].sum("time") * dt
            it = f["it"].sum("time") * dt
            f_other = first["pue_facility_other"].fillna(0.0)
            i_other = first["pue_it_other"].fillna(0.0)
            for s in first["site"].values:
                cap = float(first["pue_cap"].sel(site=s))
                if np.isnan(cap):
                    continue
                e_fac, e_it = float(fac.sel(site=s)), float(it.sel(site=s))
                told = ahead.get("pue_cap", {}).get(str(s), {})
                f_told, i_told = told.get("facility_mwh", 0.0), told.get("it_mwh", 0.0)
                allowance = float(first["pue_allowance"].sel(site=s)) + (f_told - cap * i_told)
                f_out = float(f_other.sel(site=s)) - f_told
                i_out = float(i_other.sel(site=s)) - i_told
                out["pue"][str(s)] = {
                    "pue": (e_fac + f_out) / (e_it + i_out) if e_it + i_out > 0 else float("nan"),
                    "cap": cap,
                    "basis": str(first.attrs.get("pue_basis", "horizon")),
                    "margin_mwh": cap * e_it + allowance - e_fac,
                    "ok": bool(e_fac - cap * e_it <= allowance + 1e-6 * max(1.0, e_fac)),
                }
        if "green_target" in first and first.sizes.get("scope", 0):
            cert = self._certificates()
            green = f["green"].sum("time") * dt + cert
            cons = f["intake"].sum("time") * dt
            scope = str(first.attrs.get("green_share_scope", "portfolio"))
            for k in first["scope"].values:
                target = float(first["green_target"].sel(scope=k))
                if np.isnan(target):
                    continue
                members = [str(k)] if scope == "site" else [str(s) for s in f["site"].values]
                G = float(green.sel(site=members).sum())
                C = float(cons.sel(site=members).sum())
                told = ahead.get("green_share", {}).get(str(k), {})
                g_told = told.get("green_mwh", 0.0)
                c_told = told.get("consumption_mwh", 0.0)
                allowance = float(first["green_allowance"].sel(scope=k))
                allowance += target * c_told - g_told
                g_other = float(np.nan_to_num(first["green_other"].sel(scope=k))) - g_told
                c_other = float(np.nan_to_num(first["consumption_other"].sel(scope=k))) - c_told
                out["green_share"][str(k)] = {
                    "share": (G + g_other) / (C + c_other) if C + c_other > 0 else float("nan"),
                    "target": target,
                    "basis": str(first.attrs.get("green_share_basis", "horizon")),
                    "margin_mwh": G - target * C + allowance,
                    "ok": bool(G - target * C >= -allowance - 1e-6 * max(1.0, C)),
                }
        out["direct"] = self._direct_ratios(first, ahead, dt)
        return out

    def _direct_ratios(self, first: xr.Dataset, ahead: dict, dt: float) -> dict[str, Any]:
        """The 650号 ratios of each site's direct project: the horizon's, and the year's rule.

        ``share_horizon`` is the horizon's own ratio; ``margin_mwh`` and ``ok`` judge the
        year (the first window's allowance, the forecast taken out).
        """
        out: dict[str, Any] = {}
        if "direct_supply_share_min" not in first or "p_renewable" not in self.ds:
            return out
        on = first["renewable_direct"].astype(float)
        site_of = first["renewable_site"]
        used = (self.ds["p_renewable"] * on).sum("time") * dt
        avail = (self.ds["p_renewable_available"] * on).sum("time") * dt
        cons = self.flows["intake"].sum("time") * dt
        for s in first["site"].values:
            mine = (site_of == s).values
            u, a = float(used.values[mine].sum()), float(avail.values[mine].sum())
            c = float(cons.sel(site=s))
            told = ahead.get("direct_supply", {}).get(str(s), {})
            a_t, u_t = told.get("available_mwh", 0.0), told.get("used_mwh", 0.0)
            c_t = told.get("consumption_mwh", 0.0)
            rules = {}
            for name, ratio, allowance, base, base_told in (
                ("supply_share", "direct_supply_share_min", "direct_supply_allowance", c, c_t),
                (
                    "self_consumption",
                    "direct_self_consumption_min",
                    "direct_self_consumption_allowance",
                    a,
                    a_t,
                ),
            ):
                rho = float(first[ratio].sel(site=s))
                if rho != rho:  # NaN: the project states no such ratio
                    continue
                # the first window's allowance, with the forecast it was told taken out
                spare = float(first[allowance].sel(site=s)) + rho * base_told - u_t
                rules[name] = {
                    "share_horizon": u / base if base > 0 else float("nan"),
                    "min": rho,
                    "margin_mwh": u + spare - rho * base,
                    "ok": bool(u + spare >= rho * base - 1e-6 * max(1.0, base)),
                }
            if rules:
                out[str(s)] = rules
        return out

    def summary(self) -> str:
        """A plain-text table of the horizon: cost by term, compliance, foresight, the log."""
        k = self.kpis
        lines = [f"{len(self.parts)} windows, {self.ds.sizes['time']} periods committed"]
        lines.append("cost (CNY):")
        for term, value in sorted(k["cost"].items(), key=lambda kv: -abs(kv[1])):
            if value or term == "total":
                lines.append(f"  {term:<28} {value:>16,.0f}")
        for s, c in k["compliance"]["pue"].items():
            verdict = "ok" if c["ok"] else "OVER"
            lines.append(f"PUE {s}: {c['pue']:.4f} (cap {c['cap']}, {c['basis']}) {verdict}")
        for s, ratios in k["compliance"]["direct"].items():
            for name, c in ratios.items():
                verdict = "ok" if c["ok"] else "SHORT"
                lines.append(
                    f"650号 {name} {s}: {c['share_horizon']:.2%} over the horizon (min "
                    f"{c['min']:.0%} of the year, margin {c['margin_mwh']:,.1f} MWh) {verdict}"
                )
        for s, c in k["compliance"]["green_share"].items():
            verdict = "ok" if c["ok"] else "SHORT"
            lines.append(
                f"green share {s}: {c['share']:.2%} (target {c['target']:.0%}, {c['basis']}) "
                f"{verdict}"
            )
        if self.foresight.get("margins"):
            m = self.foresight["margins"]
            pue = ", ".join(f"{s} {v:+.4f}" for s, v in m["pue"].items())
            green = ", ".join(f"{s} {v:+.2%}" for s, v in m["green_share"].items())
            lines.append(f"foresight plan's margins: PUE below cap {pue}; green share {green}")
        if self.foresight:
            lines.append(
                f"perfect foresight ({'LP' if self.foresight.get('relaxed') else 'MILP'}): "
                f"{self.foresight['objective']:,.0f} CNY; value of foresight "
                f"{self.value_of_foresight():,.0f} CNY "
                f"({self.value_of_foresight() / abs(self.objective):.2%})"
            )
        return "\n".join(lines)

    def months(self) -> pd.DataFrame:
        """Month by month: cost by term and to date, PUE and green share to date per site.

        Also ``peak_mw_<site>``: the month's highest metered draw (MW), what a demand charge
        bills.

        Green share to date counts certificates only in the horizon's last month (the last
        window buys them); the cost of a window is booked in the month of its first period.
        """
        dt = float(self.ds.attrs["dt_hours"])
        f = self.flows
        month = pd.DatetimeIndex(f["time"].values).to_period("M")
        labels = month.unique()
        idx = pd.Index(labels).get_indexer(month)
        K = len(labels)

        def monthly(name: str) -> np.ndarray:  # (K, site) MWh
            v = f[name].transpose("time", "site").values
            out = np.zeros((K, v.shape[1]))
            np.add.at(out, idx, v * dt)
            return out

        sites = [str(s) for s in f["site"].values]
        fac, it = monthly("facility").cumsum(0), monthly("it").cumsum(0)
        cons, green = monthly("intake").cumsum(0), monthly("green").cumsum(0)
        green[-1] += self._certificates().sel(site=sites).values
        rows: dict[str, Any] = {"month": [str(m) for m in labels]}
        part_month = pd.Index(labels).get_indexer(
            pd.DatetimeIndex([p.time for p in self.parts]).to_period("M")
        )
        terms = sorted({k for p in self.parts for k in p.cost if k != "total"})
        for term in terms:
            by = np.zeros(K)
            for p, k in zip(self.parts, part_month, strict=True):
                by[k] += p.cost.get(term, 0.0)
            rows[f"cost_{term}"] = by
        total = np.zeros(K)
        for p, k in zip(self.parts, part_month, strict=True):
            total[k] += p.cost["total"]
        rows["cost_total"] = total
        rows["cost_to_date"] = total.cumsum()
        with np.errstate(invalid="ignore", divide="ignore"):
            for j, s in enumerate(sites):
                rows[f"pue_to_date_{s}"] = fac[:, j] / it[:, j]
                rows[f"green_share_to_date_{s}"] = green[:, j] / cons[:, j]
        if "p_metered" in self.ds:  # the month's metered peak (what a demand charge bills)
            drawn = self.ds["p_metered"].transpose("time", "site").values
            for j, s in enumerate(sites):
                peak = np.zeros(K)
                np.maximum.at(peak, idx, drawn[:, j])
                rows[f"peak_mw_{s}"] = peak
        return pd.DataFrame(rows).set_index("month")

    def value_of_foresight(self) -> float:
        """Cost of the rolling plan minus the perfect-foresight figure (CNY; NaN if not run).

        With the integers relaxed the figure is a lower bound, so this is an upper bound on
        what knowing the whole horizon at once is worth.
        """
        return self.objective - float(self.foresight.get("objective", float("nan")))

    # ------------------------------------------------------------------ certifier
    def certify(self, tol: float = 1e-5) -> list[Violation]:
        """Re-check the plan over the whole horizon from the parts' data alone.

        * every window's plan (:func:`suandian.certify` of its Dataset), as ``window[i].<check>``;
        * continuity: the state each window started from equals the state recomputed from
          the previous window's data at the end of its committed periods (``state``);
        * the committed cost of each part recomputed from its window's data
          (``part_cost``), and the total the sum of the parts (``total_cost``);
        * the stitched plan covers the horizon once, in order (``time``);
        * the annual rules (basis ``year``, hard: no priced shortfall) on the horizon's
          energies (:meth:`compliance`): ``year.pue_max`` per site, ``year.green_share_min``
          per scope, ``year.direct_supply_share_min`` and ``year.direct_self_consumption_min``
          per 绿电直连 project (650号).

        Read under xarray's exact join where the labels allow (:func:`exact_join`).
        """
        return exact_join(self._certify, tol)

    def _certify(self, tol: float) -> list[Violation]:
        """:meth:`certify` with xarray's options as they are."""
        out: list[Violation] = []
        from .result import state_at

        # each window's accounts and flows, read once for its certifier, its state and its
        # committed cost
        window_flows = []
        for p, ds in zip(self.parts, self.datasets, strict=True):
            acc = accounts(ds)
            window_flows.append(flows(ds, acc))
            for v in _certify(ds, tol, acc=acc)[0]:
                out.append(Violation(f"window[{p.index}].{v.check}", v.where, v.value, v.limit))
        for prev, p in zip(self.parts, self.parts[1:], strict=False):
            again = state_at(
                self.datasets[prev.index], prev.committed - 1, window_flows[prev.index]
            )
            for family in sorted(set(again) | set(p.state_in)):
                if not _close(again.get(family), p.state_in.get(family)):
                    where = f"window {p.index}: {family}"
                    out.append(Violation("state", where, float("nan"), float("nan")))
        total = 0.0  # the parts' committed costs, each recomputed once from its window's data
        for p, ds, f in zip(self.parts, self.datasets, window_flows, strict=True):
            owed = committed_costs(ds, p.committed, f)["total"]
            total += owed
            if not abs(owed - p.cost["total"]) <= max(COST_ATOL, COST_RTOL * abs(owed)):
                out.append(Violation("part_cost", f"window {p.index}", p.cost["total"], owed))
        if not abs(total - self.objective) <= max(COST_ATOL, COST_RTOL * abs(total)):
            out.append(Violation("total_cost", "all", self.objective, total))
        first = self.datasets[0]
        rules = self.compliance()
        if first.attrs.get("pue_basis") == "year" and np.isnan(attr(first, "pue_excess_price")):
            for s, c in rules["pue"].items():
                if not c["ok"]:
                    out.append(Violation("year.pue_max", f"site={s}", c["pue"], c["cap"]))
        if first.attrs.get("green_share_basis") == "year" and np.isnan(
            attr(first, "green_shortfall_price")
        ):
            for k, c in rules["green_share"].items():
                if not c["ok"]:
                    out.append(
                        Violation("year.green_share_min", f"scope={k}", c["share"], c["target"])
                    )
        if first.attrs.get("direct_basis") == "year":
            for s, ratios in rules["direct"].items():
                for name, c in ratios.items():
                    if not c["ok"]:
                        check = f"year.direct_{name}_min"
                        where = f"site={s}"
                        out.append(Violation(check, where, c["share_horizon"], c["min"]))
        times = pd.DatetimeIndex(self.ds["time"].values)
        starts = [p.start for p in self.parts]
        ends = [p.start + p.committed for p in self.parts]
        if starts[0] != 0 or starts[1:] != ends[:-1] or not times.is_monotonic_increasing:
            out.append(Violation("time", "parts", float(len(times)), float(ends[-1])))
        return out

    # ------------------------------------------------------------------ files
    def save(self, directory: str | Path) -> list[Path]:
        """Write ``year.nc`` (stitched plan), ``flows.nc``, ``windows.csv``, ``kpis.json``.

        Into ``directory`` beside the checkpoints (``windows/``) the run wrote there.
        """
        folder = Path(directory)
        written = [
            io.write_netcdf(self.ds, folder / "year.nc"),
            io.write_netcdf(self.flows, folder / "flows.nc"),
        ]
        frame = self.windows
        written.append(io.atomic_write(folder / "windows.csv", lambda tmp: frame.to_csv(tmp)))
        months = self.months()
        written.append(io.atomic_write(folder / "months.csv", lambda tmp: months.to_csv(tmp)))
        report: dict[str, Any] = {"kpis": self.kpis, "foresight": self.foresight}
        if self.foresight:
            report["value_of_foresight"] = self.value_of_foresight()
        written.append(io.write_json(report, folder / "kpis.json"))
        return written


def write_part(folder: Path, part: Part, ds: xr.Dataset) -> None:
    """Checkpoint one committed window: its Dataset, then its record (both atomic).

    The record is written last, so a record on disk always has its complete Dataset.
    """
    io.write_arrays(ds, folder / f"{part.index:04d}.npz")
    io.write_json(part.to_json(), folder / f"{part.index:04d}.json")


def read_parts(folder: Path) -> tuple[list[Part], list[xr.Dataset]]:
    """The checkpointed windows 0, 1, ... up to the first one missing."""
    parts: list[Part] = []
    datasets: list[xr.Dataset] = []
    i = 0
    while (folder / f"{i:04d}.json").is_file() and (folder / f"{i:04d}.npz").is_file():
        parts.append(Part.from_json(json.loads((folder / f"{i:04d}.json").read_text("utf-8"))))
        datasets.append(io.read_arrays(folder / f"{i:04d}.npz"))
        i += 1
    return parts, datasets
