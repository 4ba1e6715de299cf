"""Grid (TOU tariff, import limit, emissions) and renewables (availability, curtailment, cost).

Base site (conftest): demand 15 units -> 2 blocks, IT = 2 + 1.5 = 3.5 MW, facility
3.5 * 1.1 = 3.85 MW. Every expected value is derived by hand in the docstrings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok

LOAD = 3.85  # MW at the meter for 15 units (see module docstring)

TOU = {
    "prices": {"valley": 30.0, "peak": 150.0, "flat": 90.0},
    "periods": {"valley": ["00:00-08:00"], "peak": ["10:00-12:00", "18:00-22:00"]},
}


def loaded(periods: int = 2, resolution: str = "1h") -> dict:
    """Base config with 15 units of interactive demand every period."""
    cfg = base_config(periods=periods, resolution=resolution)
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    return cfg


def add_pv(cfg: dict, capacity: float, profile, cost: float) -> None:
    cfg["renewables"] = [
        {"name": "pv", "site": "s1", "capacity": capacity, "profile": profile, "cost": cost}
    ]


def test_tou_expansion_hourly():
    """Valley 00-08 -> 8 periods at 30; peak 10-12 and 18-22 -> 2 + 4 = 6 at 150;
    flat (default) the other 24 - 8 - 6 = 10 periods at 90.
    """
    cfg = base_config(periods=24)
    cfg["nodes"][0]["tariff"] = TOU
    sc = scenario(cfg)
    tou = sc.config.nodes[0].tariff
    bands = sc.tou_bands(tou)
    prices = sc.tou_prices(tou)
    counts = {b: int((bands == b).sum()) for b in ("valley", "peak", "flat")}
    assert counts == {"valley": 8, "peak": 6, "flat": 10}
    assert prices[:8] == pytest.approx([30.0] * 8)
    assert prices[8:10] == pytest.approx([90.0] * 2)
    assert prices[10:12] == pytest.approx([150.0] * 2)
    assert prices[18:22] == pytest.approx([150.0] * 4)
    assert prices.sum() == pytest.approx(8 * 30 + 6 * 150 + 10 * 90)


def test_tou_expansion_quarter_hours_half_open():
    """15-min periods; range '08:30-09:15' covers starts 08:30, 08:45, 09:00 = 3 periods
    (09:15 is excluded: ranges are [start, end)).
    """
    cfg = base_config(periods=96, resolution="15min")
    cfg["nodes"][0]["tariff"] = {
        "prices": {"peak": 200.0, "flat": 100.0},
        "periods": {"peak": ["08:30-09:15"]},
    }
    sc = scenario(cfg)
    prices = sc.tou_prices(sc.config.nodes[0].tariff)
    assert np.flatnonzero(prices == 200.0).tolist() == [34, 35, 36]


def test_tou_cost_of_a_constant_load():
    """24 h at 3.85 MW: cost = 3.85 * (8*30 + 6*150 + 10*90) = 3.85 * 2040 = 7854 CNY."""
    cfg = loaded(periods=24)
    cfg["nodes"][0]["tariff"] = TOU
    r = solve_ok(cfg)
    assert r.costs["grid_energy"] == pytest.approx(LOAD * 2040.0)
    assert r.objective == pytest.approx(7854.0)


def test_import_limit_forces_the_other_source():
    """Import limit 2 MW, PV 5 MW always available at 300 CNY/MWh (dearer than grid 100).

    Grid is used up to the limit: grid 2, PV 3.85 - 2 = 1.85 MW per period.
    cost per period = 2*100 + 1.85*300 = 755 -> 1510 CNY over 2 h.
    The marginal MWh comes from PV: energy_price = 300 CNY/MWh.
    Emissions (location-based, EF 0.5 on grid only): 0.5 * 2 * 2 = 2 tCO2.
    """
    cfg = loaded()
    cfg["nodes"][0]["import_limit"] = 2.0
    add_pv(cfg, 5.0, 1.0, 300.0)
    r = solve_ok(cfg)
    assert r.ds["p_grid"].sel(site="s1").values == pytest.approx([2.0, 2.0])
    assert r.ds["p_renewable"].sel(renewable="pv").values == pytest.approx([1.85, 1.85])
    assert r.objective == pytest.approx(1510.0)
    assert r.ds["energy_price"].sel(site="s1").values == pytest.approx([300.0, 300.0])
    assert r.kpis["emissions_tco2"]["location_based"] == pytest.approx(2.0)


def test_location_based_emissions_equal_factor_times_grid_energy():
    """EF series [0.5, 0.9] tCO2/MWh, 3.85 MWh per hour from the grid:
    tCO2 = 3.85*0.5 + 3.85*0.9 = 1.925 + 3.465 = 5.39.
    """
    cfg = loaded()
    cfg["nodes"][0]["emission_factor"] = "ef"
    r = solve_ok(cfg, series=pd.DataFrame({"ef": [0.5, 0.9]}))
    assert r.kpis["energy_mwh"]["grid"] == pytest.approx(2 * LOAD)
    assert r.kpis["emissions_tco2"]["location_based"] == pytest.approx(5.39)


def test_renewables_used_up_to_availability_then_curtailed():
    """PV 4 MW, profile [0, 0.5, 1.0] -> available [0, 2, 4] MW, cost 20 < grid 100.

    used = min(available, 3.85) = [0, 2, 3.85]; grid = [3.85, 1.85, 0];
    curtailed = 4 - 3.85 = 0.15 MWh (nothing can absorb it).
    cost = 20*(2 + 3.85) + 100*(3.85 + 1.85) = 117 + 570 = 687 CNY.
    green = 5.85 MWh of 11.55 consumed.
    """
    cfg = loaded(periods=3)
    add_pv(cfg, 4.0, "pv_cf", 20.0)
    r = solve_ok(cfg, series=pd.DataFrame({"pv_cf": [0.0, 0.5, 1.0]}))
    assert r.ds["p_renewable"].sel(renewable="pv").values == pytest.approx([0.0, 2.0, 3.85])
    assert r.ds["p_grid"].sel(site="s1").values == pytest.approx([3.85, 1.85, 0.0], abs=1e-9)
    energy = r.kpis["energy_mwh"]
    assert energy["renewables_curtailed"] == pytest.approx(0.15)
    assert energy["renewables_used"] == pytest.approx(5.85)
    assert r.costs["renewables"] == pytest.approx(117.0)
    assert r.costs["grid_energy"] == pytest.approx(570.0)
    assert r.objective == pytest.approx(687.0)
    assert r.kpis["green_mwh"]["s1"] == pytest.approx(5.85)
    assert r.kpis["green_share"]["portfolio"] == pytest.approx(5.85 / 11.55)


def test_renewables_used_only_when_cheaper():
    """PV 10 MW always available at 120 > grid 100, no policy: PV unused, all curtailed."""
    cfg = loaded()
    add_pv(cfg, 10.0, 1.0, 120.0)
    r = solve_ok(cfg)
    assert r.kpis["energy_mwh"]["renewables_used"] == pytest.approx(0.0, abs=1e-9)
    assert r.kpis["energy_mwh"]["renewables_curtailed"] == pytest.approx(20.0)
    assert r.objective == pytest.approx(2 * LOAD * 100.0)
