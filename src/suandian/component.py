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
``kpis(ds, totals) -> dict`` (optional)
    Its own KPIs (``pue_grade``, ``erf``, ...) from the Dataset and the books' :class:`Totals`.
``limits`` (optional)
    Its hard limits, each with the sentence the diagnosis prints when the limit cannot be
    met (:class:`Limit`).
``state_out(ds, t, flows) -> dict``, ``state_in(entry, raw)``, ``cut(raw, cut)`` (optional)
    The state of a time-coupled family (see :class:`StateField`): read at the end of period
    ``t`` from a result Dataset alone, applied to a raw scenario mapping as its initial state,
    and how the family's section is cut to a window of the horizon. A rolling-horizon loop
    (``Result.final_state``, ``Scenario.with_state``, ``Scenario.window``) knows no family.
``stateless`` (required without ``state_out``)
    Why the component has no state to hand to the next window (what a window cuts).
``validate(sc, refs) -> list[Problem]`` (optional)
    The scenario checks of its sections that the schema cannot make alone (cross checks:
    a release after its deadline, a field that would be ignored, one unit per site), run
    once its sections and the required ones (``horizon``, ``nodes``, ``sites``) validated.
    Series references (every :data:`Profile` field, with the :class:`Range` declared next
    to it) are checked before by one shared walker, with no code in the family; ``refs``
    (:class:`suandian.scenario.validation.SeriesRefs`) says which values can be read.
``estimate(sc, options) -> int`` (optional)
    The columns its build will add, counted from ``sc.config``, ``sc.periods`` and ``sc.dt``
    before the model is built and before the series are read (``sc`` has none); summed by
    :func:`suandian.sizing.estimate` to refuse a model too large (see that module).

A family's scenario section is declared in its own module: a pydantic class deriving from
:class:`Section`, with the field types below (:data:`Name`, :data:`NonNeg`, ...), and a
:class:`ScenarioField` in ``Component.scenario_fields`` that names the top-level key; the
schema (:func:`suandian.scenario.schema.config_model`) adds it to the scenario, so a family
module must not import :mod:`suandian.scenario` at run time. (Older families name their
section classes in a field of ``ScenarioConfig`` instead.)

