"""Rolling horizon: a long horizon planned as a sequence of windows that carry their state.

Math and rules: ``docs/math/rolling.md``. Each window is a full model of its periods (the
MILP, with every family), solved like any scenario; its first ``commit`` periods are kept
and the state at their end (batteries, tanks, blocks, job work, meter peaks, year-to-date
energies: each family's ``state_out``) starts the next window, which is cut from the *rest*
of the horizon (:meth:`suandian.Scenario.window`; the rest is kept raw,
:class:`~suandian.scenario.rolling.RawHorizon`, and only the windows are validated), so
incremental state (work done, energies
to date) adds up. Annual budgets re-target themselves that way: each window's rows judge
the year to date (what the committed windows did, handed over as state) plus the window
plus the scenario's forecast of the time after the horizon, that is, the rest of the
horizon is assumed to meet its target exactly (``docs/math/rolling.md``, "Annual budgets").

Checkpoints: with ``out``, every committed window is written at once (its Dataset, then its
record, each atomically) under ``out/windows/``; ``resume=True`` replays the records (the
state each handed over) and goes on from the first window missing, so an interrupted run
gives the same plan as one that was not. A window without a plan raises
:class:`RollingError` naming the window, its status and its diagnosis; the committed
windows stay on disk.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..highs import SolveOptions
from ..model import Model, linear_model
from ..results import io
from ..results.result import state_at
from ..results.year import (
    Part,
    YearResult,
    committed_certificates,
    committed_costs,
    exact_join,
    read_parts,
    write_part,
)
from ..scenario import Scenario
from ..scenario.rolling import raw_config
from .solve import _solve, solve
from .warm import plan_of, read_plan, shifted, write_plan

#: The warm start's new tail (the periods after the previous window's end): the previous
#: plan's last day repeated (True) or left to the roundings of the LP relaxation (False)
TAIL_REPEATS_DAY = False

#: Each window's relative MIP gap unless the options say otherwise: measured on the default
#: hub's year (docs/math/rolling.md, "Speed"), the committed cost of 14 days moved by
#: +0.18 % between 0.1 % and 1 % per window (less than the run-to-run spread of the rolling
#: plan between gaps) while HiGHS's CPU time fell 3.8-fold
ROLLING_GAP = 0.01

#: name of the run's manifest in the output folder
MANIFEST = "rolling.json"


class RollingError(RuntimeError):
    """A window of a rolling horizon has no plan (its diagnosis says why).

    Attributes
    ----------
    window : int
        Its position.
    time : str
        Its first period.
    status : str
        The solve status.
    diagnosis : Diagnosis or None
        What binds (``suandian.Diagnosis``).
    parts : list of Part
        The windows committed before it (also on disk when the run has a folder).
    """

    def __init__(self, window: int, when: str, status: str, diagnosis: Any, parts: list[Part]):
        self.window, self.time, self.status = window, when, status
        self.diagnosis, self.parts = diagnosis, parts
        text = f"window {window} (from {when}) has no plan: {status}"
        if diagnosis is not None:
            text += f"\n{diagnosis}"
        text += f"\n{len(parts)} committed window(s) before it are kept"
        super().__init__(text)


def periods_of(value: str | int, dt: float, what: str) -> int:
    """A length as periods: an int (periods) or a duration such as ``'24h'`` or ``'1D'``."""
    if isinstance(value, bool):
        raise ValueError(f"{what}={value!r}: give periods (int) or a duration such as '24h'")
    if isinstance(value, int):
        n = value
    else:
        try:
            hours = pd.Timedelta(str(value)).total_seconds() / 3600.0
        except ValueError:
            raise ValueError(
                f"{what}={value!r}: not a duration; write e.g. '24h', '1D' or a period count"
            ) from None
        n = round(hours / dt)
        if abs(n * dt - hours) > 1e-9:
            raise ValueError(
                f"{what}={value!r} is not a whole number of {dt * 60:g}-min periods; use a "
                "multiple of the resolution"
            )
    if n < 0 or (what == "commit" and n < 1):
        raise ValueError(f"{what}={value!r}: use at least {1 if what == 'commit' else 0} period")
    return n


def digest(sc: Scenario) -> str:
    """A fingerprint of the scenario (configuration and series values)."""
    h = hashlib.sha256()
    h.update(json.dumps(raw_config(sc), sort_keys=True, default=str).encode())
    h.update(pd.util.hash_pandas_object(sc.series, index=True).values.tobytes())
    return h.hexdigest()


def _manifest(
    sc: Scenario, commit: int, lookahead: int, opts: SolveOptions, warm_start: bool
) -> dict:
    from .._version import __version__

    keep = ("mip_rel_gap", "time_limit", "threads", "relax_integers", "mip_start", "decompose")
    return {
        "kind": "suandian rolling horizon",
        "suandian": __version__,
        "scenario": sc.config.name,
        "digest": digest(sc),
        "periods": sc.periods,
        "commit": commit,
        "lookahead": lookahead,
        "options": {k: getattr(opts, k) for k in keep},
        "warm_start": warm_start,
    }


def _open_folder(folder: Path, manifest: dict, resume: bool) -> None:
    """Check the folder holds nothing or this same run; write the manifest."""
    path = folder / MANIFEST
    if path.is_file():
        held = json.loads(path.read_text("utf-8"))
        if not resume:
            raise ValueError(
                f"{folder} already holds a rolling run ({held.get('scenario')!r}); resume it "
                "(resume=True, --resume) or choose another folder"
            )
        # a run from before the warm start existed had none
        held.setdefault("warm_start", False)
        differ = [k for k in manifest if k != "suandian" and held.get(k) != manifest[k]]
        if differ:
            raise ValueError(
                f"{folder} holds a rolling run of another scenario or settings "
                f"({', '.join(differ)} differ); a folder never mixes two runs: choose another "
                "folder"
            )
        return
    if folder.exists() and any(folder.iterdir()):
        raise ValueError(
            f"{folder} is not empty and holds no rolling run; choose an empty or new folder"
        )
    io.write_json(manifest, path)


def eta_seconds(spent: float, done: int, left: int) -> float:
    """Seconds still to go at the pace so far: ``spent / done * left`` (0 before any is done).

    The estimate of the progress lines of the rolling run and of sweeps
    (:class:`suandian.run.sweep.Progress`).
    """
    return spent / done * left if done > 0 else 0.0


class Progress:
    """One line per window on a stream: window, cost so far, PUE and green share to date, ETA."""

    def __init__(self, total: int, stream: Any = None, enabled: bool = True):
        self.total, self.stream, self.enabled = total, stream or sys.stderr, enabled
        self.began = time.perf_counter()
        self.done = 0

    def __call__(self, part: Part, year: dict[str, Any]) -> None:
        """Report one committed window and the figures to date."""
        self.done += 1
        if not self.enabled:
            return
        left = max(self.total - part.index - 1, 0)
        eta = eta_seconds(time.perf_counter() - self.began, self.done, left)
        pue = " ".join(f"{s} {v:.3f}" for s, v in year["pue"].items())
        green = " ".join(f"{s} {v:.1%}" for s, v in year["green"].items())
        line = (
            f"window {part.index + 1}/{self.total} {part.time[:16]} {part.status} | cost "
            f"{year['cost'] / 1e6:,.3f} M CNY | PUE {pue} | green {green} | ETA {eta:,.0f} s"
        )
        print(line, file=self.stream, flush=True)


class ToDate:
    """Running totals over the committed windows: cost, PUE and green share to date.

    Each window adds its committed sums once (no pass over the earlier windows).
    """

    def __init__(self, dt: float):
        self.dt, self.cost = dt, 0.0
        self.sums: dict[str, Any] = {}
        self.sites: list[str] = []

    def add(self, part: Part, committed: Any, certificates: Any) -> None:
        """Add a committed window: its cost, its flows (site, time) and certificates (site).

        ``certificates``: the window's committed certificates
        (:func:`~suandian.results.year.committed_certificates`).
        """
        self.cost += part.cost["total"]
        self.sites = [str(s) for s in committed["site"].values]
        for name in ("facility", "it", "green", "intake"):
            total = committed[name].sum("time").values * self.dt
            if name == "green":
                total = total + np.asarray(certificates)
            self.sums[name] = self.sums.get(name, 0.0) + total

    def figures(self) -> dict[str, Any]:
        """``cost`` (CNY), ``pue`` and ``green`` (share, certificates in) per site."""

        def r(a: str, b: str) -> dict[str, float]:
            num, den = self.sums[a], self.sums[b]
            return {
                s: float(num[i] / den[i]) if den[i] > 0 else float("nan")
                for i, s in enumerate(self.sites)
            }

        return {"cost": self.cost, "pue": r("facility", "it"), "green": r("green", "intake")}


@dataclass
class WindowBooks:
    """What the run keeps of a window's plan beside its Dataset (:func:`window_books`).

    Attributes
    ----------
    cost : dict
        Cost by term owed by the committed periods (:func:`committed_costs`), with ``total``.
    certificates : xarray.DataArray
        Certificates they owe, MWh per site (:func:`committed_certificates`).
    flows : xarray.Dataset
        The per-site flows of the books over the committed periods, MW (site, time).
    state : dict
        The state at the end of the committed periods (empty when not handed over).
    """

    cost: dict[str, float]
    certificates: Any
    flows: Any
    state: dict[str, Any]


def window_books(ds: Any, keep: int, hand_over: bool = True) -> WindowBooks:
    """The books of a window's first ``keep`` periods, every family's account read once.

    Under xarray's exact join where the labels allow (:func:`~suandian.results.year.exact_join`:
    the same figures, faster).
    """
    return exact_join(_window_books, ds, keep, hand_over)


def _window_books(ds: Any, keep: int, hand_over: bool) -> WindowBooks:
    """:func:`window_books` with xarray's options as they are."""
    from ..results.accounting import accounts, flows

    acc = accounts(ds)
    f = flows(ds, acc)
    return WindowBooks(
        cost=committed_costs(ds, keep, f, acc),
        certificates=committed_certificates(ds, keep, acc, f),
        flows=f.isel(time=slice(0, keep)),
        state=state_at(ds, keep - 1, f) if hand_over else {},
    )


