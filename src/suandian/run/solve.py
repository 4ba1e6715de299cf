"""``solve``: build if needed, hand over, run HiGHS, extract the Result, diagnose if infeasible."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .. import model as _model
from ..component import Component, Presolved
from ..components import REGISTRY
from ..deadline import Deadline
from ..highs import SolveInfo, SolveOptions
from ..ledgers import COMPONENT as LEDGER
from ..model import Model, build_model, built_of
from ..policies import POLICIES
from ..results.accounting import accounts
from ..results.result import Result
from ..scenario import Scenario
from ..scenario.rolling import raw_config
from .strategy import solve_model

log = logging.getLogger("suandian")

#: scenario -> the plans its components' ``presolve`` hooks asked for (kept while it lives)
_PRESOLVED: weakref.WeakKeyDictionary[Scenario, dict[float | None, dict[str, Presolved]]] = (
    weakref.WeakKeyDictionary()
)
#: (fingerprint of the scenario presolved, options) -> its plan: the same scenario loaded
#: again (a test, a sweep re-loading a file) reuses the plan; the last few only
_BY_CONTENT: OrderedDict[tuple[str, str, float | None], Presolved] = OrderedDict()
_BY_CONTENT_SIZE = 8


def fingerprint(sc: Scenario) -> str:
    """A fingerprint of a scenario's content: configuration, series and history values."""
    h = hashlib.sha256()
    h.update(json.dumps(raw_config(sc), sort_keys=True, default=str).encode())
    for frame in (sc.series, sc.history):
        h.update(",".join(map(str, frame.columns)).encode())
        h.update(pd.util.hash_pandas_object(frame, index=True).values.tobytes())
    return h.hexdigest()


def presolve(
    scenario: Scenario,
    options: SolveOptions | None = None,
    components: Sequence[Component] = (*REGISTRY, LEDGER, *POLICIES),
    deadline: Deadline | None = None,
    compute_shortfall_penalty: float | None = None,
) -> dict[str, Presolved]:
    """Solve the scenarios the components' ``presolve`` hooks ask for, once per scenario.

    Each hook returns another scenario (the DR baseline ``no_event``: this one without the
    event) or None; its plan is solved with ``options`` (without duals or diagnosis) and kept
    as a :class:`~suandian.component.Presolved` (status, objective, gap, flows by carrier)
    for the build, which reads it as ``ctx.presolved[component]``. Computed once per Scenario
    object (a later call returns the first answer, whatever its options), and reused for a
    scenario of the same content solved with the same options (the last few kept). With
    ``deadline``, each plan is solved by it (four fifths of what is left, the rest for reading
    its flows; the options' ``time_limit`` is then only the key of the reuse). With
    ``compute_shortfall_penalty`` each plan is built with it, as the model that reads it is:
    a plan without the DR event that must shed compute then sheds at that value instead of
    being infeasible (which would leave the event not offered).
    """
    penalty = compute_shortfall_penalty
    cached = _PRESOLVED.get(scenario, {}).get(penalty)
    if cached is not None:
        return cached
    opts = dataclasses.replace(options or SolveOptions(), duals=False, diagnose=False)
    plans: dict[str, Presolved] = {}
    for component in components:
        if component.presolve is None:
            continue
        other = component.presolve(scenario)
        if other is None:
            continue
        key = (fingerprint(other), repr(sorted(vars(opts).items())), penalty)
        plan = _BY_CONTENT.get(key)
        if plan is None:
            began = time.perf_counter()
            result = _solve(
                other,
                opts,
                None if deadline is None else deadline.share(0.8),
                compute_shortfall_penalty=penalty,
            )
            plan = _presolved(result)
            if not result.has_plan and result.status != "infeasible":
                # stopped by its time (or an error): not kept, a later solve tries again
                log.warning(
                    "%s: the presolved plan of %s has none (%s)",
                    scenario.config.name,
                    component.name,
                    result.status,
                )
                plans[component.name] = plan
                return plans
            log.info(
                "%s: presolved plan of %s: %s, %.6g CNY, %.2f s",
                scenario.config.name,
                component.name,
                result.status,
                result.objective,
                time.perf_counter() - began,
            )
            _BY_CONTENT[key] = plan
            while len(_BY_CONTENT) > _BY_CONTENT_SIZE:
                _BY_CONTENT.popitem(last=False)
        plans[component.name] = plan
    _PRESOLVED.setdefault(scenario, {})[penalty] = plans
    return plans


