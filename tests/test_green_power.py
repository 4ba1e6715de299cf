"""Green power: corridors (loss, tariff, blocks and windows), local contracts, certificates.

Base site (conftest) with 15 units of demand draws 3.85 MW every period. Node n2 is a
sending node without sites. Every expected value is derived by hand in the docstrings.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import base_config, solve_ok

LOAD = 3.85  # MW


def loaded(periods: int = 2, grid_price: float = 100.0) -> dict:
    """Base config with 15 units of demand, a sending node n2 and the given grid price."""
    cfg = base_config(periods=periods)
    cfg["nodes"][0]["tariff"] = grid_price
    cfg["nodes"].append({"name": "n2", "tariff": 0.0, "emission_factor": 0.0})
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    return cfg


def corridor(**changes) -> dict:
    line = {
        "name": "line",
        "from_node": "n2",
        "to_node": "n1",
        "capacity": 10.0,
        "source_price": 100.0,
    }
    line.update(changes)
    return line


def sent(r) -> list[float]:
    return r.ds["p_send"].sel(corridor="line", site="s1").values


def test_corridor_loss_and_tariff():
    """Grid 200; corridor 80 + tariff 20 per MWh sent, loss 10 %.

    Delivered price 100/0.9 = 111.1 < 200, so the corridor carries the whole load:
    sent = 3.85 / 0.9 = 4.2778 MW, delivered = 0.9 * sent = 3.85 MW.
    cost = (80 + 20) * 4.2778 * 2 h = 855.56 CNY. Location-based CO2 uses the receiving
    node's factor on delivered energy: 0.5 * 7.7 = 3.85 t. Green share 1.
    """
    cfg = loaded(grid_price=200.0)
    cfg["corridors"] = [corridor(source_price=80.0, tariff=20.0, loss=0.1)]
    r = solve_ok(cfg)
    assert sent(r) == pytest.approx([LOAD / 0.9] * 2)
    energy = r.kpis["energy_mwh"]
    assert energy["corridor_sent"] == pytest.approx(2 * LOAD / 0.9)
    assert energy["corridor_delivered"] == pytest.approx(2 * LOAD)
    assert r.costs["corridor"] == pytest.approx(100.0 * 2 * LOAD / 0.9)
    assert r.objective == pytest.approx(855.5555556)
    assert r.kpis["emissions_tco2"]["location_based"] == pytest.approx(3.85)
    assert r.kpis["green_share"]["portfolio"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("windows", "expected_sent", "expected_cost"),
    [
        # two windows: n = floor(2.5/1.5) = 1 in 00-02, n = floor(3.85/1.5) = 2 in 02-04
        # corridor 100 * (1.5 + 1.5 + 3 + 3) = 900, grid 200 * (2.35*2 + 0.85*2) = 1280
        (["00:00-02:00", "02:00-04:00"], [1.5, 1.5, 3.0, 3.0], 2180.0),
        # whole day: one n for all 4 periods, limited by t1's 2.5 MW -> n = 1
        # corridor 100 * 1.5 * 4 = 600, grid 200 * 2.35 * 4 = 1880
        (None, [1.5, 1.5, 1.5, 1.5], 2480.0),
    ],
)
def test_block_corridor_constant_within_windows(windows, expected_sent, expected_cost):
    """Blocks of 1.5 MW, capacity [10, 2.5, 10, 10] MW, 100 CNY/MWh vs grid 200.

    Blocks are worth buying up to the load (3.85 MW, no export), and the count is one
    integer per window, so each window takes the largest n with 1.5 n <= min capacity and
    1.5 n <= 3.85 over its periods.
    """
    cfg = loaded(periods=4, grid_price=200.0)
    cfg["corridors"] = [corridor(capacity="cap", block_mw=1.5, windows=windows)]
    r = solve_ok(cfg, series=pd.DataFrame({"cap": [10.0, 2.5, 10.0, 10.0]}))
    assert sent(r) == pytest.approx(expected_sent)
    assert r.objective == pytest.approx(expected_cost)


def test_local_contract_limited_by_capacity():
    """Contract 2 MW at 90 < grid 100: take 2 MW, grid 1.85 MW.

    cost per hour = 2*90 + 1.85*100 = 365 -> 730 CNY over 2 h; green 4 MWh of 7.7.
    """
    cfg = loaded()
    cfg["green_contracts"] = [{"name": "ppa", "node": "n1", "capacity": 2.0, "price": 90.0}]
    r = solve_ok(cfg)
    assert r.ds["p_contract"].sel(contract="ppa", site="s1").values == pytest.approx([2.0, 2.0])
    assert r.ds["p_grid"].sel(site="s1").values == pytest.approx([1.85, 1.85])
    assert r.objective == pytest.approx(730.0)
    assert r.kpis["green_mwh"]["s1"] == pytest.approx(4.0)


def _target_with_certificates(max_share: float | None) -> dict:
    """Green target 50 %; contract 150 (premium 50 over grid); certificates 30 CNY/MWh."""
    cfg = loaded()
    cfg["policies"]["green_share"] = {"target": 0.5}
    cfg["green_contracts"] = [{"name": "ppa", "node": "n1", "capacity": 10.0, "price": 150.0}]
    cfg["certificates"] = {"price": 30.0, "max_share": max_share}
    return cfg


def test_certificates_bought_when_cheapest():
    """Consumption 7.7 MWh, green needed 0.5 * 7.7 = 3.85 MWh.

    Certificates (30) are cheaper than the contract premium (150 - 100 = 50): 3.85 certs.
    cost = 7.7 * 100 + 3.85 * 30 = 770 + 115.5 = 885.5 CNY.
    """
    r = solve_ok(_target_with_certificates(max_share=None))
    assert r.kpis["energy_mwh"]["certificates"] == pytest.approx(3.85)
    assert r.kpis["energy_mwh"]["green_contract"] == pytest.approx(0.0, abs=1e-9)
    assert r.costs["certificates"] == pytest.approx(115.5)
    assert r.objective == pytest.approx(885.5)
    assert r.kpis["green_share"]["portfolio"] == pytest.approx(0.5)


def test_certificate_cap_forces_physical_green():
    """Same, certificates capped at 20 % of consumption: 0.2 * 7.7 = 1.54 certs.

    The remaining 3.85 - 1.54 = 2.31 MWh come from the contract (it replaces grid energy,
    so consumption stays 7.7). cost = 770 + 1.54*30 + 2.31*50 = 770 + 46.2 + 115.5 = 931.7.
    """
    r = solve_ok(_target_with_certificates(max_share=0.2))
    energy = r.kpis["energy_mwh"]
    assert energy["certificates"] == pytest.approx(1.54)
    assert energy["green_contract"] == pytest.approx(2.31)
    assert energy["grid"] == pytest.approx(7.7 - 2.31)
    assert r.objective == pytest.approx(931.7)
    assert r.kpis["green_share"]["portfolio"] == pytest.approx(0.5)
