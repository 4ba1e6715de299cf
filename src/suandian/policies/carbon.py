"""Carbon price and emissions cap on location- or market-based emissions.

Math: ``docs/math/carbon.md``. Component ``carbon`` (a policy: reads the ledgers only).
Location basis: ``price * sum_s co2[s]``. Market basis: ``price * sum_s e_co2_market[s]``
with ``e_co2_market[s] >= co2_market[s]`` and ``>= 0`` (certificates cannot make a site's
market-based emissions negative). The cap (``policies.carbon_cap``): one row ``co2_cap``,
the capped sites' emissions (market: ``e_co2_cap_market``, floored at 0 per site) <= the
cap, less the year's emissions outside the horizon under basis ``year``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from ..checks import Rows, attr, budget_weight, counted_share, node_series, period_weight
from ..component import Account, Component, Context, FamilyBuilder, Output, StateField, Totals

if TYPE_CHECKING:
    from ..errors import Problem
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    policy = ctx.scenario.config.policies
    price = policy.carbon_price
    fb.attrs.update(carbon_price=price, carbon_basis=policy.carbon_basis)
    if policy.carbon_cap is not None:
        _build_cap(fb, ctx, policy.carbon_cap)
    if not price:
        return
    led = ctx.ledger
    if policy.carbon_basis == "market":
        e = fb.var("e_co2_market")
        fb.constrain("co2_market_floor", e - led.total("co2_market"), ">=", 0.0)
        fb.cost("carbon", e * price, per_period=False)
    else:
        fb.cost("carbon", led.total("co2") * price, per_period=False)


def capped(sites: list[str], cap) -> np.ndarray:
    """1.0 for each site the cap covers (``cap.sites``; all sites when null), else 0.0."""
    return np.array([1.0 if cap.sites is None or s in cap.sites else 0.0 for s in sites])


def _build_cap(fb: FamilyBuilder, ctx: Context, cap) -> None:
    """Row ``co2_cap``: sum over capped sites of emissions - excess <= cap - other (tCO2)."""
    led = ctx.ledger
    member = capped(ctx.sites, cap)
    annual = cap.basis == "year"
    other = cap.year.to_date_tco2 + cap.year.forecast_tco2 if annual and cap.year else 0.0
    fb.input("co2_cap", cap.tco2)
    fb.input("co2_cap_other", other)
    fb.input("co2_capped", member)
    fb.attrs.update(co2_cap_basis=cap.basis, co2_cap_emissions=cap.emissions)
    total = led.year_total if annual else led.total  # a look-ahead stands in the forecast
    if cap.emissions == "market":
        e = fb.var("e_co2_cap_market", ub=np.where(member > 0, np.inf, 0.0))
        fb.constrain(
            "co2_cap_market_floor",
            e - total("co2_market"),
            ">=",
            0.0,
            mask=member > 0,
        )
        per_site = e
    else:
        per_site = total("co2")
    lhs = (per_site * member).sum()
    penalty = ctx.options.get("shortfall_penalty")
    if penalty is not None:
        excess = fb.var("e_co2_cap_excess")
        lhs = lhs - excess
        fb.cost("shortfall_co2_cap", excess * penalty, per_period=False)
    fb.constrain("co2_cap", lhs, "<=", cap.tco2 - other, dual="shadow_co2_cap", dual_factor=-1.0)


def _cap_emissions(ds: xr.Dataset, accounts: dict, dt: float) -> xr.DataArray:
    """Per site, the emissions the cap counts (tCO2): its ledger over its periods.

    Location: ``sum_t w_t b_t co2 dt``; market: ``sum_t w_t b_t co2_market dt`` plus the
    certificate credit (horizon parts), floored at 0 per site. ``b_t`` (``budget_period``)
    only under basis ``year``.
    """
    market = ds.attrs.get("co2_cap_emissions") == "market"
    carrier = "co2_market" if market else "co2"
    w = budget_weight(ds) if ds.attrs.get("co2_cap_basis") == "year" else period_weight(ds)
    flow = sum(a.flows[carrier] for a in accounts.values() if carrier in a.flows)
    e = xr.zeros_like(ds["site"], dtype=float)
    if not isinstance(flow, int):
        e = e + (flow * w).sum("time") * dt
    for a in accounts.values():
        if carrier in a.horizon:
            e = e + a.horizon[carrier]
    return e.clip(min=0.0) if market else e


def _check(ds: xr.Dataset, rows: Rows) -> None:
    """``co2_cap`` (and the market floor) recomputed from the accounts alone."""
    if "co2_cap" not in ds:
        return
    member = ds["co2_capped"]
    e = _cap_emissions(ds, rows.accounts, rows.dt)
    if "e_co2_cap_market" in ds:  # the floor row: e >= market emissions of the site (and >= 0)
        rows.ge(
            "carbon.co2_cap_market_floor",
            ds["e_co2_cap_market"].where(member > 0, np.inf),
            e.where(member > 0, 0.0),
        )
    got = float((e * member).sum())
    excess = float(ds["e_co2_cap_excess"]) if "e_co2_cap_excess" in ds else 0.0
    cap, other = float(ds["co2_cap"]), float(ds["co2_cap_other"])
    rows.le(
        "carbon.co2_cap",
        xr.DataArray(got - excess),
        xr.DataArray(cap - other),
        value=got + other,
        limit=cap,
    )


def _account(ds: xr.Dataset) -> Account:
    penalty = attr(ds, "shortfall_penalty")
    if "e_co2_cap_excess" in ds and not np.isnan(penalty):
        return Account(cost={"shortfall_co2_cap": penalty * float(ds["e_co2_cap_excess"])})
    return Account()


def _commit_costs(ds: xr.Dataset, t: int, flows: xr.Dataset) -> dict[str, float]:
    """The carbon cost on the emissions of the first ``t`` periods.

    On the location basis exact; on the market basis without the certificate credit (a
    horizon figure, counted where the whole horizon is committed) and floored per site.
    """
    price = attr(ds, "carbon_price")
    if not price or np.isnan(price):
        return {}
    market = ds.attrs.get("carbon_basis") == "market"
    if t == ds.sizes["time"]:
        return {}  # the whole plan: the books' own figure
    f = flows.isel(time=slice(0, t))
    w = period_weight(ds)
    if not isinstance(w, float):
        w = w.isel(time=slice(0, t))
    e = (f["co2_market" if market else "co2"] * w).sum("time") * float(ds.attrs["dt_hours"])
    return {"carbon": float((e.clip(min=0.0) if market else e).sum()) * price}


def _kpis(ds: xr.Dataset, t: Totals) -> dict:
    """The carbon cost on the books' emissions (market-based floored at 0 per site), CNY.

    With a cap: ``co2_capped_tco2``, the capped sites' emissions of the horizon on the cap's
    ledger (books), and under basis ``year`` ``co2_year_tco2``, with to date and forecast.
    """
    out: dict = {}
    if "co2_cap" in ds:
        basis = t.market if ds.attrs.get("co2_cap_emissions") == "market" else t.location
        got = float((basis * ds["co2_capped"]).sum())
        out["co2_capped_tco2"] = got
        if ds.attrs.get("co2_cap_basis") == "year":
            out["co2_year_tco2"] = got + float(ds["co2_cap_other"])
    price = attr(ds, "carbon_price")
    if not price or np.isnan(price):
        return out
    basis = t.market if ds.attrs.get("carbon_basis") == "market" else t.location
    return out | {"cost": {"carbon": float(basis.sum()) * price}}


def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Scenario checks: a ``carbon_basis`` given with no ``carbon_price`` would be ignored."""
    from ..errors import Problem

    policy = sc.config.policies
    problems = []
    cap = policy.carbon_cap
    if cap is not None and cap.sites is not None:
        names = [s.name for s in sc.config.sites]
        problems += [
            Problem(
                "policies.carbon_cap.sites",
                repr(s),
                f"unknown site; use one of: {', '.join(names)}",
            )
            for s in cap.sites
            if s not in names
        ]
    if "carbon_basis" not in policy.model_fields_set or policy.carbon_price:
        return problems
    return problems + [
        Problem(
            "policies.carbon_basis",
            repr(policy.carbon_basis),
            "would be ignored: there is no carbon_price; set carbon_price, or remove carbon_basis",
        )
    ]


