"""Bad input gets a clear error: field, value and fix, every problem at once."""

from __future__ import annotations

import copy
import textwrap

import numpy as np
import pandas as pd
import pytest
from conftest import base_config

import suandian
from suandian import ScenarioError


def problems_of(config: dict, series=None, base_dir=None) -> list[suandian.Problem]:
    with pytest.raises(ScenarioError) as info:
        suandian.load_scenario(copy.deepcopy(config), series=series, base_dir=base_dir)
    return info.value.problems


def find(problems, field: str) -> suandian.Problem:
    matches = [p for p in problems if p.field == field]
    assert matches, f"no problem for {field}; got {[str(p) for p in problems]}"
    return matches[0]


def test_valid_base_config_loads():
    sc = suandian.load_scenario(base_config())
    assert sc.periods == 4 and sc.dt == 1.0


def test_negative_capacity_names_field_value_and_fix(tiny):
    tiny["sites"][0]["blocks"] = -3
    p = find(problems_of(tiny), "sites[0].blocks")
    assert p.value == "-3"
    assert ">= 0" in p.message


def test_efficiency_above_one_explains_fractions(tiny):
    tiny["storage"] = [{"name": "b", "site": "s1", "power": 1, "energy": 2, "eta_charge": 95}]
    p = find(problems_of(tiny), "storage[0].eta_charge")
    assert p.value == "95"
    assert "<= 1" in p.message and "0.95" in p.message


def test_unknown_key_suggests_the_right_one(tiny):
    tiny["sites"][0]["block_capacty"] = 10.0
    p = find(problems_of(tiny), "sites[0].block_capacty")
    assert "unknown key" in p.message and "block_capacity" in p.message


def test_unknown_site_and_node_references(tiny):
    tiny["sites"][0]["node"] = "n2"
    tiny["interactive"] = [{"name": "w", "demand": 1.0, "sites": ["s9"]}]
    problems = problems_of(tiny)
    node = find(problems, "sites[0].node")
    assert node.value == "'n2'" and "n1" in node.message
    site = find(problems, "interactive[0].sites[0]")
    assert site.value == "'s9'" and "s1" in site.message


def test_release_after_deadline(tiny):
    tiny["batch"] = [
        {"name": "j", "work": 5, "release": 3, "deadline": 2, "max_rate": 10, "sites": ["s1"]}
    ]
    p = find(problems_of(tiny), "batch[0].release")
    assert "release after deadline" in p.message


def test_work_impossible_within_window_at_max_rate(tiny):
    # window 2 periods x 1 h at max 10 units -> at most 20 unit-h; 30 requested
    tiny["batch"] = [
        {"name": "j", "work": 30, "release": 1, "deadline": 3, "max_rate": 10, "sites": ["s1"]}
    ]
    p = find(problems_of(tiny), "batch[0].work")
    assert "at most 20" in p.message


def test_all_problems_reported_at_once(tiny):
    tiny["sites"][0]["blocks"] = -1
    tiny["sites"][0]["node"] = "nowhere"
    tiny["storage"] = [{"name": "b", "site": "s1", "power": -1, "energy": 2, "eta_charge": 2}]
    tiny["bogus"] = 1
    fields = {p.field for p in problems_of(tiny)}
    assert {
        "sites[0].blocks",
        "sites[0].node",
        "storage[0].power",
        "storage[0].eta_charge",
        "bogus",
    } <= fields


def test_wrong_series_length_positional(tiny):
    series = pd.DataFrame({"d": [1.0, 2.0, 3.0]})  # horizon has 4 periods
    tiny["interactive"] = [{"name": "w", "demand": "d", "sites": ["s1"]}]
    p = find(problems_of(tiny, series=series), "series (DataFrame)")
    assert p.value == "3 rows" and "4 periods" in p.message


def test_nan_in_series_is_reported_with_its_time(tiny):
    series = pd.DataFrame({"d": [1.0, np.nan, 3.0, 4.0]})
    tiny["interactive"] = [{"name": "w", "demand": "d", "sites": ["s1"]}]
    p = find(problems_of(tiny, series=series), "series (DataFrame):d")
    assert "1 NaN" in p.value and "2026-07-15 01:00" in p.value


