"""Representative days against the full year on the same sizing study (issue 23).

The study is ``models/cfe_247_hami.yaml`` (one Hami site, wind, PV and a battery sized to a
90 % 24/7 CFE score). For the full year (8,760 h, the battery chained over the year, cyclic at
its end) and for ``n`` representative days (``representative_days``: Ward, medoids, each day
wrapping around) it reports the objective, the chosen capacities and the score; then the
reduced plan's capacities are held (``min = max``) and the full year is dispatched with them:
its cost and its score on the year are the error of the reduction that matters to an
investment committee (does the sized plant meet the target over the real year, at what
cost?).

    PYTHONPATH=src .venv/bin/python benchmarks/representative_days.py [--days 6,12,24]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "data"))

from build_cfe_247_data import year  # noqa: E402

import suandian  # noqa: E402
from suandian.scenario.representative import representative_days  # noqa: E402

MODEL = ROOT / "models" / "cfe_247_hami.yaml"
CAPACITIES = (  # (section, item, field, Dataset name)
    ("renewables", "hami_wind", "capacity", "renewable_capacity"),
    ("renewables", "hami_pv", "capacity", "renewable_capacity"),
    ("storage", "hm_battery", "power", "storage_power"),
    ("storage", "hm_battery", "energy", "storage_energy"),
)


def full_year(raw: dict) -> dict:
    """The study over the 8,760 h: no weights, one sequence, the battery cyclic at the end."""
    out = copy.deepcopy(raw)
    out["horizon"] = {"start": "2026-01-01 00:00", "periods": 8760, "resolution": "1h"}
    out.pop("series", None)
    return out


def chosen(result: suandian.Result) -> dict[str, float]:
    """The chosen capacities, MW or MWh."""
    ds = result.ds
    return {
        f"{item}.{field}": float(ds[name].sel({ds[name].dims[0]: item}))
        for _, item, field, name in CAPACITIES
    }


def held(raw: dict, caps: dict[str, float]) -> dict:
    """``raw`` with every chosen capacity held at ``caps`` (min = max: still charged)."""
    out = copy.deepcopy(raw)
    for section, item, field, _ in CAPACITIES:
        for entry in out[section]:
            if entry["name"] == item:
                value = caps[f"{item}.{field}"]
                entry[field]["min"] = entry[field]["max"] = value
    return out


def run(raw: dict, series, need: bool = True) -> tuple[suandian.Result, float]:
    """Solve and certify; ``need=False`` returns an infeasible result instead of failing."""
    t0 = time.perf_counter()
    result = suandian.solve(
        suandian.load_scenario(raw, series=series), mip_rel_gap=0.0, time_limit=1200.0
    )
    seconds = time.perf_counter() - t0
    if not need and result.status == "infeasible":
        return result, seconds
    assert result.status == "optimal", result.summary()
    assert result.certify() == []
    return result, seconds


def row(label: str, r: suandian.Result, seconds: float) -> dict:
    k = r.kpis
    return {
        "case": label,
        "objective_cny": r.objective,
        **chosen(r),
        "cfe_hourly": k["cfe_hourly"]["hm_dc"],
        "cfe_score": k.get("cfe_score", {}).get("hm_dc", float("nan")),
        "cny_per_mwh_load": k["cny_per_mwh_load"]["portfolio"],
        "seconds": seconds,
        "columns": r.info.size["columns"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", default="6,12,24", help="representative days to try")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()
    raw = yaml.safe_load(MODEL.read_text(encoding="utf-8"))
    frame = year()
    year_raw = full_year(raw)
    reference, seconds = run(year_raw, frame)
    rows = [row("full year", reference, seconds)]
    for n in (int(v) for v in args.days.split(",")):
        rep = representative_days(frame, n)
        reduced_raw, series = rep.scenario(raw, frame)
        reduced, seconds = run(reduced_raw, series)
        rows.append(row(f"{n} days", reduced, seconds))
        plant = held(year_raw, chosen(reduced))
        check, seconds = run(plant, frame, need=False)
        if check.status == "infeasible":  # the plant misses the target on the year: its best
            plant["policies"]["cfe"] = None
            check, seconds = run(plant, frame)
            rows.append(
                row(f"{n} days' plant, full year: 90 % infeasible, no target", check, seconds)
            )
        else:
            rows.append(row(f"{n} days' plant, full year", check, seconds))
    base = rows[0]
    print(
        "| case | objective CNY | vs full year | wind MW | PV MW | battery MW | MWh "
        "| CFE row | cfe_hourly | s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        err = r["objective_cny"] / base["objective_cny"] - 1.0
        print(
            f"| {r['case']} | {r['objective_cny']:,.0f} | {err:+.2%} "
            f"| {r['hami_wind.capacity']:.1f} | {r['hami_pv.capacity']:.1f} "
            f"| {r['hm_battery.power']:.1f} | {r['hm_battery.energy']:.1f} "
            f"| {r['cfe_score']:.1%} | {r['cfe_hourly']:.1%} | {r['seconds']:.1f} |"
        )
    out = Path(args.out) / f"representative_days_{time.strftime('%Y-%m-%dT%H%M')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
