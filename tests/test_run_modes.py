"""Run modes through the contract: period weights, scenario probability, per-block objectives
and capacities chosen by the model (``docs/math/run_modes.md``).

Every case is the base site of ``conftest.base_config`` serving 15 units: two blocks on
(IT ``2 * 1 + 0.1 * 15 = 3.5`` MW), facility ``1.1 * 3.5 = 3.85`` MW in every period.
"""

from __future__ import annotations

import pytest
from conftest import (
    STEADY_LOAD_MW,
    base_config,
    hourly_series,
    scenario,
    solve_ok,
    steady_load_config,
)

import suandian
from suandian.component import Capacity

LOAD = STEADY_LOAD_MW  # MW of facility power, every period
_config, _series = steady_load_config, hourly_series


def test_period_weights_scale_per_period_costs_and_horizon_sums():
    """Two periods at 100 and 200 CNY/MWh; the second stands for 3 hours (weight 3).

    Cost ``sum_t w_t * dt * price_t * load = 1 * 100 * 3.85 + 3 * 200 * 3.85 = 385 + 2,310
    = 2,695`` CNY; consumption ``(1 + 3) * 3.85 = 15.4`` MWh. The Dataset carries the weights,
    so the certifier recomputes the same total.
    """
    c = _config(2)
    c["nodes"][0]["tariff"] = "price"
    c["horizon"]["weights"] = "w"
    result = solve_ok(c, _series(price=[100.0, 200.0], w=[1.0, 3.0]))
    assert result.objective == pytest.approx(2695.0)
    assert result.costs["grid_energy"] == pytest.approx(2695.0)
    assert result.kpis["consumption_mwh"]["s1"] == pytest.approx(15.4)
    assert list(result.ds["period_weight"].values) == [1.0, 3.0]


def test_a_constant_weight_scales_every_period():
    """``weights: 3`` on 2 periods at 100 CNY/MWh: ``3 * 2 * 100 * 3.85 = 2,310`` CNY."""
    c = _config(2)
    c["horizon"]["weights"] = 3.0
    result = solve_ok(c)
    assert result.objective == pytest.approx(2310.0)


def test_probability_scales_the_objective():
    """Probability 0.25 on 4 periods at 100 CNY/MWh: ``0.25 * 4 * 100 * 3.85 = 385`` CNY.

    Energy figures are not scaled (the plan is the plan of that scenario): 15.4 MWh.
    """
    c = _config(4)
    c["horizon"]["probability"] = 0.25
    result = solve_ok(c)
    assert result.objective == pytest.approx(385.0)
    assert result.costs["total"] == pytest.approx(385.0)
    assert result.ds.attrs["probability"] == 0.25
    assert result.kpis["consumption_mwh"]["s1"] == pytest.approx(15.4)


def test_weights_must_be_non_negative():
    """A negative weight is a validation problem, not a traceback."""
    c = _config(2)
    c["horizon"]["weights"] = -1.0
    with pytest.raises(suandian.ScenarioError, match="horizon.weights"):
        scenario(c)


def test_each_block_of_a_shared_model_certifies_on_its_own():
    """Two scenarios of probability 0.5 in one LinearModel, 4 h at 100 and 200 CNY/MWh.

    Block a: ``0.5 * 4 * 100 * 3.85 = 770`` CNY; block b: ``0.5 * 4 * 200 * 3.85 = 1,540``;
    the joint objective is their sum, 2,310. Each block's Result reports its own objective
    and certifies (before, both carried the joint one and failed ``total_cost``).
    """
    import pyomo.environ as pyo

    from suandian.highs import SolveOptions
    from suandian.linear import LinearModel
    from suandian.results.result import Result
    from suandian.run.strategy import solve_model

    root = pyo.ConcreteModel()
    root.lm = LinearModel()
    for name, price in (("a", 100.0), ("b", 200.0)):
        c = _config(4)
        c["nodes"][0]["tariff"] = price
        c["horizon"]["probability"] = 0.5
        root.add_component(name, pyo.Block())
        suandian.build_model(scenario(c), parent=getattr(root, name), lm=root.lm, prefix=f"{name}.")
    info = solve_model(root, SolveOptions(mip_rel_gap=0.0), {})
    assert info.objective == pytest.approx(2310.0)
    a, b = Result.from_model(root.a, info), Result.from_model(root.b, info)
    assert a.objective == pytest.approx(770.0)
    assert b.objective == pytest.approx(1540.0)
    assert a.objective + b.objective == pytest.approx(info.objective)
    assert a.certify() == [] and b.certify() == []


