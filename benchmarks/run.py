"""suandian build / hand-over / solve benchmark, with the Pyomo ``appsi_highs`` baseline.

usage::

    python benchmarks/run.py [--cases day,week,year] [--reps 3] [--no-baseline]
                             [--year-mode lp|mip] [--out benchmarks/results]

Every measurement runs in a FRESH subprocess (``run.py --worker CASE ROUTE``), which prints one
JSON line. Repetitions are interleaved across routes; the table reports medians.

Routes
------
``suandian``  ``suandian.build_model`` + ``suandian.solve(model)``: LinearStandardFormCompiler ->
              ``highspy.Highs.passModel``. Phase times are ``result.info.timings``.
``appsi``     BASELINE: the same Pyomo model (same builder, same relaxation) solved by Pyomo's
              stock ``SolverFactory('appsi_highs')`` with the same gap and time limit.
              ``handover`` = its ``set_instance``; ``solve`` = ``Highs.run``; ``load`` = its
              primal load-back; ``call`` = wall time of ``opt.solve(model)``.

Both routes first import suandian and resolve Pyomo's deferred scipy import, reported as
``import`` and kept out of the phases. (``suandian._pyomo_setup`` already stops Pyomo from also
importing ``scipy.stats``; the explicit resolution only guards against that hook coming back and
being charged to the first hand-over.)
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
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: case -> description, scenario, solver limits. ``year`` is relaxed to an LP by default.
CASES = {
    "day": {
        "title": "day-ahead: embedded default, 2 sites x 96 x 15 min, MILP",
        "mip_rel_gap": 1e-3,
        "time_limit": 60.0,
        "relax": False,
    },
    "week": {
        "title": "week: synthetic 4 sites x 168 h, MILP, gap 1 %, time limit 15 s",
        "sites": 4,
        "periods": 168,
        "mip_rel_gap": 1e-2,
        "time_limit": 15.0,
        "relax": False,
    },
    "year": {
        "title": "year-LP: synthetic 10 sites x 8760 h, integers relaxed (LP)",
        "sites": 10,
        "periods": 8760,
        "mip_rel_gap": 1e-3,
        "time_limit": 170.0,
        "relax": True,
    },
}

PHASES = ("build", "handover", "solve", "duals", "extract")
#: per-case worker timeout (s)
TIMEOUT = {"day": 120, "week": 180, "year": 900}


# =========================================================================== worker side
def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _scenario(case: str, spec: dict):
    import suandian

    if case == "day":
        return suandian.load_scenario(ROOT / "models" / "chongqing_hami_day.yaml")
    sys.path.insert(0, str(ROOT))
    from benchmarks.generate import make_scenario

    config, series = make_scenario(spec["sites"], spec["periods"], seed=0)
    return suandian.load_scenario(config, series=series)


def relax_integers(model) -> int:
    """Make every integer Var continuous (binaries -> [0, 1]); bounds are kept. Returns count."""
    import pyomo.environ as pyo

    n = 0
    for var in model.component_data_objects(pyo.Var, descend_into=True):
        if var.is_integer():
            if var.is_binary():
                var.domain = pyo.UnitInterval
            else:  # keep the domain's lower bound (NonNegativeIntegers -> NonNegativeReals)
                nonneg = var.lb is not None and var.lb >= 0
                var.domain = pyo.NonNegativeReals if nonneg else pyo.Reals
            n += 1
    return n


def _cpu() -> float:
    """CPU seconds of this process (all threads): robust to other load on a shared machine."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _clocked(cls, name: str, clock: dict, key: str) -> None:
    """Wrap ``cls.name`` to add its wall and CPU seconds to ``clock[key]`` / ``[key_cpu]``."""
    original = getattr(cls, name)

    def wrapper(*args, **kwargs):
        wall, cpu = time.perf_counter(), _cpu()
        try:
            return original(*args, **kwargs)
        finally:
            clock[key] = clock.get(key, 0.0) + time.perf_counter() - wall
            clock[key + "_cpu"] = clock.get(key + "_cpu", 0.0) + _cpu() - cpu
            clock.setdefault(key + "_calls", []).append((cpu, _cpu() - cpu))

    setattr(cls, name, wrapper)


