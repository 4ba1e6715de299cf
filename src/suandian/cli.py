"""``suandian`` command line: plan a day, validate a scenario, certify or report a results folder.

Exit codes: 0 plan found (optimal, or the best by the time limit), 1 bad input (including an
``--out`` that cannot be written, found before the solve), 2 infeasible (with a diagnosis),
3 no plan for another reason (time limit without any plan, solver error) or, for
``certify``, a results folder with problems.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from .embedded import DEFAULT_NAME, DEFAULT_YEAR, default_scenario

EPILOG = """\
examples:
  suandian solve                          plan the embedded Chongqing-Hami summer day
  suandian solve my_day.yaml --out plan/  plan your own scenario, results into plan/
  suandian solve --mip-rel-gap 0.005 --time-limit 20
  suandian validate my_day.yaml           check a scenario and list every problem
  suandian example --out my_day/          copy the default scenario and its data to edit
  suandian certify plan/                  re-check a saved results folder
  suandian report plan/                   one HTML page of it (plan.html): verdict, figures
  suandian offer --start 18:00 --hours 1,2 --mw 5,10,20
                                          what each site can hold below its plan, at what cost
  suandian rolling --out year/            the embedded hub's year, day by day (24 h + 24 h)
  suandian stochastic my_day.yaml --value two-stage plan over its uncertainty: section, VSS, EVPI
  suandian replay --plan plan/ --every 16 the plan run against the realised day, re-planned
                                          every 16 periods, settled as billed
  suandian replan my_day.yaml --from 56 --plan plan/
                                          re-plan from period 56 on a new forecast, keeping
                                          the plan's commitments
  suandian sweep --set policies.green_share.target=0.7,0.8 --set storage[cq_battery].energy=10,40
                                          4 cases (every combination) on a local dask cluster

