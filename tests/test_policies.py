"""Policies: green share (portfolio/site, shadow price, infeasibility), PUE cap, carbon price,
and the energy_price dual.

Base site (conftest) with 15 units of demand draws 3.85 MW every period (7.7 MWh over 2 h).
Every expected value is derived by hand in the docstrings.
"""

from __future__ import annotations

import copy

import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok

import suandian

LOAD = 3.85  # MW


def loaded(periods: int = 2) -> dict:
    cfg = base_config(periods=periods)
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    return cfg


def add_site(cfg: dict, name: str, node: str, tariff=100.0, ef=0.5, **changes) -> None:
    """Add a node (if new) and a copy of the base site connected to it."""
    if node not in {n["name"] for n in cfg["nodes"]}:
        cfg["nodes"].append({"name": node, "tariff": tariff, "emission_factor": ef})
    site = copy.deepcopy(cfg["sites"][0])
    site.update(name=name, node=node, **changes)
    cfg["sites"].append(site)


def contract(node: str = "n1", price: float = 150.0) -> dict:
    return {"name": f"ppa_{node}", "node": node, "capacity": 10.0, "price": price}


def test_green_share_forces_dearer_green_source_and_its_shadow_price():
    """Target 60 %, contract 150 vs grid 100, consumption 7.7 MWh.

    green = 0.6 * 7.7 = 4.62 MWh from the contract; cost = 7.7*100 + 4.62*50 = 1001 CNY.
    Shadow price of the target: one more MWh of green swaps 1 MWh grid -> contract,
    +150 - 100 = 50 CNY/MWh.
    energy_price: one more MWh consumed = 100 (grid) + 0.6 MWh more green needed * 50
    = 130 CNY/MWh.
    """
    cfg = loaded()
    cfg["policies"]["green_share"] = {"target": 0.6, "scope": "portfolio"}
    cfg["green_contracts"] = [contract()]
    r = solve_ok(cfg)
    assert r.kpis["energy_mwh"]["green_contract"] == pytest.approx(4.62)
    assert r.kpis["green_share"]["portfolio"] == pytest.approx(0.6)
    assert r.objective == pytest.approx(1001.0)
    assert r.ds["shadow_green_share"].sel(scope="portfolio") == pytest.approx(50.0)
    # per percentage point: 50 CNY/MWh * 7.7 MWh / 100 = 3.85 CNY
    assert r.ds["shadow_green_share_point"].sel(scope="portfolio") == pytest.approx(3.85)
    assert r.ds["energy_price"].sel(site="s1").values == pytest.approx([130.0, 130.0])


@pytest.mark.parametrize(
    ("scope", "green_s2", "cost"),
    [
        # portfolio: 0.6 * 15.4 = 9.24 MWh; s1's free PV gives 7.7 -> s2 buys 1.54
        # cost = 100 * (7.7 - 1.54) + 150 * 1.54 = 616 + 231 = 847
        ("portfolio", 1.54, 847.0),
        # site: s2 alone needs 0.6 * 7.7 = 4.62; cost = 100 * 3.08 + 150 * 4.62 = 1001
        ("site", 4.62, 1001.0),
    ],
)
def test_green_share_scope(scope, green_s2, cost):
    """s1 has a free 10 MW PV (100 % green at no cost, no export); s2 at node n2 can only
    buy the 150 CNY/MWh contract. Target 60 %.
    """
    cfg = loaded()
    add_site(cfg, "s2", "n2")
    cfg["interactive"].append({"name": "web2", "demand": 15.0, "sites": ["s2"]})
    cfg["renewables"] = [{"name": "pv", "site": "s1", "capacity": 10.0, "profile": 1.0}]
    cfg["green_contracts"] = [contract("n2")]
    cfg["policies"]["green_share"] = {"target": 0.6, "scope": scope}
    r = solve_ok(cfg)
    assert r.kpis["green_mwh"]["s1"] == pytest.approx(7.7)
    assert r.kpis["green_mwh"]["s2"] == pytest.approx(green_s2)
    assert r.objective == pytest.approx(cost)
    # the binding row (portfolio, or s2's own) is worth the contract premium 150 - 100 = 50;
    # s1's site row is slack (100 % green) and worth 0
    da = r.ds["shadow_green_share"]
    shadow = {str(k): float(v) for k, v in zip(da["scope"].values, da.values, strict=True)}
    expected = {"portfolio": 50.0} if scope == "portfolio" else {"s1": 0.0, "s2": 50.0}
    assert shadow == pytest.approx(expected)


