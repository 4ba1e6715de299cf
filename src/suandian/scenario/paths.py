"""Field paths: a field of a scenario's raw configuration named by a line of text.

Used by sweeps (:func:`suandian.sweep`, ``docs/sweeps.md``, "Paths")::

    policies.green_share.target         keys of mappings, separated by dots
    storage[0].energy  storage.0.energy an item of a list by its position (from 0)
    storage[cq_battery].energy          an item of a list by its ``name``
    policies.green_share.site_targets[hm_dc]   a key in brackets (any text but ``]``)

A key that the configuration does not hold yet is created by :func:`apply` (the validation
then says whether the schema knows it); so is a section that is missing or ``null`` on the
way. :func:`field_of` writes resolved steps the way problems name fields
(``storage[0].energy``), so a problem of the validation is traced back to its path.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Problem

_TOKEN = re.compile(r"\[([^\]]*)\]|\.?([^.\[\]]+)")


def _short(value: Any, limit: int = 60) -> str:
    from .load import _short as short

    return short(value, limit)


@dataclass(frozen=True)
class FieldPath:
    """A parsed field path: its text as written and its steps (keys, positions, names).

    Attributes
    ----------
    text : str
        The path as written, e.g. ``storage[cq_battery].energy``.
    steps : tuple
        ``("storage", Name("cq_battery"), "energy")``: a ``str`` is a mapping key, an
        ``int`` a position in a list, a :class:`Name` an item of a list by its ``name``
        (or, on a mapping, a key).
    """

    text: str
    steps: tuple[Any, ...]


class Name(str):
    """A bracketed step that is not a number: a list item's ``name`` (or a mapping key)."""

    __slots__ = ()


def parse_path(text: str) -> FieldPath:
    """Parse a field path (see the module docstring).

    Raises
    ------
    ValueError
        naming the path and what is wrong with it.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("a path is text naming a field, e.g. 'policies.green_share.target'")
    steps: list[Any] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos or (m.group(2) is not None and pos and text[pos] != "."):
            raise ValueError(
                f"cannot read the path at position {pos} ({text[pos : pos + 20]!r}); write keys "
                "separated by dots and list items as [position] or [name], e.g. "
                "'storage[cq_battery].energy'"
            )
        bracket, key = m.group(1), m.group(2)
        if bracket is not None:
            bracket = bracket.strip()
            if not bracket:
                raise ValueError("empty brackets []: give a position or a name, e.g. [0]")
            steps.append(int(bracket) if _is_index(bracket) else Name(bracket))
        else:
            steps.append(int(key) if _is_index(key) else key)
        pos = m.end()
    if isinstance(steps[0], int):
        raise ValueError("a path starts with a section's key, e.g. 'storage', not a position")
    return FieldPath(text, tuple(steps))


def _is_index(text: str) -> bool:
    return text.isdigit() or (text.startswith("-") and text[1:].isdigit())


def field_of(steps: Sequence[Any]) -> str:
    """The path in the form problems name fields (``storage[0].energy``)."""
    out = ""
    for s in steps:
        out += f"[{s}]" if isinstance(s, int) else (f".{s}" if out else str(s))
    return out


def resolve(raw: dict[str, Any], path: FieldPath) -> tuple[tuple[Any, ...], Problem | None]:
    """Resolve a path on a raw configuration: its steps with every list item as a position.

    Returns ``(steps, None)``, or ``(steps so far, problem)`` naming the path and the fix.
    """
    here: Any = raw
    done: list[Any] = []
    for step in path.steps:
        where = field_of(done) or "the scenario"
        if isinstance(here, Mapping):
            if isinstance(step, int):
                return tuple(done), _path_problem(
                    path, f"{where} is a section of keys, not a list: write a key after it"
                )
            done.append(str(step))
            here = here.get(step)  # None: created on apply, the validation judges it
            continue
        if isinstance(here, list):
            index = _item(here, step)
            if index is None:
                return tuple(done), _path_problem(path, _no_item(where, here, step))
            done.append(index)
            here = here[index]
            continue
        if here is None:  # inside a section created on apply: keys only
            if isinstance(step, int):
                return tuple(done), _path_problem(
                    path,
                    f"{where} is not in the scenario, so it has no item [{step}]: give the "
                    f"whole list as the value of {where}",
                )
            done.append(str(step))
            continue
        return tuple(done), _path_problem(
            path,
            f"{where} is a value ({_short(here)}), not a section: the path cannot go on "
            f"into {step!r}; stop the path at {where}",
        )
    return tuple(done), None


def _item(items: list[Any], step: Any) -> int | None:
    """Position of a list item by position or by name; None when there is none."""
    if isinstance(step, int):
        return step % len(items) if -len(items) <= step < len(items) else None
    names = [i.get("name") if isinstance(i, Mapping) else None for i in items]
    return names.index(step) if step in names else None


def _no_item(where: str, items: list[Any], step: Any) -> str:
    names = [str(i["name"]) for i in items if isinstance(i, Mapping) and "name" in i]
    if isinstance(step, int):
        span = f"positions 0..{len(items) - 1}" if items else "no item"
        fix = f"; or name the item, e.g. [{names[0]}]" if names else ""
        return f"{where} has {len(items)} item(s) ({span}): use one of them{fix}"
    close = difflib.get_close_matches(str(step), names, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return (
        f"{where} has no item named {str(step)!r}; {hint}use one of: "
        f"{', '.join(names) or '(none: give a position, e.g. [0])'}"
    )


def _path_problem(path: FieldPath, message: str) -> Problem:
    return Problem(path.text, "(path)", message)


def apply(raw: dict[str, Any], steps: Sequence[Any], value: Any) -> None:
    """Set a value at resolved steps of a raw configuration, creating missing sections."""
    here: Any = raw
    for step, nxt in itertools.pairwise(steps):
        if isinstance(here, list):
            here = here[step]
            continue
        if here.get(step) is None:
            here[step] = [] if isinstance(nxt, int) else {}
        here = here[step]
    here[steps[-1]] = value


__all__ = ["FieldPath", "Name", "apply", "field_of", "parse_path", "resolve"]
