"""Day-ahead portfolios of 2 to 40 sites: time to a certified plan and to a proven gap.

Solves the portfolios of :mod:`benchmarks.portfolio` (sizes x seeds), each in a fresh
process, with suandian's defaults unless told otherwise, and records per case: columns,
rows, integer columns, time to the first plan (build + MIP start), time to a 0.5 % and a
0.1 % gap (from ``result.info.trace``), the final status, gap and objective, whether the
plan certifies, and the 1-min load average at the start and end of the case.

Usage::

    python benchmarks/portfolio_bench.py                          # 2,5,10,20,40 x seeds 0,1,2
    python benchmarks/portfolio_bench.py --sizes 10 --seeds 0,1,2 --time-limit 20 \\
        --highs mip_heuristic_effort=0.3 --label effort0.3
    python benchmarks/portfolio_bench.py --report benchmarks/results/portfolio-<date>.json

Results go to ``benchmarks/results/portfolio-<date>[-label].json`` (``T<HHMM>`` added if
the file exists) with a markdown table beside it (``.md``); the table is also printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _first(trace: list[dict], gap: float) -> float | None:
    for entry in trace:
        if entry["gap"] <= gap + 1e-12:
            return entry["seconds"]
    return None


#: Log messages of the MIP start that say a plan was found (the first is the first plan).
_FOUND = re.compile(
    r"MIP start: (rounding \S+ gives|aggregate\S* plan|plan |no rounding.*fallback plan)"
)


class _FirstPlan(logging.Handler):
    """Wall and CPU seconds (since the solve began) of the first plan the MIP start found.

    The plans of the 1-h aggregate's own start, logged before ``Aggregate: ...``, are not
    the model's: forgotten at that line.
    """

    def __init__(self, wall0: float, cpu0: float) -> None:
        super().__init__(logging.INFO)
        self.wall0, self.cpu0 = wall0, cpu0
        self.wall: float | None = None
        self.cpu: float | None = None
        self.message = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Aggregate:"):  # the coarse model's plans before it
            self.wall = self.cpu = None
        elif self.wall is None and _FOUND.match(record.getMessage()):
            self.wall = time.perf_counter() - self.wall0
            self.cpu = time.process_time() - self.cpu0
            self.message = record.getMessage()[:120]


def _load(n_sites: int, seed: int, generator: str):
    """The scenario of ``generator``: ``paired`` or ``tied[-1h][-site]``."""
    if generator.startswith("tied"):
        from benchmarks.portfolio_tied import load as load_tied

        parts = generator.split("-")[1:]
        resolution = "1h" if "1h" in parts else "15min"
        return load_tied(n_sites, seed, resolution, "site" if "site" in parts else "portfolio")
    from benchmarks.portfolio import load

    return load(n_sites, seed)


def worker(n_sites: int, seed: int, options: dict, generator: str = "paired") -> dict:
    """Solve one portfolio in this process and return its record."""
    sys.path.insert(0, str(ROOT))
    import suandian

    load0 = os.getloadavg()[0]
    began = time.perf_counter()
    sc = _load(n_sites, seed, generator)
    loaded = time.perf_counter() - began
    cpu0 = time.process_time()
    found = _FirstPlan(began + loaded, cpu0)
    logger = logging.getLogger("suandian")
    logger.setLevel(logging.INFO)
    logger.addHandler(found)
    r = suandian.solve(sc, **options)
    logger.removeHandler(found)
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - began - loaded
    load1 = os.getloadavg()[0]
    info = r.info
    build = info.timings.get("build", 0.0)
    trace = info.trace
    first = build + trace[0]["seconds"] if trace and r.has_plan else None
    t05, t01 = _first(trace, 0.005), _first(trace, 0.001)
    violations = r.certify() if r.has_plan else None
    return {
        "sites": n_sites,
        "seed": seed,
        "columns": info.size.get("columns"),
        "rows": info.size.get("rows"),
        "integers": info.size.get("integer_columns"),
        "status": info.status,
        "objective": info.objective,
        "bound": info.bound,
        "gap": info.mip_gap,
        "first_plan_s": first,
        "first_found_s": found.wall,
        "first_found_cpu_s": found.cpu,
        "first_found": found.message,
        "gap_0.5%_s": None if t05 is None else build + t05,
        "gap_0.1%_s": None if t01 is None else build + t01,
        "wall_s": wall,
        "cpu_s": cpu,
        "generator": generator,
        "origin": info.origin,
        "certified": violations == [] if violations is not None else False,
        "start": info.start,
        "decomposition": info.decomposition,
        "timings": info.timings,
        "trace": trace,
        "load_start": load0,
        "load_end": load1,
    }


def _fmt(v, digits: int = 1) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def table(records: list[dict], limit: float) -> str:
    """Markdown table, one row per case, and one per size with the medians."""
    lines = [
        "| sites | seed | columns / integers | first plan s | 0.5 % s | 0.1 % s | status | "
        "gap at end | start gap | certified | load 1-min |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        start = r.get("start") or {}
        sgap = (
            (start["objective"] - r["bound"]) / abs(start["objective"])
            if start and r["bound"] == r["bound"]
            else None
        )
        lines.append(
            f"| {r['sites']} | {r['seed']} | {r['columns']:,} / {r['integers']:,} | "
            f"{_fmt(r['first_plan_s'])} | {_fmt(r['gap_0.5%_s'])} | {_fmt(r['gap_0.1%_s'])} | "
            f"{r['status']} | {r['gap']:.3%} | {'—' if sgap is None else f'{sgap:.2%}'} | "
            f"{'yes' if r['certified'] else 'NO'} | "
            f"{r['load_start']:.2f}–{r['load_end']:.2f} |"
        )
    lines += ["", f"Medians over seeds (— counts as the limit, {limit:g} s):", ""]
    lines += [
        "| sites | first plan s | 0.5 % s | 0.1 % s | gap at end |",
        "|---|---|---|---|---|",
    ]
    import statistics

    for n in sorted({r["sites"] for r in records}):
        rs = [r for r in records if r["sites"] == n]

        def med(key: str, rs=rs) -> float:
            return statistics.median(limit if r[key] is None else r[key] for r in rs)

        gap = statistics.median(r["gap"] for r in rs)
        lines.append(
            f"| {n} | {med('first_plan_s'):.1f} | {med('gap_0.5%_s'):.1f} | "
            f"{med('gap_0.1%_s'):.1f} | {gap:.3%} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2,5,10,20,40")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--highs", action="append", default=[], help="HiGHS option NAME=VALUE")
    ap.add_argument("--option", action="append", default=[], help="SolveOptions NAME=VALUE")
    ap.add_argument("--label", default="")
    ap.add_argument(
        "--timeout",
        type=float,
        default=0.0,
        help="seconds after which a case's worker is killed (0: none); the case is then lost",
    )
    ap.add_argument(
        "--generator",
        default="paired",
        help="paired (benchmarks/portfolio.py) or tied[-1h][-site] (benchmarks/portfolio_tied.py)",
    )
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--report", help="re-print the table of a results file")
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.report:
        data = json.loads(Path(args.report).read_text())
        print(table(data["records"], data["time_limit"]))
        return
    if args.worker:
        n, seed, opts = int(args.worker[0]), int(args.worker[1]), json.loads(args.worker[2])
        print(json.dumps(worker(n, seed, opts, args.worker[3])))
        return

    def value(text: str):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text

    options: dict = {"time_limit": args.time_limit, "duals": False}
    options.update({k: value(v) for k, v in (o.split("=", 1) for o in args.option)})
    highs = {k: value(v) for k, v in (o.split("=", 1) for o in args.highs)}
    if highs:
        options["highs_options"] = highs
    sizes = [int(s) for s in args.sizes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    began = dt.datetime.now(dt.UTC)
    records = []
    for n in sizes:
        for seed in seeds:
            try:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--worker",
                        str(n),
                        str(seed),
                        json.dumps(options),
                        args.generator,
                    ],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                    timeout=args.timeout or None,
                )
            except subprocess.TimeoutExpired:
                print(f"{n:3d} sites seed {seed}: killed after {args.timeout:g} s", file=sys.stderr)
                continue
            lines = out.stdout.strip().splitlines()
            if out.returncode != 0 or not lines:
                print(
                    f"{n:3d} sites seed {seed}: worker exited {out.returncode} without a "
                    f"record; its stderr:\n{out.stderr[-2000:]}",
                    file=sys.stderr,
                )
                continue
            rec = json.loads(lines[-1])
            records.append(rec)
            print(
                f"{n:3d} sites seed {seed}: {rec['status']}, gap {rec['gap']:.3%}, first plan "
                f"{_fmt(rec['first_plan_s'])} s, 0.1 % {_fmt(rec['gap_0.1%_s'])} s, "
                f"found {_fmt(rec['first_found_s'])} s / {_fmt(rec['first_found_cpu_s'])} "
                f"CPU s, wall {rec['wall_s']:.1f} s, cpu {rec['cpu_s']:.1f} s, "
                f"from {rec['origin']}, "
                f"load {rec['load_start']:.2f}, timings "
                + " ".join(f"{k}={v:.1f}" for k, v in rec["timings"].items()),
                flush=True,
            )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "src"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    data = {
        "started": began.isoformat(timespec="seconds"),
        "ended": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit + (" + uncommitted src" if dirty else ""),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "options": options,
        "generator": args.generator,
        "time_limit": args.time_limit,
        "records": records,
    }
    kind = "" if args.generator == "paired" else f"-{args.generator}"
    name = f"portfolio{kind}-{began:%Y-%m-%d}" + (f"-{args.label}" if args.label else "")
    path = Path(args.out) / f"{name}.json"
    if path.exists():
        path = Path(args.out) / f"{name}T{began:%H%M}.json"
    path.write_text(json.dumps(data, indent=1, default=float))
    text = table(records, args.time_limit)
    path.with_suffix(".md").write_text(text + "\n")
    print(text)
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
