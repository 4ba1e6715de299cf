"""State hand-over and windows: ``Result.final_state``, ``Scenario.with_state``, ``window``.

The case (conftest base: one node, one site of 2 blocks of 10 units, idle 1 MW, 0.1 MW per
unit, COP 10, no losses, so facility = 1.1 x IT), 4 periods of 1 h from 2026-07-15 00:00
(one billing month):

* interactive demand 0, 15, 5, 5 units; prices 100, 300, 60, 50 CNY/MWh;
* blocks: ``initial_on`` 0, start-up 10 CNY each, ``min_up_hours`` 3;
* a lossless battery, 0.5 MW / 1 MWh, starting at 0.5 MWh, cyclic (ends at >= 0.5 MWh);
* a demand charge of 0.1 CNY/kW·month on the node meter: 100 CNY per MW of the month's peak.

**One window of 4 periods, by hand.** 15 units need both blocks at t1 (2 x 10 CNY of
start-ups). Started at t1, the 3-h minimum up time keeps both on to t3, where 5 units need
one: one idle block, 1.1 MW x 50 = 55 CNY. Starting one at t0 instead frees it at t3 but
idles it at t0: 1.1 x 100 = 110 CNY. So n_on = 0, 2, 2, 2 and the facility loads are
L = 0, 3.85, 2.75, 2.75 MW. A MWh discharged at t1 is worth 300 + 100 (it lowers the peak)
= 400 CNY, at most 0.5 MW: d1 = 0.5 uses the initial 0.5 MWh; the cyclic end needs 0.5 MWh
back, cheapest at t3 (50 CNY/MWh), where 2.75 + 0.5 = 3.25 MW stays below the new peak
3.85 - 0.5 = 3.35 MW (charging at t0 costs 100 and cannot be discharged at t1 beyond its
0.5 MW limit; t0 -> t2 and t2 -> t3 lose money; nothing is exported). Metered
M = 0, 3.35, 2.75, 3.25 MW:

    energy 3.35 x 300 + 2.75 x 60 + 3.25 x 50 = 1005 + 165 + 162.5 = 1332.5
    start-ups 20, demand charge 100 x 3.35 = 335; total 1687.5 CNY.

**Two windows of 2.** Window 1 (t0, t1; the battery has no end rule before the last
window): the same starts at t1 (20) and d1 = 0.5 (400 CNY/MWh), M = 0, 3.35: 1005 + 20 + 335
= 1360 CNY. Its final state: battery 0 MWh; 2 blocks on for 1 h (both started at t1); peak
3.35 MW in 2026-07. Window 2 (t2, t3) from that state: both blocks stay on (3 - 1 = 2 periods
of minimum up time left; no start-up), the battery must end at 0.5 MWh (the horizon's cyclic
rule) and charges 0.5 at t3 (3.25 MW, below the 3.35 MW peak carried: no demand charge):
2.75 x 60 + 3.25 x 50 = 327.5 CNY. Together 1360 + 327.5 = 1687.5 CNY, the one-window
optimum.

**Window 2 without the state** starts from the horizon's own state (no block on, 0.5 MWh, no
peak): one block from t2 (10 CNY), 1.65 MW in both periods (moving battery energy from t3 to
t2 saves 10 CNY/MWh but would raise the peak), 1.65 x (60 + 50) = 181.5, demand charge
100 x 1.65 = 165: 356.5 CNY, not 327.5.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import base_config, scenario

import suandian
from suandian import ScenarioError

PRICES = pd.DataFrame({"price": [100.0, 300.0, 60.0, 50.0], "units": [0.0, 15.0, 5.0, 5.0]})
ONE_WINDOW = 1687.5
WINDOW_1, WINDOW_2 = 1360.0, 327.5


def config() -> dict:
    """The case of the module docstring."""
    cfg = base_config(periods=4)
    cfg["nodes"][0].update(tariff="price", demand_charge={"kind": "demand", "rate": 0.1})
    cfg["sites"][0].update(initial_on=0, startup_cost=10.0, min_up_hours=3.0)
    cfg["interactive"] = [{"name": "web", "demand": "units", "sites": ["s1"]}]
    cfg["storage"] = [
        {
            "name": "bat",
            "site": "s1",
            "power": 0.5,
            "energy": 1.0,
            "soc_initial": 0.5,
            "eta_charge": 1.0,
            "eta_discharge": 1.0,
        }
    ]
    return cfg


def solved(sc: suandian.Scenario) -> suandian.Result:
    r = suandian.solve(sc, mip_rel_gap=0.0)
    assert r.status == "optimal", r.summary()
    assert r.certify() == []
    return r


@pytest.fixture(scope="module")
def full() -> suandian.Scenario:
    return scenario(config(), PRICES)


def test_one_window_optimum(full):
    """1,687.5 CNY: n_on 0, 2, 2, 2; battery -0.5 MW at t1, +0.5 at t3 (docstring)."""
    r = solved(full)
    assert r.objective == pytest.approx(ONE_WINDOW)
    assert r.ds["n_on"].sel(site="s1").values == pytest.approx([0, 2, 2, 2])
    assert r.ds["p_metered"].sel(site="s1").values == pytest.approx([0, 3.35, 2.75, 3.25])


def test_two_windows_with_the_state_handed_over_reproduce_the_optimum(full):
    """1,360 + 327.5 = 1,687.5 CNY; the state after window 1 is the one derived by hand."""
    first = full.window(0, 2)
    assert first.periods == 2 and first.config.storage[0].soc_final == "free"
    r1 = solved(first)
    assert r1.objective == pytest.approx(WINDOW_1)
    state = r1.final_state()
    assert state["stor"] == {"bat": {"soc_mwh": pytest.approx(0.0, abs=1e-9)}}
    assert state["stor"]["bat"]["soc_mwh"] >= 0.0  # a solver's -1e-12 would not validate
    assert state["dc"]["sites"]["s1"] == {"on": 2, "up_hours": 1.0, "down_hours": None}
    assert state["bill"] == {"n1": {"month": "2026-07", "peak_mw": pytest.approx(3.35)}}
    json.dumps(state)  # plain and JSON-able

    second = full.window(2, 2).with_state(state)
    assert full.window(2, 2, state=state).config == second.config
    assert str(second.time[0]) == "2026-07-15 02:00:00"
    site, bat = second.config.sites[0], second.config.storage[0]
    assert (site.initial_on, site.initial_up_hours) == (2, 1.0)
    assert bat.soc_initial == pytest.approx(0.0, abs=1e-9) and bat.soc_final == 0.5
    assert second.config.nodes[0].demand_charge.peak_to_date_mw == pytest.approx(3.35)
    r2 = solved(second)
    assert r2.objective == pytest.approx(WINDOW_2)
    assert r2.ds["n_on"].sel(site="s1").values == pytest.approx([2, 2])
    assert r1.objective + r2.objective == pytest.approx(ONE_WINDOW)


def test_without_the_state_the_second_window_differs(full):
    """From the horizon's own initial state: 356.5 CNY, not 327.5 (docstring)."""
    r = solved(full.window(2, 2))
    assert r.objective == pytest.approx(356.5)


