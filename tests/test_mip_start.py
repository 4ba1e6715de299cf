"""The constructive MIP start (suandian.run.mip_start) and the n_on demand bound (issue 10).

The hand-solved case (``batch_case``): one site with 2 blocks of 10 units (idle 1 MW, 0.1
MW/unit, COP 10, no losses: facility = 1.1 x IT), a flat 100 CNY/MWh, 4 periods of 1 h, no
start-up cost, and one batch job of 25 unit-h over the 4 hours (at most 20 units/h).

* Dynamic energy is fixed: 0.1 x 25 = 2.5 MWh IT -> 2.5 x 1.1 x 100 = 275 CNY.
* Idle energy is 1 MW per block-hour -> 110 CNY per block-hour. Each hour needs
  10 n_on[t] >= x[t]; with sum x = 25 the fewest integer block-hours are ceil(25/10) = 3
  (e.g. 10, 10, 5, 0 units): optimum 3 x 110 + 275 = **605 CNY**.
* The LP relaxation may hold 2.5 block-hours: 2.5 x 110 + 275 = **550 CNY** (the bound the
  start reports).
* A start rounds the LP's block-hours up hour by hour: each hour's ceiling is below its LP
  value + 1, so the start holds fewer than 2.5 + 4 block-hours, i.e. at most 6, and costs at
  most 6 x 110 + 275 = 935 CNY (and at least the optimum, 605).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DEFAULT_SCENARIO, base_config, cli_solve_options, scenario

import suandian
from suandian.highs import SolveOptions, hand_over
from suandian.model import build_model
from suandian.run.mip_start import construct


def batch_case() -> dict:
    c = base_config()
    c["batch"] = [
        {"name": "j", "work": 25.0, "release": 0, "deadline": 4, "max_rate": 20.0, "sites": ["s1"]}
    ]
    return c


def test_mip_with_the_start_reaches_the_optimum_derived_by_hand():
    r = suandian.solve(scenario(batch_case()), mip_rel_gap=0.0)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(605.0)
    assert r.certify() == []
    start = r.info.start
    assert start["bound"] == pytest.approx(550.0)  # the LP relaxation
    assert 605.0 - 1e-6 <= start["objective"] <= 935.0 + 1e-6
    assert float(r.ds["n_on"].sum()) == pytest.approx(3.0)


def test_construct_returns_an_integral_plan_within_the_hand_bounds():
    model = build_model(scenario(batch_case()), pyomo=False)
    ho = hand_over(model)
    plan = construct(ho, ho.integer.copy(), model.built.lm.rounding(), SolveOptions(), 10.0)
    assert plan is not None
    xi = plan.x[ho.integer]
    assert np.allclose(xi, np.round(xi))
    assert plan.bound == pytest.approx(550.0)
    assert 605.0 - 1e-6 <= plan.objective <= 935.0 + 1e-6
    # the plan's objective is its cost vector applied to it
    assert float(ho.c @ plan.x + ho.offset) == pytest.approx(plan.objective)


def test_tiny_time_limit_returns_the_start_certified_with_status_and_gap():
    # the first plan may take mip_start_seconds beyond the time limit (issue 21: without
    # it, a first plan shares the time limit and its margin, which a loaded machine may miss)
    r = suandian.solve(
        scenario(batch_case()), time_limit=1e-3, mip_rel_gap=0.0, mip_start_seconds=10.0
    )
    assert r.has_plan and r.status in ("optimal", "time_limit")
    assert r.certify() == []
    assert r.objective <= r.info.start["objective"] + 1e-6  # the start, or better
    assert r.info.bound <= r.objective + 1e-6
    assert r.mip_gap == pytest.approx((r.objective - r.info.bound) / r.objective, abs=1e-9)


def test_default_day_at_a_tiny_time_limit_still_has_a_certified_plan():
    # mip_start_seconds: the first plan's least time (before issue 21, the default 10 s)
    r = suandian.solve(
        suandian.load_scenario(DEFAULT_SCENARIO), time_limit=1e-3, mip_start_seconds=10.0
    )
    assert r.status in ("time_limit", "optimal")
    assert r.has_plan and r.certify() == []
    assert np.isfinite(r.mip_gap) and r.mip_gap >= 0
    assert r.info.bound <= r.objective
    assert r.objective <= r.info.start["objective"] + 1e-6


def test_start_off_reports_no_start():
    r = suandian.solve(scenario(batch_case()), mip_rel_gap=0.0, mip_start=False)
    assert r.info.start == {}
    assert r.objective == pytest.approx(605.0)


def test_infeasible_scenario_makes_no_start():
    # 30 units of demand against 2 blocks of 10: infeasible whatever the rounding
    c = base_config()
    c["interactive"] = [{"name": "w", "demand": 30.0, "sites": ["s1"]}]
    r = suandian.solve(scenario(c), diagnose=False)
    assert r.status == "infeasible"
    assert r.info.start == {}


@pytest.mark.parametrize(
    "field, value",
    [("mip_start", "yes"), ("mip_start_seconds", 0.0), ("mip_start_seconds", float("nan"))],
)
def test_options_are_validated(field, value):
    with pytest.raises(ValueError, match=field):
        SolveOptions(**{field: value})


def test_blocks_on_round_up_and_demand_bound():
    # 15 units of interactive demand served at s1 alone need ceil(15 / 10) = 2 blocks in
    # every hour: the lower bound of n_on is 2 (min_on is 0), and the hint rounds n_on up.
    c = base_config()
    c["interactive"] = [{"name": "w", "demand": 15.0, "sites": ["s1"]}]
    model = build_model(scenario(c), pyomo=False)
    cols = model.built.lm.vars["dc.n_on"].cols.ravel()
    assert model.built.lm.mip_lower()[cols] == pytest.approx([2.0] * 4)
    assert hand_over(model).lb[cols] == pytest.approx([0.0] * 4)  # the LP keeps min_on
    assert (model.built.lm.rounding()[cols] == 1).all()
    r = suandian.solve(scenario(c), mip_rel_gap=0.0)
    # 2 blocks: IT 2 + 1.5 = 3.5 MW x 1.1 x 4 h x 100 = 1540 CNY
    assert r.objective == pytest.approx(1540.0)


def test_trace_starts_with_the_start_and_ends_with_the_plan():
    r = suandian.solve(scenario(batch_case()), mip_rel_gap=0.0)
    trace = r.info.trace
    assert trace[0]["objective"] == pytest.approx(r.info.start["objective"])
    assert trace[0]["bound"] == pytest.approx(550.0)
    assert trace[-1]["objective"] == pytest.approx(605.0)
    assert trace[-1]["gap"] == pytest.approx(r.mip_gap, abs=1e-9)
    seconds = [e["seconds"] for e in trace]
    assert seconds == sorted(seconds)


def test_cli_flag_turns_the_start_off(tmp_path, monkeypatch):
    # the command line passes --no-mip-start through as SolveOptions(mip_start=False)
    seen = cli_solve_options(monkeypatch, tmp_path, "--no-mip-start")
    assert seen["mip_start"] is False


def test_reported_objective_matches_the_plan_after_an_improved_start():
    """Found by tests/test_property.py: with a start handed over by setSolution, HiGHS 1.16
    reported the improved MIP objective together with the start's column values (worth more),
    so the certifier's total_cost check failed. The hand-over now checks that the plan is
    worth the reported objective and re-solves without the start when it is not: the plan
    returned certifies and its cost is the objective (any improvement over the start kept).
    """
    import pandas as pd

    cfg = {
        "name": "prop",
        "horizon": {"start": "2026-07-15 00:00:00", "periods": 7, "resolution": "1h"},
        "nodes": [
            {"name": "n0", "tariff": 442.14, "emission_factor": 0.0, "import_limit": 31.93},
            {
                "name": "n1",
                "tariff": 991.43,
                "emission_factor": 0.0,
                "residual_emission_factor": 0.0,
                "import_limit": 5.18,
            },
            {"name": "n2", "tariff": 0.0, "emission_factor": "ef_n2"},
        ],
        "sites": [
            {
                "name": "s0",
                "node": "n1",
                "blocks": 2,
                "block_capacity": 9.82,
                "idle_power": 0.14,
                "dynamic_power": 0.029,
                "startup_cost": 34.75,
                "min_on": 0,
                "loss_fraction": 0.0,
                "cooling": {"ambient": 0.0, "t_free": 0.0, "t_mech": 0.0},
                "initial_on": 0,
            },
            {
                "name": "s1",
                "node": "n0",
                "blocks": 2,
                "block_capacity": 2.95,
                "idle_power": 0.86,
                "dynamic_power": 0.097,
                "startup_cost": 81.67,
                "min_on": 0,
                "loss_fraction": 0.045,
                "cooling": {"ambient": 0.0, "t_free": 0.0, "t_mech": 0.0},
                "initial_on": 2,
                "pue_cap": 1.8,
            },
        ],
        "interactive": [
            {"name": "w0", "demand": "dem_w0", "sites": ["s0", "s1"]},
            {"name": "w1", "demand": "dem_w1", "sites": ["s0", "s1"]},
        ],
        "batch": [
            {
                "name": "b0",
                "work": 2.03,
                "max_rate": 3.03,
                "sites": ["s0", "s1"],
                "release": 0,
                "deadline": 5,
            },
            {"name": "b1", "work": 8.44, "max_rate": 21.65, "sites": ["s1"]},
        ],
        "renewables": [
            {
                "name": "r0",
                "site": "s0",
                "kind": "pv",
                "capacity": 0.0,
                "profile": "cf_r0",
                "cost": 183.67,
            }
        ],
        "corridors": [
            {
                "name": "k0",
                "from_node": "n0",
                "to_node": "n1",
                "capacity": 18.92,
                "source_price": "price_k0",
                "tariff": 78.24,
                "loss": 0.062,
                "green_fraction": 0.0,
                "block_mw": 2.26,
            }
        ],
        "policies": {"green_share": None, "pue": None, "carbon_price": 0.0},
    }
    series = pd.DataFrame(
        {
            "ef_n2": [0.0] * 7,
            "dem_w0": [5.82, 7.76, 7.31, 5.66, 12.0, 6.08, 1.57],
            "dem_w1": [1.74, 2.02, 0.0, 6.54, 1.25, 9.65, 3.10],
            "cf_r0": [0.961, 0.5, 0, 0.185, 0.112, 0.308, 0.877],
            "price_k0": [408.66, 502.06, 404.85, 253.02, 491.48, 591.06, 469.90],
        }
    )
    # no time_limit: the assertions need the optimum, whatever the machine's speed
    r = suandian.solve(suandian.load_scenario(cfg, series=series), mip_rel_gap=0)
    assert r.status == "optimal"
    assert r.certify() == []
    assert r.kpis["cost"]["total"] == pytest.approx(r.objective, rel=1e-9)
    assert r.objective <= r.info.start["objective"] + 1e-6
