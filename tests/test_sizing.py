"""Capacity planning on the dispatch model: chosen capacities of every family that has one,
lumps, and the sizing outputs (``docs/math/run_modes.md``, "Capacity as a decision").

Every case is the base site of ``conftest.base_config`` serving 15 units: two blocks on
(IT ``2 * 1 + 0.1 * 15 = 3.5`` MW), facility ``1.1 * 3.5 = 3.85`` MW in every period.
An annuity of ``capex / 1 year`` charged over a 2-h horizon is ``capex * 2 / 8,760``: a
capex of 219,000 CNY per unit is 50 CNY per unit over the horizon, 43,800 is 10.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import (
    STEADY_LOAD_MW,
    hourly_series,
    scenario,
    solve_ok,
    steady_load_config,
)

import suandian
from suandian.component import Capacity

LOAD = STEADY_LOAD_MW  # MW of facility power, every period
_config, _series = steady_load_config, hourly_series


def _battery(energy: dict, power: float | dict = 10.0) -> dict:
    return {
        "name": "b1",
        "site": "s1",
        "power": power,
        "energy": energy,
        "eta_charge": 1.0,
        "eta_discharge": 1.0,
        "soc_initial": 0.0,
    }


# ----------------------------------------------------------------------------- lumps
def test_lump_bounds_and_refusals():
    """``ceil(min / size) .. floor(max / size)``: min 3, max 10, size 2 gives 2 .. 5 lumps;
    max 6 = 3 lumps exactly (no rounding down to 2). No lump in 3 .. 3.5 at size 2 is an
    error naming unit_size; so is min > max."""
    assert Capacity(min=3, max=10, unit_size=2).lump_bounds() == (2.0, 5.0)
    assert Capacity(max=0.6, unit_size=0.2).lump_bounds() == (0.0, 3.0)
    with pytest.raises(ValueError, match="unit_size 2"):
        Capacity(min=3, max=3.5, unit_size=2)
    with pytest.raises(ValueError, match="min 5 > max 1"):
        Capacity(min=5, max=1)


def test_battery_energy_in_lumps():
    """Two 1-h periods at 100 and 300 CNY/MWh, a lossless battery starting empty, power
    10 MW fixed, energy chosen in lumps of 2 MWh at 50 CNY per MWh over the horizon.

    A MWh moved from period 1 to period 2 saves 200 CNY; at most the period-2 load, 3.85
    MWh, can be moved (no export). With E = 2n MWh: moved ``m = min(2n, 3.85)``, cost
    ``1,540 - 200 m + 50 * 2n``. n = 0: 1,540; n = 1: ``1,540 - 400 + 100 = 1,240``;
    n = 2: ``1,540 - 770 + 200 = 970``; n = 3: ``1,540 - 770 + 300 = 1,070``. So n = 2
    (4 MWh, 0.15 MWh of it idle), 970 CNY; continuous it would be 3.85 MWh and 962.5 CNY.
    """
    c = _config(2)
    c["nodes"][0]["tariff"] = "price"
    c["storage"] = [
        _battery({"max": 20.0, "capex_per_unit": 219000.0, "lifetime_years": 1, "unit_size": 2})
    ]
    result = solve_ok(c, _series(price=[100.0, 300.0]))
    ds = result.ds
    assert int(ds["storage_energy_units"].sel(storage="b1")) == 2
    assert float(ds["storage_energy"].sel(storage="b1")) == pytest.approx(4.0)
    assert result.costs["storage_energy_capex"] == pytest.approx(200.0)
    assert result.objective == pytest.approx(970.0)


def test_the_certifier_judges_lumps_and_the_chosen_capacity():
    """The plan of the lumps case with the built energy set to 3 MWh (not 2 x 2 MWh): the
    lump row fails (``stor.storage_energy_lumps``) and the capacity is no longer existing +
    built (``stor.storage_energy_def``)."""
    c = _config(2)
    c["nodes"][0]["tariff"] = "price"
    c["storage"] = [
        _battery({"max": 20.0, "capex_per_unit": 219000.0, "lifetime_years": 1, "unit_size": 2})
    ]
    result = solve_ok(c, _series(price=[100.0, 300.0]))
    ds = result.ds.copy(deep=True)
    ds["storage_energy_built"][:] = 3.0
    checks = {v.check for v in suandian.certify(ds)}
    assert {"stor.storage_energy_lumps", "stor.storage_energy_def"} <= checks


def test_a_lump_that_does_not_fit_is_refused_at_load():
    """``unit_size: 4`` with ``min: 1``, ``max: 3``: no whole lump fits (0 is below min);
    the loader names the field and the fix."""
    c = _config(2)
    c["storage"] = [_battery({"min": 1.0, "max": 3.0, "unit_size": 4.0})]
    with pytest.raises(suandian.ScenarioError, match="unit_size"):
        scenario(c)


# ----------------------------------------------------------------------------- tanks
def _tank_case(capex: float) -> tuple[dict, pd.DataFrame]:
    """``test_thermal``'s day: prices [100, 1000] CNY/MWh, COP [10, 5] (k_chw [0.1, 0.2]),
    charge factor 1.5; the tank's capacity chosen in [0, 10] MWh."""
    cfg = _config(2)
    cfg["nodes"][0]["tariff"] = "price"
    cfg["sites"][0]["cooling"] = {"cop": "cop"}
    cfg["thermal_storage"] = [
        {
            "name": "tank",
            "site": "s1",
            "capacity": {"max": 10.0, "capex_per_unit": capex, "lifetime_years": 1},
            "charge_max": 5.0,
            "discharge_max": 10.0,
            "charge_factor": 1.5,
            "soc_initial": 0.0,
        }
    ]
    return cfg, _series(price=[100.0, 1000.0], cop=[10.0, 5.0])


