"""The only module that talks to HiGHS: hand-over, run, solution and duals.

Route: the model's standard-form arrays (:meth:`suandian.linear.LinearModel.arrays`), plus
any Pyomo constraints a user added (compiled with Pyomo's ``LinearStandardFormCompiler`` and
mapped to the same columns), go to HiGHS in one ``passModel``. Integer columns whose bounds
are equal are passed as continuous, so a model whose integers are all fixed is an LP.

Shadow prices come from one well-posed LP: after a MIP, a fresh HiGHS instance receives the
same arrays with every integer column fixed at its value and passed as continuous, and
solves it from scratch (with presolve). The row duals are kept as a vector; extraction
reads them by the row indices recorded at build.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np

log = logging.getLogger("suandian")


@dataclass
class SolveOptions:
    """Options of :func:`suandian.solve`.

    Attributes
    ----------
    mip_rel_gap : float
        Relative MIP gap at which HiGHS stops (0.001 = 0.1 %).
    time_limit : float
        Seconds for the whole solve: the MIP, the shadow-price LP and, for an infeasible
        scenario, the diagnosis re-solves share it. At the limit the best plan found is
        returned with its gap.
    threads : int, optional
        HiGHS threads (default: HiGHS's choice). Use 1 inside parallel sweeps.
    duals : bool
        Solve the LP with integers fixed to report shadow prices.
    diagnose : bool
        On infeasibility, re-solve with priced slacks and report what binds.
    log : bool
        Print the HiGHS log (banner and iterations) to the console.
    progress : bool
        Report incumbent, bound, gap and elapsed time through the ``suandian`` logger
        (INFO) while a MIP runs longer than a second.
    relax_integers : bool
        Solve the LP relaxation (every integer column continuous): a bound on the MIP and,
        for annual studies, a fast approximate plan. The status says ``optimal`` for the LP;
        ``Result.ds.attrs["relaxed"]`` records it and the certifier then skips integrality.
    mip_start : bool
        Before a MIP, build a plan by rounding the LP relaxation and repairing it with an LP
        (:mod:`suandian.run.mip_start`) and hand it to HiGHS as its first incumbent. The
        start gets at least ``mip_start_seconds`` even when ``time_limit`` is shorter, so a
        feasible scenario returns a plan; if the MIP ends without a better one, the start is
        the plan returned, with its gap against the best bound.
    mip_start_seconds : float
        Least time the MIP start may take (seconds, > 0).
    decompose : bool
        When the MIP start is not within ``mip_rel_gap`` and the model falls apart into
        independent blocks once a few linking rows (a portfolio's green share, certificate
        cap) are priced, search the Lagrangian dual over those blocks
        (:mod:`suandian.run.decompose`) for a better plan and a better bound before the
        branch and bound.
    highs_options : dict
        Any other HiGHS option, passed through by name.
    """

    mip_rel_gap: float = 1e-3
    time_limit: float = 60.0
    threads: int | None = None
    duals: bool = True
    diagnose: bool = True
    log: bool = False
    progress: bool = True
    relax_integers: bool = False
    mip_start: bool = True
    mip_start_seconds: float = 10.0
    decompose: bool = True
    highs_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if not (np.isfinite(self.mip_rel_gap) and self.mip_rel_gap >= 0):
            problems.append(f"mip_rel_gap={self.mip_rel_gap!r}: use a number >= 0, e.g. 0.001")
        if not (self.time_limit > 0):  # NaN fails too
            problems.append(f"time_limit={self.time_limit!r}: use seconds > 0 (inf for none)")
        if not isinstance(self.mip_start, bool):
            problems.append(f"mip_start={self.mip_start!r}: use True or False")
        if not (np.isfinite(self.mip_start_seconds) and self.mip_start_seconds > 0):
            problems.append(f"mip_start_seconds={self.mip_start_seconds!r}: use seconds > 0")
        if self.threads is not None and int(self.threads) < 0:
            problems.append(f"threads={self.threads!r}: use a count >= 0 (0: HiGHS's choice)")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass
class SolveInfo:
    """What the solver reported.

    Attributes
    ----------
    status : str
        ``optimal`` (within the MIP gap), ``time_limit`` (the best plan found by the time
        limit, with its gap), ``limit_reached`` (another HiGHS limit stopped the search with a
        plan), ``infeasible``, ``unbounded``, ``no_solution`` (a limit hit before any plan)
        or ``error``.
    highs_status : str
        HiGHS's own model status text.
    objective : float
        Objective of the plan returned (CNY), NaN without a plan.
    bound : float
        Best lower bound (CNY).
    mip_gap : float
        Relative gap of the plan returned (0 for an LP).
    has_solution : bool
        Whether a plan (feasible point) is available.
    timings : dict
        Seconds for ``build``, ``handover`` (arrays + user rows + passModel), ``solve``
        (HiGHS run), ``duals`` (the fixed-integer LP), ``extract``, for a MIP ``mip_start``
        and ``decompose`` when they ran, and, for an infeasible scenario, ``diagnosis``.
    size : dict
        Columns, rows, nonzeros and integer columns handed to HiGHS.
    start : dict
        The constructive MIP start, empty without one: ``objective`` and ``bound`` (the LP
        relaxation, CNY), ``seconds``, ``step`` (the rounding that worked), ``lps`` and
        ``returned`` (whether the plan returned is the start itself).
    decomposition : dict
        The Lagrangian decomposition (:mod:`suandian.run.decompose`), empty when it did not
        run: ``blocks``, ``linking_rows``, ``evaluations``, ``seconds``, ``objective`` (its
        best plan, CNY; ``inf`` if none), ``bound`` (its best Lagrangian bound, CNY) and
        ``returned`` (whether the plan returned is its plan).
    trace : list of dict
        For a MIP, the search over time: ``seconds`` since the hand-over, ``objective`` (NaN
        before a plan), ``bound`` and ``gap``, recorded at the start, every new plan, at
        most every 0.25 s while HiGHS runs, and at the end.
    """

    status: str
    highs_status: str
    objective: float
    bound: float
    mip_gap: float
    has_solution: bool
    timings: dict[str, float]
    size: dict[str, int]
    start: dict[str, Any] = field(default_factory=dict)
    decomposition: dict[str, Any] = field(default_factory=dict)
    trace: list[dict[str, float]] = field(default_factory=list)


@dataclass
class HandOver:
    """The arrays passed to HiGHS and what maps them back to the model."""

    c: np.ndarray
    offset: float
    lb: np.ndarray
    ub: np.ndarray
    integer: np.ndarray
    A: Any
    row_lo: np.ndarray
    row_hi: np.ndarray
    user_rows: list = field(default_factory=list)  # (pyomo constraint, global row)
    user_cols: list = field(default_factory=list)  # (pyomo vardata, global column)


def hand_over(model) -> HandOver:
    """Assemble the model's arrays and the user's Pyomo constraints into one standard form."""
    c, offset, lb, ub, integer, A, lo, hi = model.lm.arrays()
    ho = HandOver(c, offset, lb, ub, integer, A, lo, hi)
    if not hasattr(model, "component_data_objects"):  # no Pyomo layer (ArrayModel)
        return ho
    import pyomo.environ as pyo

    from .pyomo_bridge import family_vardata

    # bounds and fixes a user set on family variables through Pyomo
    for vardata, col in family_vardata(model):
        if vardata.fixed:
            lb[col] = ub[col] = float(vardata.value)
            continue
        if vardata.lb is not None:
            lb[col] = max(lb[col], float(vardata.lb))
        if vardata.ub is not None:
            ub[col] = min(ub[col], float(vardata.ub))
    if next(model.component_data_objects(pyo.Objective, active=True), None) is not None:
        raise ValueError(
            "the model has a Pyomo Objective; suandian's objective is the sum of its cost "
            "terms — deactivate it and express the cost as a constraint-linked variable"
        )
    if next(model.component_data_objects(pyo.Constraint, active=True), None) is None:
        return ho
    _add_user_rows(model, ho)
    return ho


def _add_user_rows(model, ho: HandOver) -> None:
    import scipy.sparse as sp
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from .pyomo_bridge import column_of

    repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    n = len(ho.lb)
    mapping = np.empty(len(repn.columns), dtype=np.int64)
    extra_lb, extra_ub, extra_int = [], [], []
    for j, vardata in enumerate(repn.columns):
        col = column_of(model, vardata)
        if col is None:  # a variable of the user's own: a new column
            col = n + len(extra_lb)
            lo, up = vardata.bounds
            extra_lb.append(-np.inf if lo is None else lo)
            extra_ub.append(np.inf if up is None else up)
            extra_int.append(vardata.is_integer())
            ho.user_cols.append((vardata, col))
        mapping[j] = col
    n_new = n + len(extra_lb)
    if extra_lb:
        ho.lb = np.concatenate((ho.lb, extra_lb))
        ho.ub = np.concatenate((ho.ub, extra_ub))
        ho.integer = np.concatenate((ho.integer, np.array(extra_int, bool)))
        ho.c = np.concatenate((ho.c, np.zeros(len(extra_lb))))
    U = repn.A.tocoo()
    user = sp.csc_array((U.data, (U.row, mapping[U.col])), shape=(U.shape[0], n_new))
    # the family rows as scipy CSC, widened by the user's new (empty) columns
    pad = np.full(n_new - n, ho.A.indptr[-1])
    base = sp.csc_array(
        (ho.A.data, ho.A.indices, np.concatenate((ho.A.indptr, pad))),
        shape=(ho.A.shape[0], n_new),
    )
    first = base.shape[0]
    ho.A = sp.vstack([base, user], format="csc")
    kinds = np.array([r[1] for r in repn.rows], dtype=np.int8)
    rhs = np.asarray(repn.rhs, dtype=float)
    ho.row_lo = np.concatenate((ho.row_lo, np.where(kinds == 1, -np.inf, rhs)))
    ho.row_hi = np.concatenate((ho.row_hi, np.where(kinds == -1, np.inf, rhs)))
    ho.user_rows = [(r.constraint, first + i) for i, r in enumerate(repn.rows)]


def _highs_lp(ho: HandOver, integer: np.ndarray, lb=None, ub=None) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    n = len(ho.lb)
    lp.num_col_ = n
    lp.num_row_ = ho.A.shape[0]
    lp.col_cost_ = ho.c
    lp.offset_ = float(ho.offset)
    lp.col_lower_ = ho.lb if lb is None else lb
    lp.col_upper_ = ho.ub if ub is None else ub
    lp.row_lower_ = ho.row_lo
    lp.row_upper_ = ho.row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = ho.A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = ho.A.indices.astype(np.int32)
    lp.a_matrix_.value_ = ho.A.data.astype(float)
    if integer.any():
        kinds = np.where(integer, highspy.HighsVarType.kInteger, highspy.HighsVarType.kContinuous)
        lp.integrality_ = list(kinds)
    return lp


#: Guards the redirection of file descriptor 1 in :func:`_quiet_highs`: two threads doing it
#: at once can leave stdout pointing at /dev/null for the rest of the process (seen with the
#: decomposition's worker threads: a benchmark worker lost its whole output).
_stdout_lock = threading.Lock()


def _quiet_highs() -> highspy.Highs:
    """A Highs instance, its once-per-process banner kept off stdout (thread-safe)."""
    with _stdout_lock:
        return _quiet_highs_locked()


def _quiet_highs_locked() -> highspy.Highs:
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no real stdout (some notebooks)
        return highspy.Highs()
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(null)
        os.close(saved)


#: HiGHS's thread scheduler is global to a process and keeps the thread count of its first
#: use; a later solve asking for another count fails ("Not Set") unless it is reset.
_scheduler = {"threads": None}


def _new_highs(opts: SolveOptions, time_limit: float) -> highspy.Highs:
    threads = 0 if opts.threads is None else int(opts.threads)
    if _scheduler["threads"] not in (None, threads):
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler["threads"] = threads
    h = highspy.Highs() if opts.log else _quiet_highs()
    h.setOptionValue("output_flag", bool(opts.log))
    h.setOptionValue("mip_rel_gap", float(opts.mip_rel_gap))
    h.setOptionValue("time_limit", float(max(time_limit, 1e-3)))
    if opts.threads is not None:
        h.setOptionValue("threads", int(opts.threads))
    for name, value in opts.highs_options.items():
        if h.setOptionValue(name, value) != highspy.HighsStatus.kOk:
            raise ValueError(f"HiGHS option {name}={value!r} was refused; check its name and type")
    return h


def _consistent(ho: HandOver, x: np.ndarray, objective: float) -> bool:
    """Whether the column values ``x`` are worth the objective HiGHS reported."""
    value = float(ho.c @ x + ho.offset)
    return bool(abs(value - objective) <= 1e-6 * max(1.0, abs(objective)))


def _progress(h: highspy.Highs, opts: SolveOptions, trace: list, t0: float, floor: float) -> None:
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


def solve_model(model, opts: SolveOptions, timings: dict[str, float], budget: float | None = None):
    """Hand a model to HiGHS, run it, keep the solution and the duals on the model.

    ``budget`` (seconds) caps the run below ``opts.time_limit`` (the caller's total).
    Returns a :class:`SolveInfo`; on success the model's :class:`~suandian.linear.LinearModel`
    holds the column values (``lm.x``) and row duals (``lm.y``, None when unavailable), read
    by every block built into it.
    """
    limit = opts.time_limit if budget is None else min(opts.time_limit, budget)
    start = t0 = time.perf_counter()
    trace: list[dict[str, float]] = []
    ho = hand_over(model)
    if not opts.relax_integers and hasattr(model.lm, "mip_lower"):
        # bounds valid for integer solutions only (e.g. blocks the demand needs)
        lower = model.lm.mip_lower()
        n = len(lower)
        ho.lb = ho.lb.copy()
        ho.lb[:n] = np.minimum(np.maximum(ho.lb[:n], lower), ho.ub[:n])
    fixed = ho.integer & (ho.lb == ho.ub)
    integer = ho.integer & ~fixed & (not opts.relax_integers)
    timings["handover"] = time.perf_counter() - start
    plan = None
    if integer.any() and opts.mip_start:
        from .run.mip_start import construct

        start = time.perf_counter()
        rounding = np.zeros(len(ho.lb), np.int8)
        hint = model.lm.rounding()
        rounding[: len(hint)] = hint
        plan = construct(ho, integer, rounding, opts, max(limit, opts.mip_start_seconds))
        timings["mip_start"] = time.perf_counter() - start
        limit = max(limit - timings["mip_start"], 1e-3)
        if plan is not None:
            first = {"objective": plan.objective, "bound": plan.bound, "step": plan.step}
            trace.append(_point(time.perf_counter() - t0, plan.objective, plan.bound))
        open_gap = plan is not None and _gap(plan.objective, plan.bound) > opts.mip_rel_gap
        if open_gap and opts.decompose:
            start = time.perf_counter()
            parted = _decompose(ho, integer, rounding, plan, opts, limit)
            if parted is not None:
                timings["decompose"] = time.perf_counter() - start
                limit = max(limit - timings["decompose"], 1e-3)
                for point in parted.trace:
                    trace.append(
                        _point(
                            start - t0 + point["seconds"],
                            point["best_objective"],
                            max(first["bound"], point["best_bound"]),
                        )
                    )
    start = time.perf_counter()
    h = _new_highs(opts, limit)
    if integer.any():
        floor = plan.bound if plan is not None else -np.inf
        _progress(h, opts, trace, t0, floor)
    h.passModel(_highs_lp(ho, integer))
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
        limit,
    )
    start = time.perf_counter()
    if plan is not None and _gap(plan.objective, plan.bound) <= opts.mip_rel_gap:
        log.info("MIP start within the gap of the LP bound: no branch and bound")
        status, hinfo, has_solution = highspy.HighsModelStatus.kOptimal, None, False
    else:
        h.run()
        status = h.getModelStatus()
        hinfo = h.getInfo()
        has_solution = hinfo.primal_solution_status == 2 and len(ho.lb) > 0
    timings["solve"] = time.perf_counter() - start
    size = {
        "columns": len(ho.lb),
        "rows": int(ho.A.shape[0]),
        "nonzeros": int(ho.A.nnz),
        "integer_columns": int(integer.sum()),
    }
    objective = float(hinfo.objective_function_value) if has_solution else float("nan")
    if integer.any() and hinfo is not None:
        bound = float(hinfo.mip_dual_bound)
        gap = float(hinfo.mip_gap) if has_solution else float("nan")
    else:
        bound, gap = objective, 0.0
    x = np.asarray(h.getSolution().col_value) if has_solution else None
    if x is not None and plan is not None and not _consistent(ho, x, objective):
        # HiGHS 1.16, given a start with setSolution, can report an improved objective with
        # the start's column values; solve again without the start (tests/test_mip_start.py)
        log.warning(
            "HiGHS reported objective %.6g with column values worth %.6g; re-solving the MIP "
            "without the start",
            objective,
            float(ho.c @ x + ho.offset),
        )
        left = max(limit - (time.perf_counter() - start), 1e-3)
        h = _new_highs(opts, left)
        h.passModel(_highs_lp(ho, integer))
        h.run()
        status = h.getModelStatus()
        hinfo = h.getInfo()
        has_solution = hinfo.primal_solution_status == 2
        objective = float(hinfo.objective_function_value) if has_solution else float("nan")
        bound = float(hinfo.mip_dual_bound)
        gap = float(hinfo.mip_gap) if has_solution else float("nan")
        x = np.asarray(h.getSolution().col_value) if has_solution else None
        if x is not None and not _consistent(ho, x, objective):
            has_solution, x, objective = False, None, float("nan")
        timings["solve"] = time.perf_counter() - start
    returned = False
    if plan is not None and (
        not has_solution or objective > plan.objective + 1e-9 * abs(objective)
    ):
        # HiGHS found nothing better than the start (or stopped before reading it)
        x, objective, returned = plan.x, plan.objective, True
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
        gap = _gap(objective, bound)
        if status == highspy.HighsModelStatus.kTimeLimit and gap <= opts.mip_rel_gap:
            status = highspy.HighsModelStatus.kOptimal
    kind = _status_kind(status, has_solution)
    info = SolveInfo(
        kind, h.modelStatusToString(status), objective, bound, gap, has_solution, timings, size
    )
    info.trace = trace
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
        out = plan.decomposition
        improved = out is not None and plan.step.endswith(">lagrangian")
        info.start = {
            **first,
            "seconds": plan.seconds,
            "lps": plan.lps,
            "returned": returned and not improved,
        }
        if out is not None:
            info.decomposition = {
                "blocks": out.blocks,
                "linking_rows": out.linking_rows,
                "evaluations": out.evaluations,
                "seconds": out.seconds,
                "objective": out.objective,
                "bound": out.bound,
                "returned": returned and improved,
            }
    log.debug("HiGHS: %s, objective %.6g, %s", info.highs_status, objective, size)
    if not has_solution:
        return info
    lm = model.lm
    lm.x, lm.y = x, None
    lm.relaxed = bool(opts.relax_integers and (ho.integer & ~fixed).any())
    if opts.duals:
        start = time.perf_counter()
        left = limit - timings["solve"]
        lm.y = _duals(h, ho, x, integer, opts, left)
        timings["duals"] = time.perf_counter() - start
    _load_back(model, ho, x, lm.y)
    return info


#: Share of the time left after the MIP start that the decomposition may use.
DECOMPOSE_SHARE = 0.8


#: The repair of the decomposition re-decides the integer columns that are not capacity
#: counts (rounding hint other than ``up``, e.g. corridor blocks) when there are at most this
#: many; with more, they are fixed like the others.
REPAIR_FREE_MAX = 64


def _decompose(
    ho: HandOver,
    integer: np.ndarray,
    rounding: np.ndarray,
    plan,
    opts: SolveOptions,
    limit: float,
):
    """Improve the MIP start ``plan`` (in place) by the Lagrangian decomposition, if any.

    Returns the :class:`~suandian.run.decompose.Outcome`, or None if the model does not
    split into blocks.
    """
    from .run import decompose

    parts = decompose.split(ho, integer)
    duals = [d for d in (plan.plan_duals, plan.relaxed_duals) if d is not None]
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
    out = decompose.improve(
        ho,
        integer,
        parts,
        duals,
        opts,
        DECOMPOSE_SHARE * limit,
        opts.mip_rel_gap,
        plan.objective,
        plan.bound,
        free_in_repair=free,
        start_x=plan.x,
    )
    plan.decomposition = out
    if out.x is not None and out.objective < plan.objective:
        plan.x, plan.objective = out.x, out.objective
        plan.step = f"{plan.step}>lagrangian"
    if np.isfinite(out.bound) and out.bound > plan.bound:
        plan.bound = min(out.bound, plan.objective)
    return out


def _point(seconds: float, objective: float, bound: float) -> dict[str, float]:
    """A point of ``SolveInfo.trace``."""
    gap = _gap(objective, bound)
    return {"seconds": seconds, "objective": objective, "bound": bound, "gap": gap}


def _gap(objective: float, bound: float) -> float:
    """Relative gap as HiGHS defines it: (objective - bound) / |objective|."""
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    return max(objective - bound, 0.0) / max(abs(objective), 1e-9)


def _duals(h, ho: HandOver, x, integer, opts: SolveOptions, left: float) -> np.ndarray | None:
    """Row duals: from the LP itself, or from the LP with the integers fixed (fresh HiGHS)."""
    if integer.any():
        lb, ub = ho.lb.copy(), ho.ub.copy()
        lb[integer] = ub[integer] = np.round(x[integer])
        h = _new_highs(opts, max(left, 1.0))
        h.passModel(_highs_lp(ho, np.zeros(len(lb), bool), lb, ub))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            log.warning(
                "shadow prices unavailable: the fixed-integer LP ended %s",
                h.modelStatusToString(h.getModelStatus()),
            )
            return None
    solution = h.getSolution()
    if not solution.dual_valid:
        return None
    return np.asarray(solution.row_dual)


def _load_back(model, ho: HandOver, x, y) -> None:
    """Values into every Pyomo variable that exists; user-row duals into ``model.dual``."""
    if not hasattr(model, "component_data_objects"):
        return
    import pyomo.environ as pyo

    from .pyomo_bridge import family_vardata

    for vardata, col in family_vardata(model):
        vardata.set_value(float(x[col]), skip_validation=True)
    for vardata, col in ho.user_cols:
        vardata.set_value(float(x[col]), skip_validation=True)
    if y is None or not ho.user_rows:
        return
    if not hasattr(model, "dual"):
        model.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    dual = model.dual
    dual.clear()
    for con, row in ho.user_rows:
        dual[con] = dual.get(con, 0.0) + float(y[row])


def _status_kind(status, has_solution: bool) -> str:
    s = highspy.HighsModelStatus
    if status == s.kOptimal:
        return "optimal"
    if status in (s.kInfeasible, s.kUnboundedOrInfeasible):
        return "infeasible"
    if status == s.kUnbounded:
        return "unbounded"
    if has_solution and status == s.kTimeLimit:
        return "time_limit"
    if has_solution and status in (s.kIterationLimit, s.kInterrupt, s.kSolutionLimit):
        return "limit_reached"
    return "no_solution" if status in (s.kTimeLimit, s.kInterrupt) else "error"
