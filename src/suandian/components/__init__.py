"""Component families, each declared once as a :class:`~suandian.component.Component`.

:data:`REGISTRY` is the only list of families: the model build, the ledgers, the result
extraction, the books, the certifier and the docs coverage test loop over it. To add a
family, write its module and add one line here (``docs/add-a-component.md``).
"""

from ..component import Component
from . import backup, datacenter, green_power, grid, renewables, storage, thermal

#: every component family, in build order
REGISTRY = (
    datacenter.COMPONENT,
    grid.COMPONENT,
    renewables.COMPONENT,
    storage.COMPONENT,
    green_power.COMPONENT,
    thermal.COMPONENT,
    backup.COMPONENT,
)

__all__ = ["REGISTRY", "register", "unregister"]

_EXTRA: dict[str, Component] = {}


def register(component: Component) -> Component:
    """Make a component that is not in :data:`REGISTRY` known to the books and the certifier.

    Build it with ``build_model(sc, components=(*REGISTRY, component))``; a result Dataset
    names the components it was built from (``attrs["components"]``), and those names are
    looked up here and in the registries (:func:`suandian.catalogue.known`).
    """
    _EXTRA[component.name] = component
    return component


def unregister(name: str) -> None:
    """Forget a component made known by :func:`register` (tests; nothing if unknown)."""
    _EXTRA.pop(name, None)
