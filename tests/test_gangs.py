"""Gang sizes (``batch[].gang_size``): a job runs a whole number of gangs, solved by hand.

Base (conftest): one site, 2 blocks of 10 units, idle 1 MW, 0.1 MW/unit, COP 10 (facility
1.1 x IT), flat 100 CNY/MWh, 2 periods of 1 h. Interactive demand of 4 units in each period;
one job of 12 units·h, at most 12 per period, both periods.

* Any rate: 6 + 6 fills one block in each period (4 + 6 = 10): IT 2 x (1 + 1.0) = 4 MWh,
  4.4 MWh, 440 CNY.
* Gangs of 4 units: the rates are 0, 4, 8 or 12 and sum to 12, so one period carries 8 or 12
  of the job (12 or 16 units with the demand): two blocks there, three block-periods in all.
  IT 3 x 1 + 0.1 x 20 = 5 MWh, 550 CNY.
"""

from __future__ import annotations

import pytest
from conftest import base_config, scenario, solve_ok

from suandian import ScenarioError
from suandian.results.certifier import certify


def config(**job) -> dict:
    cfg = base_config(periods=2)
    cfg["interactive"] = [{"name": "web", "demand": 4.0, "sites": ["s1"]}]
    cfg["batch"] = [{"name": "train", "work": 12.0, "max_rate": 12.0, "sites": ["s1"], **job}]
    return cfg


def test_any_rate():
    assert solve_ok(config()).objective == pytest.approx(440.0)


def test_whole_gangs_cost_a_block():
    r = solve_ok(config(gang_size=4.0))
    assert r.objective == pytest.approx(550.0)
    run = r.ds["x_run"].values
    assert sorted(run.round(6).tolist()) in ([0.0, 12.0], [4.0, 8.0])
    assert r.ds["n_gang"].values * 4.0 == pytest.approx(run)


def test_certifier_catches_a_rate_between_gangs():
    r = solve_ok(config(gang_size=4.0))
    ds = r.ds.copy(deep=True)
    ds["n_gang"].values[:] = ds["n_gang"].values[::-1]  # gangs no longer match the rates
    assert "dc.gang_rate" in {v.check for v in certify(ds)}


def test_gang_above_max_rate_is_named():
    with pytest.raises(ScenarioError) as err:
        scenario(config(gang_size=20.0))
    assert "gang_size (20) is above max_rate (12)" in str(err.value)