def test_annuity_of_a_capacity():
    """``capex * r / (1 - (1 + r)^-n) + O&M``: 1,000 at r = 0.1, n = 2 is
    ``1,000 * 0.1 * 1.21 / 0.21 = 576.19``, plus 10 O&M; at r = 0 it is ``capex / n``."""
    cap = Capacity(
        max=1, capex_per_unit=1000, lifetime_years=2, discount_rate=0.1, fixed_om_per_unit_year=10
    )
    assert cap.annuity() == pytest.approx(1000 * 0.1 * 1.21 / 0.21 + 10)
    assert Capacity(max=1, capex_per_unit=1000, lifetime_years=4).annuity() == 250.0


def test_battery_energy_and_power_chosen_by_the_model():
    """Two 1-h periods at 100 and 300 CNY/MWh, a lossless battery starting empty.

    Each MWh moved from period 1 to period 2 saves 200 CNY and needs 1 MWh of energy and
    1 MW of power (charge and discharge within an hour). Over the 2-h horizon a MWh of
    energy costs ``capex * (1 / n) * 2 / 8760 = 219,000 / 1 * 2 / 8760 = 50`` CNY and a MW
    of power ``43,800 * 2 / 8760 = 10`` CNY: 60 < 200, so the battery takes the whole
    period-2 load, 3.85 MWh (it cannot export), and no more. Cost: period 1 load and charge
    ``2 * 3.85 * 100 = 770``, period 2 nothing from the grid, capex ``3.85 * (50 + 10) =
    231``; total 1,001 CNY (1,540 without a battery). Charge and discharge are exclusive
    (a binary times the chosen power: the exact linearisation of ``fb.switched``).
    """
    c = _config(2)
    c["nodes"][0]["tariff"] = "price"
    c["storage"] = [
        {
            "name": "b1",
            "site": "s1",
            "power": {
                "extendable": True,
                "max": 10.0,
                "capex_per_unit": 43800.0,
                "lifetime_years": 1,
            },
            "energy": {
                "extendable": True,
                "max": 50.0,
                "capex_per_unit": 219000.0,
                "lifetime_years": 1,
            },
            "eta_charge": 1.0,
            "eta_discharge": 1.0,
            "soc_initial": 0.0,
            "no_simultaneous": True,
        }
    ]
    result = solve_ok(c, _series(price=[100.0, 300.0]))
    ds = result.ds
    assert float(ds["storage_energy_built"].sel(storage="b1")) == pytest.approx(LOAD)
    assert float(ds["storage_energy"].sel(storage="b1")) == pytest.approx(LOAD)
    assert float(ds["storage_power"].sel(storage="b1")) == pytest.approx(LOAD)
    assert result.costs["storage_energy_capex"] == pytest.approx(50.0 * LOAD)
    assert result.costs["storage_power_capex"] == pytest.approx(10.0 * LOAD)
    assert result.objective == pytest.approx(1001.0)


def test_the_certifier_judges_bounds_against_the_chosen_capacity():
    """The plan of the previous case with the chosen energy cut to 3 MWh: the state of
    charge 3.85 MWh now exceeds it (``stor.e_soc.bounds``)."""
    c = _config(2)
    c["nodes"][0]["tariff"] = "price"
    c["storage"] = [
        {
            "name": "b1",
            "site": "s1",
            "power": 10.0,
            "energy": {"max": 50.0, "capex_per_unit": 219000.0, "lifetime_years": 1},
            "eta_charge": 1.0,
            "eta_discharge": 1.0,
            "soc_initial": 0.0,
        }
    ]
    result = solve_ok(c, _series(price=[100.0, 300.0]))
    ds = result.ds.copy(deep=True)
    ds["storage_energy"][:] = 3.0
    checks = {v.check for v in suandian.certify(ds)}
    assert "stor.e_soc.bounds" in checks