results (in --out, default ./suandian-results): result.nc (everything, netCDF),
parquet/ and csv/ (one table per set of dimensions, e.g. site_time), kpis.json,
manifest.json (every file with its sha256). The folder is replaced whole by each run.
"""


__all__ = ["DEFAULT_NAME", "DEFAULT_YEAR", "default_scenario", "main"]


def _progress_to_stderr() -> None:
    """Show the ``suandian`` logger's progress lines (INFO) on stderr, once per process."""
    import logging

    logger = logging.getLogger("suandian")
    if not any(getattr(h, "_suandian_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("  %(message)s"))
        handler._suandian_cli = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _no_dask_probe() -> None:
    """Spare a one-shot command xarray's probe for dask arrays (~0.5 CPU s, measured).

    The first DataArray of a process makes xarray import ``dask.array`` (and with it parts of
    scipy) to learn dask's array type, when dask is installed. A command that never imports
    dask (``suandian solve``) makes no dask arrays, so xarray is told there is no dask: its
    cache of duck-array modules (private to xarray, hence guarded: if its form changes,
    xarray probes as before). Not done when dask is already imported.
    """
    if "dask" in sys.modules:
        return
    try:
        from packaging.version import Version
        from xarray.namedarray import pycompat

        cache = pycompat._cached_duck_array_modules
        if "dask" in cache:
            return
        absent = object.__new__(pycompat.DuckArrayModule)
        absent.module, absent.version, absent.type = None, Version("0.0.0"), ()
        absent.available = False
        cache["dask"] = absent
    except (ImportError, AttributeError, TypeError):  # another xarray: it probes as before
        return


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send whatever is written to standard output meanwhile to standard error.

    Python's ``print`` and the C library's (HiGHS's log with ``--log``): the file descriptor
    1 itself is pointed at 2, so standard output keeps the tables alone.
    """
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):  # no real stdout (some notebooks)
        with contextlib.redirect_stdout(sys.stderr):
            yield
        return
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        _flush_c_stdout()
        os.dup2(saved, 1)
        os.close(saved)


def _flush_c_stdout() -> None:
    """Flush the C library's output buffers (what HiGHS printed) before fd 1 changes back."""
    import ctypes

    try:
        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):  # pragma: no cover - no C library to ask
        pass


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    code = args.run(args)
    if argv is None:  # the ``suandian`` command itself, not a call from Python
        _exit_past_left_behind_runs(code)
    return code


def _exit_past_left_behind_runs(code: int) -> None:
    """End the process now if a HiGHS run left behind at its deadline is still running.

    A run that did not stop at its deadline goes on in its thread until HiGHS next checks
    its limits (``highs.run_until``), which can be a minute, and the interpreter's exit
    waits for it. Everything the command had to do is done and written by now, so the
    process flushes its streams and ends with ``code`` at once (``os._exit``; the thread is
    not waited for). Only for the command line: a Python session keeps its threads.
    """
    highs = sys.modules.get("suandian.highs")
    if highs is None or not highs.left_behind():
        return
    print(
        "suandian: a HiGHS run left behind at its deadline is still running; exiting "
        "without waiting for it (all outputs are written)",
        file=sys.stderr,
    )
    import logging

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _solver_flags(
    parser: argparse.ArgumentParser,
    *,
    per: str,
    gap: float = 1e-3,
    time_limit: float = 60.0,
    threads: int | None | bool = None,
    note: str = "",
) -> None:
    """Add the solver flags every solving verb shares.

    ``--mip-rel-gap`` (alias ``--mip-gap``), ``--time-limit`` and ``--threads``; ``per``
    says what they apply to (" per case"), ``threads=False`` leaves ``--threads`` out.
    """
    parser.add_argument(
        "--mip-rel-gap",
        "--mip-gap",
        dest="mip_rel_gap",
        type=float,
        default=gap,
        metavar="G",
        help=f"relative MIP gap{per}, mip_rel_gap in Python{note} (default: %(default)s)",
    )
    parser.add_argument(
        "--time-limit",
        type=float,
        default=time_limit,
        metavar="S",
        help=f"seconds{per}; the best plan found by then is returned with its gap "
        "(default: %(default)s)",
    )
    if threads is not False:
        parser.add_argument(
            "--threads", type=int, default=threads, help="HiGHS threads (default: %(default)s)"
        )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="suandian",
        description="Plan data-center compute and the electricity behind it at least cost, "
        "with a green-share target and PUE caps (Pyomo + HiGHS).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"suandian {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    solve = sub.add_parser(
        "solve",
        help="plan a scenario (default: the embedded Chongqing-Hami day)",
        description="Build and solve a scenario, print the KPI table, write the results.",
    )
    solve.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        help="scenario YAML file (default: the embedded Chongqing-Hami day)",
    )
    solve.add_argument(
        "--out",
        type=Path,
        default=Path("suandian-results"),
        help="folder for the results, replaced whole by this run; checked writable before "
        "the solve (default: %(default)s)",
    )
    _solver_flags(solve, per="", note="; --mip-gap is the same")
    solve.add_argument(
        "--formats",
        default="netcdf,parquet,csv",
        help="comma-separated subset of netcdf,parquet,csv (default: all)",
    )
    solve.add_argument(
        "--no-certify", action="store_true", help="skip the independent re-check of the plan"
    )
    solve.add_argument(
        "--log",
        "--verbose",
        action="store_true",
        help="print the HiGHS log (banner, iterations) on stderr",
    )
    solve.add_argument(
        "--quiet", action="store_true", help="no progress lines on stderr while solving"
    )
    solve.add_argument(
        "--no-mip-start",
        action="store_true",
        help="do not build a rounded-and-repaired plan before the MIP (SolveOptions.mip_start)",
    )
    solve.add_argument(
        "--no-decompose",
        action="store_true",
        help="do not search the Lagrangian dual over independent blocks (site pairs) before "
        "the MIP (SolveOptions.decompose)",
    )
    solve.set_defaults(run=_solve)

    validate = sub.add_parser(
        "validate",
        help="check a scenario and list every problem",
        description="Load a scenario and report every problem at once.",
    )
    validate.add_argument("scenario", type=Path, help="scenario YAML file")
    validate.set_defaults(run=_validate)

    example = sub.add_parser(
        "example",
        help="copy the default scenario and data to edit",
        description="Copy the embedded scenario (models/) and its data (data/) into a directory.",
    )
    example.add_argument(
        "--out",
        type=Path,
        default=Path("suandian-example"),
        help="target directory (default: %(default)s)",
    )
    example.set_defaults(run=_example)

    certify = sub.add_parser(
        "certify",
        help="re-check a saved results folder (manifest, checksums, plan, KPIs)",
        description="Verify a results folder written by 'suandian solve': every file against "
        "the manifest's sha256, the plan against the formulation, and kpis.json against the "
        "KPIs recomputed from the plan. Exit 0 when clean, 3 with the list of problems.",
    )
    certify.add_argument("folder", type=Path, help="results folder (the --out of a solve)")
    certify.add_argument(
        "--tol", type=float, default=1e-5, help="relative tolerance of the plan checks"
    )
    certify.set_defaults(run=_certify)

    report = sub.add_parser(
        "report",
        help="write one self-contained HTML page of a saved plan, sweep or rolling run",
        description="Write one HTML file of a results folder (the --out of 'suandian solve', "
        "'suandian sweep' or 'suandian rolling'): the verdict first (certified or not, green "
        "share and PUE per site against their targets, cost), then the figures (embedded "
        "PNG), the cost by term, the shadow prices and the diagnosis if any. The file needs "
        "no network.",
    )
    report.add_argument(
        "folder", type=Path, help="results folder of a solve, a sweep or a rolling run"
    )
    report.add_argument(
        "--out",
        type=Path,
        default=None,
        help="the HTML file (default: FOLDER.html beside the folder: a file inside it would "
        "not be part of the run its manifest lists)",
    )
    report.set_defaults(run=_report)

    offer = sub.add_parser(
        "offer",
        help="price what each site can hold below its plan (MW x hours x CNY)",
        description="Plan the scenario, then re-plan it with each site's metered draw held "
        "MW below the plan for a window, for every level and window length, and print the "
        "cost of each offer (docs/math/flexibility.md).",
    )
    offer.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        help="scenario YAML file (default: the embedded Chongqing-Hami day)",
    )
    offer.add_argument(
        "--start",
        required=True,
        help="first period of the windows: HH:MM on the horizon's first day, a timestamp "
        "or a period index",
    )
    offer.add_argument("--hours", default="1,2,4", help="window lengths, h (default: %(default)s)")
    offer.add_argument(
        "--mw", default="5,10,20", help="levels below the plan, MW (default: %(default)s)"
    )
    offer.add_argument("--sites", default=None, help="comma-separated sites (default: all)")
    _solver_flags(
        offer,
        per=" per plan",
        gap=1e-4,
        threads=False,
        note="; costs are differences of two plans, so keep it tight",
    )
    offer.add_argument(
        "--csv", type=Path, default=None, help="also write the table to this CSV file"
    )
    offer.add_argument(
        "--quiet", action="store_true", help="no progress line per re-plan on stderr"
    )
    offer.set_defaults(run=_offer)
    _rolling_parser(sub)
    _stochastic_parser(sub)
    _replay_parsers(sub)
    _sweep_parser(sub)
    return parser


def _sweep_parser(sub) -> None:
    sweep = sub.add_parser(
        "sweep",
        help="solve a scenario for many values of its fields (dask.distributed)",
        description="Solve the scenario once per case: each --set names a field by path "
        "and gives its values; --design grid takes every combination, zip the i-th values "
        "together, random --n draws (seeded). Every case is validated before any solve and "
        "certified after; the cases run on a local dask cluster (one single-thread worker "
        "per core) or the cluster at --scheduler. Writes sweep.nc, cases.csv and sweep.json "
        "into --out (docs/sweeps.md).",
        epilog="paths: policies.green_share.target, storage[cq_battery].energy (an item by "
        "name), storage.0.energy or storage[0].energy (by position). values: 0.7,0.8,0.9 or a "
        "YAML list [0.7, 0.8]; for --design random also uniform:LOW:HIGH, loguniform:LOW:HIGH, "
        "normal:MEAN:SD, integers:LOW:HIGH (a plain list is drawn from).",
    )
    sweep.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        help="scenario YAML file (default: the embedded Chongqing-Hami day)",
    )
    sweep.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="PATH=VALUES",
        help="a field and its values, e.g. policies.green_share.target=0.7,0.8 (repeat)",
    )
    sweep.add_argument("--design", choices=("grid", "zip", "random"), default="grid")
    sweep.add_argument("--n", type=int, default=None, help="cases of a random design")
    sweep.add_argument("--seed", type=int, default=None, help="seed of a random design")
    sweep.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="dask scheduler of an existing cluster (tcp://host:8786), or 'serial' to solve "
        "here one by one (default: a local cluster)",
    )
    sweep.add_argument(
        "--workers", type=int, default=None, help="workers of the local cluster (default: cores)"
    )
    sweep.add_argument(
        "--out",
        type=Path,
        default=Path("suandian-sweep"),
        help="folder for the results, replaced whole (default: %(default)s)",
    )
    _solver_flags(sweep, per=" per case", threads=1)
    sweep.add_argument("--quiet", action="store_true", help="no line per finished case")
    sweep.set_defaults(run=_sweep)


