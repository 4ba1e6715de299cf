"""The first LP by the interior point method and fix-and-optimise over windows (issue 21).

**Standard-form case** (``two_periods``), solved by hand: a job of 6 units to serve over two
periods t = 1, 2, tied across them (the work may go in either), with an integer count of
blocks n_t in {0, 1, 2} per period (4 units each: s_t <= 4 n_t), blocks at 5 CNY in period 1
and 2 CNY in period 2, the work s_t at 1 CNY/unit in period 1 and 2 CNY/unit in period 2;
s_1 + s_2 = 6.

* MIP: 4 (n_1 + n_2) >= 6 needs two blocks at least. (2, 0): 10 + 6 x 1 = 16;
  (1, 1): 5 + 2 + 4 x 1 + 2 x 2 = **15**; (0, 2): 4 + 6 x 2 = 16; three or four blocks cost
  more (the work can be served with two already): (1, 2) 5 + 4 + 4 + 4 = 17, (2, 1) 12 + 6 =
  18, (2, 2) 14 + 6 = 20. The optimum is **15 at n = (1, 1), s = (4, 2)**, unique.
* LP relaxation: n_t = s_t / 4, so a unit costs 5/4 + 1 = 2.25 in period 1 and 2/4 + 2 =
  2.5 in period 2; all 6 units in period 1, n_1 = 1.5: **13.5 CNY**.
* Fix-and-optimise from the plan (1, 2) (17 CNY) with the window {n_2} free, n_1 = 1 fixed:
  n_2 = 0 leaves 4 < 6 units (infeasible), n_2 = 1 gives 15, n_2 = 2 gives 17: **15**, the
  optimum. With both periods in one window the sub-MIP is the whole MIP: 15 from any plan.
* Every block on (the fallback): n = (2, 2), the work where cheapest, s_1 = 6 (<= 8):
  10 + 4 + 6 = **20 CNY**.
"""

from __future__ import annotations

import numpy as np
import pytest

from suandian.deadline import Deadline
from suandian.highs import HandOver, SolveOptions
from suandian.linear import CSC
from suandian.run import fix_optimise, mip_start

OPTIMUM, LP_BOUND, ALL_ON = 15.0, 13.5, 20.0


def two_periods() -> HandOver:
    """Columns n1, n2, s1, s2; rows s1 - 4 n1 <= 0, s2 - 4 n2 <= 0, s1 + s2 = 6."""
    rows = [0, 0, 1, 1, 2, 2]
    cols = [2, 0, 3, 1, 2, 3]
    vals = [1.0, -4.0, 1.0, -4.0, 1.0, 1.0]
    inf = np.inf
    return HandOver(
        c=np.array([5.0, 2.0, 1.0, 2.0]),
        offset=0.0,
        lb=np.zeros(4),
        ub=np.array([2.0, 2.0, inf, inf]),
        integer=np.array([True, True, False, False]),
        A=CSC.from_coo(rows, cols, vals, (3, 4)),
        row_lo=np.array([-inf, -inf, 6.0]),
        row_hi=np.array([0.0, 0.0, 6.0]),
    )


def plan(n1: float, n2: float) -> tuple[np.ndarray, float]:
    """A feasible plan with n = (n1, n2) and the work where cheapest (period 1 first)."""
    s1 = min(4 * n1, 6.0)
    x = np.array([n1, n2, s1, 6.0 - s1])
    return x, float(two_periods().c @ x)


OPTS = SolveOptions(threads=1)
UP = np.array([1, 1, 0, 0], np.int8)


def test_one_window_frees_what_the_hand_derivation_needs():
    ho = two_periods()
    x, objective = plan(1, 2)
    assert objective == 17.0
    out = fix_optimise.improve(
        ho, ho.integer, x, objective, [np.array([1])], OPTS, Deadline(np.inf)
    )
    assert out.improved
    assert out.objective == pytest.approx(OPTIMUM)
    np.testing.assert_allclose(out.x, [1, 1, 4, 2], atol=1e-7)


def test_a_window_over_both_periods_is_the_whole_mip():
    ho = two_periods()
    x, objective = plan(2, 0)
    out = fix_optimise.improve(
        ho, ho.integer, x, objective, [np.array([0, 1])], OPTS, Deadline(np.inf)
    )
    assert out.objective == pytest.approx(OPTIMUM)


