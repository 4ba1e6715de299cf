"""Batteries: arbitrage with round-trip losses, end-state rules, exclusivity, self-discharge.

Base site (conftest) with 15 units of demand draws 3.85 MW every period, so the battery can
always discharge into the site's own load (no export). Battery unless stated: 1 MW, 2 MWh,
eta 0.9 / 0.9 (round trip 0.81), starts at 50 % = 1 MWh, 'cyclic' end (end >= 1 MWh).
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import base_config, solve_ok

LOAD = 3.85  # MW


def with_battery(prices: list[float], **battery) -> tuple[dict, pd.DataFrame]:
    """Base config with 15 units of demand, a price series and one battery."""
    cfg = base_config(periods=len(prices))
    cfg["nodes"][0]["tariff"] = "price"
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    unit = {
        "name": "bat",
        "site": "s1",
        "power": 1.0,
        "energy": 2.0,
        "eta_charge": 0.9,
        "eta_discharge": 0.9,
    }
    unit.update(battery)
    cfg["storage"] = [unit]
    return cfg, pd.DataFrame({"price": prices})


def battery(r, names: str) -> list:
    """The battery's series named in ``names`` (space-separated)."""
    return [r.ds[name].sel(storage="bat").values for name in names.split()]


def test_arbitrage_valley_to_peak():
    """Prices [50, 200]. Charge c in t0, discharge d in t1.

    SOC t0 = 1 + 0.9c <= 2 and c <= 1 MW  -> c = 1, SOC 1.9.
    Cyclic: SOC t1 = 1.9 - d/0.9 >= 1     -> d <= 0.81.
    Profit = 200*0.81 - 50*1 = 162 - 50 = 112 CNY (positive since 200/50 > 1/0.81).
    Cost = 3.85*50 + 3.85*200 - 112 = 192.5 + 770 - 112 = 850.5 CNY.
    """
    cfg, series = with_battery([50.0, 200.0])
    r = solve_ok(cfg, series=series)
    charge, discharge, soc = battery(r, "p_charge p_discharge e_soc")
    assert charge == pytest.approx([1.0, 0.0], abs=1e-9)
    assert discharge == pytest.approx([0.0, 0.81], abs=1e-9)
    assert soc == pytest.approx([1.9, 1.0])
    assert r.ds["p_grid"].sel(site="s1").values == pytest.approx([4.85, 3.04])
    assert r.objective == pytest.approx(850.5)


@pytest.mark.parametrize(
    ("peak", "charged", "profit"),
    [
        (120.0, 0.0, 0.0),  # 120/100 = 1.2 < 1/0.81 = 1.2346: a cycle loses 100 - 97.2
        (125.0, 1.0, 1.25),  # 125/100 = 1.25 > 1.2346: profit 125*0.81 - 100 = 1.25
    ],
)
def test_arbitrage_only_above_round_trip_ratio(peak, charged, profit):
    """Prices [100, peak]; a full cycle buys 1 MWh and sells back 0.81 MWh."""
    cfg, series = with_battery([100.0, peak])
    r = solve_ok(cfg, series=series)
    charge, discharge = battery(r, "p_charge p_discharge")
    assert charge.sum() == pytest.approx(charged, abs=1e-9)
    assert discharge.sum() == pytest.approx(0.81 * charged, abs=1e-9)
    assert r.objective == pytest.approx(LOAD * (100.0 + peak) - profit)


@pytest.mark.parametrize(("soc_final", "end"), [("cyclic", 1.0), ("free", 0.0), (0.25, 0.5)])
def test_end_state_rule(soc_final, end):
    """Flat price 100 over 2 h, so stored energy is free to use up to the end rule.

    Start 1 MWh. 'cyclic': end >= 1 MWh -> nothing used, end 1.0.
    'free': all of it delivers 1 * 0.9 = 0.9 MWh, end 0 -> saves 90 CNY.
    0.25: end >= 0.5 MWh -> 0.5 * 0.9 = 0.45 MWh delivered -> saves 45 CNY.
    """
    cfg, series = with_battery([100.0, 100.0], soc_final=soc_final)
    r = solve_ok(cfg, series=series)
    (soc,) = battery(r, "e_soc")
    assert soc[-1] == pytest.approx(end, abs=1e-9)
    delivered = 0.9 * (1.0 - end)
    assert r.objective == pytest.approx(2 * LOAD * 100.0 - 100.0 * delivered)


