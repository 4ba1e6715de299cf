"""Thermal storage and waste-heat recovery (family ``thermal``), solved by hand.

Base site (conftest) with 15 units of interactive demand: 2 blocks on (min for the demand),
IT 2 * 1 + 0.1 * 15 = 3.5 MW every period, no losses, so the heat is 3.5 MW.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok

import suandian


def with_tank(prices: list[float], cops: list[float], **tank) -> tuple[dict, pd.DataFrame]:
    """One site, COP series (all heat on the air path, no fans: k_chw = 1 / COP)."""
    cfg = base_config(periods=len(prices))
    cfg["nodes"][0]["tariff"] = "price"
    cfg["sites"][0]["cooling"] = {"cop": "cop"}
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    unit = {
        "name": "tank",
        "site": "s1",
        "capacity": 10.0,
        "charge_max": 5.0,
        "discharge_max": 10.0,
        "charge_factor": 1.5,
        "soc_initial": 0.0,
    }
    unit.update(tank)
    cfg["thermal_storage"] = [unit]
    return cfg, pd.DataFrame({"price": prices, "cop": cops})


def test_tank_charges_when_cheap_and_covers_the_air_load_when_dear():
    """Prices [100, 1000] CNY/MWh, COP [10, 5]: k_chw = [0.1, 0.2] MW per MW of heat.

    Cold made in t0 costs 100 * 0.1 * 1.5 = 15 CNY/MWh; cold used in t1 saves 1000 * 0.2 =
    200 CNY/MWh. The tank absorbs in t1 at most the air-path heat, 3.5 MW (row cold_load; the
    discharge limit 10 and the charge limit 5 do not bind), so it charges exactly 3.5 MWh in
    t0 (more would be lost money: the end rule is e >= 0) and discharges 3.5 MW in t1.

    Without the tank: facility [3.5 * 1.1, 3.5 * 1.2] = [3.85, 4.2] MW, cost 385 + 4200 =
    4585. Tank: +3.5 * 0.15 = 0.525 MW in t0 (+52.5 CNY), -3.5 * 0.2 = -0.7 MW in t1 (-700).
    Objective 4585 + 52.5 - 700 = 3937.5 CNY. Facility [4.375, 3.5] MW, PUE 7.875 / 7 = 1.125.
    """
    cfg, series = with_tank([100.0, 1000.0], [10.0, 5.0])
    r = solve_ok(cfg, series=series)
    ds = r.ds
    assert ds["k_chw"].sel(site="s1").values == pytest.approx([0.1, 0.2])
    assert ds["q_charge"].sel(tes="tank").values == pytest.approx([3.5, 0.0], abs=1e-7)
    assert ds["q_discharge"].sel(tes="tank").values == pytest.approx([0.0, 3.5], abs=1e-7)
    assert ds["e_cold"].sel(tes="tank").values == pytest.approx([3.5, 0.0], abs=1e-7)
    assert ds["p_tes"].sel(tes="tank").values == pytest.approx([0.525, -0.7], abs=1e-7)
    assert r.objective == pytest.approx(3937.5)
    assert r.kpis["pue"]["s1"] == pytest.approx(1.125)
    assert r.kpis["energy_mwh"]["tes_discharge"] == pytest.approx(3.5)


def test_pue_cap_counts_the_tank_in_facility_energy():
    """The case above under a PUE cap of 1.13: the plan (PUE 1.125 with the tank's electricity,
    [4.375, 3.5] MW) meets it, and the certifier must judge the same facility energy as the
    row: dc's own facility power alone, [3.85, 4.2] MW, would give 8.05 / 7 = 1.15 > 1.13 and a
    false violation. Lowered to 1.12 the cap is broken, by the value 1.125."""
    cfg, series = with_tank([100.0, 1000.0], [10.0, 5.0])
    cfg["policies"] = {"green_share": None, "pue": {"cap": 1.13}}
    r = solve_ok(cfg, series=series)  # certifies clean
    assert r.objective == pytest.approx(3937.5)
    ds = r.ds.copy(deep=True)
    ds["pue_cap"].loc[{"site": "s1"}] = 1.12
    (v,) = suandian.certify(ds)
    assert v.check == "pue_cap.pue_max"
    assert v.value == pytest.approx(1.125)


def test_standing_loss_and_a_dear_charge_leave_the_tank_idle():
    """Same day, standing loss 0.5 per hour and charge factor 20.

    Cold made in t0 costs 100 * 0.1 * 20 = 200 CNY/MWh and half of it is lost by t1, where
    each MWh left saves 200 CNY: 100 CNY saved per MWh charged < 200 spent. The tank stays
    idle; objective = 4585 CNY (facility without the tank).
    """
    cfg, series = with_tank([100.0, 1000.0], [10.0, 5.0], standing_loss=0.5, charge_factor=20.0)
    r = solve_ok(cfg, series=series)
    assert r.ds["q_charge"].values.ravel() == pytest.approx([0.0, 0.0], abs=1e-7)
    assert r.objective == pytest.approx(4585.0)


def test_standing_loss_is_booked_in_the_balance():
    """Standing loss 0.2 per hour, charge factor 1.5, 3 periods [100, 1000, 1000] at COP
    [10, 5, 5], charge limit 10, discharge limit 2 (< 3.5 MW air heat).

    Charging 1 MWh in t0 costs 15 CNY; kept to t1 it is worth 0.8 * 200 = 160, to t2
    0.64 * 200 = 128: both pay. Discharge 2 in t1 and 2 in t2 needs e0 with
    0.8 e0 - 2 = e1, 0.8 e1 - 2 = e2 >= 0 -> e0 = (2 + 2 / 0.8) / 0.8 = 5.625 MWh.
    Cost: 4585 + 4200 (t2 as t1) = 8785 without the tank; tank +5.625 * 0.15 * 100 = 84.375,
    -2 * 0.2 * 1000 * 2 = -800. Objective 8069.375 CNY.
    """
    cfg, series = with_tank(
        [100.0, 1000.0, 1000.0],
        [10.0, 5.0, 5.0],
        standing_loss=0.2,
        charge_max=10.0,
        discharge_max=2.0,
    )
    r = solve_ok(cfg, series=series)
    ds = r.ds
    assert ds["q_charge"].sel(tes="tank").values == pytest.approx([5.625, 0, 0], abs=1e-7)
    assert ds["q_discharge"].sel(tes="tank").values == pytest.approx([0, 2.0, 2.0], abs=1e-7)
    assert ds["e_cold"].sel(tes="tank").values == pytest.approx([5.625, 2.5, 0.0], abs=1e-7)
    assert r.objective == pytest.approx(8069.375)


def with_heat_recovery(**unit) -> tuple[dict, pd.DataFrame]:
    """Cooling from the weather: ambient 10 degC <= t_free 12 and <= liquid_t_free 25, so
    k_air = 1 / cop_free = 1 / 25 = 0.04 and k_liquid = 1 / liquid_cop_free = 1 / 20 = 0.05;
    half the heat on each path: 1.75 MW liquid-path heat, cooling 3.5 * 0.045 = 0.1575 MW,
    facility 3.6575 MW every period. Flat tariff 100 CNY/MWh, 3 periods.
    """
    cfg = base_config(periods=3)
    cfg["sites"][0]["cooling"] = {
        "ambient": 10.0,
        "t_free": 12.0,
        "t_mech": 20.0,
        "cop_free": 25.0,
        "liquid_fraction": 0.5,
        "liquid_t_free": 25.0,
        "liquid_cop_free": 20.0,
    }
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    hp = {
        "name": "hp",
        "site": "s1",
        "capacity": 2.5,
        "cop": 3.0,
        "recovery_fraction": 0.8,
        "demand": "heat_demand",
        "price": "heat_price",
    }
    hp.update(unit)
    cfg["heat_recovery"] = [hp]
    return cfg, pd.DataFrame({"heat_demand": [3.0, 0.5, 3.0], "heat_price": [150.0, 150.0, 20.0]})


def test_heat_sold_up_to_source_demand_and_price():
    """Heat demand [3, 0.5, 3] MW, price [150, 150, 20] CNY/MWh, COP 3, capacity 2.5 MW.

    A MWh delivered needs 1/3 MWh of electricity (33.33 CNY) and draws 2/3 MWh from the loop.
    t0: source limit 0.8 * 1.75 = 1.4 MW drawn -> 2.1 MW delivered (< capacity 2.5, demand 3).
    t1: demand 0.5 binds. t2: 20 CNY < 33.33 CNY: nothing sold.
    Delivered [2.1, 0.5, 0], drawn [1.4, 1/3, 0], heat pump [0.7, 1/6, 0] MW.
    Objective = 3 * 3.6575 * 100 + (0.7 + 1/6) * 100 - 150 * 2.6 = 1097.25 + 86.667 - 390
    = 793.9167 CNY. PUE 1.045 (heat pump outside); ERF = 1.7333 / 10.9725 = 0.15797.
    """
    cfg, series = with_heat_recovery()
    r = solve_ok(cfg, series=series)
    ds = r.ds
    assert ds["k_air"].sel(site="s1").values == pytest.approx([0.04] * 3)
    assert ds["k_liquid"].sel(site="s1").values == pytest.approx([0.05] * 3)
    assert ds["q_heat"].sel(recovery="hp").values == pytest.approx([2.1, 0.5, 0.0], abs=1e-7)
    assert ds["q_recovered"].sel(recovery="hp").values == pytest.approx([1.4, 1 / 3, 0.0], abs=1e-7)
    assert ds["p_heat_pump"].sel(recovery="hp").values == pytest.approx([0.7, 1 / 6, 0.0], abs=1e-7)
    assert r.costs["heat_sales"] == pytest.approx(-390.0)
    assert r.objective == pytest.approx(1097.25 + 260 / 3 - 390.0)
    assert r.kpis["pue"]["s1"] == pytest.approx(1.045)
    assert r.kpis["erf"]["s1"] == pytest.approx((1.4 + 1 / 3) / 10.9725)
    assert r.kpis["heat_reused_mwh"] == pytest.approx(1.4 + 1 / 3)
    assert r.kpis["energy_mwh"]["heat_pump"] == pytest.approx(0.7 + 1 / 6)
    assert r.kpis["consumption_mwh"]["s1"] == pytest.approx(10.9725 + 0.7 + 1 / 6)


def test_certifier_catches_tampered_thermal_values():
    cfg, series = with_tank([100.0, 1000.0], [10.0, 5.0])
    ds = solve_ok(cfg, series=series).ds
    bad = ds.copy(deep=True)
    bad["e_cold"][0, 0] = 5.0  # more cold than charged
    assert "thermal.e_cold_balance" in {v.check for v in suandian.certify(bad)}
    bad = ds.copy(deep=True)
    bad["q_discharge"][0, 1] = 4.0  # above the 3.5 MW air-path heat
    assert "thermal.cold_load" in {v.check for v in suandian.certify(bad)}
    bad = ds.copy(deep=True)
    bad["p_tes"][0, 1] = -1.0  # claims more saving than k_chw * discharge
    assert "thermal.p_tes_def" in {v.check for v in suandian.certify(bad)}

    cfg, series = with_heat_recovery()
    ds = solve_ok(cfg, series=series).ds
    bad = ds.copy(deep=True)
    bad["q_recovered"][0, 0] = 1.6  # above 0.8 of the 1.75 MW liquid-path heat
    checks = {v.check for v in suandian.certify(bad)}
    assert {"thermal.heat_source", "thermal.q_recovered_def"} <= checks
    bad = ds.copy(deep=True)
    bad["q_heat"][0, 1] = 0.8  # above the buyer's demand of 0.5 MW
    assert "thermal.q_heat.bounds" in {v.check for v in suandian.certify(bad)}


def test_sections_are_validated_with_the_rest_of_the_scenario():
    cfg, series = with_heat_recovery(price="heat_prise")
    cfg["heat_recovery"].append(dict(cfg["heat_recovery"][0], name="hp2"))  # same site
    cfg["thermal_storage"] = [
        {"name": "tank", "site": "s2", "capacity": 1.0, "charge_max": 1.0, "discharge_max": -1.0}
    ]
    with pytest.raises(suandian.ScenarioError) as err:
        scenario(cfg, series=series)
    fields = {p.field for p in err.value.problems}
    assert {"thermal_storage[0].site", "thermal_storage[0].discharge_max"} <= fields

    cfg["thermal_storage"] = []
    with pytest.raises(suandian.ScenarioError) as err:
        scenario(cfg, series=series)
    fields = {p.field for p in err.value.problems}
    assert {"heat_recovery[0].price", "heat_recovery[1].site"} <= fields

    cfg, series = with_heat_recovery()
    cfg["sites"][0]["cooling"]["liquid_fraction"] = 0.0
    with pytest.raises(suandian.ScenarioError) as err:
        scenario(cfg, series=series)
    assert "heat_recovery[0].site" in {p.field for p in err.value.problems}