def _pue_case(cap: float | None) -> tuple[dict, pd.DataFrame]:
    """Job 10 units*h at max_rate 10 in either hour; t0: COP 2, 50 CNY; t1: COP 20, 100 CNY."""
    cfg = base_config(periods=2)
    cfg["nodes"][0]["tariff"] = "price"
    cfg["sites"][0]["cooling"] = {"cop": "cop"}
    cfg["batch"] = [{"name": "job", "work": 10.0, "max_rate": 10.0, "sites": ["s1"]}]
    if cap is not None:
        cfg["policies"]["pue"] = {"cap": cap}
    return cfg, pd.DataFrame({"price": [50.0, 100.0], "cop": [2.0, 20.0]})


@pytest.mark.parametrize(
    ("cap", "x", "cost", "pue"),
    [
        # no cap: t0 costs 2 * 1.5 * 50 = 150 < t1 2 * 1.05 * 100 = 210
        (None, [10.0, 0.0], 150.0, 1.5),
        # cap 1.25: t0 alone has PUE 1.5. A split needs IT0 <= 0.8 IT1 (0.25 IT0 <= 0.2 IT1)
        # with both blocks on: IT0 + IT1 = 3 -> IT0 = 4/3, IT1 = 5/3,
        # cost 75*4/3 + 105*5/3 = 275 > 210, so all in t1: 210 CNY, PUE 1.05
        (1.25, [0.0, 10.0], 210.0, 1.05),
    ],
)
def test_pue_cap_moves_load_to_the_cool_period(cap, x, cost, pue):
    cfg, series = _pue_case(cap)
    r = solve_ok(cfg, series=series)
    assert r.batch_schedule().sel(job="job", site="s1").values == pytest.approx(x, abs=1e-9)
    assert r.objective == pytest.approx(cost)
    assert r.kpis["pue"]["s1"] == pytest.approx(pue)


def test_pue_cap_binding_split_and_shadow_price():
    """As above but idle power 0, so IT = 0.1 x is linear and a split is possible.

    x0 + x1 = 10 -> IT0 + IT1 = 1 MWh. Cap c: (1.5 - c) IT0 <= (c - 1.05) IT1
    -> IT0 = (c - 1.05) / 0.45; at c = 1.25: IT0 = 4/9, IT1 = 5/9 -> x = [40/9, 50/9].
    cost = 75 IT0 + 105 IT1 = 105 - 30 IT0 = 105 - 40/3 = 91.667 CNY.
    d cost / d c = -30 / 0.45 = -66.67 CNY per unit of PUE -> 0.6667 CNY saved per 0.01.
    """
    cfg, series = _pue_case(1.25)
    cfg["sites"][0]["idle_power"] = 0.0
    r = solve_ok(cfg, series=series)
    assert r.batch_schedule().sel(job="job", site="s1").values == pytest.approx([40 / 9, 50 / 9])
    assert r.objective == pytest.approx(105.0 - 40.0 / 3.0)
    assert r.kpis["pue"]["s1"] == pytest.approx(1.25)
    assert r.ds["shadow_pue"].sel(site="s1") == pytest.approx(2.0 / 3.0)


def test_pue_cap_picks_the_efficient_site():
    """Demand 10 units eligible at a (COP 2, 50 CNY) or b (COP 20, 100 CNY), 1 h.

    a: 2 MW * 1.5 * 50 = 150 CNY, PUE 1.5 ; b: 2 * 1.05 * 100 = 210 CNY, PUE 1.05.
    Cap 1.25 per site: a may serve only if its PUE <= 1.25, which it never is -> b, 210 CNY.
    """
    cfg = base_config(periods=1)
    cfg["nodes"][0]["tariff"] = 50.0
    cfg["sites"][0].update(name="a", cooling={"cop": 2.0})
    add_site(cfg, "b", "n2", tariff=100.0, cooling={"cop": 20.0})
    cfg["interactive"] = [{"name": "web", "demand": 10.0, "sites": ["a", "b"]}]
    cfg["policies"]["pue"] = {"cap": 1.25}
    r = solve_ok(cfg)
    served = r.ds["x_serve"].sel(workload="web")
    assert served.sel(site="b").values == pytest.approx([10.0])
    assert r.objective == pytest.approx(210.0)


