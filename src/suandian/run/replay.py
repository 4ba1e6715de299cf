"""Replay a day-ahead plan against the day as it happened, re-planning every ``k`` periods.

Math: ``docs/math/stochastic.md``, "Replay against a realised day". The first stage (blocks
committed, corridor blocks, DR participation, reserve offers, the day-ahead position) is the
plan's all day. From period 0, every ``every`` periods, the rest of the day is re-planned by
:func:`~suandian.run.stochastic.replan` from what has happened (the state at the end of the
periods run) on a forecast that holds the realised values up to the end of the periods about
to be run and the day-ahead forecast after them; those ``every`` periods are then run as
re-planned. The whole realised day is then **settled as billed**: one model of the realised
day with the first stage and the stores and lines as run fixed (``stochastic.fix`` and
``replay.fix`` rows; the compute, the meter, the deviation beyond the band and the books
settled on the day: :func:`dispatch_outputs`), solved, so its :class:`Result` carries every
term of the bill (real-time purchases and sales, deviation assessment, corridor and DR
deviations, demand charges on the day's peak, certificates bought for the day's share) and
certifies with the existing certifier.

``every = periods`` is one re-plan of the whole realised day: the plan's first stage settled
on that day with its recourse optimised knowing the day, i.e. :func:`evaluate_plan` of the
realised scenario.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from ..highs import SolveOptions
from ..linear import LinearModel
from ..model import Built
from ..results.result import Result
from ..scenario import Scenario
from ..scenario.uncertainty import Compliance, _member, realised_scenario
from .stochastic import (
    Plan,
    StochasticResult,
    _options,
    _recourse,
    _values,
    replan,
)

#: families whose dispatch over time the settlement keeps as run: the stores and the lines
#: (batteries, chilled-water tanks, corridor flows, gensets)
KEPT = frozenset({"stor", "thermal", "green", "backup"})
#: decisions of those families left free: the green contract's takes (re-settled within the
#: contract) and shed load (at its value)
FREE = frozenset({"green.p_contract", "backup.p_shed"})

#: cost terms that settle a deviation from a commitment, by what they settle
DEVIATION_TERMS = {
    "spot_real_time": "day-ahead position: deviation bought/sold at the real-time price",
    "spot_deviation": "day-ahead position: deviation beyond the band, assessed",
    "corridor_deviation": "corridor blocks: energy off the blocks held",
    "dr_penalty": "demand response: shortfall below the committed MW",
    "shortfall_compute": "compute not served, at its value",
    "green_budget_shortfall": "green share: energy missing for the target, priced",
}


class ReplayError(RuntimeError):
    """A step of a replay has no plan (the committed first stage cannot carry the day)."""

    def __init__(self, start: int, when: str, status: str):
        self.start, self.time, self.status = start, when, status
        super().__init__(
            f"the re-plan from period {start} ({when}) has no plan: {status}; the first stage "
            "cannot carry the realised day from there (pass compute_shortfall_penalty to shed "
            "compute at its value instead)"
        )


@dataclass
class Replay:
    """A plan run against the realised day.

    Attributes
    ----------
    result : Result
        The realised day settled as billed (first stage and dispatch as run fixed); certifies
        on its own.
    settlement : StochasticResult
        The settlement solve (one member: the realised day).
    steps : list of StochasticResult
        The re-plans, in order; ``starts[i]`` is the first period of ``steps[i]``.
    starts : list of int
        First period of each re-plan.
    every : int
        Periods run between re-plans.
    planned_costs : dict
        The plan's own cost by term (CNY): a two-stage plan's expectation over its members
        (each term weighted by probability), a deterministic plan's objective's terms;
        empty when not known.
    """

    result: Result
    settlement: StochasticResult
    steps: list[StochasticResult]
    starts: list[int]
    every: int
    planned_costs: dict[str, float] = field(default_factory=dict)

    @property
    def realised_cost(self) -> float:
        """Total cost of the realised day as billed, CNY."""
        return float(self.result.objective)

    @property
    def planned_cost(self) -> float:
        """The plan's own total cost, CNY (NaN when not known)."""
        return float(self.planned_costs.get("total", math.nan))

    def costs(self) -> pd.DataFrame:
        """Cost by term: ``planned``, ``realised`` and ``difference`` (CNY), total last."""
        real = self.result.costs
        terms = [t for t in dict.fromkeys([*self.planned_costs, *real]) if t != "total"]
        rows = [
            (
                t,
                self.planned_costs.get(t, 0.0 if self.planned_costs else math.nan),
                real.get(t, 0.0),
            )
            for t in terms
        ]
        rows.append(("total", self.planned_cost, self.realised_cost))
        frame = pd.DataFrame(rows, columns=["term", "planned", "realised"])
        frame["difference"] = frame["realised"] - frame["planned"]
        return frame

    def deviations(self) -> pd.DataFrame:
        """The deviations from the commitments and what they were charged (CNY, MWh).

        One row per commitment settled: per spot market the position, the metered import,
        the real-time energy bought and sold back and the energy beyond the band; per
        corridor the blocks' energy and what was sent; the DR shortfall; each with its cost
        term(s) from the books.
        """
        ds, cost = self.result.ds, self.result.costs
        dt = float(ds.attrs["dt_hours"])
        rows = []
        if "p_da" in ds and ds.sizes.get("market", 0):
            for m in ds["market"].values:
                q = ds["p_da"].sel(market=m)
                r = ds["p_rt"].sel(market=m)
                rows += [
                    (f"spot {m}", "position", float(q.sum()) * dt, math.nan),
                    (f"spot {m}", "metered import", float((q + r).sum()) * dt, math.nan),
                    (f"spot {m}", "real-time bought", float(r.clip(min=0).sum()) * dt, math.nan),
                    (
                        f"spot {m}",
                        "real-time sold back",
                        float((-r).clip(min=0).sum()) * dt,
                        math.nan,
                    ),
                    (
                        f"spot {m}",
                        "beyond the band",
                        float(ds["p_deviation"].sel(market=m).sum()) * dt,
                        math.nan,
                    ),
                ]
        for term, what in DEVIATION_TERMS.items():
            if term in cost:
                rows.append((term, what, math.nan, float(cost[term])))
        return pd.DataFrame(rows, columns=["commitment", "quantity", "mwh", "cny"])

    def compliance(self) -> dict[str, dict[str, Any]]:
        """The targets as met on the realised day: PUE per site, green share per scope.

        ``{"pue": {site: {"value", "cap"}}, "green_share": {scope: {"value", "target"}}}``;
        the PUE judged as the policy judges it (``pue_year`` where the cap is on the year).
        """
        k, ds = self.result.kpis, self.result.ds
        out: dict[str, dict[str, Any]] = {"pue": {}, "green_share": {}}
        caps = ds["pue_cap"] if "pue_cap" in ds else None
        pue = k.get("pue_year") or k.get("pue", {})
        for site, value in pue.items():
            cap = float(caps.sel(site=site)) if caps is not None else math.nan
            met = bool(np.isnan(cap) or value <= cap + 1e-6)
            out["pue"][site] = {"value": float(value), "cap": cap, "met": met}
        targets = ds["green_target"] if "green_target" in ds else None
        scopes = [str(s) for s in ds["scope"].values] if "scope" in ds.coords else []
        for i, scope in enumerate(scopes):
            value = k.get("green_share", {}).get(scope, math.nan)
            t = float(targets.values[i]) if targets is not None else math.nan
            met = bool(np.isnan(t) or value >= t - 1e-6)
            out["green_share"][scope] = {"value": float(value), "target": t, "met": met}
        return out

    def summary(self) -> dict[str, Any]:
        """Planned and realised cost (CNY), re-plans, steps' statuses."""
        return {
            "planned_cost": self.planned_cost,
            "realised_cost": self.realised_cost,
            "difference": self.realised_cost - self.planned_cost,
            "every": self.every,
            "replans": len(self.steps),
            "starts": list(self.starts),
            "status": self.result.status,
        }


