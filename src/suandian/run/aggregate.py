"""A first plan from the plan of a coarser aggregate of the same scenario (issue 21).

Math and measurements: ``docs/math/solver.md``, "A first plan from the 1-h aggregate".
A large 15-min model whose LP relaxation alone takes longer than the time asked for a first
plan (a tied portfolio of 40 sites: 11.6 CPU s by the IPM) gets its first plan this way:

1. :func:`coarsen`: the same scenario on periods ``factor`` times longer (96 x 15 min ->
   24 x 1 h): every series averaged over the fine periods of a coarse one, batch jobs'
   releases rounded down and deadlines rounded up to whole coarse periods (outwards, as
   ``benchmarks/portfolio_tied.py`` makes its 1-h portfolios). Its LP is about ``factor``
   times smaller;
2. the coarse model is solved (its MIP start, and the branch and bound for what is left of
   its share of the time) to a plan;
3. :func:`mapped`: every integer decision of the coarse plan with a time axis is repeated
   over the fine periods it covers (``n_fine[..., t] = n_coarse[..., t // factor]``), the
   others (a corridor's blocks) copied where their shape is the same;
4. the fine model's MIP start fixes these integers and solves the LP of the rest
   (:func:`suandian.run.mip_start.construct` with ``hint_first``): that plan exists before
   the fine LP relaxation is solved; if that LP is infeasible (a quarter-hour's peak above
   its hour's mean), the capacity counts (rounding ``up``) may rise above the mapped values
   and are rounded up (the repair), and only then does the start go on as without a hint.

The coarse scenario is a hint, not a model of the fine one: the plan returned is always the
fine model's, every row held, so whatever the aggregate simplifies can cost only plan
quality, never feasibility. Scenarios with period-indexed inputs that are not coarsened
here (demand-response events, grid outages, representative periods, annual budgets,
uncertainty) are not aggregated (:func:`coarsen` returns None and the solve goes on as
before).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..deadline import Deadline
from ..highs import SolveInfo, SolveOptions
from ..linear import LinearModel
from ..scenario import Scenario
from ..scenario.errors import ScenarioError
from ..scenario.rolling import period_of, raw_config
from .warm import Plan

log = logging.getLogger("suandian")

#: ``aggregate="auto"`` makes the aggregate for models of at least this many columns that
#: do not split into blocks, with periods shorter than :data:`COARSE_HOURS` (measured,
#: docs/math/solver.md, "A first plan from the 1-h aggregate": on the tied portfolios of 10,
#: 20 and 40 sites at 15 min, 11,888 to 48,441 columns, the first plan in 0.53-0.95,
#: 0.39-0.45 and 0.31-0.41 times the CPU seconds of the relaxation's rounding).
MIN_COLUMNS = 10_000
#: Length of the aggregate's periods, hours.
COARSE_HOURS = 1.0
#: Share of the time left that the aggregate's solve may take (its MIP start may take longer
#: while it has no plan, within the first plan's deadline). With less than four of its LP
#: relaxations' time the aggregate's start takes its quick path (the ceiling, a worse plan).
SHARE = 0.3
#: Share of the time left that the aggregate's start may take while it has no plan (without
#: the aggregate's plan a model this large rarely has a first plan in time either).
FIRST_PLAN_SHARE = 0.6
#: Gap at which the aggregate's plan is taken: its MIP start is, without a branch and bound,
#: when within it (the fine model's branch and bound improves the mapped plan instead).
COARSE_GAP = 0.05
#: Batch jobs' windows rounded inwards to whole coarse periods where the job still fits at
#: its ``max_rate`` (the aggregate then keeps enough blocks on within the fine window),
#: else outwards.
INWARD = True
#: From this many columns of the fine model, an interactive workload's demand series is
#: aggregated by its hourly **peak** (the others by their mean): the aggregate then keeps on
#: the blocks every quarter-hour of its hour needs, and the mapped plan holds the fine
#: demand without the repair LP. Below, by its mean: cheaper plans, sometimes the repair.
#: Measured (docs/math/solver.md): at 40 tied sites (48,441 columns) the first plan in
#: 6.5-8.8 CPU s by the peak against 8.2-10.6 by the mean; at 10 and 20 sites the mean's
#: plans and gaps at 60 s the better.
DEMAND_PEAK_MIN_COLUMNS = 40_000
#: Sections whose entries carry period-indexed inputs that :func:`coarsen` does not coarsen:
#: a scenario with any is not aggregated.
UNSUPPORTED = ("demand_response", "grid_outages")


def factor_of(sc: Scenario) -> int:
    """How many of the scenario's periods make one aggregate period (1: none)."""
    if sc.dt >= COARSE_HOURS - 1e-9:
        return 1
    ratio = COARSE_HOURS / sc.dt
    k = round(ratio)
    if abs(ratio - k) > 1e-9 or k < 2 or sc.periods % k:
        return 1
    return int(k)


