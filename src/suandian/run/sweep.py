"""Sweeps: one scenario solved for many values of its fields, on dask.distributed.

Rules and formats: ``docs/sweeps.md``. A sweep names fields of the scenario's configuration by
**path** and gives each a list of values (or, for a random design, a distribution); the
**design** turns them into cases (``grid``: every combination; ``zip``: the i-th value of
every list together; ``random``: ``n`` seeded draws). Every case is the scenario's raw
configuration with its values set, validated again exactly as
:func:`~suandian.scenario.load_scenario` validates a file; every problem of every case (a
path that leads nowhere, a value the schema refuses, a combination the checks refuse) is
collected and raised as one :class:`SweepError` before anything is solved.

The cases then run as tasks on a dask.distributed cluster: by default a ``LocalCluster`` of
one single-threaded worker process per core, each case solved by HiGHS on one thread (so
the cores are not oversubscribed); ``scheduler="tcp://host:port"`` (or a
``distributed.Client``) uses an existing cluster, ``scheduler="serial"`` solves in this
process without dask. A worker that dies takes no case with it: the scheduler hands its
cases to the other workers, and a case whose task fails for a reason outside the case
(``KilledWorker`` after repeated deaths) is submitted again, ``retries`` times. A case
that is infeasible or fails is reported with its status, the diagnosis of
:func:`~suandian.run.diagnose.diagnose` or the error, and the other cases go on. Each case
with a plan is certified (:meth:`suandian.Result.certify`) on its worker. The outcome is a
:class:`~suandian.results.sweep.SweepResult`: one ``xarray.Dataset`` with a ``case``
dimension.

Path syntax (``docs/sweeps.md``, "Paths")::

    policies.green_share.target         keys of mappings, separated by dots
    storage[0].energy  storage.0.energy an item of a list by its position (from 0)
    storage[cq_battery].energy          an item of a list by its ``name``
    policies.green_share.site_targets[hm_dc]   a key in brackets (any text but ``]``)

A key that the configuration does not hold yet is created (the validation then says whether
the schema knows it); so is a section that is missing or ``null`` on the way
(``policies.green_share.target`` on a scenario without a green-share policy gives it one).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import Problem, ScenarioError
from ..highs import SolveOptions
from ..results.sweep import CaseOutcome, SweepResult, outcome_of
from ..scenario.paths import FieldPath, apply, field_of, parse_path, resolve
from .rolling import eta_seconds

if TYPE_CHECKING:
    from ..scenario import Scenario

log = logging.getLogger("suandian")

#: the designs :func:`sweep` knows
DESIGNS = ("grid", "zip", "random")
#: distributions of a random design: name -> number of parameters
DISTRIBUTIONS = {"uniform": 2, "loguniform": 2, "normal": 2, "integers": 2, "choice": 1}
#: ``scheduler`` value that solves the cases in this process, one after the other, without dask
SERIAL = "serial"
#: times a case lost to a worker failure outside it is submitted again (``sweep(retries=)``)
RETRIES = 3


class SweepError(ScenarioError):
    """A sweep that cannot run: every problem of its paths, design and cases, at once.

    Each :class:`~suandian.errors.Problem` names the path as written in the sweep (or, for a
    problem of the scenario that a case's values cause elsewhere, the scenario's field), the
    value and the fix, and lists the cases it occurs in.
    """


# -------------------------------------------------------------------- designs
@dataclass
class Design:
    """The cases of a sweep: one ``{path: value}`` per case, in case order.

    Attributes
    ----------
    kind : str
        ``grid``, ``zip`` or ``random``.
    paths : list of str
        The swept paths as written, in the order given.
    cases : list of dict
        ``{path: value}`` per case.
    seed : int or None
        The seed of a random design (drawn and recorded when none was given).
    """

    kind: str
    paths: list[str]
    cases: list[dict[str, Any]]
    seed: int | None = None


def design_cases(
    parameters: Mapping[str, Any],
    design: str = "grid",
    n: int | None = None,
    seed: int | None = None,
) -> Design:
    """The cases of a sweep without solving anything (what :func:`sweep` will run).

    Parameters
    ----------
    parameters : mapping
        ``{path: values}``. ``grid`` and ``zip`` take a list of values per path. ``random``
        takes, per path, a list (drawn from uniformly) or a distribution
        ``("uniform", low, high)``, ``("loguniform", low, high)``, ``("normal", mean, sd)``,
        ``("integers", low, high)`` (both ends included) or ``("choice", [values])``.
    design : {"grid", "zip", "random"}
        ``grid``: every combination, the first path varying slowest; ``zip``: the i-th value
        of every list together (lists of equal length); ``random``: ``n`` cases, each path
        drawn independently with ``numpy.random.default_rng(seed)``, path by path in the
        order given (the same seed gives the same cases).
    n : int, optional
        Number of cases of a random design.
    seed : int, optional
        Seed of a random design; default: a fresh one, recorded in ``Design.seed``.

    Raises
    ------
    SweepError
        listing every problem of the design (path, values, fix).
    """
    problems: list[Problem] = []
    if not isinstance(parameters, Mapping) or not parameters:
        raise SweepError(
            [
                Problem(
                    "parameters",
                    _short(parameters),
                    "give a mapping {path: values}, e.g. {'policies.green_share.target': "
                    "[0.6, 0.8]}",
                )
            ],
            "sweep",
        )
    if design not in DESIGNS:
        raise SweepError(
            [Problem("design", repr(design), f"use one of {', '.join(DESIGNS)}")], "sweep"
        )
    paths = [str(p) for p in parameters]
    if design == "random":
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
            problems.append(
                Problem("n", repr(n), "a random design needs its number of cases: n >= 1")
            )
        if seed is None:
            seed = int(np.random.SeedSequence().entropy) % (2**63)  # type: ignore[arg-type]
        elif not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            problems.append(Problem("seed", repr(seed), "use a whole number >= 0"))
        draws: dict[str, Callable[[np.random.Generator, int], list[Any]]] = {}
        for path, spec in parameters.items():
            draw, problem = _distribution(str(path), spec)
            if problem is not None:
                problems.append(problem)
            else:
                draws[str(path)] = draw
        if problems:
            raise SweepError(problems, "sweep")
        rng = np.random.default_rng(seed)
        assert n is not None
        columns = {p: draws[p](rng, int(n)) for p in paths}
        cases = [{p: columns[p][i] for p in paths} for i in range(int(n))]
        return Design(design, paths, cases, int(seed))
    lists: dict[str, list[Any]] = {}
    for path, values in parameters.items():
        if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
            values = list(values) if isinstance(values, np.ndarray) else None
        if not values:
            problems.append(
                Problem(
                    str(path),
                    _short(parameters[path]),
                    f"a {design} design takes a non-empty list of values per path, e.g. "
                    "[0.6, 0.7, 0.8] (a distribution needs design='random')",
                )
            )
            continue
        lists[str(path)] = [_plain(v) for v in values]
    if design == "zip" and len({len(v) for v in lists.values()}) > 1:
        sizes = ", ".join(f"{p}: {len(v)}" for p, v in lists.items())
        problems.append(
            Problem(
                "parameters",
                sizes,
                "a zip design pairs the i-th values of every path: give lists of one length "
                "(or use design='grid' for every combination)",
            )
        )
    if problems:
        raise SweepError(problems, "sweep")
    chosen = [lists[p] for p in paths]
    combos: Iterator[tuple[Any, ...]] = (
        itertools.product(*chosen) if design == "grid" else zip(*chosen, strict=True)
    )
    return Design(design, paths, [dict(zip(paths, c, strict=True)) for c in combos])


def _distribution(
    path: str, spec: Any
) -> tuple[Callable[[np.random.Generator, int], list[Any]], Problem | None]:
    """A draw function for one path of a random design, or the problem with its spec."""

    def bad(message: str) -> tuple[Any, Problem]:
        return None, Problem(path, _short(spec), message)

    if isinstance(spec, list) or isinstance(spec, np.ndarray):
        values = [_plain(v) for v in spec]
        if not values:
            return bad("give values to draw from, or a distribution ('uniform', low, high)")
        return (lambda rng, k: [values[i] for i in rng.integers(0, len(values), size=k)]), None
    if not isinstance(spec, tuple) or not spec or spec[0] not in DISTRIBUTIONS:
        return bad(
            "a random design takes, per path, a list of values or a distribution: "
            "('uniform', low, high), ('loguniform', low, high), ('normal', mean, sd), "
            "('integers', low, high) or ('choice', [values])"
        )
    kind, args = spec[0], spec[1:]
    if len(args) != DISTRIBUTIONS[kind]:
        return bad(f"'{kind}' takes {DISTRIBUTIONS[kind]} parameter(s), got {len(args)}")
    if kind == "choice":
        values = list(args[0]) if isinstance(args[0], (list, tuple)) else []
        if not values:
            return bad("('choice', [values]) needs a non-empty list")
        return _distribution(path, values)
    try:
        a, b = (float(x) for x in args)
    except (TypeError, ValueError):
        return bad(f"'{kind}' takes numbers")
    if not (math.isfinite(a) and math.isfinite(b)):
        return bad(f"'{kind}' takes finite numbers")
    if kind == "normal":
        if b < 0:
            return bad("the standard deviation of ('normal', mean, sd) is >= 0")
        return (lambda rng, k: [float(v) for v in rng.normal(a, b, size=k)]), None
    if a > b:
        return bad(f"low {a:g} above high {b:g}: write ('{kind}', low, high)")
    if kind == "integers":
        if a != int(a) or b != int(b):
            return bad("('integers', low, high) takes whole numbers")
        return (lambda rng, k: [int(v) for v in rng.integers(int(a), int(b) + 1, size=k)]), None
    if kind == "loguniform":
        if a <= 0:
            return bad("('loguniform', low, high) needs low > 0")
        la, lb = math.log(a), math.log(b)
        return (lambda rng, k: [float(math.exp(v)) for v in rng.uniform(la, lb, size=k)]), None
    return (lambda rng, k: [float(v) for v in rng.uniform(a, b, size=k)]), None


def _plain(value: Any) -> Any:
    """The numpy scalars as Python numbers (the schema and the files take those)."""
    return value.item() if isinstance(value, np.generic) else value


def _short(value: Any, limit: int = 60) -> str:
    from ..scenario.load import _short as short

    return short(value, limit)


# ------------------------------------------------------------------ the cases
@dataclass
class Case:
    """One validated case: its number, its values and its scenario."""

    index: int
    values: dict[str, Any]
    scenario: Scenario


def build_cases(scenario: Scenario, design: Design) -> list[Case]:
    """Validate every case of a design on a scenario; one :class:`SweepError` for all problems.

    Each case is the scenario's raw configuration (``Scenario.raw_config``: the fields that
    were set) with the case's values set at their paths, validated by
    :func:`~suandian.scenario.load_scenario` with the scenario's aligned series and folder.
    Problems are grouped: one line per distinct (field, value, message) with the cases it
    occurs in.
    """
    from ..scenario.load import load_scenario
    from ..scenario.rolling import raw_config

    base = raw_config(scenario)
    parsed: dict[str, FieldPath] = {}
    resolved: dict[str, tuple[Any, ...]] = {}
    problems: list[Problem] = []
    for text in design.paths:
        try:
            parsed[text] = parse_path(text)
        except ValueError as exc:
            problems.append(Problem(text, _short([c[text] for c in design.cases[:4]]), str(exc)))
            continue
        steps, problem = resolve(base, parsed[text])
        if problem is not None:
            shown = _short([c[text] for c in design.cases[:4]])
            problems.append(Problem(problem.field, shown, problem.message))
        else:
            resolved[text] = steps
    fields = {text: field_of(steps) for text, steps in resolved.items()}
    grouped: dict[tuple[str, str, str], list[int]] = {}
    cases: list[Case] = []
    for i, values in enumerate(design.cases):
        raw = _copy(base)
        for text, steps in resolved.items():
            apply(raw, steps, values[text])
        try:
            sc = load_scenario(raw, series=scenario.series, base_dir=scenario.base_dir)
        except ScenarioError as exc:
            for p in exc.problems:
                which = grouped.setdefault(_attribute(p, fields, values), [])
                if not which or which[-1] != i:
                    which.append(i)
            continue
        cases.append(Case(i, dict(values), sc))
    for (where, value, message), which in grouped.items():
        problems.append(Problem(where, value, f"{message} ({_cases_text(which, design)})"))
    if problems:
        raise SweepError(problems, f"sweep of {scenario.config.name!r}")
    return cases


def _copy(raw: Any) -> Any:
    import copy

    return copy.deepcopy(raw)


def _attribute(
    p: Problem, fields: Mapping[str, str], values: Mapping[str, Any]
) -> tuple[str, str, str]:
    """A case's problem under the swept path it concerns (else under its own field)."""
    for text, where in fields.items():
        if p.field == where or p.field.startswith((f"{where}.", f"{where}[")):
            shown = text + p.field[len(where) :]
            value = _short(values[text]) if p.field == where else p.value
            return shown, value, p.message
    return p.field, p.value, p.message


