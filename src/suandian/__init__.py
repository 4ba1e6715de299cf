"""suandian (算电): co-optimise data-center compute with the electricity that powers it.

Public API::

    sc = suandian.load_scenario(suandian.default_scenario())  # the embedded Chongqing-Hami day
    model = suandian.build_model(sc)          # add your own constraints here if you like
    result = suandian.solve(model, mip_rel_gap=1e-3)
    result.ds, result.kpis, result.certify(), result.save("out/")
    cases = suandian.sweep(sc, {"policies.green_share.target": [0.6, 0.8, 1.0]})
    front = suandian.pareto(sc, against="green_share", points=6)  # .table, .figure()
    suandian.plot.dispatch(result)            # figures (matplotlib, imported on first use)
    suandian.write_report("out/")             # one HTML page of a saved plan or sweep
"""

from ._version import __version__ as __version__
from .embedded import default_scenario
from .highs import SolveInfo, SolveOptions
from .model import build_model
from .results import (
    Diagnosis,
    Result,
    SweepResult,
    Violation,
    YearResult,
    certify,
    read_result,
    read_sweep,
)
from .results.html import write_report
from .run import (
    ParetoFront,
    RollingError,
    SweepError,
    design_cases,
    evaluate_plan,
    flexibility_offer,
    foresight,
    pareto,
    plot_pareto,
    replan,
    solve,
    solve_rolling,
    solve_stochastic,
    stochastic_value,
    sweep,
)
from .scenario import Problem, Scenario, ScenarioError, load_scenario, validate_scenario

__all__ = [
    "Diagnosis",
    "ParetoFront",
    "Problem",
    "Result",
    "RollingError",
    "Scenario",
    "ScenarioError",
    "SolveInfo",
    "SolveOptions",
    "SweepError",
    "SweepResult",
    "Violation",
    "YearResult",
    "build_model",
    "certify",
    "default_scenario",
    "design_cases",
    "evaluate_plan",
    "flexibility_offer",
    "foresight",
    "load_scenario",
    "pareto",
    "plot_pareto",
    "read_result",
    "read_sweep",
    "replan",
    "solve",
    "solve_rolling",
    "solve_stochastic",
    "stochastic_value",
    "sweep",
    "validate_scenario",
    "write_report",
]


def __getattr__(name: str):
    """``suandian.plot`` on first use (matplotlib is not imported with ``suandian``)."""
    if name == "plot":
        import importlib

        return importlib.import_module(".plot", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