@pytest.mark.parametrize(
    ("capex", "built", "objective"),
    [(219000.0, 3.5, 4112.5), (876000.0, 0.0, 4585.0)],
    ids=["pays", "too_dear"],
)
def test_tank_capacity_chosen_by_the_model(capex, built, objective):
    """A MWh of cold made in t0 costs ``100 * 0.1 * 1.5 = 15`` CNY and saves ``1000 * 0.2 =
    200`` CNY in t1; the tank absorbs at most the air-path heat of t1, 3.5 MW (row
    ``cold_load``), so at most 3.5 MWh are worth storing.

    * capex 219,000 CNY/MWh over 1 year: 50 CNY per MWh over the 2-h horizon; ``200 - 15 -
      50 = 135 > 0``: E = 3.5 MWh. Objective: ``test_thermal``'s 3,937.5 plus capex ``3.5 *
      50 = 175``: 4,112.5 CNY.
    * capex four times that, 200 CNY per MWh: ``200 - 15 - 200 < 0``: no tank, the day
      without it, 4,585 CNY.
    """
    cfg, series = _tank_case(capex)
    r = solve_ok(cfg, series)
    ds = r.ds
    assert float(ds["tes_capacity"].sel(tes="tank")) == pytest.approx(built, abs=1e-7)
    assert float(ds["tes_capacity_built"].sel(tes="tank")) == pytest.approx(built, abs=1e-7)
    assert r.costs.get("tes_capacity_capex", 0.0) == pytest.approx(built * capex / 4380, abs=1e-6)
    assert r.objective == pytest.approx(objective)


def test_the_certifier_judges_the_tank_against_the_chosen_capacity():
    """The ``pays`` plan (3.5 MWh stored at the end of t0) with the chosen capacity cut to
    3 MWh: the stock exceeds it (``thermal.e_cold.bounds``) and the capacity is no longer
    existing + built (``thermal.tes_capacity_def``)."""
    cfg, series = _tank_case(219000.0)
    ds = solve_ok(cfg, series).ds.copy(deep=True)
    ds["tes_capacity"][:] = 3.0
    checks = {v.check for v in suandian.certify(ds)}
    assert {"thermal.e_cold.bounds", "thermal.tes_capacity_def"} <= checks


def test_a_chosen_tank_is_handed_to_the_next_window():
    """The ``pays`` case after period 1: the state carries the choice (3.5 MWh) and the cold
    (3.5 MWh); the second window holds the capacity (``min = max = 3.5``), starts full
    (``soc_initial = 1``), pays one hour of annuity ``3.5 * 25 = 87.5`` and the facility at
    the saving: IT 3.5 MW, cooling ``3.5 * 0.2 - 0.7 = 0``, at 1,000 CNY/MWh: 3,500. Total
    3,587.5 CNY."""
    cfg, series = _tank_case(219000.0)
    full = scenario(cfg, series)
    state = suandian.solve(full, mip_rel_gap=0.0).final_state(period=0)
    assert state["thermal"]["tank"] == {
        "cold_mwh": pytest.approx(3.5),
        "capacity_mwh": pytest.approx(3.5),
    }
    second = full.window(1, 1).with_state(state)
    cap = second.config.thermal_storage[0].capacity
    assert cap.min == cap.max == pytest.approx(3.5)
    assert second.config.thermal_storage[0].soc_initial == pytest.approx(1.0)
    r2 = suandian.solve(second, mip_rel_gap=0.0)
    assert r2.objective == pytest.approx(3587.5)
    assert r2.certify() == []


# ----------------------------------------------------------------------------- corridor
def _corridor_case(contract) -> tuple[dict, pd.DataFrame]:
    """Grid [100, 300] CNY/MWh at n1; a lossless corridor from n2 (no sites) at 80 CNY/MWh
    sent, 10 MW available, its contract MW ``contract``."""
    cfg = _config(2)
    cfg["nodes"][0]["tariff"] = "price"
    cfg["nodes"].append({"name": "n2", "tariff": 0.0, "emission_factor": 0.0})
    cfg["corridors"] = [
        {
            "name": "line",
            "from_node": "n2",
            "to_node": "n1",
            "capacity": 10.0,
            "source_price": 80.0,
            "contract_mw": contract,
        }
    ]
    return cfg, _series(price=[100.0, 300.0])


#: the contract-MW cases shared by corridors and green contracts (same prices, same load):
#: fixed at 2 MW, chosen at a fee that pays (the whole load), chosen at one too dear (none)
CONTRACT_MW_CASES = pytest.mark.parametrize(
    ("contract", "mw", "objective"),
    [
        (2.0, 2.0, 1060.0),
        ({"max": 20.0, "fixed_om_per_unit_year": 219000.0}, LOAD, 808.5),
        ({"max": 20.0, "fixed_om_per_unit_year": 1095000.0}, 0.0, 1540.0),
    ],
    ids=["fixed_2mw", "chosen_pays", "chosen_too_dear"],
)


@CONTRACT_MW_CASES
def test_corridor_contract_mw(contract, mw, objective):
    """A MW of corridor contract saves ``100 - 80 = 20`` CNY in t1 and ``300 - 80 = 220`` in
    t2 (240 over the day) on the load, 3.85 MW; more than the load is worth nothing.

    * Fixed at 2 MW: 2 MW sent in both hours, the rest from the grid: ``80 * 4 + 1.85 *
      (100 + 300) = 1,060`` CNY.
    * Chosen, fee 219,000 CNY per MW and year = 50 CNY per MW over the 2-h day (``219,000 *
      2 / 8,760``): ``240 > 50``, K = 3.85 MW: ``80 * 7.7 + 3.85 * 50 = 616 + 192.5 = 808.5``.
    * Chosen, fee five times that (250 per MW over the day > 240): no contract, all from the
      grid: ``3.85 * 400 = 1,540``.
    """
    cfg, series = _corridor_case(contract)
    r = solve_ok(cfg, series)
    ds = r.ds
    assert float(ds["corridor_contract_mw"].sel(corridor="line")) == pytest.approx(mw, abs=1e-7)
    sent = ds["p_send"].sel(corridor="line").sum("site").values
    assert sent == pytest.approx([mw, mw], abs=1e-7)
    assert r.objective == pytest.approx(objective)


# ----------------------------------------------------------------------------- declared demand
def _declared_case(**charge) -> dict:
    """Flat 3.85 MW at n1 (100 CNY/MWh, 4 h from the month start 2026-07-01: the whole
    month's demand charge is the plan's), demand charge rate 10 CNY/kW·month."""
    c = _config(4)
    c["horizon"]["start"] = "2026-07-01 00:00"
    c["nodes"][0]["demand_charge"] = {"kind": "demand", "rate": 10.0} | charge
    return c


