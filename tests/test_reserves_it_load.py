"""Reserve headroom from IT load (``reserves[].sources: [it_load]``), solved by hand.

Base (conftest): one site, 2 blocks of 10 units, idle 1 MW, 0.1 MW/unit, COP 10, so a block
on draws 1.1 MW of facility power idle and 2.2 MW at full load; flat 100 CNY/MWh, 4 periods
of 1 h. One batch job: 20 units·h, at most 10 units per period, any period. Without reserves it
runs 10 units in two periods on one block: 2 x 2.2 MWh x 100 = 440 CNY. Every extra
block-period on costs 1.1 MWh = 110 CNY.

**Up** (pause batch work on call, 1 h, 100 CNY/MW/h): an offer r_t is at most the batch
work's dynamic power, 0.1 x_t <= 1 MW, and the paused work (r_t x 1 h / 0.1 MW per unit) must
fit the spare capacity of the blocks on after the call (rows it_up_power, it_up_catchup). The
job's 20 units·h give at most 2 MW·h of offers (0.1 x 20), 200 CNY; getting both needs 10
units·h of spare capacity after each call: one block-period on and idle after the two runs
(e.g. runs in periods 0 and 1, idle block in period 2): +110. Net 440 + 110 - 200 = 350 CNY.
At 50 CNY/MW/h the same offers earn 100 < 110: no offer, 440 CNY.

**Down** (run batch work faster on call, 1 h, 200 CNY/MW/h): an offer r_t is at most the
spare capacity's dynamic power, 0.1 x (10 n_on - x_t), and the work pulled ahead (10 r_t
units·h) must be scheduled after the call (rows it_down_power, it_down_ahead). Each MW offered
needs 10 units of spare capacity on a block on (110 CNY per block-period) and earns 200, so
every offer that fits pays. With the runs in periods 2 and 3 (20 units·h after periods 0 and
1, 10 after period 2): 2 MW in periods 0 and 1 (both blocks on, idle), 1 MW in period 2 (a
second block beside the run), none in period 3: 5 MW·h, 5 x (200 - 110) = 450 saved,
440 - 450 = -10 CNY. Any other placement of the runs leaves less room (e.g. runs in 1 and 3:
2 + 1 + 1 = 4 MW·h).
"""

from __future__ import annotations

import pytest
from conftest import base_config, solve_ok

from suandian.results.certifier import certify


def config(direction: str = "up", price: float = 100.0) -> dict:
    cfg = base_config(periods=4)
    cfg["batch"] = [{"name": "train", "work": 20.0, "max_rate": 10.0, "sites": ["s1"]}]
    cfg["reserves"] = [
        {
            "name": "vpp",
            "direction": direction,
            "price": price,
            "duration": 1.0,
            "sources": ["it_load"],
        }
    ]
    return cfg


def test_up_reserve_from_pausing_batch_work():
    r = solve_ok(config("up", 100.0))
    assert r.objective == pytest.approx(350.0)
    assert r.costs["reserve_capacity_it"] == pytest.approx(-200.0)
    assert r.kpis["energy_mwh"]["reserve_it_offered_up"] == pytest.approx(2.0)


def test_up_reserve_not_worth_an_idle_block():
    r = solve_ok(config("up", 50.0))
    assert r.objective == pytest.approx(440.0)
    assert r.kpis["energy_mwh"]["reserve_it_offered_up"] == pytest.approx(0.0, abs=1e-9)


def test_down_reserve_from_running_batch_work_ahead():
    r = solve_ok(config("down", 200.0))
    assert r.objective == pytest.approx(-10.0)
    assert r.kpis["energy_mwh"]["reserve_it_offered_down"] == pytest.approx(5.0)


def test_battery_only_products_keep_their_meaning():
    """The default sources are the batteries: with none, the product offers nothing."""
    cfg = config("up", 100.0)
    del cfg["reserves"][0]["sources"]
    r = solve_ok(cfg)
    assert r.objective == pytest.approx(440.0)
    assert "reserve_capacity_it" not in r.costs


def test_certifier_catches_headroom_without_batch_work_to_pause():
    r = solve_ok(config("up", 100.0))
    ds = r.ds.copy(deep=True)
    batch = r.batch_schedule().sel(job="train", site="s1").values
    idle = int((batch < 1e-6).nonzero()[0][0])  # a period without batch work
    ds["p_reserve_it"].values[0, 0, idle] = 0.5
    found = {v.check for v in certify(ds)}
    assert "rsv.it_up_power" in found
