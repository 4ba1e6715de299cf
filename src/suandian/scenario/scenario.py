"""A validated scenario: configuration plus time series aligned to the horizon."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd

from . import rolling, schema
from .series import horizon_index


class Scenario:
    """A validated scenario.

    Use :func:`suandian.load_scenario` to make one; it checks everything before returning.

    Attributes
    ----------
    config : ScenarioConfig
        The validated configuration.
    series : pandas.DataFrame
        Time series aligned to the horizon (index ``time``, one column per series).
    base_dir : Path
        Directory relative file paths start from.
    history : pandas.DataFrame
        The rows of the time-indexed series before the horizon (index ``time``; empty when
        none), not aligned: what a rule looking back reads (the DR baseline of the previous
        like days). A window holds its horizon's history and the periods before it.
    """

    #: the validation of :func:`~suandian.scenario.load_scenario` (set by its module), which
    #: :meth:`with_state` and :meth:`window` run on the new configuration
    _reload: ClassVar[rolling.Reload | None] = None

    def __init__(
        self,
        config: schema.ScenarioConfig,
        series: pd.DataFrame,
        base_dir: Path,
        history: pd.DataFrame | None = None,
    ):
        self.config = config
        self.series = series
        self.base_dir = Path(base_dir)
        self.history = rolling.no_history() if history is None else history

    # ------------------------------------------------------------ state, windows
    def with_state(self, state: dict[str, Any]) -> Scenario:
        """A new scenario starting from ``state`` (as :meth:`Result.final_state` returns it).

        Each family named in ``state`` sets its initial-state fields (``docs/scenario-format.md``,
        "State and windows"); the new configuration is validated again like a loaded file.

        Raises
        ------
        ScenarioError
            naming the field, for a state that makes the scenario invalid (e.g. a battery
            charge above its energy: ``storage[0].soc_initial``) or an unknown family.
        """
        return rolling.with_state(self, state, self._loader())

    def edited(self, edit: Callable[[dict[str, Any]], None]) -> Scenario:
        """A new scenario: the raw configuration changed in place by ``edit``, validated again.

        ``edit`` receives the configuration as the raw mapping it was validated from (series
        files replaced by the loaded table, which the new scenario shares): for example the
        scenario without its ``no_event`` demand-response events.

        Raises
        ------
        ScenarioError
            naming the field, when the edit makes the scenario invalid.
        """
        return rolling.edited(self, edit, self._loader())

    def window(self, start: int, periods: int, state: dict[str, Any] | None = None) -> Scenario:
        """The periods ``start .. start + periods - 1`` as a validated scenario.

        Time series are sliced and the horizon starts at period ``start``; each family cuts
        its section (batch jobs shifted, clipped or dropped; stored charges without an end
        rule before the last window), see ``docs/scenario-format.md``, "State and windows".
        With ``state`` the window starts from it (as :meth:`with_state`), applied before the
        validation: a job released before the window may fit only once its work done is
        handed over.
        """
        return rolling.window(self, start, periods, self._loader(), state)

    def raw_horizon(self) -> rolling.RawHorizon:
        """The scenario as a raw, unvalidated horizon to cut windows from (a rolling run)."""
        return rolling.RawHorizon.of(self, self._loader())

    @classmethod
    def _loader(cls) -> rolling.Reload:
        if cls._reload is None:  # pragma: no cover - suandian.scenario imports load
            raise RuntimeError("import suandian.scenario (its load module validates)")
        return cls._reload

    def __repr__(self) -> str:
        c = self.config
        return (
            f"Scenario({c.name!r}: {c.horizon.periods} x {c.horizon.resolution} from "
            f"{self.time[0]}, {len(c.sites)} sites, {len(c.interactive)} interactive, "
            f"{len(c.batch)} batch, {len(c.storage)} storage, {len(c.corridors)} corridors)"
        )

    def section(self, name: str) -> Any:
        """A top-level section by its key, also one a component declares in its own module."""
        return getattr(self.config, name)

    # ------------------------------------------------------------------ time
    @cached_property
    def time(self) -> pd.DatetimeIndex:
        """Start time of every period."""
        h = self.config.horizon
        return horizon_index(h.start, h.periods, h.resolution)

    @property
    def periods(self) -> int:
        """Number of periods T."""
        return self.config.horizon.periods

    @cached_property
    def dt(self) -> float:
        """Length of a period in hours (Δ)."""
        return pd.Timedelta(pd.tseries.frequencies.to_offset(self.config.horizon.resolution)) / (
            pd.Timedelta("1h")
        )

    @cached_property
    def weights(self) -> np.ndarray:
        """Per-period weights ``w_t`` (T,) of ``horizon.weights`` (all 1 by default)."""
        return self.profile(self.config.horizon.weights)

    @property
    def budget(self) -> np.ndarray | None:
        """1 where annual budgets count a period (``horizon.budget_periods``), else 0.

        None when they count every period.
        """
        n = self.config.horizon.budget_periods
        if n is None or n >= self.periods:
            return None
        return (np.arange(self.periods) < n).astype(float)

    @property
    def probability(self) -> float:
        """Probability of the scenario (``horizon.probability``, default 1)."""
        return float(self.config.horizon.probability)

    @cached_property
    def clock_hours(self) -> np.ndarray:
        """Hour of day (float) at the start of each period."""
        t = self.time
        return t.hour.to_numpy() + t.minute.to_numpy() / 60.0

    # ------------------------------------------------------------ profiles
    def profile(self, value: schema.Profile | schema.TimeOfUse | None) -> np.ndarray:
        """Return a (T,) float array for a number, a series name or a TOU tariff."""
        if isinstance(value, schema.TimeOfUse):
            return self.tou_prices(value)
        if isinstance(value, str):
            return self.series[value].to_numpy(dtype=float)
        return np.full(self.periods, float(value if value is not None else 0.0))

    def tou_prices(self, tou: schema.TimeOfUse) -> np.ndarray:
        """Expand a time-of-use tariff to a price per period (CNY/MWh).

        The table of each period's month (a season's, else the base table) gives the band and
        its price; in the critical-peak days and clock ranges the price is the critical
        ``price``, or ``multiplier`` x the price of ``reference_band`` (default ``peak``) in
        that table, whatever the band of the period (NDRC 1093号 prices the critical peak on
        the peak price).
        """
        return self._tou(tou)[1]

    def tou_bands(self, tou: schema.TimeOfUse) -> np.ndarray:
        """Band name of each period of a time-of-use tariff (``critical_peak`` where it applies)."""
        return self._tou(tou)[0]

    def _tou(self, tou: schema.TimeOfUse) -> tuple[np.ndarray, np.ndarray]:
        """(bands, prices) per period; vectorised over the periods, loops over tables/ranges."""
        hours = self.clock_hours
        month = self.time.month.to_numpy()
        bands = np.full(self.periods, tou.default, dtype=object)
        prices = np.full(self.periods, np.nan)
        tables: list[tuple[schema.TimeOfUse | schema.TouSeason, np.ndarray]] = [
            (tou, ~np.isin(month, [m for s in tou.seasons for m in s.months]))
        ]
        tables += [(s, np.isin(month, s.months)) for s in tou.seasons]
        for table, in_table in tables:
            b = np.full(self.periods, table.default, dtype=object)
            for band, ranges in table.periods.items():
                for text in ranges:
                    start, end = schema.parse_clock_range(text, band)
                    b[(hours >= start) & (hours < end)] = band
            bands[in_table] = b[in_table]
            lookup = np.array([table.prices[x] for x in b[in_table]], dtype=float)
            prices[in_table] = lookup
        for cp in tou.critical_peak:
            if cp.months is not None:
                day = np.isin(month, cp.months)
            else:
                day = np.zeros(self.periods, dtype=bool)
                year, dom = self.time.year.to_numpy(), self.time.day.to_numpy()
                for text in cp.dates or []:  # months or dates (validated)
                    y, m, d = schema.critical_day(text)
                    day |= (month == m) & (dom == d) & ((year == y) if y is not None else True)
            clock = np.zeros(self.periods, dtype=bool)
            for text in cp.periods:
                start, end = schema.parse_clock_range(text, "critical_peak.periods")
                clock |= (hours >= start) & (hours < end)
            critical = day & clock
            if cp.multiplier is None:
                prices[critical] = cp.price
            else:
                # multiplier x the reference band's price of the table in force that day
                # (validated: every table in force on a critical day prices the band)
                for table, in_table in tables:
                    here = critical & in_table
                    if here.any():
                        prices[here] = cp.multiplier * table.prices[cp.reference_band]
            bands[critical] = "critical_peak"
        return bands, prices

    def residual_factor(self, node: schema.Node) -> np.ndarray:
        """Market-based residual-mix factor per period (default: the grid factor), tCO2/MWh."""
        value = node.residual_emission_factor
        return self.profile(node.emission_factor if value is None else value)

    def cop(self, site: schema.Site) -> np.ndarray:
        """Cooling COP per period of a site (given, or derived from the weather).

        The plant's effective COP: heat removed per unit of cooling electricity, both paths
        together (``1 / k`` of :meth:`cooling`).
        """
        return self.cooling(site).cop

    def cooling(self, site: schema.Site) -> CoolingSeries:
        """Cooling electricity per MW of heat, per path and period (docs/math/datacenter)."""
        c = site.cooling
        if c.cop is not None:
            k = 1.0 / self.profile(c.cop)
            ones = np.ones(self.periods)
            return CoolingSeries(np.full(self.periods, np.nan), ones, k, k.copy(), 0.0)
        dry = None if c.dry_bulb is None else self.profile(c.dry_bulb)
        return cooling_series(self.profile(c.ambient), c, dry)

    def period(self, value: int | datetime | None, default: int) -> int:
        """Period index of a job release / deadline (index, or timestamp on the grid)."""
        return rolling.period_of(self.time, self.dt, value, default)

    def window_ids(self, windows: list[str] | None) -> np.ndarray:
        """Contract-window id per period (-1 when no window covers it).

        Each clock window of each calendar day is its own id, numbered in time order.
        """
        ranges = [schema.parse_clock_range(w, "windows") for w in (windows or ["00:00-24:00"])]
        hours = self.clock_hours
        days = (self.time.normalize() - self.time[0].normalize()).days.to_numpy()
        which = np.full(self.periods, -1)
        for k, (start, end) in enumerate(ranges):
            which[(hours >= start) & (hours < end)] = k
        key = np.where(which >= 0, days * len(ranges) + which, -1)
        _, ids = np.unique(key, return_inverse=True)
        offset = 1 if (key < 0).any() else 0
        return np.where(key >= 0, ids - offset, -1)

    # ------------------------------------------------------------ lookups
    def sites_at(self, node: str) -> list[str]:
        """Names of the sites connected to a node."""
        return [s.name for s in self.config.sites if s.node == node]

    def pue_cap(self, site: schema.Site) -> float | None:
        """PUE cap of a site: its own if given (always applies), else the policy's, else None."""
        if site.pue_cap is not None:
            return site.pue_cap
        policy = self.config.policies.pue
        return None if policy is None else policy.cap


