"""Job placement (one site per window), migration over data links, interactive headroom.

Hand-solved on two sites (conftest's block: capacity 10 units, idle 1 MW, 0.1 MW/unit, COP 10,
no losses, so facility power = 1.1 * (blocks on + 0.1 * units served)).
"""

from __future__ import annotations

import copy

import numpy as np
from conftest import base_config, solve_ok

from suandian.results.accounting import books
from suandian.results.certifier import certify


def _two_sites(periods: int = 4) -> dict:
    """s1 at n1 (100 CNY/MWh, 1 block), s2 at n2 (150 CNY/MWh, 2 blocks)."""
    cfg = base_config(periods=periods)
    cfg["nodes"].append({"name": "n2", "tariff": 150.0, "emission_factor": 0.5})
    s2 = copy.deepcopy(cfg["sites"][0])
    s2.update(name="s2", node="n2")
    cfg["sites"][0]["blocks"] = 1
    cfg["sites"].append(s2)
    return cfg


def _job(**extra) -> dict:
    return {"name": "train", "work": 60.0, "max_rate": 20.0, "sites": ["s1", "s2"], **extra}


def _tamper(result, change) -> set[str]:
    """Certify a changed copy of the Dataset, with the objective re-synchronised."""
    ds = result.ds.copy(deep=True)
    change(ds)
    ds.attrs["objective"] = books(ds)["cost"]["total"]
    return {v.check for v in certify(ds)}


# ------------------------------------------------------------------ one_site placement
def test_split_job_uses_both_sites():
    """Split: s1 (cheap, 1 block) runs 10 units in each of the 4 h: 40 of the 60 units*h,
    4 h x 1.1 x (1 + 1) MW x 100 = 880 CNY. The other 20 at s2: block-hours >= 2, cost
    150 x 1.1 x (block-hours + 0.1 x 20) = 165 x 4 = 660 CNY. Total 1,540 CNY."""
    cfg = _two_sites()
    cfg["batch"] = [_job()]
    r = solve_ok(cfg)
    assert abs(r.objective - 1540.0) < 1e-4


def test_one_site_job_runs_at_one_site():
    """one_site over the whole window: s1 can do at most 40 < 60, so all 60 at s2:
    block-hours >= 6, 165 x (6 + 6) = 1,980 CNY; nothing at s1 (no block on)."""
    cfg = _two_sites()
    cfg["batch"] = [_job(placement="one_site")]
    r = solve_ok(cfg)
    assert abs(r.objective - 1980.0) < 1e-4
    ds = r.ds
    at_s1 = ds["x_run"].values[ds["run_site"].values == "s1"]
    assert np.allclose(at_s1, 0.0)
    y = dict(zip(ds["place_site"].values, ds["y_place"].values, strict=True))
    assert y == {"s1": 0, "s2": 1}


def test_tampered_placement_is_caught():
    cfg = _two_sites()
    cfg["batch"] = [_job(placement="one_site")]
    r = solve_ok(cfg)

    def both(ds):  # open s1 too: two sites in the window
        ds["y_place"].values[:] = 1

    assert "dc.place_one" in _tamper(r, both)

    def run_closed(ds):  # close s2 while the job runs there
        ds["y_place"].values[:] = [1, 0]

    assert "dc.place_rate" in _tamper(r, run_closed)


# ------------------------------------------------------------------ interactive headroom
def test_headroom_forces_a_second_block():
    """Demand 9 units at s1 (2 blocks of 10). rho = 1: one block, 1.1 x (1 + 0.9) = 2.09 MW;
    rho = 0.8: 9 / 0.8 = 11.25 > 10 needs two blocks, 1.1 x (2 + 0.9) = 3.19 MW.
    4 h x 100 CNY/MWh: 836 and 1,276 CNY."""
    cfg = base_config()
    cfg["interactive"] = [{"name": "web", "demand": 9.0, "sites": ["s1"]}]
    assert abs(solve_ok(cfg).objective - 836.0) < 1e-4
    cfg["interactive"][0]["max_utilization"] = 0.8
    r = solve_ok(cfg)
    assert abs(r.objective - 1276.0) < 1e-4
    assert (r.ds["n_on"].values == 2).all()

    def one_block(ds):
        ds["n_on"].values[:] = 1

    assert "dc.compute_capacity" in _tamper(r, one_block)
