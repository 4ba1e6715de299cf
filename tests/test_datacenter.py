"""Data centers: blocks, facility power, start-ups, batch placement, site choice, COP.

Every expected value is derived by hand in the test's docstring. Base scenario (conftest):
blocks of 10 units, idle 1 MW/block, dynamic 0.1 MW/unit, COP 10, no losses, 100 CNY/MWh,
so a block at full load draws 2 MW of IT power and 2.2 MW at the meter.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
from conftest import base_config, solve_ok

from suandian.scenario import cop_from_ambient
from suandian.scenario.schema import Cooling


def add_site(cfg: dict, name: str, node: str, **changes) -> None:
    """Add a copy of the base site (and its node, if new) under another name."""
    site = copy.deepcopy(cfg["sites"][0])
    site.update(name=name, node=node, **changes)
    cfg["sites"].append(site)


def add_node(cfg: dict, name: str, tariff=100.0, emission_factor=0.5) -> None:
    cfg["nodes"].append({"name": name, "tariff": tariff, "emission_factor": emission_factor})


def test_blocks_ceil_and_facility_power():
    """Demand [5, 15] units, loss 4 %, COP 10.

    n_on = ceil(5/10) = 1, ceil(15/10) = 2.
    IT  = 1*1 + 0.1*5  = 1.5 MW ;  1*2 + 0.1*15 = 3.5 MW
    fac = IT * 1.04 * 1.1 = 1.716 MW ; 4.004 MW
    cost = (1.716 + 4.004) MWh * 100 = 572.0 CNY
    """
    cfg = base_config(periods=2)
    cfg["sites"][0]["loss_fraction"] = 0.04
    cfg["interactive"] = [{"name": "web", "demand": "web", "sites": ["s1"]}]
    r = solve_ok(cfg, series=pd.DataFrame({"web": [5.0, 15.0]}))
    ds = r.ds
    assert ds["n_on"].sel(site="s1").values.tolist() == [1, 2]
    assert ds["p_it"].sel(site="s1").values == pytest.approx([1.5, 3.5])
    assert ds["p_loss"].sel(site="s1").values == pytest.approx([0.06, 0.14])
    assert ds["p_cool"].sel(site="s1").values == pytest.approx([0.156, 0.364])
    assert ds["p_facility"].sel(site="s1").values == pytest.approx([1.716, 4.004])
    assert r.objective == pytest.approx(572.0)
    assert r.kpis["pue"]["s1"] == pytest.approx(1.04 * 1.1)


@pytest.mark.parametrize(
    ("initial_on", "starts"),
    [
        (0, 2.0),  # one block started in t0, one more in t1
        (None, 1.0),  # t0 is free (state unknown); one more in t1
        (2, 1.0),  # switch one off in t0 (saves 1.1 MWh = 110 > 50), restart in t1
    ],
)
def test_startup_cost_counted_against_initial_on(initial_on, starts):
    """Demand [5, 15, 15], start-up 50 CNY/block.

    Energy: fac = [1.5, 3.5, 3.5] * 1.1 = [1.65, 3.85, 3.85] MWh -> 935 CNY in every case.
    initial_on=0: starts 1 (t0) + 1 (t1) = 2 -> 100 CNY.
    initial_on=None: t0 not charged, 1 start in t1 -> 50 CNY.
    initial_on=2: keeping the 2nd block idle in t0 costs 1 MW*1.1*100 = 110 > 50, so it is
    switched off and restarted in t1 -> 50 CNY.
    """
    cfg = base_config(periods=3)
    cfg["sites"][0].update(startup_cost=50.0, initial_on=initial_on)
    cfg["interactive"] = [{"name": "web", "demand": "web", "sites": ["s1"]}]
    r = solve_ok(cfg, series=pd.DataFrame({"web": [5.0, 15.0, 15.0]}))
    assert r.ds["n_on"].sel(site="s1").values.tolist() == [1, 2, 2]
    assert float(r.ds["n_start"].sum()) == pytest.approx(starts)
    assert r.costs["startup"] == pytest.approx(50.0 * starts)
    assert r.costs["grid_energy"] == pytest.approx(935.0)
    assert r.objective == pytest.approx(935.0 + 50.0 * starts)


def test_batch_job_goes_to_cheapest_periods_of_tou():
    """TOU over 6 h: valley 50 (00-01, 02-04), peak 200 (01-02, 05-06), flat 100 (04-05).

    Job: 30 units*h, max_rate 10, window periods 1..4 (release 1, deadline 5 exclusive).
    Prices in the window: p1 200, p2 50, p3 50, p4 100. The valley p0 is before release.
    At max_rate the job needs 3 periods; splitting below 10 units costs an extra idle block.
    Cheapest three: p2, p3, p4 -> x = [0, 0, 10, 10, 10, 0].
    Each running period: IT = 1 + 0.1*10 = 2 MW, fac = 2.2 MW.
    cost = 2.2 * (50 + 50 + 100) = 440 CNY.
    """
    cfg = base_config(periods=6)
    cfg["nodes"][0]["tariff"] = {
        "prices": {"valley": 50.0, "peak": 200.0, "flat": 100.0},
        "periods": {
            "valley": ["00:00-01:00", "02:00-04:00"],
            "peak": ["01:00-02:00", "05:00-06:00"],
        },
    }
    cfg["batch"] = [
        {
            "name": "train",
            "work": 30.0,
            "release": 1,
            "deadline": 5,
            "max_rate": 10.0,
            "sites": ["s1"],
        }
    ]
    r = solve_ok(cfg)
    x = r.batch_schedule().sel(job="train", site="s1").values
    assert x == pytest.approx([0, 0, 10, 10, 10, 0])
    assert r.objective == pytest.approx(440.0)


def test_batch_job_goes_to_the_cheaper_of_two_sites():
    """Job 20 units*h, max_rate 10, 2 periods; site a: 100 CNY/MWh, COP 10; b: 80, COP 5.

    Per period at rate 10: IT = 2 MW.
    a: 2 * (1 + 1/10) = 2.2 MW * 100 = 220 CNY;  b: 2 * (1 + 1/5) = 2.4 MW * 80 = 192 CNY.
    Hotter but cheaper b wins: x_b = [10, 10], cost = 2 * 192 = 384 CNY.
    """
    cfg = base_config(periods=2)
    cfg["sites"][0]["name"] = "a"
    add_node(cfg, "n2", tariff=80.0)
    add_site(cfg, "b", "n2", cooling={"cop": 5.0})
    cfg["batch"] = [{"name": "job", "work": 20.0, "max_rate": 10.0, "sites": ["a", "b"]}]
    r = solve_ok(cfg)
    x = r.batch_schedule().sel(job="job")
    assert x.sel(site="b").values == pytest.approx([10, 10])
    assert x.sel(site="a").values == pytest.approx([0, 0])
    assert r.objective == pytest.approx(384.0)


def test_interactive_split_when_one_site_lacks_capacity():
    """Demand 25 units, eligible a (1 block, COP 10) and b (2 blocks, COP 5), same price 100.

    a can serve at most 10, so b serves >= 15 and needs both its blocks anyway. A unit at a
    costs 0.1*1.1*100 = 11 CNY, at b 0.1*1.2*100 = 12 CNY, so a is filled: a 10, b 15.
    fac a = (1 + 1) * 1.1 = 2.2 MW ; fac b = (2 + 1.5) * 1.2 = 4.2 MW
    cost = (2.2 + 4.2) * 100 = 640 CNY per period.
    """
    cfg = base_config(periods=1)
    cfg["sites"][0].update(name="a", blocks=1)
    add_site(cfg, "b", "n1", blocks=2, cooling={"cop": 5.0})
    cfg["interactive"] = [{"name": "web", "demand": 25.0, "sites": ["a", "b"]}]
    r = solve_ok(cfg)
    served = r.ds["x_serve"].sel(workload="web")
    assert served.sel(site="a").values == pytest.approx([10.0])
    assert served.sel(site="b").values == pytest.approx([15.0])
    assert r.ds["n_on"].sel(site="b").values.tolist() == [2]
    assert r.ds["p_facility"].sel(site="b").values == pytest.approx([4.2])
    assert r.objective == pytest.approx(640.0)


@pytest.mark.parametrize(
    ("ambient", "changes", "expected"),
    [
        (10.0, {}, 25.0),  # <= t_free 12: cop_free
        (12.0, {}, 25.0),  # at t_free exactly
        # >= t_mech 20: chiller 7 * (1 - 0.025 * (35 - 25)) = 7 * 0.75 = 5.25
        (35.0, {}, 5.25),
        # at t_mech: 7 * (1 - 0.025 * (20 - 25)) = 7 * 1.125 = 7.875
        (20.0, {}, 7.875),
        # 7 * (1 - 0.025 * 40) = 0 -> floored at cop_min 2
        (65.0, {}, 2.0),
        # blended, flat chiller (cop_slope 0 -> chiller 7): share (16-12)/8 = 0.5
        # 1/COP = 0.5/25 + 0.5/7 = 64/700 -> COP = 700/64 = 10.9375
        (16.0, {"cop_slope": 0.0}, 10.9375),
        # blended, default slope: chiller at T = 7 * (1 + 0.025 * 9) = 8.575 (docs/math:
        # the chiller COP is taken at T), 1/COP = 0.5/25 + 0.5/8.575 -> COP = 12.7699
        (16.0, {}, 1.0 / (0.5 / 25.0 + 0.5 / 8.575)),
    ],
)
def test_cop_from_ambient(ambient, changes, expected):
    cooling = Cooling(ambient=ambient, **changes)
    got = cop_from_ambient(np.array([ambient]), cooling)
    assert got == pytest.approx([expected])


def test_cop_from_ambient_used_by_the_model():
    """Ambient 10 degC (free cooling, COP 25), demand 10: IT 2 MW, fac = 2 * 1.04 = 2.08 MW."""
    cfg = base_config(periods=1)
    cfg["sites"][0]["cooling"] = {"ambient": 10.0}
    cfg["interactive"] = [{"name": "web", "demand": 10.0, "sites": ["s1"]}]
    r = solve_ok(cfg)
    assert r.ds["cop"].sel(site="s1").values == pytest.approx([25.0])
    assert r.ds["p_facility"].sel(site="s1").values == pytest.approx([2.08])
