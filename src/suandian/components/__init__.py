"""Component families, each declared once as a :class:`~suandian.component.Component`.

:data:`REGISTRY` is the only list of families: the model build, the ledgers, the result
extraction, the books, the certifier and the docs coverage test loop over it. To add a
family, write its module and add one line here (``docs/add-a-component.md``).
"""

from . import datacenter, green_power, grid, renewables, storage

#: every component family, in build order
REGISTRY = (
    datacenter.COMPONENT,
    grid.COMPONENT,
    renewables.COMPONENT,
    storage.COMPONENT,
    green_power.COMPONENT,
)

__all__ = ["REGISTRY"]
