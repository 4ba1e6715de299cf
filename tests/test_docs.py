"""Documentation tests.

* ``test_sphinx_build`` (marked ``docs``, slow): the Sphinx build with warnings as errors,
  tutorials executed — the CI gate "docs built with warnings as errors".
* The fast tests check that the math pages name every Pyomo component of the model exactly as
  the code does (an undocumented constraint fails), that every cost term and certifier check
  is in a cost or check table of a math page (``accounting.md``, ``certification.md`` or the
  family's own page) and that every scenario model has a generated field table on some page.
"""

from __future__ import annotations

import copy
import importlib
import re
import subprocess
import sys
import typing
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

import suandian
from suandian.scenario import schema

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MATH = DOCS / "math"
DEFAULT_SCENARIO = ROOT / "models" / "chongqing_hami_day.yaml"
#: families the docs-test scenarios must fill (the default scenario uses them all); a family
#: added later may instead be exercised by its own test file (test_every_component_is_exercised)
CORE_FAMILIES = ("dc", "grid", "res", "stor", "green")


def _math_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(MATH.glob("*.md")))


def _doc_pages() -> list[Path]:
    """Every source page of the docs (not build output)."""
    return sorted(
        p
        for p in DOCS.rglob("*.md")
        if not any(part.startswith("_") or part == "jupyter_execute" for part in p.parts)
    )


def _outside_fences(text: str) -> list[str]:
    """The lines of a MyST page that are not inside a fenced block (code or directive).

    A directive's opening line (```` ```{name} argument ````) is kept, its body is not, so an
    example written inside a code fence (e.g. on add-a-component.md) does not count.
    """
    out: list[str] = []
    fence = ""
    for line in text.splitlines():
        stripped = line.strip()
        if fence:
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = ""
            continue
        opening = re.match(r"(`{3,}|~{3,}|:{3,})", stripped)
        if opening:
            fence = opening.group(1)
        out.append(line)
    return out


def _table_rows(first_header: str) -> list[list[str]]:
    """Rows of every markdown table on a math page whose first column is ``first_header``."""
    rows: list[list[str]] = []
    for page in sorted(MATH.glob("*.md")):
        table: list[list[str]] = []
        for line in [*_outside_fences(page.read_text(encoding="utf-8")), ""]:
            if line.lstrip().startswith("|"):
                table.append([c.strip() for c in line.strip().strip("|").split("|")])
                continue
            if table and table[0][0] == first_header:
                rows += [r for r in table[1:] if not set("".join(r)) <= set("-: ")]
            table = []
    return rows


def _mentioned(name: str, text: str) -> bool:
    """Whether ``name`` (e.g. ``dc.cost``) occurs as a whole name (not ``dc.cost_startup``)."""
    return re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text) is not None


