"""Ledgers: the only place that sums component ports.

Math: ``docs/math/ledgers.md``. Block ``m.ledger`` with the electricity balance per site and
period, and the horizon books (consumption, green energy, location-based CO2, cost).
"""

from __future__ import annotations

import pyomo.environ as pyo

#: Component Blocks in the order their ports are summed.
COMPONENT_BLOCKS = ("dc", "grid", "res", "stor", "green")


def components(m: pyo.ConcreteModel) -> list[pyo.Block]:
    """The component Blocks present on a model."""
    return [getattr(m, name) for name in COMPONENT_BLOCKS if hasattr(m, name)]


def add_ledgers(m: pyo.ConcreteModel) -> None:
    """Add Block ``m.ledger``: ``balance[s,t]`` and the books consumption, green, CO2."""
    blocks = components(m)
    dt = m.dt
    b = m.ledger = pyo.Block()

    def port_sum(port: str, *index):
        return sum(getattr(blk, port)[index] for blk in blocks if hasattr(blk, port))

    b.balance = pyo.Constraint(
        m.SITE, m.TIME, rule=lambda _, s, t: port_sum("injection", s, t) == 0
    )
    b.consumption = pyo.Expression(
        m.SITE, rule=lambda _, s: dt * sum(port_sum("intake", s, t) for t in m.TIME)
    )
    b.green = pyo.Expression(m.SITE, rule=lambda _, s: port_sum("green", s))
    b.co2 = pyo.Expression(m.SITE, rule=lambda _, s: port_sum("co2", s))
    b.co2_market = pyo.Expression(m.SITE, rule=lambda _, s: port_sum("co2_market", s))
    b.cost_terms = {name: term for blk in blocks for name, term in blk.cost_terms.items()}
    b.cost = pyo.Expression(expr=sum(blk.cost for blk in blocks))