def _cases_text(which: list[int], design: Design) -> str:
    shown = ", ".join(str(i) for i in which[:8]) + (", ..." if len(which) > 8 else "")
    if len(which) == 1:
        values = ", ".join(f"{k}={_short(v, 30)}" for k, v in design.cases[which[0]].items())
        return f"case {shown}: {values}"
    return f"cases {shown}, {len(which)} of {len(design.cases)}"


# -------------------------------------------------------------------- running
def run_case(index: int, scenario: Scenario, options: SolveOptions, tol: float) -> CaseOutcome:
    """Solve and certify one case; never raises (an error becomes the outcome's ``error``).

    Runs on a worker: the outcome carries the KPIs, the cost by term, the shadow prices, the
    certifier's verdict and, without a plan, the diagnosis; not the schedule.
    """
    from .solve import solve

    began, cpu = time.perf_counter(), time.process_time()
    try:
        result = solve(scenario, options)
        violations = [str(v) for v in result.certify(tol=tol)] if result.has_plan else None
        out = outcome_of(index, result, violations)
    except Exception as exc:  # noqa: BLE001 - one case's failure must not end the sweep
        tb = traceback.format_exception_only(type(exc), exc)
        out = CaseOutcome(index=index, status="error", error="".join(tb).strip()[:2000])
    out.seconds = time.perf_counter() - began
    out.cpu_seconds = time.process_time() - cpu
    out.worker = f"{os.uname().nodename}:{os.getpid()}"
    return out


