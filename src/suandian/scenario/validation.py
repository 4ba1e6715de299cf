"""The checks that need the series: one walker over series references, then each component's.

Every field typed :data:`~suandian.component.Profile` (a number or a series name), in any
section, is found from the field annotations of the section classes: no family lists its
series fields. :class:`SeriesRefs` checks each one (an unknown name with a did-you-mean
hint, a percentage written as text, values outside the :class:`~suandian.component.Range`
declared next to the field), then :func:`check_scenario` runs the ``validate`` hook of every
component whose sections validated.

When a series file could not be read (``complete=False``) unknown names are not reported
(the file that failed may define them) and the values of missing series are never read.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, get_args, get_origin

import numpy as np
from pydantic import BaseModel

from ..component import Range
from . import schema
from .errors import Problem

if TYPE_CHECKING:
    from ..component import Component
    from .scenario import Scenario


class SeriesRefs:
    """The shared walker over series references of a scenario.

    Parameters
    ----------
    scenario : Scenario
        Its series table holds the columns that could be loaded.
    complete : bool
        Whether every series file was read (else unknown names are not reported).

    Attributes
    ----------
    problems : list of Problem
        Every problem the walker found so far (see :meth:`flagged`).
    """

    def __init__(self, scenario: Scenario, complete: bool = True):
        self.scenario = scenario
        self.complete = complete
        self.known = list(scenario.series.columns)
        self.problems: list[Problem] = []

    # ------------------------------------------------------------ queries for the hooks
    def readable(self, value: Any) -> bool:
        """Whether ``value`` is a number or the name of a loaded series."""
        if isinstance(value, bool):
            return False
        if isinstance(value, str):
            return value in self.scenario.series.columns
        return isinstance(value, (int, float))

    def values(self, value: Any) -> np.ndarray | None:
        """The (T,) values of a number or a loaded series; None when they cannot be read."""
        return self.scenario.profile(value) if self.readable(value) else None

    def flagged(self, prefix: str) -> bool:
        """Whether the walker reported a problem at the field ``prefix`` or below it."""
        return any(
            p.field == prefix or p.field.startswith((prefix + ".", prefix + "["))
            for p in self.problems
        )

    # ------------------------------------------------------------------- the walker
    def check(self, value: Any, field: str, rng: Range | None = None) -> list[Problem]:
        """Problems of one series reference (a number or a series name) at ``field``."""
        rng = rng or Range()
        found: list[Problem] = []
        if isinstance(value, str) and value not in self.scenario.series.columns:
            if self.complete:
                found.append(self._unknown(value, field))
        elif self.readable(value):
            values = self.scenario.profile(value)
            if rng.low is not None and (values < rng.low).any():
                found.append(
                    Problem(field, f"min {values.min():g}", f"{rng.what} must be >= {rng.low:g}")
                )
            if rng.high is not None and (values > rng.high).any():
                found.append(
                    Problem(field, f"max {values.max():g}", f"{rng.what} must be <= {rng.high:g}")
                )
        self.problems += found
        return found

    def walk(self, value: Any, path: str, rng: Range | None = None) -> list[Problem]:
        """Check every series reference in ``value`` (a section, an item, a list, a mapping).

        ``rng`` is the range of the field ``value`` is held in (None: not a series field).
        """
        if isinstance(value, BaseModel):
            found: list[Problem] = []
            fields = series_fields(type(value))
            for name in type(value).model_fields:
                where = f"{path}.{name}" if path else name
                found += self.walk(getattr(value, name, None), where, fields.get(name))
            return found
        if isinstance(value, (list, tuple)):
            return [p for i, v in enumerate(value) for p in self.walk(v, f"{path}[{i}]", rng)]
        if isinstance(value, dict):
            return [p for k, v in value.items() for p in self.walk(v, f"{path}.{k}", rng)]
        if rng is not None and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return self.check(value, path, rng)
        return []

    def _unknown(self, value: str, field: str) -> Problem:
        percent = _percent(value)
        if percent is not None:
            return Problem(
                field,
                repr(value)[:60],
                f"a percentage is not a number here; write {percent / 100:g}",
            )
        history = self.scenario.history
        if value in history.columns and history[value].notna().any():
            last = history[value].dropna().index[-1]
            return Problem(
                field,
                repr(value)[:60],
                f"the series has rows only before the horizon (the last at {last}); a value "
                f"per period needs rows over {self.scenario.time[0]} .. "
                f"{self.scenario.time[-1]}",
            )
        close = difflib.get_close_matches(value, self.known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return Problem(
            field,
            repr(value)[:60],
            f"unknown series; {hint}name a column of the series files "
            f"({', '.join(self.known) or 'none loaded'}) or give a number",
        )


@cache
def series_fields(model: type[BaseModel]) -> dict[str, Range]:
    """The series fields of a section class (those holding a Profile), with their ranges.

    Found from the annotations: a field's own :class:`Range` (``Annotated[..., Range()]``),
    else the one a :data:`~suandian.component.Profile` inside its type carries (in a union,
    a list or the values of a mapping).
    """
    out: dict[str, Range] = {}
    for name, field in model.model_fields.items():
        own = [m for m in field.metadata if isinstance(m, Range)]
        rng = own[-1] if own else _nested_range(field.annotation)
        if rng is not None:
            out[name] = rng
    return out


def _nested_range(annotation: Any) -> Range | None:
    if get_origin(annotation) is Annotated:
        marks = [m for m in annotation.__metadata__ if isinstance(m, Range)]
        return marks[-1] if marks else _nested_range(get_args(annotation)[0])
    for arg in get_args(annotation):
        rng = _nested_range(arg)
        if rng is not None:
            return rng
    return None


def required_sections() -> set[str]:
    """Top-level sections without a default: every component's check reads them."""
    return {n for n, f in schema.ScenarioConfig.model_fields.items() if f.is_required()}


