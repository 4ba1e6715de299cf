"""Every known component: the families, the ledgers, the policies and the registered extras.

It stands above :mod:`suandian.components`, :mod:`suandian.ledgers` and
:mod:`suandian.policies` (a policy may import a family's helpers, so the families' package
cannot import the policies back).
"""

from __future__ import annotations

from .component import Component
from .components import _EXTRA, REGISTRY
from .ledgers import COMPONENT as LEDGER
from .policies import POLICIES

__all__ = ["every", "known"]


def every() -> tuple[Component, ...]:
    """Every known component: the families, the ledger, the policies and registered ones."""
    return tuple(({c.name: c for c in (*REGISTRY, LEDGER, *POLICIES)} | _EXTRA).values())


def known(ds) -> tuple[Component, ...]:
    """The components a result Dataset was built from, in build order."""
    catalogue = {c.name: c for c in every()}
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
