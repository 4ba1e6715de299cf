"""Green-power purchases: cross-province corridors, local green contracts, certificates.

Math: ``docs/math/green_power.md``. Block ``m.green``; ports ``injection[s,t]``,
``intake[s,t]`` (MW), ``green[s]`` (MWh), ``co2[s]`` (tCO2, location-based: the receiving
node's grid factor applies to energy delivered through the grid), ``co2_market[s]`` (tCO2,
market-based: the non-green part of corridor deliveries at the receiving node's residual
factor, minus certificates at that node's mean residual factor), ``cost`` (CNY).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from ..scenario import Scenario


def add_green_power(m: pyo.ConcreteModel, sc: Scenario) -> None:
    """Add Block ``m.green``: corridor purchases, contract deliveries and certificates."""
    c = sc.config
    T = range(sc.periods)
    dt = sc.dt
    b = m.green = pyo.Block()
    corridors = {k.name: k for k in c.corridors}
    contracts = {g.name: g for g in c.green_contracts}
    site_node = {s.name: s.node for s in c.sites}
    factor = {s.name: sc.profile(sc.node_of(s.name).emission_factor) for s in c.sites}
    residual = {s.name: sc.residual_factor(sc.node_of(s.name)) for s in c.sites}

    # ------------------------------------------------------------------ corridors
    b.CORRIDOR = pyo.Set(initialize=list(corridors), ordered=True)
    b.SEND = pyo.Set(
        initialize=[(k, s) for k, cor in corridors.items() for s in sc.sites_at(cor.to_node)],
        dimen=2,
        ordered=True,
    )
    b.p_send = pyo.Var(b.SEND, m.TIME, domain=pyo.NonNegativeReals)
    receivers = {k: [s for kk, s in b.SEND if kk == k] for k in corridors}
    cap = {k: sc.profile(cor.capacity) for k, cor in corridors.items()}
    price = {k: sc.profile(cor.source_price) + cor.tariff for k, cor in corridors.items()}

    def sent(k, t):
        return sum(b.p_send[k, s, t] for s in receivers[k])

    b.corridor_capacity = pyo.Constraint(
        b.CORRIDOR, m.TIME, rule=lambda _, k, t: sent(k, t) <= float(cap[k][t])
    )
    b.corridor_min = pyo.Constraint(
        b.CORRIDOR,
        m.TIME,
        rule=lambda _, k, t: (
            sent(k, t) >= corridors[k].min_mw if corridors[k].min_mw > 0 else pyo.Constraint.Skip
        ),
    )
    blocks = {k: sc.window_ids(cor.windows) for k, cor in corridors.items() if cor.block_mw}
    b.BLOCK_WINDOW = pyo.Set(
        initialize=[(k, int(w)) for k, ids in blocks.items() for w in np.unique(ids[ids >= 0])],
        dimen=2,
        ordered=True,
    )
    b.n_block = pyo.Var(b.BLOCK_WINDOW, domain=pyo.NonNegativeIntegers)

    def block_rule(_, k, t):
        if k not in blocks:
            return pyo.Constraint.Skip
        w = int(blocks[k][t])
        held = corridors[k].block_mw * b.n_block[k, w] if w >= 0 else 0.0
        return sent(k, t) == held

    b.corridor_block = pyo.Constraint(b.CORRIDOR, m.TIME, rule=block_rule)
    b.window_of = blocks

    # ------------------------------------------------------------------ contracts
    b.CONTRACT = pyo.Set(initialize=list(contracts), ordered=True)
    b.TAKE = pyo.Set(
        initialize=[(g, s) for g, con in contracts.items() for s in sc.sites_at(con.node)],
        dimen=2,
        ordered=True,
    )
    b.p_contract = pyo.Var(b.TAKE, m.TIME, domain=pyo.NonNegativeReals)
    takers = {g: [s for gg, s in b.TAKE if gg == g] for g in contracts}
    contract_cap = {g: sc.profile(con.capacity) for g, con in contracts.items()}
    contract_price = {g: sc.profile(con.price) for g, con in contracts.items()}
    b.contract_capacity = pyo.Constraint(
        b.CONTRACT,
        m.TIME,
        rule=lambda _, g, t: (
            sum(b.p_contract[g, s, t] for s in takers[g]) <= float(contract_cap[g][t])
        ),
    )

    # --------------------------------------------------------------- certificates
    b.e_certificate = pyo.Var(m.SITE, domain=pyo.NonNegativeReals)
    if c.certificates is None:
        for s in m.SITE:
            b.e_certificate[s].fix(0.0)

    # ---------------------------------------------------------------------- ports
    into: dict[str, list[tuple[str, str]]] = {s: [] for s in site_node}
    for k, s in b.SEND:
        into[s].append(("corridor", k))
    for g, s in b.TAKE:
        into[s].append(("contract", g))

    def delivered(s, t, green_only=False):
        total = 0.0
        for kind, name in into[s]:
            if kind == "corridor":
                cor = corridors[name]
                share = cor.green_fraction if green_only else 1.0
                total = total + share * (1.0 - cor.loss) * b.p_send[name, s, t]
            else:
                total = total + b.p_contract[name, s, t]
        return total

    b.injection = b.intake = {(s, t): delivered(s, t) for s in site_node for t in T}
    b.green = pyo.Expression(
        m.SITE,
        rule=lambda _, s: (
            dt * sum(delivered(s, t, green_only=True) for t in T) + b.e_certificate[s]
        ),
    )
    b.co2 = pyo.Expression(
        m.SITE, rule=lambda _, s: dt * sum(float(factor[s][t]) * delivered(s, t) for t in T)
    )
    b.co2_market = pyo.Expression(
        m.SITE,
        rule=lambda _, s: (
            dt
            * sum(
                float(residual[s][t]) * (delivered(s, t) - delivered(s, t, green_only=True))
                for t in T
            )
            - float(residual[s].mean()) * b.e_certificate[s]
        ),
    )
    b.cost_corridor = pyo.Expression(
        expr=dt * sum(float(price[k][t]) * b.p_send[k, s, t] for k, s in b.SEND for t in T)
    )
    b.cost_contract = pyo.Expression(
        expr=dt
        * sum(float(contract_price[g][t]) * b.p_contract[g, s, t] for g, s in b.TAKE for t in T)
    )
    cert_price = c.certificates.price if c.certificates is not None else 0.0
    b.cost_certificate = pyo.Expression(expr=cert_price * sum(b.e_certificate[s] for s in m.SITE))
    b.cost_terms = {
        "corridor": b.cost_corridor,
        "green_contract": b.cost_contract,
        "certificates": b.cost_certificate,
    }
    b.cost = pyo.Expression(expr=sum(b.cost_terms.values()))