def check_scenario(
    scenario: Scenario,
    components: Iterable[Component],
    valid: set[str] | None = None,
    complete: bool = True,
    broken: set[str] | frozenset[str] = frozenset(),
) -> list[Problem]:
    """Every problem that needs the series: series references, then each component's checks.

    Parameters
    ----------
    scenario : Scenario
        Its configuration may be partial: only the sections in ``valid`` are read.
    components : iterable of Component
        The families, the ledger, the policies and any registered extras.
    valid : set of str, optional
        Top-level sections that passed the schema (default: all). The walker reads only
        these; a component's ``validate`` runs when its own sections and the required ones
        are among them.
    complete : bool
        Whether every series file was read.
    broken : set of str
        Sections with a reference to an unknown or duplicate name. When a required one is
        among them (a site on an unknown node) no ``validate`` hook runs: each reads which
        sites are at which node, and would report what follows from the one wrong name.
    """
    config = scenario.config
    valid = set(type(config).model_fields) if valid is None else valid
    refs = SeriesRefs(scenario, complete)
    problems: list[Problem] = []
    for name in type(config).model_fields:
        if name in valid:
            problems += refs.walk(
                getattr(config, name), name, series_fields(type(config)).get(name)
            )
            continue
        subs = [v.split(".", 1)[1] for v in valid if v.startswith(name + ".")]
        if not subs:  # invalid, or not in this configuration
            continue
        part: BaseModel = getattr(config, name)  # a section with valid sub-sections
        for sub in subs:
            problems += refs.walk(
                getattr(part, sub), f"{name}.{sub}", series_fields(type(part)).get(sub)
            )
    required = required_sections()
    seen: set[str] = set()
    for component in components:
        if component.validate is None or component.name in seen:
            continue
        seen.add(component.name)
        own = all(_passed(s, valid) for s in component.sections)
        if own and required <= valid and not required & broken:
            problems += component.validate(scenario, refs)
    return problems


def _passed(section: str, valid: set[str]) -> bool:
    """Whether a component's section (``storage``, ``policies.pue``) passed the schema."""
    parts = section.split("[")[0].split(".")
    return parts[0] in valid or ".".join(parts[:2]) in valid


def section_of(field: str) -> str:
    """The top-level section of a field path (``sites`` of ``sites[0].node``)."""
    return field.split(".")[0].split("[")[0]


def _percent(text: str) -> float | None:
    """The number of a percentage written as text ('95%'), else None."""
    text = text.strip()
    if not text.endswith("%") or len(text) > 20:
        return None
    try:
        return float(text[:-1].strip())
    except ValueError:
        return None
