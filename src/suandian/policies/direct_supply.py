"""绿电直连 supply share: the direct project's energy >= r2 x the site's consumption.

Math: ``docs/math/direct_supply.md``. Component ``direct_supply`` (a policy: reads the
ledgers only). One row per site whose direct-connected renewables (``direct: true``) state
``min_supply_share`` (发改能源〔2025〕650号: >= 30 %, 35 % from 2030): ``Ledger.total("direct")
>= r2 * Ledger.consumption()``, over the horizon, or over the year with
``policies.direct_supply.basis: year`` (year to date + horizon + forecast, which gives the
horizon an allowance). The policy section sets the basis of both 650号 ratios (the
self-consumption row is ``res.self_consumption_min``) and this component hands the project's
energies of a window over to the next (``state_out``, ``state_in``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from ..checks import Rows, attr, budget_weight, by_site, period_weight
from ..component import Account, Component, Context, FamilyBuilder, Output, StateField, Totals
from ..components.renewables import direct_year, project_ratio
from .pue_cap import year_problems

if TYPE_CHECKING:
    from ..errors import Problem
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs

#: the ratio each allowance of ``policies.direct_supply.year.<site>`` belongs to
ALLOWANCES = {
    "self_consumption_allowance_mwh": "min_self_consumption",
    "supply_allowance_mwh": "min_supply_share",
}


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    share = project_ratio(sc.config.renewables, "min_supply_share", ctx.sites)
    allowance, _, cons_other = direct_year(
        sc, ctx.sites, share, "consumption", "supply_allowance_mwh"
    )
    policy = sc.config.policies.direct_supply
    fb.attrs.update(direct_basis="horizon" if policy is None else policy.basis)
    fb.input("direct_supply_share_min", share)
    fb.input("direct_supply_allowance", allowance)
    fb.input("direct_consumption_other", cons_other)
    on = ~np.isnan(share)
    if not on.any():
        return
    led = ctx.ledger
    annual = policy is not None and policy.basis == "year"
    total = led.year_total if annual else led.total  # a look-ahead stands in the forecast
    got = total("direct")
    penalty = ctx.options.get("shortfall_penalty")
    if penalty is not None:  # diagnosis: how far the ratio can be met
        shortfall = fb.var("e_direct_shortfall", ub=np.where(on, np.inf, 0.0))
        got = got + shortfall
        fb.cost("shortfall_direct", shortfall * penalty, per_period=False)
    fb.constrain(
        "share_min",
        got - total("intake") * np.nan_to_num(share),
        ">=",
        -allowance,
        mask=on,
        dual="shadow_direct_supply",
    )


def _account(ds: xr.Dataset) -> Account:
    penalty = attr(ds, "shortfall_penalty")
    if "e_direct_shortfall" not in ds or np.isnan(penalty):
        return Account(flows={})
    return Account(
        flows={}, cost={"shortfall_direct": penalty * float(ds["e_direct_shortfall"].sum())}
    )


def _site_input(ds: xr.Dataset, name: str) -> xr.DataArray | float:
    """A per-site input with NaN as 0; 0 when the Dataset lacks it (saved before it existed)."""
    return ds[name].fillna(0.0) if name in ds else 0.0


def _check(ds: xr.Dataset, rows: Rows) -> None:
    if "direct_supply_share_min" not in ds or "res" not in rows.accounts:
        return
    flows = rows.accounts["res"].flows
    if "direct" not in flows:
        return
    annual = ds.attrs.get("direct_basis") == "year"
    w = budget_weight(ds) if annual else period_weight(ds)
    got = (flows["direct"] * w).sum("time") * rows.dt
    if "e_direct_shortfall" in ds:
        got = got + ds["e_direct_shortfall"]
    sites = [str(s) for s in ds["site"].values]
    cons = xr.DataArray(
        [rows.books["consumption_mwh"][s] for s in sites], dims="site", coords={"site": sites}
    )
    if annual and "budget_period" in ds:  # the consumption the row counts
        intake = sum(a.flows["intake"] for a in rows.accounts.values() if "intake" in a.flows)
        cons = (intake * w).sum("time") * rows.dt
    share = ds["direct_supply_share_min"]
    got_y = got + _site_input(ds, "direct_used_other")
    cons_y = cons + _site_input(ds, "direct_consumption_other")
    rows.ge(
        "direct_supply.share_min",
        got,
        share * cons - _site_input(ds, "direct_supply_allowance"),
        scale=cons,
        value=got_y / cons_y.where(cons_y > 0),
        limit=share,
    )


def _kpis(ds: xr.Dataset, t: Totals) -> dict:
    """The year's 650号 ratios per project, where the year's energies were given.

    ``direct_self_consumption_year``: (used to date + forecast + horizon) / (available the
    same); ``direct_supply_share_year``: (used ...) / (consumption ...).
    """
    if "direct_used_other" not in ds or "direct_consumption_other" not in ds:
        return {}
    dt, w = t.dt, period_weight(ds)
    on = ds["renewable_direct"].astype(float) * w
    used = by_site(ds["p_renewable"] * on, ds["renewable_site"], ds["site"]).sum("time") * dt
    avail = by_site(ds["p_renewable_available"] * on, ds["renewable_site"], ds["site"])
    avail = avail.sum("time") * dt
    out: dict[str, dict[str, float]] = {}
    for s in t.sites:
        u_other = float(ds["direct_used_other"].sel(site=s))
        if np.isnan(u_other):
            continue
        u = float(used.sel(site=s)) + u_other
        for key, base, other in (
            ("direct_self_consumption_year", float(avail.sel(site=s)), "direct_available_other"),
            (
                "direct_supply_share_year",
                float(t.consumption.sel(site=s)),
                "direct_consumption_other",
            ),
        ):
            b_other = float(ds[other].sel(site=s)) if other in ds else np.nan
            if not np.isnan(b_other) and base + b_other > 0:
                out.setdefault(key, {})[s] = u / (base + b_other)
    return out


def _state_out(ds: xr.Dataset, t: int, flows) -> dict:
    """Per project (site): its available and used energy and the site's consumption, MWh.

    From the horizon's start to the end of ``t``; only under basis ``year``. Consumption
    from the ledger's ``intake`` carrier (as the supply row reads it), used and available
    from the direct assets' ``p_renewable`` and capacity x profile (the ``direct`` port).
    """
    if ds.attrs.get("direct_basis") != "year":
        return {}
    dt = float(ds.attrs["dt_hours"])
    upto = {"time": slice(0, t + 1)}
    w = period_weight(ds)
    on = ds["renewable_direct"].astype(float)

    def of_project(name: str) -> xr.DataArray:
        per_site = by_site(ds[name] * on, ds["renewable_site"], ds["site"])
        return (per_site * w).isel(upto).sum("time") * dt

    avail, used = of_project("p_renewable_available"), of_project("p_renewable")
    consumed = (flows["intake"] * w).isel(upto).sum("time") * dt
    ratios = [ds[n] for n in ("direct_self_consumption_min", "direct_supply_share_min") if n in ds]
    stated = np.zeros(ds.sizes["site"], dtype=bool)
    for r in ratios:
        stated |= r.notnull().values
    return {
        str(s): {
            "available_mwh": float(avail.sel(site=s)),
            "used_mwh": float(used.sel(site=s)),
            "consumption_mwh": float(consumed.sel(site=s)),
        }
        for s, on_ in zip(ds["site"].values, stated, strict=True)
        if on_
    }


def _raw_ratio(raw: dict[str, Any], site: str, key: str) -> float:
    """The strictest ``key`` of the site's direct assets in a raw mapping (0: none)."""
    values = [
        float(r[key])
        for r in raw.get("renewables") or []
        if r.get("site") == site and r.get("direct") and r.get(key) is not None
    ]
    return max(values, default=0.0)