def test_state_of_an_earlier_period(full):
    """After t0 of the one-window plan: no block on (none before, off long enough), the
    battery still at 0.5 MWh, the peak so far 0 MW."""
    state = solved(full).final_state(period=0)
    assert state["dc"]["sites"]["s1"] == {"on": 0, "up_hours": None, "down_hours": None}
    assert state["stor"]["bat"]["soc_mwh"] == pytest.approx(0.5)
    assert state["bill"]["n1"]["peak_mw"] == pytest.approx(0.0)


def test_final_state_round_trips_through_with_state(full):
    """The state after t3 (0.5 MWh; 2 blocks on for 3 h since t1; peak 3.35 MW) applied to
    the scenario, read back from its fields."""
    state = solved(full).final_state()
    again = full.with_state(state)
    assert again.config.storage[0].soc_initial == pytest.approx(0.5)
    site = again.config.sites[0]
    assert (site.initial_on, site.initial_up_hours, site.initial_down_hours) == (2, 3.0, None)
    assert again.config.nodes[0].demand_charge.peak_to_date_mw == pytest.approx(3.35)
    assert again.with_state({}).config == again.config


@pytest.mark.parametrize("charge", [-0.1, 1.5])
def test_a_bad_charge_is_a_scenario_error_naming_the_field(full, charge):
    """-0.1 MWh and 1.5 MWh of a 1-MWh battery: soc_initial -0.1 and 1.5, outside 0..1."""
    with pytest.raises(ScenarioError) as err:
        full.with_state({"stor": {"bat": {"soc_mwh": charge}}})
    assert [p.field for p in err.value.problems] == ["storage[0].soc_initial"]