def dispatch_outputs(built: Built) -> dict[str, Any]:
    """The dispatch a settlement fixes: qualified name -> its record (Var and scale).

    The decisions over ``time`` of the families in :data:`KEPT` (the stores and the lines),
    except :data:`FREE` and first-stage decisions (fixed as the plan's). Everything else is
    settled on the realised day: the grid import (the meter), the deviation beyond the band,
    the DR credit and shortfall (measured against the baseline), the renewables taken and
    fed in, and the **compute** (where and when each job runs, the interactive service, the
    reserve held by IT): a re-plan may place a job at another site than the step before it
    (the state handed over carries the work done, not the placement), which the day's
    placement rule forbids, so the compute as run cannot in general be fixed in one model
    of the day; the renewables and the meter follow the compute.
    """
    out = {}
    for cname, fb in built.builders.items():
        if cname not in KEPT:
            continue
        for oname, rec in fb.recorded.items():
            o = rec.output
            name = f"{cname}.{oname}"
            if rec.var is None or o.first_stage or name in FREE:
                continue
            if "time" in o.dims:
                out[name] = rec
    return out


def _fix_dispatch(values: Plan) -> Callable[[LinearModel, Built], None]:
    """Rows ``x == as run`` for the dispatch of :func:`dispatch_outputs`, where known."""

    def fix(lm: LinearModel, built: Built) -> None:
        for name, rec in dispatch_outputs(built).items():
            if name not in values:
                continue
            var = rec.var
            # the Dataset holds the column's value x the record's scale (compute units)
            v = _values(name, var, built, values) / rec.scale
            has = (var.cols >= 0) & ~np.isnan(v)
            if var.integer:
                v = np.round(v)
            lm.add_rows(f"{built.prefix}replay.fix.{name}", var.expr(), "==", np.nan_to_num(v), has)

    return fix