class Progress:
    """One line per finished case on a stream, in the style of the rolling run's lines.

    ``case 3/16 optimal | cost 0.489 M CNY | certified | policies.green_share.target=0.7 |
    ETA 40 s``
    """

    def __init__(self, total: int, stream: Any = None, enabled: bool = True):
        self.total, self.stream, self.enabled = total, stream or sys.stderr, enabled
        self.began = time.perf_counter()
        self.done = 0

    def __call__(self, outcome: CaseOutcome, values: Mapping[str, Any]) -> None:
        """Report one finished case."""
        self.done += 1
        if not self.enabled:
            return
        eta = eta_seconds(time.perf_counter() - self.began, self.done, self.total - self.done)
        x = outcome.objective
        if not math.isfinite(x):
            cost = "no plan"
        else:
            cost = f"cost {x / 1e6:,.3f} M CNY" if abs(x) >= 1e5 else f"cost {x:,.2f} CNY"
        verdict = outcome.verdict
        shown = " ".join(f"{k}={_short(v, 24)}" for k, v in values.items())
        line = (
            f"case {self.done}/{self.total} #{outcome.index} {outcome.status} | {cost} | "
            f"{verdict} | {shown} | ETA {eta:,.0f} s"
        )
        print(line, file=self.stream, flush=True)