Ports are per (site, period): arrays of shape (S, T) of :class:`~suandian.linear.Expr` by
carrier (see :data:`CARRIERS`); a horizon-only contribution (shape (S,)) is allowed where the
instrument has no time stamp (unbundled certificates). The ledgers sum ports of every
component; policies read ledgers only. Adding a family = one module with a
``COMPONENT`` (with its section class and :class:`ScenarioField`), one line in
:data:`suandian.components.REGISTRY`, one docs/math page, one test file
(``docs/add-a-component.md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .linear import INF, Expr, LinearModel, Var

if TYPE_CHECKING:
    import xarray as xr

    from .checks import Rows
    from .errors import Problem
    from .scenario import Scenario
    from .scenario.validation import SeriesRefs


# --------------------------------------------------------------------------- scenario input
class Section(BaseModel):
    """Base of the scenario's models: unknown keys are errors, values validated on assignment.

    A family's section items derive from it (``class Genset(Section)``), in the family's module
    or in :mod:`suandian.scenario.schema`.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


@dataclass(frozen=True)
class Range:
    """The values a series reference may take, declared next to its field.

    Every :data:`Profile` field is checked by the shared walker of
    :mod:`suandian.scenario.validation`: a series name must name a loaded column (with a
    did-you-mean hint), and the values (of the series or the number) must lie in
    ``low .. high`` (``None``: no bound). ``what`` names them in the message ("prices must be
    >= 0"). A field narrows the default (``low=0``) with its own, e.g.
    ``price: Annotated[Profile, Range(low=None, what="prices")]``.
    """

    low: float | None = 0.0
    high: float | None = None
    what: str = "values"


#: A number (constant) or the name of a time-series column; values >= 0 unless the field
#: declares its own :class:`Range`.
Profile = Annotated[float | str, Range()]
NonNeg = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Efficiency = Annotated[float, Field(gt=0, le=1)]
#: A name is a label: letters of any script (重庆), digits, '_', '.' and '-'; no spaces.
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[\w.\-]+$")]

#: hours of a year: a capacity's annuity is charged pro rata, ``hours / HOURS_PER_YEAR``
HOURS_PER_YEAR = 8760.0


class Capacity(Section):
    """A capacity chosen by the model (``power: {extendable: true, max: 50, ...}``).

    The capacity is ``existing + built`` with ``min <= built <= max`` (a decision, in the
    unit of the field it replaces: MW, MWh, blocks). ``built`` costs the annuity
    ``capex_per_unit * r / (1 - (1 + r)^-n) + fixed_om_per_unit_year`` (CNY per unit and
    year; ``capex_per_unit / n`` when ``r = 0``), charged pro rata to the hours the horizon
    stands for (``sum_t w_t * dt / 8760``). ``extendable: false`` is the number ``existing``.
    With ``unit_size`` the build comes in lumps: ``built = unit_size * n`` with ``n`` an
    integer (``{name}_units``), ``ceil(min / unit_size) <= n <= floor(max / unit_size)``.
    """

    extendable: bool = Field(True, description="whether the model chooses the capacity")
    min: float = Field(0.0, ge=0, description="least capacity built (unit of the field)")
    max: float = Field(ge=0, description="most capacity built (unit of the field): the big-M")
    existing: float = Field(0.0, ge=0, description="capacity there already, free of capex")
    capex_per_unit: float = Field(0.0, ge=0, description="CNY per unit of capacity built")
    lifetime_years: float = Field(20.0, gt=0, description="economic life, years")
    discount_rate: float = Field(0.0, ge=0, description="per year, e.g. 0.06")
    fixed_om_per_unit_year: float = Field(0.0, ge=0, description="CNY per unit and year")
    unit_size: float | None = Field(
        None,
        gt=0,
        description="unit of the field per lump built (a 5 MW turbine, a 4 MWh container): "
        "built = unit_size x an integer; null (the default): any amount in min .. max",
    )

    @model_validator(mode="after")
    def _lumps_fit(self) -> Capacity:
        if self.min > self.max:
            raise ValueError(
                f"Capacity: min {self.min:g} > max {self.max:g}; lower min or raise max"
            )
        if self.unit_size is not None and self.extendable:
            lo, hi = self.lump_bounds()
            if lo > hi:
                raise ValueError(
                    f"Capacity: no whole number of lumps of unit_size {self.unit_size:g} lies "
                    f"in min {self.min:g} .. max {self.max:g}; change unit_size, min or max"
                )
        return self

    def lump_bounds(self) -> tuple[float, float]:
        """Least and most lumps built, ``ceil(min / unit_size)``, ``floor(max / unit_size)``.

        A tolerance of 1e-6 lumps keeps ``max = 3 x unit_size`` at 3 under rounding, and a
        choice handed over as state (``min = max`` = a solved build, within the solver's
        tolerance of a whole number of lumps) at that number.
        """
        size = float(self.unit_size or 1.0)
        return float(math.ceil(self.min / size - 1e-6)), float(math.floor(self.max / size + 1e-6))

    def recovery(self) -> float:
        """Capital recovery factor, 1/year: ``r / (1 - (1 + r)^-n)``, ``1 / n`` when ``r = 0``."""
        r, n = self.discount_rate, self.lifetime_years
        return 1.0 / n if r == 0 else r / (1.0 - (1.0 + r) ** -n)

    def annuity(self) -> float:
        """CNY per unit built and year: capital recovery plus fixed O&M."""
        return self.capex_per_unit * self.recovery() + self.fixed_om_per_unit_year


@dataclass(frozen=True)
class Carrier:
    """A port carrier: what a family's port on it means to the ledgers and the books.

    The books (:mod:`suandian.results.accounting`) read carriers by these fields, never
    families by name: a new source states what its energy is by the carriers it writes.

    Attributes
    ----------
    name : str
        Port name (``fb.port(name, ...)``, ``Account.flows[name]``).
    unit : str
        Unit per period's rate (``MW``, ``tCO2/h``); the horizon part is the integral.
    doc : str
        One-line meaning.
    carbon_free : float or str or None
        For the hourly CFE: the carbon-free share of the energy on this carrier, a number
        (``green``: 1) or the name of the node input that gives it at the site's node
        (``grid_mix``: ``grid_cfe``); ``"own"`` if the carrier's flow *is* carbon-free MW
        inside energy drawn without a green attribute, its share stated by the family that
        writes it (``remote_cfe``: the non-green part of corridor deliveries at the sending
        node's ``grid_cfe``); ``None`` if the carrier holds no supply of its own. Intake on
        no such carrier (a genset's) counts as not carbon-free.
    certificate : bool
        Energy on it carries a green attribute (certificate status): counted as green energy
        in the green share and with no market-based emissions.
    emission_factor : str
        Where the emission factor of its energy comes from: ``node`` (the node's location and
        residual-mix factors), ``own`` (the source's own factor, written on ``co2`` and
        ``co2_market``), ``none`` (zero emissions); ``""`` for a carrier that is not energy.
    horizon : bool
        A port may also have a horizon-only part, shape (S,) (certificates, their credit).
    """

    name: str
    unit: str
    doc: str
    carbon_free: float | str | None = None
    certificate: bool = False
    emission_factor: str = ""
    horizon: bool = False


def _carriers(*items: Carrier) -> dict[str, Carrier]:
    return {c.name: c for c in items}


#: Port carriers by name: per (site, period) unless noted; units are per period's rate.
CARRIERS: dict[str, Carrier] = _carriers(
    Carrier("power", "MW", "MW into the site's bus (negative: consumption)"),
    Carrier(
        "intake",
        "MW",
        "MW of electricity entering the site from a source (grid, renewables, purchases, "
        "generators); not carbon-free unless also on `green` or `grid_mix`, or stated on "
        "`remote_cfe`",
        carbon_free=0.0,
        emission_factor="own",
    ),
    Carrier(
        "green",
        "MW",
        "MW of that intake counted green (per period: hourly matching is possible)",
        carbon_free=1.0,
        certificate=True,
        emission_factor="none",
    ),
    Carrier(
        "grid_mix",
        "MW",
        "MW of that intake that is the site's node's grid-mix energy without a green "
        "attribute (grid import, the non-green part of contract deliveries): carbon-free at "
        "the node's `grid_cfe`",
        carbon_free="grid_cfe",
        emission_factor="node",
    ),
    Carrier(
        "remote_cfe",
        "MW",
        "MW of carbon-free energy inside intake drawn without a green attribute from "
        "another node's grid (the non-green part of corridor deliveries, at the sending "
        "node's `grid_cfe`); the energy itself is on `intake` only",
        carbon_free="own",
    ),
    Carrier(
        "metered",
        "MW",
        "MW of that intake entering through the public-grid meter (grid purchases, corridor "
        "and contract deliveries): network and demand charges apply to it",
    ),
    Carrier(
        "direct", "MW", "MW of that intake from the site's direct-connected (绿电直连) renewables"
    ),
    Carrier(
        "export",
        "MW",
        "MW leaving the site's sources to the public grid through its meter (sales of "
        "renewable surplus); not part of the site's bus",
    ),
    Carrier(
        "certificates",
        "MWh",
        "MWh of unbundled green certificates (horizon only, shape (S,))",
        certificate=True,
        emission_factor="none",
        horizon=True,
    ),
    Carrier("co2", "tCO2/h", "tCO2/h, location-based"),
    Carrier(
        "co2_market",
        "tCO2/h",
        "tCO2/h, market-based (horizon part: certificate credit, tCO2)",
        horizon=True,
    ),
    Carrier("it", "MW", "MW of IT load (for PUE)"),
    Carrier("facility", "MW", "MW of facility load: IT + losses + cooling (for PUE)"),
    Carrier(
        "batch_compute",
        "unit",
        "compute units of deferrable (batch) work run at the site (read by the reserves: "
        "headroom from pausing it)",
    ),
    Carrier(
        "spare_compute",
        "unit",
        "compute units the site's blocks on could still run within their headroom (read by "
        "the reserves: headroom from running batch work faster)",
    ),
    Carrier(
        "heat_air",
        "MW",
        "MW of heat the air path (CRAH + chilled water) removes (dc; read by thermal)",
    ),
    Carrier(
        "heat_liquid", "MW", "MW of heat the liquid (warm-water) path removes (dc; read by thermal)"
    ),
    Carrier(
        "reserve_up",
        "MW",
        "MW a reserve provider can lower its site's draw by on call, from its schedule "
        "(per provider unit: FamilyBuilder.headroom)",
    ),
    Carrier(
        "reserve_down",
        "MW",
        "MW a reserve provider can raise its site's draw by on call (per unit)",
    ),
    Carrier(
        "reserve_energy_up",
        "MWh",
        "MWh a reserve provider can deliver for up calls, at the start and at the end of the "
        "period (a pair: the headroom holds at every moment between; per unit)",
    ),
    Carrier(
        "reserve_energy_down",
        "MWh",
        "MWh a reserve provider can absorb for down calls, at the start and at the end of the "
        "period (a pair; per unit)",
    ),
)

#: The reserve-headroom carriers: per provider unit, not per site (see :class:`Headroom`).
HEADROOM = ("reserve_up", "reserve_down", "reserve_energy_up", "reserve_energy_down")


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
    shadow : str
        For a ``dual`` output that is a shadow price: the unit suffix of its entries in
        ``result.kpis["shadow_prices"]`` (``cny_per_mwh`` lists ``<name>_<label>_cny_per_mwh``
        for every label whose value is not NaN); empty for none.
    first_stage : bool
        A decision taken before the uncertainty resolves (here and now: blocks committed,
        corridor blocks, DR participation, reserve offers, the day-ahead position, chosen
        capacities): a two-stage plan (:mod:`suandian.run.stochastic`) holds it equal in every
        scenario; every other decision is recourse, per scenario
        (``docs/math/stochastic.md``).
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
    shadow: str = ""
    first_stage: bool = False


@dataclass(frozen=True)
class Presolved:
    """The plan of a scenario a component's ``presolve`` hook asked for, as its build reads it.

    Attributes
    ----------
    status : str
        How its solve ended (``optimal``, ``time_limit``, ``infeasible``, ...).
    objective : float
        Its objective, CNY (NaN without a plan).
    mip_gap : float
        Its relative MIP gap.
    flows : dict of str to numpy.ndarray
        Carrier -> (site, time) MW, the sum of every component's account (the books of that
        plan); empty without a plan.
    of : str
        The scenario whose plan it is, when a caller builds it into another scenario (the
        members of a two-stage plan share the plan of their mean forecast,
        ``docs/math/stochastic.md``); empty when it is the built scenario's own.
    """

    status: str
    objective: float
    mip_gap: float
    flows: dict[str, Any] = field(default_factory=dict)
    of: str = ""


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
    #: reserve headroom by carrier of :data:`HEADROOM`, per provider unit: a DataArray with
    #: dims (unit, time) in the order of :meth:`FamilyBuilder.headroom` (energy: a pair)
    headroom: dict[str, Any] = field(default_factory=dict)


@dataclass
class Headroom:
    """Reserve headroom a family offers, per provider unit (a battery) and period.

    Headroom is per unit, not per site: a unit's power and energy headroom bound the same
    offer, so the sum over a site's units is not exact (one unit with power and no energy and
    one with energy and no power offer nothing; their sums offer something). The reserves
    policy (``rsv``) allocates its offers per unit.

    Attributes
    ----------
    family : str
        The component that offers it.
    units : numpy.ndarray
        Unit labels (unique over every provider).
    site : numpy.ndarray
        Site index of each unit (int).
    exprs : dict
        By carrier of :data:`HEADROOM`: an :class:`~suandian.linear.Expr` of shape (U, T) for
        ``reserve_up`` / ``reserve_down``, a pair of them (at the start, at the end of the
        period) for the energies. A carrier left out offers nothing in that direction.
    """

    family: str
    units: np.ndarray
    site: np.ndarray
    exprs: dict[str, Any]


@dataclass(frozen=True)
class Violation:
    """One element of a hard limit that the diagnosis's relaxed re-solve had to violate.

    Attributes
    ----------
    i : int
        Position of the element along the row block's first axis.
    element : str
        Its name (``Limit.elements``).
    row : numpy.ndarray
        Slack per cell of the element's rows (MW for rows per period, MWh otherwise).
    active : numpy.ndarray
        Cells whose slack counts (above the diagnosis's tolerance).
    when : str
        Clock ranges of those periods (``00:00-16:00``), for the sentence.
    """

    i: int
    element: str
    row: np.ndarray
    active: np.ndarray
    when: str


@dataclass(frozen=True)
class Limit:
    """A hard limit of a family the diagnosis relaxes, and the sentence it prints.

    Attributes
    ----------
    row : str
        Row block name within the component (``import_limit``).
    kind : str
        Shortfall key of the diagnosis (``import_limit``).
    elements : callable
        ``elements(config) -> list[str]``: names along the row block's first axis.
    finding : callable
        ``finding(scenario, violation) -> (kind, element, text, MWh)``: the finding printed.
    weight : float
        Weight per MWh of violation in the relaxed re-solve (a limit that weighs more is
        blamed last).
    per_period : bool
        Rows per period (MW: the slack is weighed x dt) or horizon energies (MWh).
    event : bool
        The limit is an event the plan must survive (a grid outage), not a bound a workload
        or a target can be traded against: the diagnosis relaxes it first, with every
        workload and target kept (stage 0b), so that it is blamed before the compute it
        would otherwise cost.
    """

    row: str
    kind: str
    elements: Callable[[Any], list[str]]
    finding: Callable[[Any, Violation], tuple[str, str, str, float]]
    weight: float = 1.0
    per_period: bool = True
    event: bool = False


@dataclass
class Totals:
    """The books' per-site horizon totals, for a component's KPIs (:attr:`Component.kpis`).

    Each is an ``xarray.DataArray`` over ``site``, summed over every family's account
    (:mod:`suandian.results.accounting`).

    Attributes
    ----------
    sites : list of str
    dt : float
        Period length, hours.
    consumption, green, it, facility : xarray.DataArray
        MWh: intake, green energy (with certificates), IT and facility energy.
    location, market : xarray.DataArray
        tCO2: location-based and market-based (floored at 0 per site) emissions.
    weight : float or xarray.DataArray
        Period weights (``time``) the totals were summed with (1.0 without weights).
    """

    sites: list[str]
    dt: float
    consumption: Any
    green: Any
    it: Any
    facility: Any
    location: Any
    market: Any
    weight: Any = 1.0
    #: MWh: carbon-free energy consumed, period by period (``checks.carbon_free``)
    carbon_free: Any = None


@dataclass(frozen=True)
class ScenarioField:
    """A top-level scenario field that a component declares in its own module.

    The scenario's schema (:func:`suandian.scenario.schema.config_model`) gains one field per
    declaration of the components in use, so a new family needs no edit of ``schema.py``.

    Attributes
    ----------
    name : str
        The key in the scenario file (``backup_generators``).
    annotation : Any
        Its type, e.g. ``list[Genset]`` with ``Genset`` a :class:`Section`.
    default : Any
        Its pydantic default, e.g. ``Field(default_factory=list, description="...")``.
    """

    name: str
    annotation: Any
    default: Any = None


@dataclass(frozen=True)
class Component:
    """A component family or policy, declared once (see the module docstring).

    ``kpis(ds, totals) -> dict`` (optional) gives the component's own KPIs from the Dataset and
    the books' :class:`Totals`; they join ``result.kpis``. An entry ``cost`` (a dict of cost
    terms, CNY) joins the cost table instead: a cost on a book total (the carbon price).
    """

    name: str
    sections: tuple[str, ...]
    outputs: tuple[Output, ...]
    build: Callable[[FamilyBuilder, Context], None]
    account: Callable[[xr.Dataset], Account] | None = None
    check: Callable[[xr.Dataset, Rows], None] | None = None
    derive: Callable[[xr.Dataset], dict[str, Any]] | None = None
    kpis: Callable[[xr.Dataset, Totals], dict[str, Any]] | None = None
    validate: Callable[[Scenario, SeriesRefs], list[Problem]] | None = None
    estimate: Callable[..., int] | None = None
    kind: str = "family"  # or "policy"
    doc: str = ""
    #: scenario fields declared here rather than in ``schema.ScenarioConfig``
    scenario_fields: tuple[ScenarioField, ...] = ()
    #: hard limits the diagnosis may relax, with their sentences (:class:`Limit`)
    limits: tuple[Limit, ...] = ()
    #: components that must be built before it (it reads their ports via ``ctx.published``)
    requires: tuple[str, ...] = ()
    # state of a time-coupled family (see StateField; docs/scenario-format.md, "State")
    state_out: StateOut | None = None
    state_in: StateIn | None = None
    cut: CutHook | None = None
    state_fields: tuple[StateField, ...] = ()
    #: why a component has no state to hand to the next window (its rows couple no periods,
    #: or what a window cuts, e.g. a horizon rule that restarts); required without state_out
    stateless: str = ""
    #: the family's horizon cost terms (added with ``per_period=False``) owed by the first
    #: ``t`` periods of a plan alone: the committed part of a rolling window
    #: (:func:`suandian.results.year.committed_costs`). Without it, a horizon term counts in
    #: full where the part is the whole plan and not at all otherwise (a rule judged at the
    #: horizon's end: certificates, penalties on annual slacks)
    commit_costs: CommitCosts | None = None
    #: ``presolve(scenario) -> Scenario | None``: another scenario to solve before the build,
    #: whose plan the build reads as ``ctx.presolved[name]`` (:class:`Presolved`): the DR
    #: baseline ``no_event`` is the metered draw in the plan without the event. Solved once per
    #: Scenario object (:func:`suandian.run.solve.presolve`), with the options of the first
    #: solve that needs it
    presolve: Callable[[Scenario], Scenario | None] | None = None
    #: ``year_budget(scenario) -> bool``: whether the scenario gives it an annual budget, its
    #: state then being energies over the year (year to date), additive: a rolling run hands
    #: a window the forecast of the rest of the horizon through ``state_in`` too (to date and
    #: forecast enter the rows only as their sum; ``docs/math/rolling.md``)
    year_budget: Callable[[Scenario], bool] | None = None

    def output(self, name: str) -> Output:
        """The output table entry called ``name``."""
        for o in self.outputs:
            if o.name == name:
                return o
        raise KeyError(f"{self.name}: {name!r} is not in its output table")


def capacity_outputs(name: str, dim: str, unit: str) -> tuple[Output, ...]:
    """Output table entries of a capacity that may be a decision (:meth:`FamilyBuilder.capacity`).

    ``name`` itself (the capacity: an input when fixed, the chosen value when a decision)
    is declared by the family; these are ``{name}_built`` and its data.
    """
    return (
        Output(
            f"{name}_built",
            (dim,),
            unit,
            "capacity built (decision; the capacity is existing + built)",
            lower=f"{name}_min",
            upper=f"{name}_max",
            first_stage=True,
        ),
        Output(f"{name}_min", (dim,), unit, "least capacity built (NaN: fixed)", role="input"),
        Output(
            f"{name}_existing", (dim,), unit, "capacity there already (NaN: fixed)", role="input"
        ),
        Output(f"{name}_max", (dim,), unit, "most capacity built (NaN: fixed)", role="input"),
        Output(
            f"{name}_annuity",
            (dim,),
            f"CNY/{unit}",
            "annuity per unit built, pro rata to the horizon's hours",
            role="input",
        ),
        Output(
            f"{name}_units",
            (dim,),
            "1",
            "lumps built (decision, integer; built = unit_size x units)",
            integer=True,
            rounding="up",
        ),
        Output(f"{name}_unit_size", (dim,), unit, "size of a lump (NaN: any amount)", role="input"),
        Output(
            f"{name}_capex_per_unit",
            (dim,),
            f"CNY/{unit}",
            "investment per unit built, one-off, before annuity (NaN: fixed)",
            role="input",
        ),
        Output(
            f"{name}_recovery",
            (dim,),
            "1",
            "share of the investment charged over the horizon: capital recovery factor x "
            "hours / 8760 (NaN: fixed; a grant on the capex is spread by it)",
            role="input",
        ),
    )


def check_capacities(ds: xr.Dataset, rows: Rows, component: str, names: tuple[str, ...]) -> None:
    """Certifier rows of chosen capacities (:meth:`FamilyBuilder.capacity`).

    ``{component}.{name}_def``: the Dataset's capacity is ``existing + built`` where chosen
    (``{name}_existing``); ``{component}.{name}_lumps``: ``built = unit_size x units`` where
    the build comes in lumps. Nothing for a capacity that is a number.
    """
    for n in names:
        if f"{n}_built" not in ds:
            continue
        chosen = ~np.isnan(ds[f"{n}_max"])
        rows.eq(
            f"{component}.{n}_def",
            ds[n].where(chosen),
            (ds[f"{n}_existing"] + ds[f"{n}_built"]).where(chosen),
        )
        if f"{n}_units" in ds:
            size = ds[f"{n}_unit_size"]
            lumpy = ~np.isnan(size)
            rows.eq(
                f"{component}.{n}_lumps",
                ds[f"{n}_built"].where(lumpy),
                (size * ds[f"{n}_units"]).where(lumpy),
            )


def capacity_cost(ds: xr.Dataset, names: tuple[str, ...]) -> dict[str, float]:
    """``{name}_capex`` of each chosen capacity in the Dataset (CNY; none when fixed)."""
    return {
        f"{n}_capex": float((ds[f"{n}_built"] * ds[f"{n}_annuity"]).sum())
        for n in names
        if f"{n}_built" in ds
    }


class CapacityExpr(Expr):
    """A chosen capacity (an :class:`~suandian.linear.Expr`) with its largest value ``upper``."""

    __slots__ = ("upper",)

    #: the largest value of the capacity per item (``existing`` + the bound on the build)
    upper: np.ndarray


# --------------------------------------------------------------------------- state
@dataclass(frozen=True)
class StateField:
    """One field of a family's state (a JSON-able entry of ``Result.final_state()``).

    Attributes
    ----------
    name : str
        Key in the family's state entry (``soc_mwh``).
    unit : str
        Unit (``MWh``, ``MW``, ``h``, ``1``).
    doc : str
        What it is, and the scenario field it sets (``storage[].soc_initial``).
    """

    name: str
    unit: str
    doc: str


@dataclass(frozen=True)
class Cut:
    """A window of a horizon, as the ``cut`` hook of a family sees it.

    Attributes
    ----------
    start : int
        First period of the window in the horizon cut from.
    periods : int
        Periods of the window.
    total : int
        Periods of the horizon cut from.
    dt : float
        Period length, hours.
    period : Callable
        ``period(value, default) -> int``: a release / deadline (index or timestamp) as a
        period index of the horizon cut from (:meth:`Scenario.period`).
    stamp : Callable
        ``stamp(i) -> datetime``: the start of period ``i`` of the horizon cut from (``i`` =
        ``total``: its end).
    """

    start: int
    periods: int
    total: int
    dt: float
    period: Callable[[Any, int], int]
    stamp: Callable[[int], Any]

    @property
    def end(self) -> int:
        """First period after the window (exclusive end), in the horizon cut from."""
        return self.start + self.periods

    @property
    def last(self) -> bool:
        """Whether the window reaches the end of the horizon cut from."""
        return self.end >= self.total

    def clip(self, events: list[dict[str, Any]]) -> list[tuple[dict[str, Any], bool]]:
        """Raw events with ``start`` / ``end`` (an event window) cut to the window.

        Events outside it are dropped, those across its bounds get the window's bounds;
        each kept event comes with whether it began before the window.
        """
        kept = []
        for event in events:
            start, end = self.period(event["start"], 0), self.period(event["end"], self.total)
            if end <= self.start or start >= self.end:
                continue
            event["start"] = self.stamp(max(start, self.start))
            event["end"] = self.stamp(min(end, self.end))
            kept.append((event, start < self.start))
        return kept


def hold_capacity(item: dict[str, Any], field: str, chosen: float) -> None:
    """Hold a chosen capacity of a raw scenario item at the value a state hands over.

    ``min = max`` = its built part (``chosen`` less ``existing``; with ``unit_size`` rounded
    to whole lumps): the next window keeps the choice and is still charged its share of the
    annuity. A number is left as it is.
    """
    cap = item.get(field)
    if isinstance(cap, dict) and cap.get("extendable", True):
        built = max(float(chosen) - float(cap.get("existing", 0.0)), 0.0)
        size = cap.get("unit_size")
        if size:  # lumps: the whole number the solver's value stands for
            built = round(built / float(size)) * float(size)
        cap["min"] = cap["max"] = built


#: ``state_out(ds, t, flows)``: the family's state at the END of period ``t`` (0-based) of a
#: result Dataset, a JSON-able dict; ``flows`` are the books' per-carrier (site, time) flows
#: (what a policy may read: the ledgers). An empty dict: no state to hand over.
StateOut = Callable[["xr.Dataset", int, Any], dict[str, Any]]
#: ``state_in(entry, raw)``: apply the family's state entry to a raw scenario mapping (a
#: ``ScenarioConfig.model_dump``), in place; the caller re-validates the whole mapping.
StateIn = Callable[[dict[str, Any], dict[str, Any]], None]
#: ``cut(raw, cut)``: cut the family's section of a raw scenario mapping to a window, in place
#: (period indices shifted, items outside dropped, end rules of non-final windows relaxed).
CutHook = Callable[[dict[str, Any], Cut], None]

#: ``commit_costs(ds, t, flows) -> {term: CNY}``: horizon cost terms owed by periods
#: ``0 .. t-1`` (``flows``: the plan's per-site flows by carrier, as ``state_out`` gets them)
CommitCosts = Callable[["xr.Dataset", int, Any], dict[str, float]]


# --------------------------------------------------------------------------- context
@dataclass(frozen=True)
class ChosenCapacity:
    """A chosen capacity as :meth:`FamilyBuilder.capacity` built it (read by policies).

    Attributes
    ----------
    component : str
        The family that owns it (``stor``, ``dc``).
    built : Var
        The decision ``{name}_built`` per item (columns only where chosen).
    capex_per_unit : numpy.ndarray
        CNY per unit built, one-off (0 where fixed).
    recovery : numpy.ndarray
        Capital recovery factor x hours / 8760 (1; NaN where fixed).
    chosen : numpy.ndarray
        Bool per item: whether the model chooses it.
    """

    component: str
    built: Var
    capex_per_unit: np.ndarray
    recovery: np.ndarray
    chosen: np.ndarray


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
    #: per-period weights (T,): the hours a period stands for relative to its own length
    #: (representative periods; ``None``: all 1); see :meth:`weighted`
    weights: np.ndarray | None = None
    #: probability of the scenario: every cost term is multiplied by it
    probability: float = 1.0
    #: representative periods of this many periods each (``horizon.cycle_periods``): a
    #: stored energy wraps around within each (:meth:`previous`); ``None``: one sequence
    cycle: int | None = None
    #: component name -> the plan of the scenario its ``presolve`` hook asked for
    presolved: dict[str, Presolved] = field(default_factory=dict)

    @property
    def weighted(self) -> bool:
        """Whether the periods carry weights other than 1."""
        return self.weights is not None and not bool(np.all(self.weights == 1.0))

    @property
    def w(self) -> np.ndarray | float:
        """Per-period weights to multiply a (..., T) array or expression by: 1.0 without them.

        For the horizon sums a family writes itself (``sum_t w_t * x_t * dt``); a plain 1.0
        keeps the model of an unweighted scenario identical.
        """
        return self.weights if self.weights is not None and self.weighted else 1.0

    def previous(self, x, axis: int = 1) -> Expr:
        """``x`` in the previous period along ``axis`` (time): the state a period starts from.

        ``x.shift(axis, 1)`` (0 in the first period, where the initial state enters the
        row's right-hand side, :meth:`first`); with representative periods
        (:attr:`cycle`) the first period of each block starts from the block's last.
        """
        if self.cycle is None:
            return x.shift(axis, 1)
        return x.roll_within(axis, self.cycle)

    @property
    def first(self) -> np.ndarray:
        """(T,) 1.0 in the periods that start from an initial state.

        The first one, or none with representative periods (each wraps around,
        :meth:`previous`).
        """
        out = np.zeros(self.T)
        if self.cycle is None:
            out[0] = 1.0
        return out

    @property
    def hours(self) -> float:
        """Hours the horizon stands for: ``dt * sum_t w_t`` (``T * dt`` without weights)."""
        w = self.weights
        return self.dt * (float(np.sum(w)) if w is not None and self.weighted else self.T)

    #: reserve headroom offered by the families built so far (:meth:`FamilyBuilder.headroom`)
    headroom: list[Headroom] = field(default_factory=list)
    #: the chosen capacities built so far, by their Dataset name (``blocks``,
    #: ``storage_energy``): what a grant on their capex reads (:mod:`suandian.policies.grants`)
    capacities: dict[str, ChosenCapacity] = field(default_factory=dict)
    #: the components built so far, by name, in build order (a policy may ask which others
    #: are in the model: their cost terms, their :attr:`Component.limits`)
    components: dict[str, Component] = field(default_factory=dict)

    def limit_rows(self) -> set[str]:
        """Qualified names of the hard-limit row blocks built so far (:class:`Limit`).

        The rows a diagnosis may relax after the build (``run/diagnose.py``): a big-M read
        from the rows (:meth:`~suandian.linear.LinearModel.implied_bounds`) must skip them.
        """
        return {
            f"{self.prefix}{name}.{limit.row}"
            for name, c in self.components.items()
            for limit in c.limits
        }

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
        #: cost terms over the horizon (not summed per period): the committed part of a
        #: rolling window owes them through ``Component.commit_costs``
        self.horizon_terms: list[str] = []
        #: per-period cost terms as (time,) expressions, CNY per period (``cost_period``)
        self.cost_series: dict[str, Expr] = {}
        self.objective: list[Expr] = []  # every term added, in order (its own objective)
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
        if len(var.shape) == len(out.dims):
            var.dims = tuple(out.dims)
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
        if carrier in HEADROOM:
            raise KeyError(f"{carrier} is per provider unit: use FamilyBuilder.headroom")
        key = carrier if expr.shape == (self.ctx.S, self.ctx.T) else carrier + ":horizon"
        if expr.shape not in ((self.ctx.S, self.ctx.T), (self.ctx.S,)):
            raise ValueError(f"port {carrier} of {self.component.name} has shape {expr.shape}")
        if key != carrier and not CARRIERS[carrier].horizon:
            raise ValueError(f"port {carrier} of {self.component.name}: no horizon part allowed")
        self.ports[key] = self.ports[key] + expr if key in self.ports else expr
        if key == carrier:
            self.ctx.published[carrier] = self.ctx.flow(carrier) + expr
        self.names.add(f"port.{carrier}")

    def headroom(self, units, site, **exprs) -> None:
        """Offer reserve headroom per unit: carriers of :data:`HEADROOM` (see :class:`Headroom`).

        Parameters
        ----------
        units : sequence of str
            Unit labels (U).
        site : array of int
            Site index of each unit.
        **exprs
            ``reserve_up`` / ``reserve_down``: Expr (U, T), MW; ``reserve_energy_up`` /
            ``reserve_energy_down``: a pair of Expr (U, T), MWh at the start and at the end of
            the period.
        """
        shape = (len(units), self.ctx.T)
        for carrier, value in exprs.items():
            if carrier not in HEADROOM:
                raise KeyError(f"unknown headroom carrier {carrier!r}; known: {HEADROOM}")
            pair = carrier.startswith("reserve_energy")
            parts = value if pair else (value,)
            if (pair and len(parts) != 2) or any(e.shape != shape for e in parts):
                raise ValueError(f"headroom {carrier} of {self.component.name}: need {shape}")
            self.names.add(f"port.{carrier}")
        self.ctx.headroom.append(
            Headroom(
                self.component.name,
                np.asarray(list(units), dtype=object),
                np.asarray(site, dtype=np.int64),
                dict(exprs),
            )
        )

    # ------------------------------------------------------------- capacities
    def capacity(self, name: str, values, dim: str) -> np.ndarray | Expr:
        """A capacity per item of ``dim``: numbers, or :class:`Capacity` decisions.

        With numbers only, records the input ``name`` and returns them (an array): the model
        is the one of a fixed capacity. With a :class:`Capacity` among them, adds the
        decision ``{name}_built`` (in ``[min, max]``, columns only where extendable), its
        cost term ``{name}_capex`` (``annuity * built * hours / 8760``, a horizon term) and
        the inputs ``{name}_min``, ``{name}_max``, ``{name}_annuity`` (CNY per unit over
        the horizon), records ``name`` as the expression ``existing + built`` (the chosen
        capacity: bounds naming it are certified against the choice) and returns that
        expression, whose :attr:`CapacityExpr.upper` is the big-M of :meth:`switched`.
        The family declares the outputs with :func:`capacity_outputs`.
        """
        values = list(values)
        fixed = np.array(
            [
                (0.0 if v.extendable else v.existing) if isinstance(v, Capacity) else float(v)
                for v in values
            ]
        )
        chosen = [v if isinstance(v, Capacity) and v.extendable else None for v in values]
        if not any(c is not None for c in chosen):
            self.input(name, fixed)
            return fixed
        ext = np.array([c is not None for c in chosen])
        lo = np.array([c.min if c is not None else 0.0 for c in chosen])
        hi = np.array([c.max if c is not None else 0.0 for c in chosen])
        existing = np.array([c.existing if c is not None else 0.0 for c in chosen])
        annuity = np.array([c.annuity() if c is not None else 0.0 for c in chosen])
        annuity = annuity * (self.ctx.hours / HOURS_PER_YEAR)
        built = self.var(f"{name}_built", lb=lo, ub=hi, mask=ext)
        self.input(f"{name}_min", np.where(ext, lo, np.nan))
        self.input(f"{name}_max", np.where(ext, hi, np.nan))
        self.input(f"{name}_existing", np.where(ext, existing, np.nan))
        self.input(f"{name}_annuity", annuity)
        capex = np.array([c.capex_per_unit if c is not None else np.nan for c in chosen])
        recovery = np.array([c.recovery() if c is not None else np.nan for c in chosen])
        recovery = recovery * (self.ctx.hours / HOURS_PER_YEAR)
        self.input(f"{name}_capex_per_unit", capex)
        self.input(f"{name}_recovery", recovery)
        # lumps: built = unit_size * units, units an integer (masks: only where stated)
        lumpy = np.array([c is not None and c.unit_size is not None for c in chosen])
        size = np.array([c.unit_size if c is not None and c.unit_size else np.nan for c in chosen])
        bounds = [c.lump_bounds() if c is not None else (0.0, 0.0) for c in chosen]
        units = self.var(
            f"{name}_units",
            lb=np.array([b[0] for b in bounds]),
            ub=np.array([b[1] for b in bounds]),
            mask=lumpy,
        )
        self.input(f"{name}_unit_size", size)
        self.constrain(f"{name}_lumps", built - units * np.nan_to_num(size), "==", 0.0, mask=lumpy)
        self.cost(f"{name}_capex", built * annuity, per_period=False)
        self.ctx.capacities[name] = ChosenCapacity(
            self.component.name, built, np.nan_to_num(capex), recovery, ext
        )
        total = built.expr() + (fixed + existing)
        cap = CapacityExpr(total.shape, total.row, total.col, total.val, total.const)
        cap.upper = fixed + existing + hi
        out = replace(self.component.output(name), role="expression")
        self.recorded[name] = Recorded(out, expr=total)
        self.names.add(name)
        return cap

    @staticmethod
    def along(capacity, shape: tuple[int, ...]):
        """A capacity per item (``(U,)``) broadcast over the periods of ``shape`` (U, T)."""
        if isinstance(capacity, Expr):
            return capacity.expand(shape, 1)
        return np.asarray(capacity)[:, None]

    @staticmethod
    def largest(capacity) -> np.ndarray:
        """A capacity's largest value per item: the numbers, or ``existing + max`` if chosen."""
        if isinstance(capacity, CapacityExpr):
            return capacity.upper
        return np.asarray(capacity)

    def bound(self, name: str, capacity, factor=None, **kw) -> Var:
        """The decision ``name`` with ``name <= capacity`` (``* factor``) per item and period.

        A fixed capacity is the column bound; a chosen one (:meth:`capacity`) bounds the
        column by its largest value and adds the rows ``{name}_max``: ``name - capacity <= 0``.
        ``factor`` (per item and period, e.g. an availability profile) scales the capacity:
        ``name <= capacity * factor``.
        """
        shape = self._shape(self.component.output(name).dims)
        f = 1.0 if factor is None else factor
        if not isinstance(capacity, CapacityExpr):
            ub = self.along(capacity, shape)
            return self.var(name, ub=ub if factor is None else ub * f, **kw)
        var = self.var(name, ub=self.along(capacity.upper, shape) * f, **kw)
        self.constrain(f"{name}_max", var, "<=", self.along(capacity, shape) * f)
        return var

    def derived(self, name: str, value: np.ndarray | Expr) -> np.ndarray | Expr:
        """Record ``name``, a quantity that follows a capacity (``capacity * profile``).

        Numbers (the capacity is fixed) are recorded as the input; an expression (it is
        chosen, :meth:`capacity`) as an expression output, whose solved value the Dataset
        holds under the same name. Returns ``value``.
        """
        if not isinstance(value, Expr):
            self.input(name, value)
            return value
        out = replace(self.component.output(name), role="expression")
        self.recorded[name] = Recorded(out, expr=value)
        self.names.add(name)
        return value

    def switched(self, name: str, capacity, binary: Var) -> Expr:
        """``capacity * binary`` per item and period, exact for a binary ``binary``.

        A fixed capacity gives the product itself. A chosen one gives new columns ``z``
        (``{name}``, only where ``binary`` has columns) with the exact linearisation
        (McCormick with the big-M ``M = capacity.upper``): ``z <= M * u``,
        ``z <= C``, ``z >= C - M * (1 - u)``, ``z >= 0`` — rows ``{name}_on``,
        ``{name}_cap``, ``{name}_off``.
        """
        if not isinstance(capacity, CapacityExpr):
            return binary * np.asarray(capacity)[:, None]
        shape = binary.shape
        mask = binary.cols >= 0
        big = np.broadcast_to(self.along(capacity.upper, shape), shape)
        z = self.ctx.lm.add_var(self.qual(name), shape, 0.0, big, False, mask)
        z.dims = binary.dims
        cap = self.along(capacity, shape)
        self.constrain(f"{name}_on", z - binary * big, "<=", 0.0, mask=mask)
        self.constrain(f"{name}_cap", z - cap, "<=", 0.0, mask=mask)
        self.constrain(f"{name}_off", z - cap - binary * big, ">=", -big, mask=mask)
        return z.expr()

    def cost(self, term: str, expr: Expr, per_period: bool | None = None) -> None:
        """Add a cost term (CNY; all cells summed) to the objective.

        Parameters
        ----------
        term : str
            Cost term name (a key of the books' ``cost``).
        expr : Expr
            CNY per cell.
        per_period : bool, optional
            ``True``: the last axis is time and each cell is multiplied by its period's
            weight ``w_t`` (:attr:`Context.weights`); ``False``: a horizon term (not
            weighted). Must be stated for a term of one or more axes when the periods carry
            weights. Every term is multiplied by the scenario's probability.
        """
        ctx = self.ctx
        if ctx.weighted and expr.shape != () and 0 not in expr.shape:
            if per_period is None:
                raise ValueError(
                    f"cost term {term!r} of {self.component.name}: state per_period=True or "
                    "False (the periods carry weights)"
                )
            if per_period:
                expr = expr * ctx.weights
        total = expr.sum() if expr.shape != () else expr
        if ctx.probability != 1.0:
            total = total * ctx.probability
        self.cost_terms[term] = total
        if per_period is not True:
            self.horizon_terms.append(term)
        elif expr.shape != () and 0 not in expr.shape and expr.shape[-1] == ctx.T:
            # CNY owed in each period (weights and probability in): the books of a part of
            # the horizon, such as a rolling window's committed periods
            series = expr.sum(tuple(range(len(expr.shape) - 1))) if len(expr.shape) > 1 else expr
            self.cost_series[term] = series * ctx.probability if ctx.probability != 1.0 else series
        self.objective.append(total)
        ctx.lm.add_cost(total)


__all__ = [
    "CARRIERS",
    "INF",
    "Carrier",
    "Account",
    "Capacity",
    "CapacityExpr",
    "ChosenCapacity",
    "Component",
    "Context",
    "Cut",
    "Efficiency",
    "FamilyBuilder",
    "Fraction",
    "HEADROOM",
    "Headroom",
    "Limit",
    "Name",
    "NonNeg",
    "Output",
    "Positive",
    "Profile",
    "Range",
    "Recorded",
    "ScenarioField",
    "Section",
    "Totals",
    "Violation",
    "capacity_cost",
    "check_capacities",
    "capacity_outputs",
    "hold_capacity",
    "StateField",
]