def _as_run(steps: list[StochasticResult], spans: list[tuple[int, int]]) -> Plan:
    """Each decision over time as run, keyed ``<family>.<name>``.

    Every step's first ``e - s`` periods, along time (a label a step does not have: NaN,
    left free).
    """
    out: Plan = {}
    datasets = [st.results[0].ds for st in steps]
    for cname, fb in _families(steps[-1]).items():
        for oname in fb:
            pieces = [
                ds[oname].isel(time=slice(0, e - s))
                for ds, (s, e) in zip(datasets, spans, strict=True)
                if oname in ds and "time" in ds[oname].dims
            ]
            if len(pieces) == len(datasets):
                out[f"{cname}.{oname}"] = xr.concat(pieces, dim="time", join="outer")
    return out


def _families(step: StochasticResult) -> dict[str, list[str]]:
    """Family name -> the names of its decisions over time in a step's Dataset."""
    ds = step.results[0].ds
    out: dict[str, list[str]] = {}
    for name in ds.data_vars:
        a = ds[name].attrs
        if "time" in ds[name].dims and a.get("role") == "decision" and "component" in a:
            out.setdefault(str(a["component"]), []).append(str(name))
    return out


def _planned(plan: Plan | StochasticResult, given: Any) -> dict[str, float]:
    """The plan's own cost by term (expected over a two-stage plan's members)."""
    source = given if given is not None else plan
    if isinstance(given, dict):
        return {str(k): float(v) for k, v in given.items()}
    if isinstance(source, Result):
        return dict(source.costs)
    if isinstance(source, StochasticResult) and source.results:
        # each member's books carry p_k x its cost by term: their sum is the expectation
        out: dict[str, float] = {}
        for r in source.results:
            for term, value in r.costs.items():
                out[term] = out.get(term, 0.0) + float(value)
        return out
    return {}