def _estimate(sc, options) -> int:
    """Columns of ``carbon``: ``e_co2_market`` per site under a market-based carbon price.

    With a cap: ``e_co2_cap_market`` per site on the market ledger, and ``e_co2_cap_excess``
    (one) in a diagnosis.
    """
    policy = sc.config.policies
    S = len(sc.config.sites)
    n = S if policy.carbon_price and policy.carbon_basis == "market" else 0
    cap = policy.carbon_cap
    if cap is not None:
        n += S * (cap.emissions == "market") + (options.get("shortfall_penalty") is not None)
    return n


def _state_out(ds: xr.Dataset, t: int, flows) -> dict:
    """The capped sites' emissions from the horizon's start to the end of ``t``, tCO2.

    Only for an annual cap (basis ``year``). On the market ledger the certificate credit
    counts pro rata to the counted consumption (:func:`counted_share`), and each site's
    part is floored at 0.
    """
    if ds.attrs.get("co2_cap_basis") != "year" or "co2_capped" not in ds:
        return {}
    market = ds.attrs.get("co2_cap_emissions") == "market"
    dt = float(ds.attrs["dt_hours"])
    w = period_weight(ds)
    e = (flows["co2_market" if market else "co2"] * w).isel(time=slice(0, t + 1)).sum("time")
    e = e * dt
    if market:
        if "e_certificate" in ds:  # 1 certificate = 1 MWh at the residual factor, credited
            # (the green_power account's horizon term; read here from the Dataset, since a
            # policy does not import the results package)
            residual = node_series(ds, "residual_emission_factor").mean("time")
            credit = -ds["e_certificate"] * residual
            e = e + credit * counted_share(ds, flows["intake"], t)
        e = e.clip(min=0.0)
    return {"co2_tco2": float((e * ds["co2_capped"]).sum())}