def test_weights_in_heat_sales_network_charge_green_share_and_pue_cap():
    """Two 1-h periods, weights (1, 3): grid 100 and 200 CNY/MWh, network charge 50 CNY/MWh,
    heat sold at 150 CNY/MWh, a 50 % green share (horizon basis) met with certificates at
    10 CNY/MWh and a PUE cap of 1.0 priced at 100 CNY per MWh above it.

    The site of ``test_thermal.with_heat_recovery``: facility 3.6575 MW, IT 3.5 MW (PUE
    1.045), at most 0.8 * 1.75 = 1.4 MW drawn from the liquid loop, so 2.1 MW of heat
    delivered at COP 3 (0.7 MW of heat-pump electricity, outside the PUE boundary). A MWh of
    heat costs at most ``(200 + 50 + 0.5 * 10) / 3 = 85 < 150`` CNY: 2.1 MW sold in both.
    Intake 3.6575 + 0.7 = 4.3575 MW; the horizon stands for ``1 + 3 = 4`` h.

    * grid ``1 * 100 * 4.3575 + 3 * 200 * 4.3575 = 435.75 + 2,614.5 = 3,050.25``
    * network ``50 * 4 * 4.3575 = 871.5``
    * heat sales ``-150 * 4 * 2.1 = -1,260``
    * certificates (a horizon term, not weighted) ``10 * 0.5 * 17.43 = 87.15``
    * PUE excess (over the weighted sums) ``100 * 4 * (3.6575 - 1.0 * 3.5) = 63``

    Total 2,811.9 CNY; the books and the certifier recompute every figure with the weights
    (consumption 4 * 4.3575 = 17.43 MWh, green share 0.5, heat reused 4 * 1.4 = 5.6 MWh).
    """
    c = _heat_site()
    c["nodes"][0]["tariff"] = "price"
    c["nodes"][0]["network_charge"] = 50.0
    c["horizon"]["weights"] = "w"
    c["policies"] = {
        "green_share": {"target": 0.5},
        "pue": {"cap": 1.0, "excess_price": 100.0},
    }
    c["certificates"] = {"price": 10.0}
    series = _series(
        price=[100.0, 200.0], w=[1.0, 3.0], heat_demand=[3.0, 3.0], heat_price=[150.0, 150.0]
    )
    r = solve_ok(c, series)
    assert r.ds["q_heat"].sel(recovery="hp").values == pytest.approx([2.1, 2.1], abs=1e-7)
    assert r.costs["grid_energy"] == pytest.approx(3050.25)
    assert r.costs["network"] == pytest.approx(871.5)
    assert r.costs["heat_sales"] == pytest.approx(-1260.0)
    assert r.costs["certificates"] == pytest.approx(87.15)
    assert r.costs["pue_budget_excess"] == pytest.approx(63.0)
    assert r.objective == pytest.approx(2811.9)
    assert r.kpis["consumption_mwh"]["s1"] == pytest.approx(17.43)
    assert r.kpis["green_share"]["s1"] == pytest.approx(0.5)
    assert r.kpis["pue"]["s1"] == pytest.approx(1.045)
    assert r.kpis["heat_reused_mwh"] == pytest.approx(4 * 1.4)


def _heat_site() -> dict:
    """The site of ``test_thermal.with_heat_recovery`` on 2 periods (see the test above)."""
    c = base_config(2)
    c["sites"][0]["cooling"] = {
        "ambient": 10.0,
        "t_free": 12.0,
        "t_mech": 20.0,
        "cop_free": 25.0,
        "liquid_fraction": 0.5,
        "liquid_t_free": 25.0,
        "liquid_cop_free": 20.0,
    }
    c["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    c["heat_recovery"] = [
        {
            "name": "hp",
            "site": "s1",
            "capacity": 2.5,
            "cop": 3.0,
            "recovery_fraction": 0.8,
            "demand": "heat_demand",
            "price": "heat_price",
        }
    ]
    return c


def test_every_family_builds_with_weights():
    """The default day (grid, renewables, corridor and contracts, batteries, tanks, dc with
    placement and migration, DR, reserves, backup, the bill, green share, PUE and 绿电直连
    targets), with a market-based carbon price and a job restart cost added, builds with
    weights, also as the diagnosis's relaxed model: every cost term states what it is."""
    import yaml
    from conftest import DEFAULT_SCENARIO

    raw = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    raw["horizon"]["weights"] = 2.0
    raw["policies"].update(carbon_price=80.0, carbon_basis="market")
    raw["batch"][1].update(restart_cost=100.0, min_rate=8000.0)
    sc = suandian.load_scenario(raw, base_dir=DEFAULT_SCENARIO.parent)
    for options in ({}, {"shortfall_penalty": 1e4, "compute_shortfall_penalty": 1e4}):
        m = suandian.build_model(sc, pyomo=False, **options)
        assert m.built.lm.n_cols > 0


