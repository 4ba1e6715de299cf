"""Scenario configuration schema (pydantic).

Every quantity has one unit, fixed here and in ``docs/scenario-format.md``:

==========================  =====================================
quantity                    unit
==========================  =====================================
power                       MW
energy                      MWh
price of energy             CNY/MWh
emission factor             tCO2/MWh (numerically equal to kg/kWh)
compute rate                compute units (default PFLOPS)
compute work                compute unit x hour (e.g. PFLOPS h)
temperature                 degC
==========================  =====================================

A field typed :data:`Profile` takes either a number (constant over the horizon) or the name
of a column in the scenario's time-series table (``series:`` files or the ``series=``
DataFrame of the Python API).

A family declares its section class in its own module (deriving from
:class:`suandian.component.Section`) with a :class:`suandian.component.ScenarioField`;
:func:`config_model` adds those fields to :class:`ScenarioConfig` (``docs/add-a-component.md``).
Older families' sections are imported here and named in a field of :class:`ScenarioConfig`.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, create_model, field_validator, model_validator

# the base class and field types live in suandian.component, so that a family module can
# declare its own section class without importing this module (which imports it)
from ..component import Capacity, Efficiency, Fraction, Name, NonNeg, Positive, Profile, Range
from ..component import Section as _Model
from ..components.thermal import HeatRecovery, ThermalStorage
from ..policies.bill import Connection, DemandCharge
from ..policies.demand_response import DemandResponseEvent
from ..policies.reserves import ReserveProduct
from .uncertainty import Uncertainty


class Horizon(_Model):
    """The planning horizon: ``periods`` steps of ``resolution`` from ``start``."""

    start: datetime = Field(description="first period's start (local time)")
    periods: int = Field(gt=0, description="number of periods, e.g. 96 for a day of 15 min")
    resolution: str = Field("1h", description="pandas frequency: '15min', '30min', '1h'")
    upsample: Literal["none", "hold"] = Field(
        "none",
        description="'hold' lets a coarser time series (e.g. hourly) be held constant over the "
        "finer periods it covers; 'none' requires every period's timestamp in the series",
    )
    weights: Profile = Field(
        1.0,
        description="per-period weight: the hours a period stands for relative to its own "
        "length (representative periods), a number or a series name; default 1",
    )
    probability: float = Field(
        1.0, gt=0, le=1, description="probability of the scenario: every cost is scaled by it"
    )
    cycle_periods: int | None = Field(
        None,
        gt=0,
        description="representative periods: the horizon is blocks of this many periods "
        "(24 for representative days of 1 h), each weighted by horizon.weights; every "
        "stored energy (batteries, tanks) wraps around within each block (its state before "
        "the block's first period is its state at the block's end), and soc_initial and "
        "soc_final do not apply; default: one sequence",
    )
    budget_periods: int | None = Field(
        None,
        gt=0,
        description="annual budgets (basis 'year') count the energies of the first N periods "
        "only; the later ones are planned but stand in the year's forecast (a rolling "
        "window's look-ahead, docs/math/rolling.md); default: every period",
    )

    @model_validator(mode="after")
    def _budget_inside(self) -> Horizon:
        if self.cycle_periods is not None and self.periods % self.cycle_periods:
            raise ValueError(
                f"cycle_periods {self.cycle_periods} does not divide the horizon's "
                f"{self.periods} periods; use a divisor (24 for days of 1 h) or remove it"
            )
        if self.budget_periods is not None and self.budget_periods > self.periods:
            raise ValueError(
                f"budget_periods {self.budget_periods} is more than the horizon's "
                f"{self.periods} periods; use at most {self.periods}, or remove it"
            )
        return self

    @field_validator("resolution")
    @classmethod
    def _known_frequency(cls, value: str) -> str:
        import pandas as pd

        try:
            delta = pd.Timedelta(pd.tseries.frequencies.to_offset(value))
        except (ValueError, TypeError) as exc:
            raise ValueError(
                f"'{value}' is not a time step; write e.g. '15min', '30min' or '1h'"
            ) from exc
        if delta <= pd.Timedelta(0) or pd.Timedelta("1D") % delta != pd.Timedelta(0):
            raise ValueError(f"'{value}' must divide a day evenly, e.g. '15min' or '1h'")
        return value


def _check_tou_table(
    prices: dict[str, float], periods: dict[str, list[str]], default: str, where: str = ""
) -> None:
    """Every band priced; clock ranges well formed and not overlapping (raises ValueError)."""
    missing = [b for b in [*periods, default] if b not in prices]
    if missing:
        raise ValueError(
            f"{where}bands {missing} have no price; add them under 'prices' "
            f"(priced bands: {sorted(prices)})"
        )
    spans = sorted(
        (*parse_clock_range(text, f"{where}periods.{band}"), band, text)
        for band, ranges in periods.items()
        for text in ranges
    )
    for (_, end, band, text), (start, _, other, text2) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise ValueError(
                f"{where}ranges '{text}' ({band}) and '{text2}' ({other}) overlap; "
                "each clock time may belong to one band only"
            )


Month = Annotated[int, Field(ge=1, le=12)]


class TouSeason(_Model):
    """A seasonal time-of-use table: replaces the base table in its months."""

    months: list[Month] = Field(
        min_length=1, description="calendar months (1-12) in which this table applies"
    )
    prices: dict[str, NonNeg] = Field(description="CNY/MWh per band in these months")
    periods: dict[str, list[str]] = Field(
        default_factory=dict, description="band -> list of 'HH:MM-HH:MM' clock ranges"
    )
    default: str = Field("flat", description="band of periods in no range")

    @model_validator(mode="after")
    def _bands_priced(self) -> TouSeason:
        _check_tou_table(self.prices, self.periods, self.default, f"season {self.months}: ")
        return self


class CriticalPeak(_Model):
    """Critical-peak pricing (尖峰电价): clock ranges on given months or dates.

    NDRC 发改价格〔2021〕1093号 prices the critical peak on the PEAK price: at least 20 % above
    it (``multiplier`` >= 1.2 with the default ``reference_band: peak``), whatever the
    ordinary band of the critical hours. A province may fix it on another band instead
    (Xinjiang, 新发改规〔2023〕11号: flat + 100 %): name that band. The >= 1.2 rule is
    documented, not enforced.
    """

    months: list[Month] | None = Field(
        None, description="calendar months (1-12) with critical peak every day (or give dates)"
    )
    dates: list[str] | None = Field(
        None,
        description="days with critical peak, 'YYYY-MM-DD' (that day) or 'MM-DD' (that day "
        "of every year) (or give months)",
    )
    periods: list[str] = Field(
        min_length=1, description="'HH:MM-HH:MM' clock ranges of the critical peak on those days"
    )
    multiplier: Annotated[float, Field(gt=0)] | None = Field(
        None,
        description="critical-peak price = multiplier x the price of reference_band (default "
        "peak) in the table in force that day (a season's in its months, else the base "
        "table), whatever the band of the critical hours (1093号: >= 1.2 x peak; not "
        "enforced); or give price",
    )
    reference_band: str = Field(
        "peak",
        description="band whose price the multiplier applies to, in the table in force that "
        "day; every such table must price it. 'peak' as 1093号 states; a province that fixes "
        "the critical peak on another band names it (Xinjiang: flat, multiplier 2.0)",
    )
    price: NonNeg | None = Field(None, description="critical-peak price, CNY/MWh (or multiplier)")

    @model_validator(mode="after")
    def _one_of_each(self) -> CriticalPeak:
        if (self.months is None) == (self.dates is None):
            raise ValueError(
                "critical_peak: give either months or dates (the days it applies), not both "
                "and not neither"
            )
        if (self.multiplier is None) == (self.price is None):
            raise ValueError(
                "critical_peak: give exactly one of multiplier (x the price of reference_band, "
                "default peak) or price (CNY/MWh)"
            )
        for text in self.dates or []:
            critical_day(text)
        spans = sorted(parse_clock_range(t, "critical_peak.periods") + (t,) for t in self.periods)
        for (_, end, text), (start, _, text2) in zip(spans, spans[1:], strict=False):
            if start < end:
                raise ValueError(
                    f"critical_peak.periods: ranges '{text}' and '{text2}' overlap; give "
                    "each clock time once"
                )
        return self

    def day_months(self) -> list[int]:
        """Calendar months its days can fall in (``months``, or the months of ``dates``)."""
        if self.months is not None:
            return sorted(set(self.months))
        return sorted({critical_day(text)[1] for text in self.dates or []})

    def shares_a_day_with(self, other: CriticalPeak) -> bool:
        """True if some calendar day is a critical-peak day of both blocks."""
        if self.months is not None and other.months is not None:
            return bool(set(self.months) & set(other.months))
        if self.months is not None or other.months is not None:
            months, dated = (self, other) if self.months is not None else (other, self)
            return any(critical_day(t)[1] in (months.months or []) for t in dated.dates or [])
        for a in self.dates or []:
            ya, ma, da = critical_day(a)
            for b in other.dates or []:
                yb, mb, db = critical_day(b)
                if (ma, da) == (mb, db) and (ya is None or yb is None or ya == yb):
                    return True
        return False


def critical_day(text: str) -> tuple[int | None, int, int]:
    """Parse a critical-peak date into ``(year, month, day)`` (year ``None`` for ``'MM-DD'``).

    Raises
    ------
    ValueError
        naming the date and the expected format.
    """
    parts = str(text).split("-")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        numbers = [int(p) for p in parts]
        year = numbers[0] if len(parts) == 3 else None
        month, day = numbers[-2], numbers[-1]
        datetime(2000 if year is None else year, month, day)  # 2000: a leap year
    except ValueError:
        raise ValueError(
            f"critical_peak.dates: '{text}' is not a date; write 'YYYY-MM-DD' (e.g. "
            "'2026-07-15') or 'MM-DD' (every year, e.g. '07-15')"
        ) from None
    return year, month, day


class TimeOfUse(_Model):
    """A time-of-use tariff: a price per band and the clock-time ranges of each band.

    Periods not covered by any range get the ``default`` band. ``seasons`` replace this
    (base) table in their months; ``critical_peak`` overrides the price in its days and
    clock ranges (band ``critical_peak``): multiplier x the peak price of the table in force
    that day, or a price.
    """

    prices: dict[str, NonNeg] = Field(description="CNY/MWh per band, e.g. peak/flat/valley")
    periods: dict[str, list[str]] = Field(
        default_factory=dict, description="band -> list of 'HH:MM-HH:MM' clock ranges"
    )
    default: str = Field("flat", description="band of periods in no range")
    seasons: list[TouSeason] = Field(
        default_factory=list,
        description="seasonal tables (months, prices, periods, default) replacing the base "
        "table in their months; a month may be in one season only",
    )
    critical_peak: list[CriticalPeak] = Field(
        default_factory=list,
        description="critical-peak blocks (one mapping, or a list when seasons have their own "
        "hours, e.g. July 21:00-23:00 and winter 19:00-21:00): days (months or dates), clock "
        "ranges and a multiplier on the peak price of the table in force or a price; default "
        "`[]` (none)",
    )

    @field_validator("critical_peak", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        """A single mapping is one block; ``None`` is none."""
        if value is None:
            return []
        return [value] if isinstance(value, dict) else value

    def table_of_month(self, month: int) -> TimeOfUse | TouSeason:
        """The table in force in a calendar month: the season containing it, else the base."""
        return next((s for s in self.seasons if month in s.months), self)

    @model_validator(mode="after")
    def _bands_priced(self) -> TimeOfUse:
        _check_tou_table(self.prices, self.periods, self.default)
        seen: dict[int, int] = {}
        for i, season in enumerate(self.seasons):
            for month in season.months:
                if month in seen:
                    raise ValueError(
                        f"month {month} is in seasons[{seen[month]}] (months "
                        f"{self.seasons[seen[month]].months}) and in seasons[{i}] (months "
                        f"{season.months}); a month may be in one season only"
                    )
                seen[month] = i
        many = len(self.critical_peak) > 1
        for i, cp in enumerate(self.critical_peak):
            where = f"critical_peak[{i}]" if many else "critical_peak"
            if cp.multiplier is not None:
                for month in cp.day_months():
                    table = self.table_of_month(month)
                    if cp.reference_band not in table.prices:
                        name = (
                            f"the season of months {table.months}"
                            if isinstance(table, TouSeason)
                            else "the base table"
                        )
                        raise ValueError(
                            f"{where}.reference_band: '{cp.reference_band}' has no price in "
                            f"{name}, in force in month {month} (priced bands: "
                            f"{sorted(table.prices)}); the multiplier applies to that band's "
                            f"price (1093号: critical peak >= 1.2 x peak). Add a "
                            f"'{cp.reference_band}' price to that table, name a priced band in "
                            "reference_band, or give price (CNY/MWh) instead of multiplier"
                        )
            for j in range(i):
                other = self.critical_peak[j]
                if not cp.shares_a_day_with(other):
                    continue
                for a in cp.periods:
                    sa, ea = parse_clock_range(a, f"{where}.periods")
                    for b in other.periods:
                        sb, eb = parse_clock_range(b, f"critical_peak[{j}].periods")
                        if sa < eb and sb < ea:
                            raise ValueError(
                                f"critical_peak[{j}] ('{b}') and critical_peak[{i}] ('{a}') "
                                "overlap on a day of both; each critical clock time of a day "
                                "may belong to one block only"
                            )
        return self


#: a charge per MWh: a number, a series name or a time-of-use table
Charge = Annotated[Profile | TimeOfUse, Range(what="charges")]


class NetworkCharge(_Model):
    """A node's network charge in its parts, CNY/MWh on every metered MWh.

    The parts of a Chinese user's price besides the energy (third regulatory period,
    发改价格〔2023〕526号): the T&D energy rate of the user's voltage level, the system-operation
    charges, the government funds and surcharges, and the line-loss cost of the energy bought
    (``docs/math/network.md``). Each part is a cost term of its own (``network_td``,
    ``network_system_operation``, ``network_funds``, ``network_line_loss``).
    """

    voltage: str | None = Field(
        None,
        max_length=40,
        description="the voltage level the rates are for, e.g. '110kV' (a label, reported)",
    )
    td: Charge = Field(
        description="T&D energy rate (输配电量电价) of the voltage level, CNY/MWh (a number, "
        "a series or a time-of-use table); a site billed on capacity (connections: "
        "capacity_1192) does not pay it on its grid draw"
    )
    system_operation: Charge = Field(
        0.0,
        description="system-operation charges (系统运行费用: ancillary services, the coal "
        "capacity payment of 发改价格〔2023〕1501号, ...), CNY/MWh",
    )
    funds: Charge = Field(
        0.0, description="government funds and surcharges (政府性基金及附加), CNY/MWh"
    )
    line_loss_rate: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0,
        description="line-loss cost (上网环节线损费用) as a share of the node's energy price: "
        "line_loss_rate x tariff CNY/MWh in each period (it follows the time of use)",
    )


class Node(_Model):
    """A grid node (province / price zone) with its tariff and emission factor."""

    name: Name = Field(description="node name, referenced by sites, corridors and contracts")
    tariff: Annotated[Profile | TimeOfUse, Range(what="prices")] = Field(
        description="grid energy price, CNY/MWh (a number, a series or a time-of-use table); "
        "with network_charge set: the energy component only (market or agency purchase price), "
        "otherwise the all-in price"
    )
    emission_factor: Annotated[Profile, Range(what="emission factors")] = Field(
        description="location-based grid factor, tCO2/MWh"
    )
    residual_emission_factor: Profile | None = Field(
        None, description="market-based residual-mix factor, tCO2/MWh; default: emission_factor"
    )
    import_limit: NonNeg | None = Field(None, description="MW, summed over the node's sites")
    grid_cfe: Annotated[Profile, Range(high=1.0, what="carbon-free shares")] = Field(
        0.0,
        description="carbon-free share of the node's grid mix, 0..1 (a number or a series, per "
        "period; hydro, nuclear, wind, solar over all generation serving the node): credited "
        "in the hourly CFE score to the energy the node's sites draw from the grid without a "
        "green attribute and to the non-green part of corridor energy the node sends; 0 by "
        "default (no credit)",
    )
    curtailment_limit: Annotated[Profile | None, Range(what="curtailment limits (MW)")] = Field(
        None,
        description="有序用电 (orderly curtailment): MW the node's sites may draw through the "
        "public-grid meter together, per period (a number or a series; grid purchases, "
        "corridor and contract deliveries); default `[]` (none)",
    )
    network_charge: Annotated[Profile | TimeOfUse | NetworkCharge, Range(what="charges")] = Field(
        0.0,
        description="CNY/MWh on every MWh the node's sites draw through the public-grid "
        "meter (grid purchases, corridor and contract deliveries): transmission and "
        "distribution, system-operation charges, government funds, line-loss cost; the "
        "all-in figure (a number, a series or a time-of-use table) or its parts {td, "
        "system_operation, funds, line_loss_rate}; 0 by default (tariff then all-in)",
    )
    demand_charge: DemandCharge | None = Field(
        None,
        description="two-part tariff (基本电费): demand charge on the maximum metered demand "
        "per billing month, or capacity charge on contracted kVA; default `[]` (none)",
    )
    connections: list[Connection] = Field(
        default_factory=list,
        description="how a site's connection to the public grid is billed: T&D on capacity "
        "(发改价格〔2025〕1192号, billing capacity_1192) or two-part, and the parts of the "
        "network charge its direct project's self-used energy owes; default `[]` (none)",
    )


#: the range of a temperature series (degC)
_TEMPERATURES = Range(low=-80, high=70, what="temperatures (degC)")


class Cooling(_Model):
    """Cooling plant: a COP series, or electricity per unit of heat derived from the weather.

    Derivation (see docs/math/datacenter): the plant is driven by one temperature per period,
    ``ambient`` (wet-bulb for towers, dry-bulb for closed dry coolers), or for adiabatic
    coolers ``T_db - adiabatic_effectiveness * (T_db - T_wb)`` from ``dry_bulb`` and
    ``ambient`` (the wet-bulb). The heat splits into two paths. The **air path** (the whole
    heat unless ``liquid_fraction`` > 0; CRAH/fan walls and chilled water): full free cooling
    (``cop_free``) at or below ``t_free``, full mechanical cooling at or above ``t_mech``
    with a chiller COP of ``cop_ref * (1 - cop_slope * (T_cond - t_ref))`` floored at
    ``cop_min``, where ``T_cond`` = driving temperature + ``approach``; in between the
    electricity per unit of heat is blended linearly; plus ``air_fan``. The **liquid path**
    (warm-water direct liquid cooling, share ``liquid_fraction`` of the heat) has its own
    thresholds ``liquid_t_free`` / ``liquid_t_mech`` and ``liquid_cop_free`` and trims on the
    same chillers. All of it is computed per period before the model is built, so the model
    stays linear. Water: ``water_use`` m3 per MWh of heat rejected in wet mode.
    """

    cop: Annotated[Profile | None, Range(low=1e-9, what="COP values")] = Field(
        None, description="COP series or constant; overrides ambient"
    )
    ambient: Annotated[Profile | None, _TEMPERATURES] = Field(
        None,
        description="driving temperature, degC: wet-bulb for towers and evaporative plants, "
        "dry-bulb for closed dry coolers; with adiabatic_effectiveness: the wet-bulb",
    )
    t_free: float = Field(12.0, description="degC at or below which cooling is fully free")
    t_mech: float = Field(20.0, description="degC at or above which chillers carry it all")
    cop_free: Positive = Field(25.0, description="COP in free-cooling mode (fans, pumps)")
    cop_ref: Positive = Field(7.0, description="chiller COP at t_ref")
    t_ref: float = Field(
        25.0,
        description="degC of the chiller's reference COP (a condenser temperature: driving "
        "temperature + approach)",
    )
    cop_slope: NonNeg = Field(0.025, description="relative COP loss per K above t_ref")
    cop_min: Positive = Field(2.0, description="floor of the chiller COP")
    approach: NonNeg = Field(
        0.0,
        description="K: condenser temperature = driving temperature + approach (tower "
        "approach 3-5 K [R]); 0: the chiller curve reads the driving temperature itself",
    )
    dry_bulb: Annotated[Profile | None, _TEMPERATURES] = Field(
        None, description="dry-bulb temperature, degC (series or number); for adiabatic coolers"
    )
    adiabatic_effectiveness: Fraction | None = Field(
        None,
        description="epsilon of adiabatic (evaporatively pre-cooled) dry coolers, 0..1 "
        "(0.7-0.8 [R]): driving temperature T_db - epsilon (T_db - T_wb); needs dry_bulb and "
        "ambient (the wet-bulb); null: the plant is driven by ambient itself",
    )
    wet_above: float | None = Field(
        None,
        description="degC dry-bulb above which the adiabatic pads are wetted; at or below it "
        "the coolers run dry (driven by the dry-bulb, no water); null: always wet; needs "
        "adiabatic_effectiveness",
    )
    air_fan: NonNeg = Field(
        0.0,
        description="MW of CRAH / fan-wall electricity per MW of heat on the air path, in "
        "every mode (0.015-0.04 [R])",
    )
    liquid_fraction: Fraction = Field(
        0.0,
        description="share of the heat removed by warm-water direct liquid cooling (cold "
        "plates: 0.7-0.8 of server heat [R]); 0: all heat on the air path",
    )
    liquid_t_free: float = Field(
        25.0,
        description="degC driving temperature at or below which the liquid path is fully "
        "free-cooled (warm-water supply 30-45 degC minus approaches: ~25-30 degC wet-bulb [R])",
    )
    liquid_t_mech: float = Field(
        30.0, description="degC at or above which chillers carry the whole liquid path"
    )
    liquid_cop_free: Positive = Field(
        25.0, description="COP of the liquid path in free cooling (CDU and loop pumps, fans)"
    )
    water_use: NonNeg = Field(
        0.0,
        description="m3 of water per MWh of heat rejected in wet mode (towers ~1.8-2.0, "
        "adiabatic pre-cooling less [R]); the KPI WUE is in L/kWh IT",
    )

    @model_validator(mode="after")
    def _one_source(self) -> Cooling:
        if self.cop is None and self.ambient is None:
            raise ValueError("give either 'cop' (series or number) or 'ambient' temperature")
        if self.t_mech < self.t_free:
            raise ValueError(
                f"t_mech ({self.t_mech}) must be >= t_free ({self.t_free}); "
                "free cooling ends before chillers take the whole load"
            )
        if self.liquid_t_mech < self.liquid_t_free:
            raise ValueError(
                f"liquid_t_mech ({self.liquid_t_mech}) must be >= liquid_t_free "
                f"({self.liquid_t_free}); free cooling of the liquid path ends before "
                "chillers take it all"
            )
        if self.cop is not None:
            given = [
                k
                for k in ("dry_bulb", "adiabatic_effectiveness", "wet_above")
                if getattr(self, k) is not None
            ]
            given += [k for k in ("liquid_fraction", "air_fan", "approach") if getattr(self, k)]
            if given:
                raise ValueError(
                    f"{', '.join(given)} shape the cooling derived from the weather and would "
                    "be ignored because cop is given; remove them, or give ambient instead of cop"
                )
        if self.adiabatic_effectiveness is not None and self.dry_bulb is None:
            raise ValueError(
                f"adiabatic_effectiveness ({self.adiabatic_effectiveness}) needs dry_bulb (the "
                "dry-bulb series; ambient is then the wet-bulb); add dry_bulb or remove "
                "adiabatic_effectiveness"
            )
        if self.adiabatic_effectiveness is None:
            for k in ("dry_bulb", "wet_above"):
                if getattr(self, k) is not None:
                    raise ValueError(
                        f"{k} ({getattr(self, k)!r}) is used only by adiabatic coolers; set "
                        "adiabatic_effectiveness (0..1), or remove it (a closed dry cooler: "
                        "give the dry-bulb as ambient)"
                    )
        return self


def _check_cap_curve(points: list[tuple[float, float]]) -> None:
    """A power-capping curve: increasing, ending at (1, 1), concave through (0, 0)."""
    field = "power_cap_curve"
    if not points or tuple(points[-1]) != (1.0, 1.0):
        raise ValueError(f"{field} {points} must end at the uncapped block, [1, 1]; append [1, 1]")
    xs = [0.0] + [p[0] for p in points]
    ys = [0.0] + [p[1] for p in points]
    slopes = []
    for i in range(1, len(xs)):
        if not (xs[i] > xs[i - 1] and ys[i] > ys[i - 1]):
            raise ValueError(
                f"{field}: point {list(points[i - 1])} does not increase in both power and "
                "throughput share; sort the points by power share"
            )
        slopes.append((ys[i] - ys[i - 1]) / (xs[i] - xs[i - 1]))
    for i in range(1, len(slopes)):
        if slopes[i] > slopes[i - 1] + 1e-9:
            raise ValueError(
                f"{field}: the curve is not concave at point {list(points[i - 1])} (slope "
                f"{slopes[i - 1]:.3g} then {slopes[i]:.3g}); drop the point or raise its "
                "throughput share (throughput must fall less than in proportion to power)"
            )


class Site(_Model):
    """A data center: K identical cluster blocks, cooling, electrical losses, fixed loads.

    Facility power (docs/math/datacenter): IT (``always_on_it`` + blocks on + compute) plus
    power-chain losses ``no_load_loss * design_it + loss_fraction * IT`` plus cooling of the
    heat (IT + losses) plus ``fixed_load``. The defaults (0) keep the load-independent PUE
    ``(1 + loss_fraction)(1 + 1/COP)``.
    """

    name: Name = Field(description="site name")
    node: Name = Field(description="grid node the site is connected to")
    blocks: Annotated[int, Field(ge=0)] | Capacity = Field(
        description="K, number of identical cluster blocks (pods) installed; a Capacity: "
        "chosen by the model (docs/math/datacenter.md, 'Blocks as a decision'): existing "
        "blocks plus those built at the annuity of capex_per_unit (CNY per block: servers "
        "and fit-out), whole blocks with unit_size (1, or blocks per pod), else any amount"
    )
    block_capacity: Positive = Field(description="compute units per block when on")
    idle_power: NonNeg = Field(description="MW of IT power per switched-on block")
    dynamic_power: NonNeg = Field(description="MW of IT power per compute unit served")
    startup_cost: NonNeg = Field(0.0, description="CNY per block start-up")
    initial_on: int | None = Field(None, ge=0, description="blocks on before the horizon")
    min_on: int = Field(0, ge=0, description="blocks that must stay on every period")
    loss_fraction: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.04,
        description="proportional electrical (UPS, distribution) losses per MW of IT power "
        "(b of a*P_rated + b*P)",
    )
    no_load_loss: Annotated[float, Field(ge=0, lt=1)] = Field(
        0.0,
        description="no-load power-chain losses (transformers, UPS) per MW of design_it, drawn "
        "every period whatever the load (a of a*P_rated + b*P; ~0.01-0.02 [R])",
    )
    design_it: Positive | None = Field(
        None,
        description="MW, rated IT capacity P_rated of the power chain; default: always_on_it + "
        "blocks x (idle_power + dynamic_power x block_capacity)",
    )
    always_on_it: NonNeg = Field(
        0.0,
        description="MW of IT power drawn every period whatever blocks are on (network fabric, "
        "storage, management); counts as IT",
    )
    fixed_load: NonNeg = Field(
        0.0,
        description="MW of facility load drawn every period (lighting, BMS, security, minimum "
        "pump and fan power); not IT, not cooled in the model",
    )
    cooling: Cooling = Field(description="cooling plant (COP series or from the weather)")
    water_price: NonNeg = Field(
        0.0, description="CNY per m3 of cooling water (cost term water); 0: not priced"
    )
    wue_cap: Positive | None = Field(
        None,
        description="L/kWh: water over the horizon <= wue_cap x IT energy (row dc.wue_cap); "
        "null: no cap",
    )
    pue_cap: Annotated[float, Field(ge=1)] | None = Field(
        None, description="site-specific PUE cap; default: policies.pue.cap"
    )
    min_up_hours: NonNeg = Field(
        0.0,
        description="h, minimum up time of a block: a block started stays on at least this "
        "long (rounded up to whole periods; rows dc.min_up from 2 periods); 0: none",
    )
    min_down_hours: NonNeg = Field(
        0.0,
        description="h, minimum down time of a block: a block stopped stays off at least this "
        "long (rounded up to whole periods; rows dc.min_down from 2 periods); 0: none",
    )
    initial_up_hours: NonNeg | None = Field(
        None,
        description="h the initial_on blocks have been on before the horizon (rounded down to "
        "periods); they stay on for the rest of min_up_hours. null: long enough (no carry-over)",
    )
    initial_down_hours: NonNeg | None = Field(
        None,
        description="h the blocks off before the horizon (blocks - initial_on) have been off "
        "(rounded down to periods); they stay off for the rest of min_down_hours. null: long "
        "enough (no carry-over)",
    )
    ramp_up: Positive | None = Field(
        None,
        description="MW per hour: facility power may rise at most this much between two "
        "periods (x the period length; rows dc.ramp_up); null: no limit",
    )
    ramp_down: Positive | None = Field(
        None,
        description="MW per hour: facility power may fall at most this much between two "
        "periods (x the period length; rows dc.ramp_down); null: no limit",
    )
    dynamic_power_interactive: NonNeg | None = Field(
        None,
        description="MW of IT power per compute unit of interactive (inference) work; "
        "dynamic_power then applies to batch (training) work. null: dynamic_power",
    )
    power_cap_curve: list[tuple[Fraction, Fraction]] | None = Field(
        None,
        description="GPU power capping: points (dynamic power share, throughput share) of a "
        "block capped below full power, increasing, concave through (0, 0), ending at (1, 1), "
        "e.g. [[0.6, 0.8], [0.8, 0.94], [1, 1]] (rows dc.cap_curve); null: no capping, IT "
        "power linear in compute",
    )
    net_metering: bool = Field(
        True,
        description="one point of connection: the site never imports from and exports to the "
        "public grid in the same period (its renewables' export and its metered draw; rows "
        "net_metering.import_max / export_max, docs/math/grid.md). false: its exporting "
        "assets leave through a separate connection with their own meter, settled gross",
    )

    @model_validator(mode="after")
    def _counts(self) -> Site:
        most = self.blocks_max
        chosen = isinstance(self.blocks, Capacity)
        where = "blocks existing + max" if chosen else "blocks"
        more = "raise blocks.max" if chosen else "add blocks"
        if self.initial_on is not None and self.initial_on > most:
            raise ValueError(
                f"initial_on ({self.initial_on}) exceeds {where} ({most:g}); "
                f"lower initial_on or {more}"
            )
        if self.min_on > most:
            raise ValueError(
                f"min_on ({self.min_on}) exceeds {where} ({most:g}); lower min_on or {more}"
            )
        if isinstance(self.blocks, Capacity):
            _check_chosen_blocks(self.blocks)
        for field in ("initial_up_hours", "initial_down_hours"):
            if getattr(self, field) is not None and self.initial_on is None:
                raise ValueError(
                    f"{field} ({getattr(self, field)}) needs initial_on (the blocks on before "
                    "the horizon); give initial_on or remove it"
                )
        if self.power_cap_curve is not None:
            _check_cap_curve(self.power_cap_curve)
        if self.wue_cap is not None and self.cooling.water_use <= 0:
            raise ValueError(
                f"wue_cap ({self.wue_cap}) has no effect: cooling.water_use is 0; give "
                "cooling.water_use (m3 per MWh of heat) or remove wue_cap"
            )
        return self

    @property
    def blocks_max(self) -> float:
        """The most blocks installed: ``blocks``, or ``existing + max`` of a chosen number."""
        b = self.blocks
        if isinstance(b, Capacity):
            return float(b.existing + (b.max if b.extendable else 0.0))
        return float(b)

    @property
    def blocks_min(self) -> float:
        """The fewest blocks installed: ``blocks``, or ``existing + min`` of a chosen number."""
        b = self.blocks
        if isinstance(b, Capacity):
            return float(b.existing + (b.min if b.extendable else 0.0))
        return float(b)

    @property
    def full_block_it(self) -> float:
        """MW of IT power of one block at full load: ``idle_power + beta x block_capacity``."""
        beta = max(self.dynamic_power, self.dynamic_power_interactive or 0.0)
        return float(self.idle_power + beta * self.block_capacity)

    @property
    def rated_it(self) -> float:
        """P_rated, MW: ``design_it`` or the IT power of every block at full load.

        With a chosen number of blocks the default follows the choice (an expression in the
        model, ``docs/math/datacenter.md``); this number counts the most blocks,
        ``existing + max``.
        """
        if self.design_it is not None:
            return float(self.design_it)
        return float(self.always_on_it + self.blocks_max * self.full_block_it)


def _check_chosen_blocks(blocks: Capacity) -> None:
    """A chosen number of blocks: whole existing blocks, lumps of whole blocks.

    Raises
    ------
    ValueError
        Naming the field, its value and the fix.
    """
    if abs(blocks.existing - round(blocks.existing)) > 1e-9:
        raise ValueError(
            f"blocks.existing {blocks.existing:g} is not a whole number of blocks; give the "
            f"blocks installed already as an integer, e.g. {math.floor(blocks.existing)}"
        )
    size = blocks.unit_size
    if size is not None and abs(size - round(size)) > 1e-9:
        raise ValueError(
            f"blocks.unit_size {size:g} is not a whole number of blocks; a block is indivisible: "
            "give 1 (whole blocks), the blocks of a pod (e.g. 4), or null (any amount)"
        )


class InteractiveWorkload(_Model):
    """Latency-bound demand served every period at one of its eligible sites."""

    name: Name = Field(description="workload name")
    demand: Annotated[Profile, Range(what="demands")] = Field(
        description="compute units required each period"
    )
    sites: list[Name] = Field(min_length=1, description="eligible sites")
    max_utilization: Annotated[float, Field(gt=0, le=1)] = Field(
        1.0,
        description="utilisation headroom rho (0 < rho <= 1): the served compute counts as "
        "x_serve / rho in the blocks' capacity, so blocks on keep 1 - rho free for latency",
    )
    latency_ms: dict[Name, NonNeg] | None = Field(
        None,
        description="ms, round-trip network latency from the workload's users to each of its "
        "sites (e.g. ~5 within a province, ~35-45 over the ~2,300 km Chongqing-Hami route)",
    )
    max_latency_ms: Positive | None = Field(
        None,
        description="ms, the workload's latency class: only the sites of 'sites' whose "
        "latency_ms is at most this serve it (needs latency_ms for every site); null: every "
        "site listed",
    )

    @model_validator(mode="after")
    def _latency_class(self) -> InteractiveWorkload:
        if self.max_latency_ms is None:
            return self
        known = self.latency_ms or {}
        missing = [s for s in self.sites if s not in known]
        if missing:
            raise ValueError(
                f"max_latency_ms {self.max_latency_ms:g} needs latency_ms for every site; "
                f"missing: {missing}; add them, e.g. latency_ms: {{{missing[0]}: 30}}"
            )
        if not self.eligible_sites:
            raise ValueError(
                f"no site meets max_latency_ms {self.max_latency_ms:g}: latency_ms is "
                f"{ {s: known[s] for s in self.sites} }; raise max_latency_ms or add a closer site"
            )
        return self

    @property
    def eligible_sites(self) -> list[str]:
        """The listed sites that meet the latency class (all of them without one)."""
        if self.max_latency_ms is None:
            return list(self.sites)
        known = self.latency_ms or {}
        return [s for s in self.sites if known[s] <= self.max_latency_ms]


class BatchJob(_Model):
    """Deferrable work to finish between a release and a deadline."""

    name: Name = Field(description="job name")
    work: Positive = Field(description="compute unit x hours to complete")
    release: int | datetime = Field(0, description="first period (index or timestamp)")
    deadline: int | datetime | None = Field(
        None, description="end of the window, exclusive (index or timestamp); default: horizon end"
    )
    max_rate: Positive = Field(description="compute units the job can use at most per period")
    sites: list[Name] = Field(min_length=1, description="eligible sites")
    placement: Literal["split", "one_site"] = Field(
        "split",
        description="'split': the rate may be divided over the eligible sites each period; "
        "'one_site' (a synchronous job): it runs at one site in each placement window",
    )
    placement_hours: Positive | None = Field(
        None,
        description="h, length of a placement window of a one_site job, aligned to its "
        "release and rounded up to whole periods (the last window may be shorter); null: "
        "the job's whole window",
    )
    checkpoint_tb: Positive | None = Field(
        None,
        description="TB of checkpoint and data a one_site job moves when it changes site "
        "between placement windows: the move needs a data link, takes checkpoint_tb x 8,000 / "
        "bandwidth_gbps / 3,600 h plus restore_hours (the job does not run at its new site "
        "meanwhile) and costs checkpoint_tb x cost_per_tb + move_cost; null: moves between "
        "windows are free and instantaneous",
    )
    restore_hours: NonNeg = Field(
        0.0,
        description="h the job loses at its new site after a move (restore, warm-up), on top "
        "of the transfer (needs checkpoint_tb)",
    )
    move_cost: NonNeg = Field(
        0.0,
        description="CNY per move besides the transfer, e.g. the work lost since the last "
        "checkpoint (needs checkpoint_tb)",
    )
    gang_size: Positive | None = Field(
        None,
        description="compute units of one gang (a data-parallel replica): the job's rate at a "
        "site in a period is a whole number of gangs (integer dc.n_gang); null: any rate",
    )
    restart_cost: NonNeg = Field(
        0.0,
        description="CNY per start of the job (its first start in the window included): the "
        "checkpoint restore and warm-up a stopped job pays to run again (binary dc.z_job)",
    )
    min_run_hours: NonNeg = Field(
        0.0,
        description="h a started job keeps running (at min_rate or more) before it may stop, "
        "rounded up to whole periods; 0: none",
    )
    min_rate: NonNeg | None = Field(
        None,
        description="compute units the job uses at least while it runs (default: gang_size, "
        "else 0): a running job below it would make no progress worth its restart",
    )

    @property
    def floor_rate(self) -> float:
        """Compute units the job uses at least while running (``min_rate`` or a gang)."""
        if self.min_rate is not None:
            return float(self.min_rate)
        return float(self.gang_size or 0.0)

    @property
    def tracks_runs(self) -> bool:
        """Whether the job gets a running indicator (restarts, minimum run, minimum rate)."""
        return self.restart_cost > 0 or self.min_run_hours > 0 or (self.min_rate or 0.0) > 0

    @model_validator(mode="after")
    def _migration(self) -> BatchJob:
        if self.checkpoint_tb is not None and self.placement != "one_site":
            raise ValueError(
                f"checkpoint_tb ({self.checkpoint_tb:g}) applies to placement: one_site jobs "
                "(a split job moves its rate freely); set placement: one_site or remove it"
            )
        if self.gang_size is not None and self.gang_size > self.max_rate:
            raise ValueError(
                f"gang_size ({self.gang_size:g}) is above max_rate ({self.max_rate:g}): the job "
                "could never run; lower gang_size or raise max_rate"
            )
        if (self.min_run_hours > 0 or self.restart_cost > 0) and self.floor_rate <= 0:
            raise ValueError(
                "min_run_hours and restart_cost need a rate the running job keeps (else a job "
                "'running' at rate 0 would pause for free): give min_rate (compute units) or "
                "gang_size"
            )
        if self.floor_rate > self.max_rate:
            raise ValueError(
                f"min_rate ({self.floor_rate:g}) is above max_rate ({self.max_rate:g}); lower it"
            )
        if self.checkpoint_tb is None and (self.restore_hours > 0 or self.move_cost > 0):
            raise ValueError(
                "restore_hours and move_cost price a move, which needs checkpoint_tb (the TB "
                "moved); give checkpoint_tb or remove them"
            )
        return self


class DataLink(_Model):
    """A data link between two sites over which one_site jobs move their checkpoints."""

    name: Name = Field(description="link name")
    sites: list[Name] = Field(
        min_length=2, max_length=2, description="the two sites it joins (both directions)"
    )
    bandwidth_gbps: Positive = Field(description="Gbit/s available to a job's move")
    cost_per_tb: NonNeg = Field(0.0, description="CNY per TB moved")

    @model_validator(mode="after")
    def _two_sites(self) -> DataLink:
        if self.sites[0] == self.sites[1]:
            raise ValueError(f"sites {self.sites}: a data link joins two different sites")
        return self


class Renewable(_Model):
    """On-site or direct-connected (绿电直连) PV / wind: capacity x profile, curtailable.

    The ``contract`` sets what the site pays (``docs/math/renewables.md``): ``owned`` (no
    price per MWh; capex and fixed O&M in ``fixed_cost``), ``take_or_pay`` (``price`` on every
    MWh *available*, used or not: a constant) or ``pay_as_produced`` (``price`` on every MWh
    taken, used on site or exported; the default, the behaviour before contracts existed).
    Surplus may be sold to the grid where the contract allows it (``export_price``). Assets
    with ``direct: true`` at one site form that site's 绿电直连 project (发改能源〔2025〕650号):
    ``min_self_consumption``, ``min_supply_share``, ``grid_charge`` and ``connection_charge``.
    """

    name: Name = Field(description="asset name")
    site: Name = Field(description="site the asset is connected to")
    kind: Literal["pv", "wind", "hydro", "other"] = Field("pv", description="technology")
    capacity: NonNeg | Capacity = Field(
        description="MW (or a Capacity: chosen by the model; available power is capacity x profile)"
    )
    profile: Annotated[Profile, Range(high=1.0, what="availability per unit of capacity")] = Field(
        description="availability per unit of capacity, 0..1"
    )
    contract: Literal["owned", "take_or_pay", "pay_as_produced"] = Field(
        "pay_as_produced",
        description="'owned': no price per MWh (fixed_cost only); 'take_or_pay': price x "
        "available MWh, used or not (a constant); 'pay_as_produced': price x MWh taken "
        "(used on site plus exported)",
    )
    price: NonNeg = Field(
        0.0,
        description="CNY/MWh: per MWh taken (pay_as_produced) or available (take_or_pay); "
        "must be 0 for 'owned'. 'cost' is accepted as a deprecated alias",
    )
    fixed_cost: NonNeg = Field(
        0.0,
        description="CNY per day (annualised capex and fixed O&M / 365), pro rata over the "
        "horizon (hours / 24); a constant, cost term renewables_fixed",
    )
    export_price: Annotated[Profile | None, Range(low=None, what="prices")] = Field(
        None,
        description="CNY/MWh earned per MWh of surplus fed into the grid (number or series); "
        "null: the contract allows no export",
    )
    max_export_share: Fraction | None = Field(
        None,
        description="exported energy <= this share of the available energy over the horizon "
        "(绿电直连 grid-connected projects: 0.2 [R]); null: no limit; needs export_price",
    )
    direct: bool = Field(
        False,
        description="绿电直连 project member: the site's direct assets together form one "
        "project for min_self_consumption and min_supply_share",
    )
    min_self_consumption: Fraction | None = Field(
        None,
        description="the project's energy used on site >= this share of its available energy "
        "over the horizon (650号: 0.6); needs direct: true; the strictest member's value applies",
    )
    min_supply_share: Fraction | None = Field(
        None,
        description="the project's energy used on site >= this share of the site's consumption "
        "over the horizon (650号: 0.3, 0.35 from 2030); needs direct: true; the strictest "
        "member's value applies",
    )
    grid_charge: Annotated[Profile, Range(what="charges")] = Field(
        0.0,
        description="CNY/MWh used on site: grid charges a direct-line project still owes "
        "(system operation, cross-subsidy, government funds); cost term renewable_grid_charge",
    )
    connection_charge: NonNeg = Field(
        0.0,
        description="CNY per MW of connection_mw per month (T&D on connection capacity), pro "
        "rata over the horizon (hours / 730); cost term renewable_connection",
    )
    connection_mw: NonNeg | None = Field(
        None, description="MW the connection_charge applies to; default: capacity"
    )

    @model_validator(mode="before")
    @classmethod
    def _cost_alias(cls, data):
        if isinstance(data, dict) and "cost" in data:
            if "price" in data:
                raise ValueError(
                    "give 'price' only: 'cost' is its deprecated alias, and both are given "
                    f"(cost={data['cost']!r}, price={data['price']!r})"
                )
            data = {("price" if k == "cost" else k): v for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _contract_fields(self) -> Renewable:
        if self.contract == "owned" and self.price > 0:
            raise ValueError(
                f"price={self.price:g} with contract 'owned': an owned plant has no price per "
                "MWh; put its capex and O&M in fixed_cost, or use contract 'pay_as_produced'"
            )
        if self.max_export_share is not None and self.export_price is None:
            raise ValueError(
                f"max_export_share={self.max_export_share:g} without export_price: set "
                "export_price (CNY/MWh) or remove max_export_share"
            )
        for key in ("min_self_consumption", "min_supply_share"):
            if getattr(self, key) is not None and not self.direct:
                raise ValueError(
                    f"{key}={getattr(self, key):g} needs direct: true (the ratios of "
                    "发改能源〔2025〕650号 apply to 绿电直连 projects); set direct: true or "
                    f"remove {key}"
                )
        return self


class Storage(_Model):
    """A battery at a site."""

    name: Name = Field(description="battery name")
    site: Name = Field(description="site the asset is connected to")
    power: NonNeg | Capacity = Field(
        description="MW, charge and discharge limit (or a Capacity: chosen by the model)"
    )
    energy: NonNeg | Capacity = Field(
        description="MWh capacity (or a Capacity: chosen by the model)"
    )
    eta_charge: Efficiency = Field(0.95, description="charge efficiency, 0..1")
    eta_discharge: Efficiency = Field(0.95, description="discharge efficiency, 0..1")
    self_discharge: Fraction = Field(0.0, description="fraction of stored energy lost per hour")
    soc_initial: Fraction = Field(0.5, description="initial state of charge, fraction of energy")
    soc_final: Literal["cyclic", "free"] | Fraction = Field(
        "cyclic",
        description="'cyclic': end >= initial; 'free': no rule; a number: end >= that fraction",
    )
    throughput_cost: NonNeg = Field(0.0, description="CNY per MWh charged plus discharged")
    no_simultaneous: bool = Field(
        False, description="binary forbidding charge and discharge in the same period"
    )


class Corridor(_Model):
    """Cross-province green-power purchase over a transmission corridor.

    ``capacity`` and purchases are measured at the sending end; the receiving node's sites
    get ``(1 - loss)`` of it.
    """

    name: Name = Field(description="corridor name")
    from_node: Name = Field(description="sending node")
    to_node: Name = Field(description="receiving node; its sites share the delivery")
    capacity: Annotated[Profile, Range(what="capacities")] = Field(
        description="MW available to the buyer at the sending end"
    )
    source_price: Annotated[Profile, Range(what="prices")] = Field(
        description="CNY/MWh at the sending end"
    )
    tariff: NonNeg = Field(0.0, description="transmission tariff, CNY/MWh sent")
    loss: Annotated[float, Field(ge=0, lt=1)] = Field(0.0, description="loss factor, 0..1")
    green_fraction: Fraction = Field(1.0, description="share of delivered energy that is green")
    block_mw: Positive | None = Field(
        None, description="if set: purchases in integer blocks of this size (MW, sending end)"
    )
    windows: list[str] | None = Field(
        None,
        description="contract windows 'HH:MM-HH:MM'; with block_mw the number of blocks is "
        "constant within each window of each day; default: the whole day",
    )
    min_mw: NonNeg = Field(0.0, description="minimum purchase in every period, MW")
    contract_mw: NonNeg | Capacity | None = Field(
        None,
        description="MW of the corridor contract (sending end): what is sent is at most this "
        "in every period, within capacity; a Capacity: chosen by the model, its annuity the "
        "contract's fee per MW and year (fixed_om_per_unit_year); null (the default): no "
        "contract limit",
    )
    loss_basis: Literal["physical", "in_tariff"] = Field(
        "physical",
        description="'physical': the receiving end gets (1 - loss) x sent and the tariff "
        "excludes losses; 'in_tariff': the tariff already includes the losses (含线损, e.g. "
        "the UHV tariffs of 发改办价格〔2021〕958号), energy is settled as delivered and loss "
        "must be 0",
    )
    green_profile: Annotated[Profile | None, Range(what="capacities")] = Field(
        None,
        description="contracted renewable output at the sending end, MW (number or series "
        "column): the green part of what is sent is at most this in each period (and at most "
        "green_fraction x sent); null: green_fraction x sent is green",
    )
    deviation_price_up: Annotated[Profile | None, Range(low=None, what="prices")] = Field(
        None,
        description="with block_mw: CNY/MWh (at the sending end) paid for energy taken "
        "above the blocks held in a window; null: no energy above the blocks",
    )
    deviation_price_down: Annotated[Profile | None, Range(low=None, what="prices")] = Field(
        None,
        description="with block_mw: CNY/MWh (at the sending end) credited for energy of the "
        "blocks held but not taken (the blocks are paid in full; negative: a penalty on top); "
        "at most deviation_price_up; null: every block held is taken",
    )

    @field_validator("windows")
    @classmethod
    def _windows_parse(cls, value: list[str] | None) -> list[str] | None:
        for text in value or []:
            parse_clock_range(text, "windows")
        return value

    @model_validator(mode="after")
    def _pricing_basis(self) -> Corridor:
        if self.loss_basis == "in_tariff" and self.loss > 0:
            raise ValueError(
                f"loss {self.loss:g} with loss_basis 'in_tariff': the tariff already includes "
                "the losses, so they would be counted twice; set loss: 0 (energy settled as "
                "delivered), or loss_basis: physical with a tariff that excludes the losses"
            )
        given = [
            f
            for f in ("deviation_price_up", "deviation_price_down")
            if getattr(self, f) is not None
        ]
        if self.block_mw is None and given:
            raise ValueError(
                f"{given[0]} settles energy off the contracted blocks, but block_mw is not "
                "set; set block_mw, or remove the deviation prices"
            )
        up, down = self.deviation_price_up, self.deviation_price_down
        if isinstance(up, float) and isinstance(down, float) and down > up:
            raise ValueError(
                f"deviation_price_down {down:g} > deviation_price_up {up:g}: energy could be "
                "bought above the blocks and credited below them at a profit in the same "
                "period; lower deviation_price_down to at most deviation_price_up"
            )
        return self


class GreenContract(_Model):
    """A local green-power contract at a node (e.g. provincial green-power trading)."""

    name: Name = Field(description="contract name")
    node: Name = Field(description="node whose sites share the delivery")
    capacity: Annotated[Profile, Range(what="capacities")] = Field(description="MW deliverable")
    price: Annotated[Profile, Range(what="prices")] = Field(description="CNY/MWh")
    gec: Literal["bundled", "non_tradable", "none"] = Field(
        "bundled",
        description="certificates that come with the energy: 'bundled' (tradable GECs "
        "transferred with the settled energy, 绿电交易), 'non_tradable' (non-tradable GECs "
        "transferred with it, e.g. hydro commissioned before 2023); both count as green; "
        "'none': no certificates, the energy is not green",
    )
    contract_mw: NonNeg | Capacity | None = Field(
        None,
        description="MW of the contract: what is delivered is at most this in every period, "
        "within capacity; a Capacity: chosen by the model, its annuity the contract's fee "
        "per MW and year (fixed_om_per_unit_year); null (the default): no contract limit",
    )


class Certificates(_Model):
    """Unbundled green certificates (GEC, 1 certificate = 1 MWh)."""

    price: NonNeg = Field(description="CNY per certificate (MWh)")
    max_share: Fraction | None = Field(
        None, description="cap on certificates as a share of electricity consumed"
    )


class GreenYear(_Model):
    """The rest of a scope's year around the horizon, for an annual green share.

    Give either the four energies (year to date and forecast for the rest of the year) or
    ``allowance_mwh``.
    """

    green_to_date_mwh: NonNeg = Field(
        0.0, description="green energy (with certificates) this year before the horizon, MWh"
    )
    consumption_to_date_mwh: NonNeg = Field(
        0.0, description="electricity consumed this year before the horizon, MWh"
    )
    green_forecast_mwh: NonNeg = Field(
        0.0, description="green energy forecast from the horizon's end to the year's end, MWh"
    )
    consumption_forecast_mwh: NonNeg = Field(
        0.0, description="consumption forecast from the horizon's end to the year's end, MWh"
    )
    allowance_mwh: float | None = Field(
        None,
        description="instead of the four: green energy the horizon may lack below target x "
        "its consumption, MWh (negative: the horizon must exceed it by that much)",
    )

    @model_validator(mode="after")
    def _one_form(self) -> GreenYear:
        _one_budget_form(self, ("green", "consumption"))
        return self


class GreenSharePolicy(_Model):
    """Green share of electricity consumed, over the horizon or over the year."""

    target: Fraction = Field(0.8, description="minimum green share of consumption, 0..1")
    scope: Literal["portfolio", "site"] = Field(
        "site",
        description="'site': each data center meets its target (the rule: per new data "
        "center); 'portfolio': one target over all sites (pools sites)",
    )
    site_targets: dict[Name, Fraction | None] = Field(
        default_factory=dict,
        description="scope 'site': a target per site overriding 'target' (null: no target "
        "at that site, e.g. outside a hub node)",
    )
    basis: Literal["horizon", "year"] = Field(
        "horizon",
        description="'horizon': the horizon's own share meets the target (on a day, stricter "
        "than the annual rule); 'year': the year's share (year to date + horizon + forecast, "
        "from 'year') meets it",
    )
    year: dict[Name, GreenYear] = Field(
        default_factory=dict,
        description="basis 'year': the rest of the year per scope ('portfolio' or a site name)",
    )
    shortfall_price: NonNeg | None = Field(
        None,
        description="CNY per MWh of green energy missing for the target: the target becomes "
        "a priced (soft) budget; null: a hard constraint",
    )
    matching: Literal["horizon", "month", "day", "hour"] = Field(
        "horizon",
        description="time granularity of the match: 'horizon' (volumetric, certificates "
        "count); 'month', 'day' or 'hour' (24/7): green supply covers the target share of "
        "use in each calendar month / day / clock hour, certificates do not count",
    )

    @model_validator(mode="after")
    def _basis_year(self) -> GreenSharePolicy:
        _basis_matches_year(self.basis, self.year)
        if self.site_targets and self.scope != "site":
            raise ValueError(
                "site_targets apply to scope 'site' only; set scope: site, or remove site_targets"
            )
        if self.matching != "horizon" and self.basis == "year":
            raise ValueError(
                f"matching '{self.matching}' is judged in each {self.matching} of the horizon "
                "and cannot be combined with basis 'year'; use matching 'horizon' for a "
                "yearly budget"
            )
        return self


class PueYear(_Model):
    """The rest of a site's year around the horizon, for its annual PUE (GB 40879-2021).

    Give either the four energies (year to date and forecast for the rest of the year) or
    ``allowance_mwh``.
    """

    facility_to_date_mwh: NonNeg = Field(
        0.0, description="facility energy metered this year before the horizon, MWh"
    )
    it_to_date_mwh: NonNeg = Field(
        0.0, description="IT energy metered this year before the horizon, MWh"
    )
    facility_forecast_mwh: NonNeg = Field(
        0.0, description="facility energy forecast from the horizon's end to the year's end, MWh"
    )
    it_forecast_mwh: NonNeg = Field(
        0.0, description="IT energy forecast from the horizon's end to the year's end, MWh"
    )
    allowance_mwh: float | None = Field(
        None,
        description="instead of the four: facility energy the horizon may use above cap x "
        "its IT energy, MWh (negative: it must stay that far below)",
    )

    @model_validator(mode="after")
    def _one_form(self) -> PueYear:
        _one_budget_form(self, ("facility", "it"))
        return self


class PuePolicy(_Model):
    """Energy-weighted PUE cap per site, over the horizon or over the year."""

    cap: Annotated[float, Field(ge=1)] = Field(
        1.25, description="PUE cap (1.25 for 2026 new sites, 1.2 from 2027)"
    )
    basis: Literal["horizon", "year"] = Field(
        "horizon",
        description="'horizon': the horizon's own PUE meets the cap (the rule's period when the "
        "horizon is the year; on a day a stricter reading that rewards loading the capped "
        "site); 'year': the year's PUE (year to date + horizon + forecast, from 'year') meets "
        "it, as GB 40879 judges it",
    )
    year: dict[Name, PueYear] = Field(
        default_factory=dict, description="basis 'year': the rest of the year per site"
    )
    excess_price: NonNeg | None = Field(
        None,
        description="CNY per MWh of facility energy above the budget: the cap becomes a "
        "priced (soft) budget; null: a hard constraint",
    )

    @model_validator(mode="after")
    def _basis_year(self) -> PuePolicy:
        _basis_matches_year(self.basis, self.year)
        return self


class DirectYear(_Model):
    """The rest of a 绿电直连 project's year around the horizon, for its annual 650号 ratios.

    Per site (its ``direct: true`` assets form the project). Give either the year's energies
    (to date and forecast for the rest of the year) or the allowances, one per ratio the
    project states.
    """

    available_to_date_mwh: NonNeg = Field(
        0.0, description="the project's available energy this year before the horizon, MWh"
    )
    used_to_date_mwh: NonNeg = Field(
        0.0, description="the project's energy used on site this year before the horizon, MWh"
    )
    consumption_to_date_mwh: NonNeg = Field(
        0.0, description="the site's electricity consumed this year before the horizon, MWh"
    )
    available_forecast_mwh: NonNeg = Field(
        0.0,
        description="the project's available energy forecast from the horizon's end to the "
        "year's end, MWh",
    )
    used_forecast_mwh: NonNeg = Field(
        0.0,
        description="the project's energy used on site forecast from the horizon's end to the "
        "year's end, MWh",
    )
    consumption_forecast_mwh: NonNeg = Field(
        0.0,
        description="the site's consumption forecast from the horizon's end to the year's end, MWh",
    )
    self_consumption_allowance_mwh: float | None = Field(
        None,
        description="instead of the energies: project energy the horizon may use on site "
        "below min_self_consumption x its available energy, MWh (negative: it must exceed it "
        "by that much); needed when the project states min_self_consumption",
    )
    supply_allowance_mwh: float | None = Field(
        None,
        description="instead of the energies: project energy the horizon may use on site "
        "below min_supply_share x the site's consumption, MWh (negative: it must exceed it by "
        "that much); needed when the project states min_supply_share",
    )

    @model_validator(mode="after")
    def _one_form(self) -> DirectYear:
        names = [
            f"{e}_{when}_mwh"
            for when in ("to_date", "forecast")
            for e in ("available", "used", "consumption")
        ]
        given = [n for n in names if n in self.model_fields_set]
        allowances = [
            n
            for n in ("self_consumption_allowance_mwh", "supply_allowance_mwh")
            if getattr(self, n) is not None
        ]
        if allowances and given:
            raise ValueError(
                f"give either the allowances or the year's energies {', '.join(names)}, not "
                f"both (given: {', '.join(allowances + given)})"
            )
        if not allowances and not given:
            raise ValueError(
                "give self_consumption_allowance_mwh / supply_allowance_mwh or the year's "
                f"energies {', '.join(names)}"
            )
        return self


class DirectSupplyPolicy(_Model):
    """The 650号 ratios of the 绿电直连 projects, judged over the horizon or over the year.

    The ratios themselves are stated on the assets (``renewables[].min_self_consumption``,
    ``min_supply_share``); this sets the period they are judged over for every project.
    """

    basis: Literal["horizon", "year"] = Field(
        "horizon",
        description="'horizon': each project's ratios are met by the horizon's own energies; "
        "'year': by the year's (year to date + horizon + forecast, from 'year'), as 650号 "
        "judges them",
    )
    year: dict[Name, DirectYear] = Field(
        default_factory=dict,
        description="basis 'year': the rest of the year per project (a site name)",
    )

    @model_validator(mode="after")
    def _basis_year(self) -> DirectSupplyPolicy:
        _basis_matches_year(self.basis, self.year)
        return self


def _one_budget_form(budget: GreenYear | PueYear, energies: tuple[str, str]) -> None:
    """Either ``allowance_mwh`` or the to-date/forecast energies, not both, not neither."""
    names = [f"{e}_{when}_mwh" for when in ("to_date", "forecast") for e in energies]
    given = [n for n in names if n in budget.model_fields_set]
    if budget.allowance_mwh is not None and given:
        raise ValueError(
            f"give either allowance_mwh or {', '.join(names)}, not both (given: "
            f"allowance_mwh and {', '.join(given)})"
        )
    if budget.allowance_mwh is None and not given:
        raise ValueError(f"give allowance_mwh or the year's energies {', '.join(names)}")


def _basis_matches_year(basis: str, year: dict) -> None:
    """``year`` data is given exactly when ``basis`` is ``'year'``."""
    if basis == "year" and not year:
        raise ValueError(
            "basis 'year' needs 'year': the year-to-date and forecast energies (or an "
            "allowance) per site or scope; or use basis 'horizon'"
        )
    if basis == "horizon" and year:
        raise ValueError(
            f"'year' is given ({', '.join(year)}) but basis is 'horizon', so it would be "
            "ignored; set basis: year, or remove 'year'"
        )


class CfePolicy(_Model):
    """24/7 carbon-free energy: the hourly-matched CFE score a buyer commits to (90-100 %)."""

    score: Fraction = Field(
        description="least carbon-free share of the electricity consumed, matched in the "
        "period it is consumed: own and contracted green energy, the grid's carbon-free share "
        "of the hour (grid_cfe), no certificates; 0..1 (0.9: 90 %)"
    )
    scope: Literal["site", "portfolio"] = Field(
        "site", description="'site': each data center meets the score; 'portfolio': pooled"
    )
    site_targets: dict[Name, Fraction | None] = Field(
        default_factory=dict,
        description="scope 'site': a score per site overriding 'score' (null: no 24/7 target "
        "at that site, e.g. a site under the annual green rule only)",
    )

    @model_validator(mode="after")
    def _site_targets_scope(self) -> CfePolicy:
        if self.site_targets and self.scope != "site":
            raise ValueError(
                "site_targets apply to scope 'site' only; set scope: site, or remove site_targets"
            )
        return self


class Policies(_Model):
    """Targets: each is off when absent (null)."""

    # without the pydantic mypy plugin a model class is not seen as a zero-argument factory
    green_share: GreenSharePolicy | None = Field(
        default_factory=GreenSharePolicy,  # type: ignore[arg-type]
        description="green-share target; null: none",
    )
    pue: PuePolicy | None = Field(
        default_factory=PuePolicy,  # type: ignore[arg-type]
        description="PUE cap; null: none",
    )
    direct_supply: DirectSupplyPolicy | None = Field(
        None,
        description="the period the 绿电直连 ratios (650号) are judged over; null: the horizon",
    )
    cfe: CfePolicy | None = Field(
        None, description="24/7 carbon-free energy score target (docs/math/cfe.md); null: none"
    )
    carbon_price: NonNeg = Field(0.0, description="CNY/tCO2 on the emissions of carbon_basis")
    carbon_basis: Literal["location", "market"] = Field(
        "market",
        description="emissions the carbon price applies to: 'market' (grid energy at the "
        "residual factor; green purchases and certificates count as zero) or 'location' "
        "(all grid-delivered energy at the grid factor)",
    )


class ScenarioConfig(_Model):
    """A complete scenario."""

    name: Name = Field("scenario", description="scenario name, reported with the results")
    description: str = Field("", description="free text")
    compute_unit: str = Field("PFLOPS", description="unit of compute rates (work: unit x h)")
    horizon: Horizon = Field(description="planning horizon")
    series: list[str] = Field(default_factory=list, description="CSV files of time series")
    nodes: list[Node] = Field(min_length=1, description="grid nodes")
    sites: list[Site] = Field(min_length=1, description="data centers")
    interactive: list[InteractiveWorkload] = Field(
        default_factory=list, description="latency-bound workloads"
    )
    batch: list[BatchJob] = Field(default_factory=list, description="deferrable jobs")
    data_links: list[DataLink] = Field(
        default_factory=list, description="data links jobs move their checkpoints over"
    )
    renewables: list[Renewable] = Field(
        default_factory=list, description="on-site / direct-connected renewables"
    )
    storage: list[Storage] = Field(default_factory=list, description="batteries")
    thermal_storage: list[ThermalStorage] = Field(
        default_factory=list, description="chilled-water / ice tanks on the air path"
    )
    heat_recovery: list[HeatRecovery] = Field(
        default_factory=list, description="heat pumps selling the liquid loop's waste heat"
    )
    corridors: list[Corridor] = Field(
        default_factory=list, description="cross-province green-power corridors"
    )
    green_contracts: list[GreenContract] = Field(
        default_factory=list, description="local green contracts"
    )
    certificates: Certificates | None = Field(None, description="unbundled certificates")
    demand_response: list[DemandResponseEvent] = Field(
        default_factory=list, description="VPP demand-response events called by the grid"
    )
    reserves: list[ReserveProduct] = Field(
        default_factory=list, description="reserve products batteries may offer headroom to"
    )
    policies: Policies = Field(
        default_factory=Policies,  # type: ignore[arg-type]  # as in Policies
        description="targets and prices",
    )
    uncertainty: Uncertainty | None = Field(
        None,
        description="tomorrow's scenarios for a two-stage plan (suandian.solve_stochastic; "
        "a deterministic solve ignores it)",
    )


def parse_clock_range(text: str, field: str) -> tuple[float, float]:
    """Parse ``'HH:MM-HH:MM'`` into hours since midnight ``(start, end)``; end may be 24:00.

    Raises
    ------
    ValueError
        naming the field and the expected format.
    """
    try:
        start_text, end_text = text.split("-")
        start = _clock_hours(start_text)
        end = _clock_hours(end_text)
    except ValueError:
        raise ValueError(
            f"{field}: '{text}' is not a clock range; write 'HH:MM-HH:MM', e.g. '08:00-11:30'"
        ) from None
    if not 0 <= start < end <= 24:
        raise ValueError(
            f"{field}: '{text}' must start before it ends within one day (00:00-24:00); "
            "split ranges across midnight in two, e.g. '23:00-24:00' and '00:00-07:00'"
        )
    return start, end


def _clock_hours(text: str) -> float:
    hours, minutes = text.strip().split(":")
    return int(hours) + int(minutes) / 60.0


# ------------------------------------------------------------ sections declared by components
_MODELS: dict[str, type[ScenarioConfig]] = {}


def _catalogue() -> tuple:
    from ..catalogue import every

    return every()


def config_model(components: tuple | None = None) -> type[ScenarioConfig]:
    """The scenario schema: :class:`ScenarioConfig` plus the fields components declare.

    Parameters
    ----------
    components : tuple of Component, optional
        Default: every known component (the registries and :func:`suandian.components.register`).

    Returns
    -------
    type
        ``ScenarioConfig`` itself if no component declares a field, else a subclass named
        ``ScenarioConfig_<fields>`` that is also an attribute of this module (so that its
        instances pickle, e.g. to a Dask worker that imports the same components).

    Raises
    ------
    ValueError
        Two components declare the same field, or a declared field exists already.
    """
    components = _catalogue() if components is None else components
    fields: dict[str, tuple] = {}
    owners: dict[str, str] = {}
    for component in components:
        for f in component.scenario_fields:
            if f.name in ScenarioConfig.model_fields or f.name in fields:
                other = owners.get(f.name, "ScenarioConfig")
                raise ValueError(
                    f"scenario field {f.name!r} is declared by {component.name!r} and by "
                    f"{other!r}; rename one of them"
                )
            fields[f.name] = (f.annotation, f.default)
            owners[f.name] = component.name
    if not fields:
        return ScenarioConfig
    name = "ScenarioConfig_" + "_".join(sorted(fields))
    if name not in _MODELS:
        model = create_model(  # type: ignore[call-overload]
            name, __base__=ScenarioConfig, __module__=__name__, **fields
        )
        model.__doc__ = ScenarioConfig.__doc__
        _MODELS[name] = model
    return _MODELS[name]


def __getattr__(name: str) -> type[ScenarioConfig]:
    """Rebuild a ``ScenarioConfig_<fields>`` class on first use (unpickling in a new process)."""
    if name.startswith("ScenarioConfig_"):
        model = config_model()
        if model.__name__ == name:
            return model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
