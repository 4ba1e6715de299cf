"""Moving a one_site job between placement windows over a data link (``data_links``,
``batch[].checkpoint_tb``, ``restore_hours``, ``move_cost``), solved by hand.

Two sites s1 (node n1) and s2 (node n2) as the conftest base: blocks of 10 units, idle 1 MW,
0.1 MW/unit, COP 10, so a block running 10 units draws 1.1 x (1 + 1) = 2.2 MW. Periods of 1 h.
Prices: n1 [10, 10, 1000, 1000], n2 [1000, 1000, 10, 10] CNY/MWh. One job: 30 units·h, at most
10 units per period (one block), eligible at both sites, placement one_site in windows of 2 h
(periods 0-1 and 2-3). Every period it runs costs 2.2 MWh at its site's price.

* Free moves (no checkpoint_tb): s1 in periods 0 and 1, s2 in period 2 or 3:
  3 x 2.2 x 10 = 66 CNY.
* Staying at one site: two cheap periods and one dear one, 2 x 22 + 2,200 = 2,244 CNY.
* checkpoint_tb 1 over a 10 Gbit/s link: 8,000 Gbit / 10 Gbit/s = 800 s = 0.222 h, one period
  of blackout at s2 (period 2); the job still runs 10 units in period 3: 66 + the move's cost
  1 TB x 100 CNY/TB = 166 CNY.
* With restore_hours 1: 1.222 h, two periods: the whole second window is blacked out, so moving
  gains nothing: 2,244 CNY (staying).
* Without a link between s1 and s2 the move is forbidden: 2,244 CNY.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok

import suandian
from suandian import ScenarioError
from suandian.results.certifier import certify

SERIES = pd.DataFrame({"p1": [10.0, 10.0, 1000.0, 1000.0], "p2": [1000.0, 1000.0, 10.0, 10.0]})
LINK = {"name": "fibre", "sites": ["s1", "s2"], "bandwidth_gbps": 10.0, "cost_per_tb": 100.0}


def config(link: bool = True, **job) -> dict:
    cfg = base_config(periods=4)
    cfg["nodes"][0]["tariff"] = "p1"
    cfg["nodes"].append({"name": "n2", "tariff": "p2", "emission_factor": 0.5})
    second = copy.deepcopy(cfg["sites"][0])
    second.update(name="s2", node="n2")
    cfg["sites"].append(second)
    cfg["batch"] = [
        {
            "name": "train",
            "work": 30.0,
            "max_rate": 10.0,
            "sites": ["s1", "s2"],
            "placement": "one_site",
            "placement_hours": 2.0,
            **job,
        }
    ]
    if link:
        cfg["data_links"] = [dict(LINK)]
    return cfg


def test_free_moves_without_a_checkpoint():
    r = solve_ok(config(), series=SERIES)
    assert r.objective == pytest.approx(66.0)
    assert r.ds.sizes["move"] == 0  # no checkpoint: no move cells, today's behaviour


def test_move_over_the_link_costs_its_transfer_and_a_period_of_blackout():
    r = solve_ok(config(checkpoint_tb=1.0), series=SERIES)
    assert r.objective == pytest.approx(166.0)
    assert r.costs["migration"] == pytest.approx(100.0)
    ds = r.ds
    moved = ds["y_move"].to_series()
    assert moved.sum() == pytest.approx(1.0)
    row = ds.sel(move=int(np.argmax(ds["y_move"].values)))
    assert (str(row["move_from"].values), str(row["move_to"].values)) == ("s1", "s2")
    assert int(row["move_boundary"].values) == 0
    assert int(row["move_blackout_periods"].values) == 1
    run = r.batch_schedule().sel(job="train")
    assert run.sel(site="s1").values == pytest.approx([10, 10, 0, 0], abs=1e-7)
    assert run.sel(site="s2").values == pytest.approx([0, 0, 0, 10], abs=1e-7)


def test_restore_time_can_make_the_move_worthless():
    r = solve_ok(config(checkpoint_tb=1.0, restore_hours=1.0), series=SERIES)
    assert r.objective == pytest.approx(2244.0)
    assert float(r.ds["y_move"].sum()) == pytest.approx(0.0)
    assert "migration" in r.costs and r.costs["migration"] == pytest.approx(0.0)


def test_no_link_no_move():
    r = solve_ok(config(link=False, checkpoint_tb=1.0), series=SERIES)
    assert r.objective == pytest.approx(2244.0)
    assert not r.ds["move_linked"].values.any()
    assert "migration" not in r.costs  # no priced move exists


def test_move_cost_adds_to_the_transfer():
    """move_cost 50: 66 + 100 + 50 = 216 < 2,244, the job still moves."""
    r = solve_ok(config(checkpoint_tb=1.0, move_cost=50.0), series=SERIES)
    assert r.objective == pytest.approx(216.0)


def test_certifier_catches_a_hidden_move_and_a_run_in_the_blackout():
    r = solve_ok(config(checkpoint_tb=1.0), series=SERIES)
    ds = r.ds.copy(deep=True)
    ds["y_move"].values[:] = 0.0  # the move happened but is not booked
    found = {v.check for v in certify(ds)}
    assert "dc.move_def" in found
    ds = r.ds.copy(deep=True)
    ds = ds.assign(x_run=ds["x_run"].copy())
    cells = (ds["run_site"].values == "s2") & (ds["run_period"].values == 2)
    ds["x_run"].values[cells] = 10.0  # runs at s2 while its checkpoint is still in transit
    found = {v.check for v in certify(ds)}
    assert "dc.move_blackout" in found


def test_bad_migration_inputs_are_named():
    with pytest.raises(ScenarioError) as err:
        scenario(config(checkpoint_tb=1.0, placement="split"), series=SERIES)
    assert "placement: one_site" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        scenario(config(restore_hours=1.0), series=SERIES)
    assert "needs checkpoint_tb" in str(err.value)
    cfg = config(checkpoint_tb=1.0)
    cfg["data_links"].append({**LINK, "name": "second", "sites": ["s2", "s1"]})
    with pytest.raises(ScenarioError) as err:
        scenario(cfg, series=SERIES)
    assert "data_links[1].sites" in str(err.value)
    cfg = config(checkpoint_tb=1.0)
    cfg["data_links"][0]["sites"] = ["s1", "s9"]
    with pytest.raises(ScenarioError) as err:
        scenario(cfg, series=SERIES)
    assert "data_links[0].sites[1]" in str(err.value)
    cfg = config(checkpoint_tb=1.0)
    cfg["data_links"][0]["sites"] = ["s1", "s1"]
    with pytest.raises(ScenarioError):
        suandian.load_scenario(cfg, series=SERIES)