@pytest.mark.parametrize(
    ("carbon_price", "site", "cost", "carbon_cost"),
    [
        (0.0, "a", 220.0, 0.0),  # a: 2.2 * 100 = 220 < b: 2.2 * 120 = 264
        # a: 2.2 * (100 + 100 * 1.0) = 440 > b: 2.2 * (120 + 100 * 0.2) = 308
        # (break-even at 100 + c = 120 + 0.2 c -> c = 25 CNY/t)
        (100.0, "b", 308.0, 44.0),
    ],
)
def test_carbon_price_shifts_load_to_the_clean_node(carbon_price, site, cost, carbon_cost):
    """Demand 10 units (2.2 MW) eligible at a (n1: 100 CNY, 1.0 t/MWh) or b (n2: 120, 0.2)."""
    cfg = base_config(periods=1)
    cfg["nodes"][0]["emission_factor"] = 1.0
    cfg["sites"][0]["name"] = "a"
    add_site(cfg, "b", "n2", tariff=120.0, ef=0.2)
    cfg["interactive"] = [{"name": "web", "demand": 10.0, "sites": ["a", "b"]}]
    cfg["policies"]["carbon_price"] = carbon_price
    r = solve_ok(cfg)
    assert r.ds["x_serve"].sel(workload="web", site=site).values == pytest.approx([10.0])
    assert r.objective == pytest.approx(cost)
    assert r.costs.get("carbon", 0.0) == pytest.approx(carbon_cost)


def test_energy_price_dual_is_the_marginal_tariff():
    """Uncongested, no policy: one more MWh at the site comes from the grid at its TOU
    price, so energy_price = tariff per period: [50, 200, 100].
    """
    cfg = loaded(periods=3)
    cfg["nodes"][0]["tariff"] = "price"
    r = solve_ok(cfg, series=pd.DataFrame({"price": [50.0, 200.0, 100.0]}))
    assert r.ds["energy_price"].sel(site="s1").values == pytest.approx([50.0, 200.0, 100.0])


def test_energy_price_dual_with_quarter_hours():
    """Same meaning with dt = 0.25 h: the dual is divided by dt, so it stays 100 CNY/MWh."""
    cfg = base_config(periods=2, resolution="15min")
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    r = solve_ok(cfg)
    assert r.ds["energy_price"].sel(site="s1").values == pytest.approx([100.0, 100.0])
    assert r.objective == pytest.approx(2 * 0.25 * LOAD * 100.0)


def test_green_target_above_supply_is_infeasible_with_diagnosis():
    """PV 1 MW at s1 is the only green source; load 3.85 MW over 2 h, target 50 %.

    Reachable share = 2 MWh / 7.7 MWh = 0.2597 (26.0 %);
    missing green = 0.5 * 7.7 - 2 = 1.85 MWh.
    """
    cfg = loaded()
    cfg["renewables"] = [{"name": "pv", "site": "s1", "capacity": 1.0, "profile": 1.0}]
    cfg["policies"]["green_share"] = {"target": 0.5, "scope": "portfolio"}
    r = suandian.solve(scenario(cfg))
    assert r.status == "infeasible"
    d = r.diagnosis
    assert d is not None
    assert d.achievable["green_share"]["portfolio"] == pytest.approx(2.0 / 7.7)
    assert d.shortfalls["green_share_portfolio"] == pytest.approx(1.85)
    assert d.stage == "policies" and d.proven
    text = str(d)
    assert "green share" in text
    assert "26.0%" in text
    assert "50%" in text


def test_site_pue_cap_holds_without_a_pue_policy():
    """The case above with the cap 1.25 on the site and ``policies.pue: null``: same answer.

    (Before, a site's own cap was dropped when the policy was null.)
    """
    cfg, series = _pue_case(None)
    cfg["sites"][0]["pue_cap"] = 1.25
    r = solve_ok(cfg, series=series)
    assert r.objective == pytest.approx(210.0)
    assert r.kpis["pue"]["s1"] == pytest.approx(1.05)
    assert float(r.ds["pue_cap"].sel(site="s1")) == 1.25


def test_diagnosis_names_the_binding_import_limit():
    """Demand 15 units; idle power 0, so facility = 1.1 x 0.1 x = 0.11 x MW; 3 blocks of 10.

    The node imports at most 1.1 MW and there is no other supply: at most 10 units per hour
    are served (0.11 x 10 = 1.1), 5 per hour unserved, 10 units x h over 2 h. Blocks are
    not what binds (10 units need 1 of 3): the import limit of n1 is.
    """
    cfg = base_config(periods=2)
    cfg["sites"][0]["blocks"] = 3
    cfg["sites"][0]["idle_power"] = 0.0
    cfg["nodes"][0]["import_limit"] = 1.1
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    r = suandian.solve(scenario(cfg))
    assert r.status == "infeasible"
    d = r.diagnosis
    assert d.proven and d.status == "optimal" and d.seconds > 0
    assert d.shortfalls["unserved_web"] == pytest.approx(10.0)
    assert "import limit of node 'n1'" in str(d)
    assert d.stage == "interactive demand"  # no batch job: stage 3 of docs/math/diagnosis.md
    assert set(d.shortfalls) == {"unserved_web"}
    assert "add blocks" not in str(d)
    assert r.info.timings["diagnosis"] > 0
