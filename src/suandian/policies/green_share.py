"""Green share of electricity consumed over the horizon, and the certificate cap.

Math: ``docs/math/green_share.md``. Block ``m.green_share``.
"""

from __future__ import annotations

import pyomo.environ as pyo

from ..scenario import Scenario

#: name of the single portfolio scope in ``SCOPE``
PORTFOLIO = "portfolio"


def add_green_share(m: pyo.ConcreteModel, sc: Scenario, shortfall_penalty: float | None) -> None:
    """Add Block ``m.green_share``: ``share_min[g]`` and ``certificate_cap[g]`` per scope ``g``.

    Scope ``portfolio`` has one row over all sites; scope ``site`` one row per site.
    """
    policy = sc.config.policies.green_share
    certificates = sc.config.certificates
    b = m.green_share = pyo.Block()
    groups = _groups(sc, policy.scope if policy is not None else PORTFOLIO)
    b.SCOPE = pyo.Set(initialize=list(groups), ordered=True)
    led = m.ledger

    def total(book, g):
        return sum(book[s] for s in groups[g])

    b.e_shortfall = pyo.Var(b.SCOPE, domain=pyo.NonNegativeReals)
    if shortfall_penalty is None:
        for g in b.SCOPE:
            b.e_shortfall[g].fix(0.0)
    if policy is not None:
        b.target = policy.target
        b.share_min = pyo.Constraint(
            b.SCOPE,
            rule=lambda _, g: (
                total(led.green, g) + b.e_shortfall[g] - policy.target * total(led.consumption, g)
                >= 0
            ),
        )
    if certificates is not None and certificates.max_share is not None:
        b.certificate_cap = pyo.Constraint(
            b.SCOPE,
            rule=lambda _, g: (
                sum(m.green.e_certificate[s] for s in groups[g])
                - certificates.max_share * total(led.consumption, g)
                <= 0
            ),
        )
    penalty = shortfall_penalty or 0.0
    b.cost_shortfall = pyo.Expression(expr=penalty * sum(b.e_shortfall[g] for g in b.SCOPE))
    b.cost = pyo.Expression(expr=b.cost_shortfall)
    b.cost_terms = {"shortfall_green": b.cost_shortfall} if shortfall_penalty else {}


def _groups(sc: Scenario, scope: str) -> dict[str, list[str]]:
    sites = [s.name for s in sc.config.sites]
    return {PORTFOLIO: sites} if scope == PORTFOLIO else {s: [s] for s in sites}
