"""A constructive MIP start: LP relaxation, rounding, fixing, LP repair.

Math and measurements: ``docs/math/solver.md`` (section "A plan within seconds"). Generic
over the standard-form arrays of :func:`suandian.highs.hand_over`: it knows only which
columns are integer, their bounds and each column's rounding hint
(:meth:`suandian.linear.LinearModel.rounding`: ``up`` for capacities such as ``dc.n_on``,
``down`` or ``nearest``).

Steps, all on one HiGHS instance with the integers relaxed (each LP warm-started from the
previous basis):

1. **relax**: solve the LP relaxation; its optimum is a lower bound of the MIP. If it is
   infeasible, so is the MIP, and no start is made.
2. **round up, then shrink**: fix every ``up`` column at ``ceil`` of its LP value (the others
   stay relaxed) and re-solve; then let the ``up`` columns move again below that ceiling and
   round up again, until nothing changes (each pass can only lower them, so blocks switched
   on but not needed are switched off).
3. **round the rest**: fix the other integer columns at their rounded values (``nearest``
   or ``down``) and solve the **repair LP** over the continuous columns.
4. **fallbacks**: if the repair LP is infeasible, try the other roundings of the remaining
   integers (``ceil``, then ``floor``), then the ``up`` columns one step higher (capped at
   their upper bounds) with each of those, until one is feasible or the budget runs out.

With ``hint_first`` (the plan of the model's 1-h aggregate, :mod:`suandian.run.aggregate`)
the hint's integers are fixed and the LP of the rest solved **before** step 1 (if it is
infeasible, the ``up`` columns may rise above the hint and are rounded up): a first plan
without the relaxation, which then follows for the bound.

The repaired point is a plan: every row holds at the LP tolerances and every integer column
is integral. It is handed to HiGHS with ``Highs.setSolution`` before the MIP runs, so the MIP
starts with an incumbent and only improves it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import highspy
import numpy as np

from ..deadline import Deadline
from ..highs import HandOver, SolveOptions, highs_lp, limit_run, new_highs

if TYPE_CHECKING:
    from .decompose import Outcome

#: One LP of the start: column bounds -> column values, or None if not optimal.
LP: TypeAlias = Callable[[np.ndarray, np.ndarray], np.ndarray | None]

log = logging.getLogger("suandian")


@dataclass
class Start:
    """A plan made by :func:`construct`.

    Attributes
    ----------
    x : numpy.ndarray
        Column values (integers integral).
    objective : float
        Objective of ``x`` (CNY, with the constant offset).
    bound : float
        Objective of the LP relaxation: a lower bound of the MIP.
    seconds : float
        Wall time of the construction.
    step : str
        Which rounding gave the plan (``up+nearest``, ``up+ceil``, ...).
    lps : int
        LPs solved.
    relaxed_duals : numpy.ndarray or None
        Row duals of the LP relaxation.
    plan_duals : numpy.ndarray or None
        Row duals of the repair LP that gave the plan (its integers fixed). With
        ``relaxed_duals``, the multipliers the decomposition (:mod:`suandian.run.decompose`)
        starts from.
    decomposition : suandian.run.decompose.Outcome or None
        What the decomposition added, when it ran (its plan and bound are then this
        start's, if better).
    relax_seconds : float
        Wall time of the LP relaxation (0 if it did not finish): what the shadow-price LP
        of a plan may take.
    fix_optimise : dict or None
        What fix-and-optimise (:mod:`suandian.run.fix_optimise`) did, when it ran:
        ``windows``, ``subs``, ``seconds``, ``objective``, ``before``.
    """

    x: np.ndarray
    objective: float
    bound: float
    seconds: float
    step: str
    lps: int
    relaxed_duals: np.ndarray | None = None
    plan_duals: np.ndarray | None = None
    decomposition: Outcome | None = None
    relax_seconds: float = 0.0
    fix_optimise: dict | None = None

    @property
    def origin(self) -> str:
        """Where the plan came from.

        ``fix_optimise``, ``decomposition``, ``fallback`` or ``mip_start``.
        """
        if self.step.endswith(">fix_optimise"):
            return "fix_optimise"
        if self.step.endswith(">lagrangian"):
            return "decomposition"
        return "fallback" if self.step.startswith("fallback") else "mip_start"


def construct(
    ho: HandOver,
    integer: np.ndarray,
    rounding: np.ndarray,
    opts: SolveOptions,
    deadline: Deadline | float,
    first_plan: Deadline | None = None,
    hint: np.ndarray | None = None,
    quick: bool = False,
    first_lp: str | None = None,
    hint_first: bool = False,
) -> Start | None:
    """Make a MIP start for the hand-over ``ho`` by ``deadline``.

    Parameters
    ----------
    ho : suandian.highs.HandOver
        The standard-form arrays.
    integer : numpy.ndarray of bool
        Integer columns to decide (fixed ones excluded).
    rounding : numpy.ndarray of int8
        Per column: +1 round up, -1 round down, 0 nearest.
    opts : suandian.highs.SolveOptions
        Options (threads, log).
    deadline : suandian.deadline.Deadline or float
        When to stop improving a plan (seconds from now for a number); every LP gets what is
        left of it.
    first_plan : suandian.deadline.Deadline, optional
        When to stop looking for a first plan (default ``deadline``): the LP relaxation and
        the roundings tried while there is no plan get what is left of it.
    hint : numpy.ndarray, optional
        Column values to try first (NaN where unknown), e.g. the previous window's plan
        shifted (:func:`suandian.run.warm.shifted`): the integer columns it covers are fixed
        (rounded, clipped to the bounds), the LP of the rest solved and the integers it
        leaves free rounded as the relaxation's are (steps ``shifted+...`` and
        ``shifted>dive+...``). The roundings of the unrestricted relaxation are then tried
        too (:data:`ROUND_AFTER_HINT`) unless the hint's plan is within
        ``opts.mip_rel_gap`` of the LP bound; the better plan is kept.
    quick : bool
        The relaxation and the ceiling of its capacity counts only (one to three LPs), no
        dive once a plan is found: for a caller that improves the plan otherwise (the
        decomposition by scenario).
    first_lp : {"simplex", "ipm"}, optional
        HiGHS solver of the LP relaxation (default :data:`FIRST_LP_SOLVER`); the next LPs
        re-solve by the simplex from its basis (the crossover's after the IPM).
    hint_first : bool
        Try ``hint`` **before** the LP relaxation (:mod:`suandian.run.aggregate`: the plan
        of a coarser aggregate, whose fine relaxation may take longer than the first plan
        may): its integers fixed, the LP of the rest; if infeasible, the ``up`` columns
        free above the hint's values and rounded up (step ``aggregate>up``). The
        relaxation and its roundings follow in the time left (the better plan kept); if the
        relaxation does not finish, the plan's bound is ``-inf``.

    Returns
    -------
    Start or None
        None if the relaxation is infeasible or unbounded, or stopped by the deadline, or no
        rounding was feasible in time.
    """
    began = time.perf_counter()
    if not isinstance(deadline, Deadline):
        deadline = Deadline(deadline)
    last = deadline if first_plan is None else first_plan
    n = len(ho.lb)
    h = new_highs(opts, last.limit())
    h.setOptionValue("mip_rel_gap", 0.0)
    h.passModel(highs_lp(ho, np.zeros(n, bool)))
    lps = 0
    best: tuple[np.ndarray, float, str, np.ndarray] | None = None

    def now() -> Deadline:
        """The deadline of the next LP: the first plan's until there is one."""
        return last if best is None else deadline

    def run(lb: np.ndarray, ub: np.ndarray) -> np.ndarray | None:
        nonlocal lps
        if now().expired():
            return None
        idx = np.arange(n, dtype=np.int32)
        h.changeColsBounds(n, idx, lb, ub)
        limit_run(h, now().limit())
        h.run()
        lps += 1
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(h.getSolution().col_value)

    solver = FIRST_LP_SOLVER if first_lp is None else first_lp
    tol = 1e-6
    up = integer & (rounding > 0)
    rest = integer & ~up
    lb0, ub0 = ho.lb, ho.ub
    known = integer & np.isfinite(hint) if hint is not None and len(hint) == n else None
    if hint_first and known is not None and known.any():
        assert hint is not None
        best = _hint_first(run, hint, known, integer, rounding, up, lb0, ub0, h)
    relax_began = time.perf_counter()
    if solver != "simplex":
        h.setOptionValue("solver", solver)
    x = run(ho.lb, ho.ub)
    # the next LPs re-solve from the relaxation's basis (the crossover's after the IPM)
    h.setOptionValue("solver", "simplex")
    if x is None:
        log.info(
            "MIP start: the LP relaxation ended %s",
            h.modelStatusToString(h.getModelStatus()) if lps else "before it began (no time)",
        )
        if best is None:
            return None
        x, objective, step, plan_duals = best
        x[integer] = np.round(x[integer])
        return Start(
            x, objective, -np.inf, time.perf_counter() - began, step, lps, None, plan_duals
        )
    relax_seconds = time.perf_counter() - relax_began
    bound = float(h.getInfo().objective_function_value)
    duals = np.asarray(h.getSolution().row_dual, dtype=float)
    log.info("MIP start: LP relaxation %.6g after %.2f s", bound, time.perf_counter() - began)

    relaxed = x
    tried_hint = hint_first and best is not None

    def finish(
        first: str,
        fix_up: np.ndarray,
        ref: np.ndarray,
        lo: np.ndarray = lb0,
        hi: np.ndarray = ub0,
    ) -> None:
        """Fix the up columns, round the rest (nearest, ceil, floor), keep the best plan.

        ``lo`` and ``hi``: the column bounds to start from (a hint's fixings in them).
        """
        nonlocal best
        nearest = np.where(rounding[rest] < 0, np.floor(ref[rest] + tol), np.round(ref[rest]))
        ways = [
            ("nearest", nearest),
            ("ceil", np.ceil(ref[rest] - tol)),
            ("floor", np.floor(ref[rest] + tol)),
        ]
        for name, values in ways:
            lb, ub = lo.copy(), hi.copy()
            lb[up] = ub[up] = fix_up
            lb[rest] = ub[rest] = np.clip(values, lo[rest], hi[rest])
            x = run(lb, ub)
            step = f"{first}+{name}"
            if x is not None:
                objective = float(h.getInfo().objective_function_value)
                log.info("MIP start: rounding %s gives %.6g", step, objective)
                if best is None or objective < best[1]:
                    best = (x, objective, step, np.asarray(h.getSolution().row_dual, float))
                return
            if now().expired():
                log.info("MIP start: rounding %s stopped by the deadline", step)
                return
            log.info("MIP start: rounding %s infeasible", step)

    if not hint_first and known is not None and known.any():
        # the hint's integers fixed (rounded, within the bounds); the LP of the rest, then
        # the roundings of the integers the hint leaves free
        tried_hint = True
        lo, hi = lb0.copy(), ub0.copy()
        assert hint is not None
        lo[known] = hi[known] = np.clip(np.round(hint[known]), lb0[known], ub0[known])
        held = run(lo, hi)
        if held is None:
            log.info("MIP start: the hint's integers leave the LP infeasible")
        elif not (up & ~known).any():
            finish("shifted", lo[up], held, lo, hi)
        else:

            def within(first: str, fix_up: np.ndarray, ref: np.ndarray) -> None:
                finish(f"shifted>{first}", fix_up, ref, lo, hi)

            args = (held, up, lo, hi, deadline, relax_seconds, began)
            _round_relaxation(run, within, lambda: best is not None, *args, quick=quick)
    close = best is not None and (best[1] - bound) <= opts.mip_rel_gap * max(abs(best[1]), 1e-9)
    again = ROUND_AFTER_AGGREGATE if hint_first else ROUND_AFTER_HINT
    if not (tried_hint and best is not None and (close or not again)):
        shrunk = _round_relaxation(
            run,
            finish,
            lambda: best is not None,
            relaxed,
            up,
            lb0,
            ub0,
            deadline,
            relax_seconds,
            began,
            quick=quick,
        )
        if best is None and shrunk is not None:
            fix, x = shrunk
            finish("up+1", np.minimum(fix + 1, ub0[up]), relaxed if x is None else x)
    if best is None:
        return None
    x, objective, step, plan_duals = best
    seconds = time.perf_counter() - began
    log.info(
        "MIP start: plan %.6g (%s, %d LPs, %.2f s), %.3f%% above the LP bound",
        objective,
        step,
        lps,
        seconds,
        100 * (objective - bound) / max(abs(objective), 1e-9),
    )
    x[integer] = np.round(x[integer])
    start = Start(x, objective, bound, seconds, step, lps, duals, plan_duals)
    start.relax_seconds = relax_seconds
    return start


def _hint_first(
    run: LP,
    hint: np.ndarray,
    known: np.ndarray,
    integer: np.ndarray,
    rounding: np.ndarray,
    up: np.ndarray,
    lb0: np.ndarray,
    ub0: np.ndarray,
    h: highspy.Highs,
) -> tuple[np.ndarray, float, str, np.ndarray] | None:
    """A plan from ``hint`` before any LP relaxation (:func:`construct`, ``hint_first``).

    The hint's integers (``known``) fixed at their rounded values (clipped to the bounds),
    the other integer columns relaxed: one LP (dual simplex: its presolve finds an
    infeasible one at once). If it is infeasible, the
    ``up`` columns may rise above the hint's values (a capacity: more blocks never break a
    data center's rows) and the LP is solved again. Then the integers still fractional are
    rounded (``up`` columns up, the others by their hint, ``nearest`` else) and fixed, and
    the LP of the continuous columns gives the plan. Returns ``(x, objective, step,
    duals)`` or None.
    """
    tol = 1e-6
    lo, hi = lb0.copy(), ub0.copy()
    lo[known] = hi[known] = np.clip(np.round(hint[known]), lb0[known], ub0[known])
    steps = [("aggregate", hi)]
    raised = hi.copy()
    raised[up & known] = ub0[up & known]
    if (up & known).any():
        steps.append(("aggregate>up", raised))
    found: tuple[np.ndarray, str, np.ndarray] | None = None
    for name, upper in steps:
        y = run(lo, upper)
        if y is not None:
            found = (y, name, upper)
            break
        log.info("MIP start: the %s LP is infeasible or stopped", name)
    if found is None:
        return None
    y, step, upper = found
    open_ = integer & (np.abs(y - np.round(y)) > tol)
    if open_.any() or step != "aggregate":
        values = np.where(
            rounding > 0,
            np.ceil(y - tol),
            np.where(rounding < 0, np.floor(y + tol), np.round(y)),
        )
        lo2, hi2 = lo.copy(), upper.copy()
        lo2[integer] = hi2[integer] = np.clip(values[integer], lb0[integer], ub0[integer])
        y = run(lo2, hi2)
        if y is None:
            log.info("MIP start: the rounding of the %s LP is infeasible", step)
            return None
    objective = float(h.getInfo().objective_function_value)
    log.info("MIP start: %s plan %.6g before the LP relaxation", step, objective)
    return y, objective, step, np.asarray(h.getSolution().row_dual, float)


def _round_relaxation(
    run: LP,
    finish: Callable[[str, np.ndarray, np.ndarray], None],
    found: Callable[[], bool],
    relaxed: np.ndarray,
    up: np.ndarray,
    lb0: np.ndarray,
    ub0: np.ndarray,
    deadline: Deadline,
    relax_seconds: float,
    began: float,
    quick: bool = False,
) -> tuple[np.ndarray, np.ndarray | None] | None:
    """The roundings of the LP relaxation ``relaxed`` (steps 2 and 3), each kept by ``finish``.

    ``began``: when the construction began (both paths are tried on models whose
    construction has taken less than :data:`BOTH_PATHS_SECONDS` so far). ``quick``: the
    ceiling first, no dive once it gave a plan, no second path (:func:`construct`). Returns
    what round-up-and-shrink gave (:func:`_shrink`), None if it was not run.
    """
    tol = 1e-6
    # short of time (less than QUICK_LPS relaxations' time left): the ceiling of the
    # relaxation first, a plan in one to three LPs, then the dive if time is left
    if quick or deadline.left() < QUICK_LPS * relax_seconds:
        finish("ceil", np.minimum(np.ceil(relaxed[up] - tol), ub0[up]), relaxed)
    # dive: fix the 'up' columns nearest to an integer first, re-solve, repeat
    dive = None
    if DIVE_ROUNDS and not (quick and found()):
        dive = _dive(run, relaxed, up, lb0, ub0, DIVE_ROUNDS)
    if dive is not None:
        finish("dive", *dive)
    # round up, then shrink: also tried on small models, and whenever the dive failed
    both = time.perf_counter() - began < BOTH_PATHS_SECONDS and not deadline.expired()
    if not found() or (both and not quick):
        fix, x = _shrink(run, relaxed, up, lb0, ub0)
        finish("up", fix, relaxed if x is None else x)
        return fix, x
    return None


def fallback(
    ho: HandOver, integer: np.ndarray, rounding: np.ndarray, opts: SolveOptions, deadline: Deadline
) -> Start | None:
    """A plan made the plainest way, for when no rounding of the start was feasible in time.

    Every ``up`` column (a capacity: blocks on, a genset running) at its upper bound, the
    other integer columns relaxed in an LP, then fixed at their rounded values (``nearest``
    or ``down``, then ``ceil``, then ``floor``) and the LP of the continuous columns solved
    again. With every block of every site on, a data center's rows hold whatever its
    workload (more capacity never breaks them), so where the model admits a plan with all
    blocks on (an import limit or a PUE cap may not), this finds one by construction. Its
    bound is the LP relaxation's if time is left to solve it, else ``-inf``.

    Returns
    -------
    Start or None
        The plan (``step`` ``fallback+nearest`` ...), or None if none was feasible by
        ``deadline``.
    """
    began = time.perf_counter()
    n = len(ho.lb)
    h = new_highs(opts, deadline.limit())
    h.passModel(highs_lp(ho, np.zeros(n, bool)))
    up = integer & (rounding > 0)
    rest = integer & ~up
    lps = 0

    def run(lb: np.ndarray, ub: np.ndarray) -> np.ndarray | None:
        nonlocal lps
        if deadline.expired():
            return None
        h.changeColsBounds(n, np.arange(n, dtype=np.int32), lb, ub)
        limit_run(h, deadline.limit())
        h.run()
        lps += 1
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.asarray(h.getSolution().col_value)

    lb, ub = ho.lb.copy(), ho.ub.copy()
    lb[up] = ub[up]
    x = run(lb, ub)
    if x is None:
        log.info(
            "MIP start: fallback (every 'up' column at its upper bound) %s",
            h.modelStatusToString(h.getModelStatus()) if lps else "not tried (no time left)",
        )
        return None
    tol = 1e-6
    plan: np.ndarray | None = x
    step = "fallback"
    if rest.any():
        nearest = np.where(rounding[rest] < 0, np.floor(x[rest] + tol), np.round(x[rest]))
        for name, values in (
            ("nearest", nearest),
            ("ceil", np.ceil(x[rest] - tol)),
            ("floor", np.floor(x[rest] + tol)),
        ):
            lb[rest] = ub[rest] = np.clip(values, ho.lb[rest], ho.ub[rest])
            plan = run(lb, ub)
            if plan is not None:
                step = f"fallback+{name}"
                break
    if plan is None:
        log.info("MIP start: fallback found no rounding of the other integers in time")
        return None
    objective = float(h.getInfo().objective_function_value)
    plan = plan.copy()
    plan[integer] = np.round(plan[integer])
    # a bound: the LP relaxation, if there is time for it
    bound = -np.inf
    relaxed = run(ho.lb, ho.ub)
    if relaxed is not None:
        bound = float(h.getInfo().objective_function_value)
    seconds = time.perf_counter() - began
    log.warning(
        "MIP start: no rounding was feasible in time; fallback plan %.6g (%s, %.2f s): "
        "every 'up' column at its upper bound",
        objective,
        step,
        seconds,
    )
    return Start(plan, objective, bound, seconds, step, lps)


#: HiGHS solver of the LP relaxation (the first LP) when the caller does not choose:
#: ``simplex`` or ``ipm`` (the interior point method, then crossover to a basis from which
#: the next LPs re-solve by the simplex). The solve strategy chooses ``ipm`` for models that
#: do not split into blocks and have many columns
#: (:data:`suandian.run.strategy.IPM_MIN_COLUMNS`; docs/math/solver.md, "Portfolios tied
#: across sites").
FIRST_LP_SOLVER = "simplex"
#: With less than this many LP relaxations' time left, the ceiling of the relaxation is
#: tried before the dive (its 10 or more LPs).
QUICK_LPS = 4.0
#: Whether the roundings of the LP relaxation are still tried when a hint gave a plan that
#: is not within the gap (they may find a better one; they cost 10 to 15 LPs).
ROUND_AFTER_HINT = True
#: The same after a plan from ``hint_first`` (the aggregate's): off, the branch and bound
#: gets the time instead (measured, docs/math/solver.md, "A first plan from the 1-h
#: aggregate").
ROUND_AFTER_AGGREGATE = False
#: Rounds of the dive over the ``up`` columns (0: round all up at once, then shrink).
DIVE_ROUNDS = 10
#: Round up-and-shrink is tried after a successful dive only if this many seconds have
#: not passed yet (small models, where both cost little).
BOTH_PATHS_SECONDS = 2.0


def _shrink(
    run: LP, x: np.ndarray, up: np.ndarray, lb0: np.ndarray, ub0: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """Fix the ``up`` columns at the ceiling of ``x``, let them fall below it, round up; repeat.

    Returns the values of the ``up`` columns and the last plan (None if the ceiling was
    infeasible).
    """
    tol = 1e-6
    lb, ub = lb0.copy(), ub0.copy()
    fix = np.minimum(np.ceil(x[up] - tol), ub0[up])
    plan: np.ndarray | None = x
    for _ in range(6):
        lb[up] = ub[up] = fix
        plan = run(lb, ub)
        if plan is None:  # the ceiling made a coupling row infeasible: stop shrinking
            break
        lb[up], ub[up] = lb0[up], fix
        y = run(lb, ub)
        if y is None:
            break
        lower = np.maximum(np.ceil(y[up] - tol), lb0[up])
        if np.array_equal(lower, fix):
            break
        fix = lower
    return fix, plan


def _dive(
    run: LP, x: np.ndarray, up: np.ndarray, lb0: np.ndarray, ub0: np.ndarray, rounds: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Fix the ``up`` columns in ``rounds`` batches, nearest-integer first, re-solving between.

    Each round fixes every free column whose LP value is integral and the ``1/rounds`` share
    of the columns nearest to an integer, at their rounded values; if that LP is infeasible,
    the batch is fixed at the ceiling instead. Returns ``(values of the up columns, x)`` or
    None if the dive ends infeasible.
    """
    tol = 1e-6
    lb, ub = lb0.copy(), ub0.copy()
    free = up.copy()
    per_round = max(1, int(np.ceil(up.sum() / rounds)))
    while free.any():
        cand = np.flatnonzero(free)
        dist = np.abs(x[cand] - np.round(x[cand]))
        integral = cand[dist < tol]
        other = cand[dist >= tol]
        pick = other[np.argsort(dist[dist >= tol], kind="stable")[:per_round]]
        sel = np.concatenate((integral, pick))
        lb[sel] = ub[sel] = np.clip(np.round(x[sel]), lb0[sel], ub0[sel])
        y = run(lb, ub)
        if y is None:
            lb[pick] = ub[pick] = np.clip(np.ceil(x[pick] - tol), lb0[pick], ub0[pick])
            y = run(lb, ub)
            if y is None:
                return None
        free[sel] = False
        x = y
    return lb[up].copy(), x
