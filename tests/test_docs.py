"""Documentation tests.

* ``test_sphinx_build`` (marked ``docs``, slow): the Sphinx build with warnings as errors,
  tutorials executed — the CI gate "docs built with warnings as errors".
* The fast tests check that the math pages name every Pyomo component of the model exactly as
  the code does (an undocumented constraint fails), that every certifier check is documented
  and that every schema model has a generated field table.
"""

from __future__ import annotations

import copy
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pyomo.environ as pyo
import pytest
import yaml

import suandian
from suandian.scenario import schema

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MATH = DOCS / "math"
DEFAULT_SCENARIO = ROOT / "models" / "chongqing_hami_day.yaml"

#: Pyomo component types each math page must name
KINDS = (pyo.Var, pyo.Constraint, pyo.Expression, pyo.Set)


def _math_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(MATH.glob("*.md")))


def _mentioned(name: str, text: str) -> bool:
    """Whether ``name`` (e.g. ``dc.cost``) occurs as a whole name (not ``dc.cost_startup``)."""
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text) is not None


def _components(model: pyo.ConcreteModel) -> dict[str, int]:
    """Qualified names ``block.component`` of every Var/Constraint/Expression/Set -> size."""
    out: dict[str, int] = {}
    for block in model.component_objects(pyo.Block, descend_into=True):
        for comp in block.component_objects(KINDS, descend_into=False):
            out[f"{block.local_name}.{comp.local_name}"] = len(comp)
    for comp in model.component_objects(KINDS + (pyo.Objective,), descend_into=False):
        out[comp.local_name] = len(comp)
    return out


def _everything_on() -> suandian.Scenario:
    """The default scenario with the options it leaves off switched on.

    Adds a battery with ``no_simultaneous`` (``stor.u_charge``, ``stor.charge_mode``), a node
    import limit (``grid.import_limit``), a corridor minimum (``green.corridor_min``) and a
    per-site green-share scope.
    """
    raw = yaml.safe_load(DEFAULT_SCENARIO.read_text(encoding="utf-8"))
    raw = copy.deepcopy(raw)
    extra = dict(raw["storage"][0], name="hm_battery", site="hm_dc", no_simultaneous=True)
    raw["storage"].append(extra)
    raw["nodes"][0]["import_limit"] = 200.0
    raw["corridors"][0]["min_mw"] = 1.0
    raw["corridors"][0]["block_mw"] = None
    raw["corridors"].append(
        dict(
            raw["corridors"][0],
            name="hami_chongqing_blocks",
            block_mw=10.0,
            min_mw=0.0,
            windows=["08:00-16:00", "16:00-24:00"],
        )
    )
    raw["policies"]["green_share"]["scope"] = "site"
    raw["policies"]["carbon_price"] = 60.0  # market basis: activates the carbon Block
    return suandian.load_scenario(raw, base_dir=DEFAULT_SCENARIO.parent)


@pytest.fixture(scope="module")
def models() -> list[pyo.ConcreteModel]:
    default = suandian.load_scenario(DEFAULT_SCENARIO)
    return [
        suandian.build_model(default),
        suandian.build_model(default, shortfall_penalty=1e5, compute_shortfall_penalty=1e4),
        suandian.build_model(
            _everything_on(), shortfall_penalty=1e5, compute_shortfall_penalty=1e4
        ),
    ]


def test_every_component_is_documented(models):
    text = _math_text()
    names: dict[str, int] = {}
    for m in models:
        for name, size in _components(m).items():
            names[name] = max(names.get(name, 0), size)
    missing = sorted(n for n in names if not _mentioned(n, text))
    assert not missing, f"components not named on any docs/math/*.md page: {missing}"


def test_every_component_is_exercised(models):
    """The models above activate every indexed component (so the check above means something)."""
    names: dict[str, int] = {}
    for m in models:
        for name, size in _components(m).items():
            names[name] = max(names.get(name, 0), size)
    empty = sorted(n for n, size in names.items() if size == 0)
    assert not empty, f"components empty in every test model: {empty}"


def test_math_pages_name_no_stale_components(models):
    """Every ``block.name`` written in code style on a math page exists in the model."""
    blocks = {b.local_name for m in models for b in m.component_objects(pyo.Block)}
    known: set[str] = set()
    for m in models:
        for block in m.component_objects(pyo.Block):
            known.update(
                f"{block.local_name}.{c.local_name}"
                for c in block.component_objects(descend_into=False)
            )
            known.update(f"{block.local_name}.{a}" for a in vars(block) if not a.startswith("_"))
    stale = set()
    for page in MATH.glob("*.md"):
        for name in re.findall(r"`([a-z_]+\.[A-Za-z_]+)(?:\[[^`]*\])?`", page.read_text()):
            if name.split(".")[0] in blocks and name not in known:
                stale.add(f"{page.name}: {name}")
    assert not stale, f"names on math pages that the model does not have: {sorted(stale)}"


def test_every_certifier_check_is_documented():
    module = importlib.import_module("suandian.results.certifier")
    source = Path(module.__file__).read_text(encoding="utf-8")
    checks = set(
        re.findall(
            r'"((?:dc|grid|res|stor|green|ledger|green_share|pue_cap)\.[A-Za-z_.]+)"', source
        )
    )
    checks.add("total_cost")
    text = (MATH / "certification.md").read_text(encoding="utf-8")
    missing = sorted(c for c in checks if not _mentioned(c, text))
    assert not missing, f"certifier checks not named in docs/math/certification.md: {missing}"


def test_every_schema_model_has_a_field_table():
    text = (DOCS / "scenario-format.md").read_text(encoding="utf-8")
    tables = set(re.findall(r"```\{schema-table\}\s+(\w+)", text))
    models = {
        name
        for name, obj in vars(schema).items()
        if isinstance(obj, type)
        and issubclass(obj, schema.BaseModel)
        and obj.__module__ == schema.__name__
        and not name.startswith("_")
    }
    assert models - tables == set(), f"schema models without a table: {sorted(models - tables)}"


@pytest.mark.docs
def test_sphinx_build(tmp_path):
    """The documentation builds with warnings as errors, tutorials executed."""
    cmd = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-b",
        "html",
        "-d",
        str(tmp_path / "doctrees"),
        str(DOCS),
        str(tmp_path / "html"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert proc.returncode == 0, proc.stdout[-5000:] + "\n" + proc.stderr[-10000:]
