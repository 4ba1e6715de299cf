"""suandian benchmark of the books: accounts, flows, hourly CFE, KPIs, certifier, final state.

usage::

    python benchmarks/books.py make 10 /tmp/books/year10.nc     # solve a year once (LP), save it
    python benchmarks/books.py run /tmp/books/year10.nc [/tmp/books/day.nc ...] [--reps 3]
                               [--src <checkout>/src] [--label before] [--out benchmarks/results]
    python benchmarks/books.py --report benchmarks/results/books-<label>.json

``make N PATH`` solves ``generate.make_scenario(N, 8760)`` with ``relax_integers=True`` (the
year case of ``run.py``) through ``suandian.solve`` and writes its Dataset to ``PATH``
(netCDF); ``make day PATH`` saves the embedded default day (MILP). The timing then reloads that
file, so every code version is timed on the same plan.

``run`` times, for each saved result and rep, in a FRESH process (``--src`` puts a ``src``
first on ``PYTHONPATH``: this checkout's by default, another one's to time the code before a
change), each phase on a freshly read result (``suandian.read_result``), so no phase profits
from another's work:

==============  ==========================================================================
accounts        ``accounting.accounts(ds)``: every family's ``account`` hook
flows           ``accounting.flows(ds, acc)`` on the accounts just computed
cfe             ``accounting.cfe(ds, f)`` on the flows just computed (the hourly CFE table)
books           ``accounting.books(ds)``: accounts, flows, CFE, families' KPI hooks
kpis            ``Result.kpis``: the books plus the shadow prices (what ``kpis.json`` holds)
certify         ``Result.certify()``: every row of the formulation and the cost
final_state     ``Result.final_state()`` at the last period
==============  ==========================================================================

Wall seconds (``time.perf_counter``) and CPU seconds of the process (``getrusage``) per phase;
the tables show the median over the reps. Results go to ``benchmarks/results/books-<label>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

PHASES = ("accounts", "flows", "cfe", "books", "kpis", "certify", "final_state")
#: target: the KPIs (books) of 8,760 h x 10 sites within this many seconds
BOOKS_S = 5.0


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def make(what: str, path: str) -> None:
    """Solve a year of ``what`` sites (or the default ``day``) and save its Dataset."""
    import suandian
    from suandian.results import io

    t = time.perf_counter()
    if what == "day":
        result = suandian.solve(suandian.load_scenario(ROOT / "models" / "chongqing_hami_day.yaml"))
    else:
        sys.path.insert(0, str(ROOT))
        from benchmarks.generate import make_scenario

        config, series = make_scenario(int(what), 8760, seed=0)
        sc = suandian.load_scenario(config, series=series)
        result = suandian.solve(sc, relax_integers=True, time_limit=1800.0)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    io.write_netcdf(result.ds, path)
    print(
        f"{path}: {result.status}, objective {result.objective:.6f}, "
        f"{time.perf_counter() - t:.1f} s"
    )


def worker(path: str) -> dict:
    """One rep of every phase on the saved result at ``path`` (a fresh read per phase)."""
    import suandian
    from suandian.results import accounting

    out: dict = {"path": path, "load_avg_start": os.getloadavg()[0]}
    fresh = suandian.read_result(path)
    out["sites"], out["periods"] = fresh.ds.sizes["site"], fresh.ds.sizes["time"]
    out["dt_hours"] = float(fresh.ds.attrs["dt_hours"])

    def timed(name: str, call):
        t, c = time.perf_counter(), _cpu()
        value = call()
        out[name], out[name + "_cpu"] = time.perf_counter() - t, _cpu() - c
        return value

    t = time.perf_counter()
    ds = suandian.read_result(path).ds
    out["read"] = time.perf_counter() - t
    acc = timed("accounts", lambda: accounting.accounts(ds))
    f = timed("flows", lambda: accounting.flows(ds, acc))
    timed("cfe", lambda: accounting.cfe(ds, f))
    ds = suandian.read_result(path).ds
    timed("books", lambda: accounting.books(ds))
    r = suandian.read_result(path)
    kpis = timed("kpis", lambda: r.kpis)
    out["cost_total"] = kpis["cost"]["total"]
    out["cfe_portfolio"] = kpis["cfe_hourly"]["portfolio"]
    r = suandian.read_result(path)
    violations = timed("certify", lambda: r.certify())
    out["violations"] = len(violations)
    r = suandian.read_result(path)
    timed("final_state", lambda: r.final_state())
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def _run_worker(path: str, src: str | None) -> dict:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH", "")]))
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", path],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
    )
    if proc.returncode != 0:
        return {"path": path, "error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _summary(runs: list[dict]) -> dict:
    ok = [r for r in runs if "error" not in r]
    if not ok:
        return {"reps_ok": 0}
    out = {"reps_ok": len(ok), "sites": ok[0]["sites"], "periods": ok[0]["periods"]}
    for key in ("read", *PHASES, *(p + "_cpu" for p in PHASES)):
        out[key] = statistics.median(r[key] for r in ok)
        out[key + "_runs"] = [r[key] for r in ok]
    out["violations"] = ok[0]["violations"]
    out["cost_total"] = ok[0]["cost_total"]
    out["cfe_portfolio"] = ok[0]["cfe_portfolio"]
    out["peak_rss_mb"] = max(r["peak_rss_mb"] for r in ok)
    return out


def table(summary: dict) -> str:
    head = "| result | sites × periods | " + " | ".join(PHASES) + " | violations |"
    lines = [head, "|" + "---|" * (len(PHASES) + 3)]
    for path, s in summary["cases"].items():
        if not s.get("reps_ok"):
            lines.append(f"| {Path(path).name} | failed |")
            continue
        cells = " | ".join(f"{s[p]:.3f}" for p in PHASES)
        lines.append(
            f"| {Path(path).name} | {s['sites']} × {s['periods']:,} | {cells} | {s['violations']} |"
        )
    return "\n".join(lines)


def _print_report(summary: dict) -> None:
    print(
        f"\nsuandian books benchmark {summary['date']}, {summary['label']}, src "
        f"{summary['src']}, load average {summary['load_avg_at_start'][0]:.2f} at start / "
        f"{summary['load_avg_at_end'][0]:.2f} at end; medians of {summary['reps']} fresh-process "
        "reps, wall seconds\n"
    )
    print(table(summary))
    for s in summary["cases"].values():
        if s.get("reps_ok") and s["sites"] == 10 and s["periods"] == 8760:
            verdict = "PASS" if s["kpis"] <= BOOKS_S else "FAIL"
            print(
                f"\n[{verdict}] KPIs (books) of 8,760 h × 10 sites <= {BOOKS_S:g} s: "
                f"{s['kpis']:.2f} s"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument("--report", metavar="JSON", help="re-print the tables of a saved run")
    sub = parser.add_subparsers(dest="cmd")
    m = sub.add_parser("make", help="solve and save a result to time")
    m.add_argument("what", help="number of sites of the synthetic year, or 'day'")
    m.add_argument("path")
    r = sub.add_parser("run", help="time the phases on saved results")
    r.add_argument("paths", nargs="+")
    r.add_argument("--reps", type=int, default=3)
    r.add_argument(
        "--src", default=str(ROOT / "src"), help="the src/ to time (default: this checkout's)"
    )
    r.add_argument("--label", default=None)
    r.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args(argv)

    if args.worker:
        print(json.dumps(worker(args.worker)), flush=True)
        return 0
    if args.report:
        _print_report(json.loads(Path(args.report).read_text()))
        return 0
    if args.cmd == "make":
        make(args.what, args.path)
        return 0
    if args.cmd != "run":
        parser.error("give make, run or --report")

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    summary: dict = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "label": args.label or commit,
        "src": args.src if Path(args.src) != ROOT / "src" else f"{commit} (this checkout)",
        "reps": args.reps,
        "load_avg_at_start": os.getloadavg(),
    }
    raw = []
    for rep in range(args.reps):  # interleaved: rep 1 of every result, then rep 2, ...
        for path in args.paths:
            t = time.perf_counter()
            one = _run_worker(path, args.src)
            one["rep"] = rep
            raw.append(one)
            note = one.get("error") or f"kpis {one['kpis']:.2f} s, certify {one['certify']:.2f} s"
            print(
                f"  {Path(path).name} rep {rep + 1}/{args.reps}: "
                f"{time.perf_counter() - t:6.1f} s  {note}",
                file=sys.stderr,
                flush=True,
            )
    summary["load_avg_at_end"] = os.getloadavg()
    summary["cases"] = {p: _summary([x for x in raw if x["path"] == p]) for p in args.paths}
    summary["raw"] = raw
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"books-{summary['label']}.json"
    path.write_text(json.dumps(summary, indent=1, default=str))
    _print_report(summary)
    print(f"\nwritten: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
