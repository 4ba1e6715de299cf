"""Precompute the figures of ``docs/tutorials/two_stage_day.md``.

The default day with a spot market at Chongqing and its forecast-error model
(``benchmarks/stochastic.day_with_uncertainty``: the default's six uncertain series plus the
real-time price), 50 draws reduced to ``--scenarios`` by fast forward selection, and
``--held-out`` further draws. Two first stages:

* **deterministic**: the plan of the mean forecast (``ScenarioSet.mean()``, solved as one day);
* **two-stage**: :func:`suandian.solve_stochastic` over the reduced scenarios.

Each is replayed on the shipped realised day (``data/realised_2026-07-15.csv`` and
``realised_price_2026-07-15.csv``) once without re-plan and re-planned every 24 and 16
periods (6 h, 4 h; a replay that fails is recorded with its error), and settled with its
first stage fixed on every held-out day **on its own** (its
recourse optimised knowing that day; the day's green share held on that day). Writes
``two_stage_day.json`` (the figures, CPU seconds and load of each phase) and
``two_stage_day_held_out.csv`` (one row per held-out day and plan, written as it goes, so an
interrupted run leaves the days done). The page reads both; too slow for a docs build::

    PYTHONPATH=src python docs/tutorials/two_stage_day_study.py --held-out 100
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent / "benchmarks"))
from stochastic import day_with_uncertainty  # noqa: E402

import suandian  # noqa: E402
from suandian.model import build_model  # noqa: E402
from suandian.run.replay import ReplayError, replay, save_plan  # noqa: E402
from suandian.run.stochastic import (  # noqa: E402
    cvar,
    evaluate_plan,
    plan_of,
    solve_stochastic,
    wait_and_see,
)
from suandian.scenario.uncertainty import realised_scenario, scenario_set  # noqa: E402

JSON = HERE / "two_stage_day.json"
CSV = HERE / "two_stage_day_held_out.csv"
#: the two first stages, for a look afterwards (not read by the page)
CACHE = Path(os.environ.get("TMPDIR", "/tmp")) / "two_stage_day_plans"
#: replays: once (no re-plan), re-planned every 6 h and every 4 h (periods of 15 min)
EVERY = (96, 24, 16)
#: value of compute not served, CNY per PFLOPS x h [A]: a first stage short of blocks sheds
PENALTY = 50.0
#: the DR baseline rule the stored study was made with (one no-event plan per scenario)
PINNED = {"dr_baseline": "per_scenario"}


class Phase:
    """CPU seconds (this process) and wall seconds of a phase, with the load average."""

    def __init__(self, log: dict, name: str):
        self.log, self.name = log, name

    def __enter__(self) -> Phase:
        self.cpu, self.wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.log[self.name] = {
            "cpu_s": round(time.process_time() - self.cpu, 1),
            "wall_s": round(time.perf_counter() - self.wall, 1),
            "load_1min": round(os.getloadavg()[0], 2),
        }
        print(f"{self.name}: {self.log[self.name]}", flush=True)


def _replays(plan, forecast, realised, planned, opts, every_of=EVERY) -> dict:
    out: dict = {}
    for every in every_of:
        try:
            rep = replay(
                plan,
                forecast,
                realised,
                every,
                planned=planned,
                compute_shortfall_penalty=PENALTY,
                **opts,
            )
        except (ReplayError, suandian.ScenarioError, ValueError) as exc:  # recorded, not fatal
            print(f"replay every {every}: {exc}", flush=True)
            out[str(every)] = {"error": str(exc)}
            continue
        assert rep.result.certify() == [], rep.result.certify()[:3]
        out[str(every)] = {
            "summary": rep.summary(),
            "costs": rep.costs().to_dict(orient="records"),
            "deviations": rep.deviations().to_dict(orient="records"),
            "compliance": rep.compliance(),
        }
    return out


def main() -> None:
    """Run the study (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenarios", type=int, default=3)
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--held-out", type=int, default=100)
    ap.add_argument("--gap", type=float, default=0.005)
    ap.add_argument(
        "--second-worker",
        action="store_true",
        help="only settle held-out days, from the last down, with the plans a running study "
        "saved (CACHE), into two_stage_day_held_out_b.csv: a second process on a busy machine",
    )
    ap.add_argument(
        "--merge",
        action="store_true",
        help="merge the second worker's days into two_stage_day_held_out.csv and the summary "
        "into two_stage_day.json (each day once)",
    )
    ap.add_argument(
        "--replay-again",
        type=int,
        default=None,
        metavar="K",
        help="only replay both saved plans (CACHE) re-planning every K periods, their planned "
        "costs from the JSON, and update its entry",
    )
    args = ap.parse_args()
    if args.replay_again is not None:
        replay_again(args)
        return
    if args.merge:
        merge()
        return
    if args.second_worker:
        second_worker(args)
        return
    opts = {"mip_rel_gap": args.gap, "time_limit": 900.0}
    # the stored study settles every scenario against its own no-event plan and starts the
    # extensive form from its LP relaxation (the defaults before 2026-12-08): PINNED keeps
    # this script making the stored files
    shed = {"compute_shortfall_penalty": PENALTY}
    CACHE.mkdir(parents=True, exist_ok=True)
    phases: dict = {}
    report: dict = {"args": vars(args), "penalty": PENALTY, "phases": phases}
    with Phase(phases, "scenario_set"):
        sc = day_with_uncertainty(args.samples, args.scenarios, args.held_out, 0)
        ss = scenario_set(sc)
        realised = realised_scenario(sc)
    report["reduction"] = ss.reduction
    report["probabilities"] = [float(p) for p in ss.probabilities]
    with Phase(phases, "two_stage"):
        rp = solve_stochastic(ss, **shed, **opts, **PINNED, start="relaxation")
    assert rp.certify() == []
    save_plan(rp.first_stage, CACHE / "two_stage.nc")
    with Phase(phases, "mean_forecast"):
        mean = ss.mean()
        m = build_model(mean, pyomo=False, **shed)
        ev = suandian.solve(m, **opts)
        ev_plan = plan_of(m.built, ev.ds)
    assert ev.certify() == []
    save_plan(ev_plan, CACHE / "deterministic.nc")
    with Phase(phases, "eev"):
        eev = evaluate_plan(ev_plan, ss, **shed, **opts, **PINNED)
    with Phase(phases, "wait_and_see"):
        ws = wait_and_see(ss, **shed, **opts, **PINNED)
    dt = sc.dt
    report["plans"] = {
        "two_stage": {
            "rp": rp.expected_cost,
            "costs": [float(c) for c in rp.costs],
            "std": rp.cost_std,
            "cvar": rp.cvar,
            "gap": rp.info.mip_gap,
            "position_mwh": float(rp.first_stage["grid.p_da"].sum()) * dt,
            "blocks_on": float(rp.first_stage["dc.n_on"].sum()) * dt,
            "corridor_blocks": float(rp.first_stage["green.n_block"].sum()),
            "dr_mw": float(rp.first_stage["dr.p_dr_commit"].sum()),
        },
        "deterministic": {
            "ev": ev.objective,
            "eev": eev.expected_cost,
            "costs": [float(c) for c in eev.costs],
            "std": eev.cost_std,
            "cvar": eev.cvar,
            "gap": ev.mip_gap,
            "position_mwh": float(ev_plan["grid.p_da"].sum()) * dt,
            "blocks_on": float(ev_plan["dc.n_on"].sum()) * dt,
            "corridor_blocks": float(ev_plan["green.n_block"].sum()),
            "dr_mw": float(ev_plan["dr.p_dr_commit"].sum()),
        },
        "vss": eev.expected_cost - rp.expected_cost,
        "ws": ws.expected_cost,
        "evpi": rp.expected_cost - ws.expected_cost,
    }
    JSON.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    with Phase(phases, "replay_two_stage"):
        report["replay"] = {"two_stage": _replays(rp, sc, realised, rp, opts)}
    with Phase(phases, "replay_deterministic"):
        report["replay"]["deterministic"] = _replays(ev_plan, sc, realised, ev, opts)
    JSON.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    rows: list[dict] = []
    with Phase(phases, "held_out"):
        for j, day in enumerate(ss.held_out):
            for name, plan in (("two_stage", rp), ("deterministic", ev_plan)):
                t = time.process_time()
                try:
                    out = evaluate_plan(plan, [day], **shed, **opts, **PINNED)
                except (ValueError, suandian.ScenarioError) as exc:  # recorded, not fatal
                    print(f"held-out day {j}, {name}: {exc}", flush=True)
                    rows.append(
                        {"day": j, "plan": name, "cost": math.inf, "status": "error",
                         "certified": False, "cpu_s": round(time.process_time() - t, 2)}
                    )  # fmt: skip
                    continue
                cost = float(out.costs[0]) if out.info.has_solution else math.inf
                ok = out.info.has_solution and out.certify() == []
                rows.append(
                    {
                        "day": j,
                        "plan": name,
                        "cost": cost,
                        "status": out.status,
                        "certified": ok,
                        "cpu_s": round(time.process_time() - t, 2),
                    }
                )
            pd.DataFrame(rows).to_csv(CSV, index=False)
            print(f"held-out day {j}: {rows[-2]['cost']:.0f} / {rows[-1]['cost']:.0f}", flush=True)
    report["held_out"] = _summary(pd.DataFrame(rows))
    JSON.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    print(json.dumps(report["held_out"], indent=1))


def _summary(frame: pd.DataFrame) -> dict:
    """Days, and per plan the mean, spread and CVaR 0.9 of the held-out costs (CNY)."""
    held: dict = {"days": int(frame["day"].nunique())}
    for name, part in frame.groupby("plan"):
        c = part["cost"].to_numpy(float)
        p = np.full(len(c), 1.0 / len(c))
        held[str(name)] = {
            "mean": float(c.mean()),
            "std": float(c.std()),
            "cvar": cvar(c, p, 0.9)[1],
            "certified": int(part["certified"].sum()),
        }
    return held


CSV_B = HERE / "two_stage_day_held_out_b.csv"


def second_worker(args: argparse.Namespace) -> None:
    """Settle held-out days from the last down with the plans the study saved."""
    from suandian.run.replay import load_plan

    sc = day_with_uncertainty(args.samples, args.scenarios, args.held_out, 0)
    ss = scenario_set(sc)
    plans = {}
    for name in ("two_stage", "deterministic"):
        folder = CACHE / name
        folder.mkdir(exist_ok=True)
        (folder / "first_stage.nc").write_bytes((CACHE / f"{name}.nc").read_bytes())
        plans[name], _ = load_plan(folder, sc)
    opts = {"mip_rel_gap": args.gap, "time_limit": 900.0}
    rows: list[dict] = []
    for j in range(len(ss.held_out) - 1, -1, -1):
        for name, plan in plans.items():
            t = time.process_time()
            out = evaluate_plan(
                plan, [ss.held_out[j]], compute_shortfall_penalty=PENALTY, **opts, **PINNED
            )
            cost = float(out.costs[0]) if out.info.has_solution else math.inf
            ok = out.info.has_solution and out.certify() == []
            rows.append(
                {"day": j, "plan": name, "cost": cost, "status": out.status, "certified": ok,
                 "cpu_s": round(time.process_time() - t, 2)}
            )  # fmt: skip
        pd.DataFrame(rows).to_csv(CSV_B, index=False)
        print(f"held-out day {j}: {rows[-2]['cost']:.0f} / {rows[-1]['cost']:.0f}", flush=True)


def replay_again(args: argparse.Namespace) -> None:
    """Replay the saved plans every ``args.replay_again`` periods; update the JSON."""
    from suandian.run.replay import load_plan

    report = json.loads(JSON.read_text(encoding="utf-8"))
    sc = day_with_uncertainty(args.samples, args.scenarios, 0, 0)
    realised = realised_scenario(sc)
    opts = {"mip_rel_gap": args.gap, "time_limit": 900.0}
    for name in ("two_stage", "deterministic"):
        folder = CACHE / name
        folder.mkdir(exist_ok=True)
        (folder / "first_stage.nc").write_bytes((CACHE / f"{name}.nc").read_bytes())
        plan, _ = load_plan(folder, sc)
        table = pd.DataFrame(report["replay"][name][str(sc.periods)]["costs"])
        planned = dict(zip(table["term"], table["planned"], strict=True))
        with Phase(report["phases"], f"replay_{name}_every_{args.replay_again}"):
            out = _replays(plan, sc, realised, planned, opts, (args.replay_again,))
        report["replay"][name].update(out)
    JSON.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")


def merge() -> None:
    """Each held-out day once (the study's first), the summary into the JSON."""
    frames = [pd.read_csv(CSV)] + ([pd.read_csv(CSV_B)] if CSV_B.exists() else [])
    both = pd.concat(frames).drop_duplicates(["day", "plan"], keep="first")
    both = both.sort_values(["day", "plan"]).reset_index(drop=True)
    both.to_csv(CSV, index=False)
    report = json.loads(JSON.read_text(encoding="utf-8"))
    report["held_out"] = _summary(both)
    JSON.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")
    print(json.dumps(report["held_out"], indent=1))


if __name__ == "__main__":
    main()