def sweep(
    scenario: Scenario,
    parameters: Mapping[str, Any],
    design: str = "grid",
    n: int | None = None,
    seed: int | None = None,
    scheduler: Any = None,
    *,
    n_workers: int | None = None,
    options: SolveOptions | None = None,
    progress: bool | Callable[[CaseOutcome, Mapping[str, Any]], None] = True,
    retries: int = RETRIES,
    tol: float = 1e-5,
    **overrides: Any,
) -> SweepResult:
    """Solve a scenario for many values of its fields; every case certified.

    Parameters
    ----------
    scenario : Scenario
        The base scenario (from :func:`~suandian.load_scenario`).
    parameters : mapping
        ``{path: values}``: fields of the configuration by path (``docs/sweeps.md``, e.g.
        ``"policies.green_share.target"``, ``"storage[cq_battery].energy"``,
        ``"storage.0.energy"``) and their values, or distributions for ``design="random"``
        (see :func:`design_cases`).
    design : {"grid", "zip", "random"}
        How values combine into cases (:func:`design_cases`).
    n, seed : int, optional
        Number of cases and seed of a random design.
    scheduler : None, str or distributed.Client
        None: a ``LocalCluster`` of ``n_workers`` processes (default: the cores), one thread
        each, started and closed by the sweep; ``"tcp://host:port"``: the scheduler of an
        existing cluster (its workers must have suandian installed); a ``Client``: use it;
        ``"serial"``: solve in this process, one case after the other, without dask.
    n_workers : int, optional
        Workers of the local cluster (default: ``os.cpu_count()``).
    options : SolveOptions, optional
        Solver options of every case; default ``SolveOptions(threads=1)`` (one HiGHS thread
        per worker). ``progress`` of the solver is off in the workers.
    progress : bool or callable
        Print one line per finished case on stderr (:class:`Progress`), or call
        ``progress(outcome, values)`` in this process as each case finishes.
    retries : int
        Times a case whose task was lost outside the case (its worker died more often than
        the scheduler allows, ``KilledWorker``) is submitted again. A worker that dies once
        costs nothing: the scheduler hands its cases to the others by itself.
    tol : float
        Relative tolerance of the certifier.
    **overrides
        Single fields of ``options``, e.g. ``mip_rel_gap=1e-4, time_limit=30``.

    Returns
    -------
    SweepResult
        ``ds`` with a ``case`` dimension: the swept values as coordinates, the status,
        objective, gap, cost by term, KPIs, shadow prices and the certifier's verdict per
        case; ``table()`` as a DataFrame; ``save(folder)``.

    Raises
    ------
    SweepError
        before any solve, listing every problem of the paths, the design and the cases.
    ImportError
        when dask.distributed is needed and missing (``pip install 'suandian[sweep]'``).
    """
    opts = options or SolveOptions(threads=1)
    fields = {"progress": False, **overrides}
    if options is None and "threads" not in overrides:
        fields["threads"] = 1
    opts = SolveOptions(**{**opts.__dict__, **fields})
    if not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries={retries!r}: use a whole number >= 0")
    plan = design_cases(parameters, design, n, seed)
    cases = build_cases(scenario, plan)
    report = progress if callable(progress) else Progress(len(cases), enabled=bool(progress))
    began = time.perf_counter()
    outcomes: list[CaseOutcome] = []
    workers = 1
    if scheduler == SERIAL:
        for case in cases:
            out = run_case(case.index, case.scenario, opts, tol)
            outcomes.append(out)
            report(out, case.values)
    else:
        with _client(scheduler, n_workers) as client:
            workers = len(client.scheduler_info().get("workers", {})) or 1
            outcomes = _run_distributed(client, cases, opts, tol, report, retries)
    seconds = time.perf_counter() - began
    return SweepResult.build(
        scenario,
        plan,
        outcomes,
        attrs={
            "scheduler": _scheduler_text(scheduler),
            "workers": workers,
            "wall_seconds": seconds,
            "threads_per_case": -1 if opts.threads is None else int(opts.threads),
            "mip_rel_gap": opts.mip_rel_gap,
            "time_limit": opts.time_limit,
        },
    )


