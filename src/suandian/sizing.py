"""The model-size estimate: the columns each component says it will add, before the build.

Every :class:`~suandian.component.Component` declares ``estimate(sc, options) -> int`` in its
own module: the columns its build would add for the scenario ``sc``, counted from the
configuration alone with the same masks as the build (job windows, eligible sites, event
windows, exclusive batteries, ...). ``sc`` is a :class:`~suandian.scenario.Scenario`
*without its series*: ``sc.config``, ``sc.periods``, ``sc.dt``, ``sc.time``,
``sc.period(...)`` and ``sc.window_ids(...)`` work, reading a series (``sc.profile`` of a
name) does not — the estimate runs before the series are read, to refuse a model that would
not fit in memory. ``options`` are the build options (``shortfall_penalty``,
``compute_shortfall_penalty``; empty in :func:`suandian.load_scenario`).

:func:`estimate` sums the hooks of the registry, the ledger, the policies and the
components registered with :func:`suandian.components.register`; :func:`suandian.build_model`
records it as ``m.built.estimated_columns`` (the test suite checks it against the columns
built after every build, ``tests/conftest.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from . import ledgers
from .component import Component
from .components import _EXTRA, REGISTRY
from .policies import POLICIES

if TYPE_CHECKING:
    from .scenario import Scenario

#: when a list, :func:`suandian.build_model` appends ``(name, estimated, built)`` of every
#: model it builds (the test suite checks each against the ±10 % promise, tests/conftest.py)
observed: list[tuple[str, int, int]] | None = None


def estimate(
    sc: Scenario,
    components: Sequence[Component] | None = None,
    policies: Sequence[Component] | None = None,
    options: Mapping[str, Any] | None = None,
) -> dict[str, int]:
    """Estimated columns per component, in build order.

    A component without a hook counts 0; so does one whose hook meets a reference that does
    not exist (a release off the horizon's grid): :func:`suandian.load_scenario` refuses such
    a scenario by its later checks.

    Parameters
    ----------
    sc : Scenario
        The scenario; its series are not read (a scenario without series will do).
    components, policies : sequence of Component, optional
        Default: the registry plus the registered components, and the policies.
    options : mapping, optional
        Build options (``shortfall_penalty``, ``compute_shortfall_penalty``).
    """
    if components is None:
        components = (*REGISTRY, *(c for c in _EXTRA.values() if c not in REGISTRY))
    policies = POLICIES if policies is None else policies
    opts = dict(options or {})
    out: dict[str, int] = {}
    for comp in (*components, ledgers.COMPONENT, *policies):
        out[comp.name] = out.get(comp.name, 0) + _count(comp, sc, opts)
    return out


def _count(comp: Component, sc: Scenario, options: dict[str, Any]) -> int:
    """One component's estimate (0: no hook, or a reference that does not exist)."""
    if comp.estimate is None:
        return 0
    try:
        return int(comp.estimate(sc, options))
    except (KeyError, IndexError, ValueError):
        return 0


def total(by_component: Mapping[str, int]) -> int:
    """The estimated columns of the model."""
    return int(sum(by_component.values()))


def largest(by_component: Mapping[str, int], n: int = 3) -> str:
    """The ``n`` largest contributors as text: ``dc 1,234,000, stor 262,800, ...``."""
    top = sorted(by_component.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{name} {cols:,}" for name, cols in top if cols > 0) or "none"