def _chosen_battery(**fields) -> dict:
    """The battery of ``test_battery_energy_and_power_chosen_by_the_model``."""
    unit = {
        "name": "b1",
        "site": "s1",
        "power": {"max": 10.0, "capex_per_unit": 43800.0, "lifetime_years": 1},
        "energy": {"max": 50.0, "capex_per_unit": 219000.0, "lifetime_years": 1},
        "eta_charge": 1.0,
        "eta_discharge": 1.0,
        "soc_initial": 0.0,
        "no_simultaneous": True,
    }
    return unit | fields


def test_a_chosen_battery_hands_its_choice_and_charge_to_the_next_window():
    """The plan of ``test_battery_energy_and_power_chosen_by_the_model`` (1,001 CNY) after
    period 1: 3.85 MWh stored in a battery of 3.85 MWh and 3.85 MW chosen.

    The second window (period 2 alone, end rule the horizon's: back to 0) holds the choice
    (``min = max``: its annuity is charged for the window's hour, ``3.85 * (25 + 5) = 115.5``
    CNY) and starts full (``soc_initial = 3.85 / 3.85 = 1``): the battery serves the 3.85 MWh
    load, no grid. 115.5 CNY is the single plan's cost of period 2, ``1,001 - 770 - 115.5``
    of capex in period 1.
    """
    c = _config(2)
    c["nodes"][0]["tariff"] = "price"
    c["storage"] = [_chosen_battery()]
    series = _series(price=[100.0, 300.0])
    full = scenario(c, series)
    r = suandian.solve(full, mip_rel_gap=0.0)
    state = r.final_state(period=0)
    assert state["stor"]["b1"] == {
        "soc_mwh": pytest.approx(LOAD),
        "energy_mwh": pytest.approx(LOAD),
        "power_mw": pytest.approx(LOAD),
    }
    second = full.window(1, 1).with_state(state)
    bat = second.config.storage[0]
    assert bat.energy.min == bat.energy.max == pytest.approx(LOAD)
    assert bat.power.min == bat.power.max == pytest.approx(LOAD)
    assert bat.soc_initial == pytest.approx(1.0)
    r2 = suandian.solve(second, mip_rel_gap=0.0)
    assert r2.objective == pytest.approx(115.5)
    assert float(r2.ds["p_grid"].sum()) == pytest.approx(0.0, abs=1e-7)
    assert r2.certify() == []


def test_a_chosen_battery_energy_that_cannot_reach_its_end_state_is_diagnosed():
    """A 1-MW battery (eta 0.95) of chosen energy K in [5, 10] MWh from 0.1 K to 0.9 K in
    4 h: it reaches at most ``0.1 K + 4 * 0.95 = 0.1 K + 3.8``, short by ``0.8 K - 3.8 >= 0.2``
    MWh (K = 5). The data check skips a chosen energy (the need moves with it); the relaxed
    re-solve names the battery, 0.2 MWh short, without a traceback.
    """
    c = _config(4)
    c["storage"] = [
        _chosen_battery(
            power=1.0,
            energy={"min": 5.0, "max": 10.0},
            eta_charge=0.95,
            soc_initial=0.1,
            soc_final=0.9,
            no_simultaneous=False,
        )
    ]
    r = suandian.solve(scenario(c))
    assert r.status == "infeasible"
    d = r.diagnosis
    assert "battery 'b1': soc_final 0.9 (of the chosen energy) cannot be reached" in str(d)
    assert d.shortfalls == {"soc_final_b1": pytest.approx(0.2)}


def _chosen_pv(**fields) -> dict:
    """A PV array at site s1, profile (1, 0), capacity chosen in [0, 10] MW at 50 CNY per MW
    over the 2-h horizon (``219,000 / 1 year * 2 / 8,760``), pay-as-produced at price 0."""
    pv = {
        "name": "pv",
        "site": "s1",
        "capacity": {"max": 10.0, "capex_per_unit": 219000.0, "lifetime_years": 1},
        "profile": "solar",
        "price": 0.0,
    }
    return pv | fields