def _state_in(entry: dict, raw: dict) -> None:
    """Add the emissions handed over to ``policies.carbon_cap.year.to_date_tco2``."""
    cap = (raw.get("policies") or {}).get("carbon_cap")
    if not isinstance(cap, dict) or cap.get("basis") != "year" or "co2_tco2" not in entry:
        return
    year = cap.setdefault("year", {})
    year["to_date_tco2"] = float(year.get("to_date_tco2", 0.0)) + float(entry["co2_tco2"])


def _annual(sc: Scenario) -> bool:
    """Whether the scenario caps the year's emissions (basis ``year``)."""
    cap = sc.config.policies.carbon_cap
    return cap is not None and cap.basis == "year"


COMPONENT = Component(
    name="carbon",
    sections=("policies.carbon_price", "policies.carbon_basis", "policies.carbon_cap"),
    doc="carbon price on emissions and emissions cap",
    commit_costs=_commit_costs,
    stateless=(
        "the carbon price applies to each horizon's emissions (market-based floored at 0 per "
        "horizon); an annual emissions cap hands over its emissions (state_out)"
    ),
    outputs=(
        Output(
            "e_co2_market",
            ("site",),
            "tCO2",
            "market-based emissions, floored at 0 (carbon price on market basis)",
        ),
        Output("co2_cap", (), "tCO2", "emissions cap (policies.carbon_cap.tco2)", role="input"),
        Output(
            "co2_cap_other",
            (),
            "tCO2",
            "emissions of the year outside the horizon: to date + forecast (0: basis horizon)",
            role="input",
        ),
        Output("co2_capped", ("site",), "1", "1 where the cap covers the site", role="input"),
        Output(
            "e_co2_cap_market",
            ("site",),
            "tCO2",
            "market-based emissions of a capped site, floored at 0 (cap on market basis)",
        ),
        Output("e_co2_cap_excess", (), "tCO2", "emissions above the cap (diagnosis)"),
        Output(
            "shadow_co2_cap",
            (),
            "CNY/tCO2",
            "saving from a cap one tCO2 higher: the marginal abatement cost (>= 0)",
            role="dual",
            shadow="cny_per_tco2",
        ),
    ),
    build=_build,
    account=_account,
    check=_check,
    state_out=_state_out,
    state_in=_state_in,
    year_budget=_annual,
    state_fields=(
        StateField(
            "co2_tco2",
            "tCO2",
            "emissions of the capped sites in the periods handed over (annual cap only); adds "
            "to policies.carbon_cap.year.to_date_tco2",
        ),
    ),
    kpis=_kpis,
    validate=_validate,
    estimate=_estimate,
    kind="policy",
)
