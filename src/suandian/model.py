"""``build_model``: scenario -> one model (families, ledgers, policies, objective).

The families, the ledger and the policies write their rows as arrays into a
:class:`~suandian.linear.LinearModel` held by a Pyomo ``ConcreteModel``; each has a Pyomo
Block on which its variables appear as lazily indexed Pyomo ``Var`` components, so users can
add Pyomo constraints before :func:`suandian.solve` (:mod:`suandian.pyomo_bridge`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pyomo.environ as pyo

from . import ledgers
from .component import Component, Context, FamilyBuilder
from .components import REGISTRY
from .linear import LinearModel
from .policies import POLICIES
from .scenario import Scenario


def build_model(
    scenario: Scenario,
    shortfall_penalty: float | None = None,
    compute_shortfall_penalty: float | None = None,
    parent: pyo.Block | None = None,
    components: Sequence[Component] = REGISTRY,
    policies: Sequence[Component] = POLICIES,
) -> pyo.ConcreteModel:
    """Build the model of a scenario.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (:func:`suandian.load_scenario`).
    shortfall_penalty : float, optional
        If given, the green-share shortfall and the PUE excess become priced slack variables
        (CNY per MWh) instead of hard limits. Used to diagnose infeasible targets.
    compute_shortfall_penalty : float, optional
        If given, unserved interactive demand and unfinished batch work become priced slacks
        (CNY per compute unit x hour).
    parent : pyomo Block, optional
        Build into this Block (a rolling window, a scenario of a stochastic model) instead of
        a new ``ConcreteModel``.
    components, policies : sequence of Component
        The families and policies to build (default: the registries).

    Returns
    -------
    pyomo.environ.ConcreteModel
        With a Block per component (``dc``, ``grid``, ``res``, ``stor``, ``green``,
        ``ledger``, ``green_share``, ``pue_cap``, ``carbon``), Sets ``SITE`` and ``TIME``,
        ``m.lm`` (the :class:`~suandian.linear.LinearModel`), ``m.scenario`` and ``m.dt``.
    """
    start = time.perf_counter()
    m = parent if parent is not None else pyo.ConcreteModel(name=scenario.config.name)
    m.scenario = scenario
    m.dt = scenario.dt
    m.shortfall_penalty = shortfall_penalty
    m.compute_shortfall_penalty = compute_shortfall_penalty
    m.lm = LinearModel()
    sites = [s.name for s in scenario.config.sites]
    T = scenario.periods
    m.TIME = pyo.Set(initialize=range(T), ordered=True)
    m.SITE = pyo.Set(initialize=sites, ordered=True)
    coords = {
        "time": scenario.time.values,
        "site": np.array(sites, dtype=object),
        "node": np.array([n.name for n in scenario.config.nodes], dtype=object),
    }
    ctx = Context(
        scenario=scenario,
        lm=m.lm,
        sites=sites,
        T=T,
        dt=scenario.dt,
        coords=coords,
        options={
            "shortfall_penalty": shortfall_penalty,
            "compute_shortfall_penalty": compute_shortfall_penalty,
        },
    )
    builders: dict[str, FamilyBuilder] = {}

    def run(component: Component) -> FamilyBuilder:
        block = pyo.Block()
        m.add_component(component.name, block)
        fb = FamilyBuilder(component, ctx, block)
        component.build(fb, ctx)
        block.cost_terms = fb.cost_terms
        builders[component.name] = fb
        return fb

    for component in components:
        run(component)
    ctx.ledger = ledgers.Ledger(
        {name: fb.ports for name, fb in builders.items()}, len(sites), T, scenario.dt
    )
    run(ledgers.COMPONENT)
    for policy in policies:
        run(policy)
    m.builders = builders
    m.ctx = ctx
    m.cost_terms = {k: v for fb in builders.values() for k, v in fb.cost_terms.items()}
    m.build_seconds = time.perf_counter() - start
    return m