def worker(case: str, route: str, year_mode: str) -> dict:
    spec = dict(CASES[case])
    if case == "year" and year_mode == "mip":
        spec["relax"] = False
    out: dict = {"case": case, "route": route, "relaxed": spec["relax"]}
    t = time.perf_counter()
    import pyomo.environ as pyo
    from pyomo.common.dependencies import scipy

    import suandian

    scipy.sparse  # noqa: B018  resolve Pyomo's deferred scipy import (imports scipy.stats)
    out["import"] = time.perf_counter() - t

    t = time.perf_counter()
    sc = _scenario(case, spec)
    out["load"] = time.perf_counter() - t

    cpu = _cpu()
    model = suandian.build_model(sc)
    out["build_cpu"] = _cpu() - cpu
    out["build"] = model.build_seconds
    out["relaxed_integers"] = relax_integers(model) if spec["relax"] else 0
    out["rss_after_build_mb"] = _rss_mb()

    import highspy

    clock: dict[str, float] = {}
    _clocked(highspy.Highs, "run", clock, "run")
    if route == "suandian":
        from suandian.results.result import Result

        _clocked(Result, "from_model", clock, "extract")
        t, cpu = time.perf_counter(), _cpu()
        result = suandian.solve(
            model,
            mip_rel_gap=spec["mip_rel_gap"],
            time_limit=spec["time_limit"],
            diagnose=False,
        )
        out["call"], out["call_cpu"] = time.perf_counter() - t, _cpu() - cpu
        timings = result.info.timings
        for phase in PHASES[1:]:
            out[phase] = timings.get(phase, 0.0)
        out["unaccounted"] = out["call"] - sum(out[p] for p in PHASES[1:])
        out["status"] = result.status
        out["objective"] = result.objective
        out["mip_gap"] = result.mip_gap
        out["size"] = result.info.size
        # CPU seconds: first Highs.run is the solve (a MIP's second run is the duals LP)
        first_run_start, out["solve_cpu"] = clock["run_calls"][0]
        out["handover_cpu"] = first_run_start - cpu
        out["extract_cpu"] = clock.get("extract_cpu", float("nan"))
    else:
        from pyomo.contrib.appsi.solvers import highs as appsi_highs

        _clocked(appsi_highs.Highs, "set_instance", clock, "set_instance")
        _clocked(appsi_highs.Highs, "load_vars", clock, "load")
        opt = pyo.SolverFactory("appsi_highs")
        t, cpu = time.perf_counter(), _cpu()
        res = opt.solve(
            model,
            timelimit=spec["time_limit"],
            options={"mip_rel_gap": spec["mip_rel_gap"]},
            load_solutions=True,
        )
        out["call"], out["call_cpu"] = time.perf_counter() - t, _cpu() - cpu
        out["handover"] = clock["set_instance"]
        out["handover_cpu"] = clock["set_instance_cpu"]
        out["solve"] = clock["run"]
        out["solve_cpu"] = clock["run_cpu"]
        out["load_primals"] = clock.get("load", 0.0)
        out["duals"] = 0.0
        out["extract"] = 0.0
        out["unaccounted"] = out["call"] - out["handover"] - out["solve"] - out["load_primals"]
        out["status"] = str(res.solver.termination_condition)
        out["objective"] = float(pyo.value(model.total_cost))
        out["mip_gap"] = float("nan")
    out["peak_rss_mb"] = _rss_mb()
    return out


# =========================================================================== driver side
def _run_worker(case: str, route: str, year_mode: str) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        case,
        route,
        "--year-mode",
        year_mode,
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=TIMEOUT[case], env=env, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return {"case": case, "route": route, "error": f"timeout after {TIMEOUT[case]} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {
            "case": case,
            "route": route,
            "error": (proc.stderr or proc.stdout).strip().splitlines()[-5:],
        }
    return json.loads(lines[-1])


def _median(runs: list[dict], key: str) -> float:
    values = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
    return statistics.median(values) if values else float("nan")


