"""Carbon price on location- or market-based emissions.

Math: ``docs/math/carbon.md``. Component ``carbon`` (a policy: reads the ledgers only).
Location basis: ``price * sum_s co2[s]``. Market basis: ``price * sum_s e_co2_market[s]``
with ``e_co2_market[s] >= co2_market[s]`` and ``>= 0`` (certificates cannot make a site's
market-based emissions negative).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from ..checks import attr, period_weight
from ..component import Component, Context, FamilyBuilder, Output, Totals

if TYPE_CHECKING:
    from ..errors import Problem
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    policy = ctx.scenario.config.policies
    price = policy.carbon_price
    fb.attrs.update(carbon_price=price, carbon_basis=policy.carbon_basis)
    if not price:
        return
    led = ctx.ledger
    if policy.carbon_basis == "market":
        e = fb.var("e_co2_market")
        fb.constrain("co2_market_floor", e - led.total("co2_market"), ">=", 0.0)
        fb.cost("carbon", e * price, per_period=False)
    else:
        fb.cost("carbon", led.total("co2") * price, per_period=False)


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
    """The carbon cost on the books' emissions (market-based floored at 0 per site), CNY."""
    price = attr(ds, "carbon_price")
    if not price or np.isnan(price):
        return {}
    basis = t.market if ds.attrs.get("carbon_basis") == "market" else t.location
    return {"cost": {"carbon": float(basis.sum()) * price}}


def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Scenario checks: a ``carbon_basis`` given with no ``carbon_price`` would be ignored."""
    from ..errors import Problem

    policy = sc.config.policies
    if "carbon_basis" not in policy.model_fields_set or policy.carbon_price:
        return []
    return [
        Problem(
            "policies.carbon_basis",
            repr(policy.carbon_basis),
            "would be ignored: there is no carbon_price; set carbon_price, or remove carbon_basis",
        )
    ]


def _estimate(sc, options) -> int:
    """Columns of ``carbon``: ``e_co2_market`` per site under a market-based carbon price."""
    policy = sc.config.policies
    return len(sc.config.sites) if policy.carbon_price and policy.carbon_basis == "market" else 0


COMPONENT = Component(
    name="carbon",
    sections=("policies.carbon_price", "policies.carbon_basis"),
    doc="carbon price on emissions",
    commit_costs=_commit_costs,
    stateless=(
        "the carbon price applies to each horizon's emissions (market-based floored at 0 per "
        "horizon)"
    ),
    outputs=(
        Output(
            "e_co2_market",
            ("site",),
            "tCO2",
            "market-based emissions, floored at 0 (carbon price on market basis)",
        ),
    ),
    build=_build,
    kpis=_kpis,
    validate=_validate,
    estimate=_estimate,
    kind="policy",
)
