"""suandian benchmark: build / hand-over / solve / duals / extract, and the CLI end to end.

usage::

    python benchmarks/run.py [--cases day,week,year,cli] [--reps 3] [--year-reps N]
                             [--out benchmarks/results] [--report JSON]

Every measurement runs in a FRESH process, and repetitions are interleaved across cases (rep 1
of every case, then rep 2, ...). The tables report medians.

Cases
-----
``day``   the embedded default scenario (``models/chongqing_hami_day.yaml``), MILP, suandian's
          default options (gap 0.1 %, time limit 60 s).
``week``  ``generate.make_scenario(4, 168)``, MILP, gap 1 %, time limit 15 s.
``year``  ``generate.make_scenario(10, 8760)`` solved with ``relax_integers=True`` (the LP
          relaxation), time limit 900 s.
``cli``   the real command line, ``<venv>/bin/suandian solve --out <tmpdir>``, in a fresh
          process: wall time from spawn to exit, CPU seconds and peak RSS of that process.

``day`` / ``week`` / ``year`` run ``run.py --worker CASE``, which imports suandian (timed as
``import``), loads the scenario (``load``) and calls ``suandian.solve(scenario, ...)``, which
builds the model without Pyomo (``build_model(sc, pyomo=False)``). The phases are
``result.info.timings`` (build, handover, solve, duals, extract); CPU seconds of each phase come
from ``getrusage`` around the same calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: case -> description and options of ``suandian.solve`` (None: suandian's defaults).
CASES: dict[str, dict] = {
    "day": {
        "title": "day-ahead: embedded default, 2 sites x 96 x 15 min, MILP, suandian defaults",
        "sites": 2,
        "periods": 96,
        "options": {},
    },
    "week": {
        "title": "week: synthetic 4 sites x 168 h, MILP, gap 1 %, time limit 15 s",
        "sites": 4,
        "periods": 168,
        "options": {"mip_rel_gap": 1e-2, "time_limit": 15.0},
    },
    "year": {
        "title": "year: synthetic 10 sites x 8760 h, LP relaxation (relax_integers=True)",
        "sites": 10,
        "periods": 8760,
        "options": {"relax_integers": True, "time_limit": 900.0},
    },
    "cli": {
        "title": "CLI: `suandian solve --out <tmpdir>` (embedded default), fresh process",
    },
}

PHASES = ("build", "handover", "solve", "duals", "extract")
#: per-case timeout of one fresh process (s)
TIMEOUT = {"day": 120, "week": 180, "year": 1500, "cli": 120}

#: targets
DAY_E2E_S = 2.0
CLI_WALL_S = 2.0
YEAR_OVERHEAD = 0.3  # (build + handover + extract) / (solve + duals)
BUILD_GROWTH_MAX = 2.0  # year / week build µs per site-period


# =========================================================================== worker side
def _cpu() -> float:
    """CPU seconds of this process (all threads): robust to other load on a shared machine."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _clock(owner, name: str, calls: list) -> None:
    """Wrap ``owner.name`` to append ``(cpu at start, cpu at end)`` of every call to ``calls``."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = _cpu()
        try:
            return original(*args, **kwargs)
        finally:
            calls.append((start, _cpu()))

    setattr(owner, name, wrapper)


def _scenario(case: str):
    import suandian

    if case == "day":
        return suandian.load_scenario(ROOT / "models" / "chongqing_hami_day.yaml")
    sys.path.insert(0, str(ROOT))
    from benchmarks.generate import make_scenario

    spec = CASES[case]
    config, series = make_scenario(spec["sites"], spec["periods"], seed=0)
    return suandian.load_scenario(config, series=series)


def worker(case: str) -> dict:
    spec = CASES[case]
    out: dict = {"case": case, "load_avg_start": os.getloadavg()[0]}
    t = time.perf_counter()
    import highspy

    import suandian
    from suandian.results.result import Result

    out["import"] = time.perf_counter() - t

    t = time.perf_counter()
    sc = _scenario(case)
    out["load"] = time.perf_counter() - t

    # CPU seconds per phase: wrap the calls that make up each phase
    calls: dict[str, list] = {"build": [], "run": [], "duals": [], "extract": []}
    _clock(sys.modules["suandian.run.solve"], "build_model", calls["build"])
    _clock(highspy.Highs, "run", calls["run"])
    _clock(sys.modules["suandian.run.strategy"], "row_duals", calls["duals"])
    _clock(Result, "from_model", calls["extract"])

    t, cpu = time.perf_counter(), _cpu()
    result = suandian.solve(sc, **spec["options"])
    out["call"], out["call_cpu"] = time.perf_counter() - t, _cpu() - cpu

    timings = result.info.timings
    for phase in PHASES:
        out[phase] = timings.get(phase, 0.0)
    out["diagnosis"] = timings.get("diagnosis", 0.0)
    out["e2e"] = sum(out[p] for p in PHASES)
    out["unaccounted"] = out["call"] - out["e2e"] - out["diagnosis"]

    def span(key: str) -> float:
        return sum(b - a for a, b in calls[key])

    build_end = calls["build"][0][1]
    first_run_start, first_run_end = calls["run"][0]
    out["build_cpu"] = span("build")
    out["handover_cpu"] = first_run_start - build_end  # hand_over + passModel
    out["solve_cpu"] = first_run_end - first_run_start
    out["duals_cpu"] = span("duals")
    out["extract_cpu"] = span("extract")
    out["e2e_cpu"] = sum(out[p + "_cpu"] for p in PHASES)

    out["status"] = result.status
    out["objective"] = result.objective
    out["mip_gap"] = result.info.mip_gap
    out["size"] = result.info.size
    out["site_periods"] = len(sc.config.sites) * sc.periods
    out["build_us_per_site_period"] = 1e6 * out["build"] / out["site_periods"]
    out["pyomo_imported"] = "pyomo" in sys.modules
    out["peak_rss_mb"] = _rss_mb()
    return out


# =========================================================================== driver side
def _suandian_cli() -> Path:
    here = Path(sys.executable).with_name("suandian")
    return here if here.exists() else ROOT / ".venv" / "bin" / "suandian"


def _run_cli() -> dict:
    """Wall time, CPU seconds and peak RSS of ``suandian solve --out <tmpdir>``, fresh process."""
    out: dict = {"case": "cli", "load_avg_start": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory(prefix="suandian-bench-") as tmp:
        target = Path(tmp) / "out"
        cmd = [str(_suandian_cli()), "solve", "--out", str(target)]
        with open(Path(tmp) / "stdout", "w+") as so, open(Path(tmp) / "stderr", "w+") as se:
            t = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=so, stderr=se, cwd=ROOT)
            timer = threading.Timer(TIMEOUT["cli"], proc.kill)
            timer.start()
            _, status, usage = os.wait4(proc.pid, 0)
            out["wall"] = time.perf_counter() - t
            timer.cancel()
            proc.returncode = os.waitstatus_to_exitcode(status)
            so.seek(0)
            se.seek(0)
            stdout, stderr = so.read(), se.read()
        out["cpu"] = usage.ru_utime + usage.ru_stime
        out["peak_rss_mb"] = usage.ru_maxrss / 1024.0
        out["exit_code"] = proc.returncode
        out["files_written"] = sum(1 for p in target.rglob("*") if p.is_file())
    out["status"] = next(
        (ln.split()[1] for ln in stdout.splitlines() if ln.startswith("status")), "?"
    )
    out["certified"] = "satisfies every check" in stdout
    if proc.returncode != 0:
        out["error"] = (stderr or stdout).strip().splitlines()[-5:]
    return out


def _run_worker(case: str) -> dict:
    if case == "cli":
        return _run_cli()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", case]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=TIMEOUT[case], env=env, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return {"case": case, "error": f"timeout after {TIMEOUT[case]} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"case": case, "error": (proc.stderr or proc.stdout).strip().splitlines()[-5:]}
    return json.loads(lines[-1])


def _median(runs: list[dict], key: str) -> float:
    values = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
    return statistics.median(values) if values else float("nan")


SUMMARY_KEYS = (
    "import",
    "load",
    *PHASES,
    "diagnosis",
    "unaccounted",
    "e2e",
    "call",
    "peak_rss_mb",
    "objective",
    "mip_gap",
    *(p + "_cpu" for p in PHASES),
    "e2e_cpu",
    "call_cpu",
    "build_us_per_site_period",
    "load_avg_start",
    # cli
    "wall",
    "cpu",
)


def _summary(runs: list[dict]) -> dict:
    ok = [r for r in runs if "error" not in r]
    out = {k: _median(ok, k) for k in SUMMARY_KEYS}
    out["reps_ok"] = len(ok)
    out["reps_failed"] = len(runs) - len(ok)
    out["status"] = sorted({str(r.get("status")) for r in ok})
    out["wall_all"] = [round(r["wall"], 3) for r in ok if "wall" in r]
    out["e2e_all"] = [round(r["e2e"], 3) for r in ok if "e2e" in r]
    if ok and "size" in ok[0]:
        out["size"] = ok[0]["size"]
        out["site_periods"] = ok[0]["site_periods"]
        out["pyomo_imported"] = any(r.get("pyomo_imported") for r in ok)
    return out


def _fmt(x: float) -> str:
    if x != x:  # NaN
        return "–"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def table(summary: dict) -> str:
    solved = {
        c: s for c, s in summary["cases"].items() if c != "cli" and s["reps_ok"] and s.get("size")
    }
    rows = [
        "| case | build | handover | solve | duals | extract | unacc. | e2e | "
        "build µs / site-period | peak RSS MB | status |",
        "|" + "---|" * 11,
    ]
    for case, s in solved.items():
        rows.append(
            f"| {case} | {_fmt(s['build'])} | {_fmt(s['handover'])} | {_fmt(s['solve'])} | "
            f"{_fmt(s['duals'])} | {_fmt(s['extract'])} | {_fmt(s['unaccounted'])} | "
            f"{_fmt(s['e2e'])} | {s['build_us_per_site_period']:.2f} | "
            f"{s['peak_rss_mb']:.0f} | {', '.join(s['status'])} |"
        )
    rows += [
        "",
        "CPU seconds of the worker process, all threads (robust to other load on the machine):",
        "",
        "| case | build | handover | solve | duals | extract | e2e |",
        "|---|---|---|---|---|---|---|",
    ]
    for case, s in solved.items():
        rows.append(
            f"| {case} | "
            + " | ".join(_fmt(s[p + "_cpu"]) for p in PHASES)
            + f" | {_fmt(s['e2e_cpu'])} |"
        )
    rows += [
        "",
        "| case | sites × periods | columns | rows | nonzeros | integer columns | "
        "import s | load s | Pyomo imported |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for case, s in solved.items():
        z = s["size"]
        rows.append(
            f"| {case} | {s['site_periods']:,} | {z['columns']:,} | {z['rows']:,} | "
            f"{z['nonzeros']:,} | {z['integer_columns']:,} | {_fmt(s['import'])} | "
            f"{_fmt(s['load'])} | {'yes' if s['pyomo_imported'] else 'no'} |"
        )
    cli = summary["cases"].get("cli")
    if cli and cli["reps_ok"]:
        rows += [
            "",
            "| case | wall s (median) | wall s (each run) | CPU s | peak RSS MB | status | "
            "1-min load avg at start (median) |",
            "|---|---|---|---|---|---|---|",
            f"| cli | {_fmt(cli['wall'])} | {', '.join(f'{w:.2f}' for w in cli['wall_all'])} | "
            f"{_fmt(cli['cpu'])} | {cli['peak_rss_mb']:.0f} | {', '.join(cli['status'])} | "
            f"{cli['load_avg_start']:.2f} |",
        ]
    return "\n".join(rows)


def checks(summary: dict) -> list[tuple[str, str, str]]:
    """Targets -> (name, PASS/FAIL, detail)."""
    out = []
    cases = {c: s for c, s in summary["cases"].items() if s["reps_ok"]}
    day = cases.get("day")
    if day:
        out.append(
            (
                f"day end to end (build+handover+solve+duals+extract) < {DAY_E2E_S:g} s, wall",
                "PASS" if day["e2e"] < DAY_E2E_S else "FAIL",
                f"{day['e2e']:.3f} s (CPU {day['e2e_cpu']:.3f} s; runs "
                f"{', '.join(f'{x:.3f}' for x in day['e2e_all'])})",
            )
        )
    cli = cases.get("cli")
    if cli:
        out.append(
            (
                f"CLI `suandian solve --out <tmpdir>`, fresh process, wall < {CLI_WALL_S:g} s",
                "PASS" if cli["wall"] < CLI_WALL_S else "FAIL",
                f"median {cli['wall']:.2f} s (runs "
                f"{', '.join(f'{x:.2f}' for x in cli['wall_all'])}; CPU {cli['cpu']:.2f} s)",
            )
        )
    year = cases.get("year")
    if year:
        overhead = year["build"] + year["handover"] + year["extract"]
        solver = year["solve"] + year["duals"]
        out.append(
            (
                f"year: build + handover + extract <= {YEAR_OVERHEAD:g} x (solve + duals)",
                "PASS" if overhead <= YEAR_OVERHEAD * solver else "FAIL",
                f"{overhead:.2f} s vs {solver:.2f} s ({overhead / solver:.3f} x)",
            )
        )
    week = cases.get("week")
    if week and year:
        w, y = week["build_us_per_site_period"], year["build_us_per_site_period"]
        per_case = ", ".join(
            f"{c} {cases[c]['build_us_per_site_period']:.2f}"
            for c in ("day", "week", "year")
            if c in cases
        )
        marginal = (
            1e6 * (year["build"] - week["build"]) / (year["site_periods"] - week["site_periods"])
        )
        out.append(
            (
                f"build µs per site-period does not grow, week -> year "
                f"(year <= {BUILD_GROWTH_MAX:g} x week)",
                "PASS" if y <= BUILD_GROWTH_MAX * w else "FAIL",
                f"{per_case} µs; year / week = {y / w:.2f}; "
                f"marginal week -> year {marginal:.2f} µs",
            )
        )
    return out


def _git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=ROOT, timeout=10
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def _print_report(summary: dict) -> None:
    m = summary["machine"]
    reps = ", ".join(f"{c} {s['reps_ok']}" for c, s in summary["cases"].items())
    print(
        f"\nsuandian benchmark {summary['date']}, commit {summary.get('commit', '?')}, "
        f"{m['cpus']} CPUs, load average {m.get('load_avg_at_start', ['?'])[0]} at start / "
        f"{m['load_avg_at_end'][0]} at end; medians of fresh-process runs "
        f"({reps}), "
        "seconds\n"
    )
    for c in summary["cases"]:
        print(f"* {c}: {CASES[c]['title']}")
    print()
    print(table(summary))
    print("\nTargets:")
    for n, v, d in checks(summary):
        print(f"  [{v}] {n}: {d}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="day,week,year,cli")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--year-reps", type=int, default=None, help="reps of the year case (default: --reps)"
    )
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--report", metavar="JSON", help="re-print the tables of a saved run")
    parser.add_argument("--worker", metavar="CASE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker)), flush=True)
        return 0

    if args.report:
        saved = json.loads(Path(args.report).read_text())
        saved["cases"] = {
            c: _summary([x for x in saved["raw"] if x["case"] == c]) for c in saved["cases"]
        }
        _print_report(saved)
        return 0

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}; use {','.join(CASES)}")
    reps = {c: args.reps for c in cases}
    if "year" in reps and args.year_reps is not None:
        reps["year"] = args.year_reps
    dirty = _git("status", "--porcelain", "--", "src")
    summary: dict = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "commit": _git("rev-parse", "--short", "HEAD") + (" + uncommitted src" if dirty else ""),
    }
    load_start = os.getloadavg()
    raw: list[dict] = []
    started = time.perf_counter()
    for rep in range(max(reps.values())):
        for case in cases:  # interleaved: rep 1 of every case, then rep 2, ...
            if rep >= reps[case]:
                continue
            t = time.perf_counter()
            r = _run_worker(case)
            r["rep"] = rep
            raw.append(r)
            note = r.get("error") or f"{r.get('status')}"
            print(
                f"  {case:5s} rep {rep + 1}/{reps[case]}: "
                f"{time.perf_counter() - t:6.1f} s wall  {note}",
                file=sys.stderr,
                flush=True,
            )

    from importlib.metadata import version

    summary |= {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "numpy": version("numpy"),
            "highspy": version("highspy"),
            "load_avg_at_start": load_start,
            "load_avg_at_end": os.getloadavg(),
            "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
        },
        "reps": reps,
        "case_specs": {c: CASES[c] for c in cases},
        "cases": {c: _summary([x for x in raw if x["case"] == c]) for c in cases},
        "wall_seconds": time.perf_counter() - started,
    }
    summary["targets"] = [{"target": n, "verdict": v, "detail": d} for n, v, d in checks(summary)]
    summary["raw"] = raw
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{dt.date.today().isoformat()}.json"
    if path.exists():  # keep earlier runs of the same day
        path = out_dir / f"{dt.datetime.now().strftime('%Y-%m-%dT%H%M')}.json"
    path.write_text(json.dumps(summary, indent=1, default=str))

    _print_report(summary)
    print(f"\nwritten: {path}  (total wall {summary['wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
