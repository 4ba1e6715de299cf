"""The first plan from the plan of the 1-h aggregate (suandian.run.aggregate, issue 21).

**Standard-form case** (``two_periods`` of ``test_fix_optimise``): a job of 6 units over two
periods, blocks n_t in {0, 1, 2} of 4 units, blocks at 5 and 2 CNY, work at 1 and 2 CNY/unit;
optimum 15 at n = (1, 1), s = (4, 2).

* Hint n = (1, 1): fixed, the LP of the rest gives s = (4, 2): **15 CNY**, step
  ``aggregate``.
* Hint n = (0, 1): fixed, 4 units of capacity for 6: infeasible. The repair lets the ``up``
  columns rise above the hint (n_1 >= 0, n_2 >= 1, both <= 2): n_2 = 1 is paid, so its 4
  units cost 2 each; the 2 units left cost 5/4 + 1 = 2.25 in period 1 against 2/4 + 2 = 2.5
  in period 2, so n_1 = 0.5, s = (2, 4): 2.5 + 2 + 2 + 8 = 14.5. Rounded up, n = (1, 1), and
  the LP of the rest gives s = (4, 2): **15 CNY**, step ``aggregate>up``.

**Scenario case** (``quarter_hours``): :func:`conftest.base_config` (blocks of 10 units, idle
1 MW, 0.1 MW/unit, facility 1.1 x IT, 100 CNY/MWh) on 8 quarter-hours, a second site ``s2``
like ``s1`` but idle 2 MW, and one workload served at either, 5 units in each quarter of the
first hour and 8, 12, 12, 8 in the second. Dynamic energy is the same wherever the work goes:
(4 x 5 + 8 + 12 + 12 + 8) x 0.25 h = 15 unit-h x 0.1 MW x 1.1 x 100 = 165 CNY. A block-hour
costs 110 CNY at ``s1``, 220 at ``s2``.

* The fine optimum: 12 units in a quarter need two blocks, the second at ``s1`` (27.5 CNY)
  rather than at ``s2`` (55); one block at ``s1`` elsewhere: n_on(s1) = (1, 1, 1, 1, 1, 2, 2,
  1), (6 x 1 + 2 x 2) x 0.25 = 2.5 block-hours x 110 + 165 = **440 CNY**.

With the demand aggregated by its **mean** (models below ``DEMAND_PEAK_MIN_COLUMNS``):

* The aggregate: 2 periods of 1 h, demand 5 and 10. One block at ``s1`` serves either hour
  (10 units); 2 block-hours x 110 + (5 + 10) x 0.1 x 1.1 x 100 = **385 CNY**, n_on(s1) = (1,
  1), n_on(s2) = (0, 0), unique (any other block costs 110 or 220 more).
* Mapped: n_on(s1) = 1 in all 8 quarters, s2 = 0. The two quarters of 12 units exceed the
  10 units of one block: infeasible. The repair: raising s1 to 1.2 costs 0.2 x 110 x 0.25 =
  5.5 a quarter, s2 to 0.2 costs 11: s1 to 1.2 in quarters 6 and 7, rounded up to 2: the
  fine optimum, **440 CNY**, step ``aggregate>up``.

With the demand aggregated by its hourly **peak** (from ``DEMAND_PEAK_MIN_COLUMNS``):

* The aggregate: demand 5 and 12. Hour 2 needs two blocks, both at ``s1`` (220 against 330
  with one at ``s2``): 3 block-hours x 110 + (5 + 12) x 0.1 x 1.1 x 100 = **517 CNY**,
  n_on(s1) = (1, 2), s2 = (0, 0).
* Mapped: n_on(s1) = (1, 1, 1, 1, 2, 2, 2, 2), feasible as it stands (step ``aggregate``):
  3 block-hours x 110 + 165 = **495 CNY**; the branch and bound then reaches 440.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import base_config, scenario
from test_fix_optimise import OPTS, UP, two_periods

import suandian
from suandian.model import build_model, linear_model
from suandian.run import aggregate, mip_start
from suandian.run.strategy import solve_model
from suandian.run.warm import plan_of


def quarter_hours() -> tuple[dict, pd.DataFrame]:
    """The scenario case: two sites, one workload at either, 8 quarter-hours."""
    c = base_config(8, "15min")
    s2 = {**c["sites"][0], "name": "s2", "idle_power": 2.0}
    c["sites"].append(s2)
    c["interactive"] = [{"name": "w", "demand": "demand_w", "sites": ["s1", "s2"]}]
    index = pd.date_range("2026-07-15 00:00", periods=8, freq="15min")
    series = pd.DataFrame({"demand_w": [5.0, 5, 5, 5, 8, 12, 12, 8]}, index=index)
    return c, series


@pytest.mark.parametrize(
    ("hint", "step"), [((1.0, 1.0), "aggregate"), ((0.0, 1.0), "aggregate>up")]
)
def test_hint_first_gives_the_hand_derived_plan_before_the_relaxation(hint, step):
    ho = two_periods()
    values = np.array([*hint, np.nan, np.nan])
    plan = mip_start.construct(ho, ho.integer.copy(), UP, OPTS, 10.0, hint=values, hint_first=True)
    assert plan is not None
    assert plan.step == step
    assert plan.objective == pytest.approx(15.0)
    assert plan.x[:2] == pytest.approx([1.0, 1.0])
    assert plan.bound == pytest.approx(13.5)  # the relaxation, solved after the plan


@pytest.mark.parametrize(("peak", "demand"), [(False, [5.0, 10.0]), (True, [5.0, 12.0])])
def test_coarsen_averages_the_series_over_each_hour(peak, demand):
    c, series = quarter_hours()
    series["price"] = [100.0, 100, 120, 120, 80, 80, 80, 60]
    c["nodes"][0]["tariff"] = "price"
    sc = scenario(c, series)
    assert aggregate.factor_of(sc) == 4
    coarse = aggregate.coarsen(sc, 4, peak)
    assert coarse is not None
    assert coarse.periods == 2 and coarse.dt == pytest.approx(1.0)
    assert coarse.profile("demand_w") == pytest.approx(demand)
    assert coarse.profile("price") == pytest.approx([110.0, 75.0])  # a price: its mean


def test_coarsen_rounds_job_windows_inwards_where_the_job_still_fits():
    c, series = quarter_hours()
    c["batch"] = [
        # quarters 1..6: inwards hour 1 only is too short for 25 unit-h at 20/h: outwards
        {"name": "a", "work": 25.0, "release": 1, "deadline": 6, "max_rate": 20.0, "sites": ["s1"]},
        # quarters 1..8: inwards hour 1 (quarters 4..7) holds 5 unit-h at 20/h
        {"name": "b", "work": 5.0, "release": 1, "deadline": 8, "max_rate": 20.0, "sites": ["s1"]},
    ]
    coarse = aggregate.coarsen(scenario(c, series), 4)
    assert coarse is not None
    jobs = {j.name: (j.release, j.deadline) for j in coarse.config.batch}
    assert jobs == {"a": (0, 2), "b": (1, 2)}


def test_coarsen_refuses_periods_that_do_not_divide():
    c, series = quarter_hours()
    sc = scenario(c, series)
    assert aggregate.coarsen(sc, 3) is None  # 8 periods are not a multiple of 3
    hourly = scenario(base_config(4), None)
    assert aggregate.factor_of(hourly) == 1  # already 1 h: nothing coarser


@pytest.mark.parametrize(
    ("peak", "coarse_cost", "hour_blocks", "step", "start_cost"),
    [
        (False, 385.0, [1.0, 1.0], "aggregate>up", 440.0),
        (True, 517.0, [1.0, 2.0], "aggregate", 495.0),
    ],
)
def test_the_aggregate_plan_mapped_and_repaired_is_the_hand_derived_plan(
    monkeypatch, peak, coarse_cost, hour_blocks, step, start_cost
):
    monkeypatch.setattr(aggregate, "DEMAND_PEAK_MIN_COLUMNS", 0 if peak else 10**9)
    c, series = quarter_hours()
    sc = scenario(c, series)
    coarse = aggregate.coarsen(sc, 4, peak)
    assert coarse is not None
    m = build_model(coarse, pyomo=False)
    info = solve_model(m, suandian.SolveOptions(mip_rel_gap=0.0), {})
    assert info.objective == pytest.approx(coarse_cost)
    lm_coarse = linear_model(m)
    fine = build_model(sc, pyomo=False)
    n_on = plan_of(lm_coarse)["dc.n_on"][1]
    assert n_on == pytest.approx(np.array([hour_blocks, [0.0, 0.0]]))
    values = aggregate.mapped(plan_of(lm_coarse), linear_model(fine), 4)
    var = next(v for v in linear_model(fine).var_order if v.name == "dc.n_on")
    assert values[var.cols] == pytest.approx(np.array([np.repeat(hour_blocks, 4), [0.0] * 8]))

    r = suandian.solve(sc, mip_rel_gap=0.0, aggregate="on")
    assert r.info.aggregate["objective"] == pytest.approx(coarse_cost)
    assert r.info.start["step"] == step
    assert r.info.start["objective"] == pytest.approx(start_cost)
    assert r.objective == pytest.approx(440.0)
    assert r.ds["n_on"].sel(site="s1").values == pytest.approx([1, 1, 1, 1, 1, 2, 2, 1])
    assert r.certify() == []


def test_aggregate_off_and_auto_below_its_size_leave_the_solve_as_before():
    c, series = quarter_hours()
    for mode in ("off", "auto"):
        r = suandian.solve(scenario(c, series), mip_rel_gap=0.0, aggregate=mode)
        assert r.info.aggregate == {}
        assert r.objective == pytest.approx(440.0)


def test_a_bad_aggregate_option_names_the_values():
    with pytest.raises(ValueError, match="aggregate='yes'"):
        suandian.SolveOptions(aggregate="yes")