def test_unknown_series_name_suggests_close_match(tiny):
    series = pd.DataFrame({"demand_a": [1.0, 2.0, 3.0, 4.0]})
    tiny["interactive"] = [{"name": "w", "demand": "demand_b", "sites": ["s1"]}]
    p = find(problems_of(tiny, series=series), "interactive[0].demand")
    assert "unknown series" in p.message and "demand_a" in p.message


def test_profile_above_one_rejected(tiny):
    tiny["renewables"] = [{"name": "pv", "site": "s1", "capacity": 5, "profile": 1.5}]
    p = find(problems_of(tiny), "renewables[0].profile")
    assert "<= 1" in p.message


def test_csv_aligned_by_timestamp_and_missing_rows_reported(tmp_path, tiny):
    times = pd.date_range("2026-07-15", periods=4, freq="1h")
    pd.DataFrame({"time": times[:3], "d": [1.0, 2.0, 3.0]}).to_csv(tmp_path / "s.csv", index=False)
    tiny["series"] = ["s.csv"]
    tiny["interactive"] = [{"name": "w", "demand": "d", "sites": ["s1"]}]
    p = find(problems_of(tiny, base_dir=tmp_path), "series[0] (s.csv):time")
    assert "1 missing, first 2026-07-15 03:00:00" == p.value
    assert "upsample: hold" in p.message


def test_hourly_series_held_over_15_min_horizon_when_asked(tmp_path, tiny):
    times = pd.date_range("2026-07-15", periods=2, freq="1h")
    pd.DataFrame({"time": times, "d": [1.0, 2.0]}).to_csv(tmp_path / "s.csv", index=False)
    tiny["horizon"] = {"start": "2026-07-15", "periods": 8, "resolution": "15min"}
    tiny["series"] = ["s.csv"]
    tiny["interactive"] = [{"name": "w", "demand": "d", "sites": ["s1"]}]
    with pytest.raises(ScenarioError):  # default: exact alignment required
        suandian.load_scenario(copy.deepcopy(tiny), base_dir=tmp_path)
    tiny["horizon"]["upsample"] = "hold"
    sc = suandian.load_scenario(tiny, base_dir=tmp_path)
    assert sc.profile("d").tolist() == [1.0] * 4 + [2.0] * 4


def test_rows_outside_horizon_are_not_used_but_horizon_is_not_truncated(tmp_path, tiny):
    times = pd.date_range("2026-07-14 22:00", periods=10, freq="1h")
    pd.DataFrame({"time": times, "d": np.arange(10.0)}).to_csv(tmp_path / "s.csv", index=False)
    tiny["series"] = ["s.csv"]
    tiny["interactive"] = [{"name": "w", "demand": "d", "sites": ["s1"]}]
    sc = suandian.load_scenario(tiny, base_dir=tmp_path)
    assert sc.profile("d").tolist() == [2.0, 3.0, 4.0, 5.0]


def test_yaml_file_errors_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        textwrap.dedent("""
        horizon: {start: 2026-07-15, periods: 4}
        nodes: [{name: n1, tariff: 1, emission_factor: 0.5}]
        sites: [{name: s1, node: n1, blocks: 1, block_capacity: 0, idle_power: 1,
                 dynamic_power: 0.1, cooling: {cop: 5}}]
    """)
    )
    with pytest.raises(ScenarioError) as info:
        suandian.load_scenario(path)
    assert str(path) in str(info.value)
    assert "sites[0].block_capacity" in str(info.value)


def test_tou_band_without_price(tiny):
    tiny["nodes"][0]["tariff"] = {"prices": {"flat": 1.0}, "periods": {"peak": ["11:00-17:00"]}}
    problems = problems_of(tiny)
    assert any("peak" in p.message and "no price" in p.message for p in problems)