def _sweep_values(text: str, random: bool) -> object:
    """Values of one ``--set``: a distribution ``kind:a:b``, a YAML list or comma-separated."""
    import yaml

    from .run.sweep import DISTRIBUTIONS

    head, _, rest = text.partition(":")
    if random and head in DISTRIBUTIONS and head != "choice":
        return (head, *(yaml.safe_load(x) for x in rest.split(":")))
    if text.lstrip().startswith("["):
        return yaml.safe_load(text)
    return [yaml.safe_load(v) for v in text.split(",") if v.strip()]


def _rolling_parser(sub) -> None:
    rolling = sub.add_parser(
        "rolling",
        help="plan a long horizon (a year) window by window, carrying the state",
        description="Solve the scenario as a rolling horizon: windows of --commit + "
        "--lookahead, each a full MILP starting from the state the previous one committed; "
        "print one line per window; write checkpoints, the stitched plan, the per-window log, "
        "the monthly table and the year's KPIs into --out; certify the year as a whole "
        "(docs/math/rolling.md). An interrupted run goes on with --resume.",
    )
    rolling.add_argument(
        "scenario",
        nargs="?",
        type=Path,
        help="scenario YAML file (default: the embedded Chongqing-Hami year)",
    )
    rolling.add_argument("--commit", default="24h", help="periods kept per window (default 24h)")
    rolling.add_argument(
        "--lookahead", default="24h", help="periods looked ahead per window (default 24h)"
    )
    rolling.add_argument(
        "--out",
        type=Path,
        default=Path("suandian-rolling"),
        help="folder for checkpoints and results; new or empty, or this same run with "
        "--resume (default: %(default)s)",
    )
    rolling.add_argument(
        "--resume", action="store_true", help="go on from the last window committed in --out"
    )
    # suandian.run.rolling.ROLLING_GAP (not imported here: the parser stays light)
    _solver_flags(rolling, per=" per window", gap=0.01)
    rolling.add_argument(
        "--forecast",
        choices=("foresight", "neutral"),
        default="foresight",
        help="how the annual budgets see the rest of the horizon: 'foresight' solves it as "
        "one LP first (also the yardstick and the value of foresight), 'neutral' assumes it "
        "meets its targets (default: %(default)s)",
    )
    rolling.add_argument(
        "--warm-start",
        action="store_true",
        help="also start each window from the previous window's plan shifted by the "
        "committed part (docs/math/rolling.md, 'Warm start'; measured not to pay on the "
        "default year)",
    )
    rolling.add_argument(
        "--stop-after", type=int, default=None, metavar="N", help="stop after N windows"
    )
    rolling.add_argument("--quiet", action="store_true", help="no line per window")
    rolling.add_argument(
        "--no-certify", action="store_true", help="skip the re-check of the year at the end"
    )
    rolling.set_defaults(run=_rolling)


