"""The component contract: how a family (or a policy) declares itself once.

A family module defines one :class:`Component`:

``name``
    Block name (``stor``): Pyomo Block ``m.stor``, qualified names ``stor.p_charge``.
``sections``
    The scenario sections it reads (``("storage",)``); documentation and the docs test.
``outputs``
    The output table: one :class:`Output` per variable, expression, input and dual it puts
    in the result Dataset. The name is the Pyomo name and the Dataset variable name.
``build(fb, ctx) -> None``
    Adds its variables, rows, ports and cost terms through the :class:`FamilyBuilder` ``fb``
    (any parent: the root model, a rolling window, a scenario of a stochastic model).
``account(ds) -> Account``
    The same flows, recomputed from a result Dataset alone (for the books and the certifier).
``check(ds, rows) -> None``
    Its rows re-checked from the Dataset alone through the row tests of
    :class:`suandian.checks.Rows`.
``derive(ds) -> dict`` (optional)
    Reported values that are not model columns (e.g. the fewest start-ups where a start
    costs nothing), filled in after extraction.
``estimate(sc, options) -> int`` (optional)
    The columns its build will add, counted from ``sc.config``, ``sc.periods`` and ``sc.dt``
    before the model is built and before the series are read (``sc`` has none); summed by
    :func:`suandian.sizing.estimate` to refuse a model too large (see that module).

A family's scenario section may be declared in its own module too: a pydantic class deriving
from :class:`Section`, with the field types below (:data:`Name`, :data:`NonNeg`, ...), named in
one field of :class:`suandian.scenario.schema.ScenarioConfig`. The schema imports it from the
family's module, so a family module must not import :mod:`suandian.scenario` at run time.

Ports are per (site, period): arrays of shape (S, T) of :class:`~suandian.linear.Expr` by
carrier (see :data:`CARRIERS`); a horizon-only contribution (shape (S,)) is allowed where the
instrument has no time stamp (unbundled certificates). The ledgers sum ports of every
component; policies read ledgers only. Adding a family = one module with a
``COMPONENT`` (and its section class), one line in :data:`suandian.components.REGISTRY`, one
field on ``ScenarioConfig``, one docs/math page, one test file (``docs/add-a-component.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from .linear import INF, Expr, LinearModel, Var

if TYPE_CHECKING:
    import xarray as xr

    from .checks import Rows
    from .scenario import Scenario


# --------------------------------------------------------------------------- scenario input
class Section(BaseModel):
    """Base of the scenario's models: unknown keys are errors, values validated on assignment.

    A family's section items derive from it (``class Genset(Section)``), in the family's module
    or in :mod:`suandian.scenario.schema`.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


#: A number (constant) or the name of a time-series column.
Profile = float | str
NonNeg = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Efficiency = Annotated[float, Field(gt=0, le=1)]
#: A name is a label: letters of any script (重庆), digits, '_', '.' and '-'; no spaces.
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\w.\-]+$")]

#: Port carriers: per (site, period) unless noted. Units are per period's rate.
CARRIERS = {
    "power": "MW into the site's bus (negative: consumption)",
    "intake": "MW of electricity entering the site from a source (grid, renewables, purchases)",
    "green": "MW of that intake counted green (per period: hourly matching is possible)",
    "metered": "MW of that intake entering through the public-grid meter (grid purchases, "
    "corridor and contract deliveries): network and demand charges apply to it",
    "direct": "MW of that intake from the site's direct-connected (绿电直连) renewables",
    "certificates": "MWh of unbundled green certificates (horizon only, shape (S,))",
    "co2": "tCO2/h, location-based",
    "co2_market": "tCO2/h, market-based (horizon part: certificate credit, tCO2)",
    "it": "MW of IT load (for PUE)",
    "facility": "MW of facility load: IT + losses + cooling (for PUE)",
    "heat": "MW of heat into the site's heat bus (reserved; no family writes it yet)",
    "batch_compute": "compute units of deferrable (batch) work run at the site (read by the "
    "reserves: headroom from pausing it)",
    "spare_compute": "compute units the site's blocks on could still run within their "
    "headroom (read by the reserves: headroom from running batch work faster)",
    "heat_air": "MW of heat the air path (CRAH + chilled water) removes (dc; read by thermal)",
    "heat_liquid": "MW of heat the liquid (warm-water) path removes (dc; read by thermal)",
    "compute": "compute units into the site (reserved for migration links)",
}


