"""绿电直连 supply share: the direct project's energy >= r2 x the site's consumption.

Math: ``docs/math/direct_supply.md``. Component ``direct_supply`` (a policy: reads the
ledgers only). One row per site whose direct-connected renewables (``direct: true``) state
``min_supply_share`` (发改能源〔2025〕650号: >= 30 %, 35 % from 2030): ``Ledger.total("direct")
>= r2 * Ledger.consumption()``, over the horizon.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..checks import Rows, attr, period_weight
from ..component import Account, Component, Context, FamilyBuilder, Output
from ..components.renewables import project_ratio


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    share = project_ratio(ctx.scenario.config.renewables, "min_supply_share", ctx.sites)
    fb.input("direct_supply_share_min", share)
    on = ~np.isnan(share)
    if not on.any():
        return
    led = ctx.ledger
    got = led.total("direct")
    penalty = ctx.options.get("shortfall_penalty")
    if penalty is not None:  # diagnosis: how far the ratio can be met
        shortfall = fb.var("e_direct_shortfall", ub=np.where(on, np.inf, 0.0))
        got = got + shortfall
        fb.cost("shortfall_direct", shortfall * penalty, per_period=False)
    fb.constrain(
        "share_min",
        got - led.consumption() * np.nan_to_num(share),
        ">=",
        0.0,
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


def _check(ds: xr.Dataset, rows: Rows) -> None:
    if "direct_supply_share_min" not in ds or "res" not in rows.accounts:
        return
    flows = rows.accounts["res"].flows
    if "direct" not in flows:
        return
    got = (flows["direct"] * period_weight(ds)).sum("time") * rows.dt
    if "e_direct_shortfall" in ds:
        got = got + ds["e_direct_shortfall"]
    sites = [str(s) for s in ds["site"].values]
    cons = xr.DataArray(
        [rows.books["consumption_mwh"][s] for s in sites], dims="site", coords={"site": sites}
    )
    share = ds["direct_supply_share_min"]
    rows.ge(
        "direct_supply.share_min",
        got,
        share * cons,
        scale=cons,
        value=got / cons.where(cons > 0),
        limit=share,
    )


def _estimate(sc, options) -> int:
    """Columns of ``direct_supply``: ``e_direct_shortfall`` per site in a diagnosis only."""
    on = any(r.direct and r.min_supply_share is not None for r in sc.config.renewables)
    return len(sc.config.sites) if on and options.get("shortfall_penalty") is not None else 0


COMPONENT = Component(
    name="direct_supply",
    sections=("renewables",),
    doc="绿电直连: minimum share of the site's consumption from its direct project",
    stateless="the 绿电直连 ratios are judged per horizon: they restart in each window",
    outputs=(
        Output(
            "direct_supply_share_min",
            ("site",),
            "1",
            "the site's direct project: share of the site's consumption at least (NaN: none)",
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
    kind="policy",
)