def _stochastic_parser(sub) -> None:
    st = sub.add_parser(
        "stochastic",
        help="two-stage day-ahead plan over the scenario's uncertainty: section",
        description="Solve a two-stage plan over tomorrow's scenarios (the scenario file's "
        "uncertainty: section, given or generated and reduced): one first stage (blocks on, "
        "corridor blocks, DR, reserve offers, the day-ahead position), the dispatch per "
        "scenario; print each scenario's cost, the expected cost, its spread and CVaR; with "
        "--value also the mean-forecast plan, VSS, EVPI and the out-of-sample figures; write "
        "the tables, the first stage and each scenario's result into --out "
        "(docs/math/stochastic.md).",
    )
    st.add_argument("scenario", type=Path, help="scenario YAML file with an uncertainty: section")
    st.add_argument(
        "--out",
        type=Path,
        default=Path("suandian-stochastic"),
        help="folder for the results, new or empty (default: %(default)s)",
    )
    _solver_flags(st, per=" per solve", time_limit=300.0)
    st.add_argument("--alpha", type=float, default=None, help="CVaR level (default: the file's)")
    st.add_argument(
        "--risk-weight", type=float, default=None, help="weight of the CVaR in the objective"
    )
    st.add_argument(
        "--value", action="store_true", help="also EV, EEV, VSS, WS, EVPI and out of sample"
    )
    st.add_argument(
        "--method",
        choices=("extensive", "decomposed"),
        default="extensive",
        help="the two-stage plan as one model (extensive, default) or decomposed by scenario "
        "(Lagrangian over the first stage; docs/math/stochastic.md)",
    )
    st.add_argument(
        "--dr-baseline",
        choices=("mean_forecast", "per_scenario"),
        default="mean_forecast",
        help="a no_event DR baseline: the mean forecast's plan without the event, one for "
        "every scenario (default), or each scenario's own (docs/math/stochastic.md)",
    )
    st.add_argument(
        "--start",
        choices=("mean_forecast", "relaxation"),
        default="mean_forecast",
        help="the extensive form's MIP start: the mean forecast's first stage (default) or "
        "the LP relaxation rounded",
    )
    st.add_argument("--no-certify", action="store_true", help="skip the certifier")
    st.set_defaults(run=_stochastic)


