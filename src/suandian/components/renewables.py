"""On-site and direct-connected renewables (PV, wind): capacity x profile, curtailable.

Math: ``docs/math/renewables.md``. Block ``m.res``; ports ``injection[s,t]``, ``intake[s,t]``
(MW), ``green[s]`` (MWh), ``cost`` (CNY).
"""

from __future__ import annotations

import pyomo.environ as pyo

from ..scenario import Scenario


def add_renewables(m: pyo.ConcreteModel, sc: Scenario) -> None:
    """Add Block ``m.res`` with ``p_used[r,t] <= capacity * profile[t]``."""
    c = sc.config
    T = range(sc.periods)
    dt = sc.dt
    b = m.res = pyo.Block()
    assets = {r.name: r for r in c.renewables}
    available = {r.name: r.capacity * sc.profile(r.profile) for r in c.renewables}
    at_site = {s.name: [r.name for r in c.renewables if r.site == s.name] for s in c.sites}

    b.RES = pyo.Set(initialize=list(assets), ordered=True)
    b.p_used = pyo.Var(
        b.RES,
        m.TIME,
        domain=pyo.NonNegativeReals,
        bounds=lambda _, r, t: (0.0, float(available[r][t])),
    )
    b.p_available = available

    def used(s, t):
        return sum(b.p_used[r, t] for r in at_site[s])

    b.injection = b.intake = {(s, t): used(s, t) for s in m.SITE for t in T}
    b.green = pyo.Expression(m.SITE, rule=lambda _, s: dt * sum(used(s, t) for t in T))
    b.cost_energy = pyo.Expression(
        expr=dt * sum(assets[r].cost * b.p_used[r, t] for r in assets for t in T)
    )
    b.cost_terms = {"renewables": b.cost_energy}
    b.cost = pyo.Expression(expr=b.cost_energy)
