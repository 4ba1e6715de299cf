"""The only module that talks to HiGHS.

Route: Pyomo model -> ``LinearStandardFormCompiler(mixed_form=True)`` (scipy CSC arrays) ->
one ``highspy.Highs.passModel`` call. This is the fastest hand-over measured that keeps Pyomo
as the modelling layer and the duals (``../shared/reference/pyomo-highs-performance.md``).

After a MIP, the integer columns are fixed at their values and the LP is re-solved for the
duals (shadow prices), which are stored in the model's ``dual`` Suffix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from .model import build_model
from .scenario import Scenario


@dataclass
class SolveOptions:
    """Options of :func:`solve`.

    Attributes
    ----------
    mip_rel_gap : float
        Relative MIP gap at which HiGHS stops (0.001 = 0.1 %).
    time_limit : float
        Seconds; at the limit the best plan found is returned with its gap.
    threads : int, optional
        HiGHS threads (default: HiGHS's choice). Use 1 inside parallel sweeps.
    duals : bool
        Re-solve the LP with integers fixed to report shadow prices.
    diagnose : bool
        On infeasibility, re-solve with priced slacks and report what binds.
    log : bool
        Print the HiGHS log.
    highs_options : dict
        Any other HiGHS option, passed through by name.
    """

    mip_rel_gap: float = 1e-3
    time_limit: float = 60.0
    threads: int | None = None
    duals: bool = True
    diagnose: bool = True
    log: bool = False
    highs_options: dict[str, Any] = field(default_factory=dict)


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
        Seconds for ``build``, ``handover`` (compile + passModel), ``solve`` (HiGHS run),
        ``duals`` (fixed-integer LP) and ``extract``.
    size : dict
        Columns, rows, nonzeros and integer columns handed to HiGHS.
    """

    status: str
    highs_status: str
    objective: float
    bound: float
    mip_gap: float
    has_solution: bool
    timings: dict[str, float]
    size: dict[str, int]


def solve(
    model_or_scenario: pyo.ConcreteModel | Scenario,
    options: SolveOptions | None = None,
    **overrides: Any,
):
    """Solve a scenario or a built model with HiGHS and return a :class:`~suandian.Result`.

    Parameters
    ----------
    model_or_scenario : ConcreteModel or Scenario
        A model from :func:`suandian.build_model` (possibly with user constraints added)
        or a scenario, which is built first.
    options : SolveOptions, optional
        Solver options.
    **overrides
        Replace single fields of ``options``, e.g.
        ``solve(sc, mip_rel_gap=1e-3, time_limit=10)``.

    Returns
    -------
    Result
        The schedule, KPIs and books; ``result.status`` says how the solve ended. An
        infeasible scenario returns a Result whose ``diagnosis`` says how far the targets can
        be met and what binds.
    """
    from .results.result import Result

    opts = options or SolveOptions()
    if overrides:
        opts = SolveOptions(**{**opts.__dict__, **overrides})
    timings: dict[str, float] = {}
    if isinstance(model_or_scenario, Scenario):
        start = time.perf_counter()
        model = build_model(model_or_scenario)
        timings["build"] = time.perf_counter() - start
    else:
        model = model_or_scenario
        timings["build"] = getattr(model, "build_seconds", float("nan"))
    info = solve_model(model, opts, timings)
    start = time.perf_counter()
    if info.has_solution:
        result = Result.from_model(model, info)
    else:
        result = Result.empty(model.scenario, info)
    timings["extract"] = time.perf_counter() - start
    relaxed = model.shortfall_penalty is not None or model.compute_shortfall_penalty is not None
    if info.status == "infeasible" and opts.diagnose and not relaxed:
        from .results.diagnosis import diagnose

        result.diagnosis = diagnose(model.scenario, opts)
    return result


def solve_model(model: pyo.ConcreteModel, opts: SolveOptions, timings: dict[str, float]):
    """Hand a Pyomo model to HiGHS, run it, load the plan and the duals into the model."""
    start = time.perf_counter()
    repn = LinearStandardFormCompiler().write(model, mixed_form=True, set_sense=None)
    columns = repn.columns
    lp, integer = _to_highs_lp(repn)
    h = highspy.Highs()
    h.setOptionValue("output_flag", bool(opts.log))
    h.setOptionValue("mip_rel_gap", float(opts.mip_rel_gap))
    h.setOptionValue("time_limit", float(opts.time_limit))
    if opts.threads is not None:
        h.setOptionValue("threads", int(opts.threads))
    for name, value in opts.highs_options.items():
        if h.setOptionValue(name, value) != highspy.HighsStatus.kOk:
            raise ValueError(f"HiGHS option {name}={value!r} was refused; check its name and type")
    h.passModel(lp)
    timings["handover"] = time.perf_counter() - start

    start = time.perf_counter()
    h.run()
    timings["solve"] = time.perf_counter() - start

    status = h.getModelStatus()
    hinfo = h.getInfo()
    has_solution = hinfo.primal_solution_status == 2 and len(columns) > 0
    size = {
        "columns": lp.num_col_,
        "rows": lp.num_row_,
        "nonzeros": int(repn.A.nnz),
        "integer_columns": int(integer.sum()),
    }
    text = h.modelStatusToString(status)
    kind = _status_kind(status, has_solution)
    objective = float(hinfo.objective_function_value) if has_solution else float("nan")
    if integer.any():
        bound = float(hinfo.mip_dual_bound)
        gap = float(hinfo.mip_gap) if has_solution else float("nan")
    else:
        bound, gap = objective, 0.0
    info = SolveInfo(kind, text, objective, bound, gap, has_solution, timings, size)
    if not has_solution:
        return info

    x = np.asarray(h.getSolution().col_value)
    for var, value in zip(columns, x, strict=True):
        var.set_value(float(value), skip_validation=True)
    for var in model.component_data_objects(pyo.Var, descend_into=True):
        if var.value is None:  # in no constraint nor the objective: nearest to 0 in its bounds
            lo, hi = var.bounds
            value = max(0.0, lo) if lo is not None else 0.0
            var.set_value(min(value, hi) if hi is not None else value, skip_validation=True)
    if opts.duals:
        start = time.perf_counter()
        _load_duals(model, h, repn, x, integer)
        timings["duals"] = time.perf_counter() - start
    return info


def _to_highs_lp(repn) -> tuple[highspy.HighsLp, np.ndarray]:
    inf = highspy.kHighsInf
    columns = repn.columns
    n = len(columns)
    lower = np.empty(n)
    upper = np.empty(n)
    integer = np.zeros(n, dtype=bool)
    for j, var in enumerate(columns):
        lb, ub = var.bounds
        lower[j] = -inf if lb is None else lb
        upper[j] = inf if ub is None else ub
        integer[j] = var.is_integer()
    bound_type = np.fromiter((row[1] for row in repn.rows), dtype=np.int8, count=len(repn.rows))
    rhs = np.asarray(repn.rhs, dtype=float)
    A = repn.A.tocsc()
    objective = repn.objectives[0]
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = A.shape[0]
    lp.col_cost_ = np.asarray(repn.c.todense()).ravel() if repn.c.shape[0] else np.zeros(n)
    lp.offset_ = float(repn.c_offset[0]) if len(repn.c_offset) else 0.0
    sense = highspy.ObjSense
    lp.sense_ = sense.kMaximize if objective.sense == pyo.maximize else sense.kMinimize
    lp.col_lower_ = lower
    lp.col_upper_ = upper
    lp.row_lower_ = np.where(bound_type == 1, -inf, rhs)
    lp.row_upper_ = np.where(bound_type == -1, inf, rhs)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    if integer.any():
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous
            for flag in integer
        ]
    return lp, integer


def _load_duals(model, h: highspy.Highs, repn, x: np.ndarray, integer: np.ndarray) -> None:
    """Store row duals (d objective / d right-hand side) in ``model.dual``.

    For a MIP, integer columns are fixed at their rounded values and the LP re-solved.
    """
    if integer.any():
        idx = np.flatnonzero(integer).astype(np.int32)
        fixed = np.round(x[idx])
        h.changeColsIntegrality(len(idx), idx, np.full(len(idx), highspy.HighsVarType.kContinuous))
        h.changeColsBounds(len(idx), idx, fixed, fixed)
        h.setOptionValue("time_limit", highspy.kHighsInf)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return
    solution = h.getSolution()
    if not solution.dual_valid:
        return
    y = np.asarray(solution.row_dual)
    if not hasattr(model, "dual"):
        model.dual = pyo.Suffix(direction=pyo.Suffix.IMPORT)
    dual = model.dual
    dual.clear()
    for (con, _), value in zip(repn.rows, y, strict=True):
        dual[con] = dual.get(con, 0.0) + float(value)


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