def _components(model) -> dict[str, int]:
    """Qualified names ``block.name`` of every variable, row block, expression, port -> size."""
    out: dict[str, int] = {}
    for block, fb in model.built.builders.items():
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
    import limit (``grid.import_limit``), a corridor minimum (``green.corridor_min``), a
    per-site green-share scope, a direct-connected PV project with export, a demand-response
    event, an orderly-curtailment cap and two reserve products, a chilled-water tank and a
    heat pump selling waste heat.
    """
    raw = yaml.safe_load(DEFAULT_SCENARIO.read_text(encoding="utf-8"))
    raw = copy.deepcopy(raw)
    extra = dict(raw["storage"][0], name="hm_battery", site="hm_dc", no_simultaneous=True)
    raw["storage"].append(extra)
    raw["nodes"][0]["import_limit"] = 200.0
    raw["corridors"][0]["min_mw"] = 1.0
    raw["corridors"][0]["contract_mw"] = 1000.0  # green.corridor_contract (not binding)
    raw["green_contracts"][0]["contract_mw"] = 1000.0  # green.contract_mw (not binding)
    # chosen blocks with none to build (dc.blocks_built, dc.blocks_units, dc.blocks_lumps,
    # dc.n_on_max): the 8 blocks there stay 8
    raw["sites"][1]["blocks"] = {"existing": raw["sites"][1]["blocks"], "max": 0.0, "unit_size": 1}
    # a grant on those blocks (grants.grant_cny, grants.grant_share)
    raw["grants"] = [{"name": "supply", "capacities": ["blocks"], "share": 1.0, "max_cny": 2e6}]
    raw["corridors"][0]["block_mw"] = None
    raw["corridors"][0]["windows"] = None  # windows apply to blocks only
    raw["corridors"].append(
        dict(
            raw["corridors"][0],
            name="hami_chongqing_blocks",
            block_mw=10.0,
            min_mw=0.0,
            windows=["08:00-16:00", "16:00-24:00"],
            # green part bounded by the sending end's output, deviation settlement
            # (green.p_send_green, green.p_dev_up, green.p_dev_down and their rows)
            green_profile="corridor_green_hami_mw",
            deviation_price_up=400.0,
            deviation_price_down=200.0,
        )
    )
    raw["policies"]["green_share"]["scope"] = "site"
    # the Chongqing node's purchase settled in the spot market (grid.p_da, grid.p_rt,
    # grid.p_deviation, grid.deviation_up, grid.deviation_down)
    raw["spot_market"] = [
        {
            "node": raw["nodes"][0]["name"],
            "day_ahead_price": 400.0,
            "real_time_price": 450.0,
            "deviation_price": 100.0,
        }
    ]
    raw["policies"]["cfe"] = {"score": 0.5}  # cfe.score_min (24/7 CFE target)
    # cluster rules and GPU power capping (dc.min_up, dc.min_down, dc.n_stop, dc.stop_count,
    # dc.ramp_up, dc.ramp_down, dc.p_dyn, dc.cap_curve, dc.cap_limit)
    raw["sites"][0].update(
        min_up_hours=2.0,
        min_down_hours=1.0,
        initial_up_hours=0.5,
        ramp_up=20.0,
        ramp_down=20.0,
        power_cap_curve=[[0.6, 0.8], [0.8, 0.94], [1.0, 1.0]],
        dynamic_power_interactive=0.0005,
    )
    raw["policies"]["carbon_price"] = 60.0  # market basis: activates the carbon Block
    # an emissions cap on the market ledger that does not bind (carbon.co2_cap,
    # carbon.e_co2_cap_market, carbon.co2_cap_market_floor)
    raw["policies"]["carbon_cap"] = {"tco2": 1.0e6}
    # job placement (dc.y_place, dc.place_one, dc.place_rate) and interactive headroom
    raw["batch"][0].update(placement="one_site", placement_hours=8.0)
    raw["batch"][1]["gang_size"] = 8000.0  # dc.n_gang, dc.gang_rate
    # restarts and a minimum run length (dc.z_job, dc.s_job, dc.job_running, ...)
    raw["batch"][1].update(restart_cost=1000.0, min_run_hours=1.0)
    raw["interactive"][1]["max_utilization"] = 0.9
    # 绿电直连 project with export (res.export_cap, res.export_share_max,
    # res.self_consumption_min, direct_supply.share_min)
    raw["renewables"][0].update(
        direct=True,
        min_self_consumption=0.6,
        min_supply_share=0.3,
        export_price=250.0,
        max_export_share=0.2,
    )
    # demand response (dr.*) and an orderly-curtailment cap (dr.curtail_max)
    raw["nodes"][0]["curtailment_limit"] = 500.0
    # network charge, demand charge on one node, capped capacity charge on the other (bill.*)
    raw["nodes"][0]["network_charge"] = 230.0
    raw["nodes"][0]["demand_charge"] = {"kind": "demand", "rate": 35.0, "peak_to_date_mw": 40.0}
    raw["nodes"][1]["demand_charge"] = {
        "kind": "capacity",
        "rate": 25.0,
        "capacity_kva": 80000.0,
        "power_factor": 0.9,
    }
    raw["demand_response"] = [
        {
            "name": "evening_peak",
            "sites": [raw["sites"][0]["name"]],
            "start": "2026-07-15 19:00",
            "end": "2026-07-15 21:00",
            "capacity_price": 500.0,
            "energy_price": 3000.0,
            "min_bid": 1.0,
            "max_reduction": 20.0,
            "shortfall_price": 4000.0,
            "baseline": {raw["sites"][0]["name"]: 60.0},
        }
    ]
    # thermal storage on Chongqing's air path, waste heat sold from Hami's liquid loop (thermal.*)
    raw["thermal_storage"] = [
        {
            "name": "cq_tank",
            "site": raw["sites"][0]["name"],
            "capacity": 40.0,
            "charge_max": 10.0,
            "discharge_max": 10.0,
            "standing_loss": 0.01,
        }
    ]
    raw["heat_recovery"] = [
        {
            "name": "hm_heat",
            "site": raw["sites"][1]["name"],
            "capacity": 20.0,
            "demand": 15.0,
            "price": 120.0,
        }
    ]
    return suandian.load_scenario(raw, base_dir=DEFAULT_SCENARIO.parent)


def _budgets_on() -> suandian.Scenario:
    """The default with hourly green matching at a soft price and a soft annual PUE budget
    (``green_share.share_match``, ``pue_cap.e_pue_over_budget``)."""
    raw = copy.deepcopy(yaml.safe_load(DEFAULT_SCENARIO.read_text(encoding="utf-8")))
    raw["policies"]["green_share"].update(matching="hour", shortfall_price=500.0)
    raw["policies"]["pue"].update(
        basis="year",
        excess_price=300.0,
        year={s["name"]: {"allowance_mwh": 10.0} for s in raw["sites"]},
    )
    # reserve products (rsv.*): up with a market cap, down for one site's batteries
    raw["reserves"] = [
        {"name": "up", "direction": "up", "price": 8.0, "duration": 2.0, "max_mw": 20.0},
        {"name": "down", "direction": "down", "price": 4.0, "sites": [raw["sites"][0]["name"]]},
        # IT-load headroom both ways (rsv.p_reserve_it, z_spare, z_batch and their rows)
        {
            "name": "it_down",
            "direction": "down",
            "price": 4.0,
            "sources": ["battery", "it_load"],
        },
    ]
    return suandian.load_scenario(raw, base_dir=DEFAULT_SCENARIO.parent)


def _bill_rules_on() -> suandian.Scenario:
    """The conftest base across a month end with every demand-charge rule (bill.d_billed,
    d_excess, u_capacity, c_basic and their rows; the ratchet within the horizon)."""
    from conftest import base_config

    cfg = base_config(periods=4)
    cfg["horizon"]["start"] = "2026-07-31 22:00"
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    cfg["nodes"][0]["demand_charge"] = {
        "kind": "choose",
        "rate": {7: 10.0, "default": 8.0},
        "capacity_kva": 5000.0,
        "capacity_rate": 6.0,
        "floor_share": 0.4,
        "declared_mw": 3.0,
        "ratchet": {"share": 0.75, "previous_months": 2},
        "peak_history_mw": {"2026-06": 4.0},
    }
    # a second node billed on the peak with a floor (bill.demand_billed)
    cfg["nodes"].append(dict(cfg["nodes"][0], name="n2"))
    cfg["nodes"][1]["demand_charge"] = {
        "kind": "demand",
        "rate": 10.0,
        "floor_share": 0.4,
        "capacity_kva": 5000.0,
    }
    cfg["sites"].append(dict(cfg["sites"][0], name="s2", node="n2"))
    # a third node whose declared demand the model chooses (bill.d_declared, demand_declared)
    cfg["nodes"].append(dict(cfg["nodes"][0], name="n3"))
    cfg["nodes"][2]["demand_charge"] = {"kind": "demand", "rate": 10.0, "declared_mw": "chosen"}
    cfg["sites"].append(dict(cfg["sites"][0], name="s3", node="n3"))
    cfg["interactive"][0]["sites"] = ["s1", "s2", "s3"]
    return suandian.load_scenario(cfg)


@pytest.fixture(scope="module")
def models() -> list:
    default = suandian.load_scenario(DEFAULT_SCENARIO)
    return [
        suandian.build_model(default),
        suandian.build_model(default, shortfall_penalty=1e5, compute_shortfall_penalty=1e4),
        suandian.build_model(
            _everything_on(), shortfall_penalty=1e5, compute_shortfall_penalty=1e4
        ),
        suandian.build_model(_budgets_on(), shortfall_penalty=1e5),
        suandian.build_model(_bill_rules_on()),
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
    # a cost term is a row `term` | `component` of a cost table (header "term") on any math
    # page: accounting.md or the family's own page
    costs = {(row[0], row[1]) for row in _table_rows("term") if len(row) > 1}
    missing += sorted(
        n
        for n in names
        if ".cost_terms." in n
        and (f"`{n.rsplit('.', 1)[1]}`", f"`{n.split('.', 1)[0]}`") not in costs
    )
    assert not missing, f"components not named on any docs/math/*.md page: {missing}"


def _has_data(config, section: str) -> bool:
    """Whether a scenario fills a family's section (a non-empty list, a set value)."""
    return bool(getattr(config, section.split(".")[0], None))


