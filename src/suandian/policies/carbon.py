"""Carbon price on location- or market-based emissions.

Math: ``docs/math/carbon.md``. Block ``m.carbon``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from ..scenario import Scenario


def add_carbon_price(m: pyo.ConcreteModel, sc: Scenario) -> None:
    """Add Block ``m.carbon``: ``cost = carbon_price * emissions`` of the chosen basis.

    Location basis: ``sum_s ledger.co2[s]``. Market basis: ``sum_s e_co2_market[s]`` with
    ``e_co2_market[s] >= ledger.co2_market[s]`` and ``>= 0`` (certificates cannot make a
    site's market-based emissions negative).
    """
    policy = sc.config.policies
    b = m.carbon = pyo.Block()
    price = policy.carbon_price
    market = policy.carbon_basis == "market"
    b.PRICED = pyo.Set(initialize=list(m.SITE) if price and market else [], ordered=True)
    b.e_co2_market = pyo.Var(b.PRICED, domain=pyo.NonNegativeReals)
    b.co2_market_floor = pyo.Constraint(
        b.PRICED, rule=lambda _, s: b.e_co2_market[s] - m.ledger.co2_market[s] >= 0
    )
    if market:
        b.cost = pyo.Expression(expr=price * sum(b.e_co2_market[s] for s in b.PRICED))
    else:
        b.cost = pyo.Expression(expr=price * sum(m.ledger.co2[s] for s in m.SITE))
    b.cost_terms = {"carbon": b.cost} if price else {}
