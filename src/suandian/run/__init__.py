"""Orchestration: the only place that chains build -> hand-over -> solve -> Result.

``solve`` (with the infeasibility ``diagnose`` it calls), ``flexibility_offer`` (re-plans that
price a reduction below the plan), ``solve_rolling`` (a long horizon window by window) and
``foresight`` (its yardstick), ``sweep`` (many cases of one scenario on dask.distributed)
and ``pareto`` (a cost front by epsilon-constraint, on sweeps), ``solve_stochastic`` (a
two-stage plan over tomorrow's scenarios) with ``evaluate_plan`` and ``stochastic_value``.
"""

from .diagnose import diagnose
from .flexibility import flexibility_offer
from .pareto import ParetoFront, pareto, plot_pareto
from .rolling import RollingError, foresight, solve_rolling
from .solve import solve
from .stochastic import (
    StochasticResult,
    StochasticValue,
    evaluate_plan,
    replan,
    solve_stochastic,
    stochastic_value,
    wait_and_see,
)
from .sweep import SweepError, design_cases, sweep

__all__ = [
    "ParetoFront",
    "RollingError",
    "StochasticResult",
    "StochasticValue",
    "SweepError",
    "design_cases",
    "diagnose",
    "evaluate_plan",
    "flexibility_offer",
    "foresight",
    "pareto",
    "plot_pareto",
    "replan",
    "solve",
    "solve_rolling",
    "solve_stochastic",
    "stochastic_value",
    "sweep",
    "wait_and_see",
]