def test_bad_clock_range(tiny):
    tiny["nodes"][0]["tariff"] = {
        "prices": {"flat": 1.0, "peak": 2.0},
        "periods": {"peak": ["23:00-02:00"]},
    }
    problems = problems_of(tiny)
    assert any("across midnight" in p.message for p in problems)


def test_overlapping_tou_ranges(tiny):
    tiny["nodes"][0]["tariff"] = {
        "prices": {"flat": 1.0, "peak": 2.0, "valley": 0.5},
        "periods": {"peak": ["10:00-12:00"], "valley": ["11:00-13:00"]},
    }
    problems = problems_of(tiny)
    assert any("overlap" in p.message for p in problems)


def test_series_file_problems_reported_with_schema_problems(tiny):
    tiny["sites"][0]["blocks"] = -1
    tiny["series"] = ["no_such_file.csv"]
    fields = {p.field for p in problems_of(tiny)}
    assert {"sites[0].blocks", "series[0]"} <= fields


def test_offset_timestamps_align_to_the_local_horizon(tmp_path, tiny):
    rows = "".join(f"2026-07-15T0{h}:00:00+08:00,{h + 1}\n" for h in range(4))
    (tmp_path / "s.csv").write_text("time,d\n" + rows, encoding="utf-8")
    tiny["series"] = ["s.csv"]
    tiny["interactive"] = [{"name": "w", "demand": "d", "sites": ["s1"]}]
    sc = suandian.load_scenario(tiny, base_dir=tmp_path)
    assert sc.profile("d").tolist() == [1.0, 2.0, 3.0, 4.0]


def test_unicode_names_are_labels(tiny):
    tiny["nodes"][0]["name"] = "重庆"
    tiny["sites"][0]["node"] = "重庆"
    tiny["sites"][0]["name"] = "两江_1"
    tiny["interactive"] = [{"name": "推理", "demand": 5.0, "sites": ["两江_1"]}]
    sc = suandian.load_scenario(tiny)
    assert sc.sites_at("重庆") == ["两江_1"]


def test_problems_of_every_stage_reported_together(tiny):
    tiny["interactive"] = [{"name": "w", "demand": 1.0, "sites": ["nowhere"]}]  # reference
    tiny["series"] = ["no_such_file.csv"]  # series
    tiny["batch"] = [  # cross-check that needs the horizon
        {"name": "j", "work": 5, "release": 3, "deadline": 2, "max_rate": 10, "sites": ["s1"]}
    ]
    fields = {p.field for p in problems_of(tiny)}
    assert {"interactive[0].sites[0]", "series[0]", "batch[0].release"} <= fields


def test_yaml_merge_keys_are_not_duplicates(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        textwrap.dedent("""
        horizon: {start: 2026-07-15, periods: 4}
        nodes: [{name: n1, tariff: 1, emission_factor: 0.5}]
        base: &site {node: n1, blocks: 1, block_capacity: 1, idle_power: 1,
                     dynamic_power: 0.1, cooling: {cop: 5}}
        sites: [{<<: *site, name: s1, blocks: 2}]
        """).replace("base: &site", "x-site: &site"),
        encoding="utf-8",
    )
    problems = [p.field for p in suandian.validate_scenario(path)]
    assert problems == ["x-site"]  # only the unknown helper key; the merge is fine


def test_project_folder_series_allowed_but_not_beyond(tmp_path, tiny):
    (tmp_path / "project" / "models").mkdir(parents=True)
    (tmp_path / "project" / "data").mkdir()
    (tmp_path / "project" / "data" / "d.csv").write_text("d\n1\n2\n3\n4\n", encoding="utf-8")
    (tmp_path / "outside.csv").write_text("d\n1\n2\n3\n4\n", encoding="utf-8")
    tiny["interactive"] = [{"name": "w", "demand": "d", "sites": ["s1"]}]
    base = tmp_path / "project" / "models"
    tiny["series"] = ["../data/d.csv"]
    suandian.load_scenario(copy.deepcopy(tiny), base_dir=base)
    tiny["series"] = ["../../outside.csv"]
    problems = problems_of(tiny, base_dir=base)
    assert "outside the scenario's folder" in find(problems, "series[0]").message
    suandian.load_scenario(copy.deepcopy(tiny), base_dir=base, data_roots=[tmp_path])