def _resolution(hours: float) -> str:
    """A pandas frequency string for ``hours`` (``1h``, ``30min``)."""
    minutes = round(hours * 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}min"


def coarsen(sc: Scenario, factor: int, peak: bool = False) -> Scenario | None:
    """The scenario on periods ``factor`` times longer, or None where that is not supported.

    Parameters
    ----------
    sc : Scenario
        The fine scenario; its periods a multiple of ``factor``.
    factor : int
        Fine periods per coarse period, >= 2.
    peak : bool
        An interactive workload's demand series by its peak over each coarse period
        (else, like every other series, by its mean).

    Returns
    -------
    Scenario or None
        The coarse scenario: horizon ``periods / factor`` periods of ``factor`` x the
        resolution, series averaged over each coarse period (an energy per period becomes
        the same energy per hour, averaged), batch jobs' ``release`` rounded down and
        ``deadline`` rounded up to coarse periods. None (logged) when the scenario has
        inputs this does not coarsen (:data:`UNSUPPORTED`, representative periods, period
        weights, annual budgets counted over part of the horizon, uncertainty) or the
        coarse scenario does not validate.
    """
    c = sc.config
    h = c.horizon
    why = [name for name in UNSUPPORTED if getattr(c, name, None)]
    if h.cycle_periods is not None or h.budget_periods is not None or h.weights not in (None, 1):
        why.append("horizon (cycle_periods, budget_periods or weights)")
    if getattr(c, "uncertainty", None):
        why.append("uncertainty")
    if factor < 2 or sc.periods % factor:
        why.append(f"periods {sc.periods} not a multiple of {factor}")
    if why:
        log.info("Aggregate: not made (%s)", ", ".join(why))
        return None
    raw = raw_config(sc)
    raw["horizon"] = {
        **raw["horizon"],
        "periods": sc.periods // factor,
        "resolution": _resolution(sc.dt * factor),
    }
    for job in raw.get("batch") or []:
        release = period_of(sc.time, sc.dt, job.get("release", 0), 0)
        deadline = period_of(sc.time, sc.dt, job.get("deadline"), sc.periods)
        inner = (-(-release // factor), deadline // factor)
        span = (inner[1] - inner[0]) * factor * sc.dt
        if INWARD and span * float(job["max_rate"]) >= float(job["work"]) - 1e-9:
            job["release"], job["deadline"] = inner
        else:
            job["release"], job["deadline"] = release // factor, -(-deadline // factor)
    series = sc.series
    numeric = series.select_dtypes("number")
    if numeric.shape[1] != series.shape[1]:
        log.info("Aggregate: not made (series that are not numbers)")
        return None
    hours = np.arange(len(series)) // factor
    coarse = numeric.groupby(hours).mean()
    demands = [w.demand for w in c.interactive if isinstance(w.demand, str) and w.demand in numeric]
    if peak and demands:
        coarse[demands] = numeric[demands].groupby(hours).max()
    coarse.index = series.index[::factor]
    try:
        return Scenario._loader()(raw, coarse, sc.base_dir, sc.history)
    except ScenarioError as exc:
        log.info("Aggregate: the coarse scenario does not validate (%s)", str(exc)[:200])
        return None


def mapped(coarse: Plan, fine: LinearModel, factor: int) -> np.ndarray:
    """Values of ``fine``'s integer columns from the coarse plan (NaN where none).

    A variable with a ``time`` axis takes, at fine period ``t``, the coarse value at
    ``t // factor`` (its other axes the same shape); a variable without one is copied when
    its shape is the same (a corridor's blocks). Continuous columns are left NaN (the LP of
    the fine model decides them).
    """
    out = np.full(fine.n_cols, np.nan)
    for var in fine.var_order:
        held = coarse.get(var.name)
        if not var.integer or held is None or var.dims is None or held[0] != var.dims:
            continue
        values = held[1]
        if "time" in var.dims:
            axis = var.dims.index("time")
            T = var.shape[axis]
            if values.shape[axis] * factor != T:
                continue
            values = np.repeat(values, factor, axis=axis)
        if values.shape != var.shape:
            continue
        keep = var.cols >= 0
        out[var.cols[keep]] = values[keep]
    return out


def hint(
    sc: Scenario,
    fine: LinearModel,
    opts: SolveOptions,
    deadline: Deadline,
    solve: Callable[..., SolveInfo],
) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Solve the aggregate of ``sc`` and map its plan onto ``fine``'s integer columns.

    ``solve``: :func:`suandian.run.strategy.solve_model` (passed in: the strategy imports
    this module).

    Returns the hint (None if no aggregate or no plan) and what was done (``factor``,
    ``seconds``, the coarse ``objective``, ``status``, ``columns``), for ``SolveInfo``.
    """
    from ..model import build_model
    from ..model import linear_model as lm_of
    from .warm import plan_of

    began = time.perf_counter()
    factor = factor_of(sc)
    info: dict[str, Any] = {"factor": factor}
    peak = fine.n_cols >= DEMAND_PEAK_MIN_COLUMNS
    info["demand"] = "peak" if peak else "mean"
    coarse_sc = coarsen(sc, factor, peak) if factor > 1 else None
    if coarse_sc is None:
        return None, info
    model = build_model(coarse_sc, pyomo=False)
    seconds = SHARE * deadline.left() if deadline.finite else math.inf
    least = opts.mip_start_seconds
    if deadline.finite:
        least = max(least or 0.0, FIRST_PLAN_SHARE * deadline.left()) or None
    copts = SolveOptions(
        **{
            **opts.__dict__,
            "duals": False,
            "diagnose": False,
            "progress": False,
            "mip_rel_gap": max(opts.mip_rel_gap, COARSE_GAP),
            "mip_start_seconds": least,
        }
    )
    timings: dict[str, float] = {}
    coarse_info = solve(model, copts, timings, deadline=Deadline(seconds, deadline.clock))
    lm = lm_of(model)
    info.update(
        {
            "columns": coarse_info.size.get("columns"),
            "status": coarse_info.status,
            "objective": coarse_info.objective,
            "gap": coarse_info.mip_gap,
        }
    )
    plan = plan_of(lm) if coarse_info.has_solution else None
    info["seconds"] = time.perf_counter() - began
    if plan is None:
        log.info("Aggregate: no plan of the %d-period aggregate in time", coarse_sc.periods)
        return None, info
    values = mapped(plan, fine, factor)
    log.info(
        "Aggregate: %d x %s plan %.6g (%s, gap %.2f%%) in %.2f s, %d integer columns mapped",
        coarse_sc.periods,
        coarse_sc.config.horizon.resolution,
        coarse_info.objective,
        coarse_info.status,
        100 * coarse_info.mip_gap,
        info["seconds"],
        int(np.isfinite(values).sum()),
    )
    return values, info


def wanted(sc: Scenario, n_cols: int, opts: SolveOptions, tied: bool = True) -> bool:
    """Whether ``opts.aggregate`` asks for the aggregate on this scenario and model.

    ``on``: whenever the scenario's periods allow a coarser aggregate (:func:`factor_of`);
    ``auto``: also only for a model of at least :data:`MIN_COLUMNS` columns that does not
    split into blocks (``tied``; a model that splits is decomposed instead).
    """
    if opts.aggregate == "off" or opts.relax_integers or not opts.mip_start:
        return False
    if factor_of(sc) < 2:
        return False
    return opts.aggregate == "on" or (tied and n_cols >= MIN_COLUMNS)


__all__ = ["coarsen", "factor_of", "hint", "mapped", "wanted"]