def test_an_unknown_family_or_a_malformed_entry_is_a_scenario_error(full):
    with pytest.raises(ScenarioError, match="state.nope"):
        full.with_state({"nope": {}})
    with pytest.raises(ScenarioError, match="state.stor"):
        full.with_state({"stor": {"bat": {"charge": 1.0}}})


def test_more_blocks_on_than_the_site_has_is_a_scenario_error(full):
    with pytest.raises(ScenarioError) as err:
        full.with_state({"dc": {"sites": {"s1": {"on": 3}}}})
    assert [p.field for p in err.value.problems] == ["sites[0]"]


def test_a_new_billing_month_starts_at_zero():
    """A peak of July does not carry into a window starting on 1 August."""
    cfg = config()
    cfg["horizon"]["start"] = "2026-07-31 22:00"
    sc = scenario(cfg, PRICES).window(2, 2)
    state = {"bill": {"n1": {"month": "2026-07", "peak_mw": 3.35}}}
    assert sc.with_state(state).config.nodes[0].demand_charge.peak_to_date_mw == 0.0


def test_window_outside_the_horizon_is_a_scenario_error(full):
    with pytest.raises(ScenarioError, match="window"):
        full.window(3, 2)


def test_batch_work_done_carries_over_and_a_deadline_beyond_the_window_is_clipped():
    """A job of 20 unit-h at most 10 units per hour, released at t0, deadline t4 (exclusive).

    Window 0..1 cannot hold the deadline: it gets deadline 2 and the least work that leaves
    the rest doable after it, 20 - 10 x 2 h = 0 -> dropped. With 30 unit-h: 30 - 20 = 10 in
    window 1. Handing over 10 done, window 2..3 has the rest, 30 - 10 = 20 unit-h.
    """
    cfg = base_config(periods=4)
    cfg["batch"] = [{"name": "train", "work": 20.0, "max_rate": 10.0, "sites": ["s1"]}]
    assert scenario(cfg).window(0, 2).config.batch == []
    cfg["batch"][0]["work"] = 30.0
    full = scenario(cfg)
    first = full.window(0, 2)
    job = first.config.batch[0]
    assert (job.work, job.release, job.deadline) == (10.0, 0, 2)
    r1 = solved(first)
    assert r1.final_state()["dc"]["jobs"] == {"train": {"work_done": pytest.approx(10.0)}}
    second = full.window(2, 2, state=r1.final_state())
    job = second.config.batch[0]
    assert (job.work, job.release, job.deadline) == (pytest.approx(20.0), 0, 2)
    solved(second)
    done = full.with_state({"dc": {"jobs": {"train": {"work_done": 30.0}}}})
    assert done.config.batch == []


# --------------------------------------------------------------------------- annual budgets
def test_pue_year_to_date_adds_the_energies_handed_over():
    """The PUE case of test_annual_budget: IT0 = 0.6, IT1 = 0.4 MWh at facility 1.5 and 1.05
    per MWh of IT: facility 0.9 + 0.42 = 1.32 MWh, IT 1 MWh. Handed over: to date
    74.93 + 1.32 = 76.25 and 60 + 1 = 61 MWh; as an allowance, 0.07 - (1.32 - 1.25 x 1) = 0."""
    from test_annual_budget import _linear_pue_case

    year = {
        "facility_to_date_mwh": 74.93,
        "it_to_date_mwh": 60.0,
        "facility_forecast_mwh": 50.0,
        "it_forecast_mwh": 40.0,
    }
    cfg, series = _linear_pue_case(basis="year", year={"s1": year})
    sc = scenario(cfg, series)
    state = solved(sc).final_state()
    assert state["pue_cap"] == {
        "s1": {"facility_mwh": pytest.approx(1.32), "it_mwh": pytest.approx(1.0)}
    }
    after = sc.with_state(state).config.policies.pue.year["s1"]
    assert after.facility_to_date_mwh == pytest.approx(76.25)
    assert after.it_to_date_mwh == pytest.approx(61.0)
    assert after.facility_forecast_mwh == 50.0
    cfg, series = _linear_pue_case(basis="year", year={"s1": {"allowance_mwh": 0.07}})
    again = scenario(cfg, series).with_state(state)
    assert again.config.policies.pue.year["s1"].allowance_mwh == pytest.approx(0.0, abs=1e-9)


