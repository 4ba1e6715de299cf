"""Scenario inputs: schema, loading, validation and time-series alignment."""

from .errors import Problem, ScenarioError
from .load import load_scenario, validate_scenario
from .scenario import Scenario, cop_from_ambient
from .schema import ScenarioConfig

__all__ = [
    "Problem",
    "Scenario",
    "ScenarioConfig",
    "ScenarioError",
    "cop_from_ambient",
    "load_scenario",
    "validate_scenario",
]