def _summary(runs: list[dict]) -> dict:
    ok = [r for r in runs if "error" not in r]
    keys = (
        "import",
        "load",
        "build",
        "handover",
        "solve",
        "duals",
        "extract",
        "load_primals",
        "unaccounted",
        "call",
        "peak_rss_mb",
        "objective",
        "build_cpu",
        "handover_cpu",
        "solve_cpu",
        "extract_cpu",
        "call_cpu",
    )
    out = {k: _median(ok, k) for k in keys}
    out["e2e_cpu"] = (
        out["build_cpu"]
        + out["handover_cpu"]
        + out["solve_cpu"]
        + (out["extract_cpu"] if out["extract_cpu"] == out["extract_cpu"] else 0.0)
    )
    out["core"] = _median(ok, "build") + _median(ok, "handover") + _median(ok, "solve")
    out["e2e"] = out["core"] + out["extract"]
    out["total"] = out["build"] + out["call"]
    out["reps_ok"] = len(ok)
    out["status"] = sorted({str(r.get("status")) for r in ok})
    if ok and "size" in ok[0]:
        out["size"] = ok[0]["size"]
    return out


def _fmt(x: float) -> str:
    if x != x:  # NaN
        return "–"
    return f"{x:.3f}" if x < 10 else f"{x:.1f}"


def _ratio(a: float, b: float) -> str:
    return "–" if not (b and b == b and a == a) else f"{a / b:.2f}×"


def table(summary: dict) -> str:
    head = (
        "| case | route | build | handover | solve | duals | extract | unacc. | "
        "build+hand.+solve | e2e | total | peak RSS MB | status |"
    )
    rows = [head, "|" + "---|" * 13]
    for case, routes in summary["cases"].items():
        for route in ("suandian", "appsi"):
            s = routes.get(route)
            if not s or not s["reps_ok"]:
                continue
            rows.append(
                f"| {case} | {route} | {_fmt(s['build'])} | {_fmt(s['handover'])} | "
                f"{_fmt(s['solve'])} | {_fmt(s['duals'])} | {_fmt(s['extract'])} | "
                f"{_fmt(s['unaccounted'])} | {_fmt(s['core'])} | "
                f"{_fmt(s['e2e']) if route == 'suandian' else '–'} | {_fmt(s['total'])} | "
                f"{s['peak_rss_mb']:.0f} | {', '.join(s['status'])} |"
            )
        a, b = routes.get("suandian"), routes.get("appsi")
        if a and b and a["reps_ok"] and b["reps_ok"]:
            rows.append(
                f"| {case} | **ours / appsi** | {_ratio(a['build'], b['build'])} | "
                f"{_ratio(a['handover'], b['handover'])} | {_ratio(a['solve'], b['solve'])} | "
                f"| | | {_ratio(a['core'], b['core'])} | | {_ratio(a['total'], b['total'])} | "
                f"{_ratio(a['peak_rss_mb'], b['peak_rss_mb'])} | |"
            )
    rows += [
        "",
        "CPU seconds of the worker process (robust to other load on the machine):",
        "",
        "| case | route | build | handover | solve | extract | build+hand.+solve(+extract) |",
        "|---|---|---|---|---|---|---|",
    ]
    for case, routes in summary["cases"].items():
        for route in ("suandian", "appsi"):
            s = routes.get(route)
            if s and s["reps_ok"]:
                rows.append(
                    f"| {case} | {route} | {_fmt(s['build_cpu'])} | "
                    f"{_fmt(s['handover_cpu'])} | {_fmt(s['solve_cpu'])} | "
                    f"{_fmt(s['extract_cpu'])} | {_fmt(s['e2e_cpu'])} |"
                )
    sizes = [
        "",
        "| case | columns | rows | nonzeros | integer columns | import s | load s |",
        "|---|---|---|---|---|---|---|",
    ]
    for case, routes in summary["cases"].items():
        s = routes.get("suandian")
        if s and s.get("size"):
            z = s["size"]
            sizes.append(
                f"| {case} | {z['columns']:,} | {z['rows']:,} | {z['nonzeros']:,} | "
                f"{z['integer_columns']:,} | {_fmt(s['import'])} | {_fmt(s['load'])} |"
            )
    return "\n".join(rows + sizes)