@pytest.mark.parametrize(
    ("charge", "declared", "demand"),
    [
        ({"declared_mw": "chosen"}, 3.85 / 1.05, 10000.0 * 3.85 / 1.05),
        (
            {"declared_mw": "chosen", "floor_share": 0.4, "capacity_kva": 20000.0},
            8.0,
            80000.0,
        ),
    ],
    ids=["below_the_peak", "at_the_floor"],
)
def test_declared_demand_chosen_by_the_model(charge, declared, demand):
    """The month's bill of a declared D with the peak P = 3.85 MW: ``10,000 D + 2 * 10,000 *
    max(0, P - 1.05 D)`` (CNY; rate 10 CNY/kW = 10,000 CNY/MW, the excess above 105 % at
    twice the rate). Below ``P / 1.05`` one more MW declared saves ``21,000 - 10,000``,
    above it costs 10,000: D = 3.85 / 1.05 = 3.667 MW, the bill 36,667 CNY (not 38,500, the
    peak billed or declared at it). With a floor of 40 % of 20,000 kVA = 8 MW, D >= 8:
    80,000 CNY. The energy is ``4 * 3.85 * 100 = 1,540`` CNY in both.
    """
    r = solve_ok(_declared_case(**charge))
    assert float(r.ds["d_declared"].sel(meter="n1").item()) == pytest.approx(declared)
    assert r.costs["demand"] == pytest.approx(demand)
    assert r.objective == pytest.approx(1540.0 + demand)


def test_the_certifier_restates_the_chosen_declared_demand():
    """The ``below_the_peak`` plan with the declared value raised to 3.8 MW: the excess row
    restated from it (``3.85 - 1.05 * 3.8 < 0``) still holds, but the billed demand 3.667 is
    below the declaration (``bill.demand_declared``)."""
    ds = solve_ok(_declared_case(declared_mw="chosen")).ds.copy(deep=True)
    ds["d_declared"][:] = 3.8
    checks = {v.check for v in suandian.certify(ds)}
    assert "bill.demand_declared" in checks


def test_a_chosen_declared_demand_needs_kind_demand():
    """``declared_mw: chosen`` with kind ``choose``: refused, naming the field and the fix."""
    c = _declared_case(
        kind="choose", declared_mw="chosen", capacity_kva=20000.0, capacity_rate=20.0
    )
    with pytest.raises(suandian.ScenarioError, match="declared_mw 'chosen' applies to kind"):
        scenario(c)


# ----------------------------------------------------------------------------- representative days
def test_roll_within_wraps_each_block():
    """(1, 4) cells x0..x3 in blocks of 2: the previous of (x0, x1, x2, x3) is (x1, x0, x3,
    x2); constants roll the same way."""
    from suandian.linear import Expr

    e = Expr.cells((1, 4), np.arange(4), np.arange(4)) + np.array([[1.0, 2.0, 3.0, 4.0]])
    r = e.roll_within(1, 2)
    assert r.value(np.array([10.0, 20.0, 30.0, 40.0])).tolist() == [[22.0, 11.0, 44.0, 33.0]]


def test_a_battery_wraps_around_within_each_representative_day():
    """Two representative days of two 1-h periods (``cycle_periods: 2``), weights 3 and 1:
    day A prices (100, 300), day B (300, 100); load 3.85 MW; a lossless 10 MW / 10 MWh
    battery of fixed size.

    Within a day the state wraps around: day B's first hour starts from day B's end. So
    day A charges 3.85 MWh in its first hour and serves its second, day B charges in its
    second hour and serves its first. Cost ``3 * (100 * 7.7) + 1 * (100 * 7.7) = 2,310 +
    770 = 3,080`` CNY (6,160 without the battery). The state at the end of day B's second
    hour is 3.85 MWh (what its first hour used), at the end of its first 0.
    """
    c = _config(4)
    c["nodes"][0]["tariff"] = "price"
    c["horizon"]["weights"] = "w"
    c["horizon"]["cycle_periods"] = 2
    c["storage"] = [_battery(10.0, 10.0) | {"soc_initial": 0.5, "soc_final": 0.9}]
    r = solve_ok(c, _series(price=[100.0, 300.0, 300.0, 100.0], w=[3.0, 3.0, 1.0, 1.0]))
    assert r.ds.attrs["cycle_periods"] == 2
    assert r.ds["e_soc"].sel(storage="b1").values == pytest.approx([3.85, 0.0, 0.0, 3.85])
    assert r.objective == pytest.approx(3080.0)
    ds = r.ds.copy(deep=True)  # the chained reading (no wrap) breaks day B's balance
    del ds.attrs["cycle_periods"]
    assert "stor.e_soc_balance" in {v.check for v in suandian.certify(ds)}


