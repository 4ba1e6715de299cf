"""Grid supply at each site's node: time-of-use tariff, import limit, emission factor.

Math: ``docs/math/grid.md``. Block ``m.grid``; ports ``injection[s,t]`` and ``intake[s,t]``
(MW), ``co2[s]`` (tCO2, location-based), ``co2_market[s]`` (tCO2, market-based: the
residual-mix factor), ``cost`` (CNY).
"""

from __future__ import annotations

import pyomo.environ as pyo

from ..scenario import Scenario


def add_grid(m: pyo.ConcreteModel, sc: Scenario) -> None:
    """Add Block ``m.grid`` with ``p_grid[s,t]`` and the node import limits."""
    c = sc.config
    T = range(sc.periods)
    dt = sc.dt
    b = m.grid = pyo.Block()
    node_of = {s.name: sc.node_of(s.name) for s in c.sites}
    tariff = {n.name: sc.profile(n.tariff) for n in c.nodes}
    factor = {n.name: sc.profile(n.emission_factor) for n in c.nodes}
    residual = {n.name: sc.residual_factor(n) for n in c.nodes}

    b.p_grid = pyo.Var(m.SITE, m.TIME, domain=pyo.NonNegativeReals)
    limited = [n for n in c.nodes if n.import_limit is not None and sc.sites_at(n.name)]
    b.LIMITED_NODE = pyo.Set(initialize=[n.name for n in limited], ordered=True)
    limit = {n.name: n.import_limit for n in limited}
    b.import_limit = pyo.Constraint(
        b.LIMITED_NODE,
        m.TIME,
        rule=lambda _, n, t: sum(b.p_grid[s, t] for s in sc.sites_at(n)) <= limit[n],
    )

    b.injection = b.intake = {(s, t): b.p_grid[s, t] for s in m.SITE for t in T}
    b.co2 = pyo.Expression(
        m.SITE,
        rule=lambda _, s: dt * sum(float(factor[node_of[s].name][t]) * b.p_grid[s, t] for t in T),
    )
    b.co2_market = pyo.Expression(
        m.SITE,
        rule=lambda _, s: dt * sum(float(residual[node_of[s].name][t]) * b.p_grid[s, t] for t in T),
    )
    b.cost_energy = pyo.Expression(
        expr=dt * sum(float(tariff[node_of[s].name][t]) * b.p_grid[s, t] for s in m.SITE for t in T)
    )
    b.cost_terms = {"grid_energy": b.cost_energy}
    b.cost = pyo.Expression(expr=b.cost_energy)
