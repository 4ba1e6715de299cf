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
from .results import Diagnosis, Result, Violation, certify, read_result
from .run import flexibility_offer, solve
from .scenario import Problem, Scenario, ScenarioError, load_scenario, validate_scenario

__all__ = [
    "Diagnosis",
    "Problem",
    "Result",
    "Scenario",
    "ScenarioError",
    "SolveInfo",
    "SolveOptions",
    "Violation",
    "build_model",
    "certify",
    "flexibility_offer",
    "load_scenario",
    "read_result",
    "solve",
    "validate_scenario",
]