def _surplus_case(no_simultaneous: bool) -> tuple[dict, pd.DataFrame]:
    """One hour; demand 10 units on 1 of 2 blocks: load (1 + 1) * 1.1 = 2.2 MW.

    A corridor with min_mw 2.3 MW must be taken (100 CNY/MWh, no loss): 0.1 MW surplus.
    The battery is full (soc_initial 1.0) and cyclic, so it cannot store the surplus.
    """
    cfg, series = with_battery([100.0], soc_initial=1.0, no_simultaneous=no_simultaneous)
    cfg["interactive"][0]["demand"] = 10.0
    cfg["nodes"].append({"name": "n2", "tariff": 100.0, "emission_factor": 0.0})
    cfg["corridors"] = [
        {
            "name": "line",
            "from_node": "n2",
            "to_node": "n1",
            "capacity": 2.3,
            "source_price": 100.0,
            "min_mw": 2.3,
        }
    ]
    return cfg, series


def test_simultaneous_charge_and_discharge_burns_a_surplus():
    """Without the binary: charge c and discharge d at once with net c - d = 0.1 MW and
    SOC unchanged 0.9c = d/0.9 -> d = 0.81c, c = 0.1/0.19 = 0.5263 MW, d = 0.4263 MW.
    Cost = corridor 2.3 * 100 = 230 CNY.
    """
    cfg, series = _surplus_case(no_simultaneous=False)
    r = solve_ok(cfg, series=series)
    charge, discharge = battery(r, "p_charge p_discharge")
    assert charge - discharge == pytest.approx([0.1])
    assert charge == pytest.approx([0.1 / 0.19])
    assert r.objective == pytest.approx(230.0)


def test_no_simultaneous_binary_forbids_burning():
    """With no_simultaneous the battery either charges (SOC above 2 MWh: impossible) or
    discharges (end below start: breaks 'cyclic'). The only other sink is the idle 2nd block:
    load (2 + 1) * 1.1 = 3.3 MW, so 3.3 - 2.3 = 1.0 MW comes from the grid.
    Cost = 230 + 1.0 * 100 = 330 CNY; charge * discharge = 0.
    """
    cfg, series = _surplus_case(no_simultaneous=True)
    r = solve_ok(cfg, series=series)
    charge, discharge = battery(r, "p_charge p_discharge")
    assert (charge * discharge) == pytest.approx([0.0], abs=1e-12)
    assert r.ds["n_on"].sel(site="s1").values.tolist() == [2]
    assert r.ds["p_grid"].sel(site="s1").values == pytest.approx([1.0])
    assert r.objective == pytest.approx(330.0)


@pytest.mark.parametrize(
    ("resolution", "expected"),
    [
        ("1h", [1.8, 1.62, 1.458]),  # 2 * 0.9^t, t = 1, 2, 3 h
        ("30min", [2 * 0.9**0.5, 1.8, 2 * 0.9**1.5]),  # 2 * 0.9^(t/2): keep = 0.9^dt
    ],
)
def test_self_discharge(resolution, expected):
    """A 0 MW battery holding 2 MWh loses 10 %/h of its energy: SOC_t = 0.9^dt * SOC_{t-1}."""
    cfg, series = with_battery(
        [100.0] * 3, power=0.0, soc_initial=1.0, self_discharge=0.1, soc_final="free"
    )
    cfg["horizon"]["resolution"] = resolution
    r = solve_ok(cfg, series=series)
    (soc,) = battery(r, "e_soc")
    assert soc == pytest.approx(expected)
