"""Capacity planning on the dispatch model: chosen capacities of every family that has one,
lumps, and the sizing outputs (``docs/math/run_modes.md``, "Capacity as a decision").

Every case is the base site of ``conftest.base_config`` serving 15 units: two blocks on
(IT ``2 * 1 + 0.1 * 15 = 3.5`` MW), facility ``1.1 * 3.5 = 3.85`` MW in every period.
An annuity of ``capex / 1 year`` charged over a 2-h horizon is ``capex * 2 / 8,760``: a
capex of 219,000 CNY per unit is 50 CNY per unit over the horizon, 43,800 is 10.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok

import suandian
from suandian.component import Capacity

LOAD = 3.85  # MW of facility power, every period


def _config(periods: int) -> dict:
    c = base_config(periods)
    c["interactive"] = [{"name": "w", "demand": 15.0, "sites": ["s1"]}]
    return c


def _series(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    index = pd.date_range("2026-07-15 00:00", periods=n, freq="1h")
    return pd.DataFrame(columns, index=index)


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


@pytest.mark.parametrize(
    ("contract", "mw", "objective"),
    [
        (2.0, 2.0, 1060.0),
        ({"max": 20.0, "fixed_om_per_unit_year": 219000.0}, LOAD, 808.5),
        ({"max": 20.0, "fixed_om_per_unit_year": 1095000.0}, 0.0, 1540.0),
    ],
    ids=["fixed_2mw", "chosen_pays", "chosen_too_dear"],
)
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


def test_the_certifier_judges_the_corridor_contract():
    """The ``chosen_pays`` plan (3.85 MW sent) with the contract cut to 3 MW: what is sent
    exceeds it (``green.corridor_contract``), and the contract is no longer existing + built
    (``green.corridor_contract_mw_def``)."""
    cfg, series = _corridor_case({"max": 20.0, "fixed_om_per_unit_year": 219000.0})
    ds = solve_ok(cfg, series).ds.copy(deep=True)
    ds["corridor_contract_mw"][:] = 3.0
    checks = {v.check for v in suandian.certify(ds)}
    assert {"green.corridor_contract", "green.corridor_contract_mw_def"} <= checks
