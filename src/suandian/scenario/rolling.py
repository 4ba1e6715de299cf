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

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..catalogue import every
from ..component import Cut
from .errors import Problem, ScenarioError

if TYPE_CHECKING:
    from .scenario import Scenario

#: ``reload(raw, series, base_dir) -> Scenario``: the validation of ``load_scenario``
Reload = Callable[[dict[str, Any], pd.DataFrame, Any], "Scenario"]


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
    return reload(raw, sc.series, sc.base_dir)


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


def window(
    sc: Scenario,
    start: int,
    periods: int,
    reload: Reload,
    state: Mapping[str, Any] | None = None,
) -> Scenario:
    """The periods ``start .. start + periods - 1`` as a scenario (see :meth:`Scenario.window`)."""
    total = sc.periods
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
    raw = raw_config(sc)

    def stamp(i: int) -> Any:
        step = pd.Timedelta(hours=sc.dt)
        return (sc.time[0] + i * step).to_pydatetime()

    cut = Cut(start, periods, total, sc.dt, sc.period, stamp)
    for c in every():
        if c.cut is not None:
            c.cut(raw, cut)
    horizon = dict(raw["horizon"])
    horizon["start"] = sc.time[start].to_pydatetime()
    horizon["periods"] = periods
    raw["horizon"] = horizon
    if state is not None:
        apply_state(raw, state)
    return reload(raw, sc.series.iloc[start : start + periods], sc.base_dir)