def _hybrid(forecast: Scenario, realised: Scenario, until: int, name: str) -> Scenario:
    """The forecast with the realised values of periods ``0 .. until - 1``."""
    series = forecast.series.copy()
    for col in series.columns:
        values = series[col].to_numpy(float).copy()
        values[:until] = realised.series[col].to_numpy(float)[:until]
        series[col] = values
    return _member(forecast, name, 1.0, series)


def _unfinishable(state: dict, forecast: Scenario, e: int, kw: dict) -> dict:
    """``state`` with each batch job's work left cut to what fits after period ``e - 1``.

    A step run short of capacity (blocks fixed, more interactive demand than forecast) may
    hand over more work than the job's ``max_rate`` can still do before its deadline; the
    next window would be refused. With ``compute_shortfall_penalty`` the excess is given up
    (the settlement re-settles the batch jobs on the whole day and prices what is left
    unfinished); without it the replay stops there.
    """
    jobs = (state.get("dc") or {}).get("jobs") or {}
    for job in forecast.config.batch:
        entry = jobs.get(job.name)
        if entry is None:
            continue
        deadline = forecast.period(job.deadline, forecast.periods)
        release = forecast.period(job.release, 0)
        most = float(job.max_rate) * max(deadline - max(release, e), 0) * forecast.dt
        left = float(job.work) - float(entry["work_done"])
        if left > most + 1e-6 * max(1.0, float(job.work)):
            if kw.get("compute_shortfall_penalty") is None:
                raise ReplayError(
                    e,
                    f"{forecast.time[e]}: batch job {job.name!r} has {left:g} work left, at most "
                    f"{most:g} can still be done",
                    "infeasible",
                )
            entry["work_done"] = float(job.work) - most
    return state


def replay(
    plan: Plan | StochasticResult,
    forecast: Scenario,
    realised: Scenario | None = None,
    every: int | None = None,
    options: SolveOptions | None = None,
    *,
    planned: Result | StochasticResult | dict[str, float] | None = None,
    compliance: Compliance | dict | None = None,
    compute_shortfall_penalty: float | None = None,
    **overrides: Any,
) -> Replay:
    """Run a plan against the realised day, re-planning every ``every`` periods.

    Parameters
    ----------
    plan : StochasticResult or dict
        The day-ahead plan: its first stage (labelled, ``StochasticResult.first_stage`` or
        :func:`~suandian.run.stochastic.plan_of`) is fixed all day.
    forecast : Scenario
        The day-ahead forecast the plan was made on (the scenario file: its series are the
        forecast; its ``uncertainty`` section is not used here except ``realised``).
    realised : Scenario, optional
        The day as it happened: the forecast's configuration with the realised series
        (default: :func:`~suandian.scenario.uncertainty.realised_scenario` of ``forecast``,
        its ``uncertainty.realised`` files).
    every : int, optional
        Periods run between re-plans (default: all, one re-plan of the whole day).
    options, **overrides
        Solver options for every solve.
    planned : Result, StochasticResult or dict, optional
        The plan's own solve, for its cost by term, or that cost table itself
        (``{term: CNY, "total": CNY}``; default: ``plan`` when it is a ``StochasticResult``).
    compliance, compute_shortfall_penalty
        As for :func:`~suandian.run.stochastic.replan`.

    Returns
    -------
    Replay
        The settled realised day (``result``), the re-plans, planned against realised cost
        by term, the deviations and their charges, the targets as met.

    Raises
    ------
    ReplayError
        When a re-plan (or the settlement) has no plan.
    ValueError
        For ``every`` outside ``1 .. periods`` or a realised day of another horizon.
    """
    T = forecast.periods
    k = T if every is None else int(every)
    if not 1 <= k <= T:
        raise ValueError(f"every={every}: re-plan every 1 .. {T} periods ({T}: once, no re-plan)")
    real = realised_scenario(forecast) if realised is None else realised
    if real.periods != T or not np.array_equal(np.asarray(real.time), np.asarray(forecast.time)):
        raise ValueError(
            f"the realised day ({real.periods} periods from {real.time[0]}) is not the "
            f"forecast's horizon ({T} periods from {forecast.time[0]}); give the same day"
        )
    missing = [c for c in forecast.series.columns if c not in real.series.columns]
    if missing:
        raise ValueError(f"the realised day has no series {missing}; give every forecast series")
    opts = _options(options, overrides)
    kw: dict[str, Any] = {
        "compliance": compliance,
        "compute_shortfall_penalty": compute_shortfall_penalty,
    }
    name = forecast.config.name
    steps: list[StochasticResult] = []
    spans: list[tuple[int, int]] = []
    state: dict[str, Any] | None = None
    for s in range(0, T, k):
        e = min(s + k, T)
        now = _hybrid(forecast, real, e, f"{name}.replay{s}")
        step = replan(plan, now, s, state if s > 0 else None, opts, **kw)
        if not step.info.has_solution:
            raise ReplayError(s, str(forecast.time[s]), step.status)
        steps.append(step)
        spans.append((s, e))
        if e < T:
            state = _unfinishable(step.results[0].final_state(e - s - 1), forecast, e, kw)
    first = plan.first_stage if isinstance(plan, StochasticResult) else plan
    as_run = _as_run(steps, spans)
    day = _member(real, f"{name}.realised", 1.0, real.series.copy())
    settled = _recourse(
        [day],
        None,
        opts,
        first,
        dispatch=_fix_dispatch(as_run),
        **kw,
    )
    if not settled.info.has_solution:
        raise ReplayError(0, str(forecast.time[0]) + " (settlement)", settled.status)
    return Replay(
        result=settled.results[0],
        settlement=settled,
        steps=steps,
        starts=[s for s, _ in spans],
        every=k,
        planned_costs=_planned(plan, planned),
    )