@pytest.mark.parametrize(
    ("fields", "built", "exported", "objective"),
    [
        ({}, LOAD, 0.0, 577.5),
        ({"contract": "take_or_pay", "price": 30.0}, LOAD, 0.0, 693.0),
        ({"export_price": 60.0}, 10.0, 10.0 - LOAD, 516.0),
    ],
    ids=["pay_as_produced", "take_or_pay", "export"],
)
def test_renewable_capacity_chosen_by_the_model(fields, built, exported, objective):
    """Two 1-h periods, grid 100 CNY/MWh, load 3.85 MW; PV of chosen capacity K, profile
    (1, 0): K MW available in period 1 only, nothing in period 2.

    * Pay-as-produced at price 0: each MW up to the load saves 100 CNY in period 1 and
      costs 50 CNY of capex (< 100), a MW more saves nothing: K = 3.85. Cost: period 2 from
      the grid ``3.85 * 100 = 385``, capex ``3.85 * 50 = 192.5``: 577.5 CNY (770 without
      PV).
    * Take-or-pay at 30 CNY/MWh on the available energy (``K * 1 h``): a MW costs
      ``50 + 30 = 80 < 100``: K = 3.85; ``385 + 3.85 * 80 = 693`` CNY.
    * Export at 60 CNY/MWh: a MW beyond the load earns 60 > 50: K = 10 (its max), 6.15 MW
      exported in period 1 (within ``p + x <= K * 1``); ``385 + 10 * 50 - 6.15 * 60 = 516``.
    """
    c = _config(2)
    c["renewables"] = [_chosen_pv(**fields)]
    result = solve_ok(c, _series(solar=[1.0, 0.0]))
    ds = result.ds
    assert float(ds["renewable_capacity_built"].sel(renewable="pv")) == pytest.approx(built)
    assert float(ds["renewable_capacity"].sel(renewable="pv")) == pytest.approx(built)
    avail = ds["p_renewable_available"].sel(renewable="pv").values
    assert avail == pytest.approx([built, 0.0])
    assert result.costs["renewable_capacity_capex"] == pytest.approx(50.0 * built)
    energy = result.kpis["energy_mwh"]
    assert energy["renewables_curtailed"] == pytest.approx(0.0, abs=1e-6)
    assert energy.get("renewables_exported", 0.0) == pytest.approx(exported, abs=1e-6)
    assert result.objective == pytest.approx(objective)


def test_the_certifier_judges_renewables_against_the_chosen_capacity():
    """The plan of the pay-as-produced case (K = 3.85 MW, 3.85 MW used in period 1) with the
    chosen capacity cut to 3 MW: the use exceeds ``3 * 1`` (``res.p_renewable_max``) and
    the recorded available power is not ``3 * profile`` (``res.available``)."""
    c = _config(2)
    c["renewables"] = [_chosen_pv()]
    result = solve_ok(c, _series(solar=[1.0, 0.0]))
    ds = result.ds.copy(deep=True)
    ds["renewable_capacity"][:] = 3.0
    checks = {v.check for v in suandian.certify(ds)}
    assert {"res.p_renewable_max", "res.available"} <= checks


def test_a_chosen_renewable_capacity_is_handed_to_the_next_window():
    """The pay-as-produced case of ``test_renewable_capacity_chosen_by_the_model`` (K = 3.85
    MW) after period 1: the state carries K; the second window (period 2, profile 0) holds
    it (``min = max = 3.85``) and pays its annuity for one hour, ``3.85 * 25 = 96.25``, plus
    the load from the grid, ``3.85 * 100 = 385``: 481.25 CNY."""
    c = _config(2)
    c["renewables"] = [_chosen_pv()]
    full = scenario(c, _series(solar=[1.0, 0.0]))
    state = suandian.solve(full, mip_rel_gap=0.0).final_state(period=0)
    assert state["res"]["pv"] == {"capacity_mw": pytest.approx(LOAD)}
    second = full.window(1, 1).with_state(state)
    cap = second.config.renewables[0].capacity
    assert cap.min == cap.max == pytest.approx(LOAD)
    r2 = suandian.solve(second, mip_rel_gap=0.0)
    assert r2.objective == pytest.approx(385.0 + 3.85 * 25.0)
    assert r2.certify() == []
