"""Orchestration: the only place that chains build -> hand-over -> solve -> Result.

``solve`` (with the infeasibility ``diagnose`` it calls), ``flexibility_offer`` (re-plans that
price a reduction below the plan), ``solve_rolling`` (a long horizon window by window) and
``foresight`` (its yardstick); sweeps go here.
"""

from .diagnose import diagnose
from .flexibility import flexibility_offer
from .rolling import RollingError, foresight, solve_rolling
from .solve import solve

__all__ = ["RollingError", "diagnose", "flexibility_offer", "foresight", "solve", "solve_rolling"]