def _replay_parsers(sub) -> None:
    rp = sub.add_parser(
        "replay",
        help="run a plan against the realised day, re-planning every K periods",
        description="Run a day-ahead plan (--plan: a folder of suandian solve, stochastic, "
        "replay or replan) against the day as it happened (--realised, default the scenario's "
        "uncertainty.realised files): its first stage fixed all day, the rest re-planned "
        "every K periods from what has happened, and the realised day settled as billed. "
        "Prints planned against realised cost by term, the deviations and their charges and "
        "the targets as met; writes the settled day (a results folder) with replay.json, "
        "replay_costs.csv, replay_deviations.csv and first_stage.nc into --out "
        "(docs/math/stochastic.md, 'Replay').",
    )
    rp.add_argument(
        "scenario",
        type=Path,
        nargs="?",
        help="scenario YAML file: the day-ahead forecast (default: the embedded day)",
    )
    rp.add_argument("--plan", type=Path, required=True, help="folder holding the plan")
    rp.add_argument(
        "--realised",
        type=Path,
        action="append",
        default=None,
        metavar="FILE",
        help="CSV of the realised series (repeatable; default: uncertainty.realised)",
    )
    rp.add_argument(
        "--every",
        type=int,
        default=None,
        metavar="K",
        help="periods run between re-plans (default: all, no re-plan)",
    )
    rp.add_argument(
        "--shortfall-penalty",
        type=float,
        default=None,
        metavar="CNY",
        help="value of compute not served, CNY per compute unit x h (default: none, required)",
    )
    rp.add_argument(
        "--out",
        type=Path,
        default=Path("suandian-replay"),
        help="folder for the results, new or empty (default: %(default)s)",
    )
    _solver_flags(rp, per=" per solve")
    rp.set_defaults(run=_replay)
    rn = sub.add_parser(
        "replan",
        help="re-plan the rest of the day from a period, keeping the plan's commitments",
        description="Re-plan periods --from .. of the day on the scenario's series (the "
        "updated forecast of the whole day), from what has happened (the state at the end of "
        "period --from - 1 of the --plan folder's result, or --state), keeping the plan's "
        "first stage (blocks, corridor blocks, DR, reserve offers, day-ahead position). "
        "Writes the re-plan (a results folder) with replan.json and first_stage.nc into --out.",
    )
    rn.add_argument("scenario", type=Path, help="scenario YAML file: the updated forecast")
    rn.add_argument(
        "--from",
        dest="start",
        type=int,
        required=True,
        metavar="PERIOD",
        help="first period re-planned (0-based)",
    )
    rn.add_argument("--plan", type=Path, required=True, help="folder holding the plan")
    rn.add_argument(
        "--state",
        type=Path,
        default=None,
        metavar="FILE",
        help="JSON of what has happened (Result.final_state); default: from --plan's result",
    )
    rn.add_argument(
        "--shortfall-penalty",
        type=float,
        default=None,
        metavar="CNY",
        help="value of compute not served, CNY per compute unit x h (default: none, required)",
    )
    rn.add_argument(
        "--out",
        type=Path,
        default=Path("suandian-replan"),
        help="folder for the results, new or empty (default: %(default)s)",
    )
    _solver_flags(rn, per=" per solve")
    rn.set_defaults(run=_replan)


def _checked_flags(args: argparse.Namespace, plan: bool = False) -> list[str]:
    """Problems with the solver flags, --out and (``plan``) --plan (nothing written)."""
    from .results.io import check_output

    problems = []
    if not (args.mip_rel_gap >= 0):
        problems.append(f"--mip-rel-gap {args.mip_rel_gap}: use a relative gap >= 0, e.g. 0.001")
    if not (args.time_limit > 0):
        problems.append(f"--time-limit {args.time_limit}: use seconds > 0")
    try:
        check_output(args.out)
    except OSError as exc:
        problems.append(f"--out: {exc}")
    if plan and not args.plan.is_dir():
        problems.append(f"--plan {args.plan}: not a folder; give the folder of a plan")
    return problems


def _solver_options(args: argparse.Namespace) -> dict:
    """The solve options of the flags :func:`_solver_flags` declares."""
    return {"mip_rel_gap": args.mip_rel_gap, "time_limit": args.time_limit, "threads": args.threads}


def _save_certified(result, out: Path, extra, done: str) -> int:
    """Save ``result`` (with ``extra`` files) to ``out`` and certify it; the exit code.

    1 when the folder cannot be written, 3 when the certifier finds a violation, else 0
    after printing ``certifier: <done> to <out>/``.
    """
    try:
        result.save(out, extra=extra)
    except OSError as exc:
        print(f"--out: results not saved: {exc}", file=sys.stderr)
        return 1
    if _violations(result.certify()):
        return 3
    print(f"certifier: {done} to {out}/")
    return 0


