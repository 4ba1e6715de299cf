"""The docs' component table and carrier matrix are generated from the registries.

``docs/_ext/suandian_docs.py`` renders them (directives ``component-table``,
``carrier-table``, ``carrier-matrix``); these fast tests check the rows it renders without
a Sphinx build, and that the math pages use the directives instead of hand-written tables.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
pytest.importorskip("docutils", reason="the docs extension needs the docs extra")

import suandian_docs  # noqa: E402

from suandian.component import CARRIERS  # noqa: E402
from suandian.components import REGISTRY  # noqa: E402
from suandian.policies import POLICIES  # noqa: E402


def test_component_table_lists_every_component_with_its_page():
    rows = suandian_docs.component_rows()
    names = [r[0].strip("`") for r in rows]
    assert names == [c.name for c in REGISTRY] + ["ledger"] + [p.name for p in POLICIES]
    for row in rows:  # every page named on a module's Math: line exists
        page = row[3].removeprefix("[](").removesuffix(")")
        assert (ROOT / "docs" / "math" / page).is_file(), row


def test_carrier_matrix_is_read_from_the_built_ports():
    """grid writes grid_mix (and no green); green writes both; only dc writes it."""
    rows = {r[0].strip("`"): r for r in suandian_docs.carrier_rows()}
    assert list(rows) == list(CARRIERS)
    col = {c.name: 5 + i for i, c in enumerate(REGISTRY)}
    assert rows["grid_mix"][col["grid"]] == "x" and rows["grid_mix"][col["green"]] == "x"
    assert rows["green"][col["grid"]] == "" and rows["it"][col["dc"]] == "x"
    assert rows["grid_mix"][2] == "`grid_cfe`" and rows["green"][3] == "yes"


def test_math_pages_use_the_generated_tables():
    index = (ROOT / "docs/math/index.md").read_text(encoding="utf-8")
    ledgers = (ROOT / "docs/math/ledgers.md").read_text(encoding="utf-8")
    assert "```{component-table}" in index and "```{carrier-table}" in index
    assert "```{carrier-matrix}" in ledgers
    assert "| component | kind |" not in index and "| carrier | unit |" not in index + ledgers


def test_output_dictionary_lists_every_output_with_units():
    """The data dictionary of outputs.md: every output of every component and of the model,
    each with units and a description; the page uses the directive."""
    from suandian.ledgers import COMPONENT as LEDGER
    from suandian.results.extract import MODEL_OUTPUTS

    sections = suandian_docs.output_sections()
    listed = {(name, row[0].strip("`")) for name, _, rows in sections for row in rows}
    expected = {(c.name, o.name) for c in (*REGISTRY, LEDGER, *POLICIES) for o in c.outputs}
    expected |= {("model", name) for name in MODEL_OUTPUTS}
    assert listed == expected
    for name, page, rows in sections:
        assert (ROOT / "docs" / "math" / page).is_file(), name
        for row in rows:
            assert row[2].strip() and row[4].strip(), (name, row)
    text = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    assert "```{output-dictionary}" in text


def test_markdown_cells_are_escaped():
    assert suandian_docs._text("a|b *c* $x$ [y]") == r"a\|b \*c\* \$x\$ \[y\]"


def test_cli_reference_is_generated_from_the_parser():
    """cli.md is filled from the argparse parser: a section per command, every option."""
    import argparse

    from suandian.cli import _parser

    text = suandian_docs.cli_reference()
    parser = _parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) >= {"solve", "validate", "example", "certify", "offer", "rolling"}
    for name, command in sub.choices.items():
        assert f"## `suandian {name}`" in text
        section = text.split(f"## `suandian {name}`", 1)[1].split("\n## ", 1)[0]
        for action in command._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert option in section, (name, option)
    assert "`--mip-rel-gap G, --mip-gap G`" in text  # Python's name first, the old alias kept
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert suandian_docs.CLI_MARKER in page


def test_gallery_shows_every_tutorial():
    page = (ROOT / "docs" / "gallery.md").read_text(encoding="utf-8")
    listed = page.split("```{tutorial-gallery}", 1)[1].split("```", 1)[0].split()
    tutorials = sorted(f"tutorials/{p.stem}" for p in (ROOT / "docs" / "tutorials").glob("*.md"))
    assert sorted(listed) == tutorials
