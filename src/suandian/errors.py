"""Errors of the lowest floor: every problem found, each naming the field, the value and the fix.

Imported by the scenario and by every family (a family reports a problem of its section
without importing :mod:`suandian.scenario`); :mod:`suandian.scenario.errors` re-exports them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in a scenario.

    Attributes
    ----------
    field : str
        Dotted path to the offending field, e.g. ``sites[1].node``.
    value : str
        The offending value, as text.
    message : str
        What is wrong and how to fix it.
    """

    field: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"{self.field} = {self.value}: {self.message}"


class ScenarioError(ValueError):
    """A scenario has one or more problems; ``problems`` lists all of them."""

    def __init__(self, problems: list[Problem], source: str = "scenario"):
        self.problems = list(problems)
        self.source = source
        lines = [f"{len(self.problems)} problem(s) in {source}:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))