# ------------------------------------------------------------------ plans on disk
def save_plan(plan: Plan, path: str | Path) -> Path:
    """Write a labelled first stage to netCDF (``first_stage.nc``), atomically.

    One variable per decision, named as in the result Dataset, its qualified name in the
    attribute ``qualified``; read back by :func:`load_plan`.
    """
    from ..results import io

    data = {}
    for name, values in plan.items():
        if not isinstance(values, xr.DataArray):
            raise ValueError(f"{name!r}: only a labelled plan (DataArrays) can be saved")
        short = name.split(".", 1)[1]
        data[short] = values.assign_attrs(qualified=name)
    return io.write_netcdf(xr.Dataset(data), Path(path))


def load_plan(folder: str | Path, scenario: Scenario) -> tuple[Plan, Result | None]:
    """The first stage kept in a folder, and the folder's result (if it has one).

    ``first_stage.nc`` (``suandian stochastic``, ``replay``, ``replan``) is read as it is;
    otherwise the first-stage decisions of ``scenario``'s model are taken from the folder's
    ``result.nc`` (a ``suandian solve`` of the same configuration).

    Raises
    ------
    ValueError
        When the folder holds neither, naming it and what to give.
    """
    from ..model import build_model
    from ..results.io import read_netcdf
    from ..results.result import read_result
    from .stochastic import first_stage_vars

    where = Path(folder)
    result = read_result(where) if (where / "result.nc").is_file() else None
    if (where / "first_stage.nc").is_file():
        ds = read_netcdf(where / "first_stage.nc")
        return {str(ds[v].attrs.get("qualified", v)): ds[v] for v in ds.data_vars}, result
    if result is None:
        raise ValueError(
            f"--plan {folder}: holds neither first_stage.nc nor result.nc; give the folder of "
            "suandian solve, stochastic, replay or replan"
        )
    built = build_model(scenario, pyomo=False).built
    plan: Plan = {}
    for name in first_stage_vars(built):
        short = name.split(".", 1)[1]
        if short not in result.ds:
            raise ValueError(
                f"--plan {folder}: its result has no {short!r}; it is not a plan of this "
                "scenario's configuration"
            )
        plan[name] = result.ds[short]
    if "green.n_block" in plan and "corridor_window" in result.ds:
        plan["green.corridor_window"] = result.ds["corridor_window"]
    return plan, result