def _state_in(entry: dict, raw: dict) -> None:
    """Add the energies to each project's year to date (or spend its allowances).

    With the energies: ``available_to_date_mwh`` += available, ``used_to_date_mwh`` += used,
    ``consumption_to_date_mwh`` += consumption. With allowances: each shrinks by what the
    periods handed over lacked, ``min_self_consumption`` x available - used and
    ``min_supply_share`` x consumption - used.
    """
    policy = (raw.get("policies") or {}).get("direct_supply")
    if not isinstance(policy, dict) or policy.get("basis") != "year":
        return
    for site, year in (policy.get("year") or {}).items():
        if site not in entry:
            continue
        got = entry[site]
        a, u, c = (float(got[k]) for k in ("available_mwh", "used_mwh", "consumption_mwh"))
        allowances = [k for k in ALLOWANCES if year.get(k) is not None]
        for key in allowances:
            base = a if key == "self_consumption_allowance_mwh" else c
            lacked = _raw_ratio(raw, site, ALLOWANCES[key]) * base - u
            year[key] = float(year[key]) - lacked
        if not allowances:
            for name, value in (("available", a), ("used", u), ("consumption", c)):
                field = f"{name}_to_date_mwh"
                year[field] = float(year.get(field, 0.0)) + value


def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Basis 'year': a budget for every project stating a ratio, an allowance per ratio."""
    from ..errors import Problem

    policy = sc.config.policies.direct_supply
    if policy is None or policy.basis != "year":
        return []
    sites = [s.name for s in sc.config.sites]
    stated = {key: project_ratio(sc.config.renewables, key, sites) for key in ALLOWANCES.values()}
    needed = [s for i, s in enumerate(sites) if any(not np.isnan(v[i]) for v in stated.values())]
    field = "policies.direct_supply.year"
    problems = year_problems(
        field,
        policy.year,
        needed,
        "site with a 绿电直连 ratio (min_self_consumption or min_supply_share)",
        forms="available, used and consumption energies to date and forecast, or "
        "self_consumption_allowance_mwh / supply_allowance_mwh",
    )
    for name, year in policy.year.items():
        if name not in needed:
            continue
        i = sites.index(name)
        given = {k for k in ALLOWANCES if getattr(year, k) is not None}
        if not given:
            continue
        for key, ratio in ALLOWANCES.items():
            has_ratio = not np.isnan(stated[ratio][i])
            if has_ratio and key not in given:
                problems.append(
                    Problem(
                        f"{field}.{name}.{key}",
                        "missing",
                        f"the project at {name} states {ratio}, so its allowance form needs "
                        f"{key} (MWh) as well; add it, or give the year's energies instead",
                    )
                )
            elif key in given and not has_ratio:
                problems.append(
                    Problem(
                        f"{field}.{name}.{key}",
                        f"{getattr(year, key):g}",
                        f"would be ignored: no direct asset at {name} states {ratio}; remove "
                        f"it, or state {ratio} on the project",
                    )
                )
    return problems


def _estimate(sc, options) -> int:
    """Columns of ``direct_supply``: ``e_direct_shortfall`` per site in a diagnosis only."""
    on = any(r.direct and r.min_supply_share is not None for r in sc.config.renewables)
    return len(sc.config.sites) if on and options.get("shortfall_penalty") is not None else 0


def _annual(sc: Scenario) -> bool:
    """Whether the scenario judges this rule over the year (basis ``year``)."""
    policy = sc.config.policies.direct_supply
    return policy is not None and policy.basis == "year"


COMPONENT = Component(
    name="direct_supply",
    sections=("renewables", "policies.direct_supply"),
    doc="绿电直连: minimum share of the site's consumption from its direct project, over the "
    "horizon or the year",
    outputs=(
        Output(
            "direct_supply_share_min",
            ("site",),
            "1",
            "the site's direct project: share of the site's consumption at least (NaN: none)",
            role="input",
        ),
        Output(
            "direct_supply_allowance",
            ("site",),
            "MWh",
            "project energy the horizon may use on site below min_supply_share x the site's "
            "consumption (0: basis horizon)",
            role="input",
        ),
        Output(
            "direct_consumption_other",
            ("site",),
            "MWh",
            "the site's consumption in the year outside the horizon: to date + forecast "
            "(NaN: none)",
            role="input",
        ),
        Output(
            "e_direct_shortfall",
            ("site",),
            "MWh",
            "direct-project energy missing for the share (diagnosis)",
        ),
        Output(
            "shadow_direct_supply",
            ("site",),
            "CNY/MWh",
            "cost of one more MWh of direct-project energy required at the site",
            role="dual",
            shadow="cny_per_mwh",
        ),
    ),
    build=_build,
    estimate=_estimate,
    account=_account,
    check=_check,
    kpis=_kpis,
    validate=_validate,
    kind="policy",
    state_out=_state_out,
    state_in=_state_in,
    year_budget=_annual,
    state_fields=(
        StateField(
            "<site>.available_mwh",
            "MWh",
            "the project's available energy in the periods handed over (basis year only); "
            "adds to policies.direct_supply.year.<site>.available_to_date_mwh (or spends "
            "self_consumption_allowance_mwh)",
        ),
        StateField(
            "<site>.used_mwh",
            "MWh",
            "the project's energy used on site in those periods; adds to used_to_date_mwh",
        ),
        StateField(
            "<site>.consumption_mwh",
            "MWh",
            "the site's consumption in those periods; adds to consumption_to_date_mwh (or "
            "spends supply_allowance_mwh)",
        ),
    ),
)