def test_every_component_is_exercised(models):
    """The models above activate every indexed component (so the check above means something).

    Required of every component except a family whose sections are empty in all the models
    above (a family added without data in the default scenario, not one of CORE_FAMILIES):
    that one must be used by a test file of its own (``tests/test_<family>.py`` setting its
    section).
    """
    names: dict[str, int] = {}
    exercised: dict[str, bool] = {}
    for m in models:
        for name, size in _components(m).items():
            names[name] = max(names.get(name, 0), size)
        for block, fb in m.built.builders.items():
            c = fb.component
            used = c.kind != "family" or not c.sections
            used = used or any(_has_data(fb.ctx.scenario.config, s) for s in c.sections)
            exercised[block] = exercised.get(block, False) or used
    unused = [b for b in CORE_FAMILIES if not exercised.get(b)]
    assert not unused, f"families without data in any docs-test scenario: {unused}"
    empty = sorted(n for n, size in names.items() if size == 0 and exercised[n.split(".", 1)[0]])
    assert not empty, f"components empty in every test model: {empty}"
    sources = {
        p.name: p.read_text(encoding="utf-8")
        for p in (ROOT / "tests").glob("test_*.py")
        if p.name != Path(__file__).name
    }
    untested = sorted(
        {
            block
            for m in models
            for block, fb in m.built.builders.items()
            if not exercised[block]
            and not any(
                f'"{s}"' in text or f"'{s}'" in text
                for s in fb.component.sections
                for text in sources.values()
            )
        }
    )
    assert not untested, (
        f"families with no data in the docs-test scenarios and no test file using their "
        f"sections: {untested}"
    )


