"""The grid side of the Chinese bill: network charge, demand charge, capacity charge.

Math: ``docs/math/network.md``. Component ``bill`` (a policy: reads the ledgers only, the
``metered`` carrier: the MW the sites draw through the public-grid meter — grid purchases,
corridor and contract deliveries).

* **Network charge** ``nodes[].network_charge`` (CNY/MWh; a number, a series or a
  time-of-use table): transmission and distribution, system-operation charges, government
  funds and line-loss cost, on every metered MWh of the node's sites. Cost term ``network``.
* **Demand charge** ``nodes[].demand_charge`` with ``kind: demand`` (基本电费 by maximum
  demand, CNY/kW·month): the maximum metered MW per billing month (calendar month of the
  horizon's timestamps) at a node meter (the node's sites together) or per site meter,
  above the month's peak so far (``peak_to_date_mw``, first month only). Variable ``d_peak``
  (meter, bill_month), rows ``demand_peak``; cost term ``demand`` = rate x 1000 x the rise
  of the peak.
* **Capacity charge** ``kind: capacity`` (基本电费 by contracted capacity, CNY/kVA·month):
  rate x ``capacity_kva`` x the horizon's share of each calendar month, a fixed cost term
  ``capacity``; with ``power_factor`` the metered draw is capped at ``capacity_kva`` x
  ``power_factor`` / 1000 MW (rows ``capacity_max``).
* **Network charge in parts** ``network_charge: {td, system_operation, funds,
  line_loss_rate}``: cost terms ``network_td``, ``network_system_operation``,
  ``network_funds`` and ``network_line_loss`` (line_loss_rate x the node's tariff per MWh).
* **Connections** ``nodes[].connections`` (发改价格〔2025〕1192号): a site billed on capacity
  (``capacity_1192``) owes ``td_rate`` x ``load_factor`` x 730 h x ``capacity_mw`` a month
  (cost term ``connection_td``, pro rata) and no T&D on its grid draw; rows
  ``connection_max`` cap the draw at ``capacity_mw``; the direct project's energy used on
  site owes the parts in ``self_use`` (terms ``self_use_<part>``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import Field, model_validator

from ..checks import Rows, node_series, period_weight
from ..component import (
    Account,
    Component,
    Context,
    FamilyBuilder,
    Fraction,
    Name,
    NonNeg,
    Output,
    StateField,
)
from ..component import Section as _Model
from ..errors import Problem
from ..linear import Expr, Var

if TYPE_CHECKING:
    from ..errors import Problem
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs


#: a value per calendar month: a number (every month) or {month 1-12: value}, with an optional
#: ``default`` for the months not named (without it every month 1-12 must be named)
Monthly = NonNeg | dict[int | Literal["default"], NonNeg]
#: a billing month, ``YYYY-MM``
MonthLabel = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]


def _check_monthly(value, key: str) -> None:
    """A per-month mapping names months 1-12 (or ``default``) and covers every month."""
    if not isinstance(value, dict):
        return
    bad = [m for m in value if m != "default" and not 1 <= int(m) <= 12]
    if bad:
        raise ValueError(f"demand_charge.{key}: months are 1-12 (or 'default'), got {bad}")
    missing = [m for m in range(1, 13) if m not in value]
    if missing and "default" not in value:
        raise ValueError(
            f"demand_charge.{key}: months {missing} are not named; name all 12 or give a 'default'"
        )


def monthly(value, month: int) -> float:
    """The value of a :data:`Monthly` field in calendar month ``month`` (1-12)."""
    if isinstance(value, dict):
        return float(value[month] if month in value else value["default"])
    return float(value)


class Ratchet(_Model):
    """Ratchet: the billed demand of a month is at least a share of earlier months' peaks."""

    share: Fraction = Field(
        description="billed demand >= share x the highest peak of the ratchet months (e.g. 0.75)"
    )
    months: list[Annotated[int, Field(ge=1, le=12)]] | None = Field(
        None,
        description="only these calendar months count (e.g. [6, 7, 8, 9]: the summer peaks); "
        "none: every month",
    )
    previous_months: int = Field(
        11,
        ge=1,
        le=36,
        description="how many months before the billed one are looked at (11: the year before)",
    )


