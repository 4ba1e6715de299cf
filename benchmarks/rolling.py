"""The default hub's year as a rolling horizon: time by phase, memory, the year's figures.

Usage::

    PYTHONPATH=src python benchmarks/rolling.py                 # hourly, 24 h + 24 h
    PYTHONPATH=src python benchmarks/rolling.py --resolution 15min --days 30
    PYTHONPATH=src python benchmarks/rolling.py --forecast neutral --out results/x.json
    PYTHONPATH=src python benchmarks/rolling.py --days 30 --clock cpu --gap 0.001 --warm

``--clock cpu`` times every phase in CPU seconds of the process (``time.process_time``, all
threads: HiGHS's included) instead of wall seconds: on a shared machine the wall time of a
phase measures the load as much as the work. It replaces ``time.perf_counter`` before
suandian is imported, so the solves' deadlines run on that clock too (no deadline binds at
these sizes). ``--gap`` is each window's ``mip_rel_gap`` (default ``ROLLING_GAP``, 1 %);
``--warm`` turns the warm start on (``solve_rolling(warm_start=True)``). With ``--days``
the figures are also extrapolated to a 365-window year: the mean of every window but the
last (whose annual rows are the horizon's: it is one window in 365, not one in 7) times
364, plus the last.

Reports, summed over the windows (``YearResult.windows``): ``window`` (cutting each window
from the rest and handing the state over), ``presolve`` (a DR event's baseline plan, of
which ``presolve_highs`` is HiGHS's), ``build``, ``handover``, HiGHS (``mip_start`` +
``solve`` + ``presolve_highs``: the MIP start's LPs and the branch and bound, the window's
and its DR baseline's), ``extract``, ``books`` (committed costs, flows, certificates and
the state handed on), ``checkpoint``; then ``foresight`` (the year's LP, the
forecast of the annual budgets and the yardstick), ``stitch``, the year's books and months,
and the year's certifier; the wall time, the peak resident memory (``ru_maxrss``), and the
overhead outside HiGHS as a share of HiGHS's time. The issue's targets: the hourly year in
<= 3 min wall and <= 1.5 GB on 2 cores, the 15-min year in <= 15 min, overhead <= 10 %.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import yaml

if "--clock" in sys.argv and sys.argv[sys.argv.index("--clock") + 1 :][:1] == ["cpu"]:
    time.perf_counter = time.process_time  # before suandian binds it (see the docstring)

import suandian  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "models" / "chongqing_hami_year.yaml"
#: the phases that are HiGHS's: the MIP start's LPs, the branch and bound, and both of the
#: DR baselines (``presolve_highs``, inside ``presolve``)
HIGHS = ("mip_start", "solve", "presolve_highs")


def scenario(resolution: str, days: int | None) -> suandian.Scenario:
    """The default year at ``resolution`` (hourly data held over finer periods)."""
    raw = yaml.safe_load(MODEL.read_text(encoding="utf-8"))
    per_day = {"1h": 24, "30min": 48, "15min": 96}[resolution]
    raw["horizon"]["resolution"] = resolution
    raw["horizon"]["periods"] = per_day * 365
    if resolution != "1h":
        raw["horizon"]["upsample"] = "hold"
    sc = suandian.load_scenario(raw, base_dir=MODEL.parent)
    return sc if days is None else sc.window(0, per_day * days)


def main() -> None:
    """Roll the year and write the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resolution", default="1h", choices=("1h", "30min", "15min"))
    parser.add_argument("--days", type=int, default=None, help="first N days only")
    parser.add_argument("--commit", default="24h")
    parser.add_argument("--lookahead", default="24h")
    parser.add_argument("--forecast", default="foresight", choices=("foresight", "neutral"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", default="wall", choices=("wall", "cpu"))
    parser.add_argument("--gap", type=float, default=0.01, help="mip_rel_gap per window")
    parser.add_argument("--warm", action="store_true", help="the warm start on")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=600.0,
        help="seconds per window (HiGHS counts its own in wall seconds: on a loaded machine "
        "the default 60 binds at a fraction of that in CPU)",
    )
    parser.add_argument("--windows-csv", type=Path, default=None, help="per-window log")
    parser.add_argument("--no-certify", action="store_true")
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the figures")
    args = parser.parse_args()

    began = time.perf_counter()
    sc = scenario(args.resolution, args.days)
    loaded = time.perf_counter() - began
    year = suandian.solve_rolling(
        sc,
        args.commit,
        args.lookahead,
        forecast=args.forecast,
        threads=args.threads,
        progress=False,
        warm_start=args.warm,
        mip_rel_gap=args.gap,
        time_limit=args.time_limit,
    )
    rolled = time.perf_counter() - began - loaded
    t0 = time.perf_counter()
    kpis = year.kpis
    year.months()
    booked = time.perf_counter() - t0
    t0 = time.perf_counter()
    violations = [] if args.no_certify else year.certify()
    certified = time.perf_counter() - t0
    wall = time.perf_counter() - began
    log = year.windows
    if args.windows_csv is not None:
        log.to_csv(args.windows_csv)
    timed = log[[c for c in log.columns if c.endswith("_s")]]
    phases = {c[:-2]: float(v) for c, v in timed.sum().items()}
    # a 365-window year: every window but the last at their mean, plus the last
    body = timed.fillna(0.0).iloc[:-1]
    per_window = {c[:-2]: float(v) for c, v in body.mean().items()} if len(body) else phases
    last = {c[:-2]: float(v) for c, v in timed.iloc[-1].fillna(0.0).items()}
    year365 = {k: 364 * per_window.get(k, 0.0) + last.get(k, 0.0) for k in phases}
    highs = sum(phases.get(k, 0.0) for k in HIGHS)
    # ``presolve`` (the DR baselines) holds their HiGHS time, ``presolve_highs``
    outside = sum(v for k, v in phases.items() if k not in (*HIGHS, "certify"))
    outside -= phases.get("presolve_highs", 0.0)
    outside += year.seconds.get("stitch", 0.0)
    figures = {
        "machine": {
            "cpus": os.cpu_count(),
            "load_1min": os.getloadavg()[0],
            "python": platform.python_version(),
        },
        "suandian": suandian.__version__,
        "resolution": args.resolution,
        "periods": sc.periods,
        "commit": args.commit,
        "lookahead": args.lookahead,
        "forecast": args.forecast,
        "windows": len(year.parts),
        "wall_s": wall,
        "load_s": loaded,
        "rolling_s": rolled,
        "clock": args.clock,
        "mip_rel_gap": args.gap,
        "time_limit": args.time_limit,
        "warm_start": args.warm,
        "phases_s": phases,
        "per_window_s": per_window,
        "last_window_s": last,
        "year365_s": year365,
        "year365_highs_s": sum(year365.get(k, 0.0) for k in HIGHS),
        "year365_outside_s": sum(v for k, v in year365.items() if k not in (*HIGHS, "certify"))
        - year365.get("presolve_highs", 0.0),
        "starts": log["start_step"].str.split("+").str[0].value_counts().to_dict(),
        "origins": log["origin"].value_counts().to_dict(),
        "foresight_s": year.seconds.get("foresight", 0.0),
        "stitch_s": year.seconds.get("stitch", 0.0),
        "year_books_s": booked,
        "certify_s": certified,
        "highs_s": highs,
        "outside_highs_s": outside,
        "overhead_share": outside / highs if highs else float("nan"),
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2,
        "objective": year.objective,
        "foresight": year.foresight,
        "value_of_foresight": year.value_of_foresight(),
        "compliance": kpis["compliance"],
        "violations": [str(v) for v in violations[:20]],
        "statuses": year.windows["status"].value_counts().to_dict(),
    }
    text = json.dumps(figures, indent=1, default=float)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    sys.exit(1 if violations else 0)


if __name__ == "__main__":
    main()
