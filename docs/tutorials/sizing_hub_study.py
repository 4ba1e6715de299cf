"""Precompute the tables of ``docs/tutorials/sizing_hub.md``: sizing the hub.

The hub of ``models/chongqing_hami_year.yaml`` (the default day's two data centers, nodes,
contracts and levers over the year 2026) is sized on representative days of its year: the
Hami 绿电直连 project's wind and PV (built, owned), a battery at each site (power and
energy apart) and the corridor contract (MW); against (a) the 80 % annual green rule at the
Chongqing data center (the rule: per data center in a hub node) and (b) that rule plus 24/7
hourly matching at the Hami data center at 90 % and 100 %. Then the front of cost against
Hami's 24/7 score (80 -> 100 %), and the reduction's error: the plan of ``DAYS``
representative days against ``FULLER`` days, and the plant of ``DAYS`` dispatched on the
``FULLER`` days (does it still meet the targets?).

Too slow for every docs build (a few minutes of solves); this script writes
``sizing_hub_cases.csv``, ``sizing_hub_costs.csv``, ``sizing_hub_front.csv`` and
``sizing_hub_reduction.csv`` beside itself. The page reads them, re-solves the cheapest case
(the 80 % rule alone) and checks every statement against them::

    PYTHONPATH=src python docs/tutorials/sizing_hub_study.py [--days 12 --fuller 72]
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import suandian
from suandian.checks import period_weight
from suandian.run.pareto import pareto
from suandian.scenario.representative import representative_days

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
YEAR = ROOT / "models" / "chongqing_hami_year.yaml"
DATA = ROOT / "data"
#: representative days of the study and the fuller set it is checked against (365, every day
#: of the year each wrapping around, had not finished its first two solves in 16 min on the
#: loaded 2-core machine, 4 CPU min)
DAYS, FULLER = 12, 72
#: columns the days are clustered on: what drives supply, demand and cooling
CLUSTER_ON = [
    "pv_hami_pu",
    "wind_hami_pu",
    "pv_chongqing_pu",
    "corridor_green_hami_mw",
    "inference_chongqing_pflops",
    "inference_hami_pflops",
    "grid_cfe_chongqing_pu",
    "grid_cfe_hami_pu",
    "wetbulb_chongqing_degc",
    "ambient_hami_degc",
]
#: the targets of the study: name -> Hami's 24/7 score (None: the 80 % rule only)
CASES = {"80 % annual rule": None, "+ 24/7 at 90 %": 0.9, "+ 24/7 at 100 %": 1.0}
#: the front: Hami's 24/7 score from 80 to 100 %
FRONT = [0.8, 0.85, 0.9, 0.95, 1.0]
GAP = 1e-6  # relative MIP gap: the plan is an LP once the pods are all on


def _capacity(mx: float, capex: float, life: float, om: float = 0.0) -> dict:
    return {
        "max": mx,
        "capex_per_unit": capex,
        "lifetime_years": life,
        "discount_rate": 0.06,  # real, a state-owned developer's WACC [A] (cfe_247_hami.yaml)
        "fixed_om_per_unit_year": om,
    }


# Costs as models/cfe_247_hami.yaml (sources and tags in models/README.md, "24/7 CFE at one
# site, sized"): wind 4.0 CNY/W, 20 y, 90,000 CNY/MW-year O&M [R]; PV 3.0 CNY/W, 25 y,
# 45,000 [R]; LFP battery 160,000 CNY/MW + 385,000 CNY/MWh, 15 y [V-derived], 7,700
# CNY/MWh-year O&M [R]. Bounds [A]: large enough not to bind.
WIND = _capacity(600.0, 4_000_000.0, 20, 90_000.0)
PV = _capacity(600.0, 3_000_000.0, 25, 45_000.0)
BATTERY_POWER = _capacity(200.0, 160_000.0, 15)
BATTERY_ENERGY = _capacity(1600.0, 385_000.0, 15, 7_700.0)
#: the corridor contract's fee, CNY per MW and year [A]: a reservation of sending-end
#: capacity, about a tenth of the 60 CNY/MWh tariff's yield at 55 % use (~290,000)
CONTRACT_FEE = 30_000.0


def year_frame() -> pd.DataFrame:
    """The year's hourly series (the four files of ``chongqing_hami_year.yaml``)."""
    files = ["weather", "renewable_profiles", "compute_demand", "grid_cfe"]
    parts = [
        pd.read_csv(DATA / f"{name}_2026.csv", index_col="time", parse_dates=True) for name in files
    ]
    return pd.concat(parts, axis=1).asfreq("1h")


