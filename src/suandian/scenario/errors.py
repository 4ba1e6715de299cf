"""Scenario errors: re-exported from :mod:`suandian.errors`, where they live (the lowest floor)."""

from __future__ import annotations

from ..errors import Problem, ScenarioError

__all__ = ["Problem", "ScenarioError"]
