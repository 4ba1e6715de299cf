"""Carbon price on location- or market-based emissions.

Math: ``docs/math/carbon.md``. Component ``carbon`` (a policy: reads the ledgers only).
Location basis: ``price * sum_s co2[s]``. Market basis: ``price * sum_s e_co2_market[s]``
with ``e_co2_market[s] >= co2_market[s]`` and ``>= 0`` (certificates cannot make a site's
market-based emissions negative).
"""

from __future__ import annotations

from ..component import Component, Context, FamilyBuilder, Output


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
        fb.cost("carbon", e * price)
    else:
        fb.cost("carbon", led.total("co2") * price)


def _estimate(sc, options) -> int:
    """Columns of ``carbon``: ``e_co2_market`` per site under a market-based carbon price."""
    policy = sc.config.policies
    return len(sc.config.sites) if policy.carbon_price and policy.carbon_basis == "market" else 0


COMPONENT = Component(
    name="carbon",
    sections=("policies.carbon_price", "policies.carbon_basis"),
    doc="carbon price on emissions",
    outputs=(
        Output(
            "e_co2_market",
            ("site",),
            "tCO2",
            "market-based emissions, floored at 0 (carbon price on market basis)",
        ),
    ),
    build=_build,
    estimate=_estimate,
    kind="policy",
)
