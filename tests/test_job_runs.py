"""Restarts and minimum run lengths of batch jobs (``restart_cost``, ``min_run_hours``,
``min_rate``), solved by hand.

Base (conftest): one site, 2 blocks of 10 units, idle 1 MW, 0.1 MW/unit, COP 10: a block
running 10 units draws 2.2 MW. Periods of 1 h at 100, 100, 1000, 100 CNY/MWh. One job: 30
units·h, at most 10 per period, any period, min_rate 10 (so it runs at 10 or not at all):
three periods of 2.2 MWh.

* Free restarts: periods 0, 1, 3 (skip the dear one): 3 x 220 = 660 CNY, two starts.
* restart_cost 500: the same plan pays two starts, 660 + 1,000 = 1,660; running through the
  dear period (0, 1, 2 or 1, 2, 3) pays one, 220 + 220 + 2,200 + 500 = 3,140: 1,660.
* restart_cost 2,000: 660 + 4,000 = 4,660 against 2,640 + 2,000 = 4,640: it runs through.
* min_run_hours 3 and no restart cost: three consecutive periods: 2,640 CNY.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok

from suandian import ScenarioError
from suandian.results.certifier import certify

PRICES = pd.DataFrame({"price": [100.0, 100.0, 1000.0, 100.0]})


def config(**job) -> dict:
    cfg = base_config(periods=4)
    cfg["nodes"][0]["tariff"] = "price"
    cfg["batch"] = [
        {"name": "train", "work": 30.0, "max_rate": 10.0, "sites": ["s1"], "min_rate": 10.0, **job}
    ]
    return cfg


def test_free_restarts_skip_the_dear_period():
    r = solve_ok(config(), series=PRICES)
    assert r.objective == pytest.approx(660.0)
    assert r.ds["z_job"].sel(job="train").values.tolist() == [1, 1, 0, 1]


def test_a_cheap_restart_still_pays():
    r = solve_ok(config(restart_cost=500.0), series=PRICES)
    assert r.objective == pytest.approx(1660.0)
    assert r.costs["job_restart"] == pytest.approx(1000.0)
    assert r.ds["s_job"].sel(job="train").values == pytest.approx([1, 0, 0, 1])


def test_a_dear_restart_runs_through():
    r = solve_ok(config(restart_cost=2000.0), series=PRICES)
    assert r.objective == pytest.approx(4640.0)
    assert r.costs["job_restart"] == pytest.approx(2000.0)


def test_minimum_run_length():
    r = solve_ok(config(min_run_hours=3.0), series=PRICES)
    assert r.objective == pytest.approx(2640.0)
    assert int(r.ds["job_min_run_periods"].sel(job="train")) == 3


def test_certifier_catches_a_hidden_restart_and_a_short_run():
    r = solve_ok(config(restart_cost=500.0), series=PRICES)
    ds = r.ds.copy(deep=True)
    ds["s_job"].values[:] = 0.0  # starts not booked
    assert "dc.job_start" in {v.check for v in certify(ds)}
    r = solve_ok(config(min_run_hours=3.0), series=PRICES)
    ds = r.ds.copy(deep=True)
    z = ds["z_job"].values
    z[0, :] = [1, 0, 0, 0]  # a one-period run
    found = {v.check for v in certify(ds)}
    assert "dc.job_min_run" in found or "dc.job_start" in found


def test_restart_cost_needs_a_rate_floor():
    cfg = config(restart_cost=500.0)
    del cfg["batch"][0]["min_rate"]
    with pytest.raises(ScenarioError) as err:
        scenario(cfg, series=PRICES)
    assert "give min_rate" in str(err.value)