def test_corridor_windows_without_blocks_reported(tiny):
    tiny["nodes"].append({"name": "n2", "tariff": 1.0, "emission_factor": 0.1})
    tiny["corridors"] = [
        {
            "name": "k",
            "from_node": "n2",
            "to_node": "n1",
            "capacity": 5,
            "source_price": 1,
            "windows": ["08:00-16:00"],
        }
    ]
    p = find(problems_of(tiny), "corridors[0].windows")
    assert "set block_mw, or remove windows" in p.message


def test_cooling_curve_and_carbon_basis_ignored_in_context_are_reported(tiny):
    tiny["sites"][0]["cooling"] = {"cop": 5.0, "t_free": 10.0, "cop_ref": 6.0}
    tiny["policies"]["carbon_basis"] = "market"
    with pytest.raises(suandian.ScenarioError) as err:
        suandian.load_scenario(tiny)
    text = str(err.value)
    assert "sites[0].cooling.t_free" in text and "t_free, cop_ref" in text
    assert "because cop is given" in text
    assert "policies.carbon_basis" in text and "no carbon_price" in text


def test_connection_mw_without_a_connection_charge_is_reported(tiny):
    tiny["renewables"] = [
        {"name": "pv", "site": "s1", "capacity": 5.0, "profile": 0.5, "connection_mw": 3.0}
    ]
    p = find(problems_of(tiny), "renewables[0].connection_mw")
    assert "no connection_charge" in p.message


# ------------------------------------------- no traceback; later problems with schema errors
def adiabatic_site(config: dict) -> dict:
    """The tiny site cooled by adiabatic coolers: wet-bulb ``wet``, dry-bulb ``dry``."""
    config["sites"][0]["cooling"] = {
        "ambient": "wet",
        "dry_bulb": "dry",
        "adiabatic_effectiveness": 0.8,
    }
    return config


def write_weather(folder, offset: str = "") -> None:
    """Four hourly rows from 2026-07-15 00:00: wet-bulb 20 degC, dry-bulb 30 degC."""
    rows = "".join(f"2026-07-15 0{h}:00:00{offset},20,30\n" for h in range(4))
    (folder / "weather.csv").write_text("time,wet,dry\n" + rows, encoding="utf-8")


def load_file(folder, config: dict) -> list[suandian.Problem]:
    """Write ``config`` as a YAML file in ``folder`` and load that file; its problems."""
    import yaml

    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        suandian.load_scenario(path)
    return info.value.problems


def test_missing_series_file_of_adiabatic_coolers_is_one_problem(tmp_path, tiny):
    """The file named does not exist: that is the one problem (it used to end in KeyError).

    ``wet`` and ``dry`` would be columns of the file that could not be read, so they are
    not reported as unknown, and the wet-bulb/dry-bulb comparison reads neither.
    """
    config = adiabatic_site(tiny)
    config["series"] = ["weather.csv"]  # not written
    problems = load_file(tmp_path, config)
    assert [p.field for p in problems] == ["series[0]"]
    assert "file not found" in problems[0].message


def test_offset_horizon_against_naive_timestamps_is_one_problem(tmp_path, tiny):
    """A horizon at +08:00 against naive CSV timestamps: the alignment problem, no KeyError.

    The file is read but cannot be aligned, so ``wet`` and ``dry`` are absent and not read.
    """
    config = adiabatic_site(tiny)
    config["horizon"]["start"] = "2026-07-15 00:00+08:00"
    config["series"] = ["weather.csv"]
    write_weather(tmp_path)
    problems = load_file(tmp_path, config)
    assert [p.field for p in problems] == ["series[0] (weather.csv):time"]
    assert problems[0].value == "no UTC offset" and "add the offset" in problems[0].message


