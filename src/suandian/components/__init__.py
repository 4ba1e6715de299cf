"""Component families, each adding one Pyomo Block with fixed ports.

Ports (all optional except ``cost``). The per-period ports are plain dicts of Pyomo
expressions keyed ``(site, t)`` (no Pyomo component: a named Expression per site and period
cost about a quarter of the build time); the horizon ports are Pyomo Expressions.

``injection[s, t]``  MW into site ``s``'s bus (negative for consumption)
``intake[s, t]``     MW of electricity entering the site from a source (grid, renewables,
                     purchased green power); its sum over time is the electricity consumed
``green[s]``         MWh counted as green for site ``s`` over the horizon
``co2[s]``           tCO2, location-based, over the horizon
``cost``             CNY over the horizon; ``cost_terms`` names its parts
"""

from .datacenter import add_datacenters
from .green_power import add_green_power
from .grid import add_grid
from .renewables import add_renewables
from .storage import add_storage

__all__ = ["add_datacenters", "add_green_power", "add_grid", "add_renewables", "add_storage"]
