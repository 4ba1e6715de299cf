"""One deadline for a whole solve (suandian.deadline, issue 21): no wall-time assertions.

Every phase reads the time left from one :class:`~suandian.deadline.Deadline`; these tests
drive it with a **fake clock** (a number the test moves), so what they assert does not
depend on the machine's speed.

The hand-solved case is ``batch_case`` of ``test_mip_start`` (one site of 2 blocks of 10
units, idle 1 MW, 0.1 MW/unit, facility 1.1 x IT, 100 CNY/MWh, 4 periods of 1 h, one batch
job of 25 unit-h within the 4 h, at most 20 units/h):

* dynamic energy is fixed: 0.1 x 25 x 1.1 x 100 = **275 CNY**; idle energy costs
  1 x 1.1 x 100 = 110 CNY per block-hour;
* the optimum holds ceil(25 / 10) = 3 block-hours: **605 CNY**; the LP relaxation 2.5:
  **550 CNY**;
* the **fallback** plan, every block on in every hour, holds 2 x 4 = 8 block-hours:
  8 x 110 + 275 = **1,155 CNY** (the job runs within the 20 units/h the blocks allow).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from conftest import DEFAULT_SCENARIO, scenario
from test_mip_start import batch_case

import suandian
from suandian.deadline import Deadline
from suandian.highs import SolveOptions, hand_over, highs_lp, new_highs, run_until
from suandian.model import build_model
from suandian.results.result import Result
from suandian.run import strategy


class FakeClock:
    """A clock that shows ``now`` (seconds) until the test moves it."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_deadline_shares_what_is_left_on_its_clock():
    clock = FakeClock()
    d = Deadline(10.0, clock)
    assert d.left() == 10.0 and not d.expired()
    clock.now += 4.0
    assert d.left() == 6.0 and d.elapsed() == 4.0
    assert d.share(0.5).left() == 3.0  # half of what is left, not of the 10 s
    assert d.before(1.5).left() == 4.5
    assert d.before(8.0).left() == 0.0  # never before now
    assert d.limit() == 6.0 and d.limit(cap=2.0) == 2.0
    clock.now += 7.0
    assert d.left() == 0.0 and d.expired()
    assert Deadline(math.inf, clock).left() == math.inf
    with pytest.raises(ValueError, match="seconds"):
        Deadline(float("nan"))


def test_highs_gets_no_more_than_what_is_left(monkeypatch):
    """A start that takes 7 of 10 s leaves HiGHS at most 3 s (less the duals' reserve)."""
    clock = FakeClock()
    deadline = Deadline(10.0, clock)
    real_construct = strategy.construct
    given: list[float] = []
    real_new_highs = strategy.new_highs

    def slow_construct(*args, **kwargs):
        plan = real_construct(*args, **kwargs)
        clock.now += 7.0
        return plan

    def spy(opts, time_limit):
        given.append(time_limit)
        return real_new_highs(opts, time_limit)

    monkeypatch.setattr(strategy, "construct", slow_construct)
    monkeypatch.setattr(strategy, "new_highs", spy)
    model = build_model(scenario(batch_case()), pyomo=False)
    info = strategy.solve_model(model, SolveOptions(mip_rel_gap=0.0), {}, deadline=deadline)
    assert given, "HiGHS was not created by the strategy"
    assert given[0] <= 3.0 + 1e-12
    assert info.deadline["highs_given"] <= 3.0 + 1e-12
    assert info.has_solution


def day_without_event() -> suandian.Scenario:
    """The default day without its DR event (no presolved baseline to solve first)."""
    raw = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    raw["demand_response"] = []
    return suandian.load_scenario(raw, base_dir=DEFAULT_SCENARIO.parent)


def test_an_interrupt_at_the_deadline_returns_the_incumbent_and_its_bound():
    """HiGHS alone on the default day without its DR event (no start, gap 0), stopped at its
    first plan.

    The fake clock jumps past the deadline when HiGHS reports its first improving plan, so
    the deadline's callback interrupts the run at HiGHS's next check (or the run is left
    behind); either way the plan returned is the incumbent, worth its objective, above the
    bound.
    """
    model = build_model(day_without_event(), pyomo=False)
    ho = hand_over(model)
    lower = model.built.lm.mip_lower()  # as the strategy hands it over (a plan sooner)
    ho.lb = ho.lb.copy()
    ho.lb[: len(lower)] = np.minimum(np.maximum(ho.lb[: len(lower)], lower), ho.ub[: len(lower)])
    clock = FakeClock()
    deadline = Deadline(1e6, clock)
    h = new_highs(SolveOptions(mip_rel_gap=0.0), deadline.limit())
    h.passModel(highs_lp(ho, ho.integer))

    def first_plan(event) -> None:
        clock.now += 2e6

    h.cbMipImprovingSolution.subscribe(first_plan)
    ran = run_until(h, deadline, len(ho.lb))
    assert ran.stopped_by in ("interrupt", "left_behind")
    assert ran.has_solution and ran.x is not None
    assert float(ho.c @ ran.x + ho.offset) == pytest.approx(ran.objective, rel=1e-6)
    assert ran.bound <= ran.objective + 1e-6


