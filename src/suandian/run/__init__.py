"""Orchestration: the only place that chains build -> hand-over -> solve -> Result.

``solve`` (with the infeasibility ``diagnose`` it calls), ``flexibility_offer`` (re-plans that
price a reduction below the plan); rolling windows and sweeps go here.
"""

from .diagnose import diagnose
from .flexibility import flexibility_offer
from .solve import solve

__all__ = ["diagnose", "flexibility_offer", "solve"]