class DemandCharge(_Model):
    """Two-part tariff (基本电费) of a node: demand charge, capacity charge or the cheaper."""

    kind: Literal["demand", "capacity", "choose"] = Field(
        description="'demand': rate per kW of the billed demand per billing month; "
        "'capacity': rate per kVA of contracted (transformer) capacity, a fixed cost; "
        "'choose': per meter and month the cheaper of demand billing (rate) and capacity "
        "billing (capacity_rate x capacity_kva)"
    )
    rate: Monthly = Field(
        description="CNY/kW·month on the billed demand (demand, choose) or CNY/kVA·month on "
        "capacity_kva (capacity); a number or {month 1-12: rate} (with 'default' for the months "
        "not named; without it all 12 must be named)"
    )
    meter: Literal["node", "site"] = Field(
        "node",
        description="'node': one meter for the node's sites together (their metered MW "
        "summed); 'site': one meter per site of the node",
    )
    peak_to_date_mw: NonNeg | dict[Name, NonNeg] = Field(
        0.0,
        description="demand, choose: the first billing month's maximum demand so far (MW, "
        "carried in: only raising it costs); a number (the node meter, or every site meter) or "
        "{site: MW} for site meters (sites not named: 0)",
    )
    peak_history_mw: dict[MonthLabel, NonNeg | dict[Name, NonNeg]] = Field(
        default_factory=dict,
        description="demand, choose: maximum demand of months before the horizon, "
        "{'YYYY-MM': MW} (or {'YYYY-MM': {site: MW}} for site meters), read by the ratchet",
    )
    capacity_kva: NonNeg | dict[Name, NonNeg] | None = Field(
        None,
        description="contracted (transformer) capacity, kVA; a number (the node meter, or every "
        "site meter) or {site: kVA} for site meters. Needed by capacity, choose and floor_share",
    )
    power_factor: Fraction | None = Field(
        None,
        description="capacity: cap the metered MW at capacity_kva x power_factor / 1000 in "
        "every period; none by default (no cap)",
    )
    floor_share: Fraction | None = Field(
        None,
        description="demand, choose: billed demand >= floor_share x capacity_kva / 1000 MW "
        "(commonly 0.4: 40 % of the transformer capacity); with declared_mw it raises the "
        "declared value",
    )
    ratchet: Ratchet | None = Field(
        None, description="demand, choose: billed demand >= share x earlier months' peaks"
    )
    declared_mw: Monthly | Literal["chosen"] | None = Field(
        None,
        description="demand, choose: declared demand (合同最大需量), MW per meter, a number or "
        "per month: billed at it; the peak above (1 + declared_margin) x it is billed at "
        "excess_factor x the rate; 'chosen' (kind demand): the model declares each month's "
        "value (d_declared, at least the floor)",
    )
    declared_margin: NonNeg = Field(
        0.05, description="declared_mw: tolerance above the declared demand (0.05: 105 %)"
    )
    excess_factor: NonNeg = Field(
        2.0, description="declared_mw: rate multiplier on the peak above the tolerance (2: double)"
    )
    capacity_rate: Monthly | None = Field(
        None,
        description="choose: CNY/kVA·month of capacity billing (a number or per month)",
    )
    max_demand_mw: NonNeg | None = Field(
        None,
        description="choose: the largest MW the meter may draw (caps the peak; the big-M of "
        "the choice); default capacity_kva / 1000 (real power <= the kVA rating)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> DemandCharge:
        _check_monthly(self.rate, "rate")
        _check_monthly(self.declared_mw, "declared_mw")
        if self.declared_mw == "chosen" and self.kind != "demand":
            raise ValueError(
                f"demand_charge: declared_mw 'chosen' applies to kind 'demand' only (kind is "
                f"{self.kind!r}); state the declared MW or set kind: demand"
            )
        _check_monthly(self.capacity_rate, "capacity_rate")
        demand_only = (
            "peak_history_mw",
            "floor_share",
            "ratchet",
            "declared_mw",
        )
        if self.kind == "capacity":
            if self.capacity_kva is None:
                raise ValueError(
                    "demand_charge: kind 'capacity' needs capacity_kva (contracted kVA)"
                )
            if isinstance(self.peak_to_date_mw, dict) or self.peak_to_date_mw:
                raise ValueError(
                    "demand_charge: peak_to_date_mw applies to kind 'demand' only; remove it"
                )
            for key in demand_only:
                if getattr(self, key):
                    raise ValueError(
                        f"demand_charge: {key} applies to kinds 'demand' and 'choose' only"
                    )
        else:
            if self.power_factor is not None:
                raise ValueError(
                    "demand_charge: power_factor applies to kind 'capacity' only; remove it or "
                    "set kind: capacity"
                )
            needs_kva = self.kind == "choose" or self.floor_share is not None
            if self.capacity_kva is not None and not needs_kva:
                raise ValueError(
                    "demand_charge: capacity_kva applies to kinds 'capacity', 'choose' and to "
                    "floor_share only; remove it or set kind: capacity"
                )
            if needs_kva and self.capacity_kva is None:
                what = "kind 'choose'" if self.kind == "choose" else "floor_share"
                raise ValueError(f"demand_charge: {what} needs capacity_kva (contracted kVA)")
        if self.kind == "choose":
            if self.capacity_rate is None:
                raise ValueError("demand_charge: kind 'choose' needs capacity_rate (CNY/kVA·month)")
        else:
            for key in ("capacity_rate", "max_demand_mw"):
                if getattr(self, key) is not None:
                    raise ValueError(f"demand_charge: {key} applies to kind 'choose' only")
        for key in ("peak_to_date_mw", "capacity_kva"):
            if isinstance(getattr(self, key), dict) and self.meter != "site":
                raise ValueError(
                    f"demand_charge: {key} per site needs meter: site (a node meter takes "
                    "one number)"
                )
        for month, value in self.peak_history_mw.items():
            if isinstance(value, dict) and self.meter != "site":
                raise ValueError(
                    f"demand_charge: peak_history_mw[{month}] per site needs meter: site"
                )
        return self


#: the parts of a network charge given in parts (``NetworkCharge``), in the Dataset's order
PARTS = ("td", "system_operation", "funds", "line_loss")
#: what a direct project's energy used on site may owe (``Connection.self_use`` and
#: ``cross_subsidy``), in the Dataset's order
SELF_USE = ("system_operation", "funds", "cross_subsidy")
#: a part of the node's network charge a direct project's self-used energy may owe
SelfUsePart = Literal["system_operation", "funds"]
#: hours per month of the 1192号 formula (730 = 8,760 / 12)
HOURS_PER_MONTH = 730.0


def _funds_only() -> list[SelfUsePart]:
    """The default ``self_use``: funds only."""
    return ["funds"]


class Connection(_Model):
    """A site's connection to the public grid: how its T&D is billed (发改价格〔2025〕1192号).

    ``capacity_1192``: the T&D of a 就近消纳 (绿电直连) project on its connection capacity. The
    month owes the node's demand or capacity charge as it stands (``demand_charge``) plus
    ``td_rate`` x ``load_factor`` x 730 h x ``capacity_mw`` (cost term ``connection_td``, pro
    rata over the horizon); its grid draw no longer pays the T&D energy rate, and still pays
    system operation, funds and line loss. ``two_part``: the project keeps the two-part T&D
    (energy rate on every metered MWh plus the demand or capacity charge). In both, the
    project's energy used on site owes the parts named in ``self_use`` and ``cross_subsidy``.
    """

    site: Name = Field(description="the site (of this node) whose connection this is")
    billing: Literal["capacity_1192", "two_part"] = Field(
        description="'capacity_1192': T&D on the connection capacity (1192号); 'two_part': "
        "the two-part T&D on the metered energy (the option 1192号 leaves a project)"
    )
    capacity_mw: NonNeg | None = Field(
        None,
        description="接入公共电网容量, MW: the receiving transformers in simultaneous use plus "
        "the HV motors not behind a transformer (kVA read as kW); needed by capacity_1192",
    )
    load_factor: Fraction | None = Field(
        None,
        description="capacity_1192: the average load factor of the province's >= 110 kV "
        "工商业 two-part users, as the province publishes it (e.g. Xinjiang 0.4843)",
    )
    td_rate: NonNeg | None = Field(
        None,
        description="capacity_1192: the T&D energy rate of the connection's voltage level, "
        "CNY/MWh; default: the node's network_charge.td (a number)",
    )
    limit: bool = Field(
        True,
        description="cap the site's metered draw at capacity_mw in every period (row "
        "connection_max); with capacity_mw only",
    )
    self_use: list[SelfUsePart] = Field(
        default_factory=_funds_only,
        description="parts of the node's network charge also owed on the energy of the "
        "site's direct (绿电直连) project used on site; default `[funds]` (1192号: system "
        "operation on grid draw only, cross-subsidy waived for now)",
    )
    cross_subsidy: NonNeg = Field(
        0.0,
        description="policy cross-subsidy (政策性交叉补贴), CNY/MWh of the direct project's "
        "energy used on site; 0 by default (waived for now by 1192号)",
    )

    @model_validator(mode="after")
    def _mode_fields(self) -> Connection:
        if self.billing == "capacity_1192":
            for key, what in (
                ("capacity_mw", "the connection capacity (接入公共电网容量), MW"),
                ("load_factor", "the province's average load factor of >= 110 kV users, 0..1"),
            ):
                if getattr(self, key) is None:
                    raise ValueError(
                        f"connections[{self.site}]: billing 'capacity_1192' needs {key} ({what})"
                    )
        else:
            for key in ("load_factor", "td_rate"):
                if getattr(self, key) is not None:
                    raise ValueError(
                        f"connections[{self.site}].{key}={getattr(self, key):g} applies to "
                        "billing 'capacity_1192' only; remove it or set billing: capacity_1192"
                    )
        if len(set(self.self_use)) != len(self.self_use):
            raise ValueError(f"connections[{self.site}].self_use names a part twice")
        return self


def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Scenario checks of the node charges: per-site entries name sites of the node."""
    c = sc.config
    problems: list[Problem] = []
    site_names = {s.name for s in c.sites}
    for i, n in enumerate(c.nodes):
        d = n.demand_charge
        if d is None:
            continue
        at_node = [s.name for s in c.sites if s.node == n.name]
        if d.meter == "node" and n.name in site_names:
            problems.append(
                Problem(
                    f"nodes[{i}].demand_charge.meter",
                    repr(n.name),
                    "a node meter is named after its node, and a site has that name too; "
                    "rename one of them",
                )
            )
        per_site = [(key, getattr(d, key)) for key in ("peak_to_date_mw", "capacity_kva")]
        per_site += [(f"peak_history_mw.{m}", v) for m, v in d.peak_history_mw.items()]
        for key, value in per_site:
            for s in value if isinstance(value, dict) else ():
                if s not in at_node:
                    problems.append(
                        Problem(
                            f"nodes[{i}].demand_charge.{key}.{s}",
                            repr(s),
                            f"not a site of node '{n.name}'; its sites: "
                            f"{', '.join(at_node) or '(none)'}",
                        )
                    )
    return problems + _validate_connections(sc)


def _validate_connections(sc: Scenario) -> list[Problem]:
    """``nodes[].connections``: sites of the node, once each; what capacity_1192 needs.

    capacity_1192 needs the node's network charge in parts (the T&D the grid draw no longer
    pays must be known) and a T&D rate of one number; its capacity must hold the month's
    peak so far; a direct asset's ``connection_charge`` at the site would charge T&D twice;
    ``self_use`` needs the parts too.
    """
    c = sc.config
    problems: list[Problem] = []
    stated: dict[str, str] = {}
    for i, n in enumerate(c.nodes):
        at_node = [s.name for s in c.sites if s.node == n.name]
        split = _is_split(n.network_charge)
        for j, k in enumerate(n.connections):
            where = f"nodes[{i}].connections[{j}]"
            if k.site not in at_node:
                problems.append(
                    Problem(
                        f"{where}.site",
                        repr(k.site),
                        f"not a site of node '{n.name}'; its sites: "
                        f"{', '.join(at_node) or '(none)'}",
                    )
                )
                continue
            if k.site in stated:
                problems.append(
                    Problem(
                        f"{where}.site",
                        repr(k.site),
                        f"has a connection already ({stated[k.site]}); state one per site",
                    )
                )
            stated[k.site] = where
            capacity = k.billing == "capacity_1192"
            if (capacity or k.self_use) and not split:
                why = (
                    "bills T&D on capacity (capacity_1192): the T&D its grid draw no longer "
                    "pays must be known"
                    if capacity
                    else f"charges the parts {k.self_use} on self-used energy"
                )
                value = n.network_charge
                problems.append(
                    Problem(
                        f"nodes[{i}].network_charge",
                        repr(value)[:60] if not isinstance(value, (int, float)) else f"{value:g}",
                        f"{where} (site '{k.site}') {why}; give network_charge in parts "
                        "{td, system_operation, funds, line_loss_rate}"
                        + ("" if capacity else ", or set self_use: []"),
                    )
                )
            if capacity and k.td_rate is None and split and _td_number(n.network_charge) is None:
                problems.append(
                    Problem(
                        f"{where}.td_rate",
                        "missing",
                        "the node's network_charge.td is a series or a time-of-use table and "
                        "the 1192号 formula takes one T&D energy rate; give td_rate (CNY/MWh)",
                    )
                )
            d = n.demand_charge
            if k.limit and k.capacity_mw is not None and d is not None and d.meter == "site":
                peak = _per_meter(d.peak_to_date_mw, [k.site])
                if peak > k.capacity_mw:
                    problems.append(
                        Problem(
                            f"{where}.capacity_mw",
                            f"{k.capacity_mw:g}",
                            f"below the month's peak so far at site '{k.site}' ({peak:g} MW, "
                            f"nodes[{i}].demand_charge.peak_to_date_mw): the connection "
                            f"carried it; raise capacity_mw to >= {peak:g} or set limit: false",
                        )
                    )
            if not capacity:
                continue
            for r, asset in enumerate(c.renewables):
                if asset.site == k.site and asset.connection_charge > 0:
                    problems.append(
                        Problem(
                            f"renewables[{r}].connection_charge",
                            f"{asset.connection_charge:g}",
                            f"site '{k.site}' pays its T&D on capacity ({where}, billing "
                            "capacity_1192, cost term connection_td): a connection_charge "
                            "counts it twice; set it to 0",
                        )
                    )
    return problems


def billing_months(time: pd.DatetimeIndex) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Billing months of the horizon (calendar months of the period starts).

    Returns
    -------
    labels : list of str
        ``'YYYY-MM'`` per billing month, in order.
    month_of : numpy.ndarray
        Billing month (position in ``labels``) of each period, shape (T,).
    days : numpy.ndarray
        Days of each calendar month (for the pro-rata share of a capacity charge).
    """
    months = pd.DatetimeIndex(time).to_period("M")
    uniq = months.unique()
    month_of = pd.Index(uniq).get_indexer(months)
    return [str(m) for m in uniq], month_of, np.array([m.days_in_month for m in uniq], float)


