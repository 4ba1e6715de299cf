"""The only module that talks to HiGHS: hand-over, run, solution and duals.

Its public API: :class:`SolveOptions` and :class:`SolveInfo`; :func:`hand_over` (the model's
arrays and the user's Pyomo rows as one :class:`HandOver`); :func:`highs_lp` and
:func:`new_highs` (a HiGHS LP of those arrays, a configured ``Highs`` instance);
:func:`run` (one run); :func:`relative_gap`; :func:`row_duals` (from the LP, or from the LP
with the integers fixed); :func:`load_back`; :func:`status_kind`. Which runs to make, in
what order (MIP start, decomposition, branch and bound, the checks between them), is
decided in :mod:`suandian.run.strategy`, above this module; nothing here imports
:mod:`suandian.run`.

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
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import highspy
import numpy as np

from .deadline import Deadline
from .model import ArrayModel, linear_model

if TYPE_CHECKING:
    import pyomo.environ as pyo

    from .model import Model

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
        (:mod:`suandian.run.mip_start`) and hand it to HiGHS as its first incumbent; if no
        rounding is feasible, a fallback plan (every capacity column at its upper bound, the
        LP of the rest). If the MIP ends without a better one, the start is the plan
        returned, with its gap against the best bound.
    mip_start_seconds : float, optional
        Least time a first plan (the MIP start and its fallback) may be sought, even beyond
        ``time_limit`` (seconds, > 0): the call may then take that long. None (default): the
        first plan shares the time limit, and the solve may return no plan
        (``no_solution``) when the time asked is too short to make one.
    decompose : bool
        When the MIP start is not within ``mip_rel_gap`` and the model falls apart into
        independent blocks once a few linking rows (a portfolio's green share, certificate
        cap) are priced, search the Lagrangian dual over those blocks
        (:mod:`suandian.run.decompose`) for a better plan and a better bound before the
        branch and bound.
    fix_optimise : bool
        When the plan is still not within ``mip_rel_gap`` after the MIP start and the
        decomposition, improve it by sub-MIPs over time windows (the integer columns of a
        few periods free, the others fixed at the plan; :mod:`suandian.run.fix_optimise`)
        before the branch and bound.
    aggregate : {"auto", "on", "off"}
        Make the first plan of a model with periods shorter than an hour from the plan of
        its 1-h aggregate (:mod:`suandian.run.aggregate`): ``auto`` (default) for MIPs of at
        least :data:`suandian.run.aggregate.MIN_COLUMNS` columns that do not split into
        blocks, ``on`` whenever the periods allow, ``off`` never. Scenarios with inputs the
        aggregate does not coarsen (demand-response events, grid outages, uncertainty) are
        solved as without it.
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
    mip_start_seconds: float | None = None
    decompose: bool = True
    fix_optimise: bool = False
    aggregate: str = "auto"
    highs_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        problems = []
        if not (np.isfinite(self.mip_rel_gap) and self.mip_rel_gap >= 0):
            problems.append(f"mip_rel_gap={self.mip_rel_gap!r}: use a number >= 0, e.g. 0.001")
        if not (self.time_limit > 0):  # NaN fails too
            problems.append(f"time_limit={self.time_limit!r}: use seconds > 0 (inf for none)")
        if not isinstance(self.mip_start, bool):
            problems.append(f"mip_start={self.mip_start!r}: use True or False")
        least = self.mip_start_seconds
        if least is not None and not (np.isfinite(least) and least > 0):
            problems.append(
                f"mip_start_seconds={least!r}: use seconds > 0, or None (share the time limit)"
            )
        if self.aggregate not in ("auto", "on", "off"):
            problems.append(f"aggregate={self.aggregate!r}: use 'auto', 'on' or 'off'")
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
    origin : str
        Where the plan returned came from: ``branch_and_bound`` (HiGHS), ``lp`` (a model
        without integers to decide), ``mip_start`` (a rounding of the LP relaxation),
        ``decomposition``, ``fallback`` (every capacity column at its upper bound, the LP
        of the rest: made only when no rounding was feasible in time); empty without a plan.
    deadline : dict
        How the time limit was shared: ``time_limit`` (seconds the solve was given after
        the presolved plans and the extraction's share), ``highs_given`` (HiGHS's
        ``time_limit``, 0 if it did not run), ``highs_stopped_by`` (``itself``,
        ``interrupt`` at the deadline, ``left_behind``: it did not return by the deadline
        and the call went on without it, or ``not_run``) and ``duals_reserve`` (seconds
        kept for the shadow-price LP).
    aggregate : dict
        The first plan from the 1-h aggregate (:mod:`suandian.run.aggregate`), empty when it
        did not run: ``factor``, ``columns``, ``status``, ``objective`` and ``gap`` of the
        aggregate's solve, ``seconds``.
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
    origin: str = ""
    deadline: dict[str, Any] = field(default_factory=dict)
    aggregate: dict[str, Any] = field(default_factory=dict)


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
    #: the user's Pyomo objective terms: (global columns, coefficients, constant), CNY
    user_cost: tuple[np.ndarray, np.ndarray, float] | None = None

    def user_objective(self, x: np.ndarray) -> float | None:
        """The user's objective terms at the column values ``x`` (CNY; None without)."""
        if self.user_cost is None:
            return None
        cols, vals, const = self.user_cost
        return float(vals @ x[cols] + const)


