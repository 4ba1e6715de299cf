"""A scenario's initial state and its windows: the scenario side of a rolling horizon.

:func:`with_state` applies a state (``Result.final_state()``) to a scenario and
:func:`window` cuts a horizon; both go through the components' ``state_in`` and ``cut``
hooks (:mod:`suandian.component`), so they know no family, and both build the new
configuration as a raw mapping that is validated again exactly as
:func:`~suandian.scenario.load_scenario` validates a file (a bad state is a
:class:`~suandian.scenario.ScenarioError` naming the field).

A rolling loop cuts the first window off the rest and hands the state to the rest::

    rest = scenario
    while rest is not None:
        now = rest.window(0, min(T, rest.periods))
        result = solve(now)
        rest = rest.window(T, rest.periods - T, state=result.final_state())  # if any left

The incremental parts of a state (work done, year-to-date energies) add to what the rest
already carries, so a state is applied to the rest of the scenario its window was cut from,
not to a fresh cut of the original. ``window(..., state=)`` applies it before the one
validation: a job released before the cut may fit only once its work done is handed over
(``docs/scenario-format.md``, "State and windows").
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..catalogue import every
from ..component import Cut
from .errors import Problem, ScenarioError

if TYPE_CHECKING:
    from .scenario import Scenario

#: ``reload(raw, series, base_dir, history) -> Scenario``: the validation of ``load_scenario``
Reload = Callable[[dict[str, Any], pd.DataFrame, Any, pd.DataFrame], "Scenario"]


def no_history() -> pd.DataFrame:
    """An empty history table (no rows before the horizon)."""
    return pd.DataFrame(index=pd.DatetimeIndex([], name="time"))


def history_before(history: pd.DataFrame, series: pd.DataFrame, start: int) -> pd.DataFrame:
    """The history of a window starting at period ``start``.

    The horizon's history and its aligned rows before the window (both time-indexed; the
    columns of either).
    """
    if not start:
        return history
    if history.empty and not len(history.columns):
        return series.iloc[:start]
    return pd.concat([history, series.iloc[:start]])


def raw_config(sc: Scenario) -> dict[str, Any]:
    """The scenario's configuration as the raw mapping it was validated from.

    Only the fields that were set (``exclude_unset``): a field's default stays a default, and
    the validators that look at which fields were given (an annual budget's form) see the
    same input again. Series files are replaced by the aligned table (passed separately).
    """
    raw = sc.config.model_dump(mode="python", exclude_unset=True)
    raw["series"] = []
    return raw


def with_state(sc: Scenario, state: Mapping[str, Any], reload: Reload) -> Scenario:
    """A new scenario whose initial state is ``state`` (see :meth:`Scenario.with_state`)."""
    raw = raw_config(sc)
    apply_state(raw, state)
    return reload(raw, sc.series, sc.base_dir, sc.history)


def edited(sc: Scenario, edit: Callable[[dict[str, Any]], None], reload: Reload) -> Scenario:
    """A new scenario from the raw configuration changed by ``edit`` (:meth:`Scenario.edited`)."""
    raw = raw_config(sc)
    edit(raw)
    return reload(raw, sc.series, sc.base_dir, sc.history)


def apply_state(raw: dict[str, Any], state: Mapping[str, Any]) -> None:
    """Apply ``state`` to a raw mapping in place through the families' ``state_in`` hooks."""
    if not isinstance(state, Mapping):
        raise ScenarioError(
            [Problem("state", type(state).__name__, "a state is a mapping by family")], "state"
        )
    catalogue = {c.name: c.state_in for c in every() if c.state_in is not None}
    unknown = [k for k in state if k not in catalogue]
    if unknown:
        raise ScenarioError(
            [
                Problem(
                    f"state.{k}",
                    repr(k)[:60],
                    f"no family of that name takes a state; known: {', '.join(catalogue)}",
                )
                for k in unknown
            ],
            "state",
        )
    for name, entry in state.items():
        if not entry:
            continue
        try:
            catalogue[name](dict(entry), raw)
        except (KeyError, TypeError, ValueError) as exc:
            raise ScenarioError(
                [Problem(f"state.{name}", repr(entry)[:60], f"malformed state entry ({exc!r})")],
                "state",
            ) from None


def period_of(time: pd.DatetimeIndex, dt: float, value: Any, default: int) -> int:
    """Period index of a release / deadline on a horizon's grid (an index or a timestamp).

    ``None`` gives ``default``; the horizon's end gives its period count. Raises ``KeyError``
    for a timestamp off the grid.
    """
    if value is None:
        return default
    if isinstance(value, (int, np.integer)):
        return int(value)
    stamp = pd.Timestamp(value)
    step = pd.Timedelta(hours=dt)
    periods = len(time)
    if stamp == time[-1] + step:
        return periods
    steps = (stamp - time[0]) / step
    guess = int(round(steps))
    if abs(steps - guess) < 1e-9 and 0 <= guess < periods and time[guess] == stamp:
        return guess
    where = time.get_indexer([stamp])[0]
    if where < 0:
        raise KeyError(stamp)
    return int(where)


@dataclass
class RawHorizon:
    """A horizon as its raw configuration and aligned series, not validated.

    What :meth:`Scenario.window` cuts: :meth:`cut` applies the families' ``cut`` hooks and a
    state to a copy of the raw mapping, :meth:`scenario` validates it as a loaded file is. A
    rolling run keeps the rest of its horizon in this form, so that only the windows it
    solves are validated (not the whole rest of a year at every window).
    """

    raw: dict[str, Any]
    series: pd.DataFrame
    base_dir: Any
    time: pd.DatetimeIndex
    dt: float
    reload: Reload
    #: rows before the horizon (:attr:`Scenario.history`)
    history: pd.DataFrame = field(default_factory=no_history)

    @classmethod
    def of(cls, sc: Scenario, reload: Reload) -> RawHorizon:
        """The raw form of a validated scenario."""
        return cls(raw_config(sc), sc.series, sc.base_dir, sc.time, sc.dt, reload, sc.history)

    @property
    def periods(self) -> int:
        """Periods of the horizon."""
        return len(self.time)

    def cut(
        self,
        start: int,
        periods: int,
        state: Mapping[str, Any] | None = None,
        forecast: Mapping[str, Any] | None = None,
        budget_periods: int | None = None,
    ) -> RawHorizon:
        """Periods ``start .. start + periods - 1``, from ``state`` if given (not validated).

        ``forecast``: energies of the annual budgets (``Component.year_budget``) expected
        after the window, in the form of a state; added like a state (the rows read year to
        date + forecast as one sum). ``budget_periods``: the periods those budgets count
        (``horizon.budget_periods``; the later ones stand in ``forecast``).
        """
        total = self.periods
        if not (isinstance(start, int) and isinstance(periods, int)) or not (
            0 <= start and periods > 0 and start + periods <= total
        ):
            raise ScenarioError(
                [
                    Problem(
                        "window",
                        f"start {start}, periods {periods}",
                        f"a window lies inside the horizon's {total} periods: 0 <= start, "
                        "periods >= 1, start + periods <= the horizon's periods",
                    )
                ],
                "window",
            )
        raw = copy.deepcopy(self.raw)
        time, dt = self.time, self.dt

        def stamp(i: int) -> Any:
            return (time[0] + i * pd.Timedelta(hours=dt)).to_pydatetime()

        def period(value: Any, default: int) -> int:
            return period_of(time, dt, value, default)

        cut = Cut(start, periods, total, dt, period, stamp)
        for c in every():
            if c.cut is not None:
                c.cut(raw, cut)
        horizon = dict(raw["horizon"])
        horizon["start"] = time[start].to_pydatetime()
        horizon["periods"] = periods
        horizon.pop("budget_periods", None)
        if budget_periods is not None:
            horizon["budget_periods"] = budget_periods
        raw["horizon"] = horizon
        if state is not None:
            apply_state(raw, state)
        if forecast:
            apply_state(raw, forecast)
        window = slice(start, start + periods)
        return RawHorizon(
            raw,
            self.series.iloc[window],
            self.base_dir,
            time[window],
            dt,
            self.reload,
            history_before(self.history, self.series, start),
        )

    def scenario(self) -> Scenario:
        """The horizon validated (a :class:`ScenarioError` names every problem)."""
        return self.reload(copy.deepcopy(self.raw), self.series, self.base_dir, self.history)


def window(
    sc: Scenario,
    start: int,
    periods: int,
    reload: Reload,
    state: Mapping[str, Any] | None = None,
) -> Scenario:
    """The periods ``start .. start + periods - 1`` as a scenario (see :meth:`Scenario.window`)."""
    return RawHorizon.of(sc, reload).cut(start, periods, state).scenario()