def solve_rolling(
    scenario: Scenario,
    commit: str | int = "24h",
    lookahead: str | int = "24h",
    *,
    out: str | Path | None = None,
    resume: bool = False,
    progress: bool | Callable[[Part, dict[str, Any]], None] = True,
    certify: bool = False,
    stop_after: int | None = None,
    forecast: str = "foresight",
    warm_start: bool = False,
    options: SolveOptions | None = None,
    **overrides: Any,
) -> YearResult:
    """Plan ``scenario`` window by window (see the module docstring).

    Parameters
    ----------
    scenario : Scenario
        The whole horizon (e.g. a year of hourly periods).
    commit, lookahead : str or int
        Periods kept from each window and periods looked ahead beyond them: a duration
        (``'24h'``) or a period count. The last window reaches the horizon's end and keeps
        all its periods.
    out : path, optional
        Folder for the checkpoints (``windows/NNNN.npz`` and ``.json``) and, at the end, the
        stitched year (:meth:`YearResult.save`). A folder never mixes two runs: it must be
        new or empty, or hold this same run with ``resume=True``.
    resume : bool
        Go on from the last committed window in ``out`` (its records replayed).
    progress : bool or callable
        Print one line per window on stderr (window, cost so far, PUE and green share to
        date, ETA), or call ``progress(part, to_date)``.
    certify : bool
        Certify each window's plan as it is committed (its violations in the log);
        :meth:`YearResult.certify` certifies every window anyway.
    stop_after : int, optional
        Stop after this many windows in all (an interrupted run, to be resumed).
    forecast : {'foresight', 'neutral'}
        How a window's annual budgets see the rest of the horizon (``docs/math/rolling.md``,
        "Annual budgets"): ``'foresight'`` (default) solves the whole horizon as one LP
        first (:func:`foresight`, also the yardstick) and hands each window that plan's
        energies after the window as the forecast; ``'neutral'`` assumes the rest meets its
        targets exactly (no LP). Without an annual budget (no ``basis: year``) no LP is
        solved either way (call :func:`foresight` for the yardstick).
    warm_start : bool
        Also start each window's MIP from the previous window's plan shifted by ``commit``
        (:mod:`suandian.run.warm`; ``docs/math/rolling.md``, "Warm start"): its integers
        fixed and the LP of the rest, beside the roundings of the LP relaxation (the better
        plan is the start). Off by default: on the default hub's year it did not make the
        windows faster (measured, "Speed"). A resumed run reads the last window's plan from
        its checkpoint, so it starts the same way as the run that was not interrupted.
    options, **overrides
        Solve options for each window (:class:`suandian.SolveOptions`); ``time_limit`` is
        per window. Without ``options`` each window's ``mip_rel_gap`` is
        :data:`ROLLING_GAP` (1 %, ``docs/math/rolling.md``, "Speed"), not the 0.1 % of a
        single solve.

    Returns
    -------
    YearResult
        The committed plan over the horizon, its books, its per-window log.

    Raises
    ------
    RollingError
        When a window has no plan (infeasible, or no plan by the time limit).
    ValueError
        For bad lengths or a folder holding another run.
    """
    # no shadow prices per window unless asked; the rolling gap (measured, module constant)
    opts = options or SolveOptions(duals=False, mip_rel_gap=ROLLING_GAP)
    if overrides:
        opts = SolveOptions(**{**opts.__dict__, **overrides})
    opts = SolveOptions(**{**opts.__dict__, "progress": False})
    dt = scenario.dt
    C = periods_of(commit, dt, "commit")
    L = periods_of(lookahead, dt, "lookahead")
    span = C + L
    total = max(1, -(-max(scenario.periods - span, 0) // C) + 1)
    folder = None if out is None else Path(out)
    parts: list[Part] = []
    datasets: list[Any] = []
    if forecast not in ("foresight", "neutral"):
        raise ValueError(f"forecast={forecast!r}: use 'foresight' or 'neutral'")
    if folder is not None:
        manifest = _manifest(scenario, C, L, opts, warm_start) | {"forecast": forecast}
        _open_folder(folder, manifest, resume)
        parts, datasets = read_parts(folder / "windows")
    t0 = time.perf_counter()
    from ..catalogue import every

    annual = any(c.year_budget(scenario) for c in every() if c.year_budget is not None)
    wanted = forecast == "foresight" and annual  # no annual budget: nothing to forecast
    ahead = Forecast.of(scenario, folder, opts) if wanted else Forecast.none()
    seconds = {"foresight": time.perf_counter() - t0}
    report = progress if callable(progress) else Progress(total, enabled=bool(progress))
    to_date = ToDate(dt)
    committed_flows = []
    certificates = []  # each window's committed certificates (site), for the year's books
    for p, ds in zip(parts, datasets, strict=True):  # resuming: the windows on disk
        books = window_books(ds, p.committed, hand_over=False)
        committed_flows.append(books.flows)
        certificates.append(books.certificates)
        to_date.add(p, committed_flows[-1], certificates[-1])
    # the rest of the horizon, raw: only the windows solved are validated
    rest, start = scenario.raw_horizon(), 0
    for p in parts:  # replay: the rest of the horizon after each committed window
        if start + p.committed >= scenario.periods:
            break
        rest = rest.cut(p.committed, rest.periods - p.committed, p.state_out)
        start += p.committed
    done = bool(parts) and parts[-1].start + parts[-1].committed >= scenario.periods
    state: dict[str, Any] = parts[-1].state_out if parts else {}
    day = max(1, round(24.0 / dt))
    held: dict[str, Any] = {"plan": None, "model": None}
    if warm_start and parts and folder is not None:  # resuming: the last window's plan
        held["plan"] = read_plan(_plan_path(folder, parts[-1].index))

    def prepare(model: Model) -> None:
        """Set the window's warm start: the previous window's plan shifted by ``C``."""
        held["model"] = model
        if held["plan"] is not None:
            tail = day if TAIL_REPEATS_DAY else 0
            linear_model(model).start = shifted(held["plan"], linear_model(model), C, tail)

    while not done:
        if stop_after is not None and len(parts) >= stop_after:
            break
        index = len(parts)
        began = time.perf_counter()
        last = rest.periods <= span
        n = rest.periods if last else span
        keep = n if last else C
        # with a forecast, the budgets count the committed periods and take the rest
        # (look-ahead included) from the forecast; the neutral rule counts the whole window
        counted = keep if ahead.ds is not None and not last else None
        told = ahead.after(start + (keep if counted else n))
        now = rest.cut(0, n, forecast=told, budget_periods=counted).scenario()
        cut = time.perf_counter() - began
        held["model"] = None
        result = _solve(now, opts, prepare=prepare if warm_start else None)
        when = str(now.time[0])
        if not result.has_plan:
            raise RollingError(index, when, result.status, result.diagnosis, parts)
        t0 = time.perf_counter()
        ds = result.ds
        books = window_books(ds, keep, hand_over=not last)
        cost, handed = books.cost, books.state
        committed_flows.append(books.flows)
        certificates.append(books.certificates)
        booked = time.perf_counter() - t0
        t0 = time.perf_counter()
        violations = [str(v) for v in result.certify()] if certify else []
        checked = time.perf_counter() - t0
        timing = {"window": cut, **dict(result.info.timings), "books": booked}
        timing["certify"] = checked
        part = Part(
            index=index,
            start=start,
            periods=now.periods,
            committed=keep,
            time=when,
            status=result.status,
            objective=float(result.objective),
            mip_gap=float(result.mip_gap),
            cost=cost,
            seconds=timing,
            state_in=state,
            state_out=handed,
            violations=violations,
            forecast=told,
            start_plan=_start_plan(result.info),
        )
        if held["model"] is not None:
            t0 = time.perf_counter()
            held["plan"] = plan_of(linear_model(held["model"]))
            held["model"] = None
            part.seconds["warm"] = part.seconds.get("warm", 0.0) + time.perf_counter() - t0
        if folder is not None:
            t0 = time.perf_counter()
            if warm_start and held["plan"] is not None:  # before the record: resume reads it
                write_plan(held["plan"], _plan_path(folder, index))
            write_part(folder / "windows", part, ds)
            if index > 0:
                _plan_path(folder, index - 1).unlink(missing_ok=True)
            part.seconds["checkpoint"] = time.perf_counter() - t0
        parts.append(part)
        datasets.append(ds)
        t0 = time.perf_counter()
        to_date.add(part, committed_flows[-1], certificates[-1])
        report(part, to_date.figures())
        part.seconds["books"] += time.perf_counter() - t0
        if last:
            break
        t0 = time.perf_counter()
        rest = rest.cut(C, rest.periods - C, handed)
        part.seconds["window"] += time.perf_counter() - t0
        start += C
        state = handed
    t0 = time.perf_counter()
    year = YearResult.from_parts(parts, datasets, committed_flows, certificates)
    seconds["stitch"] = time.perf_counter() - t0
    year.foresight, year.seconds = ahead.summary, seconds
    if folder is not None and parts and parts[-1].start + parts[-1].committed >= scenario.periods:
        year.save(folder)
    return year


def _start_plan(info: Any) -> dict[str, Any]:
    """``Part.start_plan``: the MIP start's step and gap, and the returned plan's origin."""
    start = info.start
    if not start:
        return {"origin": info.origin}
    objective, bound = float(start.get("objective", np.nan)), float(start.get("bound", np.nan))
    gap = (objective - bound) / max(abs(objective), 1e-9)
    step = str(start.get("step", ""))
    return {"step": step, "objective": objective, "gap": gap, "origin": info.origin}


def _plan_path(folder: Path, index: int) -> Path:
    """Where window ``index``'s plan by variable is kept for the warm start of the next."""
    return folder / "windows" / f"{index:04d}.plan.npz"


def _minus(a: Any, b: Any) -> Any:
    """``a - b`` leaf by leaf for nested dicts of numbers (other leaves: ``a``'s)."""
    if isinstance(a, dict):
        return {k: _minus(v, b.get(k) if isinstance(b, dict) else None) for k, v in a.items()}
    if isinstance(a, int | float) and not isinstance(a, bool) and isinstance(b, int | float):
        return float(a) - float(b)
    return a


class Forecast:
    """The annual budgets' forecast of the rest of the horizon, from its foresight plan.

    ``after(e)`` is the energies of the year-budget families (``Component.year_budget``:
    their ``state_out`` from the plan of the whole horizon) over periods ``e .. T-1``, as a
    state to add to the window ending at ``e`` (empty when there is no plan or ``e >= T``).
    """

    def __init__(self, ds: Any, summary: dict[str, Any]):
        self.ds, self.summary = ds, summary
        self._total: dict[str, Any] = {}
        if ds is not None:
            from ..catalogue import known
            from ..results.accounting import flows

            self._flows = flows(ds)
            self._budgets = [c for c in known(ds) if c.year_budget and c.state_out is not None]
            self._total = self._at(ds.sizes["time"] - 1)

    @classmethod
    def none(cls) -> Forecast:
        """No forecast: the rest of the horizon is assumed to meet its targets."""
        return cls(None, {})

    @classmethod
    def of(cls, scenario: Scenario, folder: Path | None, opts: SolveOptions) -> Forecast:
        """Solve (or, resuming, read) the horizon's LP and keep its plan."""
        saved = None if folder is None else folder / "foresight.npz"
        if saved is not None and saved.is_file():
            read = io.read_arrays(saved)
            summary = json.loads(saved.with_suffix(".json").read_text("utf-8"))
            return cls(read, summary)
        keep = {k: getattr(opts, k) for k in ("threads", "log")}
        summary, result = _foresight(scenario, True, time_limit=opts.time_limit * 20, **keep)
        plan = result.ds if result.has_plan else None
        if saved is not None and plan is not None:
            io.write_json(summary, saved.with_suffix(".json"))
            io.write_arrays(plan, saved)
        return cls(plan, summary)

    def _at(self, t: int) -> dict[str, Any]:
        state = {}
        for c in self._budgets:
            assert c.state_out is not None
            entry = c.state_out(self.ds, t, self._flows)
            if entry:
                state[c.name] = entry
        return state

    def after(self, end: int) -> dict[str, Any]:
        """The forecast energies of periods ``end .. T-1`` (empty without a plan)."""
        if self.ds is None or end >= self.ds.sizes["time"] or not self._total:
            return {}
        return _minus(self._total, self._at(end - 1))


def foresight(scenario: Scenario, relax_integers: bool = True, **overrides: Any) -> dict:
    """The whole horizon as one model: the yardstick of a rolling plan.

    With ``relax_integers`` (default) the LP relaxation: its objective is a lower bound on
    the cost of any plan of the horizon, the rolling one included. Returns ``objective``,
    ``bound``, ``status``, ``relaxed``, ``seconds`` and the horizon's ``pue`` and
    ``green_share`` per site (the books of that plan).
    """
    return _foresight(scenario, relax_integers, **overrides)[0]


def _foresight(scenario: Scenario, relax_integers: bool, **overrides: Any) -> tuple[dict, Any]:
    """:func:`foresight` and the Result it read."""
    began = time.perf_counter()
    overrides = {"duals": False, "progress": False} | overrides
    result = solve(scenario, relax_integers=relax_integers, **overrides)
    out: dict[str, Any] = {
        "status": result.status,
        "relaxed": relax_integers,
        "objective": float(result.objective),
        "bound": float(result.info.bound),
        "seconds": time.perf_counter() - began,
    }
    if result.has_plan:
        k, ds = result.kpis, result.ds
        out["pue"] = dict(k["pue"])
        out["green_share"] = dict(k["green_share"])
        margins: dict[str, dict[str, float]] = {"pue": {}, "green_share": {}}
        if "pue_cap" in ds:  # cap - PUE of the horizon's plan (the year's, when it is the year)
            for s in ds["site"].values:
                cap = float(ds["pue_cap"].sel(site=s))
                if cap == cap:
                    margins["pue"][str(s)] = cap - float(k["pue"][str(s)])
        if "green_target" in ds and ds.sizes.get("scope", 0):
            for scope in ds["scope"].values:
                target = float(ds["green_target"].sel(scope=scope))
                if target == target:
                    margins["green_share"][str(scope)] = k["green_share"][str(scope)] - target
        out["margins"] = margins
    return out, result
