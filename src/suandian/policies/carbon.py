"""Carbon price on location-based emissions.

Math: ``docs/math/carbon.md``. Block ``m.carbon``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from ..scenario import Scenario


def add_carbon_price(m: pyo.ConcreteModel, sc: Scenario) -> None:
    """Add Block ``m.carbon`` with ``cost = carbon_price * sum_s ledger.co2[s]``."""
    b = m.carbon = pyo.Block()
    price = sc.config.policies.carbon_price
    b.cost = pyo.Expression(expr=price * sum(m.ledger.co2[s] for s in m.SITE))
    b.cost_terms = {"carbon": b.cost} if price else {}
