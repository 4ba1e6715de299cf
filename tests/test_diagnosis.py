"""Diagnoses that name the culprit: the element, the period window and the numbers.

Every case is built from ``base_config`` (one node n1, one site s1 with 2 blocks of 10 units,
idle 1 MW and 0.1 MW/unit per block, COP 10, no losses: facility = 1.1 x IT) and its
expected figures are derived by hand in the docstring. Rules: ``docs/math/diagnosis.md``.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import base_config, scenario
from test_policies import loaded

import suandian
from suandian.run.diagnose import _spans

GENERIC = "check import limits"


def _diagnosis(cfg):
    r = suandian.solve(scenario(cfg))
    assert r.status == "infeasible"
    d = r.diagnosis
    assert d is not None and d.seconds > 0
    assert r.info.timings["diagnosis"] > 0
    assert GENERIC not in str(d)
    return d


def _corridor(**fields) -> dict:
    base = {
        "name": "hm_cq",
        "from_node": "hm",
        "to_node": "n1",
        "capacity": 50.0,
        "source_price": 20.0,
    }
    return {**base, **fields}


def _with_corridor(periods: int, **fields) -> dict:
    cfg = base_config(periods=periods)
    cfg["nodes"].append({"name": "hm", "tariff": 50.0, "emission_factor": 0.8})
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    cfg["corridors"] = [_corridor(**fields)]
    return cfg


def test_corridor_minimum_outside_its_block_windows():
    """min_mw 2 MW, blocks of 1 MW, window 16:00-24:00 over one day (24 h).

    Outside the window the block count is 0, so nothing can be bought in 00:00-16:00 while 2 MW
    are required: 2 MW x 16 h = 32 MWh cannot be bought. A data check (a proof) finds it.
    """
    cfg = _with_corridor(24, block_mw=1.0, windows=["16:00-24:00"], min_mw=2.0)
    d = _diagnosis(cfg)
    text = str(d)
    assert "corridor 'hm_cq': min_mw 2 MW is required in every period" in text
    assert "only possible in its windows 16:00-24:00" in text
    assert "none can be made in 00:00-16:00" in text
    assert d.shortfalls == {"corridor_min_hm_cq": pytest.approx(32.0)}
    assert d.stage == "hard limits" and d.proven
    assert "web" not in text


def test_corridor_minimum_above_its_capacity():
    """min_mw 8 MW against a capacity of 5 MW in each of 4 h: 3 MW x 4 h = 12 MWh short."""
    cfg = _with_corridor(4, capacity=5.0, min_mw=8.0)
    d = _diagnosis(cfg)
    assert "corridor 'hm_cq': min_mw 8 MW" in str(d)
    assert "in 00:00-04:00 its capacity is 5 MW" in str(d)
    assert d.shortfalls == {"corridor_min_hm_cq": pytest.approx(12.0)}


def test_corridor_blocks_cannot_reach_the_minimum():
    """Blocks of 3 MW, capacity 7 MW: at most 2 blocks = 6 MW < min_mw 7; 1 MW x 4 h = 4 MWh."""
    cfg = _with_corridor(4, capacity=7.0, block_mw=3.0, min_mw=7.0)
    d = _diagnosis(cfg)
    assert "whole blocks of 3 MW held over each window reach at most 6 MW" in str(d)
    assert d.shortfalls == {"corridor_min_hm_cq": pytest.approx(4.0)}


def test_corridor_minimum_the_node_cannot_absorb():
    """min_mw 10 MW, no losses, no battery; the only load is s1 serving web (15 units).

    At most: 2 blocks on, 15 units served: IT = 2 x 1 + 0.1 x 15 = 3.5 MW, facility 3.85 MW.
    The grid cannot take power back, so 10 - 3.85 = 6.15 MW must go unbought in each of 4 h:
    24.6 MWh. No data check sees it; the hard-limit re-solve names the corridor.
    """
    d = _diagnosis(_with_corridor(4, min_mw=10.0))
    text = str(d)
    assert "corridor 'hm_cq': its minimum purchase 10 MW cannot be taken in 00:00-04:00" in text
    assert "can use or store at most 3.85 MW" in text
    assert d.shortfalls == {"corridor_min_hm_cq": pytest.approx(24.6)}
    assert d.proven and d.status == "optimal"


def test_battery_end_state_unreachable():
    """10 MWh battery, 1 MW, eta_charge 0.95, soc 0.1 -> 0.9 in 4 h.

    Charging at full power every hour: 1 + 4 x 1 x 0.95 = 4.8 MWh < 9 MWh: 4.2 MWh short.
    """
    cfg = base_config(periods=4)
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    cfg["storage"] = [
        {"name": "b1", "site": "s1", "power": 1.0, "energy": 10.0, "soc_initial": 0.1}
        | {"soc_final": 0.9, "eta_charge": 0.95}
    ]
    d = _diagnosis(cfg)
    text = str(d)
    assert "battery 'b1': soc_final 0.9 (9 MWh) cannot be reached" in text
    assert "from soc_initial 0.1 (1 MWh), charging at its full 1 MW for all 4 h" in text
    assert "at most 4.80 MWh" in text
    assert d.shortfalls == {"soc_final_b1": pytest.approx(4.2)}


def test_battery_end_state_unreachable_through_the_import_limit():
    """Same battery at 5 MW (alone it could fill up), node limit 2.5 MW, min_on 1 block.

    The block idles at 1.1 MW, so at most 1.4 MW can charge: 1 + 4 x 1.4 x 0.95 = 6.32 MWh,
    2.68 MWh short of 9. Violating soc_final costs 1 per MWh, the import limit 1/0.95 per
    MWh of end state: the re-solve blames the battery and names the node's limit.
    """
    cfg = base_config(periods=4)
    cfg["sites"][0]["min_on"] = 1
    cfg["nodes"][0]["import_limit"] = 2.5
    cfg["storage"] = [
        {"name": "b1", "site": "s1", "power": 5.0, "energy": 10.0, "soc_initial": 0.1}
        | {"soc_final": 0.9, "eta_charge": 0.95}
    ]
    d = _diagnosis(cfg)
    text = str(d)
    assert "battery 'b1': soc_final 0.9 (9 MWh) cannot be reached: at most 6.32 MWh" in text
    assert "node 'n1' imports at most 2.5 MW" in text
    assert d.shortfalls == {"soc_final_b1": pytest.approx(2.68)}


def test_import_limit_below_the_minimum_load():
    """min_on 2 blocks idle at 1 MW each: 2 x 1 x 1.1 = 2.2 MW at the least; limit 1 MW.

    1.2 MW too much in each of 4 h: 4.8 MWh.
    """
    cfg = base_config(periods=4)
    cfg["sites"][0]["min_on"] = 2
    cfg["nodes"][0]["import_limit"] = 1.0
    cfg["interactive"] = [{"name": "web", "demand": 5.0, "sites": ["s1"]}]
    d = _diagnosis(cfg)
    text = str(d)
    assert "node 'n1': import limit 1 MW is below the 2.20 MW" in text
    assert "'s1' (min_on 2 blocks x idle 1 MW)" in text
    assert "in 00:00-04:00" in text
    assert d.shortfalls == {"import_limit_n1": pytest.approx(4.8)}
    assert "web" not in text


def test_two_culprits_are_both_named_with_dated_windows():
    """48 h: the corridor of the first case (2 x 16 h x 2 MW = 64 MWh) and a 100 MWh battery
    at 1 MW from 10 MWh to 90 MWh: 10 + 48 x 0.95 = 55.6 MWh, 34.4 short.
    """
    cfg = _with_corridor(48, block_mw=1.0, windows=["16:00-24:00"], min_mw=2.0)
    cfg["storage"] = [
        {"name": "b1", "site": "s1", "power": 1.0, "energy": 100.0, "soc_initial": 0.1}
        | {"soc_final": 0.9, "eta_charge": 0.95}
    ]
    d = _diagnosis(cfg)
    assert "none can be made in 2026-07-15 00:00-16:00, 2026-07-16 00:00-16:00" in str(d)
    assert d.shortfalls == {
        "corridor_min_hm_cq": pytest.approx(64.0),
        "soc_final_b1": pytest.approx(34.4),
    }


def test_overloaded_job_is_blamed_not_the_interactive_demand():
    """web 10 units/h and a job of 50 units x h (max_rate 15) at s1 over 4 h.

    Capacity 2 x 10 = 20 units/h; web takes 10, so 10 units/h x 4 h = 40 are left for the
    job: 10 units x h unfinished. max_rate allows 15 x 4 = 60, so the blocks bind. With one
    uniform price the solver could as well shed web; interactive demand stays mandatory
    while batch work alone is relaxed, so only the job is named.
    """
    cfg = base_config(periods=4)
    cfg["interactive"] = [{"name": "web", "demand": 10.0, "sites": ["s1"]}]
    cfg["batch"] = [{"name": "train", "work": 50.0, "max_rate": 15.0, "sites": ["s1"]}]
    d = _diagnosis(cfg)
    text = str(d)
    assert d.stage == "batch work" and d.proven
    assert d.shortfalls == {"unfinished_train": pytest.approx(10.0)}
    assert "batch job 'train': needs 50.0 PFLOPS·h in its window 00:00-04:00 (4 h)" in text
    assert "at most 40.0 can be done" in text
    assert "max_rate 15.0 allows 60.0" in text
    assert "the blocks of its sites (s1) 80.0, of which interactive demand takes 40.0" in text
    assert "all 2 blocks of site 's1' are on" in text
    assert "web" not in text


def test_interactive_demand_is_blamed_when_it_is_unserved_itself():
    """web 25 units/h at a 20-unit site over 4 h: 5 x 4 = 20 units x h unserved on its own.

    The job (10 units x h) then finds no capacity either (unfinished 10): interactive demand is
    priced 10x batch work, so the job, not more web demand, is given up.
    """
    cfg = base_config(periods=4)
    cfg["interactive"] = [{"name": "web", "demand": 25.0, "sites": ["s1"]}]
    cfg["batch"] = [{"name": "train", "work": 10.0, "max_rate": 5.0, "sites": ["s1"]}]
    d = _diagnosis(cfg)
    assert d.stage == "interactive demand"
    assert d.shortfalls == {
        "unserved_web": pytest.approx(20.0),
        "unfinished_train": pytest.approx(10.0),
    }
    assert "interactive workload 'web': 20.0 PFLOPS·h of demand cannot be served in " in str(d)
    assert "00:00-04:00 (worst at 2026-07-15 00:00, 5.0 of 25.0 PFLOPS)" in str(d)


def test_spans_split_at_midnight_and_cap_the_list():
    sc = scenario(base_config(periods=48))
    mask = [t % 24 >= 22 or t % 24 < 2 for t in range(48)]
    assert _spans(sc, mask, most=10) == (
        "2026-07-15 00:00-02:00, 2026-07-15 22:00-24:00, "
        "2026-07-16 00:00-02:00, 2026-07-16 22:00-24:00"
    )
    assert _spans(sc, mask, most=2).endswith("and 2 more")
    assert _spans(scenario(base_config(periods=4)), [False, True, True, False]) == "01:00-03:00"


def test_cyclic_battery_losing_charge_behind_a_full_import_limit():
    """10 MWh battery at 0.5 (5 MWh), cyclic, self-discharge 10 %/h; min_on 1 block idles at
    1.1 MW, exactly the node's limit, so nothing is left to charge: 5 x 0.9^4 = 3.2805 MWh
    at the end, 1.7195 MWh short of 5. No data check can see the limit's part; the
    hard-limit re-solve blames the battery's end rule and names the limit.
    """
    cfg = base_config(periods=4)
    cfg["sites"][0]["min_on"] = 1
    cfg["nodes"][0]["import_limit"] = 1.1
    cfg["storage"] = [
        {"name": "b1", "site": "s1", "power": 1.0, "energy": 10.0, "soc_initial": 0.5}
        | {"soc_final": "cyclic", "self_discharge": 0.1}
    ]
    d = _diagnosis(cfg)
    assert "battery 'b1': soc_final cyclic (5 MWh) cannot be reached: at most 3.28" in str(d)
    assert "node 'n1' imports at most 1.1 MW" in str(d)
    assert d.shortfalls == {"soc_final_b1": pytest.approx(1.7195)}
    assert d.proven and d.stage == "hard limits"


def test_direct_project_ratios_are_named():
    """Base site draws 3.85 MW for 2 h (7.7 MWh).

    r1: a 10 MW always-on direct PV must be 90 % self-consumed: 18 MWh, but the site can use
    7.7 -> 10.3 MWh it cannot absorb (a hard limit: stage 4).
    r2: a 1 MW direct PV (2 MWh) must supply 50 % of 7.7 = 3.85 MWh: 1.85 MWh short (a target:
    the policy stage), not blamed on the interactive workload.
    """
    cfg = loaded(2)
    direct = {"name": "pv", "site": "s1", "profile": 1.0, "direct": True}
    cfg["renewables"] = [direct | {"capacity": 10.0, "min_self_consumption": 0.9}]
    d = _diagnosis(cfg)
    assert "must use min_self_consumption" in str(d) and d.stage == "hard limits"
    assert d.shortfalls == {"self_consumption_s1": pytest.approx(10.3)}
    cfg["renewables"] = [direct | {"capacity": 1.0, "min_supply_share": 0.5}]
    d = _diagnosis(cfg)
    assert d.stage == "policies"
    assert d.shortfalls == {"direct_supply_s1": pytest.approx(1.85)}
    assert "min_supply_share 50%" in str(d)


def test_orderly_curtailment_below_the_minimum_load_is_named():
    """min_on 2 blocks idle: 2.2 MW through the meter at the least; the node's orderly-
    curtailment cap is 1 MW: 1.2 MW too much in each of 4 h, 4.8 MWh."""
    cfg = base_config(periods=4)
    cfg["sites"][0]["min_on"] = 2
    cfg["nodes"][0]["curtailment_limit"] = 1.0
    cfg["interactive"] = [{"name": "web", "demand": 5.0, "sites": ["s1"]}]
    d = _diagnosis(cfg)
    text = str(d)
    assert "node 'n1': its orderly-curtailment cap (curtailment_limit)" in text
    assert "up to 1.20 MW (4.80 MWh) in 00:00-04:00" in text
    assert d.shortfalls == {"curtailment_n1": pytest.approx(4.8)}
    assert "web" not in text


def test_ramp_limit_the_weather_breaks_is_named():
    """COP 10 then 1 (a heat wave hour, per the cooling series); min_on 2 blocks idle at 1 MW.
    t0: IT at most 2 + 0.1 x 5 = 2.5 MW, facility at most 2.75 MW; t1: IT at least 2 MW,
    facility at least 2 x (1 + 1/1) = 4.0 MW. The rise is at least 1.25 MW; ramp_up 0.5 MW/h
    allows 0.5: 0.75 MW too much in t1 (0.75 MWh), whatever compute is given up."""
    cfg = base_config(periods=2)
    cfg["sites"][0].update(min_on=2, ramp_up=0.5, cooling={"cop": "cop"})
    cfg["interactive"] = [{"name": "web", "demand": 5.0, "sites": ["s1"]}]
    r = suandian.solve(scenario(cfg, series=pd.DataFrame({"cop": [10.0, 1.0]})))
    assert r.status == "infeasible"
    text = str(r.diagnosis)
    assert "site 's1': its facility power must rise by up to 0.75 MW more per period" in text
    assert "ramp_up 0.5 MW/h" in text and "in 01:00-02:00" in text
    assert r.diagnosis.shortfalls == {"ramp_up_s1": pytest.approx(0.75)}


@pytest.mark.parametrize(
    ("tank", "excess"),
    [(None, 0.8), ({"soc_initial": 0.5, "soc_final": "free"}, 0.7)],
)
def test_pue_cap_below_the_plant_is_a_data_check(tank, excess):
    """s1 with a fixed load of 1 MW and a site cap of 1.3, over 4 h.

    Facility power = 1.1 p + 1 (COP 10, no losses), p <= P_max = 2 x (1 + 0.1 x 10) = 4 MW.
    Per hour F - 1.3 p = 1 - 0.2 p >= 1 - 0.8 = 0.2 MW, so over 4 h the facility energy
    exceeds 1.3 x IT energy by at least 0.8 MWh whatever the schedule (PUE >= 1.1 + 1/4 =
    1.35 at full load): a proof without a solve. A chilled-water tank (2 MWh, 1 MW both ways,
    half full, COP 10 flat) can discharge its 1 MWh of cold, saving 0.1 MWh of chiller
    power; cycling gains nothing at a flat COP: 0.7 MWh.
    """
    cfg = base_config()
    cfg["sites"][0].update(fixed_load=1.0, pue_cap=1.3)
    if tank is not None:
        unit = {"name": "t1", "site": "s1", "capacity": 2.0, "charge_max": 1.0}
        cfg["thermal_storage"] = [{**unit, "discharge_max": 1.0, **tank}]
    d = _diagnosis(cfg)
    assert d.shortfalls == {"pue_s1": pytest.approx(excess)}
    assert d.proven and d.stage == "hard limits"
    assert "cap 1.300 cannot be met on any schedule" in str(d)
    assert "every block at full load (4.00 MW IT) its PUE is at least 1.3500" in str(d)


def test_a_diagnosis_that_finds_nothing_proves_nothing(monkeypatch):
    """Stages 1-3 end without a plan (their time ran out) and the hard-limit re-solve finds no
    violation: nothing is found, so nothing is proven, and the status says so."""
    import importlib
    from types import SimpleNamespace

    module = importlib.import_module("suandian.run.diagnose")  # the package exports the function

    timed_out = SimpleNamespace(has_solution=False, status="no_solution", highs_status="")
    plan = SimpleNamespace(has_solution=True, status="optimal", highs_status="Optimal")
    monkeypatch.setattr(module, "_relaxed_solve", lambda *a: (None, timed_out))
    monkeypatch.setattr(module, "_elastic", lambda *a, **k: (plan, []))
    cfg = base_config()
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    d = module.diagnose(scenario(cfg), suandian.SolveOptions(), budget=1.0)
    assert d.findings == [] and d.shortfalls == {}
    assert not d.proven
    assert d.status == module.NO_CAUSE == "no cause found within the budget"
    assert "policies, interactive demand found no plan within the budget" in d.note
    assert str(d).startswith("diagnosis: no cause found within the budget")
