"""``build_model``: scenario -> one model (families, ledgers, policies, objective).

The families, the ledger and the policies write their rows as arrays into a
:class:`~suandian.linear.LinearModel` held by a Pyomo ``ConcreteModel``; each has a Pyomo
Block on which its variables appear as lazily indexed Pyomo ``Var`` components, so users can
add Pyomo constraints before :func:`suandian.solve` (:mod:`suandian.pyomo_bridge`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import ledgers, sizing
from .component import Component, Context, FamilyBuilder
from .components import REGISTRY
from .linear import LinearModel
from .policies import POLICIES
from .scenario import Scenario

if TYPE_CHECKING:
    import pyomo.environ as pyo


class ArrayModel:
    """A model without the Pyomo layer (``build_model(..., pyomo=False)``): same attributes."""

    def __init__(self, name: str):
        self.name = name

    def add_component(self, name: str, value: Any) -> None:
        """Set an attribute (the Pyomo Block method of the same name, for the builder)."""
        setattr(self, name, value)


class _Namespace:
    """Stand-in for a component's Pyomo Block when the Pyomo layer is off."""


def build_model(
    scenario: Scenario,
    shortfall_penalty: float | None = None,
    compute_shortfall_penalty: float | None = None,
    parent: pyo.Block | None = None,
    components: Sequence[Component] = REGISTRY,
    policies: Sequence[Component] = POLICIES,
    pyomo: bool = True,
    lm: LinearModel | None = None,
    prefix: str = "",
) -> pyo.ConcreteModel | ArrayModel:
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
    lm : LinearModel, optional
        Build into this (shared) linear model — with ``parent`` and ``prefix``, several
        scenarios, windows or stages become one problem, solved through any Block whose
        ``lm`` is the shared model (see ``tests/test_registry.py``).
    prefix : str
        Prefix of the qualified names in ``lm`` (needed when it is shared).
    pyomo : bool
        Build the Pyomo extension layer (default). ``False`` skips importing Pyomo (about
        0.5 s of a fresh process) and returns an :class:`ArrayModel`, which solves the same
        but takes no Pyomo constraints; :func:`suandian.solve` of a Scenario uses it.

    Returns
    -------
    pyomo.environ.ConcreteModel
        With a Block per component (``dc``, ``grid``, ``res``, ``stor``, ``green``,
        ``ledger``, ``green_share``, ``pue_cap``, ``carbon``), Sets ``SITE`` and ``TIME``,
        ``m.lm`` (the :class:`~suandian.linear.LinearModel`), ``m.scenario``, ``m.dt`` and
        ``m.estimated_columns`` (:func:`suandian.sizing.estimate`, the figure
        :func:`suandian.load_scenario` judged the size by).
    """
    start = time.perf_counter()
    if pyomo or parent is not None:
        import pyomo.environ as pyo

        from . import _pyomo_setup  # noqa: F401  (first: keeps Pyomo from importing scipy.stats)

        m = parent if parent is not None else pyo.ConcreteModel(name=scenario.config.name)
    else:
        m = ArrayModel(scenario.config.name)
    m.scenario = scenario
    m.dt = scenario.dt
    m.shortfall_penalty = shortfall_penalty
    m.compute_shortfall_penalty = compute_shortfall_penalty
    m.lm = LinearModel() if lm is None else lm
    first_column = m.lm.n_cols
    sites = [s.name for s in scenario.config.sites]
    T = scenario.periods
    if isinstance(m, ArrayModel):
        m.TIME, m.SITE = range(T), list(sites)
    else:
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
        prefix=prefix,
        weights=scenario.weights,
        probability=scenario.probability,
    )
    builders: dict[str, FamilyBuilder] = {}

    def run(component: Component) -> FamilyBuilder:
        missing = [r for r in component.requires if r not in builders]
        if missing:
            raise ValueError(
                f"component {component.name!r} requires {missing} to be built before it; "
                f"built so far: {list(builders)}"
            )
        block = _Namespace() if isinstance(m, ArrayModel) else pyo.Block()
        m.add_component(component.name, block)
        fb = FamilyBuilder(component, ctx, None if isinstance(m, ArrayModel) else block)
        component.build(fb, ctx)
        block.cost_terms = fb.cost_terms
        builders[component.name] = fb
        return fb

    for component in components:
        run(component)
    ctx.ledger = ledgers.Ledger(
        {name: fb.ports for name, fb in builders.items()}, len(sites), T, scenario.dt, ctx.weights
    )
    run(ledgers.COMPONENT)
    for policy in policies:
        run(policy)
    check_namespace(builders)
    m.builders = builders
    m.ctx = ctx
    m.cost_terms = {k: v for fb in builders.values() for k, v in fb.cost_terms.items()}
    # this block's own objective (its cost terms, weights and probability included): a block
    # of a shared model reports it rather than the joint one (Result.from_model)
    m.objective_terms = [e for fb in builders.values() for e in fb.objective]
    m.shared = lm is not None
    m.build_seconds = time.perf_counter() - start
    m.estimated_columns = sizing.total(sizing.estimate(scenario, components, policies, ctx.options))
    if sizing.observed is not None:
        sizing.observed.append(
            (scenario.config.name, m.estimated_columns, m.lm.n_cols - first_column)
        )
    return m


def check_namespace(builders: dict[str, FamilyBuilder]) -> None:
    """Output and cost-term names are one namespace: a name owned twice is an error.

    Checked over the output tables of the components built (declared, whether recorded in
    this scenario or not) and the cost terms they added. Outputs become variables of one
    result Dataset and cost terms keys of one cost table, so a second owner would overwrite
    the first silently. Energy keys exist only in the books and are checked there
    (:func:`suandian.results.accounting.merge`).

    Raises
    ------
    ValueError
        Naming the clashing name, its kind and both owners.
    """
    owner: dict[str, str] = {}
    for block, fb in builders.items():
        names = [("output", o.name) for o in fb.component.outputs]
        names += [("cost term", term) for term in fb.cost_terms]
        for kind, name in names:
            first = owner.setdefault(f"{kind}:{name}", block)
            if first != block:
                raise ValueError(
                    f"{kind} {name!r} is defined by both {first!r} and {block!r}: output, "
                    "cost-term and energy names share one namespace; rename one of them"
                )