def _replay(args: argparse.Namespace) -> int:
    import json

    from . import load_scenario
    from .results import io
    from .run.replay import ReplayError, load_plan, replay, save_plan
    from .scenario import ScenarioError
    from .scenario.uncertainty import realised_scenario

    problems = _checked_flags(args, plan=True)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    opts = _solver_options(args)
    try:
        forecast = load_scenario(args.scenario or default_scenario())
        files = [str(f.resolve()) for f in args.realised] if args.realised else None
        realised = realised_scenario(forecast, files)
        plan, planned = load_plan(args.plan, forecast)
        with _stdout_to_stderr():
            rep = replay(
                plan,
                forecast,
                realised,
                args.every,
                planned=planned,
                compute_shortfall_penalty=args.shortfall_penalty,
                **opts,
            )
    except (ScenarioError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    except ReplayError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(rep.costs().to_string(index=False))
    print(rep.deviations().to_string(index=False))
    summary = {**rep.summary(), "compliance": rep.compliance()}
    print(json.dumps(summary, indent=1))

    def extra(folder: Path) -> None:
        io.write_json(summary, folder / "replay.json")
        rep.costs().to_csv(folder / "replay_costs.csv", index=False)
        rep.deviations().to_csv(folder / "replay_deviations.csv", index=False)
        save_plan(plan, folder / "first_stage.nc")

    return _save_certified(rep.result, args.out, extra, "the realised day checks; wrote the replay")


def _replan(args: argparse.Namespace) -> int:
    import json

    from . import load_scenario
    from .results import io
    from .run.replay import load_plan, save_plan
    from .run.stochastic import replan
    from .scenario import ScenarioError
    from .scenario.uncertainty import _member

    problems = _checked_flags(args, plan=True)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    opts = _solver_options(args)
    try:
        sc = load_scenario(args.scenario)
        plan, result = load_plan(args.plan, sc)
        state = None
        if args.start > 0:
            if args.state is not None:
                state = json.loads(args.state.read_text(encoding="utf-8"))
            elif result is not None:
                state = result.final_state(args.start - 1)
            else:
                raise ValueError(
                    f"--plan {args.plan} has no result.nc to read what has happened from: give "
                    "--state FILE (the JSON of Result.final_state at period --from - 1)"
                )
        day = _member(sc, sc.config.name, 1.0, sc.series.copy())  # the forecast, one day
        with _stdout_to_stderr():
            out = replan(
                plan,
                day,
                args.start,
                state,
                compute_shortfall_penalty=args.shortfall_penalty,
                **opts,
            )
    except (ScenarioError, ValueError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 1
    if not out.info.has_solution:
        print(
            f"re-plan from period {args.start}: {out.status}; the plan's commitments cannot "
            "carry this forecast (try --shortfall-penalty)",
            file=sys.stderr,
        )
        return 2
    result_rp = out.results[0]
    summary = {"from": args.start, "cost": float(out.costs[0]), "status": out.status}
    print(json.dumps(summary, indent=1))

    def extra(folder: Path) -> None:
        io.write_json(summary, folder / "replan.json")
        save_plan(plan, folder / "first_stage.nc")

    return _save_certified(result_rp, args.out, extra, "the re-plan checks; wrote it")


def _stochastic(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from . import load_scenario
    from .run.stochastic import solve_stochastic, stochastic_value
    from .scenario import ScenarioError
    from .scenario.uncertainty import scenario_set

    problems = _checked_flags(args)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    opts = _solver_options(args)
    try:
        ss = scenario_set(load_scenario(args.scenario))
        rp = solve_stochastic(
            ss,
            alpha=args.alpha,
            risk_weight=args.risk_weight,
            method=args.method,
            dr_baseline=args.dr_baseline,
            start=args.start,
            **opts,
        )
    except (ScenarioError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    if ss.reduction:
        r = ss.reduction
        print(
            f"{r['samples']} draws reduced to {r['kept']} by {r['method']}: Kantorovich error "
            f"{r['error']:.4g} ({r['relative_error']:.1%} of the best single scenario's)"
        )
    if not rp.info.has_solution:
        print(
            f"two-stage plan: {rp.status}; diagnose a scenario with suandian solve", file=sys.stderr
        )
        return 2
    print(rp.table().to_string(index=False))
    print(json.dumps(rp.summary(), indent=1))
    args.out.mkdir(parents=True, exist_ok=True)
    rp.table().to_csv(args.out / "scenarios.csv", index=False)
    plan = {k: np.asarray(v).tolist() for k, v in rp.first_stage.items()}
    (args.out / "first_stage.json").write_text(json.dumps(plan), encoding="utf-8")
    from .run.replay import save_plan

    save_plan(rp.first_stage, args.out / "first_stage.nc")  # labelled: replay, replan
    (args.out / "summary.json").write_text(json.dumps(rp.summary(), indent=1), encoding="utf-8")
    for name, result in zip(rp.names, rp.results, strict=True):
        result.save(args.out / name, formats=("csv",))
    if args.value:
        try:
            value = stochastic_value(ss, rp=rp, dr_baseline=args.dr_baseline, **opts)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(value.table().to_string(index=False))
        value.table().to_csv(args.out / "value.csv", index=False)
    if not args.no_certify:
        if _violations(rp.certify()):
            return 3
        print(
            f"certifier: every scenario's plan and the shared first stage check ({len(rp.names)})"
        )
        met = rp.probability_met()
        if met:
            print(
                "targets met with probability: " + ", ".join(f"{k} {v:.3g}" for k, v in met.items())
            )
            (args.out / "targets_met.json").write_text(json.dumps(met, indent=1), encoding="utf-8")
    print(f"wrote the two-stage plan to {args.out}/")
    return 0


def _sweep(args: argparse.Namespace) -> int:
    import yaml

    from . import ScenarioError, load_scenario, sweep
    from .results.io import check_output

    problems = []
    params: dict[str, object] = {}
    for text in args.sets:
        path, sep, values = text.partition("=")
        if not sep or not path.strip() or not values.strip():
            problems.append(
                f"--set {text!r}: write PATH=VALUES, e.g. policies.green_share.target=0.7,0.8"
            )
            continue
        try:
            params[path.strip()] = _sweep_values(values, args.design == "random")
        except yaml.YAMLError as exc:
            problems.append(f"--set {text!r}: values are not readable ({exc}); e.g. 0.7,0.8")
    if not args.sets:
        problems.append("give at least one --set PATH=VALUES")
    if not (args.mip_rel_gap >= 0):
        problems.append(f"--mip-rel-gap {args.mip_rel_gap}: use a relative gap >= 0, e.g. 0.001")
    if not (args.time_limit > 0):
        problems.append(f"--time-limit {args.time_limit}: use seconds > 0")
    if args.workers is not None and args.workers < 1:
        problems.append(f"--workers {args.workers}: use a count >= 1")
    try:
        check_output(args.out)
    except OSError as exc:
        problems.append(f"--out: {exc}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    try:
        scenario = load_scenario(args.scenario or default_scenario())
        result = sweep(
            scenario,
            params,
            design=args.design,
            n=args.n,
            seed=args.seed,
            scheduler=args.scheduler,
            n_workers=args.workers,
            progress=not args.quiet,
            mip_rel_gap=args.mip_rel_gap,
            time_limit=args.time_limit,
            threads=args.threads,
        )
    except (ScenarioError, ValueError) as exc:  # SweepError is a ScenarioError
        print(exc, file=sys.stderr)
        return 1
    except ImportError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(result.summary())
    try:
        result.save(args.out)
    except OSError as exc:
        print(f"--out: results not saved: {exc}", file=sys.stderr)
        return 1
    ds = result.ds
    done = int(ds["certified"].sum())
    print(f"\n{done} of {ds.sizes['case']} cases certified; wrote the sweep to {args.out}/")
    for case in result.failed:
        row = ds.sel(case=case)
        why = row["diagnosis"].item() or row["error"].item() or row["certifier"].item()
        print(f"case {case} ({row['status'].item()}): {why}", file=sys.stderr)
    if not result.failed:
        return 0
    return 2 if all(ds["status"].sel(case=c).item() == "infeasible" for c in result.failed) else 3


def _violations(found: list) -> bool:
    """Print the certifier's violations (the first 20) on stderr; whether there were any."""
    if found:
        print(f"certifier: {len(found)} violation(s)", file=sys.stderr)
        for v in found[:20]:
            print(f"  - {v}", file=sys.stderr)
    return bool(found)


def _rolling(args: argparse.Namespace) -> int:
    from . import load_scenario
    from .run.rolling import RollingError, solve_rolling
    from .scenario import ScenarioError

    path = args.scenario or default_scenario("year")
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"planning {scenario!r} window by window (commit {args.commit}, look-ahead "
        f"{args.lookahead})"
    )
    try:
        year = solve_rolling(
            scenario,
            args.commit,
            args.lookahead,
            out=args.out,
            resume=args.resume,
            progress=not args.quiet,
            stop_after=args.stop_after,
            forecast=args.forecast,
            warm_start=args.warm_start,
            mip_rel_gap=args.mip_rel_gap,
            time_limit=args.time_limit,
            threads=args.threads,
        )
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    except RollingError as exc:
        print(exc, file=sys.stderr)
        return 2 if exc.status == "infeasible" else 3
    if year.parts[-1].start + year.parts[-1].committed < scenario.periods:
        print(f"stopped after {len(year.parts)} windows; go on with --resume")
        return 0
    print(year.summary())
    if not args.no_certify:
        if _violations(year.certify()):
            return 3
        print(
            f"certifier: the year satisfies every check ({len(year.parts)} windows, the state "
            "handed over, the committed costs, the annual rules)"
        )
    print(f"wrote the year to {args.out}/")
    return 0


def _numbers(text: str, flag: str, problems: list[str]) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or not all(v > 0 for v in values):
        problems.append(f"{flag} {text!r}: give positive numbers separated by commas, e.g. 1,2,4")
    return values


def _offer(args: argparse.Namespace) -> int:
    import pandas as pd

    from . import ScenarioError, SolveOptions, flexibility_offer, load_scenario, solve

    problems: list[str] = []
    hours = _numbers(args.hours, "--hours", problems)
    levels = _numbers(args.mw, "--mw", problems)
    if not (args.mip_rel_gap >= 0):
        problems.append(f"--mip-rel-gap {args.mip_rel_gap}: use a relative gap >= 0, e.g. 0.0001")
    if not (args.time_limit > 0):
        problems.append(f"--time-limit {args.time_limit}: use seconds > 0")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    try:
        scenario = load_scenario(args.scenario or default_scenario())
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 1
    start: int | pd.Timestamp
    text = args.start.strip()
    if text.isdigit():
        start = int(text)
    elif len(text) <= 5 and ":" in text:
        start = pd.Timestamp(f"{scenario.time[0].date()} {text}")
    else:
        start = pd.Timestamp(text)
    options = SolveOptions(
        mip_rel_gap=args.mip_rel_gap, time_limit=args.time_limit, duals=False, diagnose=False
    )
    if not args.quiet:
        _progress_to_stderr()
    print(f"planning {scenario!r}, then re-planning it for every offer", file=sys.stderr)
    with _stdout_to_stderr():
        base = solve(scenario, options)
    if not base.has_plan:
        print(f"no plan to measure offers from: {base.status}", file=sys.stderr)
        return 2 if base.status == "infeasible" else 3
    sites = None if args.sites is None else [s.strip() for s in args.sites.split(",")]
    try:
        with _stdout_to_stderr():
            table = flexibility_offer(
                scenario,
                start=start,
                hours=hours,
                levels_mw=levels,
                sites=sites,
                base=base,
                options=options,
            )
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"plan: {base.objective:,.0f} CNY ({base.status}, gap {base.mip_gap:.3%})")
    shown = table.drop(columns=["start", "reason"])
    shown = shown.round({"cost": 0, "cost_per_mwh": 1, "seconds": 1})
    print(shown.to_string(index=False))
    why = table[table["reason"] != ""]
    if len(why):
        print("\nwithout a cost:")
        for row in why.itertuples():
            print(f"  {row.site}, {row.hours:g} h, {row.mw:g} MW: {row.reason}")
    if args.csv is not None:
        table.to_csv(args.csv, index=False)
        print(f"wrote {args.csv}")
    return 0


def _solve(args: argparse.Namespace) -> int:
    from . import ScenarioError, load_scenario, solve
    from .results.io import FORMATS, check_output

    if not args.quiet:  # progress (incumbent, bound, gap) of solves longer than a second
        _progress_to_stderr()
    _no_dask_probe()
    problems = []
    if not (args.mip_rel_gap >= 0):
        problems.append(f"--mip-rel-gap {args.mip_rel_gap}: use a relative gap >= 0, e.g. 0.001")
    if not (args.time_limit > 0):
        problems.append(f"--time-limit {args.time_limit}: use seconds > 0 (inf for none)")
    if args.threads is not None and args.threads < 0:
        problems.append(f"--threads {args.threads}: use a count >= 0 (0: HiGHS's choice)")
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        problems.append(f"--formats {args.formats!r}: use some of {','.join(FORMATS)}")
    try:
        check_output(args.out)
    except OSError as exc:
        problems.append(f"--out: {exc}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1

    path = args.scenario or default_scenario()
    try:
        scenario = load_scenario(path)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"planning {scenario!r}", file=sys.stderr)
    with _stdout_to_stderr():  # the HiGHS log (--log) beside the progress, not in the table
        result = solve(
            scenario,
            mip_rel_gap=args.mip_rel_gap,
            time_limit=args.time_limit,
            threads=args.threads,
            log=args.log,
            mip_start=not args.no_mip_start,
            decompose=not args.no_decompose,
        )
    print(result.summary())
    try:  # every outcome is saved: a plan, or the solver report and diagnosis without one
        written = result.save(args.out, formats=formats)
    except OSError as exc:
        print(f"--out: results not saved: {exc}", file=sys.stderr)
        return 1
    print(f"\nwrote {len(written)} files to {args.out}/")
    if result.has_plan:
        if not args.no_certify:
            if _violations(result.certify()):
                return 3
            print(
                "certifier: the plan satisfies every check (balances, storage, deadlines, "
                "green share, PUE, cost)"
            )
        return 0
    if result.status == "infeasible":
        return 2
    print(f"no plan: {result.info.highs_status}", file=sys.stderr)
    return 3


def _certify(args: argparse.Namespace) -> int:
    from .results.certifier import certify_folder

    folder = Path(args.folder)
    if not folder.is_dir():
        print(f"{folder}: not a folder (give the --out folder of a solve)", file=sys.stderr)
        return 1
    problems = certify_folder(folder, tol=args.tol)
    if problems:
        print(f"{folder}: {len(problems)} problem(s)", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 3
    print(
        f"{folder}: clean (every file matches the manifest; the plan satisfies every check; "
        "the reported KPIs are the ones the plan gives)"
    )
    return 0


def _report(args: argparse.Namespace) -> int:
    from .results.html import ReportError, write_report

    try:
        import matplotlib

        matplotlib.use("Agg")  # off-screen: the command opens no window
        path = write_report(args.folder, args.out)
    except ImportError as exc:  # matplotlib missing
        print(
            f"{exc}: the report draws with matplotlib (pip install suandian[plot])", file=sys.stderr
        )
        return 1
    except ReportError as exc:
        print(exc, file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"--out: report not written: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({path.stat().st_size / 1024:,.0f} kB)")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from . import ScenarioError, load_scenario

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"ok: {scenario!r}")
    return 0


def _example(args: argparse.Namespace) -> int:
    import shutil

    source = default_scenario().parent.parent
    target = Path(args.out)
    # every path that must be a folder, checked before anything is copied
    for folder in (target, target / "models", target / "data"):
        if folder.exists() and not folder.is_dir():
            print(
                f"{folder}: exists and is not a folder; the example needs a folder there: "
                "move or remove it, or choose another --out",
                file=sys.stderr,
            )
            return 1
    try:
        for part in ("models", "data"):
            shutil.copytree(
                source / part,
                target / part,
                dirs_exist_ok=True,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
    except OSError as exc:  # shutil.Error included: unreadable or unwritable files
        print(
            f"{target}: cannot copy the example there ({exc}); choose another --out",
            file=sys.stderr,
        )
        return 1
    print(f"copied the default scenario to {target}/models/{DEFAULT_NAME} (data in {target}/data/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
