"""The network charge in its parts and the 1192号 billing of a site's connection (``bill``).

Base (conftest): one node n1, one site s1 with 2 blocks (capacity 10 units, idle 1 MW, 0.1 MW
per unit), COP 10, no losses: facility power = 1.1 x IT. 5 units of interactive demand fit
one block: IT 1 + 0.5 = 1.5 MW, facility **1.65 MW** in every period (a second block would
only add idle draw). Periods of 1 h.

The node's network charge in parts (CNY/MWh): T&D ``td`` 100, ``system_operation`` 10,
``funds`` 10, line loss 0.1 x the energy tariff.
"""

from __future__ import annotations

import copy

import pytest
from conftest import base_config, scenario, solve_ok

from suandian import ScenarioError
from suandian.policies.bill import COMPONENT as BILL
from suandian.results.certifier import certify

PARTS = {"td": 100.0, "system_operation": 10.0, "funds": 10.0, "line_loss_rate": 0.1}
#: energy tariff: valley 100 in 00-02 h, peak 150 in 02-04 h
TOU = {
    "prices": {"valley": 100.0, "peak": 150.0},
    "periods": {"valley": ["00:00-02:00"]},
    "default": "peak",
}
#: lossless charge, 80 % on discharge: 2 MWh stored give 1.6 MWh out
BATTERY = {
    "name": "bat",
    "site": "s1",
    "power": 1.0,
    "energy": 2.0,
    "eta_charge": 1.0,
    "eta_discharge": 0.8,
    "soc_initial": 0.0,
    "soc_final": "cyclic",
}
CAPACITY = {"site": "s1", "billing": "capacity_1192", "capacity_mw": 3.0, "load_factor": 0.6}


def config(periods: int = 4, start: str = "2026-06-15 00:00", **node) -> dict:
    """The base site at 5 units (1.65 MW) with node fields; June (30 days) by default."""
    cfg = base_config(periods=periods)
    cfg["horizon"]["start"] = start
    cfg["interactive"] = [{"name": "web", "demand": 5.0, "sites": ["s1"]}]
    cfg["nodes"][0].update(node)
    return cfg


# ------------------------------------------------------------------ the parts
def test_parts_sum_to_the_all_in_charge():
    """Flat tariff 100: line loss 0.1 x 100 = 10, so the parts add to 100 + 10 + 10 + 10 = 130.

    6.6 MWh metered (1.65 MW x 4 h): td 660, system operation 66, funds 66, line loss 66,
    together 858 = 130 x 6.6, the network term of the all-in shorthand 130; energy 660 in
    both. Same plan, same total 1,518.
    """
    whole = solve_ok(config(network_charge=130.0))
    split = solve_ok(config(network_charge=dict(PARTS, voltage="110kV")))
    assert whole.costs["network"] == pytest.approx(858.0)
    parts = {k: split.costs[f"network_{k}"] for k in ("td", "system_operation", "funds")}
    assert parts == pytest.approx({"td": 660.0, "system_operation": 66.0, "funds": 66.0})
    assert split.costs["network_line_loss"] == pytest.approx(66.0)
    assert "network" not in split.costs
    assert split.objective == pytest.approx(whole.objective) == pytest.approx(1518.0)
    assert split.ds["network_charge"].values == pytest.approx(whole.ds["network_charge"].values)
    assert split.ds["network_charge"].values == pytest.approx(130.0)


def test_line_loss_follows_the_time_of_use():
    """Line loss 0.1 x tariff: 10 in the valley (100), 15 at the peak (150), per MWh.

    1.65 MW: line loss 1.65 x (10 + 10 + 15 + 15) = 82.5; the network charge (parts summed)
    100 + 10 + 10 + 10 = 130 in the valley, 135 at the peak.
    """
    r = solve_ok(config(tariff=TOU, network_charge=PARTS))
    loss = r.ds["network_charge_part"].sel(node="n1", network_part="line_loss").values
    assert loss == pytest.approx([10.0, 10.0, 15.0, 15.0])
    assert r.ds["network_charge"].sel(node="n1").values == pytest.approx([130, 130, 135, 135])
    assert r.costs["network_line_loss"] == pytest.approx(82.5)