def test_every_dimension_is_described(models):
    """Every dimension (and sparse-dimension label) of the docs-test models has a description
    for the saved tables' index columns (``suandian.results.io.DIMENSIONS``)."""
    from suandian.results import io

    dims = {
        name
        for m in models
        for name, value in m.built.ctx.coords.items()
        if not name.endswith(":key")
    }
    missing = sorted(dims - set(io.DIMENSIONS))
    assert not missing, f"dimensions without a description in io.DIMENSIONS: {missing}"


def test_every_output_is_documented():
    """Every entry of every output table (Dataset variable) is named on a math page."""
    text = _math_text()
    missing = sorted(n for n in _declared() if not _mentioned(n.split(".", 1)[1], text))
    assert not missing, f"outputs not named on any docs/math/*.md page: {missing}"


def test_math_pages_name_no_stale_components(models):
    """Every ``block.name`` written in code style on a math page exists in the model."""
    blocks = {block for m in models for block in m.built.builders}
    known = set(_declared())
    for m in models:
        known.update(_components(m))
        for block, fb in m.built.builders.items():
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
    # a check is named in the first column of a check table (header "check") on any math
    # page: certification.md or the family's own page
    text = "\n".join(row[0] for row in _table_rows("check"))
    missing = sorted(c for c in checks if not _mentioned(c, text))
    assert not missing, f"certifier checks not in a check table of docs/math/*.md: {missing}"


def _scenario_models() -> list[type[BaseModel]]:
    """The public models of schema.py and every model reachable from ScenarioConfig's fields.

    Found by walking the field annotations (lists, unions, Annotated, ...) recursively, so a
    family's section class defined in its own module is included.
    """
    found = [
        obj
        for name, obj in vars(schema).items()
        if isinstance(obj, type)
        and issubclass(obj, BaseModel)
        and obj.__module__ == schema.__name__
        and not name.startswith("_")
    ]
    config = schema.config_model()  # with the fields components declare in their modules
    stack: list = [config]
    seen: set = {config}
    stack += [f.annotation for f in config.model_fields.values()]
    while stack:
        annotation = stack.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation in seen:
                continue
            seen.add(annotation)
            if annotation not in found:
                found.append(annotation)
            stack += [f.annotation for f in annotation.model_fields.values()]
        else:
            stack += typing.get_args(annotation)
    return found