def test_same_files_without_the_offset_load(tmp_path, tiny):
    """The control of the two cases above: wet-bulb 20 below dry-bulb 30 degC, it loads."""
    import yaml

    config = adiabatic_site(tiny)
    config["series"] = ["weather.csv"]
    write_weather(tmp_path)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    sc = suandian.load_scenario(path)
    assert sc.profile("dry").tolist() == [30.0] * 4


def test_schema_error_reported_with_unknown_series_and_empty_window(tmp_path, tiny):
    """One schema error does not hide the later problems of the sections that validated.

    ``storage[0].energy = -5`` fails the schema (energy >= 0), so ``storage`` is left out;
    ``nodes`` and ``batch`` validated, so the series walker finds ``tarif`` (a column
    ``tariff`` is loaded: the hint) and the data-center check finds the job released in
    period 3 with its deadline at 2. Exactly these three problems.
    """
    config = tiny
    (tmp_path / "prices.csv").write_text(
        "time,tariff\n" + "".join(f"2026-07-15 0{h}:00:00,100\n" for h in range(4))
    )
    config["series"] = ["prices.csv"]
    config["nodes"][0]["tariff"] = "tarif"
    config["storage"] = [{"name": "b", "site": "s1", "power": 1, "energy": -5}]
    config["batch"] = [
        {"name": "j", "work": 5, "release": 3, "deadline": 2, "max_rate": 10, "sites": ["s1"]}
    ]
    problems = load_file(tmp_path, config)
    assert sorted(p.field for p in problems) == [
        "batch[0].release",
        "nodes[0].tariff",
        "storage[0].energy",
    ]
    assert ">= 0" in find(problems, "storage[0].energy").message
    assert "did you mean 'tariff'" in find(problems, "nodes[0].tariff").message
    assert "release after deadline" in find(problems, "batch[0].release").message


def test_series_walker_covers_family_sections(tiny):
    """Sections declared in a family module get the same checks: hint and range.

    A reserve product's price names ``prise`` (``price`` is loaded: the hint); its market
    cap is the series ``cap`` with -1 in one period (caps are >= 0: "min -1").
    """
    tiny["storage"] = [{"name": "b", "site": "s1", "power": 1, "energy": 2}]
    tiny["reserves"] = [{"name": "r", "direction": "up", "price": "prise", "max_mw": "cap"}]
    series = pd.DataFrame({"price": [1.0] * 4, "cap": [1.0, -1.0, 1.0, 1.0]})
    problems = problems_of(tiny, series=series)
    assert "did you mean 'price'" in find(problems, "reserves[0].price").message
    cap = find(problems, "reserves[0].max_mw")
    assert cap.value == "min -1" and "market caps (MW) must be >= 0" in cap.message


def test_a_new_section_gets_its_series_fields_from_the_annotations():
    """No code per family: Profile fields are found in a union, a mapping, with a Range."""
    from typing import Annotated

    from suandian.component import Profile, Range, Section
    from suandian.scenario.validation import series_fields

    class Genset(Section):
        name: str
        capacity: float
        fuel_cost: Profile
        share: Annotated[Profile | None, Range(high=1.0, what="shares")] = None
        by_site: dict[str, Profile] = {}

    found = series_fields(Genset)
    assert sorted(found) == ["by_site", "fuel_cost", "share"]
    assert found["fuel_cost"] == Range() and found["share"] == Range(high=1.0, what="shares")


def test_a_registered_component_validates_too(monkeypatch, tiny):
    """A component made known by ``register`` has its validate hook run at load."""
    from suandian import components
    from suandian.component import Component
    from suandian.scenario.errors import Problem

    def validate(sc, refs):
        return [Problem("sites[0].blocks", str(sc.config.sites[0].blocks), "toy check")]

    toy = Component("toy", ("sites",), (), build=lambda fb, ctx: None, validate=validate)
    monkeypatch.setitem(components._EXTRA, "toy", toy)
    assert [str(p) for p in problems_of(tiny)] == ["sites[0].blocks = 2: toy check"]
