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


#: Shadow prices by output: the label of the table (the key of ``kpis["shadow_prices"]`` is
#: ``<output>_<scope>_<unit suffix>``); an output not listed is named from its own name
_SHADOW_LABELS = {
    "shadow_green_share": "green share, one MWh more",
    "shadow_green_share_point": "green share, one point higher",
    "shadow_pue": "PUE cap, 0.01 lower",
    "shadow_self_consumption": "direct energy used on site, one MWh more",
    "shadow_direct_supply": "direct supply, one MWh more",
    "shadow_co2_cap": "emissions cap, one tCO2 lower",
}
#: energy_mwh keys that are headroom sold (MW x h), not energy that flowed
_OFFERED = ("reserve_",)


def _num(value: float, spec: str) -> str:
    """``format(value, spec)`` without a minus on a figure that rounds to zero (``-0``)."""
    text = format(value, spec)
    if "-" in text and not any(ch in "123456789" for ch in text):
        plain = text.replace("-", "", 1)
        return plain.rjust(len(text)) if text[0] == " " else plain
    return text


def _section(title: str, unit: str, rows: list[tuple[str, str]], width: int = 22) -> list[str]:
    """A titled block of ``name  value`` rows, the values right-aligned under ``unit``."""
    width = max([width, *(len(name) + 2 for name, _ in rows)])
    size = max([16, *(len(text) for _, text in rows)])
    lines = [f"{title:<{width + 2}}{unit:>{size}}".rstrip()]
    return lines + [f"  {name:<{width}}{text:>{size}}".rstrip() for name, text in rows]


def summary(result: Result) -> str:
    """Return a KPI table: status, cost by term, green share, PUE, emissions, timings."""
    info = result.info
    lines = [
        f"scenario      {result.ds.attrs.get('scenario', '')}",
        f"status        {info.status} (HiGHS: {info.highs_status})",
    ]
    if result.has_plan:
        k = result.kpis
        lines += [f"total cost    {info.objective:>16,.0f} CNY   gap {info.mip_gap:.3%}", ""]
        costs = [(t, _num(v, ",.0f")) for t, v in k["cost"].items() if t != "total"]
        lines += _section("cost by term", "CNY", costs, width=30)
        if k.get("capacity_chosen"):
            chosen = [(n, _num(v, ",.2f")) for n, v in k["capacity_chosen"].items()]
            unit = "MW, MWh or blocks"  # the field's unit
            lines += ["", *_section("capacities chosen", unit, chosen, width=30)]
            yearly = [(t, _num(v, ",.0f")) for t, v in k["cost_annualised"].items()]
            per = k["cny_per_mwh_load"]["portfolio"]
            yearly.append(("CNY per MWh of load", _num(per, ",.1f")))
            if "cny_per_compute" in k:
                per = k["cny_per_compute"]["portfolio"]
                yearly.append(("CNY per unit·h of compute", _num(per, ",.2f")))
            lines += ["", *_section("annualised cost by term", "CNY/year", yearly, width=30)]
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
        e = {name: v for name, v in k["energy_mwh"].items() if abs(v) > 0.05}
        flowed = [(n, _num(v, ",.1f")) for n, v in e.items() if not n.startswith(_OFFERED)]
        offered = [(n, _num(v, ",.1f")) for n, v in e.items() if n.startswith(_OFFERED)]
        lines += [""] + _section("energy", "MWh", flowed, width=30)
        if offered:
            lines += [""] + _section("reserve offered (headroom sold)", "MW x h", offered, 30)
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
        shadow = _shadow_rows(result)
        if shadow:
            lines += [""] + _section("shadow prices (cost of tightening by one unit)", "", shadow)
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


def _shadow_rows(result: Result) -> list[tuple[str, str]]:
    """Rows of the shadow-price table: ``label (scope)`` and ``value unit``.

    The values of ``result.kpis["shadow_prices"]`` (the same keys, so the table shows what
    ``kpis.json`` holds), labelled from the output that declares each one.
    """
    from ..catalogue import known

    prices = result.kpis.get("shadow_prices", {})
    rows: list[tuple[str, str, str]] = []
    for component in known(result.ds):
        for o in component.outputs:
            if not o.shadow or o.name not in result.ds:
                continue
            da = result.ds[o.name]
            label = _SHADOW_LABELS.get(o.name, o.name.removeprefix("shadow_").replace("_", " "))
            if not da.dims:  # one row (the emissions cap)
                key = f"{o.name}_{o.shadow}"
                if key in prices:
                    rows.append((label, _num(prices[key], ",.2f"), o.unit))
                continue
            for scope in da[da.dims[0]].values:
                key = f"{o.name}_{scope}_{o.shadow}"
                if key in prices:
                    rows.append((f"{label} ({scope})", _num(prices[key], ",.2f"), o.unit))
    size = max([len(unit) for *_, unit in rows], default=0)
    return [(name, f"{value} {unit:<{size}}") for name, value, unit in rows]


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
