"""Load-dependent PUE, cooling by heat path and water (issue 7, item 3), solved by hand.

Base site (conftest ``base_config``): one node at 100 CNY/MWh, one site ``s1`` with 2 blocks
of 10 units, idle 1 MW per block on, 0.1 MW per unit served, COP 10. Every expected value
below is derived on paper in the test's docstring or comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok

from suandian import solve
from suandian.results.accounting import books
from suandian.results.certifier import certify
from suandian.scenario.scenario import cooling_series, drive_temperature
from suandian.scenario.schema import Cooling, Site


def _part_load_config() -> dict:
    """Two hours, demand 10 then 20 units: one block, then both, all at full load."""
    c = base_config(periods=2)
    c["sites"][0].update(
        loss_fraction=0.02,  # b
        no_load_loss=0.01,  # a, of design_it
        always_on_it=0.5,  # MW, network fabric and storage
        fixed_load=0.3,  # MW, lighting, BMS, minimum pumps
    )
    c["interactive"] = [CHAT_WORKLOAD]
    return c


CHAT = pd.DataFrame({"chat": [10.0, 20.0]})
CHAT_WORKLOAD = {"name": "chat", "demand": "chat", "sites": ["s1"]}


def test_fixed_loads_make_pue_rise_at_part_load():
    """Fixed facility load, no-load losses and always-on IT, one site, two periods.

    Demand 10 then 20 units: one block then two (a second block only adds 1 MW idle), so
    X = [10, 20], n_on = [1, 2]. design_it (default) = always_on_it + blocks x (idle +
    dynamic x capacity) = 0.5 + 2 x (1 + 0.1 x 10) = 4.5 MW.

    p_it   = 0.5 + 1 n_on + 0.1 X         = [2.5, 4.5] MW
    p_loss = 0.01 x 4.5 + 0.02 p_it       = [0.045 + 0.050, 0.045 + 0.090] = [0.095, 0.135]
    heat   = p_it + p_loss                = [2.595, 4.635]
    p_cool = heat / COP 10                = [0.2595, 0.4635]
    p_fac  = heat + p_cool + 0.3          = [3.1545, 5.3985]
    PUE per hour = [3.1545 / 2.5, 5.3985 / 4.5] = [1.2618, 1.19967]: higher at part load
    (without the fixed terms it would be (1.02)(1.1) = 1.122 in both hours).
    Horizon PUE = 8.553 / 7.0 = 1.221857; cost = 100 x 8.553 = 855.3 CNY.
    """
    r = solve_ok(_part_load_config(), series=CHAT)
    ds = r.ds
    s1 = {"site": "s1"}
    assert ds["n_on"].sel(**s1).values.tolist() == [1, 2]
    assert float(ds["design_it"].sel(**s1)) == pytest.approx(4.5)
    assert ds["p_it"].sel(**s1).values == pytest.approx([2.5, 4.5])
    assert ds["p_loss"].sel(**s1).values == pytest.approx([0.095, 0.135])
    assert ds["p_cool"].sel(**s1).values == pytest.approx([0.2595, 0.4635])
    fac = ds["p_facility"].sel(**s1).values
    assert fac == pytest.approx([3.1545, 5.3985])
    assert fac / ds["p_it"].sel(**s1).values == pytest.approx([1.2618, 5.3985 / 4.5])
    assert r.kpis["pue"]["s1"] == pytest.approx(8.553 / 7.0)
    assert r.objective == pytest.approx(855.3)


def test_fixed_load_makes_a_pue_cap_bind():
    """An energy-weighted PUE cap (basis horizon) with the fixed terms of the test above.

    Hour 1 needs both blocks; hour 0 may run one block (the plan above) or two, the second
    idle. Plan [1, 2]: PUE 8.553 / 7.0 = 1.221857, cost 855.3 CNY.
    Plan [2, 2]: hour 0 p_it = 0.5 + 2 + 1 = 3.5, p_loss = 0.045 + 0.02 x 3.5 = 0.115,
    heat 3.615, p_fac = 3.615 x 1.1 + 0.3 = 4.2765; PUE (4.2765 + 5.3985) / 8.0 = 1.209375,
    cost 100 x 9.675 = 967.5 CNY. So: cap 1.23 -> [1, 2] at 855.3; cap 1.22 -> only [2, 2]
    meets it: an idle block is switched on to dilute the fixed load (967.5); cap 1.20 ->
    neither plan meets it: infeasible.
    """
    c = _part_load_config()
    c["policies"] = {"green_share": None, "pue": {"cap": 1.23}}
    r = solve_ok(c, series=CHAT)
    assert r.objective == pytest.approx(855.3)
    c["policies"]["pue"]["cap"] = 1.22
    r = solve_ok(c, series=CHAT)
    assert r.ds["n_on"].sel(site="s1").values.tolist() == [2, 2]
    assert r.objective == pytest.approx(967.5)
    assert r.kpis["pue"]["s1"] == pytest.approx(9.675 / 8.0)
    c["policies"]["pue"]["cap"] = 1.20
    assert solve(scenario(c, CHAT)).status == "infeasible"


def _plant(**changes) -> Cooling:
    """A warm-water plant: 75 % liquid (free to 25 degC, chillers from 30), 25 % air."""
    fields = dict(
        ambient=0.0,
        liquid_fraction=0.75,
        liquid_t_free=25.0,
        liquid_t_mech=30.0,
        liquid_cop_free=20.0,
        t_free=12.0,
        t_mech=18.0,
        cop_free=20.0,
        cop_ref=6.0,
        t_ref=30.0,
        cop_slope=0.025,
        cop_min=2.0,
        approach=4.0,
        air_fan=0.03,
    )
    fields.update(changes)
    return Cooling(**fields)


def test_liquid_and_air_path_electricity_per_heat():
    """k per path at driving temperatures 20, 27, 32 degC (condenser = T + 4 K).

    chiller COP = 6 (1 - 0.025 (T + 4 - 30)): 20 -> 6 x 1.15 = 6.9; 27 -> 6 x 0.975 = 5.85;
    32 -> 6 x 0.85 = 5.1.
    air (mechanical share 1 above 18): k_air = 0.03 + 1/COP_ch
        = [0.03 + 1/6.9, 0.03 + 1/5.85, 0.03 + 1/5.1]
    liquid share mechanical mu = clip((T - 25)/5) = [0, 0.4, 1]:
        k_liquid = [1/20, 0.6/20 + 0.4/5.85, 1/5.1]
    plant k = 0.25 k_air + 0.75 k_liquid; COP = 1/k.
    At 20 degC: k = 0.25 x 0.174928 + 0.75 x 0.05 = 0.081232 (COP 12.31): the liquid path
    is free while the air path is on chillers.
    """
    got = cooling_series(np.array([20.0, 27.0, 32.0]), _plant())
    k_air = np.array([0.03 + 1 / 6.9, 0.03 + 1 / 5.85, 0.03 + 1 / 5.1])
    k_liq = np.array([1 / 20, 0.6 / 20 + 0.4 / 5.85, 1 / 5.1])
    assert got.k_air == pytest.approx(k_air)
    assert got.k_liquid == pytest.approx(k_liq)
    assert got.k == pytest.approx(0.25 * k_air + 0.75 * k_liq)
    assert got.k[0] == pytest.approx(0.081232, abs=1e-6)
    assert got.cop == pytest.approx(1 / (0.25 * k_air + 0.75 * k_liq))
    # an all-air plant of the same data: 1/COP = 0.174928 at 20 degC
    air = cooling_series(np.array([20.0]), _plant(liquid_fraction=0.0))
    assert air.k == pytest.approx([0.03 + 1 / 6.9])


def test_defaults_keep_the_single_path_curve():
    """No liquid path, no approach, no fans: the COP of the original curve.

    T = 16 with t_free 12, t_mech 20, cop_free 25, chiller 7 (1 - 0.025 (16 - 25)) = 8.575:
    mu = 0.5, 1/COP = 0.5/25 + 0.5/8.575 = 0.02 + 0.0583090 = 0.0783090.
    """
    got = cooling_series(np.array([16.0]), Cooling(ambient=0.0))
    assert got.k == pytest.approx([0.02 + 0.5 / 8.575])
    assert got.wet.tolist() == [1.0]


def test_adiabatic_driving_temperature_and_wet_mode():
    """T_db - eps (T_db - T_wb), eps 0.75, pads wetted above 20 degC dry-bulb.

    (36, 20): 36 - 0.75 x 16 = 24, wet; (22, 15.7): 22 - 0.75 x 6.3 = 17.275, wet;
    (18, 12): 18 <= 20, dry: driven by the dry-bulb 18, no water.
    """
    c = Cooling(ambient=0.0, dry_bulb=0.0, adiabatic_effectiveness=0.75, wet_above=20.0)
    t, wet = drive_temperature(np.array([20.0, 15.7, 12.0]), c, np.array([36.0, 22.0, 18.0]))
    assert t == pytest.approx([24.0, 17.275, 18.0])
    assert wet.tolist() == [1.0, 1.0, 0.0]
    # always wet without wet_above: 18 - 0.75 x 6 = 13.5
    c = Cooling(ambient=0.0, dry_bulb=0.0, adiabatic_effectiveness=0.75)
    t, wet = drive_temperature(np.array([12.0]), c, np.array([18.0]))
    assert t == pytest.approx([13.5]) and wet.tolist() == [1.0]


def test_adiabatic_site_in_a_model():
    """The scenario's k per period follows the adiabatic temperature (series in a scenario).

    Cooling of s1: all-air defaults (t_free 12, t_mech 20, cop_free 25, chiller 7 at 25,
    slope 0.025); driving temperatures as above: 24 (wet), 17.275 (wet), 18 (dry).
    24: mu 1, chiller 7 (1 + 0.025) = 7.175, k = 1/7.175.
    17.275: mu = 5.275/8 = 0.659375, chiller 7 (1 + 0.025 x 7.725) = 8.351875,
            k = 0.340625/25 + 0.659375/8.351875.
    18: mu = 0.75, chiller 7 (1 + 0.175) = 8.225, k = 0.25/25 + 0.75/8.225.
    """
    c = base_config(periods=3)
    c["sites"][0]["cooling"] = {
        "ambient": "wb",
        "dry_bulb": "db",
        "adiabatic_effectiveness": 0.75,
        "wet_above": 20.0,
    }
    sc = scenario(c, pd.DataFrame({"wb": [20.0, 15.7, 12.0], "db": [36.0, 22.0, 18.0]}))
    k = 1 / sc.cop(sc.config.sites[0])
    expected = [
        1 / 7.175,
        0.340625 / 25 + 0.659375 / 8.351875,
        0.25 / 25 + 0.75 / 8.225,
    ]
    assert k == pytest.approx(expected)
    assert sc.cooling(sc.config.sites[0]).wet.tolist() == [1.0, 1.0, 0.0]


def _two_sites(water_price: float = 0.0, wue_cap: float | None = None) -> dict:
    """s1 (wet towers: COP 10, 2 m3 per MWh heat) and s2 (dry: COP 5), one batch job.

    The job (10 units x 1 h, max_rate 10) runs on one block at either site: IT 2 MW.
    """
    c = base_config(periods=1)
    wet = dict(c["sites"][0], cooling={"cop": 10.0, "water_use": 2.0}, water_price=water_price)
    if wue_cap is not None:
        wet["wue_cap"] = wue_cap
    dry = dict(c["sites"][0], name="s2", cooling={"cop": 5.0})
    c["sites"] = [wet, dry]
    c["batch"] = [{"name": "job", "work": 10.0, "max_rate": 10.0, "sites": ["s1", "s2"]}]
    return c


def test_water_price_moves_work_to_the_dry_site():
    """Per MWh of IT: s1 costs 1.1 x 100 + water 2 m3 x price; s2 costs 1.2 x 100 = 120.

    Price 0: s1 (2 MW x 110 = 220 CNY) beats s2 (240): the job runs at s1; water 2 m3/MWh x
    2 MWh heat = 4 m3, WUE = 4 m3 / 2 MWh = 2.0 L/kWh.
    Price 20 CNY/m3: s1 costs 220 + 4 x 20 = 300 > 240: the job runs at s2, no water.
    """
    r = solve_ok(_two_sites())
    assert r.ds["n_on"].values[:, 0].tolist() == [1, 0]
    assert float(r.ds["water"].sel(site="s1").sum()) == pytest.approx(4.0)
    assert r.kpis["wue_l_per_kwh"]["s1"] == pytest.approx(2.0)
    assert r.objective == pytest.approx(220.0)
    r = solve_ok(_two_sites(water_price=20.0))
    assert r.ds["n_on"].values[:, 0].tolist() == [0, 1]
    assert r.objective == pytest.approx(240.0)
    assert r.kpis["cost"]["water"] == pytest.approx(0.0)


def test_water_cost_is_the_price_times_the_water():
    """Price 4 CNY/m3: s1 costs 220 + 4 m3 x 4 = 236 < 240 at s2: s1 runs, water cost 16."""
    r = solve_ok(_two_sites(water_price=4.0))
    assert r.ds["n_on"].values[:, 0].tolist() == [1, 0]
    assert r.kpis["cost"]["water"] == pytest.approx(16.0)
    assert r.objective == pytest.approx(236.0)


def test_wue_cap_moves_work_to_the_dry_site():
    """A WUE cap of 1 L/kWh at s1: any work there has WUE 2 > 1, so the job runs at s2."""
    r = solve_ok(_two_sites(wue_cap=1.0))
    assert r.ds["n_on"].values[:, 0].tolist() == [0, 1]
    assert r.objective == pytest.approx(240.0)
    r = solve_ok(_two_sites(wue_cap=2.0))  # exactly met at s1
    assert r.ds["n_on"].values[:, 0].tolist() == [1, 0]


def test_schema_errors_name_the_field():
    with pytest.raises(ValueError, match="needs dry_bulb"):
        Cooling(ambient="wb", adiabatic_effectiveness=0.7)
    with pytest.raises(ValueError, match="would be ignored because cop is given"):
        Cooling(cop=5.0, liquid_fraction=0.5)
    with pytest.raises(ValueError, match="liquid_t_mech"):
        Cooling(ambient=20.0, liquid_t_free=30.0, liquid_t_mech=25.0)
    with pytest.raises(ValueError, match="water_use is 0"):
        Site(
            name="s",
            node="n",
            blocks=1,
            block_capacity=1.0,
            idle_power=1.0,
            dynamic_power=0.0,
            cooling={"cop": 5.0},
            wue_cap=1.0,
        )


def test_wet_bulb_above_dry_bulb_is_reported():
    c = base_config(periods=2)
    c["sites"][0]["cooling"] = {"ambient": "wb", "dry_bulb": "db", "adiabatic_effectiveness": 0.7}
    with pytest.raises(Exception, match="wet-bulb above dry-bulb"):
        scenario(c, pd.DataFrame({"wb": [20.0, 25.0], "db": [30.0, 24.0]}))


# ------------------------------------------------------------------ certifier
def _tampered(ds, change) -> set[str]:
    ds = ds.copy(deep=True)
    change(ds)
    ds.attrs["objective"] = books(ds)["cost"]["total"]
    if "cost_period" in ds:  # the model's per-period split, off once a decision is changed
        del ds["cost_period"]
    return {v.check for v in certify(ds)}


def _at(ds, name, site="s1", t=0):
    return ds[name].loc[{"site": site, "time": ds["time"].values[t]}]


@pytest.fixture(scope="module")
def part_load():
    return solve_ok(_part_load_config(), series=CHAT)


def test_certifier_recomputes_the_fixed_terms(part_load):
    ds = part_load.ds
    assert certify(ds) == []

    def no_fixed_load(d):  # facility without the 0.3 MW fixed load (grid follows)
        d["p_facility"].loc[{"site": "s1"}] -= 0.3
        d["p_grid"].loc[{"site": "s1"}] -= 0.3

    assert _tampered(ds, no_fixed_load) == {"dc.p_facility_def"}

    def no_load_loss_dropped(d):  # the input says no no-load losses: p_loss is 0.045 too high
        d["no_load_loss"].loc[{"site": "s1"}] = 0.0

    assert _tampered(ds, no_load_loss_dropped) == {"dc.p_loss_def"}

    def always_on_dropped(d):
        d["always_on_it"].loc[{"site": "s1"}] = 0.0

    assert _tampered(ds, always_on_dropped) == {"dc.p_it_def"}

    def path_changed(d):  # the effective COP no longer matches its heat paths
        d["k_air"].loc[{"site": "s1"}] = 0.2

    assert _tampered(ds, path_changed) == {"dc.cop_paths"}


def test_certifier_recomputes_water_and_its_cap():
    r = solve_ok(_two_sites(wue_cap=2.0))
    ds = r.ds

    def less_water(d):
        d["water"].loc[{"site": "s1"}] = 1.0

    assert _tampered(ds, less_water) == {"dc.water_def"}

    def tighter_cap(d):
        d["wue_cap"].loc[{"site": "s1"}] = 1.5

    assert _tampered(ds, tighter_cap) == {"dc.wue_cap"}


def test_a_dataset_saved_before_the_new_inputs_still_certifies():
    """A plan with the defaults (no fixed terms, one path, no water) certifies without them."""
    r = solve_ok(base_config(periods=2) | {"interactive": [CHAT_WORKLOAD]}, series=CHAT)
    new = [
        "always_on_it",
        "no_load_loss",
        "design_it",
        "fixed_load",
        "water_price",
        "water_use",
        "wue_cap",
        "t_drive",
        "k_air",
        "k_liquid",
        "liquid_fraction",
        "wet",
        "water",
    ]
    old = r.ds.drop_vars(new)
    assert certify(old) == []
    assert "wue_l_per_kwh" not in books(old)
