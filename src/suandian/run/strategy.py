"""The solve strategy: which HiGHS runs to make, in what order, and which plan to return.

:func:`solve_model` is the whole sequence for one model, every step taking what is left of
one :class:`~suandian.deadline.Deadline` (``docs/math/solver.md``, "The time asked is the
time taken"):

1. the hand-over (:func:`suandian.highs.hand_over`), with the bounds valid for integer
   solutions only (``LinearModel.mip_lower``);
2. for a MIP, the constructive start (:func:`suandian.run.mip_start.construct`; its LP
   relaxation by the IPM for a large model that does not split, :data:`IPM_MIN_COLUMNS`),
   its fallback if no rounding was feasible in time
   (:func:`suandian.run.mip_start.fallback`) and, when the start is not within the gap and
   the model splits into blocks, the Lagrangian decomposition
   (:mod:`suandian.run.decompose`); with ``fix_optimise``, sub-MIPs over time windows
   (:mod:`suandian.run.fix_optimise`);
3. the branch and bound, given the start as its first incumbent (skipped when the start is
   already within the gap of its bound, or when no time is left), under a hard deadline
   (:func:`suandian.highs.run_until`);
4. the re-solve without the start when HiGHS reports an objective its column values are not
   worth (HiGHS 1.16);
5. the arbitration between the start and the branch and bound (the better plan, the better
   bound);
6. the shadow prices from the LP with the integers fixed (:func:`suandian.highs.row_duals`)
   and the load-back of values and duals onto the model.

It talks to HiGHS only through the public API of :mod:`suandian.highs`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np

from ..deadline import OVER_SECONDS, OVER_SHARE, Deadline
from ..highs import (
    HandOver,
    Run,
    SolveInfo,
    SolveOptions,
    hand_over,
    highs_lp,
    load_back,
    new_highs,
    relative_gap,
    row_duals,
    run_until,
    status_kind,
)
from ..model import Model, linear_model
from . import aggregate, decompose, fix_optimise
from .mip_start import Start, construct, fallback

log = logging.getLogger("suandian")


def _consistent(ho: HandOver, x: np.ndarray, objective: float) -> bool:
    """Whether the column values ``x`` are worth the objective HiGHS reported."""
    value = float(ho.c @ x + ho.offset)
    return bool(abs(value - objective) <= 1e-6 * max(1.0, abs(objective)))


def _progress(
    h: highspy.Highs, opts: SolveOptions, trace: list[dict[str, float]], t0: float, floor: float
) -> None:
    """Subscribe the MIP callbacks: log progress (``opts.progress``) and record ``trace``.

    ``trace`` gets ``{seconds, objective, bound, gap}`` entries (seconds since ``t0``, the
    bound raised to ``floor``, the LP relaxation's bound of the MIP start) at most every
    0.25 s and at every new plan.
    """
    state = {"next": 1.0, "rec": 0.0}

    def record(d) -> None:
        obj = float(d.objective_function_value) if np.isfinite(d.mip_primal_bound) else np.nan
        bound = max(float(d.mip_dual_bound), floor)
        gap = max(obj - bound, 0.0) / max(abs(obj), 1e-9) if np.isfinite(obj) else np.inf
        seconds = time.perf_counter() - t0
        trace.append({"seconds": seconds, "objective": obj, "bound": bound, "gap": gap})

    def report(event) -> None:
        d = event.data_out
        if d.running_time >= state["rec"]:
            state["rec"] = d.running_time + 0.25
            record(d)
        if not opts.progress or d.running_time < state["next"]:
            return
        state["next"] = d.running_time + 2.0
        log.info(
            "MIP %6.1f s  incumbent %s  bound %.6g  gap %s  nodes %d",
            d.running_time,
            f"{d.objective_function_value:.6g}" if np.isfinite(d.mip_primal_bound) else "none",
            d.mip_dual_bound,
            f"{d.mip_gap:.3%}" if np.isfinite(d.mip_gap) else "-",
            d.mip_node_count,
        )

    def improved(event) -> None:
        d = event.data_out
        record(d)
        if not opts.progress:
            return
        log.info(
            "MIP %6.1f s  new plan %.6g  bound %.6g  gap %.3f%%",
            d.running_time,
            d.objective_function_value,
            d.mip_dual_bound,
            100 * d.mip_gap if np.isfinite(d.mip_gap) else float("nan"),
        )

    h.cbMipInterrupt.subscribe(report)
    h.cbMipImprovingSolution.subscribe(improved)


def solve_model(
    model: Model,
    opts: SolveOptions,
    timings: dict[str, float],
    budget: float | None = None,
    deadline: Deadline | None = None,
    known: decompose.Given | None = None,
    made: Callable[[HandOver, np.ndarray, Deadline], Start | None] | None = None,
) -> SolveInfo:
    """Hand a model to HiGHS, run it, keep the solution and the duals on the model.

    ``deadline`` is the wall time every phase shares (:class:`~suandian.deadline.Deadline`;
    default: ``opts.time_limit``, or ``budget`` seconds if smaller, from now). Returns a
    :class:`SolveInfo`; on success the model's :class:`~suandian.linear.LinearModel`
    holds the column values (``lm.x``) and row duals (``lm.y``, None when unavailable), read
    by every block built into it. ``known``: the blocks the model splits into, known to the
    caller (:class:`~suandian.run.decompose.Given`, a two-stage plan's scenarios): the
    decomposition runs over them when the start's gap is open and, unless
    ``known.branch_and_bound``, its plan and bound are the answer (no branch and bound of the
    whole model).
    ``made(ho, integer, deadline)``: a plan the caller makes of the hand-over by the
    deadline (every column; the columns ``integer`` integral), the MIP start instead of
    the constructive one (no LP relaxation of the whole model before the branch and bound;
    a two-stage plan's first stage from its mean forecast,
    :func:`suandian.run.stochastic.mean_forecast_start`); when it returns None, the
    constructive start runs as without it (with ``opts.mip_start``).
    """
    if deadline is None:
        limit = opts.time_limit if budget is None else min(opts.time_limit, budget)
        deadline = Deadline(limit)
    # a first plan may take part of the margin the promise leaves beyond the time asked (or
    # the least time the caller gives it)
    first_plan = Deadline(
        max(deadline.left() + first_plan_margin(deadline.seconds), opts.mip_start_seconds or 0),
        deadline.clock,
    )
    start = t0 = time.perf_counter()
    trace: list[dict[str, float]] = []
    lm = linear_model(model)
    ho = hand_over(model)
    if not opts.relax_integers:
        # bounds valid for integer solutions only (e.g. blocks the demand needs)
        lower = lm.mip_lower()
        n = len(lower)
        ho.lb = ho.lb.copy()
        ho.lb[:n] = np.minimum(np.maximum(ho.lb[:n], lower), ho.ub[:n])
    fixed = ho.integer & (ho.lb == ho.ub)
    integer = ho.integer & ~fixed & (not opts.relax_integers)
    timings["handover"] = time.perf_counter() - start
    plan: Start | None = None
    first: dict[str, Any] = {}
    coarse: dict[str, Any] = {}
    if integer.any() and made is not None:
        start = time.perf_counter()
        plan = made(ho, integer, first_plan)
        timings["mip_start"] = time.perf_counter() - start
        if plan is not None:
            first = {"objective": plan.objective, "bound": plan.bound, "step": plan.step}
            trace.append(_point(time.perf_counter() - t0, plan.objective, plan.bound))
    if integer.any() and opts.mip_start and plan is None:
        rounding = np.zeros(len(ho.lb), np.int8)
        hint = lm.rounding()
        rounding[: len(hint)] = hint
        warm = None
        if lm.start is not None and len(lm.start) <= len(ho.lb):
            warm = np.full(len(ho.lb), np.nan)  # the user's own columns: no hint
            warm[: len(lm.start)] = lm.start
        periods = _periods(model, lm, len(ho.lb)) if opts.fix_optimise else None
        plan, first = _mip_start(
            ho,
            integer,
            rounding,
            opts,
            deadline,
            first_plan,
            timings,
            trace,
            t0,
            known,
            warm,
            periods,
            (model, coarse) if warm is None and known is None else None,
        )
        if plan is None:
            start = time.perf_counter()
            plan = fallback(ho, integer, rounding, opts, first_plan)
            timings["fallback"] = time.perf_counter() - start
            if plan is not None:
                first = {"objective": plan.objective, "bound": plan.bound, "step": plan.step}
                trace.append(_point(time.perf_counter() - t0, plan.objective, plan.bound))
    # HiGHS stops early enough to leave the shadow-price LP the time of the relaxation's
    reserve = 0.0
    if opts.duals and plan is not None and deadline.finite:
        reserve = min(plan.relax_seconds, DUALS_SHARE * deadline.left())
    highs_deadline = deadline.before(reserve)
    start = time.perf_counter()
    h = new_highs(opts, highs_deadline.limit())
    if integer.any():
        floor = plan.bound if plan is not None else -np.inf
        _progress(h, opts, trace, t0, floor)
    h.passModel(highs_lp(ho, integer))
    if plan is not None:
        solution = highspy.HighsSolution()
        solution.col_value = plan.x
        solution.value_valid = True
        h.setSolution(solution)
    timings["handover"] += time.perf_counter() - start

    log.info(
        "HiGHS: %s of %d columns (%d integer), %d rows, %d nonzeros; time limit %g s",
        "MIP" if integer.any() else "LP",
        len(ho.lb),
        int(integer.sum()),
        ho.A.shape[0],
        ho.A.nnz,
        highs_deadline.limit(),
    )
    start = time.perf_counter()
    given = highs_deadline.limit()
    ran: Run | None = None
    if plan is not None and relative_gap(plan.objective, plan.bound) <= opts.mip_rel_gap:
        log.info("MIP start within the gap of the LP bound: no branch and bound")
        status, has_solution = highspy.HighsModelStatus.kOptimal, False
    elif known is not None and not known.branch_and_bound and plan is not None:
        log.info("Decomposed: the decomposition's plan and bound, no branch and bound")
        status, has_solution = highspy.HighsModelStatus.kTimeLimit, False
    elif highs_deadline.expired():
        log.info("No time left for the branch and bound")
        status, has_solution = highspy.HighsModelStatus.kTimeLimit, False
    else:
        ran = run_until(h, highs_deadline, len(ho.lb))
        status, has_solution = ran.status, ran.has_solution and len(ho.lb) > 0
    timings["solve"] = time.perf_counter() - start
    size = {
        "columns": len(ho.lb),
        "rows": int(ho.A.shape[0]),
        "nonzeros": int(ho.A.nnz),
        "integer_columns": int(integer.sum()),
    }
    objective = ran.objective if has_solution and ran is not None else float("nan")
    if integer.any() and ran is not None:
        bound = ran.bound
        gap = relative_gap(objective, bound) if has_solution else float("nan")
        if ran.info is not None and has_solution:
            gap = float(ran.info.mip_gap)
    else:
        bound, gap = objective, 0.0
    x = ran.x if has_solution and ran is not None else None
    stopped_by = ran.stopped_by if ran is not None else "not_run"
    if x is not None and stopped_by == "left_behind" and not _consistent(ho, x, objective):
        # the plan a callback passed is not worth its objective: not kept
        x, objective, has_solution = None, float("nan"), False
    if x is not None and plan is not None and not _consistent(ho, x, objective):
        again = _resolve(ho, integer, opts, x, objective, highs_deadline)
        h, status, objective, bound = again.highs, again.status, again.objective, again.bound
        x, stopped_by = again.x, again.stopped_by
        gap = relative_gap(objective, bound) if x is not None else float("nan")
        has_solution = x is not None
        timings["solve"] = time.perf_counter() - start
    if stopped_by in ("interrupt", "left_behind"):  # the deadline is the time limit asked
        status = highspy.HighsModelStatus.kTimeLimit
    origin = ("branch_and_bound" if integer.any() else "lp") if has_solution else ""
    returned = False
    if plan is not None and has_solution and objective >= plan.objective - 1e-9 * abs(objective):
        origin = plan.origin  # HiGHS's plan is the start's (not better)
    if plan is not None and (
        not has_solution or objective > plan.objective + 1e-9 * abs(objective)
    ):
        # HiGHS found nothing better than the start (or stopped before reading it)
        x, objective, returned, origin = plan.x, plan.objective, True, plan.origin
        if not has_solution and status not in (
            highspy.HighsModelStatus.kOptimal,
            highspy.HighsModelStatus.kTimeLimit,
        ):
            log.warning("MIP ended %s; returning the MIP start", h.modelStatusToString(status))
        has_solution = True
        if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
            status = highspy.HighsModelStatus.kTimeLimit
    if plan is not None and has_solution:  # the LP relaxation's bound may be the better one
        bound = min(max(plan.bound, bound) if np.isfinite(bound) else plan.bound, objective)
        gap = relative_gap(objective, bound)
        if status == highspy.HighsModelStatus.kTimeLimit and gap <= opts.mip_rel_gap:
            status = highspy.HighsModelStatus.kOptimal
    kind = status_kind(status, has_solution)
    if not has_solution and integer.any() and kind == "no_solution":
        log.warning(
            "no plan within the time limit of %g s: the MIP start, its fallback and HiGHS "
            "found none in time; give more time (time_limit)",
            deadline.seconds,
        )
    info = SolveInfo(
        kind, h.modelStatusToString(status), objective, bound, gap, has_solution, timings, size
    )
    info.origin = origin
    info.deadline = {
        "time_limit": deadline.seconds,
        "highs_given": given if ran is not None else 0.0,
        "highs_stopped_by": stopped_by,
        "duals_reserve": reserve,
    }
    info.trace = trace
    info.aggregate = coarse
    if integer.any() and has_solution:
        trace.append(
            {
                "seconds": time.perf_counter() - t0,
                "objective": objective,
                "bound": bound,
                "gap": gap,
            }
        )
    if plan is not None:
        _record_start(info, plan, first, returned)
    log.debug("HiGHS: %s, objective %.6g, %s", info.highs_status, objective, size)
    if not has_solution or x is None:
        return info
    lm.x, lm.y = x, None
    lm.user_objective = ho.user_objective(x)
    lm.relaxed = bool(opts.relax_integers and (ho.integer & ~fixed).any())
    if opts.duals:
        start = time.perf_counter()
        if deadline.expired():
            log.warning("shadow prices skipped: no time left of the time limit")
        elif stopped_by == "left_behind" and not integer.any():
            log.warning("shadow prices unavailable: the LP did not return by the deadline")
        else:
            lm.y = row_duals(h, ho, x, integer, opts, deadline.left())
        timings["duals"] = time.perf_counter() - start
    load_back(model, ho, x, lm.y)
    return info


#: Most share of the time left at the hand-over that HiGHS leaves to the shadow-price LP.
DUALS_SHARE = 0.2


def first_plan_margin(seconds: float) -> float:
    """What a solve without a plan at its deadline may take beyond it to make one.

    Half the margin the promise leaves (``time_limit * OVER_SHARE + OVER_SECONDS``); the
    other half is the extraction's.
    """
    if not np.isfinite(seconds):
        return 0.0
    return 0.5 * (OVER_SHARE * seconds + OVER_SECONDS)


#: A model that does not split into blocks (:func:`suandian.run.decompose.split`: sites tied
#: by shared workloads, jobs or nodes) and has at least this many columns gets its LP
#: relaxation by the interior point method (measured, docs/math/solver.md, "Portfolios tied
#: across sites": 1.7-4 times less CPU than the dual simplex on the tied portfolios from
#: 5,516 columns on; the dual simplex 2.3 times faster on the default day, 3,161 columns,
#: and 2.8 times on the paired 40 sites, which split).
IPM_MIN_COLUMNS = 5000
#: Share of the time left after the MIP start that the decomposition may use.
DECOMPOSE_SHARE = 0.8
#: The same when no branch and bound follows (``Given.branch_and_bound`` false): the rest is
#: the shadow-price LP's.
DECOMPOSED_SHARE = 0.95


#: Share of the decomposition's time its Lagrangian search may use when a polish follows.
POLISH_AFTER = 0.75
#: Share of the time left after the decomposition that fix-and-optimise may use (HiGHS's
#: branch and bound gets the rest, for its bound and any better plan).
FIX_OPTIMISE_SHARE = 0.7


def _scenario(model: Model):
    """The scenario a model was built from, or None (a model built otherwise)."""
    from ..model import built_of

    try:
        return built_of(model).scenario
    except (AttributeError, TypeError):
        return None


def _periods(model: Model, lm, n_cols: int) -> np.ndarray:
    """Period of each column for fix-and-optimise's windows (-1: none)."""
    from ..model import built_of

    try:
        horizon = int(built_of(model).scenario.periods)
    except (AttributeError, TypeError):
        return np.full(n_cols, -1, np.int64)
    return fix_optimise.periods_of(lm, n_cols, horizon)


#: The repair of the decomposition re-decides the integer columns that are not capacity
#: counts (rounding hint other than ``up``, e.g. corridor blocks) when there are at most this
#: many; with more, they are fixed like the others.
REPAIR_FREE_MAX = 64


def _decompose(
    ho: HandOver,
    integer: np.ndarray,
    rounding: np.ndarray,
    plan: Start,
    opts: SolveOptions,
    seconds: float,
    known: decompose.Given | None = None,
    parts: decompose.Split | None = None,
) -> decompose.Outcome | None:
    """Improve the MIP start ``plan`` (in place) by the Lagrangian decomposition, if any.

    Returns the :class:`~suandian.run.decompose.Outcome`, or None if the model does not
    split into blocks. ``known``: the blocks known to the caller, with the columns the
    repair re-decides; ``parts``: the split, if already made
    (:func:`suandian.run.decompose.split`).
    """
    if parts is None:
        parts = decompose.split(ho, integer) if known is None else known.parts
    duals = [d for d in (plan.plan_duals, plan.relaxed_duals) if d is not None]
    if known is not None:
        # the fixed-integer LP's duals on rows that tie integer columns across blocks are
        # arbitrary (the columns are fixed by their bounds): the relaxation's alone
        duals = [plan.relaxed_duals] if plan.relaxed_duals is not None else []
    if parts is None or not duals:
        return None
    log.info(
        "Decomposition: %d blocks with integer columns, %d linking rows",
        len(parts.blocks),
        len(parts.linking),
    )
    free = integer & (rounding <= 0)
    if free.sum() > REPAIR_FREE_MAX:
        free[:] = False
    up = None
    if known is not None:
        free, up = known.free & integer, known.round_up & integer
    out = decompose.improve(
        ho,
        integer,
        parts,
        duals,
        opts,
        seconds if known is None or known.held is None else POLISH_AFTER * seconds,
        opts.mip_rel_gap,
        plan.objective,
        plan.bound,
        free_in_repair=free,
        start_x=plan.x,
        round_up=up,
        max_evaluations=decompose.MAX_EVALUATIONS if known is None else known.max_evaluations,
    )
    if known is not None and known.held is not None and out.x is not None:
        left = seconds - out.seconds
        began = time.perf_counter()
        x, objective = decompose.polish(ho, integer, known.held, out.x, opts, left)
        log.info(
            "Decomposition: the first stage held, the recourse re-decided: %.6g (%.2f s)",
            objective,
            time.perf_counter() - began,
        )
        if x is not None and objective < out.objective:
            out.x, out.objective = x, objective
        out.seconds += time.perf_counter() - began
    plan.decomposition = out
    if out.x is not None and out.objective < plan.objective:
        plan.x, plan.objective = out.x, out.objective
        plan.step = f"{plan.step}>lagrangian"
    if np.isfinite(out.bound) and out.bound > plan.bound:
        plan.bound = min(out.bound, plan.objective)
    return out


def _point(seconds: float, objective: float, bound: float) -> dict[str, float]:
    """A point of ``SolveInfo.trace``."""
    gap = relative_gap(objective, bound)
    return {"seconds": seconds, "objective": objective, "bound": bound, "gap": gap}


def _mip_start(
    ho: HandOver,
    integer: np.ndarray,
    rounding: np.ndarray,
    opts: SolveOptions,
    deadline: Deadline,
    first_plan: Deadline,
    timings: dict[str, float],
    trace: list[dict[str, float]],
    t0: float,
    known: decompose.Given | None = None,
    hint: np.ndarray | None = None,
    periods: np.ndarray | None = None,
    scenario_of: tuple[Model, dict[str, Any]] | None = None,
) -> tuple[Start | None, dict[str, Any]]:
    """The constructive start and, when its gap is open, the decomposition (step 2).

    The start improves its plan until ``deadline`` and looks for a first one until
    ``first_plan``, trying ``hint`` first (``LinearModel.start``: column values, NaN where
    unknown); the decomposition gets :data:`DECOMPOSE_SHARE` of what is left. Returns the
    plan (None if none was found) and its figures before the decomposition.
    ``scenario_of``: the model and a dict to fill with what the aggregate did, when the
    first plan may come from the model's 1-h aggregate (:mod:`suandian.run.aggregate`;
    ``opts.aggregate``: ``auto`` for a large model that does not split).
    """
    first: dict[str, Any] = {}
    start = time.perf_counter()
    large = len(ho.lb) >= IPM_MIN_COLUMNS
    if known is not None:
        parts: decompose.Split | None = known.parts
    else:
        parts = decompose.split(ho, integer) if large else None
    tied = large and parts is None
    hint_first = False
    if scenario_of is not None and hint is None:
        model, coarse = scenario_of
        sc = _scenario(model)
        if sc is not None and aggregate.wanted(sc, len(ho.lb), opts, tied):
            began = time.perf_counter()
            values, done = aggregate.hint(sc, linear_model(model), opts, deadline, solve_model)
            coarse.update(done)
            timings["aggregate"] = time.perf_counter() - began
            hint, hint_first = values, values is not None
    plan = construct(
        ho,
        integer,
        rounding,
        opts,
        deadline,
        first_plan,
        hint,
        quick=known is not None,
        first_lp="ipm" if tied else "simplex",
        hint_first=hint_first,
    )
    timings["mip_start"] = time.perf_counter() - start
    if plan is not None:
        first = {"objective": plan.objective, "bound": plan.bound, "step": plan.step}
        trace.append(_point(time.perf_counter() - t0, plan.objective, plan.bound))
    open_gap = plan is not None and relative_gap(plan.objective, plan.bound) > opts.mip_rel_gap
    wanted = opts.decompose or known is not None
    if plan is not None and open_gap and wanted and not deadline.expired():
        start, first_bound = time.perf_counter(), plan.bound
        share = DECOMPOSE_SHARE
        if known is not None and not known.branch_and_bound:
            share = DECOMPOSED_SHARE
        parted = _decompose(
            ho, integer, rounding, plan, opts, share * deadline.left(), known, parts
        )
        if parted is not None:
            timings["decompose"] = time.perf_counter() - start
            for point in parted.trace:
                trace.append(
                    _point(
                        start - t0 + point["seconds"],
                        point["best_objective"],
                        max(first_bound, point["best_bound"]),
                    )
                )
    open_gap = plan is not None and relative_gap(plan.objective, plan.bound) > opts.mip_rel_gap
    if plan is not None and open_gap and opts.fix_optimise and periods is not None:
        hoods = fix_optimise.windows(periods, integer & (rounding > 0))
        if hoods and not deadline.expired():
            start = time.perf_counter()
            out = fix_optimise.improve(
                ho,
                integer,
                plan.x,
                plan.objective,
                hoods,
                opts,
                deadline.share(FIX_OPTIMISE_SHARE),
            )
            timings["fix_optimise"] = time.perf_counter() - start
            plan.fix_optimise = {
                "windows": len(hoods),
                "subs": out.subs,
                "seconds": out.seconds,
                "objective": out.objective,
                "before": plan.objective,
            }
            if out.improved:
                plan.x, plan.objective = out.x, out.objective
                plan.step = f"{plan.step}>fix_optimise"
            for point in out.trace:
                trace.append(_point(start - t0 + point["seconds"], point["objective"], plan.bound))
    return plan, first


@dataclass
class _Resolved:
    """The re-solve without the start: its instance, status, plan and how it stopped."""

    highs: highspy.Highs
    status: Any
    objective: float
    bound: float
    x: np.ndarray | None
    stopped_by: str


def _resolve(
    ho: HandOver,
    integer: np.ndarray,
    opts: SolveOptions,
    x: np.ndarray,
    objective: float,
    deadline: Deadline,
) -> _Resolved:
    """Solve the MIP again without the start (step 4 of the sequence), by ``deadline``.

    HiGHS reported ``objective`` for the column values ``x``, which are not worth it.
    The plan is kept only if its column values are worth its objective.
    """
    # HiGHS 1.16, given a start with setSolution, can report an improved objective with
    # the start's column values; solve again without the start (tests/test_mip_start.py)
    log.warning(
        "HiGHS reported objective %.6g with column values worth %.6g; re-solving the MIP "
        "without the start",
        objective,
        float(ho.c @ x + ho.offset),
    )
    h = new_highs(opts, deadline.limit())
    h.passModel(highs_lp(ho, integer))
    ran = run_until(h, deadline, len(ho.lb))
    plan, objective = ran.x, ran.objective
    if plan is not None and not _consistent(ho, plan, objective):
        plan, objective = None, float("nan")
    return _Resolved(h, ran.status, objective, ran.bound, plan, ran.stopped_by)


def _record_start(info: SolveInfo, plan: Start, first: dict[str, Any], returned: bool) -> None:
    """Fill ``info.start`` and ``info.decomposition`` from the MIP start ``plan``.

    ``first`` holds the start's figures before the decomposition; ``returned`` says whether
    the plan returned is the start's (then credited to the decomposition if it improved it).
    """
    out = plan.decomposition
    improved = out is not None and ">lagrangian" in plan.step
    by_windows = plan.step.endswith(">fix_optimise")
    info.start = {
        **first,
        "seconds": plan.seconds,
        "lps": plan.lps,
        "returned": returned and not improved and not by_windows,
    }
    if plan.fix_optimise is not None:
        info.start["fix_optimise"] = {**plan.fix_optimise, "returned": returned and by_windows}
    if out is not None:
        info.decomposition = {
            "blocks": out.blocks,
            "linking_rows": out.linking_rows,
            "evaluations": out.evaluations,
            "seconds": out.seconds,
            "objective": out.objective,
            "bound": out.bound,
            "returned": returned and improved and not by_windows,
        }