@dataclass(frozen=True)
class Output:
    """One entry of a component's output table.

    Attributes
    ----------
    name : str
        Pyomo name on the component's Block == Dataset variable name.
    dims : tuple of str
        Dataset dimensions (``("storage", "time")``).
    unit : str
        Unit (``MW``, ``MWh``, ``CNY/MWh``, ``1``).
    doc : str
        One-line description.
    role : str
        ``decision`` (a variable), ``expression`` (a linear expression of variables, kept
        as an expression in the model to save columns), ``input`` (data), ``dual``.
    lower, upper : float or str
        Bounds of a decision, a number or the name of an input in the Dataset; the certifier
        checks them (``upper=inf`` for none).
    integer : bool
        Integer decision (checked for integrality, stored as integers).
    floor : str
        Absolute floor of the certifier tolerance: ``unit`` (1 in the row's unit) or
        ``compute`` (the largest block's capacity: compute is held in blocks).
    rounding : str
        For an integer decision, how the constructive MIP start rounds its LP value:
        ``nearest`` (default), ``up`` (a capacity such as blocks on: more never breaks a row
        of its own family) or ``down``.
    """

    name: str
    dims: tuple[str, ...]
    unit: str
    doc: str
    role: str = "decision"
    lower: float | str = 0.0
    upper: float | str = INF
    integer: bool = False
    floor: str = "unit"
    rounding: str = "nearest"


@dataclass
class Account:
    """A component's flows recomputed from a result Dataset (the mirror of its ports).

    Per-carrier ``xarray.DataArray`` with dims (site, time) — or (site,) for horizon parts —
    cost terms in CNY and energy figures (MWh) for the KPI table.
    """

    flows: dict[str, Any] = field(default_factory=dict)
    horizon: dict[str, Any] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)
    energy: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Component:
    """A component family or policy, declared once (see the module docstring)."""

    name: str
    sections: tuple[str, ...]
    outputs: tuple[Output, ...]
    build: Callable[[FamilyBuilder, Context], None]
    account: Callable[[xr.Dataset], Account] | None = None
    check: Callable[[xr.Dataset, Rows], None] | None = None
    derive: Callable[[xr.Dataset], dict[str, Any]] | None = None
    estimate: Callable[..., int] | None = None
    kind: str = "family"  # or "policy"
    doc: str = ""

    def output(self, name: str) -> Output:
        """The output table entry called ``name``."""
        for o in self.outputs:
            if o.name == name:
                return o
        raise KeyError(f"{self.name}: {name!r} is not in its output table")


# --------------------------------------------------------------------------- context
@dataclass
class Context:
    """What a builder may read: the scenario, the shared sets, options and the ledgers.

    Attributes
    ----------
    scenario : Scenario
    lm : LinearModel
        The model the rows go into.
    sites : list of str
        Site names, in order (axis 0 of every port).
    T : int
        Number of periods (axis 1 of every port).
    dt : float
        Period length, hours.
    coords : dict
        Dataset coordinates declared so far (``site``, ``time``, ``node`` and each family's).
    options : dict
        Build options (``shortfall_penalty``, ``compute_shortfall_penalty``).
    ledger : Ledger or None
        The ledgers, available to policies (built after every family).
    prefix : str
        Prefix of every qualified name (``"w1."``), so that several scenarios or windows can
        share one :class:`~suandian.linear.LinearModel`.
    """

    scenario: Scenario
    lm: LinearModel
    sites: list[str]
    T: int
    dt: float
    coords: dict[str, Any]
    options: dict[str, Any]
    ledger: Any = None
    prefix: str = ""
    #: per-period ports of the families built so far, by carrier: a family may read those
    #: of a family built before it (``thermal`` reads ``dc``'s ``heat_air``), see :meth:`flow`
    published: dict[str, Any] = field(default_factory=dict)

    def flow(self, carrier: str) -> Expr:
        """Sum of the per-period port ``carrier`` of the families built so far, (S, T)."""
        return self.published.get(carrier, Expr.zeros((self.S, self.T)))

    @property
    def S(self) -> int:
        """Number of sites."""
        return len(self.sites)

    def site_index(self, names) -> np.ndarray:
        """Positions of site names (an array of int)."""
        pos = {s: i for i, s in enumerate(self.sites)}
        return np.array([pos[n] for n in names], dtype=np.int64)


@dataclass
class Recorded:
    """What a builder recorded for one output: its columns, expression, data or rows."""

    output: Output
    var: Var | None = None
    expr: Expr | None = None
    data: np.ndarray | None = None
    rows: Any = None
    scale: float = 1.0
    dual_factor: Any = 1.0


