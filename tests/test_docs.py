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

import pytest
import yaml

import suandian
from suandian.scenario import schema

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MATH = DOCS / "math"
DEFAULT_SCENARIO = ROOT / "models" / "chongqing_hami_day.yaml"


def _math_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(MATH.glob("*.md")))


def _mentioned(name: str, text: str) -> bool:
    """Whether ``name`` (e.g. ``dc.cost``) occurs as a whole name (not ``dc.cost_startup``)."""
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text) is not None


def _components(model) -> dict[str, int]:
    """Qualified names ``block.name`` of every variable, row block, expression, port -> size."""
    out: dict[str, int] = {}
    for block, fb in model.builders.items():
        for name in fb.names:
            size = 1
            if name in fb.rows:
                size = int((fb.rows[name].rows >= 0).sum())
            elif name in fb.recorded and fb.recorded[name].var is not None:
                size = int((fb.recorded[name].var.cols >= 0).sum())
            out[f"{block}.{name}"] = size
        for term in fb.cost_terms:
            out[f"{block}.cost_terms.{term}"] = 1
    return out


def _declared() -> set[str]:
    """Every ``block.output`` of every component's output table."""
    from suandian.components import REGISTRY
    from suandian.ledgers import COMPONENT as LEDGER
    from suandian.policies import POLICIES

    return {f"{c.name}.{o.name}" for c in (*REGISTRY, LEDGER, *POLICIES) for o in c.outputs}


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
def models() -> list:
    default = suandian.load_scenario(DEFAULT_SCENARIO)
    return [
        suandian.build_model(default),
        suandian.build_model(default, shortfall_penalty=1e5, compute_shortfall_penalty=1e4),
        suandian.build_model(
            _everything_on(), shortfall_penalty=1e5, compute_shortfall_penalty=1e4
        ),
    ]


def test_every_component_is_documented(models):
    """Every variable, row block and expression is named on a math page; cost terms too."""
    text = _math_text()
    names: dict[str, int] = {}
    for m in models:
        for name, size in _components(m).items():
            names[name] = max(names.get(name, 0), size)
    missing = sorted(
        n
        for n in names
        if ".port." not in n and ".cost_terms." not in n and not _mentioned(n, text)
    )
    accounting = (MATH / "accounting.md").read_text(encoding="utf-8")
    missing += sorted(
        n for n in names if ".cost_terms." in n and f"`{n.rsplit('.', 1)[1]}`" not in accounting
    )
    assert not missing, f"components not named on any docs/math/*.md page: {missing}"


def test_every_component_is_exercised(models):
    """The models above activate every indexed component (so the check above means something)."""
    names: dict[str, int] = {}
    for m in models:
        for name, size in _components(m).items():
            names[name] = max(names.get(name, 0), size)
    empty = sorted(n for n, size in names.items() if size == 0)
    assert not empty, f"components empty in every test model: {empty}"


def test_every_output_is_documented():
    """Every entry of every output table (Dataset variable) is named on a math page."""
    text = _math_text()
    missing = sorted(n for n in _declared() if not _mentioned(n.split(".", 1)[1], text))
    assert not missing, f"outputs not named on any docs/math/*.md page: {missing}"


def test_math_pages_name_no_stale_components(models):
    """Every ``block.name`` written in code style on a math page exists in the model."""
    blocks = {block for m in models for block in m.builders}
    known = set(_declared())
    for m in models:
        known.update(_components(m))
        for block, fb in m.builders.items():
            known.update(f"{block}.{term}" for term in fb.cost_terms)
            known.update(f"{block}.{o.name}" for o in fb.component.outputs)
    stale = set()
    for page in MATH.glob("*.md"):
        for name in re.findall(r"`([a-z_]+\.[A-Za-z_.]+)(?:\[[^`]*\])?`", page.read_text()):
            if name.split(".")[0] in blocks and name not in known:
                stale.add(f"{page.name}: {name}")
    assert not stale, f"names on math pages that the model does not have: {sorted(stale)}"


def test_every_certifier_check_is_documented():
    from suandian.components import REGISTRY
    from suandian.ledgers import COMPONENT as LEDGER
    from suandian.policies import POLICIES

    components = (*REGISTRY, LEDGER, *POLICIES)
    prefixes = "|".join(c.name for c in components)
    checks = set()
    for c in components:
        module = importlib.import_module(c.build.__module__)
        source = Path(module.__file__).read_text(encoding="utf-8")
        checks.update(re.findall(rf'"((?:{prefixes})\.[A-Za-z_.]+)"', source))
        for o in c.outputs:  # generic bounds and integrality checks of the certifier
            if o.role == "decision":
                checks.add(f"{c.name}.{o.name}.bounds")
                if o.integer:
                    checks.add(f"{c.name}.{o.name}.integrality")
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