class CoolingSeries(NamedTuple):
    """A site's cooling per period, computed before the model is built (all shape (T,)).

    Attributes
    ----------
    t_drive : numpy.ndarray
        Driving temperature, degC (NaN where a COP series is given).
    wet : numpy.ndarray
        1 where the plant runs wet (evaporates water), else 0.
    k_air, k_liquid : numpy.ndarray
        MW of cooling electricity per MW of heat on the air and the liquid path.
    liquid_fraction : float
        Share of the heat on the liquid path.
    """

    t_drive: np.ndarray
    wet: np.ndarray
    k_air: np.ndarray
    k_liquid: np.ndarray
    liquid_fraction: float

    @property
    def k(self) -> np.ndarray:
        """MW of cooling electricity per MW of heat, both paths: the plant's ``1 / COP``."""
        f = self.liquid_fraction
        return (1.0 - f) * self.k_air + f * self.k_liquid

    @property
    def cop(self) -> np.ndarray:
        """The plant's effective COP, ``1 / k``."""
        return 1.0 / self.k


def drive_temperature(
    ambient: np.ndarray, cooling: schema.Cooling, dry_bulb: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The plant's driving temperature (degC) and wet-mode flag (1/0) per period.

    ``ambient`` itself unless ``adiabatic_effectiveness`` (epsilon) is given; then adiabatic
    coolers run wet at ``T_db - epsilon (T_db - T_wb)`` (``ambient`` is the wet-bulb ``T_wb``)
    where the dry-bulb exceeds ``wet_above`` (always without it), and dry at ``T_db`` (no
    water) elsewhere.
    """
    c = cooling
    ambient = np.asarray(ambient, dtype=float)
    if c.adiabatic_effectiveness is None:
        return ambient, np.ones_like(ambient)
    dry = np.broadcast_to(np.asarray(dry_bulb, dtype=float), ambient.shape)
    wet_t = dry - c.adiabatic_effectiveness * (dry - ambient)
    wet = np.ones_like(ambient) if c.wet_above is None else (dry > c.wet_above).astype(float)
    return np.where(wet > 0, wet_t, dry), wet


def _per_heat(t, t_free: float, t_mech: float, cop_free: float, chiller) -> np.ndarray:
    """Electricity per unit of heat: free cooling blended linearly into chillers."""
    span = max(t_mech - t_free, 1e-9)
    mech_share = np.clip((t - t_free) / span, 0.0, 1.0)
    return (1.0 - mech_share) / cop_free + mech_share / chiller


def cooling_series(
    ambient: np.ndarray, cooling: schema.Cooling, dry_bulb: np.ndarray | None = None
) -> CoolingSeries:
    """Cooling electricity per MW of heat on each path (see docs/math/datacenter.md).

    Chiller COP ``max(cop_ref (1 - cop_slope (T + approach - t_ref)), cop_min)`` at the
    condenser temperature; air path ``air_fan`` + free cooling (``cop_free``) at or below
    ``t_free`` blended linearly into chillers at or above ``t_mech``; liquid path the same
    with ``liquid_t_free``, ``liquid_t_mech``, ``liquid_cop_free``.
    """
    c = cooling
    t, wet = drive_temperature(ambient, c, dry_bulb)
    chiller = np.maximum(c.cop_ref * (1.0 - c.cop_slope * (t + c.approach - c.t_ref)), c.cop_min)
    k_air = c.air_fan + _per_heat(t, c.t_free, c.t_mech, c.cop_free, chiller)
    k_liquid = _per_heat(t, c.liquid_t_free, c.liquid_t_mech, c.liquid_cop_free, chiller)
    return CoolingSeries(t, wet, k_air, k_liquid, float(c.liquid_fraction))


def cop_from_ambient(
    ambient: np.ndarray, cooling: schema.Cooling, dry_bulb: np.ndarray | None = None
) -> np.ndarray:
    """Cooling COP from the weather (see docs/math/datacenter.md).

    With the defaults (no liquid path, no approach, no fans) the electricity per unit of
    heat, ``1 / COP``, is that of free cooling at or below ``t_free``, that of the chiller at
    or above ``t_mech``, and blended linearly in between. In general it is the plant's
    effective COP of :func:`cooling_series`.
    """
    return cooling_series(ambient, cooling, dry_bulb).cop