def test_windows_hold_at_most_the_free_columns_asked():
    periods = np.array([0, 1, 0, 1])
    hoods = fix_optimise.windows(periods, two_periods().integer, free_max=1)
    assert [list(h) for h in hoods] == [[0], [1]]
    assert [list(h) for h in fix_optimise.windows(periods, two_periods().integer, 5)] == [[0, 1]]


def test_no_node_for_the_sub_mips_still_returns_a_plan_no_dearer():
    """With ``mip_max_nodes=0`` (work limited, not wall time) the plan given comes back."""
    ho = two_periods()
    x, objective = plan(1, 2)
    out = fix_optimise.improve(
        ho, ho.integer, x, objective, [np.array([0]), np.array([1])], OPTS, Deadline(np.inf), 0
    )
    assert out.objective <= objective + 1e-9
    assert out.objective >= OPTIMUM - 1e-9
    lhs = np.array([out.x[2] - 4 * out.x[0], out.x[3] - 4 * out.x[1], out.x[2] + out.x[3]])
    assert lhs[0] <= 1e-7 and lhs[1] <= 1e-7 and lhs[2] == pytest.approx(6.0)


@pytest.mark.parametrize("solver", ["ipm", "simplex"])
def test_the_start_from_either_first_lp_has_the_hand_derived_bound(solver):
    """The LP relaxation (13.5) is the start's bound, below its plan, which is 15 or 16."""
    ho = two_periods()
    start = mip_start.construct(ho, ho.integer, UP, OPTS, Deadline(np.inf), None, first_lp=solver)
    assert start is not None
    assert start.bound == pytest.approx(LP_BOUND)
    assert start.bound <= start.objective
    assert OPTIMUM - 1e-9 <= start.objective <= 16.0 + 1e-9
    then = fix_optimise.improve(
        ho, ho.integer, start.x, start.objective, [np.array([0, 1])], OPTS, Deadline(np.inf)
    )
    assert then.objective == pytest.approx(OPTIMUM)
    assert start.bound <= then.objective


def test_first_lp_stopped_by_its_iteration_limit_leaves_the_fallback_plan():
    """No IPM iteration (a work limit, presolve off) gives no relaxation and no start; the
    fallback (its LPs by the simplex, not limited) puts every block on: 20 CNY."""
    ho = two_periods()
    limited = SolveOptions(threads=1, highs_options={"ipm_iteration_limit": 0, "presolve": "off"})
    start = mip_start.construct(ho, ho.integer, UP, limited, Deadline(np.inf), None, first_lp="ipm")
    assert start is None
    fb = mip_start.fallback(ho, ho.integer, UP, OPTS, Deadline(np.inf))
    assert fb is not None
    assert fb.objective == pytest.approx(ALL_ON)
    assert fb.bound == pytest.approx(LP_BOUND)
    assert fb.bound <= fb.objective


def test_solve_by_the_ipm_start_and_windows_reaches_the_batch_optimum(monkeypatch):
    """The hand-solved batch site of ``test_mip_start`` (605 CNY; LP relaxation 550 CNY).

    One site does not split into blocks; with ``IPM_MIN_COLUMNS`` at 0 its LP relaxation is
    solved by the IPM, and fix-and-optimise (on) runs over its windows before HiGHS. The
    answer is the optimum derived there, the bound the relaxation's or higher, below it.
    """
    from conftest import scenario
    from test_mip_start import batch_case

    import suandian
    from suandian.run import strategy

    monkeypatch.setattr(strategy, "IPM_MIN_COLUMNS", 0)
    r = suandian.solve(scenario(batch_case()), mip_rel_gap=0.0, fix_optimise=True)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(605.0)
    assert r.info.start["bound"] == pytest.approx(550.0)
    assert r.info.bound <= r.objective + 1e-9
    assert r.info.start["fix_optimise"]["subs"] >= 1
    assert r.certify() == []


def test_a_second_run_of_an_instance_gets_the_seconds_given_on_top_of_its_run_time():
    """HiGHS compares ``time_limit`` with the instance's run time over all its runs."""
    from suandian.highs import highs_lp, limit_run, new_highs

    ho = two_periods()
    h = new_highs(OPTS, 100.0)
    h.passModel(highs_lp(ho, np.zeros(4, bool)))
    h.run()
    spent = h.getRunTime()
    limit_run(h, 5.0)
    assert h.getOptions().time_limit >= spent + 5.0
    limit_run(h, -1.0)  # nothing left: no negative limit
    assert h.getOptions().time_limit >= spent
