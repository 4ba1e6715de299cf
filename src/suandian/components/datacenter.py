"""Data centers: workloads, cluster blocks, IT power, cooling and facility power.

Math: ``docs/math/datacenter.md``. Block ``m.dc``; ports ``injection[s,t]`` (MW, minus the
facility power) and ``cost`` (CNY, start-ups). Units: power MW; compute variables ``x_*`` are
held in units of ``compute_scale`` (the largest block capacity, in the scenario's compute
unit) so that the matrix stays well scaled (PFLOPS counts of 10^4 next to MW of 10^0 made
HiGHS's MIP 3-4x slower); :mod:`suandian.results.extract` multiplies them back.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from ..scenario import Scenario


def add_datacenters(m: pyo.ConcreteModel, sc: Scenario, shortfall_penalty: float | None) -> None:
    """Add Block ``m.dc``: interactive service, batch jobs, blocks on/off and facility power."""
    c = sc.config
    T = range(sc.periods)
    dt = sc.dt
    sites = {s.name: s for s in c.sites}
    b = m.dc = pyo.Block()
    S = b.compute_scale = max((s.block_capacity for s in c.sites), default=1.0)

    demand = {w.name: sc.profile(w.demand) / S for w in c.interactive}
    cop = {s.name: sc.cop(s) for s in c.sites}
    window = {j.name: (sc.period(j.release, 0), sc.period(j.deadline, sc.periods)) for j in c.batch}

    b.WORKLOAD = pyo.Set(initialize=[w.name for w in c.interactive], ordered=True)
    b.JOB = pyo.Set(initialize=[j.name for j in c.batch], ordered=True)
    b.SERVE = pyo.Set(
        initialize=[(w.name, s) for w in c.interactive for s in w.sites], dimen=2, ordered=True
    )
    b.RUN = pyo.Set(
        initialize=[
            (j.name, s, t) for j in c.batch for s in j.sites for t in range(*window[j.name])
        ],
        dimen=3,
        ordered=True,
    )

    # ---------------------------------------------------------------- variables
    def n_on_bounds(_, s, t):
        return (sites[s].min_on, sites[s].blocks)

    b.n_on = pyo.Var(m.SITE, m.TIME, domain=pyo.NonNegativeIntegers, bounds=n_on_bounds)
    b.n_start = pyo.Var(m.SITE, m.TIME, domain=pyo.NonNegativeReals)
    b.x_serve = pyo.Var(b.SERVE, m.TIME, domain=pyo.NonNegativeReals)
    rate = {j.name: j.max_rate / S for j in c.batch}
    b.x_run = pyo.Var(b.RUN, domain=pyo.NonNegativeReals, bounds=lambda _, j, s, t: (0, rate[j]))
    b.p_it = pyo.Var(m.SITE, m.TIME, domain=pyo.NonNegativeReals)
    b.p_loss = pyo.Var(m.SITE, m.TIME, domain=pyo.NonNegativeReals)
    b.p_cool = pyo.Var(m.SITE, m.TIME, domain=pyo.NonNegativeReals)
    b.p_facility = pyo.Var(m.SITE, m.TIME, domain=pyo.NonNegativeReals)

    serve_at: dict[str, list[str]] = {s: [] for s in sites}
    for w, s in b.SERVE:
        serve_at[s].append(w)
    run_at: dict[tuple[str, int], list[str]] = {}
    run_of: dict[tuple[str, int], list[str]] = {}
    for j, s, t in b.RUN:
        run_at.setdefault((s, t), []).append(j)
        run_of.setdefault((j, t), []).append(s)
    serve_sites = {w.name: list(w.sites) for w in c.interactive}

    compute = {  # compute served at (s, t), built once and shared by two constraints
        (s, t): sum(b.x_serve[w, s, t] for w in serve_at[s])
        + sum(b.x_run[j, s, t] for j in run_at.get((s, t), ()))
        for s in sites
        for t in T
    }

    def x_total(s, t):
        return compute[s, t]

    # ---------------------------------------------------------- shortfall slacks
    if shortfall_penalty is not None:
        b.x_unserved = pyo.Var(b.WORKLOAD, m.TIME, domain=pyo.NonNegativeReals)
        b.x_unfinished = pyo.Var(b.JOB, domain=pyo.NonNegativeReals)

    def unserved(w, t):
        return b.x_unserved[w, t] if shortfall_penalty is not None else 0.0

    def unfinished(j):
        return b.x_unfinished[j] if shortfall_penalty is not None else 0.0

    # -------------------------------------------------------------- constraints
    b.demand_served = pyo.Constraint(
        b.WORKLOAD,
        m.TIME,
        rule=lambda _, w, t: (
            sum(b.x_serve[w, s, t] for s in serve_sites[w]) + unserved(w, t) == float(demand[w][t])
        ),
    )
    work = {j.name: j.work / S for j in c.batch}
    cells: dict[str, list[tuple[str, int]]] = {j: [] for j in work}
    for j, s, t in b.RUN:
        cells[j].append((s, t))
    b.job_completion = pyo.Constraint(
        b.JOB,
        rule=lambda _, j: (
            dt * sum(b.x_run[j, s, t] for s, t in cells[j]) + unfinished(j) == work[j]
        ),
    )
    multi = [(j, t) for (j, t), ss in run_of.items() if len(ss) > 1]
    b.job_rate = pyo.Constraint(
        pyo.Set(initialize=multi, dimen=2, ordered=True),
        rule=lambda _, j, t: sum(b.x_run[j, s, t] for s in run_of[j, t]) <= rate[j],
    )
    b.compute_capacity = pyo.Constraint(
        m.SITE,
        m.TIME,
        rule=lambda _, s, t: x_total(s, t) <= sites[s].block_capacity / S * b.n_on[s, t],
    )

    def start_rule(_, s, t):
        if t > 0:
            return b.n_start[s, t] >= b.n_on[s, t] - b.n_on[s, t - 1]
        if sites[s].initial_on is None:  # state before the horizon unknown: first period free
            return pyo.Constraint.Skip
        return b.n_start[s, t] >= b.n_on[s, t] - sites[s].initial_on

    b.start_count = pyo.Constraint(m.SITE, m.TIME, rule=start_rule)
    b.p_it_def = pyo.Constraint(
        m.SITE,
        m.TIME,
        rule=lambda _, s, t: (
            b.p_it[s, t]
            == sites[s].idle_power * b.n_on[s, t] + sites[s].dynamic_power * S * x_total(s, t)
        ),
    )
    b.p_loss_def = pyo.Constraint(
        m.SITE,
        m.TIME,
        rule=lambda _, s, t: b.p_loss[s, t] == sites[s].loss_fraction * b.p_it[s, t],
    )
    b.p_cool_def = pyo.Constraint(
        m.SITE,
        m.TIME,
        rule=lambda _, s, t: (
            b.p_cool[s, t] == (b.p_it[s, t] + b.p_loss[s, t]) * float(1.0 / cop[s][t])
        ),
    )
    b.p_facility_def = pyo.Constraint(
        m.SITE,
        m.TIME,
        rule=lambda _, s, t: b.p_facility[s, t] == b.p_it[s, t] + b.p_loss[s, t] + b.p_cool[s, t],
    )

    # -------------------------------------------------------------------- ports
    b.injection = {(s, t): -b.p_facility[s, t] for s in sites for t in T}
    b.cost_startup = pyo.Expression(
        expr=sum(sites[s].startup_cost * b.n_start[s, t] for s in sites for t in T)
    )
    cost_terms = {"startup": b.cost_startup}
    if shortfall_penalty is not None:
        b.cost_shortfall = pyo.Expression(  # penalty per compute unit x hour
            expr=shortfall_penalty
            * S
            * (
                dt * sum(b.x_unserved[w, t] for w in b.WORKLOAD for t in T)
                + sum(b.x_unfinished[j] for j in b.JOB)
            )
        )
        cost_terms["shortfall_compute"] = b.cost_shortfall
    b.cost_terms = cost_terms
    b.cost = pyo.Expression(expr=sum(cost_terms.values()))
    b.cop = {s: np.asarray(v) for s, v in cop.items()}
