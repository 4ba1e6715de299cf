"""Two-stage plan of the default day over generated scenarios, phases timed (issue 22).

The default day (``models/chongqing_hami_day.yaml``) with

* forecast errors (kinds' defaults, docs/math/stochastic.md) on Hami PV and wind, Chongqing
  rooftop PV, both inference demands and Chongqing's wet-bulb temperature, and, on the
  Chongqing node's spot market, the real-time price;
* the Chongqing node's purchase settled in the spot market: day-ahead price = the node's
  time-of-use energy price of the day, real-time price = that with a price error, band 5 %,
  assessment 50 CNY/MWh [A], position at most 200 MW; the node's tariff set to 0 (the
  market's price replaces it);

``--samples`` draws reduced to ``--scenarios`` by fast forward selection, ``--held-out``
further draws. The two-stage plan is solved by each ``--method`` in turn, in the same run:
``extensive`` (one model, HiGHS's branch and bound) and ``decomposed`` (the Lagrangian
decomposition by scenario). Prints and writes (``benchmarks/results/stochastic-<K>.json``,
or ``--out``): the phases in wall and CPU seconds (``time.process_time``: this process and
HiGHS's threads; scenario set, each method's two-stage solve with its build, hand-over, MIP
start, decomposition and solve, and with ``--value`` EV, EEV, WS, out of sample, these with
the first method's plan; the members' presolved plans, the DR event's baseline (the mean
forecast's, or each member's with ``--dr-baseline per_scenario``), once before the methods,
cached for both), the model size, the figures (RP, VSS, EVPI, out of sample), the 1-minute
load average before and after, and per method ``cpu_trace``: the HiGHS progress lines
(incumbent, bound, gap) stamped with the CPU seconds since the method began.

    PYTHONPATH=src .venv/bin/python benchmarks/stochastic.py --scenarios 3 --gap 0.005 \
        --method extensive,decomposed --shortfall-penalty 50
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import time
from pathlib import Path

import pandas as pd
import yaml

import suandian
from suandian.highs import SolveOptions
from suandian.run.stochastic import baselines, evaluate_plan, solve_stochastic, wait_and_see
from suandian.scenario.uncertainty import scenario_set

ROOT = Path(__file__).resolve().parents[1]
DAY = ROOT / "models" / "chongqing_hami_day.yaml"


def day_with_uncertainty(samples: int, keep: int, held_out: int, seed: int) -> suandian.Scenario:
    """The default day with a spot market at Chongqing and an ``uncertainty`` section."""
    raw = yaml.safe_load(DAY.read_text(encoding="utf-8"))
    base = suandian.load_scenario(copy.deepcopy(raw), base_dir=DAY.parent)
    cq = raw["nodes"][0]
    da = base.profile(base.config.nodes[0].tariff)
    cq["tariff"] = 0.0
    extra = pd.DataFrame({"da_cq": da, "rt_cq": da}, index=base.time)
    raw["spot_market"] = [
        {
            "node": cq["name"],
            "day_ahead_price": "da_cq",
            "real_time_price": "rt_cq",
            "tolerance": 0.05,
            "deviation_price": 50.0,
            "position_max": 200.0,
        }
    ]
    raw["uncertainty"] = {
        "errors": [
            {"series": "pv_hami_pu", "kind": "pv"},
            {"series": "wind_hami_pu", "kind": "wind"},
            {"series": "pv_chongqing_pu", "kind": "pv"},
            {"series": "inference_chongqing_pflops", "kind": "demand"},
            {"series": "inference_hami_pflops", "kind": "demand"},
            {"series": "wetbulb_chongqing_degc", "kind": "temperature"},
            {"series": "rt_cq", "kind": "price"},
        ],
        "samples": samples,
        "reduce_to": keep,
        "held_out": held_out,
        "seed": seed,
        # the day as it happened (data/realised_2026-07-15.provenance.md): the default's
        # series and the real-time price of this variant
        "realised": [
            "../data/realised_2026-07-15.csv",
            "../data/realised_price_2026-07-15.csv",
        ],
    }
    return suandian.load_scenario(raw, series=extra, base_dir=DAY.parent)


def _figures(rp, ss, wall: float, cpu: float, load: float) -> dict:
    """What a method's two-stage plan reports: status, objective, bound, gap, phases, size."""
    info = rp.info
    out = {
        "wall_s": wall,
        "cpu_s": cpu,
        "load_end": load,
        "status": info.status,
        "objective": info.objective,
        "bound": info.bound,
        "gap": info.mip_gap,
        "timings": info.timings,
        "size": info.size,
        "start": getattr(info, "start", None),
        "decomposition": getattr(info, "decomposition", None),
        "origin": getattr(info, "origin", None),
    }
    if info.has_solution:
        out.update(rp.summary())
        out["costs"] = [float(c) for c in rp.costs]
        out["p_da_mwh"] = float(rp.first_stage["grid.p_da"].sum()) * ss.base.dt
        out["n_on_sum"] = float(rp.first_stage["dc.n_on"].sum())
        out["certified"] = rp.certify() == []
    return out


