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
from conftest import DEFAULT_SCENARIO, base_config, scenario

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
    plan = construct(ho, ho.integer.copy(), model.lm.rounding(), SolveOptions(), 10.0)
    assert plan is not None
    xi = plan.x[ho.integer]
    assert np.allclose(xi, np.round(xi))
    assert plan.bound == pytest.approx(550.0)
    assert 605.0 - 1e-6 <= plan.objective <= 935.0 + 1e-6
    # the plan's objective is its cost vector applied to it
    assert float(ho.c @ plan.x + ho.offset) == pytest.approx(plan.objective)


def test_tiny_time_limit_returns_the_start_certified_with_status_and_gap():
    r = suandian.solve(scenario(batch_case()), time_limit=1e-3, mip_rel_gap=0.0)
    assert r.has_plan and r.status in ("optimal", "time_limit")
    assert r.certify() == []
    assert r.objective <= r.info.start["objective"] + 1e-6  # the start, or better
    assert r.info.bound <= r.objective + 1e-6
    assert r.mip_gap == pytest.approx((r.objective - r.info.bound) / r.objective, abs=1e-9)


def test_default_day_at_a_tiny_time_limit_still_has_a_certified_plan():
    r = suandian.solve(suandian.load_scenario(DEFAULT_SCENARIO), time_limit=1e-3)
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
    cols = model.lm.vars["dc.n_on"].cols.ravel()
    assert model.lm.mip_lower()[cols] == pytest.approx([2.0] * 4)
    assert hand_over(model).lb[cols] == pytest.approx([0.0] * 4)  # the LP keeps min_on
    assert (model.lm.rounding()[cols] == 1).all()
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
    from suandian.cli import main

    seen = {}
    real = suandian.solve

    def spy(scenario, **options):
        seen.update(options)
        return real(scenario, **options)

    monkeypatch.setattr(suandian, "solve", spy)
    out = str(tmp_path / "plan")
    code = main(["solve", "--no-mip-start", "--no-certify", "--formats", "csv", "--out", out])
    assert code == 0 and seen["mip_start"] is False