# ------------------------------------------------------------------ 1192号 against two-part
def test_capacity_billing_changes_the_dispatch_and_the_cost():
    """The battery cycles only when the T&D energy rate leaves the grid draw (1192号).

    Valley 00-02 h at 100, peak 02-04 h at 150; parts as the module says; battery 1 MW /
    2 MWh, lossless charge, 80 % discharge, empty at start: a full cycle stores 2 MWh in the
    valley (1 MW x 2 h) and gives 1.6 MWh at the peak. All-in per MWh drawn:

    * two-part (T&D on every metered MWh): valley 100 + 100 + 10 + 10 + 10 = 230, peak
      150 + 100 + 10 + 10 + 15 = 285. A cycle costs 2 x 230 = 460 and saves 1.6 x 285 = 456:
      it loses 4, so the battery stays idle (the loss is per MWh, so any part-cycle loses
      too). Draw 1.65 MW throughout: energy 1.65 x (100 + 100 + 150 + 150) = 825, td 6.6 x
      100 = 660, system operation 66, funds 66, line loss 82.5: **1,699.5**.
    * capacity_1192 (capacity 3 MW, load factor 0.6, td rate the node's 100): the grid draw
      pays no T&D: valley 130, peak 185. A cycle costs 260 and saves 296: +36, so the
      battery stores 2 MWh. Draw 2.65 MW in the valley, 1.65 - 0.8 = 0.85 MW at the peak
      (1.6 MWh over two hours; how it splits between them does not change a figure below):
      energy 2.65 x 200 + 0.85 x 300 = 785, system operation (5.3 + 1.7) x 10 = 70, funds
      70, line loss 5.3 x 10 + 1.7 x 15 = 78.5, td 0. Capacity T&D: 100 x 0.6 x 730 h x
      3 MW = 131,400 CNY a month, x 4 h / (24 h x 30 days of June) = **730**. Total
      **1,733.5**: 34 more than two-part (without the cycle it would be 1,769.5, 36 more).
    """
    cfg = config(tariff=TOU, network_charge=PARTS)
    cfg["storage"] = [dict(BATTERY)]
    two = solve_ok(cfg)
    assert two.kpis["energy_mwh"]["storage_charge"] == pytest.approx(0.0, abs=1e-6)
    assert two.costs["network_td"] == pytest.approx(660.0)
    assert two.objective == pytest.approx(1699.5)
    assert "connection_td" not in two.costs

    cap = copy.deepcopy(cfg)
    cap["nodes"][0]["connections"] = [dict(CAPACITY)]
    r = solve_ok(cap)
    assert r.kpis["energy_mwh"]["storage_charge"] == pytest.approx(2.0)
    assert r.kpis["energy_mwh"]["storage_discharge"] == pytest.approx(1.6)
    assert r.ds["p_metered"].sel(site="s1").values[:2] == pytest.approx([2.65, 2.65])
    assert float(r.ds["p_metered"].sel(site="s1").values[2:].sum()) == pytest.approx(1.7)
    assert r.costs["network_td"] == pytest.approx(0.0, abs=1e-9)
    assert r.costs["grid_energy"] == pytest.approx(785.0)
    assert r.costs["network_system_operation"] == pytest.approx(70.0)
    assert r.costs["network_funds"] == pytest.approx(70.0)
    assert r.costs["network_line_loss"] == pytest.approx(78.5)
    assert r.costs["connection_td"] == pytest.approx(730.0)
    assert r.kpis["connection_td_month"] == pytest.approx({"s1": 131400.0})
    assert r.objective == pytest.approx(1733.5)
    assert r.objective - two.objective == pytest.approx(34.0)
    assert certify(r.ds) == []


def test_capacity_td_formula_on_a_july_day():
    """td_rate 60 CNY/MWh, load factor 0.4843, 63 MW: 60 x 0.4843 x 730 x 63 = 1,336,377.42
    CNY a month; a day of July (31 days) owes 24 / 744 of it = 43,108.95 CNY.

    ``td_rate`` given replaces the node's ``td`` (100) in the formula.
    """
    conn = dict(CAPACITY, capacity_mw=63.0, load_factor=0.4843, td_rate=60.0)
    r = solve_ok(
        config(periods=24, start="2026-07-15 00:00", network_charge=PARTS, connections=[conn])
    )
    month = 60.0 * 0.4843 * 730.0 * 63.0
    assert month == pytest.approx(1336377.42)
    assert r.kpis["connection_td_month"]["s1"] == pytest.approx(month)
    assert r.costs["connection_td"] == pytest.approx(month * 24 / 744)
    assert r.costs["connection_td"] == pytest.approx(43108.95, abs=0.01)
    # the committed part of a window: pro rata of its periods (12 of 24 h: half)
    committed = BILL.commit_costs(r.ds, 12, None)
    assert committed["connection_td"] == pytest.approx(month * 12 / 744)


