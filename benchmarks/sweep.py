"""Sweep speed-up: cases of the embedded default day on a local dask cluster vs one by one.

    PYTHONPATH=src .venv/bin/python benchmarks/sweep.py                 # 16 cases, 2 workers
    PYTHONPATH=src .venv/bin/python benchmarks/sweep.py --cases 8 --workers 2 --order parallel

The cases: ``policies.green_share.target`` x ``storage[cq_battery].energy`` on the default
day (``models/chongqing_hami_day.yaml``), a grid of ``--cases`` points (targets 0.70..0.85
in steps of 0.05 by battery energies 10, 20, 30, 40 MWh, taken in that order). Both runs
solve the same cases with the same options (suandian's defaults unless ``--mip-gap`` /
``--time-limit``, HiGHS on one thread) and
certify every case; ``serial`` solves them in this process one after the other
(``scheduler="serial"``), ``parallel`` on a ``LocalCluster`` of ``--workers`` processes of
one thread (``scheduler=None``, the cluster's start-up included in its time). The
speed-up is serial wall time / parallel wall time. The machine is shared: the 1-, 5- and
15-min load averages (``/proc/loadavg``) before and after each run are recorded.

Results: ``benchmarks/results/sweep-<date>.json`` (``-<HHMM>`` if it exists).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from datetime import datetime
from pathlib import Path

import numpy as np

import suandian

ROOT = Path(__file__).resolve().parents[1]
TARGETS = [0.70, 0.75, 0.80, 0.85]
ENERGIES = [10.0, 20.0, 30.0, 40.0]


def load() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def cases(n: int) -> dict:
    grid = [(t, e) for t in TARGETS for e in ENERGIES][:n]
    return {
        "policies.green_share.target": [t for t, _ in grid],
        "storage[cq_battery].energy": [e for _, e in grid],
    }


def run(sc, params, scheduler, workers, **options) -> dict:
    before = load()
    began = time.perf_counter()
    r = suandian.sweep(
        sc, params, design="zip", scheduler=scheduler, n_workers=workers, progress=True, **options
    )
    wall = time.perf_counter() - began
    ds = r.ds
    return {
        "wall_seconds": wall,
        "case_seconds": [float(x) for x in ds["seconds"].values],
        "case_seconds_sum": float(ds["seconds"].sum()),
        "case_cpu_seconds": [float(x) for x in ds["cpu_seconds"].values],
        "case_cpu_seconds_sum": float(ds["cpu_seconds"].sum()),
        "objective": [float(x) for x in ds["objective"].values],
        "status": [str(x) for x in ds["status"].values],
        "certified": int(ds["certified"].sum()),
        "workers": int(ds.attrs["workers"]),
        "load_before": before,
        "load_after": load(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--order",
        choices=("serial", "parallel"),
        default="serial",
        help="which run goes first (default: serial)",
    )
    ap.add_argument("--mip-gap", type=float, default=1e-3, help="per case (default 0.1 %%)")
    ap.add_argument("--time-limit", type=float, default=60.0, help="s per case (default 60)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    sc = suandian.load_scenario(ROOT / "models" / "chongqing_hami_day.yaml")
    params = cases(args.cases)
    runs = {}
    order = ["serial", "parallel"] if args.order == "serial" else ["parallel", "serial"]
    for kind in order:
        print(f"--- {kind}: {args.cases} cases", flush=True)
        runs[kind] = run(sc, params, "serial" if kind == "serial" else None, args.workers)
    s, p = runs["serial"], runs["parallel"]
    speedup = s["wall_seconds"] / p["wall_seconds"]
    same = np.allclose(s["objective"], p["objective"], rtol=2e-3, equal_nan=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    import dask
    import distributed
    import highspy

    out = {
        "when": datetime.now().isoformat(timespec="seconds"),
        "commit": commit + (" + uncommitted src" if dirty else ""),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "versions": {
            "suandian": suandian.__version__,
            "dask": dask.__version__,
            "distributed": distributed.__version__,
            "highspy": getattr(highspy, "__version__", "?"),
        },
        "cases": args.cases,
        "workers": args.workers,
        "mip_rel_gap": args.mip_gap,
        "time_limit": args.time_limit,
        "order": order,
        "params": params,
        "runs": runs,
        "speedup": speedup,
        "objectives_agree_within_gap": bool(same),
    }
    folder = ROOT / "benchmarks" / "results"
    path = args.out or folder / f"sweep-{datetime.now():%Y-%m-%d}.json"
    if args.out is None and path.exists():
        path = folder / f"sweep-{datetime.now():%Y-%m-%dT%H%M}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(
        f"serial {s['wall_seconds']:.1f} s, {args.workers} workers {p['wall_seconds']:.1f} s: "
        f"speed-up {speedup:.2f}x (target >= 1.6x: {'PASS' if speedup >= 1.6 else 'FAIL'}); "
        f"load before/after serial {s['load_before'][0]:.2f}/{s['load_after'][0]:.2f}, "
        f"parallel {p['load_before'][0]:.2f}/{p['load_after'][0]:.2f}; "
        f"{s['certified']}+{p['certified']} certified; objectives agree: {same}"
    )
    print(
        f"CPU s per wall s of the cases: serial {s['case_cpu_seconds_sum'] / s['wall_seconds']:.2f}"
        f", parallel {p['case_cpu_seconds_sum'] / p['wall_seconds']:.2f} (of {args.workers}); "
        f"statuses serial {sorted(set(s['status']))}, parallel {sorted(set(p['status']))}"
    )
    print(f"wrote {path}")


if __name__ == "__main__":  # the local cluster's worker processes import this file
    main()