def test_a_solve_stopped_by_its_deadline_returns_a_certified_plan_with_its_gap(monkeypatch):
    """The same stop through the whole strategy: a certified plan, status time_limit, a gap."""
    clock = FakeClock()
    deadline = Deadline(1e6, clock)
    real_run_until = strategy.run_until

    def jump_at_first_plan(h, d, n):
        h.cbMipImprovingSolution.subscribe(lambda event: setattr(clock, "now", clock.now + 2e6))
        return real_run_until(h, d, n)

    monkeypatch.setattr(strategy, "run_until", jump_at_first_plan)
    model = build_model(day_without_event(), pyomo=False)
    opts = SolveOptions(mip_rel_gap=0.0, mip_start=False)
    info = strategy.solve_model(model, opts, {}, deadline=deadline)
    assert info.status == "time_limit"
    assert info.deadline["highs_stopped_by"] in ("interrupt", "left_behind")
    assert info.origin == "branch_and_bound"
    assert np.isfinite(info.mip_gap) and info.mip_gap >= 0
    assert info.bound <= info.objective + 1e-6
    r = Result.from_model(model, info)
    assert r.certify() == []


def test_fallback_plan_has_every_block_on_and_certifies(monkeypatch):
    """No rounding feasible (the start made none) and no time for HiGHS: the fallback.

    Every block on in every hour: 1,155 CNY (derived above), its bound the LP relaxation,
    550 CNY, so its gap is (1,155 - 550) / 1,155.
    """
    clock = FakeClock()
    deadline = Deadline(1e6, clock)
    real_fallback = strategy.fallback

    def fallback_then_time_is_up(ho, integer, rounding, opts, first_plan):
        plan = real_fallback(ho, integer, rounding, opts, Deadline(math.inf))
        clock.now += 2e6  # the deadline passes: no branch and bound
        return plan

    monkeypatch.setattr(strategy, "construct", lambda *a, **k: None)
    monkeypatch.setattr(strategy, "fallback", fallback_then_time_is_up)
    model = build_model(scenario(batch_case()), pyomo=False)
    info = strategy.solve_model(model, SolveOptions(mip_rel_gap=0.0), {}, deadline=deadline)
    assert info.origin == "fallback"
    assert info.status == "time_limit"
    assert info.objective == pytest.approx(1155.0)
    assert info.bound == pytest.approx(550.0)
    assert info.mip_gap == pytest.approx((1155.0 - 550.0) / 1155.0)
    assert info.start["step"].startswith("fallback") and info.start["returned"]
    r = Result.from_model(model, info)
    assert r.certify() == []
    assert float(r.ds["n_on"].sum()) == pytest.approx(8.0)


def test_branch_and_bound_improves_the_fallback_to_the_optimum(monkeypatch):
    """With time left, HiGHS starts from the fallback (1,155 CNY) and proves 605 CNY."""
    monkeypatch.setattr(strategy, "construct", lambda *a, **k: None)
    r = suandian.solve(scenario(batch_case()), mip_rel_gap=0.0, time_limit=math.inf)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(605.0)
    assert r.info.start["objective"] == pytest.approx(1155.0)
    assert r.info.origin == "branch_and_bound"
    assert r.certify() == []


def test_no_plan_in_time_is_reported_as_such(monkeypatch):
    """Neither start nor fallback nor HiGHS in time: status no_solution, no origin."""
    monkeypatch.setattr(strategy, "construct", lambda *a, **k: None)
    monkeypatch.setattr(strategy, "fallback", lambda *a, **k: None)
    deadline = Deadline(0.0, FakeClock())  # already passed: HiGHS is not run
    model = build_model(scenario(batch_case()), pyomo=False)
    info = strategy.solve_model(model, SolveOptions(), {}, deadline=deadline)
    assert info.status == "no_solution" and not info.has_solution and info.origin == ""
    assert info.deadline["highs_stopped_by"] == "not_run"


def test_mip_start_seconds_is_validated():
    assert SolveOptions().mip_start_seconds is None
    with pytest.raises(ValueError, match="mip_start_seconds"):
        SolveOptions(mip_start_seconds=0.0)


def test_a_presolved_plan_missing_in_time_ends_the_solve_with_no_plan_and_a_report():
    """The DR baseline found no plan in its share: no_solution, a summary, no exception."""
    from suandian.component import Presolved
    from suandian.run.solve import _no_presolved_plan

    sc = suandian.load_scenario(DEFAULT_SCENARIO)
    missing = {"dr": Presolved("no_solution", float("nan"), float("nan"))}
    r = _no_presolved_plan(sc, ["dr"], missing, {"presolve": 1.0})
    assert r.status == "no_solution" and not r.has_plan
    assert "dr" in r.info.highs_status
    assert "no_solution" in r.summary()
