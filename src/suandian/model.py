"""``build_model``: scenario -> one model (families, ledgers, policies, objective).

The families, the ledger and the policies write their rows as arrays into a
:class:`~suandian.linear.LinearModel` held by a Pyomo ``ConcreteModel``; each has a Pyomo
Block on which its variables appear as lazily indexed Pyomo ``Var`` components, so users can
add Pyomo constraints before :func:`suandian.solve` (:mod:`suandian.pyomo_bridge`).

What the build made is one typed record, :class:`Built`, on the model as ``m.built`` (the
linear model, the context, the builders, the scenario, the options, ...): the Pyomo model is a
view over it, and :class:`ArrayModel` (``pyomo=False``) carries the same record without it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, overload

import numpy as np

from . import ledgers, sizing
from .component import Component, Context, FamilyBuilder, Presolved
from .components import REGISTRY
from .linear import Expr, LinearModel
from .policies import POLICIES
from .scenario import Scenario

if TYPE_CHECKING:
    import pyomo.environ as pyo


#: ``presolve(scenario, options, components) -> {component: Presolved}``: the plans the
#: components' ``presolve`` hooks ask for, solved once per scenario. Set by
#: :mod:`suandian.run.solve` (which imports this module, so it cannot be imported here)
PRESOLVE: Callable[..., dict[str, Presolved]] | None = None


def presolved_plans(
    scenario: Scenario,
    components: Sequence[Component],
    options: Any = None,
    compute_shortfall_penalty: float | None = None,
) -> dict[str, Presolved]:
    """The plans the ``presolve`` hooks of ``components`` ask for (none: no solve).

    Built with ``compute_shortfall_penalty`` as the model that reads them.
    """
    if not any(c.presolve is not None for c in components):
        return {}
    if PRESOLVE is None:  # pragma: no cover - suandian imports suandian.run.solve
        raise RuntimeError("import suandian.run.solve (it solves the presolve plans)")
    return PRESOLVE(
        scenario, options, components, compute_shortfall_penalty=compute_shortfall_penalty
    )


@dataclass
class Built:
    """What :func:`build_model` made, as ``m.built`` on the model it returns.

    Attributes
    ----------
    scenario : Scenario
        The scenario built.
    lm : LinearModel
        The columns, rows and objective in standard form (shared with other blocks when
        ``build_model`` was given ``lm``); the solve writes ``lm.x`` and ``lm.y``.
    ctx : Context
        The build context (coordinates, published carriers, ledger, weights).
    builders : dict of str to FamilyBuilder
        Component name -> its builder (recorded outputs, rows, ports, cost terms, attrs), in
        build order.
    prefix : str
        Prefix of the qualified names in ``lm``.
    shared : bool
        Built into a linear model given by the caller (a block of a shared model).
    shortfall_penalty, compute_shortfall_penalty : float or None
        The penalties of the priced slacks (None: hard limits).
    build_seconds : float
        Build time, s.
    estimated_columns : int
        :func:`suandian.sizing.estimate`, the figure :func:`suandian.load_scenario` judged
        the size by.
    """

    scenario: Scenario
    lm: LinearModel
    ctx: Context
    builders: dict[str, FamilyBuilder]
    prefix: str = ""
    shared: bool = False
    shortfall_penalty: float | None = None
    compute_shortfall_penalty: float | None = None
    build_seconds: float = 0.0
    estimated_columns: int = 0

    @property
    def dt(self) -> float:
        """Hours per period."""
        return self.scenario.dt

    @property
    def relaxed(self) -> bool:
        """Whether a target or a workload was built as a priced slack (a diagnosis model)."""
        return self.shortfall_penalty is not None or self.compute_shortfall_penalty is not None

    @property
    def cost_terms(self) -> dict[str, Expr]:
        """Cost term -> its linear expression (CNY), over every builder."""
        return {k: v for fb in self.builders.values() for k, v in fb.cost_terms.items()}

    @property
    def objective_terms(self) -> list[Expr]:
        """The block's own objective: its cost terms, weights and probability included.

        A block of a shared model reports it rather than the joint objective
        (:meth:`suandian.Result.from_model`).
        """
        return [e for fb in self.builders.values() for e in fb.objective]


class ArrayModel:
    """A model without the Pyomo layer (``build_model(..., pyomo=False)``).

    It carries the same :class:`Built` record as the Pyomo model (``m.built``), ``TIME`` as a
    range and ``SITE`` as a list; it solves the same but takes no Pyomo constraints.
    """

    built: Built

    def __init__(self, name: str, time: range, sites: list[str]):
        self.name = name
        self.TIME = time
        self.SITE = sites


#: A model of :func:`build_model`: a Pyomo ``ConcreteModel`` (or the Block given as
#: ``parent``) or an :class:`ArrayModel`; either carries ``built``.
Model: TypeAlias = "pyo.Block | ArrayModel"


def built_of(model: Model) -> Built:
    """The :class:`Built` record of a model of :func:`build_model`.

    Raises
    ------
    TypeError
        If ``model`` was not built by :func:`build_model`.
    """
    built = getattr(model, "built", None)
    if not isinstance(built, Built):
        raise TypeError(
            f"{type(model).__name__} was not built by suandian.build_model (no 'built' record)"
        )
    return built


def linear_model(model: Model) -> LinearModel:
    """The :class:`~suandian.linear.LinearModel` a model is solved through.

    That of its build (``model.built.lm``) or, for a root whose Blocks were built into one
    shared linear model (``build_model(..., parent=root.a, lm=root.lm)``), ``root.lm``.
    """
    built = getattr(model, "built", None)
    if isinstance(built, Built):
        return built.lm
    lm = getattr(model, "lm", None)
    if isinstance(lm, LinearModel):
        return lm
    raise TypeError(
        f"{type(model).__name__} holds no linear model: build it with suandian.build_model, "
        "or set the shared LinearModel its Blocks were built into as its 'lm'"
    )


@overload
def build_model(
    scenario: Scenario,
    shortfall_penalty: float | None = None,
    compute_shortfall_penalty: float | None = None,
    parent: pyo.Block | None = None,
    components: Sequence[Component] = REGISTRY,
    policies: Sequence[Component] = POLICIES,
    pyomo: Literal[True] = True,
    lm: LinearModel | None = None,
    prefix: str = "",
    presolved: dict[str, Presolved] | None = None,
) -> pyo.ConcreteModel: ...


@overload
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
    presolved: dict[str, Presolved] | None = None,
) -> Model: ...


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
    presolved: dict[str, Presolved] | None = None,
) -> Model:
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
    presolved : dict of str to Presolved, optional
        The plans the components' ``presolve`` hooks ask for (the DR baseline ``no_event``:
        the plan without the event). Default: solved here with the default
        :class:`~suandian.SolveOptions`, once per scenario (:func:`suandian.solve` solves
        them first with its own options).
    pyomo : bool
        Build the Pyomo extension layer (default). ``False`` skips importing Pyomo (about
        0.5 s of a fresh process) and returns an :class:`ArrayModel`, which solves the same
        but takes no Pyomo constraints; :func:`suandian.solve` of a Scenario uses it.

    Returns
    -------
    pyomo.environ.ConcreteModel or ArrayModel
        With a Block per component (``dc``, ``grid``, ``res``, ``stor``, ``green``,
        ``ledger``, ``green_share``, ``pue_cap``, ``carbon``), Sets ``SITE`` and ``TIME``,
        and ``m.built``, the :class:`Built` record of the build (``m.built.lm`` the
        :class:`~suandian.linear.LinearModel`, ``m.built.scenario``, ``m.built.builders``,
        ``m.built.estimated_columns``, ...). With ``parent``, that Block.
    """
    if presolved is None:
        presolved = presolved_plans(
            scenario,
            [*components, *policies],
            compute_shortfall_penalty=compute_shortfall_penalty,
        )
    start = time.perf_counter()
    shared = lm is not None
    sites = [s.name for s in scenario.config.sites]
    T = scenario.periods
    m: Model
    if pyomo or parent is not None:
        import pyomo.environ as pyo

        from . import _pyomo_setup  # noqa: F401  (first: keeps Pyomo from importing scipy.stats)

        m = parent if parent is not None else pyo.ConcreteModel(name=scenario.config.name)
        m.TIME = pyo.Set(initialize=range(T), ordered=True)
        m.SITE = pyo.Set(initialize=sites, ordered=True)
    else:
        m = ArrayModel(scenario.config.name, range(T), list(sites))
    lm = LinearModel() if lm is None else lm
    first_column = lm.n_cols
    coords = {
        "time": scenario.time.values,
        "site": np.array(sites, dtype=object),
        "node": np.array([n.name for n in scenario.config.nodes], dtype=object),
    }
    ctx = Context(
        scenario=scenario,
        lm=lm,
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
        cycle=scenario.config.horizon.cycle_periods,
        presolved=dict(presolved),
    )
    builders: dict[str, FamilyBuilder] = {}

    def run(component: Component) -> None:
        missing = [r for r in component.requires if r not in builders]
        if missing:
            raise ValueError(
                f"component {component.name!r} requires {missing} to be built before it; "
                f"built so far: {list(builders)}"
            )
        block = None
        if not isinstance(m, ArrayModel):
            block = pyo.Block()
            m.add_component(component.name, block)
        fb = FamilyBuilder(component, ctx, block)
        component.build(fb, ctx)
        builders[component.name] = fb
        ctx.components[component.name] = component

    for component in components:
        run(component)
    ctx.ledger = ledgers.Ledger(
        {name: fb.ports for name, fb in builders.items()},
        len(sites),
        T,
        scenario.dt,
        ctx.weights,
        scenario.budget,
    )
    run(ledgers.COMPONENT)
    for policy in policies:
        run(policy)
    check_namespace(builders)
    estimated = sizing.total(sizing.estimate(scenario, components, policies, ctx.options))
    m.built = Built(
        scenario=scenario,
        lm=lm,
        ctx=ctx,
        builders=builders,
        prefix=prefix,
        shared=shared,
        shortfall_penalty=shortfall_penalty,
        compute_shortfall_penalty=compute_shortfall_penalty,
        build_seconds=time.perf_counter() - start,
        estimated_columns=estimated,
    )
    if sizing.observed is not None:
        sizing.observed.append((scenario.config.name, estimated, lm.n_cols - first_column))
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