def test_the_connection_caps_the_metered_draw():
    """capacity_mw 2.15: the valley charge is held to 2.15 - 1.65 = 0.5 MW a period.

    The cycle still pays (+36 per full cycle, linear): 2 x 0.5 = 1 MWh stored, 0.8 MWh out.
    Draw 2.15, 2.15, then 1.65 x 2 - 0.8 = 2.5 MWh at the peak. Energy 2.15 x 200 + 2.5 x 150
    = 805, system operation (4.3 + 2.5) x 10 = 68, funds 68, line loss 4.3 x 10 + 2.5 x 15 =
    80.5; capacity T&D 100 x 0.6 x 730 x 2.15 / 180 = 523.17. Total 1,544.67.
    """
    cfg = config(tariff=TOU, network_charge=PARTS)
    cfg["storage"] = [dict(BATTERY)]
    cfg["nodes"][0]["connections"] = [dict(CAPACITY, capacity_mw=2.15)]
    r = solve_ok(cfg)
    assert r.ds["p_metered"].sel(site="s1").values[:2] == pytest.approx([2.15, 2.15])
    assert r.kpis["energy_mwh"]["storage_discharge"] == pytest.approx(0.8)
    assert r.costs["connection_td"] == pytest.approx(100 * 0.6 * 730 * 2.15 / 180)
    assert r.objective == pytest.approx(805 + 68 + 68 + 80.5 + 100 * 0.6 * 730 * 2.15 / 180)
    # one more MW of connection in a valley period is worth the cycle's margin: the dual is
    # negative (relaxing the cap lowers the cost) where the cap binds, 0 at the peak
    price = r.ds["connection_price"].sel(site="s1").values
    assert (price[:2] < 0).all() and price[2:] == pytest.approx([0.0, 0.0])
    ds = r.ds.copy(deep=True)
    ds["connection_capacity"][:] = 2.0
    assert "bill.connection_max" in {v.check for v in certify(ds)}


# ------------------------------------------------------------------ self-used energy
def test_direct_energy_used_on_site_owes_the_parts_named():
    """An owned direct PV of 1 MW at full output, used on site every hour (4 MWh).

    capacity_1192 with the default ``self_use`` [funds]: self_use_funds = 4 x 10 = 40, and no
    system operation on it (1192号: on grid draw only) nor cross-subsidy (waived). two_part
    with ``self_use`` [system_operation, funds] and cross_subsidy 5: 40 + 40 + 20.
    """
    pv = {
        "name": "pv",
        "site": "s1",
        "capacity": 1.0,
        "profile": 1.0,
        "contract": "owned",
        "direct": True,
    }
    cfg = config(network_charge=PARTS, connections=[dict(CAPACITY)])
    cfg["renewables"] = [pv]
    r = solve_ok(cfg)
    assert r.ds["p_direct_used"].sel(site="s1").values == pytest.approx([1.0] * 4)
    assert r.costs["self_use_funds"] == pytest.approx(40.0)
    assert "self_use_system_operation" not in r.costs
    assert "self_use_cross_subsidy" not in r.costs
    # grid draw 0.65 MW x 4 h = 2.6 MWh: energy 260, system operation 26, funds 26, line
    # loss 26, no td; capacity T&D 730 (as above)
    assert r.objective == pytest.approx(260 + 26 + 26 + 26 + 40 + 730)

    two = {"site": "s1", "billing": "two_part", "self_use": ["system_operation", "funds"]}
    cfg = config(network_charge=PARTS, connections=[dict(two, cross_subsidy=5.0)])
    cfg["renewables"] = [pv]
    r = solve_ok(cfg)
    su = {k: r.costs[f"self_use_{k}"] for k in ("system_operation", "funds", "cross_subsidy")}
    assert su == pytest.approx({"system_operation": 40.0, "funds": 40.0, "cross_subsidy": 20.0})
    assert r.costs["network_td"] == pytest.approx(260.0)
    ds = r.ds.copy(deep=True)
    ds["self_use_charge"].loc[{"self_use_part": "funds"}] = 12.0
    checks = {v.check for v in certify(ds)}
    assert "bill.self_use_parts" in checks and "total_cost" in checks


