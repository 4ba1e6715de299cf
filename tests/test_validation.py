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
