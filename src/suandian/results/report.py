"""Plain-text KPI table of a Result (used by the CLI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .result import Result


#: Under the green-share table: what a target is (docs/math/green_share.md, "Status of the rule")
_GREEN_NOTE = [
    "  the hub's 80 % rule is annual; in 2025 monitored, not assessed, 2026 weights indicative",
    "  (发改办能源〔2025〕669号): a hard target here is the scenario's choice",
]
#: Under the PUE table: what the grade is (docs/math/pue_cap.md, "KPIs")
_GRADE_NOTE = [
    "  grade: informative. GB 40879-2021 covers air-cooled, electric-AC data centers (a",
    "  liquid-cooled site is graded by reference only) and judges a year's metered energy:",
    "  the grade of a shorter horizon is not a compliance grade",
]


def summary(result: Result) -> str:
    """Return a KPI table: status, cost by term, green share, PUE, emissions, timings."""
    info = result.info
    lines = [
        f"scenario      {result.ds.attrs.get('scenario', '')}",
        f"status        {info.status} (HiGHS: {info.highs_status})",
    ]
    if result.has_plan:
        k = result.kpis
        lines += [
            f"total cost    {info.objective:>16,.0f} CNY   gap {info.mip_gap:.3%}",
            "",
            "cost by term                    CNY",
        ]
        lines += [
            f"  {term:<22}{value:>16,.0f}" for term, value in k["cost"].items() if term != "total"
        ]
        if k.get("capacity_chosen"):
            lines += ["", "capacities chosen               MW or MWh"]
            lines += [f"  {n:<30}{v:>12,.2f}" for n, v in k["capacity_chosen"].items()]
            lines += ["", "annualised cost by term         CNY/year"]
            lines += [f"  {t:<30}{v:>16,.0f}" for t, v in k["cost_annualised"].items()]
            per = k["cny_per_mwh_load"]["portfolio"]
            lines += [f"  {'CNY per MWh of load':<30}{per:>16,.1f}"]
        targets = _targets(result)
        lines += ["", "green share                    share   of which certificates   target"]
        for name, value in k["green_share"].items():
            cert = k["green_share_certificates"][name]
            target = targets.get(name)
            lines.append(
                f"  {name:<22}{value:>13.1%}{cert:>24.1%}"
                + (f"{target:>9.0%}" if target is not None else "")
            )
        if targets:
            lines += _GREEN_NOTE
        lines += ["", "hourly CFE (24/7: hour by hour, grid share credited, no certificates)"]
        lines += [f"  {name:<22}{value:>15.1%}" for name, value in k["cfe_hourly"].items()]
        if k.get("cfe_score"):
            target = result.ds.attrs.get("cfe_score_target", float("nan"))
            lines += [
                "",
                f"24/7 CFE row (policies.cfe, load matched, losses not credited)  "
                f"target {target:.0%}",
            ]
            lines += [f"  {name:<22}{value:>15.1%}" for name, value in k["cfe_score"].items()]
        year = k.get("green_share_year", {})
        if year:
            lines += ["", "green share over the year (to date + plan + forecast)"]
            lines += [f"  {name:<22}{value:>15.1%}" for name, value in year.items()]
        caps = result.ds["pue_cap"].to_series()
        basis = result.ds.attrs.get("pue_basis", "horizon")
        head = f"PUE (energy-weighted)        achieved   cap ({basis})  GB 40879 grade"
        lines += ["", head + ("          year" if k.get("pue_year") else "")]
        for site, value in k["pue"].items():
            grade = k["pue_grade"][site]
            year_pue = k.get("pue_year", {}).get(site)
            lines.append(
                f"  {site:<22}{value:>15.3f}   {caps[site]:.3f}"
                + (f"{int(grade):>14d}" if grade == grade else f"{'none':>14}")
                + (f"{year_pue:>14.3f}" if year_pue is not None else "")
            )
        lines += _GRADE_NOTE
        e = k["energy_mwh"]
        lines += ["", "energy                          MWh"]
        lines += [f"  {name:<22}{value:>16,.1f}" for name, value in e.items() if abs(value) > 0.05]
        em = k["emissions_tco2"]
        lines += [
            "",
            f"emissions     location-based {em['location_based']:,.1f} tCO2, "
            f"market-based {em['market_based']:,.1f} tCO2",
            f"CUE           {k['cue_kg_per_kwh']:.3f} kgCO2/kWh IT",
        ]
        wue = k.get("wue_l_per_kwh", {})
        if any(v > 0 for v in wue.values()):
            lines.append(
                "WUE           " + ", ".join(f"{n} {v:.2f}" for n, v in wue.items()) + " L/kWh IT"
            )
        shadow = k.get("shadow_prices", {})
        if shadow:
            lines += ["", "shadow prices"]
            lines += [f"  {name:<40}{value:>14,.2f}" for name, value in shadow.items()]
    if result.diagnosis is not None:
        lines += ["", str(result.diagnosis)]
    t = info.timings
    lines += ["", "seconds       " + "  ".join(f"{k} {v:.3f}" for k, v in t.items())]
    s = info.size
    lines.append(
        f"size          {s['columns']} columns ({s['integer_columns']} integer), "
        f"{s['rows']} rows, {s['nonzeros']} nonzeros"
    )
    return "\n".join(lines)


def _targets(result: Result) -> dict[str, float]:
    """Green-share target per scope (site or portfolio) where one applies."""
    ds = result.ds
    if "green_target" in ds and "scope" in ds.dims:
        return {
            str(g): float(v)
            for g, v in zip(ds["scope"].values, ds["green_target"].values, strict=True)
            if v == v
        }
    target = ds.attrs.get("green_share_target")
    return {"portfolio": float(target)} if target is not None and target == target else {}