def planning_hub() -> dict:
    """The year's hub as a sizing study on representative days (the page lists the changes).

    * The Hami project's wind and PV are built and owned (capex annuity + fixed O&M; no PPA
      price), still direct-connected under the 650号 ratios; no feed-in (surplus curtailed).
    * A battery at each site, power and energy chosen apart (cq_dc's existing 10 MW / 20 MWh
      replaced by a choice from zero); the corridor's contract MW chosen at a fee.
    * What a representative day cannot carry is left out: batch windows across days (a
      weekly training run becomes a daily one of the same mean rate, 25,000 PFLOPS, at either
      site), dated DR events, rules by month (critical peaks, Hami's May-August deep valley,
      the monthly demand charges and their floors), the corridor's 10-MW day-ahead blocks
      (an operating detail: the contract MW is the decision).
    * Every pod on in every hour (``min_on = blocks``): the study sizes supply, not block
      commitment; the plan is then a linear program.
    * The annual rules (80 % green at cq_dc, PUE <= 1.25, the 650号 ratios) are judged on
      the horizon, which the day weights make the year.
    """
    raw = yaml.safe_load(YEAR.read_text(encoding="utf-8"))
    raw.pop("series")
    for node in raw["nodes"]:
        node["tariff"].pop("critical_peak", None)
        node["tariff"].pop("seasons", None)
        node.pop("demand_charge", None)
    for site in raw["sites"]:
        site["min_on"] = site["blocks"]
        site.pop("initial_on", None)
    raw["batch"] = []
    raw.pop("demand_response", None)
    for asset in raw["renewables"]:
        if asset["site"] == "hm_dc":
            asset["contract"] = "owned"
            asset.pop("price", None)
            # no feed-in: where Xinjiang's spot market does not run, 1192号 allows in
            # principle no feed-back [S] (chongqing_hami_year.yaml); the sizing is then an LP
            # (a feed-in excludes import in the same hour: one binary per hour that may sell)
            asset["export_price"] = None
            asset.pop("max_export_share", None)
            asset["capacity"] = copy.deepcopy(WIND if asset["kind"] == "wind" else PV)
    battery = {
        "power": copy.deepcopy(BATTERY_POWER),
        "energy": copy.deepcopy(BATTERY_ENERGY),
        "eta_charge": 0.95,
        "eta_discharge": 0.95,
        "throughput_cost": 0.0,  # wear is in the capex (6,000 cycles over 15 years) [R]
        "no_simultaneous": False,
    }
    raw["storage"] = [
        {"name": "cq_battery", "site": "cq_dc", **copy.deepcopy(battery)},
        {"name": "hm_battery", "site": "hm_dc", **copy.deepcopy(battery)},
    ]
    for tank in raw.get("thermal_storage", []):
        tank.pop("soc_initial", None)
        tank.pop("soc_final", None)
    corridor = raw["corridors"][0]
    for key in ("block_mw", "windows"):
        corridor.pop(key, None)
    corridor["contract_mw"] = {
        "max": float(corridor["capacity"]),
        "capex_per_unit": 0.0,
        "fixed_om_per_unit_year": CONTRACT_FEE,
    }
    policies = raw["policies"]
    policies["green_share"].pop("year")
    policies["green_share"]["basis"] = "horizon"
    policies["pue"].pop("year")
    policies["pue"]["basis"] = "horizon"
    policies.pop("direct_supply", None)
    return raw


def daily_training(start: pd.Timestamp, days: int) -> list[dict]:
    """A training job a day for ``days`` days from ``start``, at either site."""
    return [
        {
            "name": f"train_d{k:03d}",
            "work": 25_000.0 * 24,  # the weekly run's mean rate over the day, PFLOPS h
            "release": (start + pd.Timedelta(days=k)).to_pydatetime(),
            "deadline": (start + pd.Timedelta(days=k + 1)).to_pydatetime(),
            "max_rate": 40_000.0,
            "sites": ["hm_dc", "cq_dc"],
        }
        for k in range(days)
    ]


