"""Which HiGHS options solve suandian's MILPs fastest: CPU seconds per case, paired.

Each (case, option set) is solved in a fresh process with HiGHS on one thread, and the
process's CPU time (user + system) is recorded with the wall time, objective and gap: CPU
seconds of a one-thread solve move far less than wall time when other jobs share the
machine, so option sets can be compared on a busy machine. Cases:

* ``day``: the embedded default day (``models/chongqing_hami_day.yaml``), DR baseline
  presolve included;
* ``day2027``: its 2027 variant;
* ``yearwin-D``: 48 h (24 committed + 24 look-ahead) of ``models/chongqing_hami_year.yaml``
  from day D, with the jobs' work done before it pro rata (``benchmarks/year_windows.py``);
* ``portfolio-N-S``: ``benchmarks/portfolio.py``'s N-site portfolio, seed S.

Usage::

    .venv/bin/python benchmarks/highs_options.py --cases day,yearwin-196 \
        --set base= --set norens=mip_heuristic_run_rens:false
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def load_case(name: str):
    import suandian

    if name == "day":
        return suandian.load_scenario(ROOT / "models" / "chongqing_hami_day.yaml")
    if name == "day2027":
        return suandian.load_scenario(ROOT / "models" / "chongqing_hami_day_2027.yaml")
    if name.startswith("yearwin-"):
        sys.path.insert(0, str(ROOT))
        from benchmarks.year_windows import pro_rata_state

        day = int(name.split("-")[1])
        year = suandian.load_scenario(ROOT / "models" / "chongqing_hami_year.yaml")
        return year.window(day * 24, 48, pro_rata_state(year, day * 24))
    if name.startswith("portfolio-"):
        sys.path.insert(0, str(ROOT))
        from benchmarks.portfolio import load

        _, n, seed = name.split("-")
        return load(int(n), int(seed))
    raise SystemExit(f"unknown case {name!r}")


def parse_set(text: str) -> tuple[str, dict]:
    label, _, body = text.partition("=")
    options: dict = {}
    for item in filter(None, body.split(",")):
        key, _, value = item.partition(":")
        low = value.lower()
        if low in ("true", "false"):
            options[key] = low == "true"
        else:
            options[key] = float(value) if "." in value else int(value)
    return label, options


def worker(case: str, options: dict, gap: float, limit: float) -> dict:
    import suandian

    sc = load_case(case)
    start = time.perf_counter()
    r = suandian.solve(
        sc, mip_rel_gap=gap, time_limit=limit, threads=1, highs_options=options, progress=False
    )
    i = r.info
    return {
        "wall": time.perf_counter() - start,
        "objective": i.objective,
        "gap": i.mip_gap,
        "status": i.status,
        "presolve": i.timings.get("presolve", 0.0),
        "solve": i.timings.get("solve", 0.0),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default="day,day2027,yearwin-15,yearwin-196,portfolio-10-0")
    ap.add_argument("--set", action="append", default=[], help="LABEL=opt:value,opt:value")
    ap.add_argument("--gap", type=float, default=1e-3)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--out", default=str(HERE / "results" / "highs_options.jsonl"))
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        case, opts, gap, limit = args.worker
        print(json.dumps(worker(case, json.loads(opts), float(gap), float(limit))))
        return
    sets = [parse_set(s) for s in (args.set or ["base="])]
    for case in args.cases.split(","):
        for label, options in sets:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    case,
                    json.dumps(options),
                    str(args.gap),
                    str(args.time_limit),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            try:
                rec = json.loads(out.stdout.strip().splitlines()[-1])
            except (IndexError, json.JSONDecodeError):
                rec = {"error": out.stderr[-500:]}
            rec.update(case=case, set=label, options=options, cpu=cpu)
            with open(args.out, "a") as f:
                f.write(json.dumps(rec) + "\n")
            nan = float("nan")
            wall, obj, gap = (rec.get(k, nan) for k in ("wall", "objective", "gap"))
            status = rec.get("status", rec.get("error", ""))
            print(
                f"{case:16s} {label:10s} cpu {cpu:7.1f} s  wall {wall:7.1f} s"
                f"  obj {obj:12.1f}  gap {gap:.1e}  {status}",
                flush=True,
            )


if __name__ == "__main__":
    main()
