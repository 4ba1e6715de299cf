"""Component families, each declared once as a :class:`~suandian.component.Component`.

:data:`REGISTRY` is the only list of families: the model build, the ledgers, the result
extraction, the books, the certifier and the docs coverage test loop over it. To add a
family, write its module and add one line here (``docs/add-a-component.md``).
"""

from ..component import Component
from . import datacenter, green_power, grid, renewables, storage, thermal

#: every component family, in build order
REGISTRY = (
    datacenter.COMPONENT,
    grid.COMPONENT,
    renewables.COMPONENT,
    storage.COMPONENT,
    green_power.COMPONENT,
    thermal.COMPONENT,
)

__all__ = ["REGISTRY", "extras", "known", "register"]

_EXTRA: dict[str, Component] = {}


def register(component: Component) -> Component:
    """Make a component that is not in :data:`REGISTRY` known to the books and the certifier.

    Build it with ``build_model(sc, components=(*REGISTRY, component))``; a result Dataset
    names the components it was built from (``attrs["components"]``), and those names are
    looked up here and in the registries.
    """
    _EXTRA[component.name] = component
    return component


def extras() -> tuple[Component, ...]:
    """The components made known by :func:`register`, in registration order."""
    return tuple(_EXTRA.values())


def known(ds) -> tuple[Component, ...]:
    """The components a result Dataset was built from, in build order."""
    from ..ledgers import COMPONENT as LEDGER
    from ..policies import POLICIES

    catalogue = {c.name: c for c in (*REGISTRY, LEDGER, *POLICIES)} | _EXTRA
    names = str(ds.attrs.get("components", "")).split(",")
    if names == [""]:
        return tuple(catalogue.values())
    missing = [n for n in names if n not in catalogue]
    if missing:
        raise KeyError(
            f"the result was built with components {missing} that are not registered; "
            "import their module and call suandian.components.register(COMPONENT)"
        )
    return tuple(catalogue[n] for n in names)
