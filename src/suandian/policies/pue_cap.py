"""Energy-weighted PUE cap per site over the horizon.

Math: ``docs/math/pue_cap.md``. Block ``m.pue_cap``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from ..scenario import Scenario


def add_pue_cap(m: pyo.ConcreteModel, sc: Scenario, shortfall_penalty: float | None) -> None:
    """Add Block ``m.pue_cap`` with ``pue_max[s]``: facility energy <= cap * IT energy."""
    b = m.pue_cap = pyo.Block()
    caps = {s.name: sc.pue_cap(s) for s in sc.config.sites}
    caps = {s: cap for s, cap in caps.items() if cap is not None}
    b.CAPPED = pyo.Set(initialize=list(caps), ordered=True)
    b.cap = caps
    dc, dt = m.dc, m.dt
    b.e_excess = pyo.Var(b.CAPPED, domain=pyo.NonNegativeReals)
    if shortfall_penalty is None:
        for s in b.CAPPED:
            b.e_excess[s].fix(0.0)
    b.pue_max = pyo.Constraint(
        b.CAPPED,
        rule=lambda _, s: (
            dt * sum(dc.p_facility[s, t] for t in m.TIME)
            - caps[s] * dt * sum(dc.p_it[s, t] for t in m.TIME)
            - b.e_excess[s]
            <= 0
        ),
    )
    penalty = shortfall_penalty or 0.0
    b.cost_shortfall = pyo.Expression(expr=penalty * sum(b.e_excess[s] for s in b.CAPPED))
    b.cost = pyo.Expression(expr=b.cost_shortfall)
    b.cost_terms = {"shortfall_pue": b.cost_shortfall} if shortfall_penalty else {}