def reduced(days: int, frame: pd.DataFrame | None = None) -> tuple[dict, pd.DataFrame]:
    """The planning hub on ``days`` representative days, with a daily training job each."""
    frame = year_frame() if frame is None else frame
    rep = representative_days(frame, days, columns=CLUSTER_ON)
    raw, series = rep.scenario(planning_hub(), frame)
    raw["batch"] = daily_training(pd.Timestamp(raw["horizon"]["start"]), days)
    return raw, series


def chained(
    frame: pd.DataFrame | None = None, days: int | None = None
) -> tuple[dict, pd.DataFrame]:
    """The planning hub over the year's hours in sequence (or its first ``days`` days).

    The same study as :func:`reduced` without the reduction: no weights, one sequence (the
    batteries and the chiller tanks chained over the horizon, cyclic at its end), the same
    daily training job on every day; the annual rules are judged on the horizon, the year.
    """
    frame = year_frame() if frame is None else frame
    series = frame if days is None else frame.iloc[: 24 * days]
    raw = planning_hub()
    raw["horizon"]["periods"] = len(series)
    raw["batch"] = daily_training(pd.Timestamp(raw["horizon"]["start"]), len(series) // 24)
    return raw, series


def with_target(raw: dict, score: float | None) -> dict:
    """``raw`` with Hami's 24/7 score (None: the 80 % rule only); the rule stays."""
    out = copy.deepcopy(raw)
    cfe = {"score": score, "scope": "site", "site_targets": {"cq_dc": None}}
    out["policies"]["cfe"] = None if score is None else cfe
    return out


def solve(
    raw: dict, series: pd.DataFrame, time_limit: float = 3600.0, need: bool = True
) -> suandian.Result:
    """Solve to the gap ``GAP`` and certify; ``need=False`` returns a result not optimal."""
    result = suandian.solve(
        suandian.load_scenario(raw, series=series), mip_rel_gap=GAP, time_limit=time_limit
    )
    if not need and result.status != "optimal":
        return result
    assert result.status == "optimal", result.summary()
    assert result.certify() == [], result.certify()
    return result


CAPACITIES = {  # column -> (Dataset variable, label)
    "Hami wind (MW)": ("renewable_capacity", "hami_wind"),
    "Hami PV (MW)": ("renewable_capacity", "hami_pv"),
    "Hami battery (MW)": ("storage_power", "hm_battery"),
    "Hami battery (MWh)": ("storage_energy", "hm_battery"),
    "Chongqing battery (MW)": ("storage_power", "cq_battery"),
    "Chongqing battery (MWh)": ("storage_energy", "cq_battery"),
    "corridor contract (MW)": ("corridor_contract_mw", "hami_chongqing"),
}


def capacities(result: suandian.Result) -> dict[str, float]:
    ds = result.ds
    out = {}
    for column, (name, label) in CAPACITIES.items():
        da = ds[name]
        out[column] = round(float(da.sel({da.dims[0]: label})), 2)
    return out


def it_mwh(result: suandian.Result) -> dict[str, float]:
    """IT energy per site over the year the days stand for, MWh."""
    ds = result.ds
    w = period_weight(ds)
    it = (ds["p_it"] * w).sum("time") * float(ds.attrs["dt_hours"])
    return {str(s): float(it.sel(site=s)) for s in ds["site"].values}


def row(case: str, result: suandian.Result, seconds: float) -> dict:
    """The investment committee's line: capacities, cost, CNY/MWh, scores, shadow prices."""
    k = result.kpis
    shadow = k.get("shadow_prices", {})
    cfe = k.get("cfe_score", {})
    return {
        "case": case,
        **capacities(result),
        "annualised cost (M CNY/year)": round(result.objective / 1e6, 3),
        "load (GWh/year)": round(k["energy_mwh"]["facility"] / 1e3, 2),
        **{f"{s} IT (GWh/year)": round(v / 1e3, 2) for s, v in it_mwh(result).items()},
        "CNY per MWh of load": round(k["cny_per_mwh_load"]["portfolio"], 2),
        "cq_dc green share": round(k["green_share"]["cq_dc"], 4),
        "hm_dc 24/7 score": round(cfe.get("hm_dc", np.nan), 4),
        "cq_dc green target shadow (CNY/point)": round(
            shadow.get("shadow_green_share_point_cq_dc_cny_per_point", np.nan), 0
        ),
        "hm_dc 24/7 shadow (CNY/point)": round(
            shadow.get("shadow_cfe_point_hm_dc_cny_per_point", np.nan), 0
        ),
        "certified": result.certify() == [],
        "solve (s)": round(seconds, 1),
    }


def costs(result: suandian.Result) -> pd.Series:
    """Annualised cost by term, M CNY/year (terms that are zero left out)."""
    terms = pd.Series(result.costs, dtype=float) / 1e6
    return terms[terms.abs() > 1e-6].round(3)


def held(raw: dict, result: suandian.Result) -> dict:
    """``raw`` with every chosen capacity held at ``result``'s (min = max: still charged)."""
    out = copy.deepcopy(raw)
    caps = capacities(result)
    for asset in out["renewables"]:
        key = {"hami_wind": "Hami wind (MW)", "hami_pv": "Hami PV (MW)"}.get(asset["name"])
        if key:
            asset["capacity"]["min"] = asset["capacity"]["max"] = caps[key]
    for unit in out["storage"]:
        where = "Hami" if unit["site"] == "hm_dc" else "Chongqing"
        for field, unit_name in (("power", "MW"), ("energy", "MWh")):
            value = caps[f"{where} battery ({unit_name})"]
            unit[field]["min"] = unit[field]["max"] = value
    contract = out["corridors"][0]["contract_mw"]
    contract["min"] = contract["max"] = caps["corridor contract (MW)"]
    return out


def dispatch(plant: dict, series: pd.DataFrame, label: str, time_limit: float = 3600.0) -> dict:
    """A plant held at its capacities (:func:`held`) dispatched on ``series``: its row.

    ``status`` is ``optimal`` where it meets every target; where it cannot meet Hami's 24/7
    target, the row is its least-cost dispatch without that target (the 80 % rule kept) and
    ``status`` says so, its ``hm_dc 24/7 score`` then being what that dispatch reaches
    (a least-cost one: not the most the plant could reach). ``CPU (s)`` sums both solves.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    check = first = solve(plant, series, time_limit, need=False)
    status = "optimal"
    if check.status == "infeasible" and plant["policies"].get("cfe"):
        status = "24/7 target infeasible: least-cost dispatch without it"
        check = solve(with_target(plant, None), series, time_limit, need=False)
    if check.status != "optimal":
        return {"case": label, "status": f"{status}; {check.status}"}
    if status != "optimal" and first.diagnosis is not None:  # how far the target is missed
        status += f" ({'; '.join(first.diagnosis.findings)})"
    line = row(label, check, time.perf_counter() - t0)
    line["CPU (s)"] = round(time.process_time() - c0, 1)
    line["status"] = status
    return line


def provenance() -> dict:
    """Commit, date (UTC) and load average (1, 5, 15 min) at the moment, for a stored row.

    The commit is HEAD's when the row is written (``+changes``: this script or ``src``
    differ from it; the stored tables beside it do not count).
    """
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", str(Path(__file__).resolve()), str(ROOT / "src")],
        cwd=HERE,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "commit": commit + ("+changes" if dirty else ""),
        "date (UTC)": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "load average": " ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def full_year(
    names: list[str],
    days: int,
    slice_days: int | None,
    time_limit: float,
    out: Path,
    plant_only: bool = False,
) -> None:
    """The reduction against the year: per case, the ``days``-day plan, the full-year plan
    (:func:`chained`; ``slice_days``: the first days only, to time it; ``plant_only``: not
    solved) and the ``days``-day plant held and dispatched on the year (:func:`dispatch`).
    Rows are merged into ``out`` by label (a row run again replaces its line), each with its
    provenance and CPU seconds.
    """
    frame = year_frame()
    base, series = reduced(days, frame)
    year, year_series = chained(frame, slice_days)
    span = "full year" if slice_days is None else f"first {slice_days} days"
    rows = []
    for case in names:
        score = CASES[case]
        t0, c0 = time.perf_counter(), time.process_time()
        plan = solve(with_target(base, score), series)
        rows.append(row(f"{case}: {days} days", plan, time.perf_counter() - t0))
        rows[-1] |= {"CPU (s)": round(time.process_time() - c0, 1), "status": "optimal"}
        rows[-1] |= provenance()
        print(rows[-1], flush=True)
        if not plant_only:
            t0, c0 = time.perf_counter(), time.process_time()
            best = solve(with_target(year, score), year_series, time_limit)
            rows.append(row(f"{case}: {span}", best, time.perf_counter() - t0))
            rows[-1] |= {"CPU (s)": round(time.process_time() - c0, 1), "status": "optimal"}
            rows[-1] |= {"columns": best.info.size["columns"], **provenance()}
            print(rows[-1], flush=True)
            del best
        plant = held(with_target(year, score), plan)
        label = f"{case}: the {days}-day plant on the {span}"
        rows.append(dispatch(plant, year_series, label, time_limit) | provenance())
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    if out.exists():
        old = pd.read_csv(out)
        old = old[~old["case"].isin(table["case"])]
        table = pd.concat([old, table], ignore_index=True)
    order = {case: k for k, case in enumerate(CASES)}
    table = table.sort_values(
        "case", key=lambda c: c.str.split(":").str[0].map(order), kind="stable"
    )
    table.to_csv(out, index=False)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=DAYS)
    parser.add_argument("--fuller", type=int, default=FULLER)
    parser.add_argument("--skip-front", action="store_true")
    parser.add_argument(
        "--full-year",
        action="store_true",
        help="only the reduction against the full year (sizing_hub_full_year.csv)",
    )
    parser.add_argument(
        "--cases", default="0", help="--full-year: the cases by index in CASES, e.g. 0,1"
    )
    parser.add_argument("--slice-days", type=int, help="--full-year: the first days only")
    parser.add_argument(
        "--plant-only", action="store_true", help="--full-year: not the year's own plan"
    )
    parser.add_argument("--time-limit", type=float, default=7200.0, help="--full-year, s")
    parser.add_argument("--out", type=Path, default=HERE / "sizing_hub_full_year.csv")
    args = parser.parse_args()
    if args.full_year:
        names = [list(CASES)[int(k)] for k in args.cases.split(",")]
        full_year(names, args.days, args.slice_days, args.time_limit, args.out, args.plant_only)
        return
    frame = year_frame()
    base, series = reduced(args.days, frame)
    rows, terms = [], {}
    plans = {}
    for case, score in CASES.items():
        t0 = time.perf_counter()
        result = solve(with_target(base, score), series)
        rows.append(row(case, result, time.perf_counter() - t0))
        terms[case] = costs(result)
        plans[case] = result
        print(rows[-1], flush=True)
    pd.DataFrame(rows).to_csv(HERE / "sizing_hub_cases.csv", index=False)
    pd.DataFrame(terms).fillna(0.0).rename_axis("term").to_csv(HERE / "sizing_hub_costs.csv")
    # the reduction's error: the fuller set's plan, and the DAYS plant dispatched on it
    fuller, fuller_series = reduced(args.fuller, frame)
    out = []
    for case, score in CASES.items():
        t0 = time.perf_counter()
        best = solve(with_target(fuller, score), fuller_series)
        out.append(row(f"{case}: {args.fuller} days", best, time.perf_counter() - t0))
        plant = held(with_target(fuller, score), plans[case])
        label = f"{case}: the {args.days}-day plant on {args.fuller} days"
        out.append(dispatch(plant, fuller_series, label))
        print(out[-1], flush=True)
    table = pd.DataFrame(out)
    table["days"] = [args.fuller] * len(table)
    table.to_csv(HERE / "sizing_hub_reduction.csv", index=False)
    if not args.skip_front:
        sc = suandian.load_scenario(with_target(base, 0.9), series=series)
        front = pareto(
            sc,
            against="cfe_score",
            points=FRONT,
            scheduler="serial",
            mip_rel_gap=GAP,
            time_limit=3600.0,
        )
        front.table.to_csv(HERE / "sizing_hub_front.csv", index=False)
        print(front.table[["epsilon", "level", "cost", "slope", "certified"]])


if __name__ == "__main__":
    main()