def test_every_schema_model_has_a_field_table():
    """Every scenario model has a ``{schema-table}`` on some docs page (by name or path)."""
    tables: set[str] = set()
    for page in _doc_pages():
        for line in _outside_fences(page.read_text(encoding="utf-8")):
            match = re.match(r"\s*(?:`{3,}|:{3,})\{schema-table\}\s+(\S+)", line)
            if match:
                tables.add(match.group(1))
    models = _scenario_models()
    assert schema.ScenarioConfig in models and len(models) > 10
    names = [m.__name__ for m in models]
    missing = sorted(
        f"{m.__module__}.{m.__qualname__}"
        for m in models
        if f"{m.__module__}.{m.__qualname__}" not in tables
        and not (m.__name__ in tables and names.count(m.__name__) == 1)
    )
    assert not missing, f"scenario models without a schema-table on any docs page: {missing}"


# session scope: under pytest-xdist a worker tears a module fixture down whenever it does not
# yet hold the module's next test, so a module scope could build it twice (conftest groups)
@pytest.fixture(scope="session")
def sphinx_build(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """The Sphinx build with warnings as errors (run once for every ``docs`` test)."""
    tmp_path = tmp_path_factory.mktemp("sphinx")
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
    return proc, tmp_path / "html"


@pytest.mark.docs
def test_sphinx_build(sphinx_build):
    """The documentation builds with warnings as errors, tutorials executed."""
    proc, _ = sphinx_build
    assert proc.returncode == 0, proc.stdout[-5000:] + "\n" + proc.stderr[-10000:]


def _conf() -> dict:
    import runpy

    return runpy.run_path(str(DOCS / "conf.py"))


def test_math_is_bundled():
    """conf.py points MathJax at the bundled single-file build, not at a CDN."""
    conf = _conf()
    path = conf["mathjax_path"]
    assert not re.match(r"[a-z]+://|//", path), f"mathjax_path loads from the network: {path}"
    assert any((DOCS / d / path).is_file() for d in conf["html_static_path"])
    assert (DOCS / "_static" / "mathjax" / "LICENSE").is_file()


@pytest.mark.docs
def test_built_pages_load_no_remote_script(sphinx_build):
    """No page of the built docs loads a script from the network (math renders offline).

    Every page with a formula loads the bundled MathJax, and no page has a ``<script src>``
    (nor a stylesheet) with an http(s) or protocol-relative address.
    """
    proc, html = sphinx_build
    assert proc.returncode == 0, proc.stderr[-3000:]
    remote, without = [], []
    pages = sorted(html.rglob("*.html"))
    for page in pages:
        text = page.read_text(encoding="utf-8")
        srcs = re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)=\"([^\"]+)\"", text)
        remote += [f"{page.name}: {s}" for s in srcs if re.match(r"(https?:)?//", s)]
        if 'class="math' in text and not any("_static/mathjax/tex-svg-full.js" in s for s in srcs):
            without.append(page.name)
    assert any('class="math' in p.read_text(encoding="utf-8") for p in pages)
    assert not remote, f"pages loading from the network: {remote[:10]}"
    assert not without, f"pages with math but without the bundled MathJax: {without}"


@pytest.mark.docs
def test_built_reference_pages(sphinx_build):
    """The generated pages are in the build: the CLI reference (every command, the gap flag
    under Python's name), the data dictionary (units beside each output), the install page
    and the gallery (a card per tutorial, the quickstart's with its figure)."""
    proc, html = sphinx_build
    assert proc.returncode == 0, proc.stderr[-3000:]
    cli = (html / "cli.html").read_text(encoding="utf-8")
    for command in ("solve", "validate", "example", "certify", "offer", "rolling", "sweep"):
        assert f'href="#cli-{command}"' in cli
    assert "--mip-rel-gap" in cli
    outputs = (html / "outputs.html").read_text(encoding="utf-8")
    assert re.search(
        r"<code[^>]*><span class=\"pre\">p_grid</span></code></p></td>\s*<td>"
        r"<p>site, time</p></td>\s*<td><p>MW</p></td>",
        outputs,
    )
    assert (html / "install.html").is_file()
    gallery = (html / "gallery.html").read_text(encoding="utf-8")
    assert gallery.count('class="gallery-card') == len(list((DOCS / "tutorials").glob("*.md")))
    grid = gallery.split('class="tutorial-gallery', 1)[1]
    card = grid.split('href="tutorials/quickstart.html"', 1)[1].split("</a>", 1)[0]
    assert "<img" in card and "_images/" in card