def hand_over(model: Model) -> HandOver:
    """Assemble the model's arrays and the user's Pyomo constraints into one standard form."""
    c, offset, lb, ub, integer, A, lo, hi = linear_model(model).arrays()
    ho = HandOver(c, offset, lb, ub, integer, A, lo, hi)
    if isinstance(model, ArrayModel):  # no Pyomo layer
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
    objectives = list(model.component_data_objects(pyo.Objective, active=True))
    if len(objectives) > 1:
        raise ValueError(
            f"the model has {len(objectives)} active Pyomo Objectives; one at most (its terms "
            "are added to suandian's cost terms) — deactivate the others"
        )
    if objectives and objectives[0].sense != pyo.minimize:
        raise ValueError(
            f"the Pyomo Objective {objectives[0].name!r} maximises; suandian minimises cost: "
            "state the terms as costs (sense=pyo.minimize, a revenue with a minus sign)"
        )
    has_rows = next(model.component_data_objects(pyo.Constraint, active=True), None)
    if has_rows is None and not objectives:
        return ho
    _add_user_rows(model, ho, bool(objectives))
    return ho


def _add_user_rows(model: pyo.Block, ho: HandOver, objective: bool = False) -> None:
    """Append the user's Pyomo rows, and with ``objective`` its Objective's terms.

    The Objective's coefficients are added to the cost vector (``ho.user_cost``: cost terms
    on the user's own variables or on family variables, CNY).
    """
    import scipy.sparse as sp
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from .pyomo_bridge import column_of

    repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    n = len(ho.lb)
    mapping = np.empty(len(repn.columns), dtype=np.int64)
    extra_lb: list[float] = []
    extra_ub: list[float] = []
    extra_int: list[bool] = []
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
    if objective:  # the user's cost terms, on family and user columns alike
        ho.c = ho.c.copy()
        C = sp.coo_array(repn.c)
        cols, vals = mapping[C.col], np.asarray(C.data, float)
        np.add.at(ho.c, cols, vals)
        const = float(np.asarray(repn.c_offset).ravel()[0]) if np.size(repn.c_offset) else 0.0
        ho.offset = float(ho.offset) + const
        ho.user_cost = (cols, vals, const)
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


def highs_lp(
    ho: HandOver,
    integer: np.ndarray,
    lb: np.ndarray | None = None,
    ub: np.ndarray | None = None,
) -> highspy.HighsLp:
    """The arrays of ``ho`` as a HiGHS LP, ``integer`` marking the integer columns.

    ``lb`` and ``ub`` replace the column bounds of ``ho`` when given.
    """
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
        kind = highspy.HighsVarType
        lp.integrality_ = [kind.kInteger if i else kind.kContinuous for i in integer]
    return lp


#: Guards the redirection of file descriptor 1 in :func:`quiet_highs`: two threads doing it
#: at once can leave stdout pointing at /dev/null for the rest of the process (seen with the
#: decomposition's worker threads: a benchmark worker lost its whole output).
_stdout_lock = threading.Lock()


def quiet_highs() -> highspy.Highs:
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