def checks(summary: dict) -> list[tuple[str, str, str]]:
    """Targets -> (name, PASS/FAIL/n.a., detail)."""
    out = []
    cases = summary["cases"]
    day = cases.get("day", {}).get("suandian")
    if day and day["reps_ok"]:
        e2e = day["e2e"]
        out.append(
            (
                "day-ahead end-to-end (build+handover+solve+extract) < 5 s, wall",
                "PASS" if e2e < 5.0 else "FAIL",
                f"{e2e:.2f} s",
            )
        )
        out.append(
            (
                "day-ahead end-to-end < 5 s, CPU seconds",
                "PASS" if day["e2e_cpu"] < 5.0 else "FAIL",
                f"{day['e2e_cpu']:.2f} s",
            )
        )
    year = cases.get("year", {}).get("suandian")
    if year and year["reps_ok"]:
        out.append(
            (
                "year: build < solve (model building must never dominate solving)",
                "PASS" if year["build"] < year["solve"] else "FAIL",
                f"build {year['build']:.1f} s vs solve {year['solve']:.1f} s",
            )
        )
    for case, routes in cases.items():
        a, b = routes.get("suandian"), routes.get("appsi")
        if a and b and a["reps_ok"] and b["reps_ok"]:
            out.append(
                (
                    f"{case}: handover faster than appsi_highs set_instance",
                    "PASS" if a["handover"] < b["handover"] else "FAIL",
                    f"{a['handover']:.3f} s vs {b['handover']:.3f} s "
                    f"({a['handover'] / b['handover']:.2f}×)",
                )
            )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default="day,week,year")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--year-mode",
        choices=("lp", "mip"),
        default="lp",
        help="year case: relax the integers (lp, default) or keep them (mip, "
        "stops at the time limit)",
    )
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--report", metavar="JSON", help="re-print the tables of a saved run")
    parser.add_argument("--worker", nargs=2, metavar=("CASE", "ROUTE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(*args.worker, args.year_mode)), flush=True)
        return 0

    if args.report:
        saved = json.loads(Path(args.report).read_text())
        routes = sorted({r["route"] for r in saved["raw"]})
        saved["cases"] = {
            c: {
                r: _summary([x for x in saved["raw"] if x["case"] == c and x["route"] == r])
                for r in routes
            }
            for c in saved["cases"]
        }
        print(table(saved))
        for n, v, d in checks(saved):
            print(f"  [{v}] {n}: {d}")
        return 0

    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}; use {','.join(CASES)}")
    routes = ["suandian"] if args.no_baseline else ["suandian", "appsi"]
    raw: list[dict] = []
    started = time.perf_counter()
    for case in cases:
        for rep in range(args.reps):
            for route in routes:  # interleaved
                t = time.perf_counter()
                r = _run_worker(case, route, args.year_mode)
                r["rep"] = rep
                raw.append(r)
                note = r.get("error") or f"{r.get('status')}"
                print(
                    f"  {case:5s} {route:9s} rep {rep + 1}/{args.reps}: "
                    f"{time.perf_counter() - t:6.1f} s wall  {note}",
                    file=sys.stderr,
                    flush=True,
                )

    import highspy
    import pyomo

    summary = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "pyomo": pyomo.version.version,
            "highspy": highspy.__version__ if hasattr(highspy, "__version__") else "?",
            "load_avg_at_end": os.getloadavg(),
        },
        "reps": args.reps,
        "year_mode": args.year_mode,
        "case_specs": {c: CASES[c] for c in cases},
        "cases": {
            c: {r: _summary([x for x in raw if x["case"] == c and x["route"] == r]) for r in routes}
            for c in cases
        },
        "wall_seconds": time.perf_counter() - started,
    }
    summary["targets"] = [{"target": n, "verdict": v, "detail": d} for n, v, d in checks(summary)]
    summary["raw"] = raw
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{dt.date.today().isoformat()}.json"
    path.write_text(json.dumps(summary, indent=1, default=str))

    print(
        f"\nsuandian benchmark {summary['date']}, {os.cpu_count()} CPUs, medians of "
        f"{args.reps} fresh-process runs, seconds\n"
    )
    for c in cases:
        print(f"* {c}: {CASES[c]['title']}")
    print()
    print(table(summary))
    print("\nTargets:")
    for t in summary["targets"]:
        print(f"  [{t['verdict']}] {t['target']}: {t['detail']}")
    print(f"\nwritten: {path}  (total wall {summary['wall_seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
