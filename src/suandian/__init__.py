"""suandian (算电): co-optimise data-center compute with the electricity that powers it.

Public API::

    sc = suandian.load_scenario("models/chongqing_hami_day.yaml")
    model = suandian.build_model(sc)          # add your own constraints here if you like
    result = suandian.solve(model, mip_rel_gap=1e-3)
    result.ds, result.kpis, result.certify(), result.save("out/")
"""

from ._version import __version__ as __version__
from .highs import SolveInfo, SolveOptions
from .model import build_model
from .results import Diagnosis, Result, Violation, YearResult, certify, read_result
from .run import RollingError, flexibility_offer, foresight, solve, solve_rolling
from .scenario import Problem, Scenario, ScenarioError, load_scenario, validate_scenario

__all__ = [
    "Diagnosis",
    "Problem",
    "Result",
    "RollingError",
    "Scenario",
    "ScenarioError",
    "SolveInfo",
    "SolveOptions",
    "Violation",
    "YearResult",
    "build_model",
    "certify",
    "flexibility_offer",
    "foresight",
    "load_scenario",
    "read_result",
    "solve",
    "solve_rolling",
    "validate_scenario",
]
