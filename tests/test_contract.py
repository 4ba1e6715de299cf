"""The component contract, walked over every registered component.

A family (``kind="family"``) must declare, in its own module: its books (``account``), its
certifier check (``check``), its column estimate (``estimate``), a docs/math page named on
the ``Math:`` line of its module docstring, and either its state (``state_out``,
``state_in`` and ``state_fields``) or why it has none (``stateless``). A policy must declare
its estimate, its page and its state or ``stateless``; the ledger its check. Hooks the
contract leaves optional (``validate``, ``limits``, ``kpis``, ``derive``, headroom) are
checked where declared: a limit names a row on its family's page.

Adding a family without one of these hooks fails here, naming the family and the hook.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from suandian.component import Component
from suandian.components import REGISTRY
from suandian.ledgers import COMPONENT as LEDGER
from suandian.policies import POLICIES

#: the library's components (toys that tests register for themselves are not walked)
LIBRARY = (*REGISTRY, LEDGER, *POLICIES)

ROOT = Path(__file__).resolve().parents[1]

REQUIRED = {
    "family": ("build", "account", "check", "estimate"),
    "policy": ("build", "estimate"),
    "ledger": ("build", "check", "estimate"),
}


def _page(c: Component) -> Path | None:
    module = sys.modules[c.build.__module__]
    match = re.search(r"docs/math/([\w-]+\.md)", module.__doc__ or "")
    return ROOT / "docs" / "math" / match.group(1) if match else None


def _missing(c: Component) -> list[str]:
    out = [hook for hook in REQUIRED[c.kind] if getattr(c, hook) is None]
    page = _page(c)
    if page is None or not page.is_file():
        out.append("a docs/math page on the module's 'Math:' line")
    has_state = c.state_out is not None
    if has_state and (c.state_in is None or not c.state_fields):
        out.append("state_in and state_fields (it has state_out)")
    if not has_state and not c.stateless.strip():
        out.append("state_out/state_in/state_fields, or a 'stateless' reason")
    if c.scenario_fields and not set(f.name for f in c.scenario_fields) <= set(c.sections):
        out.append("its scenario_fields named in sections")
    return out


@pytest.mark.parametrize("component", LIBRARY, ids=lambda c: c.name)
def test_every_component_declares_what_the_contract_requires(component):
    assert not _missing(component), f"{component.name} lacks: {_missing(component)}"


def test_the_walk_fails_for_a_family_without_its_hooks():
    """A family declaring only ``build`` is named with everything it lacks."""
    bare = Component(name="bare", sections=(), outputs=(), build=lambda fb, ctx: None)
    missing = _missing(bare)
    assert "account" in missing and "check" in missing and "estimate" in missing
    assert any("stateless" in m for m in missing)


def test_declared_limits_are_rows_on_the_math_pages():
    """Every ``Limit.row`` is a row block named (``block.row``) on its component's page.

    Which rows exist depends on the data (a ramp limit only where one is set); the math
    pages name every row that can exist (``tests/test_docs.py`` checks them against built
    models), so a limit naming no row of its family fails here.
    """
    missing = []
    for c in LIBRARY:
        page = _page(c)
        text = page.read_text(encoding="utf-8") if page is not None and page.is_file() else ""
        missing += [f"{c.name}.{lim.row}" for lim in c.limits if f"`{c.name}.{lim.row}" not in text]
    assert not missing, f"limits naming rows their math pages do not have: {missing}"
