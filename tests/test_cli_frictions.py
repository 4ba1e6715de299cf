"""A newcomer's frictions: the CLI's gap flag named as in Python, HiGHS's log kept off the
table on stdout, the KPI table's labels and signs, the embedded scenario's public path.

The toy day (conftest base): one site, 4 hourly periods at a flat 100 CNY/MWh, interactive
demand of 5 units per period on one block: IT 1 + 0.1 x 5 = 1.5 MW, facility 1.1 x 1.5 =
1.65 MW, so the day costs 4 h x 1.65 MW x 100 CNY/MWh = 660 CNY.
"""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from conftest import base_config

import suandian
from suandian.results.accounting import shadow_prices
from suandian.results.report import _num, _section, _shadow_rows


def cli() -> list[str]:
    script = Path(sys.executable).with_name("suandian")
    return [str(script)] if script.exists() else [sys.executable, "-m", "suandian.cli"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*cli(), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture()
def toy(tmp_path) -> Path:
    cfg = base_config(periods=4)
    cfg["interactive"] = [{"name": "web", "demand": 5.0, "sites": ["s1"]}]
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    return path


def test_log_goes_to_stderr_and_stdout_keeps_the_table(toy, tmp_path):
    proc = run(
        "solve", str(toy), "--log", "--mip-rel-gap", "0", "--out", str(tmp_path / "o"), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "Running HiGHS" in proc.stderr  # the solver's banner and log, on stderr
    assert "HiGHS 1." not in proc.stdout and "planning" not in proc.stdout
    assert proc.stdout.startswith("scenario      tiny\n")
    assert re.search(r"^total cost\s+660 CNY", proc.stdout, re.M), proc.stdout
    assert not re.search(r"\s-0(\.0+)?(\s|$)", proc.stdout), proc.stdout  # no "-0"
    assert "certifier: the plan satisfies every check" in proc.stdout


def test_mip_rel_gap_is_the_flag_and_mip_gap_its_alias(toy, tmp_path):
    old = run("solve", str(toy), "--mip-gap", "0", "--out", str(tmp_path / "a"), cwd=tmp_path)
    assert old.returncode == 0, old.stderr
    assert re.search(r"^total cost\s+660 CNY", old.stdout, re.M)
    bad = run("solve", str(toy), "--mip-rel-gap", "-1", "--out", str(tmp_path / "b"), cwd=tmp_path)
    assert bad.returncode == 1
    assert "--mip-rel-gap -1.0: use a relative gap >= 0" in bad.stderr
    helped = run("solve", "--help", cwd=tmp_path)
    assert "--mip-rel-gap G, --mip-gap G" in helped.stdout
    assert "mip_rel_gap in Python" in helped.stdout


def test_negative_zero_is_printed_as_zero():
    """-0.0 and -0.4 round to 0 at no decimals; -0.004 to 0.00 at two; -1.6 stays -2."""
    assert _num(-0.0, ",.0f") == "0"
    assert _num(-0.4, ",.0f") == "0"
    assert _num(-0.004, ">8,.2f") == "    0.00"
    assert _num(-1.6, ",.0f") == "-2"
    assert _num(-1234.5, ",.1f") == "-1,234.5"


def test_sections_align_long_names():
    """A name longer than the default width widens the block: every value ends in the same
    column as the unit in the title."""
    lines = _section("cost by term", "CNY", [("a", "1"), ("network_system_operation", "19,040")])
    ends = {len(line) for line in lines}
    assert len(ends) == 1, lines
    assert lines[2].startswith("  network_system_operation  ")


def test_shadow_prices_are_labelled_with_their_units():
    """The hand-built Dataset of test_shadow_prices: green share 3.0 CNY/MWh and 7.7
    CNY/point on the portfolio, PUE 12.5 CNY/0.01 at s2 (the NaN entries absent)."""
    ds = xr.Dataset(
        {
            "shadow_green_share": ("scope", [3.0, np.nan]),
            "shadow_green_share_point": ("scope", [7.7, np.nan]),
            "shadow_pue": ("site", [np.nan, 12.5]),
        },
        coords={"scope": ["portfolio", "s1"], "site": ["s1", "s2"]},
        attrs={"components": "green_share,pue_cap"},
    )
    result = types.SimpleNamespace(ds=ds, kpis={"shadow_prices": shadow_prices(ds)})
    rows = _shadow_rows(result)  # type: ignore[arg-type]
    assert [name for name, _ in rows] == [
        "green share, one MWh more (portfolio)",
        "green share, one point higher (portfolio)",
        "PUE cap, 0.01 lower (s2)",
    ]
    assert [text.split() for _, text in rows] == [
        ["3.00", "CNY/MWh"],
        ["7.70", "CNY/point"],
        ["12.50", "CNY/0.01"],
    ]
    lines = _section("shadow prices", "", rows)
    assert len({line.index(".", 40) for line in lines[1:]}) == 1  # decimal points aligned


def test_default_scenario_has_a_public_path(tmp_path):
    """From any folder: the path exists, loads, and is what `suandian solve` plans."""
    from suandian import cli

    path = suandian.default_scenario()
    assert path.is_file() and path.name == "chongqing_hami_day.yaml"
    assert suandian.default_scenario("year").name == "chongqing_hami_year.yaml"
    assert cli.default_scenario() == path
    with pytest.raises(ValueError, match="which='week'; use one of"):
        suandian.default_scenario("week")
    code = "import suandian; print(suandian.load_scenario(suandian.default_scenario()).periods)"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "96"