class FamilyBuilder:
    """Writes one component's variables, rows, ports and costs; records its outputs.

    Parameters
    ----------
    component : Component
    ctx : Context
    block : pyomo Block, optional
        The Pyomo Block that receives a lazily indexed ``Var`` per variable array (the
        extension layer; see :mod:`suandian.pyomo_bridge`).
    """

    def __init__(self, component: Component, ctx: Context, block=None):
        self.component = component
        self.ctx = ctx
        self.block = block
        self.recorded: dict[str, Recorded] = {}
        self.rows: dict[str, Any] = {}
        self.ports: dict[str, Expr] = {}
        self.cost_terms: dict[str, Expr] = {}
        self.attrs: dict[str, Any] = {}
        self.names: set[str] = set()  # every name this component defines (docs test)

    # ---------------------------------------------------------------- helpers
    def qual(self, name: str) -> str:
        """``block.name``."""
        return f"{self.ctx.prefix}{self.component.name}.{name}"

    def _shape(self, dims) -> tuple[int, ...]:
        return tuple(len(self.ctx.coords[d]) for d in dims)

    def coord(self, dim: str, labels, **aux) -> None:
        """Declare a Dataset dimension (and auxiliary coordinates along it)."""
        self.ctx.coords[dim] = np.array(list(labels), dtype=object)
        for name, values in aux.items():
            self.ctx.coords[name] = (dim, np.asarray(values))

    # -------------------------------------------------------------- modelling
    def var(self, name: str, lb=None, ub=None, mask=None, scale: float = 1.0, shape=None) -> Var:
        """Add the decision ``name`` of the output table (bounds default to the table's)."""
        out = self.component.output(name)
        shape = self._shape(out.dims) if shape is None else shape
        lo = out.lower if lb is None else lb
        hi = out.upper if ub is None else ub
        if isinstance(lo, str) or isinstance(hi, str):
            raise ValueError(f"{name}: pass numeric bounds for bounds given by input names")
        var = self.ctx.lm.add_var(self.qual(name), shape, lo, hi, out.integer, mask)
        var.rounding = out.rounding
        self.recorded[name] = Recorded(out, var=var, scale=scale)
        self.names.add(name)
        if self.block is not None:
            from .pyomo_bridge import attach_var

            attach_var(self.block, name, var, out.dims, self.ctx)
        return var

    def expression(self, name: str, expr: Expr, scale: float = 1.0) -> Expr:
        """Record an ``expression`` output (a linear expression kept without its own column)."""
        out = self.component.output(name)
        self.recorded[name] = Recorded(out, expr=expr, scale=scale)
        self.names.add(name)
        if self.block is not None:
            from .pyomo_bridge import attach_expression

            attach_expression(self.block, name, expr, self.ctx, out.dims)
        return expr

    def input(self, name: str, data) -> None:
        """Record an ``input`` output (data the certifier and the books need)."""
        out = self.component.output(name)
        self.recorded[name] = Recorded(out, data=np.asarray(data))

    def constrain(self, name: str, lhs, sense: str, rhs=0.0, mask=None, dual=None, dual_factor=1.0):
        """Add rows ``name``; optionally record their dual as the output ``dual``."""
        block = self.ctx.lm.add_rows(self.qual(name), lhs, sense, rhs, mask)
        self.rows[name] = block
        self.names.add(name)
        if dual is not None:
            out = self.component.output(dual)
            self.recorded[dual] = Recorded(out, rows=block, dual_factor=dual_factor)
        return block

    def dual(self, name: str, rows, factor=1.0) -> None:
        """Record the duals of ``rows`` (times ``factor``, or ``factor(x)`` of the solution)."""
        out = self.component.output(name)
        self.recorded[name] = Recorded(out, rows=rows, dual_factor=factor)

    def port(self, carrier: str, expr: Expr) -> None:
        """Add ``expr`` (shape (S, T), or (S,) for a horizon part) to a port of this family."""
        if carrier not in CARRIERS:
            raise KeyError(f"unknown carrier {carrier!r}; known: {sorted(CARRIERS)}")
        key = carrier if expr.shape == (self.ctx.S, self.ctx.T) else carrier + ":horizon"
        if expr.shape not in ((self.ctx.S, self.ctx.T), (self.ctx.S,)):
            raise ValueError(f"port {carrier} of {self.component.name} has shape {expr.shape}")
        self.ports[key] = self.ports[key] + expr if key in self.ports else expr
        if key == carrier:
            self.ctx.published[carrier] = self.ctx.flow(carrier) + expr
        self.names.add(f"port.{carrier}")

    def cost(self, term: str, expr: Expr) -> None:
        """Add a cost term (CNY; all cells summed) to the objective."""
        total = expr.sum() if expr.shape != () else expr
        self.cost_terms[term] = total
        self.ctx.lm.add_cost(total)


__all__ = [
    "CARRIERS",
    "INF",
    "Account",
    "Component",
    "Context",
    "Efficiency",
    "FamilyBuilder",
    "Fraction",
    "Name",
    "NonNeg",
    "Output",
    "Positive",
    "Profile",
    "Recorded",
    "Section",
]