def test_representative_days_of_repeating_days():
    """Four days, days 0 and 2 alike (a flat 1), days 1 and 3 alike (a ramp 0..23): two
    representative days, day 0 and day 1, two days each; each day maps to its like."""
    from suandian.scenario.representative import WEIGHT, representative_days

    flat, ramp = np.ones(24), np.arange(24.0)
    index = pd.date_range("2026-01-01", periods=96, freq="1h")
    frame = pd.DataFrame({"x": np.concatenate([flat, ramp, flat, ramp])}, index=index)
    rep = representative_days(frame, 2)
    assert list(rep.days) == [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-01-02")]
    assert rep.weights.tolist() == [2.0, 2.0]
    assert rep.assignment.tolist() == [0, 1, 0, 1]
    assert rep.expand(np.concatenate([flat, ramp])).tolist() == frame["x"].tolist()
    raw, series = rep.scenario(_config(1), frame)
    assert raw["horizon"]["periods"] == 48 and raw["horizon"]["cycle_periods"] == 24
    assert series[WEIGHT].tolist() == [2.0] * 48
    with pytest.raises(ValueError, match="within 1 .. 4"):
        representative_days(frame, 5)


# ----------------------------------------------------------------------------- 24/7 CFE
def _cfe_case(score: float | None) -> tuple[dict, pd.DataFrame]:
    """Two 1-h periods, grid 100 CNY/MWh with grid_cfe 0.5, load 3.85 MW; PV chosen at 50
    CNY/MW over the horizon with profile (1, 0); a lossless 10 MW battery whose energy is
    chosen at 100 CNY/MWh over the horizon (capex 438,000, 1 year)."""
    c = _config(2)
    c["nodes"][0]["grid_cfe"] = 0.5
    c["renewables"] = [
        {
            "name": "pv",
            "site": "s1",
            "capacity": {"max": 20.0, "capex_per_unit": 219000.0, "lifetime_years": 1},
            "profile": "solar",
            "price": 0.0,
        }
    ]
    c["storage"] = [
        _battery({"max": 20.0, "capex_per_unit": 438000.0, "lifetime_years": 1})
        | {"soc_final": "free"}
    ]
    if score is not None:
        c["policies"]["cfe"] = {"score": score}
    return c, _series(solar=[1.0, 0.0])


def test_a_cfe_score_target_and_its_marginal_cost():
    """PV of K MW covers the load in period 1 (each MW saves 100 CNY, costs 50) and charges
    the battery with c MWh for period 2: a shifted MWh costs 50 (PV) + 100 (battery) and
    saves 100 of grid, +50 net, so without a target c = 0, K = 3.85: ``385 + 192.5 =
    577.5`` CNY; carbon-free energy ``3.85 + 0.5 * 3.85 = 5.775`` of 7.7 MWh consumed (75 %).

    Score 0.9: carbon-free energy ``3.85 + c`` (PV used, into the load and the battery, in
    period 1) ``+ 0.5 * (3.85 - c)`` (the grid's carbon-free half in period 2) ``>= 0.9 *
    7.7 = 6.93`` (the lossless battery ends empty: nothing consumed beyond the 7.7 MWh of
    load): c = 2.31 MWh, K = 6.16 MW.
    Cost ``577.5 + 2.31 * 50 = 693`` CNY. Each MWh of carbon-free energy more needs 2 MWh
    shifted (half of it was carbon-free already): ``shadow_cfe`` = 100 CNY/MWh; a percentage
    point of score is 0.077 MWh: 7.7 CNY.
    """
    free = solve_ok(*_cfe_case(None))
    assert free.objective == pytest.approx(577.5)
    r = solve_ok(*_cfe_case(0.9))
    ds = r.ds
    assert float(ds["storage_energy"].sel(storage="b1")) == pytest.approx(2.31)
    assert float(ds["renewable_capacity"].sel(renewable="pv")) == pytest.approx(6.16)
    assert r.objective == pytest.approx(693.0)
    assert float(ds["shadow_cfe"].sel(cfe_scope="s1")) == pytest.approx(100.0)
    assert float(ds["shadow_cfe_point"].sel(cfe_scope="s1")) == pytest.approx(7.7)


def test_battery_losses_are_taken_off_the_carbon_free_energy():
    """The score-0.9 case with a lossy battery (0.9 in, 0.9 out): c MWh of PV charged in
    hour 1 stores ``0.9 c`` (the chosen energy) and delivers ``0.81 c`` in hour 2. Carbon-free
    energy ``3.85 + c + 0.5 (3.85 - 0.81 c)``, less the consumption beyond the load (the
    losses ``0.19 c``), ``>= 0.9 * 7.7``: ``5.775 + 0.405 c >= 6.93``, c = 2.85185 MWh.
    Cost ``50 (3.85 + c)`` PV ``+ 100 * 0.9 c`` battery ``+ 100 (3.85 - 0.81 c)`` grid ``=
    577.5 + 59 c = 745.76`` CNY; ``shadow_cfe = 59 / 0.405 = 145.68`` CNY/MWh; the KPI
    ``cfe_score`` is the row's share, 0.9. (A share of intake would credit the green energy
    lost in the battery: ``(5.775 + 0.595 c) / (7.7 + 0.19 c) >= 0.9`` needs only c = 2.72.)"""
    c, series = _cfe_case(0.9)
    c["storage"][0] |= {"eta_charge": 0.9, "eta_discharge": 0.9}
    r = solve_ok(c, series)
    charged = 1.155 / 0.405
    assert float(r.ds["storage_energy"].sel(storage="b1")) == pytest.approx(0.9 * charged)
    assert r.objective == pytest.approx(577.5 + 59.0 * charged)
    assert float(r.ds["shadow_cfe"].sel(cfe_scope="s1")) == pytest.approx(59.0 / 0.405)
    assert r.kpis["cfe_score"]["s1"] == pytest.approx(0.9)


def test_the_certifier_judges_the_cfe_score():
    """The score-0.9 plan judged against a score of 0.95: ``6.93 < 0.95 * 7.7 = 7.315``
    (``cfe.score_min``)."""
    ds = solve_ok(*_cfe_case(0.9)).ds.copy(deep=True)
    ds.attrs["cfe_score_target"] = 0.95
    ds["cfe_target"][:] = 0.95  # the score per scope the check reads (site_targets or score)
    assert "cfe.score_min" in {v.check for v in suandian.certify(ds)}


def test_cfe_site_targets_override_the_score():
    """``site_targets`` set a site's own score. ``{s1: null}`` with score 0.9: no 24/7 row at
    s1, the plan is the free one of ``test_a_cfe_score_target_and_its_marginal_cost``
    (577.5 CNY). ``{s1: 0.9}`` with score 0.5: the score-0.9 plan of that test (693 CNY,
    ``shadow_cfe`` 100 CNY/MWh), although the policy's own score (0.5) is below the free
    plan's 75 %. A site target naming no site, or set under scope portfolio, is refused."""
    c, series = _cfe_case(0.9)
    c["policies"]["cfe"]["site_targets"] = {"s1": None}
    off = solve_ok(c, series)
    assert off.objective == pytest.approx(577.5)
    assert np.isnan(off.ds["cfe_target"].sel(cfe_scope="s1"))
    c, series = _cfe_case(0.5)
    c["policies"]["cfe"]["site_targets"] = {"s1": 0.9}
    r = solve_ok(c, series)
    assert r.objective == pytest.approx(693.0)
    assert float(r.ds["shadow_cfe"].sel(cfe_scope="s1")) == pytest.approx(100.0)
    ds = r.ds.copy(deep=True)
    ds["cfe_target"][:] = 0.95
    assert "cfe.score_min" in {v.check for v in suandian.certify(ds)}
    c["policies"]["cfe"]["site_targets"] = {"s9": 0.9}
    with pytest.raises(suandian.ScenarioError, match="site_targets.s9"):
        scenario(c, series)
    c["policies"]["cfe"] = {"score": 0.9, "scope": "portfolio", "site_targets": {"s1": 0.9}}
    with pytest.raises(suandian.ScenarioError, match="scope 'site' only"):
        scenario(c, series)


# ----------------------------------------------------------------------------- user objective
def _with_user_peak_charge(sense=None):
    """The base day of two 1-h periods (grid 100 CNY/MWh, load 3.85 MW) built with Pyomo; the
    user adds a variable ``peak >= p_grid[s1, t]`` and the objective term ``1,000 * peak``."""
    import pyomo.environ as pyo

    model = suandian.build_model(scenario(_config(2)))
    model.peak = pyo.Var(within=pyo.NonNegativeReals)
    model.peak_def = pyo.Constraint(model.TIME, rule=lambda m, t: m.peak >= m.grid.p_grid["s1", t])
    model.user_cost = pyo.Objective(
        expr=1000.0 * model.peak, sense=pyo.minimize if sense is None else sense
    )
    return model


def test_a_user_objective_term_is_added_to_the_cost_terms():
    """Energy ``2 * 3.85 * 100 = 770`` CNY plus the user's ``1,000 * peak``, peak = 3.85 MW
    (the flat draw): 3,850; objective 4,620 CNY. The books report the user's term as
    ``user_objective`` (from the solve: the certifier cannot recompute a user variable) and
    certify the total."""
    model = _with_user_peak_charge()
    r = suandian.solve(model, mip_rel_gap=0.0)
    assert r.status == "optimal"
    assert model.peak.value == pytest.approx(LOAD)
    assert r.costs["user_objective"] == pytest.approx(3850.0)
    assert r.objective == pytest.approx(4620.0)
    assert r.certify() == []


def test_a_maximising_user_objective_is_refused():
    """suandian minimises cost: a maximising Objective is refused, naming it and the fix."""
    import pyomo.environ as pyo

    with pytest.raises(ValueError, match="user_cost.*maximises"):
        suandian.solve(_with_user_peak_charge(pyo.maximize))


# ----------------------------------------------------------------------------- the example
def test_the_24_7_cfe_example_sizes_wind_pv_and_a_battery():
    """``models/cfe_247_hami.yaml`` (24 representative days, an LP of ~4,600 columns) solves
    and certifies: every chosen capacity within its bounds, the 90 % CFE row met (the
    certifier's ``cfe.score_min``), the annualised total equal to the cost (the days stand
    for 8,760 h) and its dual positive (the target binds: without it the site would buy
    grid energy at 62.5-437.5 CNY/MWh rather than build for the last points)."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "models" / "cfe_247_hami.yaml"
    r = suandian.solve(suandian.load_scenario(path))
    assert r.status == "optimal" and r.certify() == []
    k = r.kpis
    assert set(k["capacity_chosen"]) == {
        "renewable_capacity.hami_wind",
        "renewable_capacity.hami_pv",
        "storage_power.hm_battery",
        "storage_energy.hm_battery",
    }
    assert k["cost_annualised"]["total"] == pytest.approx(r.objective, rel=1e-9)
    assert float(r.ds["shadow_cfe"].sel(cfe_scope="hm_dc")) > 0.0


def test_an_unreachable_cfe_score_is_diagnosed():
    """The 24/7 case with the battery fixed at 0 MWh: hour 2 (no sun) draws only
    the grid (carbon-free share 0.5), so the best score is ``(3.85 + 0.5 * 3.85) / 7.7 =
    75 %``; a target of 0.9 is infeasible and the diagnosis names it, 1.155 MWh short
    (``0.9 * 7.7 - 5.775``)."""
    c, series = _cfe_case(0.9)
    c["storage"][0]["energy"] = 0.0
    r = suandian.solve(scenario(c, series))
    assert r.status == "infeasible"
    assert r.diagnosis.shortfalls == {"cfe_s1": pytest.approx(1.155)}
    assert "24/7 CFE score (s1): at most 75.0% reachable against the target 90%" in str(r.diagnosis)


# ----------------------------------------------------------------------------- heat pump
@pytest.mark.parametrize(
    ("capex", "built", "objective"),
    [
        (292000.0, 2.1, 1097.25 + 260 / 3 - 390.0 + 2.1 * 100.0),
        (438000.0, 0.5, 1097.25 + 100 / 3 - 150.0 + 0.5 * 150.0),
    ],
    ids=["to_the_source_limit", "to_the_small_demand"],
)
def test_heat_pump_capacity_chosen_by_the_model(capex, built, objective):
    """``test_thermal.with_heat_recovery`` (3 h; heat demand [3, 0.5, 3] MW at [150, 150, 20]
    CNY/MWh, COP 3: a MWh delivered costs 33.33 CNY of electricity; the loop gives at most
    2.1 MW of heat delivered) with the heat pump's capacity K chosen. A MW of K delivers in
    t0 (up to 2.1) and, up to 0.5 MW, in t1: ``116.67`` CNY per MW and hour net.

    * capex 292,000 CNY/MW over 1 year = 100 CNY per MW over the 3 h: every MW up to 2.1
      pays (116.67 > 100): K = 2.1, the plan of the fixed 2.5 MW case (793.92 CNY) plus
      ``2.1 * 100``: 1,003.92 CNY.
    * capex 438,000 = 150 CNY per MW over the 3 h: only the first 0.5 MW pays (used twice:
      233.3 > 150): K = 0.5, deliveries [0.5, 0.5, 0]: facility 1,097.25, heat pump ``1 / 3
      * 100``, sales ``-150``, capex ``75``: 1,055.58 CNY.
    """
    from test_thermal import with_heat_recovery

    cfg, series = with_heat_recovery(
        capacity={"max": 5.0, "capex_per_unit": capex, "lifetime_years": 1}
    )
    r = solve_ok(cfg, series=series)
    assert float(r.ds["recovery_capacity"].sel(recovery="hp")) == pytest.approx(built)
    assert r.objective == pytest.approx(objective)
    ds = r.ds.copy(deep=True)  # the plan judged against a smaller heat pump
    ds["recovery_capacity"][:] = 0.4
    checks = {v.check for v in suandian.certify(ds)}
    assert {"thermal.q_heat_max", "thermal.recovery_capacity_def"} <= checks


def _contract_case(contract) -> tuple[dict, pd.DataFrame]:
    """The corridor case's day (grid 100 then 300 CNY/MWh, load 3.85 MW) with a green
    contract at 80 CNY/MWh, 20 MW deliverable, instead of the corridor."""
    cfg = _config(2)
    cfg["nodes"][0]["tariff"] = "price"
    cfg["green_contracts"] = [
        {"name": "hydro", "node": "n1", "capacity": 20.0, "price": 80.0, "contract_mw": contract}
    ]
    return cfg, _series(price=[100.0, 300.0])


@CONTRACT_MW_CASES
def test_green_contract_mw(contract, mw, objective):
    """The corridor contract's derivation with a green contract at the same 80 CNY/MWh: a MW
    saves ``20 + 220 = 240`` CNY over the day on the 3.85 MW load.

    * Fixed at 2 MW: ``80 * 4 + 1.85 * (100 + 300) = 1,060`` CNY.
    * Chosen, fee 219,000 CNY per MW and year = 50 CNY per MW over the 2-h day: K = 3.85
      MW, ``80 * 7.7 + 3.85 * 50 = 808.5`` (the fee, 192.5, is ``green_contract_mw_capex``).
    * Chosen, fee 250 per MW over the day (> 240): none, ``3.85 * 400 = 1,540``.
    """
    cfg, series = _contract_case(contract)
    r = solve_ok(cfg, series)
    ds = r.ds
    assert float(ds["green_contract_mw"].sel(contract="hydro")) == pytest.approx(mw, abs=1e-7)
    taken = ds["p_contract"].sel(contract="hydro").sum("site").values
    assert taken == pytest.approx([mw, mw], abs=1e-7)
    assert r.objective == pytest.approx(objective)
    if isinstance(contract, dict) and mw > 0:
        assert r.costs["green_contract_mw_capex"] == pytest.approx(50.0 * LOAD)


def test_green_energies_are_weighted_like_their_costs():
    """The contract fixed at 2 MW with the periods weighted (1, 3): the books' energy is
    ``2 * 1 + 2 * 3 = 8`` MWh (not the 4 MWh of the two modelled hours), its cost ``80 * 8 =
    640``; the grid supplies 1.85 MW: ``1.85 * (100 * 1 + 300 * 3) = 1,850``; total 2,490."""
    cfg, series = _contract_case(2.0)
    cfg["horizon"]["weights"] = "w"
    series["w"] = [1.0, 3.0]
    r = solve_ok(cfg, series)
    assert r.kpis["energy_mwh"]["green_contract"] == pytest.approx(8.0)
    assert r.costs["green_contract"] == pytest.approx(640.0)
    assert r.objective == pytest.approx(2490.0)


@pytest.mark.parametrize(
    ("case", "decision", "checks"),
    [
        (
            "corridor",
            "corridor_contract_mw",
            {"green.corridor_contract", "green.corridor_contract_mw_def"},
        ),
        (
            "green_contract",
            "green_contract_mw",
            {"green.contract_mw", "green.green_contract_mw_def"},
        ),
    ],
)
def test_the_certifier_judges_the_contract_mw(case, decision, checks):
    """The ``chosen_pays`` plan (3.85 MW sent over the corridor, or taken from the green
    contract) with the contract cut to 3 MW: what flows exceeds it (``green.corridor_contract``
    / ``green.contract_mw``), and the contract is no longer existing + built (``*_mw_def``)."""
    make = _corridor_case if case == "corridor" else _contract_case
    cfg, series = make({"max": 20.0, "fixed_om_per_unit_year": 219000.0})
    ds = solve_ok(cfg, series).ds.copy(deep=True)
    ds[decision][:] = 3.0
    assert checks <= {v.check for v in suandian.certify(ds)}


# ----------------------------------------------------------------------------- screening curve
def test_two_technologies_sized_by_the_screening_curve():
    """A base and a peak technology sized against a load-duration curve (screening curve).

    Two 1-h periods weighted (1, 3): the horizon stands for 4 h. Both blocks always on
    (``min_on: 2``), demand 20 then 0 units: facility ``1.1 * (2 + 0.1 * 20) = 4.4`` MW for
    1 h, ``1.1 * 2 = 2.2`` MW for 3 h; the load-duration curve is 2.2 MW for 4 h and 2.2 MW
    more for 1 h. Two always-available sources (profile 1), paid per MWh taken, capacity
    chosen; lifetime 1 year, so a MW costs ``capex * 4 / 8760`` over the horizon:

    * base: capex 219,000 -> F_A = 100 CNY/MW, c_A = 10 CNY/MWh;
    * peak: capex 43,800 -> F_B = 20 CNY/MW, c_B = 50 CNY/MWh;
    * the grid at 1,000 CNY/MWh (dearer than either for any hours: never used).

    A MW run h hours costs ``F + c h``: base ``100 + 10 h``, peak ``20 + 50 h``, equal at
    the break-even ``h* = (100 - 20) / (50 - 10) = 2`` h. The base slice of the curve (4 h >
    h*) goes to the base technology, the peak slice (1 h < h*) to the peak one: K_A = 2.2,
    K_B = 2.2 MW. Cost ``2.2 * 100 + 10 * 2.2 * 4 + 2.2 * 20 + 50 * 2.2 * 1 = 220 + 88 + 44
    + 110 = 462`` CNY. (All base: ``4.4 * 100 + 10 * (4.4 + 6.6) = 550``; all peak: ``4.4 *
    20 + 50 * 11 = 638``.)
    """
    c = _config(2)
    c["nodes"][0]["tariff"] = 1000.0
    c["horizon"]["weights"] = "w"
    c["sites"][0]["min_on"] = 2
    c["interactive"] = [{"name": "w", "demand": "d", "sites": ["s1"]}]
    c["renewables"] = [
        {
            "name": name,
            "site": "s1",
            "capacity": {"max": 10.0, "capex_per_unit": capex, "lifetime_years": 1},
            "profile": 1.0,
            "contract": "pay_as_produced",
            "price": price,
        }
        for name, capex, price in (("base", 219000.0, 10.0), ("peak", 43800.0, 50.0))
    ]
    r = solve_ok(c, _series(d=[20.0, 0.0], w=[1.0, 3.0]))
    capacity = r.ds["renewable_capacity"]
    assert float(capacity.sel(renewable="base")) == pytest.approx(2.2)
    assert float(capacity.sel(renewable="peak")) == pytest.approx(2.2)
    assert float(r.ds["p_grid"].sum()) == pytest.approx(0.0, abs=1e-9)
    assert r.costs["renewable_capacity_capex"] == pytest.approx(220.0 + 44.0)
    assert r.objective == pytest.approx(462.0)


# ----------------------------------------------------------------------------- pods (blocks)
#: a block's capex (servers and fit-out) 1,000,000 CNY, 6 % over 5 years, fixed O&M 20,000 CNY
#: a year: ``1.06^5 = 1.3382256``, ``CRF = 0.06 / (1 - 1 / 1.3382256) = 0.06 / 0.2527418 =
#: 0.2373964``, annuity ``237,396.4 + 20,000 = 257,396.4`` CNY per block and year; over the
#: 2-h horizon ``257,396.4 * 2 / 8,760 = 58.7663`` CNY per block
POD = {
    "max": 5.0,
    "capex_per_unit": 1_000_000.0,
    "discount_rate": 0.06,
    "lifetime_years": 5,
    "fixed_om_per_unit_year": 20_000.0,
}
POD_2H = 58.7663  # CNY per block over the 2-h horizon, as derived above


def _pods_case(demand: float, blocks: dict, **site) -> dict:
    """The base site (block: 10 units, idle 1 MW, 0.1 MW per unit, facility 1.1 x IT, 100
    CNY/MWh) over 2 h, its blocks chosen (``blocks``), serving ``demand`` units."""
    c = _config(2)
    c["interactive"] = [{"name": "w", "demand": demand, "sites": ["s1"]}]
    c["sites"][0].update(blocks=blocks, **site)
    return c


@pytest.mark.parametrize(
    ("demand", "extra", "relax", "blocks", "on", "energy"),
    [
        (20.0, {}, False, 2.0, 2.0, 880.0),
        (20.0, {"existing": 1.0}, False, 2.0, 2.0, 880.0),
        (25.0, {"unit_size": 1.0}, False, 3.0, 3.0, 1210.0),
        (25.0, {"unit_size": 2.0}, False, 4.0, 3.0, 1210.0),
        (25.0, {}, True, 2.5, 2.5, 1100.0),
    ],
    ids=["exactly_k", "one_existing", "whole_blocks_ceil", "pods_of_two", "continuous_lp"],
)
def test_blocks_chosen_by_the_model(demand, extra, relax, blocks, on, energy):
    """A steady demand at one site whose blocks are chosen at the annuity ``POD_2H`` =
    58.7663 CNY per block over the 2 h (derived above ``POD``).

    A block on draws 1 MW idle, each unit served 0.1 MW; facility ``1.1 x IT`` at 100
    CNY/MWh for 2 h: ``220 * IT`` CNY. No block beyond those the demand needs pays (each
    costs its annuity, an unneeded one on costs 220 CNY more of idle power):

    * 20 units need exactly 2 blocks: built 2, capex ``2 * 58.7663 = 117.5326``; IT ``2 +
      2 = 4`` MW, energy 880; total 997.5326. Per unit of compute: ``997.5326 / (20 * 2 h)
      = 24.9383`` CNY per unit·h.
    * The same with 1 block existing: built 1, capex 58.7663 (existing blocks pay none);
      total 938.7663.
    * 25 units need 2.5 blocks; in whole blocks (``unit_size: 1``) 3: IT ``3 + 2.5 = 5.5``
      MW, energy 1,210, capex ``3 * 58.7663 = 176.2989``; total 1,386.2989.
    * In pods of 2 blocks: 2 pods, 4 blocks installed, 3 on (a 4th on would draw 220 CNY of
      idle power): energy 1,210, capex ``4 * 58.7663 = 235.0652``; total 1,445.0652.
    * Continuous, in the LP relaxation (``relax_integers``, as an annual planning study):
      2.5 blocks, IT ``2.5 + 2.5 = 5`` MW, energy 1,100, capex ``2.5 * 58.7663 =
      146.9158``; total 1,246.9158.
    """
    r = solve_ok(_pods_case(demand, POD | extra), relax_integers=relax)
    ds = r.ds
    built = blocks - extra.get("existing", 0.0)
    assert float(ds["blocks"].sel(site="s1")) == pytest.approx(blocks, abs=1e-6)
    assert float(ds["blocks_built"].sel(site="s1")) == pytest.approx(built, abs=1e-6)
    assert ds["n_on"].sel(site="s1").values == pytest.approx([on, on], abs=1e-6)
    assert r.costs["blocks_capex"] == pytest.approx(built * POD_2H, rel=1e-6)
    assert r.objective == pytest.approx(energy + built * POD_2H, rel=1e-6)
    assert r.kpis["capacity_chosen"]["blocks.s1"] == pytest.approx(blocks, abs=1e-6)
    if not extra and not relax:
        assert r.kpis["cny_per_compute"]["portfolio"] == pytest.approx(24.9383, rel=1e-5)
    if extra.get("unit_size") == 2.0:
        assert int(ds["blocks_units"].sel(site="s1")) == 2


def test_installed_blocks_off_draw_the_no_load_losses():
    """The pods-of-2 case with ``no_load_loss: 0.01``: the rated IT follows the 4 blocks
    installed, ``design_it = 4 * (1 + 0.1 * 10) = 8`` MW (one block at full load: 2 MW), so
    the losses draw ``0.01 * 8 = 0.08`` MW more in each hour, cooled: ``0.088`` MW, ``0.088 *
    200 = 17.6`` CNY. Total ``1,445.0652 + 17.6 = 1,462.6652``. With ``design_it: 10`` given,
    the losses are ``0.1`` MW whatever is built: ``0.11 * 200 = 22``, total 1,467.0652."""
    r = solve_ok(_pods_case(25.0, POD | {"unit_size": 2.0}, no_load_loss=0.01))
    assert float(r.ds["design_it"].sel(site="s1")) == pytest.approx(8.0, abs=1e-6)
    assert r.objective == pytest.approx(1462.6652, rel=1e-6)
    given = solve_ok(_pods_case(25.0, POD | {"unit_size": 2.0}, no_load_loss=0.01, design_it=10))
    assert given.objective == pytest.approx(1467.0652, rel=1e-6)


def _two_sites(sites: list[str]) -> dict:
    """Two sites like the base one: ``s1`` at n1 (100 CNY/MWh), its blocks at 219,000 CNY
    capex over 1 year (50 CNY per block over the 2 h); ``s2`` at n2 (300 CNY/MWh), blocks at
    43,800 (10 CNY per block over the 2 h); a workload of 20 units eligible at ``sites``."""
    c = _config(2)
    c["nodes"].append({"name": "n2", "tariff": 300.0, "emission_factor": 0.5})
    c["sites"].append(dict(c["sites"][0], name="s2", node="n2"))
    for site, capex in zip(c["sites"], (219000.0, 43800.0), strict=True):
        site["blocks"] = {"max": 5.0, "capex_per_unit": capex, "lifetime_years": 1}
    c["interactive"] = [{"name": "w", "demand": 20.0, "sites": sites}]
    return c


def test_pods_are_built_where_power_is_cheap():
    """Placement in space with the blocks chosen: 20 units need 2 blocks, IT 4 MW, facility
    4.4 MW for 2 h, at either site.

    * At s1: ``4.4 * 2 * 100 + 2 * 50 = 880 + 100 = 980`` CNY.
    * At s2: ``4.4 * 2 * 300 + 2 * 10 = 2,640 + 20 = 2,660`` CNY.
    * Split (one block each): ``2.2 * 2 * 100 + 50 + 2.2 * 2 * 300 + 10 = 1,820``; every
      unit and every block on costs less at s1 (power 100 vs 300 outweighs the dearer block).

    Eligible at both, the model builds 2 blocks at s1 and none at s2: 980 CNY. Held at s2
    alone it pays 2,660: the cheaper-power site wins by ``4.4 * 2 * (300 - 100) - 2 * (50 -
    10) = 1,760 - 80 = 1,680`` CNY over the 2 h.
    """
    both = solve_ok(_two_sites(["s1", "s2"]))
    assert both.ds["blocks"].values == pytest.approx([2.0, 0.0], abs=1e-6)
    assert both.objective == pytest.approx(980.0)
    dear = solve_ok(_two_sites(["s2"]))
    assert dear.ds["blocks"].values == pytest.approx([0.0, 2.0], abs=1e-6)
    assert dear.objective - both.objective == pytest.approx(1680.0)


def test_the_certifier_judges_the_blocks_on_against_the_chosen_blocks():
    """The ``exactly_k`` plan (2 blocks built, 2 on) with 3 blocks on in the first period:
    more on than installed (``dc.n_on_max``, and the generic ``dc.n_on.bounds`` against the
    chosen ``blocks``). With the built blocks set to 1 instead: the installed blocks are no
    longer existing + built (``dc.blocks_def``)."""
    ds = solve_ok(_pods_case(20.0, POD)).ds
    more_on = ds.copy(deep=True)
    more_on["n_on"][0, 0] = 3.0
    checks = {v.check for v in suandian.certify(more_on)}
    assert {"dc.n_on_max", "dc.n_on.bounds"} <= checks
    fewer = ds.copy(deep=True)
    fewer["blocks_built"][:] = 1.0
    checks = {v.check for v in suandian.certify(fewer)}
    assert "dc.blocks_def" in checks


def test_chosen_blocks_are_handed_to_the_next_window():
    """The ``exactly_k`` case after period 0: the state carries the 2 blocks built; the
    second window (1 h) holds them (``min = max = 2``) and pays one hour of their annuity,
    ``2 * 257,396.4 / 8,760 = 58.7663``, plus ``4.4 * 100 = 440``: 498.7663 CNY."""
    full = scenario(_pods_case(20.0, POD))
    state = suandian.solve(full, mip_rel_gap=0.0).final_state(period=0)
    assert state["dc"]["sites"]["s1"]["blocks"] == pytest.approx(2.0)
    second = full.window(1, 1).with_state(state)
    held = second.config.sites[0].blocks
    assert isinstance(held, Capacity) and held.min == held.max == pytest.approx(2.0)
    r2 = suandian.solve(second, mip_rel_gap=0.0)
    assert r2.objective == pytest.approx(498.7663, rel=1e-6)
    assert r2.certify() == []


@pytest.mark.parametrize(
    ("blocks", "site", "message"),
    [
        (POD | {"unit_size": 1.5}, {}, r"blocks.unit_size 1.5 is not a whole number"),
        (POD | {"existing": 1.5}, {}, r"blocks.existing 1.5 is not a whole number"),
        (POD | {"max": 2.0}, {"min_on": 3}, r"min_on \(3\) exceeds blocks existing \+ max \(2\)"),
    ],
    ids=["half_blocks_per_pod", "half_a_block_existing", "min_on_above_the_most"],
)
def test_bad_chosen_blocks_are_refused(blocks, site, message):
    """A pod of 1.5 blocks, 1.5 blocks existing, or ``min_on: 3`` where at most 2 blocks can
    be installed: refused at load, naming the field, its value and the fix."""
    with pytest.raises(suandian.ScenarioError, match=message):
        scenario(_pods_case(20.0, blocks, **site))


@pytest.mark.parametrize(
    ("capex", "blocks", "on", "objective"),
    [(219000.0, 4.0, [2.0, 0.0, 2.0], 1180.0), (438000.0, 2.0, [2.0, 2.0, 2.0], 1400.0)],
    ids=["spare_blocks_pay", "spare_blocks_too_dear"],
)
def test_spare_blocks_let_blocks_rest_through_their_minimum_down_time(capex, blocks, on, objective):
    """Three 1-h periods, demand 20, 0, 20 units (2 blocks, none, 2 blocks), a minimum down
    time of 2 h: a block stopped in period 1 stays off in period 2. Whole blocks chosen,
    lifetime 1 year: ``a = capex * 3 / 8,760`` CNY per block over the 3 h.

    With K blocks, stopping ``m`` of the 2 in period 1 leaves ``K - m`` for period 2, which
    needs 2: ``m <= K - 2``. Energy at 100 CNY/MWh, facility ``1.1 x IT``: IT ``4 + (2 - m)
    + 4`` MW·h, ``110 * (10 - m)`` CNY; with ``m = K - 2``: ``110 * (12 - K) + a K``, linear
    in K with slope ``a - 110``.

    * capex 219,000: a = 75 < 110: K = 4, blocks 2, 0, 2 on (the 2 stopped rest while the 2
      spare serve period 2): ``880 + 4 * 75 = 1,180`` CNY.
    * capex 438,000: a = 150 > 110: K = 2, kept on through period 1: ``1,100 + 2 * 150 =
      1,400`` CNY.
    """
    c = _config(3)
    c["interactive"] = [{"name": "w", "demand": "d", "sites": ["s1"]}]
    c["sites"][0].update(
        blocks={"max": 6.0, "capex_per_unit": capex, "lifetime_years": 1, "unit_size": 1},
        min_down_hours=2.0,
    )
    r = solve_ok(c, _series(d=[20.0, 0.0, 20.0]))
    assert float(r.ds["blocks"].sel(site="s1")) == pytest.approx(blocks, abs=1e-6)
    assert r.ds["n_on"].sel(site="s1").values == pytest.approx(on, abs=1e-6)
    assert r.objective == pytest.approx(objective)
