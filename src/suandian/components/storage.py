"""Batteries at sites: power and energy limits, efficiencies, self-discharge, end rule.

Math: ``docs/math/storage.md``. Block ``m.stor``; ports ``injection[s,t]`` (MW) and
``cost`` (CNY, throughput wear).
"""

from __future__ import annotations

import pyomo.environ as pyo

from ..scenario import Scenario


def add_storage(m: pyo.ConcreteModel, sc: Scenario) -> None:
    """Add Block ``m.stor`` with charge, discharge and state of charge per battery."""
    c = sc.config
    T = range(sc.periods)
    dt = sc.dt
    b = m.stor = pyo.Block()
    units = {u.name: u for u in c.storage}
    at_site = {s.name: [u.name for u in c.storage if u.site == s.name] for s in c.sites}

    b.STOR = pyo.Set(initialize=list(units), ordered=True)
    b.STOR_EXCLUSIVE = pyo.Set(
        initialize=[u.name for u in c.storage if u.no_simultaneous], ordered=True
    )
    b.p_charge = pyo.Var(
        b.STOR, m.TIME, domain=pyo.NonNegativeReals, bounds=lambda _, u, t: (0, units[u].power)
    )
    b.p_discharge = pyo.Var(
        b.STOR, m.TIME, domain=pyo.NonNegativeReals, bounds=lambda _, u, t: (0, units[u].power)
    )
    b.e_soc = pyo.Var(
        b.STOR, m.TIME, domain=pyo.NonNegativeReals, bounds=lambda _, u, t: (0, units[u].energy)
    )
    b.u_charge = pyo.Var(b.STOR_EXCLUSIVE, m.TIME, domain=pyo.Binary)

    def e_initial(u):
        return units[u].soc_initial * units[u].energy

    def soc_rule(_, u, t):
        unit = units[u]
        before = b.e_soc[u, t - 1] if t > 0 else e_initial(u)
        keep = (1.0 - unit.self_discharge) ** dt
        return b.e_soc[u, t] == keep * before + dt * (
            unit.eta_charge * b.p_charge[u, t] - b.p_discharge[u, t] / unit.eta_discharge
        )

    b.e_soc_balance = pyo.Constraint(b.STOR, m.TIME, rule=soc_rule)

    def final_rule(_, u):
        rule = units[u].soc_final
        if rule == "free":
            return pyo.Constraint.Skip
        target = e_initial(u) if rule == "cyclic" else float(rule) * units[u].energy
        return b.e_soc[u, sc.periods - 1] >= target

    b.e_soc_final = pyo.Constraint(b.STOR, rule=final_rule)
    b.charge_mode = pyo.Constraint(
        b.STOR_EXCLUSIVE,
        m.TIME,
        rule=lambda _, u, t: b.p_charge[u, t] <= units[u].power * b.u_charge[u, t],
    )
    b.discharge_mode = pyo.Constraint(
        b.STOR_EXCLUSIVE,
        m.TIME,
        rule=lambda _, u, t: b.p_discharge[u, t] <= units[u].power * (1 - b.u_charge[u, t]),
    )

    b.injection = {
        (s, t): sum(b.p_discharge[u, t] - b.p_charge[u, t] for u in at_site[s])
        for s in m.SITE
        for t in T
    }
    b.cost_wear = pyo.Expression(
        expr=dt
        * sum(
            units[u].throughput_cost * (b.p_charge[u, t] + b.p_discharge[u, t])
            for u in units
            for t in T
        )
    )
    b.cost_terms = {"storage_wear": b.cost_wear}
    b.cost = pyo.Expression(expr=b.cost_wear)
