"""``solve``: build if needed, hand over, run HiGHS, extract the Result, diagnose if infeasible."""

from __future__ import annotations

import logging
import time
from typing import Any

from ..highs import SolveOptions
from ..model import Model, build_model, built_of
from ..results.result import Result
from ..scenario import Scenario
from .strategy import solve_model

log = logging.getLogger("suandian")


def solve(
    model_or_scenario: Model | Scenario, options: SolveOptions | None = None, **overrides: Any
) -> Result:
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
        be met and what binds (the diagnosis shares the time limit).
    """
    opts = options or SolveOptions()
    if overrides:
        opts = SolveOptions(**{**opts.__dict__, **overrides})
    began = time.perf_counter()
    timings: dict[str, float] = {}
    model: Model
    if isinstance(model_or_scenario, Scenario):
        model = build_model(model_or_scenario, pyomo=False)  # nothing to extend: skip Pyomo
    else:
        model = model_or_scenario
    built = built_of(model)
    timings["build"] = built.build_seconds
    info = solve_model(model, opts, timings)
    start = time.perf_counter()
    result = (
        Result.from_model(model, info) if info.has_solution else Result.empty(built.scenario, info)
    )
    timings["extract"] = time.perf_counter() - start
    log.info(
        "%s: objective %.6g CNY, gap %.3g, %.2f s",
        info.status,
        info.objective,
        info.mip_gap,
        sum(timings.values()),
    )
    if info.status == "infeasible" and opts.diagnose and not built.relaxed:
        from .diagnose import diagnose

        left = opts.time_limit - (time.perf_counter() - began)
        start = time.perf_counter()
        result.diagnosis = diagnose(built.scenario, opts, budget=left)
        timings["diagnosis"] = time.perf_counter() - start
    return result