def _scheduler_text(scheduler: Any) -> str:
    if scheduler is None:
        return "local"
    if isinstance(scheduler, str):
        return scheduler
    return f"client {getattr(scheduler, 'scheduler', None) and scheduler.scheduler.address}"


@contextlib.contextmanager
def _client(scheduler: Any, n_workers: int | None) -> Iterator[Any]:
    """A ``distributed.Client``: the one given, one to an address, or a new LocalCluster."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - the test extra installs it
        raise ImportError(
            "suandian.sweep runs on dask.distributed: install it with "
            "pip install 'suandian[sweep]' (or pass scheduler='serial')"
        ) from exc
    if scheduler is None:
        workers = n_workers or os.cpu_count() or 1
        with warnings.catch_warnings():  # its health page moves off a busy port: harmless
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        with cluster, Client(cluster) as client:
            yield client
        return
    if isinstance(scheduler, str):
        if not scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://", "ws://")):
            raise ValueError(
                f"scheduler={scheduler!r}: give a scheduler address such as "
                "'tcp://127.0.0.1:8786', a distributed.Client, None (a local cluster) or "
                f"'{SERIAL}'"
            )
        with Client(scheduler) as client:
            yield client
        return
    if not hasattr(scheduler, "submit"):
        raise ValueError(
            f"scheduler={type(scheduler).__name__}: give None, an address, a "
            f"distributed.Client or '{SERIAL}'"
        )
    yield scheduler


def _run_distributed(
    client: Any,
    cases: list[Case],
    opts: SolveOptions,
    tol: float,
    report: Callable[[CaseOutcome, Mapping[str, Any]], None],
    retries: int,
) -> list[CaseOutcome]:
    """Submit every case, collect as they finish, submit again those lost outside the case."""
    from distributed import as_completed

    by_key: dict[str, Case] = {}
    attempts: dict[int, int] = {}

    def submit(case: Case) -> Any:
        attempts[case.index] = attempts.get(case.index, 0) + 1
        future = client.submit(
            run_case,
            case.index,
            case.scenario,
            opts,
            tol,
            key=f"suandian-case-{case.index}-{attempts[case.index]}-{id(cases):x}",
            pure=False,
        )
        by_key[future.key] = case
        return future

    queue = as_completed([submit(c) for c in cases])
    outcomes: list[CaseOutcome] = []
    for future in queue:
        case = by_key.pop(future.key)
        try:
            out = future.result()
        except Exception as exc:  # noqa: BLE001 - the task, not the case, failed
            if attempts[case.index] <= retries:
                log.warning("case %d lost (%s); submitted again", case.index, type(exc).__name__)
                queue.add(submit(case))
                continue
            out = CaseOutcome(
                index=case.index,
                status="lost",
                error=f"lost {attempts[case.index]} times ({type(exc).__name__}: {exc})"[:2000],
            )
        out.attempts = attempts[case.index]
        outcomes.append(out)
        report(out, case.values)
    return sorted(outcomes, key=lambda o: o.index)


__all__ = [
    "DESIGNS",
    "DISTRIBUTIONS",
    "SERIAL",
    "Case",
    "Design",
    "FieldPath",
    "Progress",
    "SweepError",
    "build_cases",
    "design_cases",
    "field_of",
    "parse_path",
    "resolve",
    "run_case",
    "sweep",
]