#: HiGHS options suandian sets unless ``highs_options`` names them: two root heuristics off,
#: RENS (a sub-MIP over the integers the LP relaxation leaves free; on the default day its
#: nested sub-MIPs took 42 of 49 s) and the root reduced-cost heuristic. The plans come from
#: the MIP start, RINS and the search; measured in ``benchmarks/highs_options.py``
#: (docs/math/solver.md, "HiGHS options suandian sets").
DEFAULT_HIGHS_OPTIONS: dict[str, Any] = {
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
}

#: HiGHS's thread scheduler is global to a process and keeps the thread count of its first
#: use; a later solve asking for another count fails ("Not Set") unless it is reset.
_scheduler: dict[str, int | None] = {"threads": None}


def new_highs(opts: SolveOptions, time_limit: float) -> highspy.Highs:
    """A quiet Highs instance set up by ``opts`` (log, gap, threads, options), ``time_limit`` s."""
    threads = 0 if opts.threads is None else int(opts.threads)
    if _scheduler["threads"] not in (None, threads):
        highspy.Highs.resetGlobalScheduler(True)
    _scheduler["threads"] = threads
    h = highspy.Highs() if opts.log else quiet_highs()
    h.setOptionValue("output_flag", bool(opts.log))
    h.setOptionValue("mip_rel_gap", float(opts.mip_rel_gap))
    h.setOptionValue("time_limit", float(max(time_limit, 0.0)))
    if opts.threads is not None:
        h.setOptionValue("threads", int(opts.threads))
    for name, value in (DEFAULT_HIGHS_OPTIONS | opts.highs_options).items():
        if h.setOptionValue(name, value) != highspy.HighsStatus.kOk:
            raise ValueError(f"HiGHS option {name}={value!r} was refused; check its name and type")
    return h


def limit_run(h: highspy.Highs, seconds: float) -> None:
    """Give the next ``h.run()`` of an instance that has run before ``seconds`` of its own.

    HiGHS compares its ``time_limit`` with the instance's run time summed over all its runs
    (``getRunTime``), not with the time of the run under way: an instance whose first LP
    took 32 s, given ``time_limit=18`` for its next LP, stops that LP at once ("Time limit
    reached", no iteration; measured on the tied 40-site portfolio, where every rounding of
    the MIP start so looked infeasible). So the limit is set to the run time so far plus
    ``seconds``.
    """
    h.setOptionValue("time_limit", float(h.getRunTime() + max(seconds, 0.0)))


def run(h: highspy.Highs) -> tuple[Any, Any, bool]:
    """One HiGHS run: its model status, its info and whether it holds a primal solution."""
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    return status, info, info.primal_solution_status == 2


#: Seconds a run interrupted at its deadline is given to return before it is left behind.
GRACE = 0.25

#: Runs left behind at their deadline, still running in their thread until HiGHS next
#: checks its limits (each holds its ``Highs`` instance alive until then).
_LEFT_BEHIND: list[tuple[threading.Thread, highspy.Highs]] = []


@dataclass
class Run:
    """How a run under a deadline ended (:func:`run_until`).

    Attributes
    ----------
    status : highspy.HighsModelStatus
        HiGHS's status; ``kInterrupt`` for a run left behind.
    info : highspy.HighsInfo or None
        HiGHS's info, None for a run left behind (its instance is still running).
    has_solution : bool
        Whether a plan is known: HiGHS's own or, for a run left behind, the last improving
        plan its callback passed.
    x : numpy.ndarray or None
        The plan's column values.
    objective, bound : float
        The plan's objective (NaN without one) and the best dual bound (``-inf`` unknown).
    stopped_by : str
        ``itself`` (optimal, a limit of its own, infeasible ...), ``interrupt`` (the
        deadline's callback) or ``left_behind`` (no return within :data:`GRACE` of the
        deadline: the call goes on without it, the run stops at HiGHS's next check).
    """

    status: Any
    info: Any
    has_solution: bool
    x: np.ndarray | None
    objective: float
    bound: float
    stopped_by: str


def left_behind() -> int:
    """How many runs left behind at their deadline are still running (forgets the others)."""
    _LEFT_BEHIND[:] = [(t, h) for t, h in _LEFT_BEHIND if t.is_alive()]
    return len(_LEFT_BEHIND)