class _CpuTrace(logging.Handler):
    """The HiGHS progress lines of the solves (incumbent, bound, gap), stamped with this
    process's CPU seconds: the gap reached by a given CPU time on a loaded machine."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.points: list[tuple[float, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "incumbent" in message or "new plan" in message or "two-stage start" in message:
            self.points.append((round(time.process_time(), 2), " ".join(message.split())))


def main() -> None:
    """Run the benchmark (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", type=int, default=10)
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--held-out", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gap", type=float, default=0.005)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--value", action="store_true", help="also EV, EEV, WS (and out of sample)")
    ap.add_argument(
        "--method",
        default="extensive",
        help="comma-separated methods solved in turn: extensive, decomposed (default: %(default)s)",
    )
    ap.add_argument(
        "--dr-baseline",
        default="mean_forecast",
        choices=["mean_forecast", "per_scenario"],
        help="whose plan without the event the DR baseline reads (default: %(default)s)",
    )
    ap.add_argument(
        "--start",
        default="mean_forecast",
        choices=["mean_forecast", "relaxation"],
        help="the extensive form's MIP start (default: %(default)s)",
    )
    ap.add_argument("--out", type=Path, default=None, help="JSON file (default: results/...)")
    ap.add_argument(
        "--shortfall-penalty",
        type=float,
        default=None,
        help="CNY per PFLOPS x h of unserved compute, in every solve (a first stage that "
        "cannot serve a scenario then sheds instead of being infeasible) [A]",
    )
    args = ap.parse_args()
    opts = {"mip_rel_gap": args.gap, "time_limit": args.time_limit, "threads": args.threads}
    shed = {"compute_shortfall_penalty": args.shortfall_penalty}
    report: dict = {"args": vars(args), "load_start": os.getloadavg()[0], "phases": {}}
    t = time.perf_counter()
    ss = scenario_set(day_with_uncertainty(args.samples, args.scenarios, args.held_out, args.seed))
    report["phases"]["scenario_set_s"] = time.perf_counter() - t
    report["reduction"] = ss.reduction
    print(f"scenario set: {report['phases']['scenario_set_s']:.1f} s, reduction {ss.reduction}")
    # the presolved plans the members are built with (the DR event's no_event baseline: the
    # mean forecast's, one MIP, or one MIP per member), cached: made once here, so no
    # method's build includes them
    t, c = time.perf_counter(), time.process_time()
    baselines(ss.members, SolveOptions(**opts), args.shortfall_penalty, args.dr_baseline)
    report["phases"]["presolve_s"] = time.perf_counter() - t
    report["phases"]["presolve_cpu_s"] = time.process_time() - c
    trace = _CpuTrace()
    logger = logging.getLogger("suandian")
    logger.addHandler(trace)
    logger.setLevel(logging.INFO)
    methods = [m.strip() for m in args.method.split(",") if m.strip()]
    report["methods"] = {}
    rp = None
    for method in methods:
        t, c = time.perf_counter(), time.process_time()
        res = solve_stochastic(
            ss, method=method, dr_baseline=args.dr_baseline, start=args.start, **shed, **opts
        )
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        report["phases"][f"two_stage_{method}_s"] = wall
        report["phases"][f"two_stage_{method}_cpu_s"] = cpu
        report["methods"][method] = _figures(res, ss, wall, cpu, os.getloadavg()[0])
        report["methods"][method]["cpu_trace"] = [(round(p - c, 2), m) for p, m in trace.points]
        trace.points.clear()
        print(method, json.dumps(report["methods"][method], indent=1, default=str))
        if rp is None and res.info.has_solution:
            rp = res
    if args.value and rp is not None:
        from suandian.model import build_model
        from suandian.run.stochastic import plan_of

        mean = ss.mean()
        t = time.perf_counter()
        m = build_model(mean, pyomo=False, **shed)
        ev = suandian.solve(m, **opts)
        report["phases"]["ev_s"] = time.perf_counter() - t
        plan = plan_of(m.built, ev.ds)
        t = time.perf_counter()
        eev = evaluate_plan(plan, ss, dr_baseline=args.dr_baseline, **shed, **opts)
        report["phases"]["eev_s"] = time.perf_counter() - t
        t = time.perf_counter()
        ws = wait_and_see(ss, dr_baseline=args.dr_baseline, **shed, **opts)
        report["phases"]["ws_s"] = time.perf_counter() - t
        report["value"] = {
            "rp": rp.expected_cost,
            "ev": ev.objective,
            "eev": eev.expected_cost,
            "vss": eev.expected_cost - rp.expected_cost,
            "ws": ws.expected_cost,
            "evpi": rp.expected_cost - ws.expected_cost,
            "gaps": {"rp": rp.info.mip_gap, "eev": eev.info.mip_gap, "ws": ws.info.mip_gap},
        }
        if ss.held_out:
            t = time.perf_counter()
            a = evaluate_plan(rp, ss.held_out, **shed, **opts)
            b = evaluate_plan(plan, ss.held_out, **shed, **opts)
            report["phases"]["out_of_sample_s"] = time.perf_counter() - t
            report["value"]["out_of_sample"] = {
                "stochastic_mean": a.expected_cost,
                "stochastic_cvar": a.cvar,
                "mean_forecast_mean": b.expected_cost,
                "mean_forecast_cvar": b.cvar,
            }
        print(json.dumps(report["value"], indent=1, default=str))
    report["phases"] = {k: round(v, 2) for k, v in report["phases"].items()}
    report["load_end"] = os.getloadavg()[0]
    print(json.dumps(report["phases"], indent=1))
    out = args.out or ROOT / "benchmarks" / "results" / f"stochastic-{args.scenarios}.json"
    out.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