def _presolved(result: Result) -> Presolved:
    """What a build reads of a presolved plan: its status, objective, gap and flows."""
    flows: dict[str, np.ndarray] = {}
    if result.has_plan:
        for account in accounts(result.ds).values():
            for carrier, flow in account.flows.items():
                if tuple(flow.dims) != ("site", "time"):
                    continue
                flows[carrier] = flows.get(carrier, 0.0) + flow.values
    return Presolved(result.status, float(result.objective), float(result.mip_gap), flows)


_model.PRESOLVE = presolve


def _no_presolved_plan(
    scenario: Scenario, missing: list[str], plans: dict[str, Presolved], timings: dict[str, float]
) -> Result:
    """The Result of a solve whose presolved plans (a DR baseline) found none in time."""
    what = ", ".join(f"{name} ({plans[name].status})" for name in missing)
    log.warning(
        "%s: no plan: the presolved plan of %s was not found within its share of the time "
        "limit; give more time (time_limit)",
        scenario.config.name,
        what,
    )
    info = SolveInfo(
        "no_solution",
        f"not run: no presolved plan of {what}",
        float("nan"),
        float("nan"),
        float("nan"),
        False,
        timings,
        {"columns": 0, "rows": 0, "nonzeros": 0, "integer_columns": 0},
    )
    return Result.empty(scenario, info)


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
    return _solve(model_or_scenario, opts)


_WARM: dict[str, float] = {}


def _warm() -> None:
    """Pay the one-time imports of the extraction first, out of the time asked.

    xarray imports ``dask`` and ``dask.array``, when installed, the first time it makes a
    DataArray in a process (to check whether the data are dask arrays, on several paths):
    2.9 s of a first extraction's 3.4 s measured on the loaded 2-core machine, 0.17 s for
    the next one. Paid at the start of a process's first solve (its clock has started), so
    the phases share what is left rather than the extraction overrunning the deadline.
    """
    if _WARM:
        return
    began = time.perf_counter()
    import xarray as xr

    xr.DataArray(np.zeros(1), dims="x").to_dataset(name="warm")
    _WARM["seconds"] = time.perf_counter() - began
    log.debug("first solve of the process: imports warmed in %.2f s", _WARM["seconds"])


#: The extraction of a Result is given this many times the build's time, at most
#: :data:`EXTRACT_SHARE` of the time limit (measured: 3-8 times, docs/math/solver.md).
EXTRACT_PER_BUILD = 8.0
EXTRACT_SHARE = 0.2
#: Most share of the time limit the presolved plans (a DR baseline) may take.
PRESOLVE_SHARE = 0.5


def _solve(
    model_or_scenario: Model | Scenario,
    opts: SolveOptions,
    deadline: Deadline | None = None,
    compute_shortfall_penalty: float | None = None,
    prepare: Callable[[Model], None] | None = None,
) -> Result:
    """:func:`solve` by ``deadline`` (default: ``opts.time_limit`` from now).

    ``compute_shortfall_penalty``: a scenario is built with it (a presolved plan of a
    model built so). ``prepare(model)`` is called once the model is built, before the
    hand-over (the rolling horizon sets its warm start, ``LinearModel.start``, there).
    """
    if deadline is None:
        deadline = Deadline(opts.time_limit)
        _warm()
    timings: dict[str, float] = {}
    model: Model
    if isinstance(model_or_scenario, Scenario):
        start = time.perf_counter()
        # the time asked covers the presolved plans too: they get at most half of it, the
        # plan itself what is left
        plans = presolve(
            model_or_scenario,
            opts,
            deadline=deadline.share(PRESOLVE_SHARE),
            compute_shortfall_penalty=compute_shortfall_penalty,
        )
        if plans:
            timings["presolve"] = time.perf_counter() - start
        missing = [name for name, p in plans.items() if p.status in ("no_solution", "error")]
        if missing:
            return _no_presolved_plan(model_or_scenario, missing, plans, timings)
        # nothing to extend: skip Pyomo
        model = build_model(
            model_or_scenario,
            pyomo=False,
            presolved=plans,
            compute_shortfall_penalty=compute_shortfall_penalty,
        )
    else:
        model = model_or_scenario
    built = built_of(model)
    timings["build"] = built.build_seconds
    if prepare is not None:
        start = time.perf_counter()
        prepare(model)
        timings["warm"] = time.perf_counter() - start
    # the extraction's time is taken from the time limit before the solve gets the rest
    extract = min(EXTRACT_PER_BUILD * built.build_seconds, EXTRACT_SHARE * deadline.seconds)
    info = solve_model(model, opts, timings, deadline=deadline.before(extract))
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

        start = time.perf_counter()
        result.diagnosis = diagnose(built.scenario, opts, budget=deadline.left())
        timings["diagnosis"] = time.perf_counter() - start
    return result