# ------------------------------------------------------------------ certifier
def test_tampered_parts_are_caught():
    """A part changed without the all-in figure, or a line loss off the tariff, is flagged."""
    cfg = config(tariff=TOU, network_charge=PARTS, connections=[dict(CAPACITY)])
    r = solve_ok(cfg)
    assert certify(r.ds) == []
    ds = r.ds.copy(deep=True)
    ds["network_charge_part"].loc[{"network_part": "funds"}] = 20.0
    checks = {v.check for v in certify(ds)}
    assert "bill.network_parts_sum" in checks and "total_cost" in checks
    ds = r.ds.copy(deep=True)
    ds["network_line_loss_rate"][:] = 0.2
    assert "bill.line_loss_part" in {v.check for v in certify(ds)}
    ds = r.ds.copy(deep=True)
    ds["connection_load_factor"][:] = 0.5
    assert "total_cost" in {v.check for v in certify(ds)}


# ------------------------------------------------------------------ bad input
def test_connection_errors_name_field_value_and_fix():
    no_cap = {"site": "s1", "billing": "capacity_1192", "load_factor": 0.5}
    with pytest.raises(ScenarioError, match=r"capacity_1192' needs capacity_mw"):
        scenario(config(network_charge=PARTS, connections=[no_cap]))
    two = {"site": "s1", "billing": "two_part", "load_factor": 0.5}
    with pytest.raises(ScenarioError, match=r"load_factor=0.5 applies to billing 'capacity_1192'"):
        scenario(config(network_charge=PARTS, connections=[two]))
    with pytest.raises(ScenarioError) as info:
        scenario(config(network_charge=130.0, connections=[dict(CAPACITY)]))
    (p,) = [p for p in info.value.problems if p.field == "nodes[0].network_charge"]
    assert p.value == "130" and "give network_charge in parts" in p.message
    with pytest.raises(ScenarioError, match=r"connections\[0\].site.*not a site of node 'n1'"):
        scenario(config(network_charge=PARTS, connections=[dict(CAPACITY, site="nope")]))
    demand = {"kind": "demand", "rate": 30.0, "meter": "site", "peak_to_date_mw": 4.0}
    with pytest.raises(ScenarioError) as info:
        scenario(config(network_charge=PARTS, demand_charge=demand, connections=[CAPACITY]))
    (p,) = [p for p in info.value.problems if p.field.endswith("capacity_mw")]
    assert p.value == "3" and "raise capacity_mw to >= 4" in p.message
    series_td = dict(PARTS, td={"prices": {"a": 100.0}, "default": "a"})
    with pytest.raises(ScenarioError, match=r"connections\[0\].td_rate.*give td_rate"):
        scenario(config(network_charge=series_td, connections=[CAPACITY]))
    cfg = config(network_charge=PARTS, connections=[CAPACITY])
    cfg["renewables"] = [
        {"name": "pv", "site": "s1", "capacity": 1.0, "profile": 1.0, "direct": True}
        | {"connection_charge": 7300.0}
    ]
    with pytest.raises(ScenarioError, match=r"renewables\[0\].connection_charge.*counts it twice"):
        scenario(cfg)


def test_a_typo_in_the_parts_is_reported_once_at_its_key():
    """A table given as a table is judged as the member it fits best: the parts' typo is one
    problem at its key (not "not a number" nor the time-of-use table's missing prices)."""
    with pytest.raises(ScenarioError) as info:
        scenario(config(network_charge={"td": 100.0, "sysop": 10.0}))
    assert [(p.field, p.value) for p in info.value.problems] == [
        ("nodes[0].network_charge.sysop", "sysop")
    ]
    with pytest.raises(ScenarioError) as info:
        scenario(config(network_charge={"prices": {"a": 1.0}, "periodz": {}}))
    assert [p.field for p in info.value.problems] == ["nodes[0].network_charge.periodz"]
    assert "did you mean 'periods'" in info.value.problems[0].message
