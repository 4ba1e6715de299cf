"""Orchestration: the only place that chains build -> hand-over -> solve -> Result.

``solve`` (with the infeasibility ``diagnose`` it calls); rolling windows and sweeps go here.
"""

from .diagnose import diagnose
from .solve import solve

__all__ = ["diagnose", "solve"]