def run_until(h: highspy.Highs, deadline: Deadline, n_cols: int) -> Run:
    """Run ``h`` (its model passed, its options set) and return by ``deadline`` + :data:`GRACE`.

    HiGHS's own ``time_limit`` (set to what is left) and an interrupt from its callbacks at
    the deadline stop it only where it checks its limits; in a MIP's root cut separation
    that can be a minute apart (measured: 95 s without a check on a 40-site portfolio). So
    the run goes on in a thread of its own and this one waits for the deadline: if the run
    has not returned :data:`GRACE` after it, it is left behind (it stops at its next check,
    its instance kept alive in :data:`_LEFT_BEHIND` until then), and what its callbacks
    passed is returned: the last improving plan (``n_cols`` values, checked) and the last
    dual bound.
    """
    seen: dict[str, Any] = {"x": None, "objective": np.nan, "bound": -np.inf, "stop": False}

    def check(event) -> None:
        if event.callback_type == highspy.cb.HighsCallbackType.kCallbackMipInterrupt:
            seen["bound"] = float(event.data_out.mip_dual_bound)
        if seen["stop"] or deadline.expired():
            event.interrupt()

    def improved(event) -> None:
        x = np.array(event.data_out.mip_solution, dtype=float)
        if len(x) == n_cols:
            seen["x"], seen["objective"] = x, float(event.data_out.objective_function_value)
        seen["bound"] = float(event.data_out.mip_dual_bound)

    h.cbMipInterrupt.subscribe(check)
    h.cbSimplexInterrupt.subscribe(check)
    h.cbIpmInterrupt.subscribe(check)
    h.cbMipImprovingSolution.subscribe(improved)
    # not a daemon: the interpreter's exit waits for a run left behind to stop (a HiGHS
    # thread still running when the process ends aborts it: "terminate called ...")
    worker = threading.Thread(target=h.run, name="suandian-highs", daemon=False)
    worker.start()
    try:
        while worker.is_alive() and not deadline.expired():
            worker.join(min(deadline.left(), 1.0))
        if worker.is_alive():
            seen["stop"] = True
            worker.join(GRACE)
    finally:
        seen["stop"] = True  # also on KeyboardInterrupt: HiGHS stops at its next check
    if worker.is_alive():
        _LEFT_BEHIND.append((worker, h))
        log.warning(
            "HiGHS did not stop at the deadline (it checks its limits only between steps "
            "such as rounds of cut separation); the solve returns without it, and the run "
            "stops at its next check"
        )
        x = seen["x"]
        return Run(
            highspy.HighsModelStatus.kInterrupt,
            None,
            x is not None,
            x,
            seen["objective"],
            seen["bound"],
            "left_behind",
        )
    status = h.getModelStatus()
    info = h.getInfo()
    has = info.primal_solution_status == 2
    x = np.asarray(h.getSolution().col_value) if has else None
    objective = float(info.objective_function_value) if has else np.nan
    by = "interrupt" if status == highspy.HighsModelStatus.kInterrupt else "itself"
    return Run(status, info, has, x, objective, float(info.mip_dual_bound), by)


def relative_gap(objective: float, bound: float) -> float:
    """Relative gap as HiGHS defines it: (objective - bound) / |objective|."""
    if not (np.isfinite(objective) and np.isfinite(bound)):
        return float("inf")
    return max(objective - bound, 0.0) / max(abs(objective), 1e-9)


def row_duals(
    h: highspy.Highs,
    ho: HandOver,
    x: np.ndarray,
    integer: np.ndarray,
    opts: SolveOptions,
    left: float,
) -> np.ndarray | None:
    """Row duals: from the LP itself, or from the LP with the integers fixed (fresh HiGHS).

    The fixed-integer LP gets ``left`` seconds.
    """
    if integer.any():
        lb, ub = ho.lb.copy(), ho.ub.copy()
        lb[integer] = ub[integer] = np.round(x[integer])
        h = new_highs(opts, left)
        h.passModel(highs_lp(ho, np.zeros(len(lb), bool), lb, ub))
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


def load_back(model: Model, ho: HandOver, x: np.ndarray, y: np.ndarray | None) -> None:
    """Values into every Pyomo variable that exists; user-row duals into ``model.dual``."""
    if isinstance(model, ArrayModel):  # no Pyomo layer
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


def status_kind(status: Any, has_solution: bool) -> str:
    """The :attr:`SolveInfo.status` word for a HiGHS model status."""
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
