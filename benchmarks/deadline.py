"""The time asked is the time taken: wall time of a solve against its ``time_limit``.

Solves each case (generated portfolios of :mod:`benchmarks.portfolio`, the default day) at
each time limit in a fresh process, while one more process keeps a core busy
(``yes > /dev/null``, started here and ended by its process id), and records per case the
wall time of ``suandian.solve`` (the scenario loaded before the clock starts) against the
promise ``time_limit x 1.1 + 0.5 s`` (``docs/math/solver.md``), the status, gap, where the
plan came from, how HiGHS stopped, and whether the plan certifies. ``--cli`` also times
``suandian solve --time-limit`` on the default day as a command (interpreter start and
imports included, which the promise does not cover).

Usage::

    python benchmarks/deadline.py                                  # 10,20,40 sites + day
    python benchmarks/deadline.py --cases 40,day --limits 5,10,20 --cli
    python benchmarks/deadline.py --generator tied-1h --cases 10,40 --seeds 0,1,2

Results go to ``benchmarks/results/deadline-<date>[-label].json`` and a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DAY = ROOT / "models" / "chongqing_hami_day.yaml"


def worker(case: str, seed: int, limit: float, generator: str) -> dict:
    """Solve one case in this process and return its record."""
    sys.path.insert(0, str(ROOT))
    import suandian

    if case == "day":
        sc = suandian.load_scenario(DAY)
    elif generator.startswith("tied"):
        from benchmarks.portfolio_tied import load as load_tied

        parts = generator.split("-")[1:]  # tied[-1h][-site]
        resolution = "1h" if "1h" in parts else "15min"
        sc = load_tied(int(case), seed, resolution, "site" if "site" in parts else "portfolio")
    else:
        from benchmarks.portfolio import load

        sc = load(int(case), seed)
    load0 = os.getloadavg()[0]
    began = time.perf_counter()
    r = suandian.solve(sc, time_limit=limit)
    wall = time.perf_counter() - began
    info = r.info
    return {
        "case": case,
        "seed": seed,
        "generator": generator if case != "day" else "",
        "time_limit": limit,
        "wall_s": wall,
        "promise_s": limit * 1.1 + 0.5,
        "kept": wall <= limit * 1.1 + 0.5,
        "status": info.status,
        "gap": info.mip_gap,
        "objective": info.objective,
        "origin": getattr(info, "origin", "?"),  # "?": a suandian before issue 21
        "highs_stopped_by": getattr(info, "deadline", {}).get("highs_stopped_by", "?"),
        "certified": (r.certify() == []) if r.has_plan else False,
        "timings": info.timings,
        "integers": info.size.get("integer_columns"),
        "load_start": load0,
        "load_end": os.getloadavg()[0],
    }


def cli(limit: float) -> dict:
    """``suandian solve --time-limit`` on the default day, timed as a command."""
    import tempfile

    code = "import sys; from suandian.cli import main; sys.exit(main(sys.argv[1:]))"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-c", code, "solve", str(DAY), "--time-limit", str(limit)]
        command += ["--out", str(Path(tmp) / "out"), "--formats", "csv", "--quiet"]
        began = time.perf_counter()
        out = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
        wall = time.perf_counter() - began
    return {
        "case": "day (CLI)",
        "time_limit": limit,
        "wall_s": wall,
        "returncode": out.returncode,
        "load_end": os.getloadavg()[0],
    }


def table(records: list[dict]) -> str:
    lines = [
        "| case | seed | limit s | wall s | promise s | kept | status | gap | plan from | "
        "HiGHS stopped | certified | load 1-min |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        if "status" not in r:  # the CLI
            lines.append(
                f"| {r['case']} | — | {r['time_limit']:g} | {r['wall_s']:.2f} | "
                f"{r['time_limit'] * 1.1 + 0.5:.2f} | (process) | exit {r['returncode']} | — | "
                f"— | — | — | –{r['load_end']:.2f} |"
            )
            continue
        gap = "—" if r["gap"] != r["gap"] else f"{r['gap']:.2%}"
        lines.append(
            f"| {r['case']} | {r['seed']} | {r['time_limit']:g} | {r['wall_s']:.2f} | "
            f"{r['promise_s']:.2f} | {'yes' if r['kept'] else 'NO'} | {r['status']} | {gap} | "
            f"{r['origin'] or '—'} | {r['highs_stopped_by']} | "
            f"{'yes' if r['certified'] else 'no'} | "
            f"{r['load_start']:.2f}–{r['load_end']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="10,20,40,day", help="site counts and/or 'day'")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--limits", default="5,10,20")
    ap.add_argument(
        "--generator",
        default="paired",
        choices=("paired", "tied", "tied-1h", "tied-site", "tied-1h-site"),
        help="paired (benchmarks/portfolio.py) or tied (benchmarks/portfolio_tied.py; -1h: "
        "24 x 1 h, -site: a green share per site)",
    )
    ap.add_argument("--cli", action="store_true", help="also time the CLI on the default day")
    ap.add_argument("--no-load", action="store_true", help="do not start the busy process")
    ap.add_argument("--label", default="")
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        case, seed, limit, generator = args.worker
        print(json.dumps(worker(case, int(seed), float(limit), generator), default=float))
        sys.stdout.flush()
        # a HiGHS run left behind at its deadline would hold the process's exit until its
        # next check (suandian.highs.run_until); the record is out, so end here
        os._exit(0)
    cases = args.cases.split(",")
    seeds = [int(s) for s in args.seeds.split(",")]
    limits = [float(v) for v in args.limits.split(",")]
    busy = None
    # a SIGTERM ends the run through the finally below (the busy process with it)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if not args.no_load:
        busy = subprocess.Popen(["yes"], stdout=subprocess.DEVNULL)
    began = dt.datetime.now(dt.UTC)
    records = []
    try:
        for case in cases:
            for seed in seeds if case != "day" else [0]:
                for limit in limits:
                    out = subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--worker",
                            case,
                            str(seed),
                            str(limit),
                            args.generator,
                        ],
                        capture_output=True,
                        text=True,
                        cwd=ROOT,
                    )
                    lines = out.stdout.strip().splitlines()
                    if out.returncode != 0 or not lines:
                        print(f"{case} {seed} {limit}: failed\n{out.stderr[-2000:]}")
                        continue
                    rec = json.loads(lines[-1])
                    records.append(rec)
                    print(
                        f"{case:>4} seed {seed} limit {limit:g}: wall {rec['wall_s']:.2f} s "
                        f"(promise {rec['promise_s']:.2f}), {rec['status']}, {rec['origin']}, "
                        f"HiGHS {rec['highs_stopped_by']}, load {rec['load_start']:.2f}",
                        flush=True,
                    )
        if args.cli:
            for limit in limits:
                rec = cli(limit)
                records.append(rec)
                print(f"CLI limit {limit:g}: wall {rec['wall_s']:.2f} s", flush=True)
    finally:
        if busy is not None:
            busy.terminate()
            busy.wait()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    data = {
        "started": began.isoformat(timespec="seconds"),
        "ended": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "busy_process": not args.no_load,
        "cpus": os.cpu_count(),
        "records": records,
    }
    name = f"deadline-{began:%Y-%m-%d}" + (f"-{args.label}" if args.label else "")
    path = Path(args.out) / f"{name}.json"
    if path.exists():
        path = Path(args.out) / f"{name}T{began:%H%M}.json"
    path.write_text(json.dumps(data, indent=1, default=float))
    text = table(records)
    path.with_suffix(".md").write_text(text + "\n")
    print(text)
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
