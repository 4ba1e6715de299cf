"""Precompute the lever study of ``docs/tutorials/lever_value.md``.

The page's full study is 12 solves of the default day to a gap of 1e-5 and 12 re-plans of
:func:`suandian.flexibility_offer` (about 160 s on a busy 2-core machine), too slow to run at
every docs build. This script runs it and writes, beside itself:

* ``lever_value_levers.csv``: the cost and emissions of the day without each lever;
* ``lever_value_offers.csv``: the offers of each site from 18:00.

The page reads both files, recomputes a subset (the plan with every lever, one lever and
``cq_dc``'s 5-MW 1-h offer) and checks it against them, so a change of data or model that moves
a figure fails the docs build until this script is re-run::

    PYTHONPATH=src python docs/tutorials/lever_value_study.py
"""

import copy
import time
from pathlib import Path

import pandas as pd
import yaml

import suandian

HERE = Path(__file__).resolve().parent
PATH = HERE.parent.parent / "models" / "chongqing_hami_day.yaml"
BASE = yaml.safe_load(PATH.read_text(encoding="utf-8"))


def no_dr(raw):
    raw["demand_response"] = []


def is_it(product):
    return "it_load" in product.get("sources", ["battery"])


def no_reserve(raw):
    """Drop the battery's reserve product."""
    raw["reserves"] = [k for k in raw["reserves"] if is_it(k)]


def no_it_reserve(raw):
    """Drop the reserve products offered from IT load."""
    raw["reserves"] = [k for k in raw["reserves"] if not is_it(k)]


def no_tank(raw):
    raw["thermal_storage"] = []


def no_capping(raw):
    for site in raw["sites"]:
        site.pop("power_cap_curve", None)


def no_battery(raw):
    raw["storage"] = []
    no_reserve(raw)  # the battery's reserve product goes with it


def flat_batch(raw):
    """Batch work runs flat over its window: max_rate = work / window hours."""
    horizon = pd.date_range(BASE["horizon"]["start"], periods=96, freq="15min")
    for job in raw["batch"]:
        first = (
            job["release"]
            if isinstance(job["release"], int)
            else horizon.get_loc(pd.Timestamp(job["release"]))
        )
        deadline = job.get("deadline", 96)
        last = deadline if isinstance(deadline, int) else horizon.get_loc(pd.Timestamp(deadline))
        job["max_rate"] = job["work"] / ((last - first) * 0.25)


def no_migration(raw):
    """Each job chooses its site once for its whole window (no placement windows)."""
    for job in raw["batch"]:
        for key in ("placement_hours", "checkpoint_tb", "restore_hours"):
            job.pop(key, None)


def pinned_jobs(raw):
    """Each batch job runs at the first site it lists, for its whole window."""
    no_migration(raw)
    for job in raw["batch"]:
        job["sites"] = job["sites"][:1]


def pinned_inference(raw):
    """Each inference workload is served at the first site it lists."""
    for load in raw["interactive"]:
        load["sites"] = load["sites"][:1]


LEVERS = {
    "VPP demand response (cq_dc evening event)": [no_dr],
    "up-reserve from the battery": [no_reserve],
    "up-reserve from Hami's IT load": [no_it_reserve],
    "chilled-water tank (cq_dc)": [no_tank],
    "GPU power capping (hm_dc)": [no_capping],
    "battery (and its reserve)": [no_battery],
    "batch work deferrable in time": [flat_batch],
    "jobs move between sites every 2-4 h (data link)": [no_migration],
    "batch jobs choose their site": [pinned_jobs],
    "inference served in either province": [pinned_inference],
}
LEVERS["none of them"] = [f for fs in LEVERS.values() for f in fs]


def plan(changes=()):
    raw = copy.deepcopy(BASE)
    for change in changes:
        change(raw)
    sc = suandian.load_scenario(raw, base_dir=PATH.parent)
    began = time.perf_counter()
    result = suandian.solve(sc, mip_rel_gap=1e-5, time_limit=3600)  # optimal on a busy machine
    seconds = time.perf_counter() - began
    assert result.status == "optimal" and result.certify() == [], result.summary()
    return result, seconds


def row(name, result, seconds, ref):
    em, ref_em = result.kpis["emissions_tco2"], ref.kpis["emissions_tco2"]
    return {
        "without": name,
        "cost (CNY)": round(result.objective),
        "lever's value (CNY/day)": round(result.objective - ref.objective),
        "location-based tCO2": round(em["location_based"], 1),
        "Δ location tCO2": round(em["location_based"] - ref_em["location_based"], 1),
        "Δ market tCO2": round(em["market_based"] - ref_em["market_based"], 1),
        "hourly CFE": round(result.kpis["cfe_hourly"]["portfolio"], 3),
        "solve (s)": round(seconds, 1),
    }


START = "2026-07-15 18:00"
OPTIONS = suandian.SolveOptions(mip_rel_gap=1e-5, time_limit=3600, duals=False, diagnose=False)
LEVERS_CSV = HERE / "lever_value_levers.csv"
OFFERS_CSV = HERE / "lever_value_offers.csv"


def offers(full, hours=(1.0, 2.0), levels_mw=(5.0, 10.0, 20.0), sites=None):
    """The offers of each site from 18:00, measured from the plan ``full``."""
    sc = suandian.load_scenario(PATH)
    return suandian.flexibility_offer(
        sc,
        start=START,
        hours=hours,
        levels_mw=levels_mw,
        sites=sites,
        base=full,
        options=OPTIONS,
    )


def main():
    full, full_s = plan()
    rows = [row("— (every lever)", full, full_s, full)]
    for name, changes in LEVERS.items():
        rows.append(row(name, *plan(changes), full))
    pd.DataFrame(rows).to_csv(LEVERS_CSV, index=False)
    columns = ["site", "hours", "mw", "mwh", "status", "cost", "cost_per_mwh"]
    offers(full)[columns].round(1).to_csv(OFFERS_CSV, index=False)


if __name__ == "__main__":
    main()