def _absolute(label: str) -> int:
    """Months since year 0 of a ``'YYYY-MM'`` label (consecutive months differ by 1)."""
    year, month = label.split("-")
    return int(year) * 12 + int(month) - 1


def _ratchet_months(r: Ratchet, label: str) -> list[int]:
    """Absolute months whose peak the ratchet of billing month ``label`` reads."""
    a = _absolute(label)
    return [
        b for b in range(a - r.previous_months, a) if r.months is None or b % 12 + 1 in r.months
    ]


def _per_meter(value, members: list[str]) -> float:
    """A number, or the sum of a {site: value} mapping over the meter's sites (one site)."""
    if isinstance(value, dict):
        return float(sum(value.get(s, 0.0) for s in members))
    return float(value or 0.0)


def _month_start(time: pd.DatetimeIndex) -> bool:
    """Whether the horizon starts at the first instant of its first billing month."""
    first = pd.Timestamp(time[0])
    return bool(first == first.to_period("M").start_time)


class Tariff:
    """The billing rules of every meter and billing month, as arrays.

    From a scenario or a result Dataset; :meth:`bill` gives the month's 基本电费 of given
    monthly peaks.

    Arrays are (meter, bill_month) unless noted; NaN where a rule does not apply.

    Attributes
    ----------
    kind : numpy.ndarray
        (meter,) ``demand``, ``capacity`` or ``choose``.
    rate : numpy.ndarray
        CNY/kW·month (demand, choose) or CNY/kVA·month (capacity).
    kva : numpy.ndarray
        (meter,) contracted kVA (NaN: none).
    floor : numpy.ndarray
        MW the billed demand may not go below (floor, declared value, ratchet on months before
        the horizon); NaN for meters billed on the peak alone.
    excess_start : numpy.ndarray
        MW above which the peak is billed at ``excess_factor`` x the rate: (1 + margin) x the
        declared value (NaN: no declared demand).
    excess_factor : numpy.ndarray
        (meter,) multiplier of the rate above ``excess_start``.
    ratchet : numpy.ndarray
        (meter, bill_month, ratchet_month) share of month k' 's peak the billed demand of
        month k must reach (NaN: k' not a ratchet month of k).
    capacity_rate : numpy.ndarray
        CNY/kVA·month of capacity billing (choose meters; NaN elsewhere).
    """

    def __init__(self, kind, rate, kva, floor, excess_start, excess_factor, ratchet, cap_rate):
        self.kind = np.asarray(kind).astype(str)
        self.rate = np.asarray(rate, float)
        self.kva = np.asarray(kva, float)
        self.floor = np.asarray(floor, float)
        self.excess_start = np.asarray(excess_start, float)
        self.excess_factor = np.asarray(excess_factor, float)
        self.ratchet = np.asarray(ratchet, float)
        self.capacity_rate = np.asarray(cap_rate, float)

    @property
    def demand(self) -> np.ndarray:
        """(meter,) meters billed on demand (kinds demand and choose)."""
        return self.kind != "capacity"

    @property
    def ruled(self) -> np.ndarray:
        """(meter,) demand meters with a billed demand of its own (floor, ratchet, declared)."""
        return self.demand & ~np.isnan(self.floor).all(axis=1)

    @property
    def declared(self) -> np.ndarray:
        """(meter, bill_month) cells with a declared demand."""
        return ~np.isnan(self.excess_start)

    @classmethod
    def from_ds(cls, ds: xr.Dataset) -> Tariff:
        """The rules stored in a result Dataset (inputs absent: rules not used)."""
        M, K = ds.sizes.get("meter", 0), ds.sizes.get("bill_month", 0)
        nan = np.full((M, K), np.nan)

        def get(name, default):
            return ds[name].values if name in ds else default

        floor, excess_start = get("billed_floor", nan), get("excess_start", nan)
        if "d_declared" in ds:  # declared by the model: the floor and the excess follow it
            declared = ds["d_declared"].values
            margin = (1.0 + ds["declared_margin"].values)[:, None]
            chosen = np.broadcast_to(~np.isnan(margin), declared.shape)
            floor = np.where(chosen, np.fmax(floor, declared), floor)
            excess_start = np.where(chosen, margin * declared, excess_start)
        return cls(
            ds["meter_kind"].values,
            ds["meter_rate"].values,
            ds["capacity_kva"].values,
            floor,
            excess_start,
            get("excess_factor", np.full(M, np.nan)),
            get("ratchet_share", np.full((M, K, K), np.nan)),
            get("capacity_rate", nan),
        )

    def billed(self, peak: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Billed demand and the excess above the declared tolerance, MW, for monthly peaks.

        ``peak`` (meter, bill_month), MW; NaN: month not reached (no ratchet from it).
        """
        ruled = self.ruled[:, None]
        declared = self.declared
        b = np.where(declared, 0.0, peak)
        reached = np.nan_to_num(peak)
        ratchet = np.nanmax(
            np.where(np.isnan(self.ratchet), 0.0, self.ratchet * reached[:, None, :]),
            axis=2,
            initial=0.0,
        )
        b = np.where(ruled, np.fmax(np.fmax(b, self.floor), ratchet), b)
        excess = np.where(declared, np.maximum(reached - np.nan_to_num(self.excess_start), 0), 0)
        return b, excess

    def bill(self, peak: np.ndarray) -> np.ndarray:
        """The month's 基本电费 of each demand meter, CNY (NaN for capacity meters)."""
        b, excess = self.billed(peak)
        factor = np.nan_to_num(self.excess_factor)[:, None]
        by_demand = 1000.0 * self.rate * (b + factor * excess)
        by_capacity = self.capacity_rate * np.nan_to_num(self.kva)[:, None]
        choose = (self.kind == "choose")[:, None]
        out = np.where(choose, np.fmin(by_demand, by_capacity), by_demand)
        return np.where(self.demand[:, None], out, np.nan)


def _meters(c, time: pd.DatetimeIndex, sites: list[str]):
    """Meters of the charged nodes and their rules per billing month.

    Returns
    -------
    names : list of str
    meter_of_site : numpy.ndarray
        (site,) meter of each site (-1: none).
    tariff : Tariff
    extra : dict
        ``p2d`` (meter,) peak to date, MW; ``pf`` (meter,) power factor; ``peak_max``
        (meter,) MW; ``history`` list of {'YYYY-MM': MW} per meter; ``lookback`` (meter,)
        ratchet months looked back (0: no ratchet).
    """
    labels, _, _ = billing_months(time)
    K = len(labels)
    first = _absolute(labels[0]) if K else 0
    names: list[str] = []
    kind: list[str] = []
    rows: dict[str, list[Any]] = {
        k: []
        for k in (
            "rate",
            "p2d",
            "kva",
            "pf",
            "floor",
            "excess",
            "factor",
            "ratchet",
            "cap_rate",
            "peak_max",
            "history",
            "lookback",
            "chosen",
            "margin",
        )
    }
    meter_of_site = np.full(len(sites), -1, dtype=np.int64)
    months = [int(lab[5:]) for lab in labels]
    for n in c.nodes:
        d = n.demand_charge
        if d is None:
            continue
        at_node = [s.name for s in c.sites if s.node == n.name]
        groups = [(n.name, at_node)] if d.meter == "node" else [(s, [s]) for s in at_node]
        for label, members in groups:
            for s in members:
                meter_of_site[sites.index(s)] = len(names)
            names.append(label)
            kind.append(d.kind)
            kva = np.nan if d.capacity_kva is None else _per_meter(d.capacity_kva, members)
            rows["rate"].append([monthly(d.rate, m) for m in months])
            rows["p2d"].append(_per_meter(d.peak_to_date_mw, members))
            rows["kva"].append(kva)
            rows["pf"].append(np.nan if d.power_factor is None else d.power_factor)
            history = {
                m: _per_meter(v, members)
                for m, v in d.peak_history_mw.items()
                if _absolute(m) < first
            }
            rows["history"].append(history)
            rules = (d.floor_share, d.ratchet, d.declared_mw)
            ruled = d.kind != "capacity" and any(r is not None for r in rules)
            floor_mw = (d.floor_share or 0.0) * np.nan_to_num(kva) / 1000.0
            floor = np.full(K, np.nan)
            excess = np.full(K, np.nan)
            ratchet = np.full((K, K), np.nan)
            for k, lab in enumerate(labels):
                if not ruled:
                    break
                floor[k] = floor_mw
                if d.declared_mw == "chosen":  # d_declared >= the floor; rows in the build
                    floor[k] = floor_mw
                    excess[k] = (1.0 + d.declared_margin) * floor_mw
                elif d.declared_mw is not None:
                    declared = max(monthly(d.declared_mw, months[k]), floor_mw)
                    floor[k] = declared
                    excess[k] = (1.0 + d.declared_margin) * declared
                if d.ratchet is not None:
                    looked = _ratchet_months(d.ratchet, lab)
                    past = [history.get(f"{b // 12:04d}-{b % 12 + 1:02d}", 0.0) for b in looked]
                    floor[k] = max(floor[k], d.ratchet.share * max(past, default=0.0))
                    for b in looked:
                        if b >= first:
                            ratchet[k, b - first] = d.ratchet.share
            rows["floor"].append(floor)
            rows["excess"].append(excess)
            rows["factor"].append(d.excess_factor if d.declared_mw is not None else np.nan)
            rows["chosen"].append(d.declared_mw == "chosen")
            rows["margin"].append(d.declared_margin if d.declared_mw == "chosen" else np.nan)
            rows["ratchet"].append(ratchet)
            rows["cap_rate"].append(
                [monthly(d.capacity_rate, m) for m in months]
                if d.capacity_rate is not None
                else [np.nan] * K
            )
            if d.kind == "choose":
                big = d.max_demand_mw if d.max_demand_mw is not None else kva / 1000.0
            else:
                big = np.inf if d.kind == "demand" else np.nan
            rows["peak_max"].append(big)
            rows["lookback"].append(d.ratchet.previous_months if d.ratchet else 0)
    M = len(names)

    def arr(key, shape):
        return np.array(rows[key], float).reshape(shape)

    tariff = Tariff(
        np.array(kind, dtype=object),
        arr("rate", (M, K)),
        arr("kva", (M,)),
        arr("floor", (M, K)),
        arr("excess", (M, K)),
        arr("factor", (M,)),
        arr("ratchet", (M, K, K)),
        arr("cap_rate", (M, K)),
    )
    extra = {
        "p2d": arr("p2d", (M,)),
        "pf": arr("pf", (M,)),
        "peak_max": arr("peak_max", (M,)),
        "history": rows["history"],
        "lookback": np.array(rows["lookback"], dtype=np.int64).reshape(M),
        "chosen": np.array(rows["chosen"], dtype=bool).reshape(M),
        "margin": arr("margin", (M,)),
    }
    return names, meter_of_site, tariff, extra


def _to_date(tariff: Tariff, peak_to_date: np.ndarray, under_way: np.ndarray) -> np.ndarray:
    """The month's 基本电费 already owed when the horizon starts (CNY; first month only).

    In the first billing month of a meter whose month is under way (the horizon does not start
    at the month's first instant, or a peak so far is given): the bill of the peak so far
    with every rule; 0 in later months and in a month the horizon starts.
    """
    M, K = tariff.rate.shape
    out = np.where(tariff.demand[:, None], 0.0, np.nan) * np.ones((M, K))
    if K:
        peak = np.full((M, K), np.nan)
        peak[:, 0] = peak_to_date
        owed = tariff.bill(peak)[:, 0]
        out[:, 0] = np.where(tariff.demand & under_way, owed, out[:, 0])
    return out


def _is_split(charge) -> bool:
    """Whether a node's ``network_charge`` is given in parts (a ``NetworkCharge``)."""
    return hasattr(charge, "line_loss_rate")


def network_parts(sc) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every node's network charge per period, all-in and in its parts.

    Returns
    -------
    charge : numpy.ndarray
        (node, time) CNY/MWh: the all-in figure, or the sum of the parts.
    part : numpy.ndarray
        (node, part, time) CNY/MWh in the order of :data:`PARTS` (the line loss: the rate x
        the node's ``tariff``); NaN for a node given all-in.
    split : numpy.ndarray
        (node,) bool: given in parts.
    loss_rate : numpy.ndarray
        (node,) ``line_loss_rate`` (NaN: given all-in).
    """
    nodes = sc.config.nodes
    N, T = len(nodes), sc.periods
    part = np.full((N, len(PARTS), T), np.nan)
    split = np.array([_is_split(n.network_charge) for n in nodes], dtype=bool)
    loss_rate = np.full(N, np.nan)
    charge = np.zeros((N, T))
    for i, n in enumerate(nodes):
        nc = n.network_charge
        if not _is_split(nc):
            charge[i] = sc.profile(nc)
            continue
        loss_rate[i] = nc.line_loss_rate
        part[i, 0] = sc.profile(nc.td)
        part[i, 1] = sc.profile(nc.system_operation)
        part[i, 2] = sc.profile(nc.funds)
        part[i, 3] = nc.line_loss_rate * sc.profile(n.tariff)
        charge[i] = part[i].sum(axis=0)
    return charge, part, split, loss_rate


def _td_number(charge) -> float | None:
    """The T&D energy rate of a node given in parts when it is one number (else None)."""
    td = getattr(charge, "td", None)
    return float(td) if isinstance(td, (int, float)) and not isinstance(td, bool) else None


def connections(sc, part: np.ndarray) -> dict[str, np.ndarray]:
    """The sites' connections (``nodes[].connections``) as arrays over the sites.

    Returns
    -------
    dict
        ``billing`` (site,) object (``'none'``: none stated); ``capacity``, ``load_factor``,
        ``td_rate`` (site,) (NaN: not given; ``td_rate`` resolved to the node's ``td`` for
        capacity_1192); ``limit`` (site,) bool; ``self_use`` (site, self_use_part, time)
        CNY/MWh of direct energy used on site (NaN: not owed; only at sites with a direct
        renewable asset).
    """
    c = sc.config
    sites = [s.name for s in c.sites]
    S, T = len(sites), sc.periods
    out: dict[str, np.ndarray] = {
        "billing": np.full(S, "none", dtype=object),
        "capacity": np.full(S, np.nan),
        "load_factor": np.full(S, np.nan),
        "td_rate": np.full(S, np.nan),
        "limit": np.zeros(S, dtype=bool),
        "self_use": np.full((S, len(SELF_USE), T), np.nan),
    }
    direct = {r.site for r in c.renewables if r.direct}
    for i, n in enumerate(c.nodes):
        for k in n.connections:
            s = sites.index(k.site)
            out["billing"][s] = k.billing
            if k.capacity_mw is not None:
                out["capacity"][s] = k.capacity_mw
                out["limit"][s] = k.limit
            if k.billing == "capacity_1192":
                out["load_factor"][s] = k.load_factor
                rate = k.td_rate if k.td_rate is not None else _td_number(n.network_charge)
                out["td_rate"][s] = np.nan if rate is None else rate
            if k.site not in direct:
                continue
            for name in k.self_use:
                out["self_use"][s, SELF_USE.index(name)] = part[i, PARTS.index(name)]
            if k.cross_subsidy > 0:
                out["self_use"][s, SELF_USE.index("cross_subsidy")] = k.cross_subsidy
    return out


def site_charges(sc) -> tuple[np.ndarray, np.ndarray]:
    """Per-MWh charges of each site's connection, (site, time) CNY/MWh.

    Returns
    -------
    draw : numpy.ndarray
        What a MWh the site draws through its meter owes on top of the energy price: the
        node's network charge (all-in, or the sum of its parts), without the T&D energy
        rate where the site's connection is billed on capacity (1192号).
    self_use : numpy.ndarray
        What a MWh of the site's direct (绿电直连) project used on site owes: the parts named
        in its connection's ``self_use`` plus ``cross_subsidy`` (0 without a connection).
    """
    charge, part, _split, _loss = network_parts(sc)
    c = sc.config
    node_pos = {n.name: i for i, n in enumerate(c.nodes)}
    site_node = np.array([node_pos[s.node] for s in c.sites], dtype=np.int64)
    conn = connections(sc, part)
    draw = charge[site_node].copy()
    on_capacity = conn["billing"] == "capacity_1192"
    td = np.nan_to_num(part[site_node, PARTS.index("td")])
    draw[on_capacity] -= td[on_capacity]
    self_use = np.nansum(conn["self_use"], axis=1)
    return draw, self_use


def td_per_month(billing, capacity, load_factor, td_rate) -> np.ndarray:
    """The 1192号 capacity T&D of each site per month, CNY: rate x load factor x 730 x MW.

    0 where the site is not billed on capacity.
    """
    on = np.asarray(billing) == "capacity_1192"
    month = np.asarray(td_rate) * np.asarray(load_factor) * HOURS_PER_MONTH * np.asarray(capacity)
    return np.where(on, np.nan_to_num(month), 0.0)


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    c = sc.config
    T, _S, dt = ctx.T, ctx.S, ctx.dt
    charge, part, split, loss_rate = network_parts(sc)
    charged = [n for n in c.nodes if n.demand_charge is not None]
    linked = any(n.connections for n in c.nodes)
    if not charge.any() and not charged and not linked:
        return
    led = ctx.ledger
    metered = fb.expression("p_metered", led.flow("metered"))
    fb.input("network_charge", charge)
    node_pos = {n.name: i for i, n in enumerate(c.nodes)}
    site_node = np.array([node_pos[s.node] for s in c.sites], dtype=np.int64)
    at_split = split[site_node]
    if not split.all():
        whole = np.where(at_split[:, None], 0.0, charge[site_node])
        fb.cost("network", metered * (dt * whole), per_period=True)
    conn = connections(sc, part)
    on_capacity = conn["billing"] == "capacity_1192"
    if split.any():
        fb.coord("network_part", list(PARTS))
        fb.input("network_split", split)
        fb.input("network_charge_part", part)
        fb.input("network_line_loss_rate", loss_rate)
        for q, name in enumerate(PARTS):
            rate = np.where(at_split[:, None], part[site_node, q], 0.0)
            if name == "td":  # 1192号: the grid draw of a site billed on capacity owes no T&D
                rate = np.where(on_capacity[:, None], 0.0, rate)
            fb.cost(f"network_{name}", metered * (dt * rate), per_period=True)

    # ------------------------------------------------------------ meters and months
    time = pd.DatetimeIndex(sc.time)
    names, meter_of_site, tf, extra = _meters(c, time, list(ctx.sites))
    M = len(names)
    labels, month_of, days = billing_months(time)
    K = len(labels)
    # share of each month the horizon stands for (its periods weighted: representative days)
    weight = np.broadcast_to(ctx.w, (T,))
    share = np.bincount(month_of, weights=weight, minlength=K) * dt / (24.0 * days)
    if linked:
        _build_connections(fb, ctx, conn, metered, share)
    fb.coord("meter", names)
    fb.coord("bill_month", labels)
    demand = tf.demand
    kva_a, pf_a = tf.kva, extra["pf"]
    peak_to_date = np.zeros((M, K))
    if K:
        peak_to_date[:, 0] = extra["p2d"]
    peak_to_date[~demand] = np.nan
    member = meter_of_site[None, :] == np.arange(M)[:, None]
    fb.input("meter_kind", np.array(tf.kind, dtype=object))
    fb.input("meter_site", member)
    fb.input("meter_rate", tf.rate)
    fb.input("peak_to_date", peak_to_date)
    fb.input("capacity_kva", kva_a)
    fb.input("power_factor", pf_a)
    fb.input("bill_month_share", share)
    if not M:
        return
    drawn = metered.group(0, meter_of_site, M)  # (meter, time), MW
    ruled, declared = tf.ruled, tf.declared
    choose = tf.kind == "choose"
    ratcheted = ~np.isnan(tf.ratchet)
    under_way = (~_month_start(time)) | (extra["p2d"] > 0)
    owed = _to_date(tf, extra["p2d"], under_way)  # (M, K), CNY
    rules = bool(ruled.any() or choose.any())
    if rules:
        fb.input("billed_floor", np.where(ruled[:, None], tf.floor, np.nan))
        fb.input("billed_to_date", owed)
    if declared.any():
        # NaN where the model declares (d_declared): Tariff.from_ds restates it from that
        fb.input("excess_start", np.where(extra["chosen"][:, None], np.nan, tf.excess_start))
        fb.input("excess_factor", tf.excess_factor)
    if ratcheted.any() or any(extra["lookback"]):
        fb.coord("ratchet_month", labels)
        fb.input("ratchet_share", tf.ratchet)
    if any(extra["lookback"]):
        hist = sorted({m for h in extra["history"] for m in h})
        fb.coord("history_month", hist)
        fb.input(
            "peak_history",
            np.array([[h.get(m, np.nan) for m in hist] for h in extra["history"]]).reshape(
                M, len(hist)
            ),
        )
        fb.input("ratchet_lookback", extra["lookback"])

    # ------------------------------------------------------------ demand charge
    if demand.any():
        mask = np.repeat(demand[:, None], K, 1)
        peak_max = np.where(demand, extra["peak_max"], np.nan)
        if choose.any():
            fb.input("peak_max", peak_max)
        d_peak = fb.var(
            "d_peak",
            lb=np.nan_to_num(peak_to_date),
            ub=np.repeat(np.nan_to_num(peak_max, nan=np.inf)[:, None], K, 1),
            mask=mask,
        )
        mm, tt = np.meshgrid(np.arange(M), np.arange(T), indexing="ij")
        at_t = Expr.cells((M, T), (mm.ravel(), tt.ravel()), d_peak.cols[mm, month_of[tt]].ravel())
        fb.constrain(
            "demand_peak",
            at_t - drawn,
            ">=",
            0.0,
            mask=np.repeat(demand[:, None], T, 1),
            dual="demand_peak_price",
        )
        billed: Expr = d_peak.expr()
        rmask = np.repeat(ruled[:, None], K, 1)
        d_declared: Var | None = None
        chosen = np.zeros((M, K), bool)
        if ruled.any():
            d_billed = fb.var("d_billed", lb=np.nan_to_num(tf.floor), mask=rmask)
            fb.constrain("demand_billed", d_billed - d_peak, ">=", 0.0, mask=rmask & ~declared)
            billed = (
                Expr.cells(
                    (M, K),
                    np.flatnonzero(~rmask),
                    d_peak.cols.ravel()[~rmask.ravel()],
                )
                + d_billed.expr()
            )
            if ratcheted.any():
                jj, kk, qq = np.nonzero(ratcheted)
                lhs = Expr.cells((M, K, K), (jj, kk, qq), d_billed.cols[jj, kk]) - Expr.cells(
                    (M, K, K), (jj, kk, qq), d_peak.cols[jj, qq], tf.ratchet[jj, kk, qq]
                )
                fb.constrain("demand_ratchet", lhs, ">=", 0.0, mask=ratcheted)
            # a declared demand the model chooses (declared_mw: chosen): d_declared per month,
            # at least the floor; the billed demand reaches it, the excess starts above it
            chosen = np.repeat(extra["chosen"][:, None], K, 1) & rmask
            d_declared = fb.var("d_declared", lb=np.nan_to_num(tf.floor), mask=chosen)
            fb.input("declared_margin", extra["margin"])
            fb.constrain("demand_declared", d_billed - d_declared, ">=", 0.0, mask=chosen)
        rate_kw = 1000.0 * np.where(demand[:, None], tf.rate, 0.0)
        bill = billed * rate_kw
        if declared.any():
            d_excess = fb.var("d_excess", mask=declared)
            margin = (1.0 + np.nan_to_num(extra["margin"]))[:, None]
            excess_start = Expr.zeros((M, K)) if d_declared is None else d_declared * margin
            fb.constrain(
                "demand_excess",
                d_excess - d_peak + excess_start,
                ">=",
                -np.where(chosen, 0.0, np.nan_to_num(tf.excess_start)),
                mask=declared,
            )
            bill = bill + d_excess * (rate_kw * np.nan_to_num(tf.excess_factor)[:, None])
        if choose.any():
            cmask = np.repeat(choose[:, None], K, 1)
            by_capacity = np.nan_to_num(tf.capacity_rate * kva_a[:, None])
            # the largest demand bill: the billed demand at the largest peak (the meter's cap)
            top = np.repeat(np.where(choose, peak_max, 0.0)[:, None], K, 1)
            floor = np.nan_to_num(tf.floor)
            over = np.maximum(top - np.nan_to_num(tf.excess_start), 0.0)
            factor = np.nan_to_num(tf.excess_factor)[:, None]
            big_m = np.where(
                cmask, 1000.0 * tf.rate * (np.fmax(top, floor) + factor * over), np.nan
            )
            fb.input("capacity_rate", tf.capacity_rate)
            fb.input("basic_big_m", big_m)
            u = fb.var("u_capacity", mask=cmask)
            c_basic = fb.var("c_basic", mask=cmask)
            fb.constrain(
                "basic_by_demand",
                c_basic - bill + u * np.nan_to_num(big_m),
                ">=",
                0.0,
                mask=cmask,
            )
            fb.constrain("basic_by_capacity", c_basic - u * by_capacity, ">=", 0.0, mask=cmask)
            bill = _pick(bill, ~cmask) + c_basic.expr()
        if rules:
            raised = bill - np.nan_to_num(owed)
        else:
            raised = d_peak * rate_kw - rate_kw * np.nan_to_num(peak_to_date)  # (M, K)
        fb.cost("demand", raised, per_period=False)  # a monthly maximum: not weighted

    # ------------------------------------------------------------ capacity charge
    if (~demand).any():
        per_month = np.where(demand[:, None], 0.0, tf.rate * kva_a[:, None])
        fixed = float((per_month * share).sum())
        fb.cost("capacity", Expr.constant(fixed, ()))
        capped = ~demand & ~np.isnan(pf_a)
        if capped.any():
            limit = np.nan_to_num(kva_a * pf_a / 1000.0)
            fb.constrain(
                "capacity_max",
                drawn,
                "<=",
                np.repeat(limit[:, None], T, 1),
                mask=np.repeat(capped[:, None], T, 1),
            )


def _build_connections(fb: FamilyBuilder, ctx: Context, conn: dict, metered: Expr, share) -> None:
    """The sites' connections: capacity T&D (1192号), the connection cap, self-use charges.

    ``connection_td``: sum over sites on capacity of ``td_per_month`` x the months' shares (a
    constant); rows ``connection_max``: metered draw <= ``capacity_mw`` where limited; terms
    ``self_use_<part>``: the direct project's energy used on site x the part's rate.
    """
    T, dt = ctx.T, ctx.dt
    fb.input("connection_billing", conn["billing"])
    fb.input("connection_capacity", conn["capacity"])
    fb.input("connection_load_factor", conn["load_factor"])
    fb.input("connection_td_rate", conn["td_rate"])
    fb.input("connection_limit", conn["limit"])
    month = td_per_month(conn["billing"], conn["capacity"], conn["load_factor"], conn["td_rate"])
    if (conn["billing"] == "capacity_1192").any():
        fb.cost("connection_td", Expr.constant(float(month.sum() * share.sum()), ()))
    limited = conn["limit"]
    if limited.any():
        fb.constrain(
            "connection_max",
            metered,
            "<=",
            np.repeat(np.nan_to_num(conn["capacity"])[:, None], T, 1),
            mask=np.repeat(limited[:, None], T, 1),
            dual="connection_price",
        )
    rates = conn["self_use"]
    owed = ~np.isnan(rates[:, :, 0]) if T else np.zeros(rates.shape[:2], bool)
    if owed.any():
        direct = fb.expression("p_direct_used", ctx.ledger.flow("direct"))
        fb.coord("self_use_part", list(SELF_USE))
        fb.input("self_use_charge", rates)
        for q, name in enumerate(SELF_USE):
            if owed[:, q].any():
                rate = np.nan_to_num(rates[:, q])
                fb.cost(f"self_use_{name}", direct * (dt * rate), per_period=True)


def _pick(expr: Expr, keep: np.ndarray) -> Expr:
    """``expr`` in the cells where ``keep`` is true, 0 elsewhere (same shape)."""
    cells = keep.ravel()[expr.row]
    return Expr(expr.shape, expr.row[cells], expr.col[cells], expr.val[cells], expr.const * keep)


def _month_bill(ds: xr.Dataset) -> np.ndarray:
    """The month's 基本电费 of each demand meter from the solved Dataset (CNY; NaN capacity)."""
    tf = Tariff.from_ds(ds)
    if "c_basic" in ds:
        choose = (tf.kind == "choose")[:, None]
    else:
        choose = np.zeros((len(tf.kind), 1), bool)
    peak = ds["d_peak"].values
    billed = np.where(tf.ruled[:, None], ds["d_billed"].values, peak) if "d_billed" in ds else peak
    excess = ds["d_excess"].values if "d_excess" in ds else 0.0
    factor = np.nan_to_num(tf.excess_factor)[:, None]
    by_demand = 1000.0 * tf.rate * (billed + factor * excess)
    out = np.where(choose, ds["c_basic"].values if "c_basic" in ds else 0.0, by_demand)
    return np.where(tf.demand[:, None], out, np.nan)


def _owed_to_date(ds: xr.Dataset) -> np.ndarray:
    """``billed_to_date`` of the Dataset, or the rate x the peak to date without rules."""
    if "billed_to_date" in ds:
        return ds["billed_to_date"].values
    return 1000.0 * ds["meter_rate"].values * ds["peak_to_date"].values


def _account(ds: xr.Dataset) -> Account:
    if "p_metered" not in ds:
        return Account()
    dt = float(ds.attrs["dt_hours"])
    p = ds["p_metered"]
    w = period_weight(ds)
    cost = _network_costs(ds, p, w, dt)
    if ds.sizes.get("meter", 0):
        demand = (ds["meter_kind"] != "capacity").values
        if "d_peak" in ds:
            raised = _month_bill(ds) - _owed_to_date(ds)
            cost["demand"] = float(np.nansum(raised[demand]))
        if (~demand).any():
            per_month = (ds["meter_rate"] * ds["capacity_kva"]).values[~demand]
            cost["capacity"] = float((per_month * ds["bill_month_share"].values).sum())
    cost.update(_connection_costs(ds))
    return Account(cost=cost, energy={"metered": float((p * w).sum() * dt)})


def _site_of_node(ds: xr.Dataset, name: str) -> xr.DataArray:
    """A node input mapped to each site (the node dimension replaced by site)."""
    return ds[name].sel(node=ds["site_node"]).drop_vars("node")


def _network_costs(ds: xr.Dataset, p: xr.DataArray, w, dt: float) -> dict[str, float]:
    """``network`` (nodes given all-in) and ``network_<part>`` (nodes given in parts), CNY.

    The T&D part is not owed on the draw of a site billed on capacity
    (``connection_billing`` capacity_1192).
    """
    if "network_split" not in ds:
        return {"network": float((node_series(ds, "network_charge") * p * w).sum() * dt)}
    split = _site_of_node(ds, "network_split").astype(bool)  # (site,)
    cost: dict[str, float] = {}
    if not bool(split.all()):
        whole = node_series(ds, "network_charge").where(~split, 0.0)
        cost["network"] = float((whole * p * w).sum() * dt)
    part = _site_of_node(ds, "network_charge_part").fillna(0.0)  # (site, network_part, time)
    on_capacity = _on_capacity(ds)
    for name in PARTS:
        rate = part.sel(network_part=name, drop=True)
        if name == "td":
            rate = rate.where(~on_capacity, 0.0)
        cost[f"network_{name}"] = float((rate * p * w).sum() * dt)
    return cost


def _on_capacity(ds: xr.Dataset) -> xr.DataArray:
    """(site,) True where the connection is billed on capacity (1192号)."""
    if "connection_billing" not in ds:
        return xr.zeros_like(ds["site"], dtype=bool)
    return ds["connection_billing"] == "capacity_1192"


def _connection_costs(ds: xr.Dataset) -> dict[str, float]:
    """``connection_td`` (pro rata over the horizon) and ``self_use_<part>``, CNY."""
    cost: dict[str, float] = {}
    if "connection_billing" not in ds:
        return cost
    month = td_per_month(
        ds["connection_billing"].values,
        ds["connection_capacity"].values,
        ds["connection_load_factor"].values,
        ds["connection_td_rate"].values,
    )
    if bool(_on_capacity(ds).any()):
        cost["connection_td"] = float(month.sum() * ds["bill_month_share"].values.sum())
    if "self_use_charge" in ds:
        dt = float(ds.attrs["dt_hours"])
        w = period_weight(ds)
        rates = ds["self_use_charge"]
        for name in SELF_USE:
            rate = rates.sel(self_use_part=name, drop=True)
            if bool(rate.notnull().any()):
                used = ds["p_direct_used"] * rate.fillna(0.0) * w
                cost[f"self_use_{name}"] = float(used.sum() * dt)
    return cost


def _kpis(ds: xr.Dataset, totals) -> dict:
    """The month's demand charge as billed, and the part the horizon stands for, CNY.

    ``demand_month_bill``: the 基本电费 of each billing month (every demand meter: the whole
    month as billed on the peaks so far, including what was owed before the horizon);
    ``demand_month_prorated``: each month's bill x ``bill_month_share`` (the share of the
    month the horizon covers), summed: the horizon's part of the monthly demand charge, to
    add to a day's bill (not an objective term).
    """
    out: dict[str, Any] = {}
    if "connection_billing" in ds and bool(_on_capacity(ds).any()):
        month = td_per_month(
            ds["connection_billing"].values,
            ds["connection_capacity"].values,
            ds["connection_load_factor"].values,
            ds["connection_td_rate"].values,
        )
        on = _on_capacity(ds).values
        out["connection_td_month"] = {
            str(s): float(v) for s, v, o in zip(ds["site"].values, month, on, strict=True) if o
        }
    if "d_peak" not in ds or not ds.sizes.get("meter", 0):
        return out
    bill = np.nan_to_num(_month_bill(ds)).sum(axis=0)  # (bill_month,)
    labels = [str(m) for m in ds["bill_month"].values]
    return {
        **out,
        "demand_month_bill": {m: float(b) for m, b in zip(labels, bill, strict=True)},
        "demand_month_prorated": float((bill * ds["bill_month_share"].values).sum()),
    }


def _flow(rows: Rows, carrier: str = "metered") -> xr.DataArray | None:
    """The other components' flows on ``carrier`` summed (site, time); None: no flow."""
    flows = [
        a.flows[carrier]
        for name, a in rows.accounts.items()
        if name != "bill" and carrier in a.flows
    ]
    return sum(flows[1:], flows[0]) if flows else None


def _check(ds: xr.Dataset, rows: Rows) -> None:
    """Re-check the rows: metered draw, peak, billed demand, choice and capacity cap.

    And the network charge's parts (their sum, the line loss on the tariff), the connection
    cap and the self-use draw and rates.
    """
    if "p_metered" not in ds:
        return
    metered = _flow(rows)
    if metered is None:
        return
    scale = np.abs(metered).max()
    rows.eq("bill.p_metered_def", ds["p_metered"], metered, scale=scale)
    _check_network(ds, rows, metered)
    if not ds.sizes.get("meter", 0):
        return
    member = ds["meter_site"].astype(bool)
    drawn = (metered * member).sum("site")  # (meter, time)
    demand = ds["meter_kind"] != "capacity"
    if "d_peak" in ds:
        months, month_of, _ = billing_months(pd.DatetimeIndex(ds["time"].values))
        labels = [str(m) for m in ds["bill_month"].values]
        index = pd.Index(labels).get_indexer(months)[month_of]
        peak = ds["d_peak"].isel(bill_month=xr.DataArray(index, dims="time"))
        peak = peak.drop_vars("bill_month", errors="ignore")
        rows.ge(
            "bill.demand_peak",
            peak,
            drawn.where(demand),
            scale=drawn.max("time"),
        )
        _check_billed(ds, rows)
    pf = ds["power_factor"]
    capped = (~demand) & pf.notnull()
    if capped.any():
        limit = ds["capacity_kva"] * pf / 1000.0
        rows.le("bill.capacity_max", drawn, limit.where(capped), scale=limit)


def _check_network(ds: xr.Dataset, rows: Rows, metered: xr.DataArray) -> None:
    """The parts of the network charge, the connection cap and the self-use charges."""
    if "network_split" in ds:
        split = ds["network_split"].astype(bool)
        part = ds["network_charge_part"]
        total = part.sum("network_part", skipna=False).where(split)
        rows.eq("bill.network_parts_sum", ds["network_charge"], total, scale=total)
        loss = (ds["network_line_loss_rate"] * ds["tariff"]).where(split)
        rows.eq("bill.line_loss_part", part.sel(network_part="line_loss", drop=True), loss)
    if "connection_limit" in ds and bool(ds["connection_limit"].any()):
        cap = ds["connection_capacity"].where(ds["connection_limit"].astype(bool))
        rows.le("bill.connection_max", metered, cap, scale=cap)
    if "p_direct_used" in ds:
        direct = _flow(rows, "direct")
        if direct is not None:
            scale = np.abs(direct).max()
            rows.eq("bill.p_direct_used_def", ds["p_direct_used"], direct, scale=scale)
        if "network_charge_part" in ds:
            owed = ds["self_use_charge"].sel(self_use_part=["system_operation", "funds"])
            at_site = _site_of_node(ds, "network_charge_part").sel(
                network_part=["system_operation", "funds"]
            )
            at_site = at_site.rename(network_part="self_use_part")
            rows.eq("bill.self_use_parts", at_site, owed)


def _check_billed(ds: xr.Dataset, rows: Rows) -> None:
    """Rows of the billed demand, the declared excess and the monthly choice."""
    tf = Tariff.from_ds(ds)
    peak = ds["d_peak"]
    scale = peak.max("bill_month")
    if "peak_max" in ds:
        rows.le("bill.d_peak_max", peak, ds["peak_max"].where(np.isfinite(ds["peak_max"])))
    if "d_billed" in ds:
        ruled = xr.DataArray(tf.ruled, dims="meter") & xr.DataArray(~tf.declared, dims=peak.dims)
        rows.ge("bill.demand_billed", ds["d_billed"], peak.where(ruled), scale=scale)
    if "ratchet_share" in ds and "d_billed" in ds:
        earlier = peak.rename(bill_month="ratchet_month")
        need = (ds["ratchet_share"] * earlier).max("ratchet_month")  # NaN: no ratchet month
        rows.ge("bill.demand_ratchet", ds["d_billed"], need, scale=scale)
    if "d_declared" in ds:
        chosen = ds["declared_margin"].notnull()
        declared = ds["d_declared"].where(chosen)
        rows.ge("bill.demand_declared", ds["d_billed"], declared, scale=scale)
        rows.ge("bill.declared_floor", declared, ds["billed_floor"].where(chosen), scale=scale)
    if "d_excess" in ds:
        start = xr.DataArray(tf.excess_start, dims=peak.dims, coords=peak.coords)
        over = (peak - start).where(start.notnull())
        rows.ge("bill.demand_excess", ds["d_excess"], over, scale=scale)
    if "c_basic" in ds:
        choose = xr.DataArray(tf.kind == "choose", dims="meter")
        ruled = xr.DataArray(tf.ruled, dims="meter")
        billed = ds["d_billed"].where(ruled, peak) if "d_billed" in ds else peak
        excess = ds["d_excess"] if "d_excess" in ds else 0.0
        factor = ds["excess_factor"].fillna(0.0) if "excess_factor" in ds else 0.0
        by_demand = 1000.0 * ds["meter_rate"] * (billed + factor * excess)
        u = ds["u_capacity"]
        big = ds["basic_big_m"]
        rows.ge(
            "bill.basic_by_demand",
            ds["c_basic"],
            (by_demand - u * big).where(choose),
            scale=big,
        )
        by_capacity = ds["capacity_rate"] * ds["capacity_kva"]
        rows.ge(
            "bill.basic_by_capacity",
            ds["c_basic"],
            (u * by_capacity).where(choose),
            scale=by_capacity,
        )


def _peaks_to(ds: xr.Dataset, t: int) -> np.ndarray:
    """Each demand meter's peak per billing month over the first ``t`` periods (MW).

    The month's peak carried in counts in the first month; NaN: a month not reached.
    """
    time = pd.DatetimeIndex(ds["time"].values)
    _, month_of, _ = billing_months(time)
    member = ds["meter_site"].values.astype(float)  # (meter, site)
    drawn = member @ ds["p_metered"].values  # (meter, time)
    M, K = ds.sizes["meter"], ds.sizes["bill_month"]
    out = np.full((M, K), np.nan)
    for k in range(K):
        periods = np.flatnonzero(month_of[:t] == k)
        if len(periods):
            out[:, k] = drawn[:, periods].max(axis=1)
    if K and t > 0:
        out[:, 0] = np.fmax(out[:, 0], np.nan_to_num(ds["peak_to_date"].values[:, 0]))
    return out


def _commit_costs(ds: xr.Dataset, t: int, flows: xr.Dataset) -> dict[str, float]:
    """The horizon cost terms owed by the first ``t`` periods of the plan in ``ds`` alone.

    The committed part of a rolling window: ``demand``, per demand meter and billing month
    reached by the first ``t`` periods, the month's 基本电费 on the peaks of those periods
    (with the peak to date and the ratchet history carried in) less what was owed before
    the horizon (``billed_to_date``); ``capacity``, the capacity charge pro rata of those
    ``t`` periods. Summed over consecutive windows (each handed the state at the end of its
    committed periods) they give the month's bill.
    """
    if "p_metered" not in ds:
        return {}
    out: dict[str, float] = {}
    if "connection_td" in _connection_costs(ds):  # pro rata of the committed periods' months
        month = td_per_month(
            ds["connection_billing"].values,
            ds["connection_capacity"].values,
            ds["connection_load_factor"].values,
            ds["connection_td_rate"].values,
        )
        out["connection_td"] = float(month.sum() * _committed_months(ds, t).sum())
    if not ds.sizes.get("meter", 0):
        return out
    tf = Tariff.from_ds(ds)
    demand = tf.demand
    if "d_peak" in ds:
        peaks = _peaks_to(ds, t)
        reached = ~np.isnan(peaks)
        owed = np.where(reached, tf.bill(peaks) - _owed_to_date(ds), 0.0)
        out["demand"] = float(np.nansum(owed[demand]))
    if (~demand).any():
        per_month = (tf.rate * np.nan_to_num(tf.kva)[:, None])[~demand]
        out["capacity"] = float((per_month * _committed_months(ds, t)).sum())
    return out


def _committed_months(ds: xr.Dataset, t: int) -> np.ndarray:
    """(bill_month,) share of each calendar month the first ``t`` periods stand for."""
    time = pd.DatetimeIndex(ds["time"].values)
    _, month_of, days = billing_months(time)
    dt = float(ds.attrs["dt_hours"])
    w = np.broadcast_to(np.asarray(period_weight(ds), float), (len(time),))
    return np.bincount(month_of[:t], weights=w[:t], minlength=len(days)) * dt / (24.0 * days)


def _state_out(ds: xr.Dataset, t: int, flows) -> dict:
    """Each demand meter's peak so far in the billing month of period ``t``, MW.

    The maximum metered draw from the month's first period in the horizon to ``t``, and the
    peak carried in where that month is the horizon's first (``peak_to_date``). A meter with a
    ratchet also hands over the peaks of the months before (``history``: those carried in and
    those of the horizon's earlier months), as far back as its ratchet looks.
    """
    if "p_metered" not in ds or not ds.sizes.get("meter", 0):
        return {}
    time = pd.DatetimeIndex(ds["time"].values)
    labels, month_of, _ = billing_months(time)
    k = int(month_of[t])
    peaks = _peaks_to(ds, t + 1)
    lookback = ds["ratchet_lookback"].values if "ratchet_lookback" in ds else None
    out: dict[str, Any] = {}
    for m, name in enumerate(ds["meter"].values):
        if str(ds["meter_kind"].values[m]) == "capacity":
            continue
        entry: dict[str, Any] = {"month": labels[k], "peak_mw": float(peaks[m, k])}
        back = int(lookback[m]) if lookback is not None else 0
        if back:
            now = _absolute(labels[k])
            history = {
                str(h): float(v)
                for h, v in zip(
                    ds["history_month"].values, ds["peak_history"].values[m], strict=True
                )
                if not np.isnan(v)
            }
            history.update({labels[q]: float(peaks[m, q]) for q in range(k)})
            entry["history"] = {
                h: v for h, v in sorted(history.items()) if now - back <= _absolute(h) < now
            }
        out[str(name)] = entry
    return out


def _state_in(entry: dict, raw: dict) -> None:
    """Set ``peak_to_date_mw`` (and ``peak_history_mw``) of each demand meter.

    The peak counts as the peak to date only if the scenario's first period lies in the
    state's billing month (a new month starts at 0 MW); a peak of an earlier month joins the
    history, with the months the state hands over (``history``).
    """
    start = raw.get("horizon", {}).get("start")
    month = str(pd.Timestamp(start).to_period("M")) if start is not None else ""
    site_nodes = {s.get("name"): s.get("node") for s in raw.get("sites") or []}

    def peak(label: str) -> float:
        state = entry.get(label)
        return float(state["peak_mw"]) if state and state.get("month") == month else 0.0

    def history(label: str) -> dict[str, float] | None:
        state = entry.get(label)
        if not state or "history" not in state:
            return None
        out = {h: float(v) for h, v in state["history"].items() if h < month}
        if month and state.get("month", month) < month:
            out[state["month"]] = float(state["peak_mw"])
        return out

    for node in raw.get("nodes") or []:
        d = node.get("demand_charge")
        if not isinstance(d, dict) or d.get("kind") not in ("demand", "choose"):
            continue
        if d.get("meter", "node") == "node":
            d["peak_to_date_mw"] = peak(node["name"])
            h = history(node["name"])
            if h is not None:
                d["peak_history_mw"] = h
        else:
            sites = [s for s, n in site_nodes.items() if n == node.get("name")]
            d["peak_to_date_mw"] = {s: peak(s) for s in sites}
            per_site = {s: history(s) for s in sites}
            if any(h is not None for h in per_site.values()):
                months = sorted({m for h in per_site.values() for m in h or {}})
                d["peak_history_mw"] = {
                    m: {s: h[m] for s, h in per_site.items() if h and m in h} for m in months
                }


_M = ("meter",)


def _estimate(sc, options) -> int:
    """Columns of ``bill`` per (demand-billed meter, billing month).

    ``d_peak``; ``d_billed`` with a floor, ratchet or declared demand; ``d_excess`` with a
    declared demand; ``u_capacity`` and ``c_basic`` for the monthly choice.
    """
    c = sc.config
    per_month = 0
    for n in c.nodes:
        d = n.demand_charge
        if d is None or d.kind == "capacity":
            continue
        meters = 1 if d.meter == "node" else sum(s.node == n.name for s in c.sites)
        ruled = any(r is not None for r in (d.floor_share, d.ratchet, d.declared_mw))
        cols = 1 + int(ruled) + int(d.declared_mw is not None) + 2 * int(d.kind == "choose")
        cols += int(d.declared_mw == "chosen")
        per_month += meters * cols
    return per_month * len(billing_months(sc.time)[0]) if per_month else 0


COMPONENT = Component(
    name="bill",
    sections=("nodes.network_charge", "nodes.demand_charge", "nodes.connections"),
    doc="network charge on metered energy (all-in or in parts); demand or capacity charge "
    "per billing month (floor, ratchet, declared demand, monthly choice); T&D on connection "
    "capacity (1192号) and self-use charges of a direct project",
    outputs=(
        Output(
            "p_metered",
            ("site", "time"),
            "MW",
            "draw through the public-grid meter (grid, corridor and contract deliveries)",
            role="expression",
        ),
        Output(
            "network_charge",
            ("node", "time"),
            "CNY/MWh",
            "network charge on metered energy (T&D, system operation, funds, line loss)",
            role="input",
        ),
        Output(
            "network_charge_part",
            ("node", "network_part", "time"),
            "CNY/MWh",
            "network charge by part (td, system_operation, funds, line_loss: line_loss_rate x "
            "tariff); NaN for a node given all-in",
            role="input",
        ),
        Output(
            "network_split",
            ("node",),
            "bool",
            "network charge given in parts (cost terms network_<part>) or all-in (network)",
            role="input",
        ),
        Output(
            "network_line_loss_rate",
            ("node",),
            "1",
            "line-loss cost as a share of the energy tariff (NaN: all-in)",
            role="input",
        ),
        Output(
            "connection_billing",
            ("site",),
            "text",
            "'capacity_1192' (T&D on connection capacity), 'two_part' or 'none' (none stated)",
            role="input",
        ),
        Output(
            "connection_capacity",
            ("site",),
            "MW",
            "connection capacity 接入公共电网容量 (NaN: not given)",
            role="input",
        ),
        Output(
            "connection_load_factor",
            ("site",),
            "1",
            "capacity_1192: the province's average load factor of >= 110 kV users (NaN else)",
            role="input",
        ),
        Output(
            "connection_td_rate",
            ("site",),
            "CNY/MWh",
            "capacity_1192: the T&D energy rate of the 1192号 formula (NaN else)",
            role="input",
        ),
        Output(
            "connection_limit",
            ("site",),
            "bool",
            "metered draw capped at connection_capacity (row connection_max)",
            role="input",
        ),
        Output(
            "connection_price",
            ("site", "time"),
            "CNY/MW",
            "value of one more MW of connection capacity in the period (dual of "
            "connection_max; NaN: no cap)",
            role="dual",
        ),
        Output(
            "p_direct_used",
            ("site", "time"),
            "MW",
            "the direct project's power used on site (self-use charges apply to it)",
            role="expression",
        ),
        Output(
            "self_use_charge",
            ("site", "self_use_part", "time"),
            "CNY/MWh",
            "charges per MWh of direct energy used on site (system_operation, funds: the "
            "node's parts; cross_subsidy); NaN: not owed",
            role="input",
        ),
        Output(
            "d_peak",
            ("meter", "bill_month"),
            "MW",
            "maximum metered demand of the billing month (demand meters; 0 elsewhere)",
            lower="peak_to_date",
        ),
        Output(
            "d_billed",
            ("meter", "bill_month"),
            "MW",
            "billed demand of the billing month: >= the peak (no declared demand), the floor, "
            "the declared value and the ratchet (meters with one of them; 0 elsewhere)",
            lower="billed_floor",
        ),
        Output(
            "d_excess",
            ("meter", "bill_month"),
            "MW",
            "peak above (1 + declared_margin) x the declared demand (declared meters)",
        ),
        Output(
            "d_declared",
            ("meter", "bill_month"),
            "MW",
            "declared demand chosen by the model (declared_mw: chosen; 0 elsewhere)",
        ),
        Output(
            "declared_margin",
            _M,
            "1",
            "tolerance above a chosen declared demand (NaN: not chosen)",
            role="input",
        ),
        Output(
            "u_capacity",
            ("meter", "bill_month"),
            "1",
            "1: the month is billed on capacity (choose meters), 0: on demand",
            upper=1.0,
            integer=True,
        ),
        Output(
            "c_basic",
            ("meter", "bill_month"),
            "CNY",
            "the month's 基本电费 under the choice (choose meters)",
        ),
        Output(
            "demand_peak_price",
            ("meter", "time"),
            "CNY/MW",
            "demand charge of one more MW metered in the period (dual of demand_peak; NaN: "
            "capacity meter)",
            role="dual",
        ),
        Output("meter_kind", _M, "text", "'demand' or 'capacity'", role="input"),
        Output("meter_site", ("meter", "site"), "bool", "site measured by the meter", role="input"),
        Output(
            "meter_rate",
            ("meter", "bill_month"),
            "CNY/kW/month",
            "demand (per kW) or capacity (per kVA) rate of the billing month",
            role="input",
        ),
        Output(
            "billed_floor",
            ("meter", "bill_month"),
            "MW",
            "least billed demand: floor share x kVA / 1000, the declared value, the ratchet on "
            "months before the horizon (NaN: billed on the peak alone)",
            role="input",
        ),
        Output(
            "billed_to_date",
            ("meter", "bill_month"),
            "CNY",
            "the month's 基本电费 owed before the horizon (first month under way; 0 later; NaN "
            "capacity meters)",
            role="input",
        ),
        Output(
            "excess_start",
            ("meter", "bill_month"),
            "MW",
            "(1 + declared_margin) x the declared demand (NaN: none)",
            role="input",
        ),
        Output("excess_factor", _M, "1", "rate multiplier above excess_start", role="input"),
        Output(
            "ratchet_share",
            ("meter", "bill_month", "ratchet_month"),
            "1",
            "share of the peak of ratchet_month the billed demand of bill_month must reach "
            "(NaN: not a ratchet month)",
            role="input",
        ),
        Output(
            "ratchet_lookback",
            _M,
            "months",
            "months the ratchet looks back (0: none)",
            role="input",
        ),
        Output(
            "peak_history",
            ("meter", "history_month"),
            "MW",
            "peaks of months before the horizon (peak_history_mw; NaN: not given)",
            role="input",
        ),
        Output(
            "capacity_rate",
            ("meter", "bill_month"),
            "CNY/kVA/month",
            "capacity-billing rate of choose meters (NaN elsewhere)",
            role="input",
        ),
        Output(
            "basic_big_m",
            ("meter", "bill_month"),
            "CNY",
            "largest demand bill of a choose meter (the big-M of basic_by_demand)",
            role="input",
        ),
        Output(
            "peak_max",
            _M,
            "MW",
            "largest peak of a choose meter (max_demand_mw or kVA / 1000; inf: none)",
            role="input",
        ),
        Output(
            "peak_to_date",
            ("meter", "bill_month"),
            "MW",
            "peak so far carried in (first month; 0 later; NaN for capacity meters)",
            role="input",
        ),
        Output("capacity_kva", _M, "kVA", "contracted capacity (NaN: demand meter)", role="input"),
        Output("power_factor", _M, "1", "capacity cap power factor (NaN: no cap)", role="input"),
        Output(
            "bill_month_share",
            ("bill_month",),
            "1",
            "share of the calendar month the horizon covers",
            role="input",
        ),
    ),
    build=_build,
    estimate=_estimate,
    account=_account,
    check=_check,
    kpis=_kpis,
    commit_costs=_commit_costs,
    validate=_validate,
    kind="policy",
    state_out=_state_out,
    state_in=_state_in,
    state_fields=(
        StateField(
            "<meter>.peak_mw",
            "MW",
            "peak metered so far in the billing month; sets nodes[].demand_charge."
            "peak_to_date_mw (a node meter) or its {site: MW} (site meters)",
        ),
        StateField("<meter>.month", "YYYY-MM", "the billing month of that peak"),
        StateField(
            "<meter>.history",
            "MW",
            "ratchet meters: {'YYYY-MM': peak} of the months before, as far back as the "
            "ratchet looks; sets nodes[].demand_charge.peak_history_mw",
        ),
    ),
)