def test_green_year_to_date_adds_the_energies_handed_over():
    """The green case of test_annual_budget: 3.08 MWh green of 7.7 consumed. Handed over:
    to date 503.08 and 807.7 MWh; as an allowance, 1.54 - (0.6 x 7.7 - 3.08) = 0."""
    from test_annual_budget import _green_case

    year = {
        "green_to_date_mwh": 500.0,
        "consumption_to_date_mwh": 800.0,
        "green_forecast_mwh": 101.54,
        "consumption_forecast_mwh": 200.0,
    }
    sc = scenario(_green_case(basis="year", year={"portfolio": year}))
    state = solved(sc).final_state()
    assert state["green_share"] == {
        "portfolio": {"green_mwh": pytest.approx(3.08), "consumption_mwh": pytest.approx(7.7)}
    }
    after = sc.with_state(state).config.policies.green_share.year["portfolio"]
    assert after.green_to_date_mwh == pytest.approx(503.08)
    assert after.consumption_to_date_mwh == pytest.approx(807.7)
    allowance = {"portfolio": {"allowance_mwh": 1.54}}
    again = scenario(_green_case(basis="year", year=allowance)).with_state(state)
    assert again.config.policies.green_share.year["portfolio"].allowance_mwh == pytest.approx(
        0.0, abs=1e-9
    )


def test_every_family_with_a_state_declares_its_fields():
    """A family with ``state_out`` has ``state_in`` and a field table (docs: "State")."""
    from suandian.catalogue import every as components

    stateful = [c for c in components() if c.state_out is not None]
    assert {c.name for c in stateful} >= {"stor", "thermal", "dc", "bill", "green_share"}
    for c in stateful:
        assert c.state_in is not None and c.state_fields, c.name


def test_the_docs_name_every_state_field():
    """docs/scenario-format.md, "State and windows", renders the state table from the
    registry (``{state-table}``), and that table names every family's state fields."""
    import sys
    from pathlib import Path

    from suandian.catalogue import every as components

    root = Path(__file__).resolve().parents[1]
    page = root / "docs" / "scenario-format.md"
    text = page.read_text(encoding="utf-8").split("## State and windows", 1)[1]
    assert "```{state-table}" in text.split("\n## ", 1)[0]
    sys.path.insert(0, str(root / "docs" / "_ext"))
    pytest.importorskip("docutils", reason="the docs extension needs the docs extra")
    import suandian_docs

    rows = {(r[0].strip("`"), r[1].strip("`")) for r in suandian_docs.state_rows()}
    for c in components():
        for f in c.state_fields:
            assert (c.name, f.name) in rows, (c.name, f.name)


def test_tank_charge_after_a_period_reproduces_the_rest_of_the_plan():
    """The tank case of test_thermal (prices 100, 1000; COP 10, 5; a 10-MWh tank, empty,
    cyclic): the plan charges 3.5 MWh of cold at t0 and discharges it at t1 (3,937.5 CNY).
    Its state after t0, 3.5 MWh (soc_initial 0.35), handed to the window of t1 alone (end
    rule: the horizon's initial 0): the tank covers the 3.5 MW air load, facility
    3.5 x 1.2 - 0.7 = 3.5 MW at 1,000 CNY/MWh = 3,500 CNY = 3,937.5 - (385 + 52.5) of t0."""
    from test_thermal import with_tank

    cfg, series = with_tank([100.0, 1000.0], [10.0, 5.0])
    sc = scenario(cfg, series)
    state = solved(sc).final_state(period=0)
    assert state["thermal"] == {"tank": {"cold_mwh": pytest.approx(3.5)}}
    rest = sc.window(1, 1, state=state)
    tank = rest.config.thermal_storage[0]
    assert (tank.soc_initial, tank.soc_final) == (pytest.approx(0.35), 0.0)
    assert solved(rest).objective == pytest.approx(3500.0)
