"""VPP demand response against a baseline, and orderly curtailment (policy ``dr``).

Base site (conftest) with 15 units of interactive demand draws 3.85 MW every period (both
blocks on), at a flat 100 CNY/MWh, 4 periods of 1 h. A battery of 1 MW / 2 MWh, eta 0.9 both
ways, starts at 1 MWh and must end at >= 1 MWh ('cyclic'): at a flat price a cycle only loses
money, so without an event the battery stays idle and the plan costs 4 x 3.85 x 100 = 1540.

The event calls node n1 (site s1) in periods 1 and 2 (01:00-03:00), baseline 3.85 MW, minimum
bid 0.1 MW, at most 5 MW, shortfall 1000 CNY/MWh unless stated.
Delivering d MW in both event periods from the battery: the battery must charge before (t0)
and after (t3) what it gives: SOC after t2 = 1 + 0.9 c0 - (d1 + d2)/0.9, end = that + 0.9 c3
>= 1, so d1 + d2 <= 0.81 (c0 + c3) <= 1.62 (c <= 1 MW each): at most d = 0.81 MW per period.
The extra grid energy is 2d/0.81 (charging) - 2d (event) = 0.469136 d MWh, i.e. 46.9136 CNY
per MW delivered over the event. Participation (commitment d) earns capacity_price x d +
energy_price x 2 h x d: it pays exactly when capacity_price + 2 energy_price > 46.9136.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok

import suandian
from suandian import ScenarioError
from suandian.results.accounting import books
from suandian.results.certifier import certify

SHIFT = 2 * (1 / 0.81 - 1) * 100  # CNY per MW delivered over the 2-h event: 46.9136


def config(event: dict | None = None, curtailment=None) -> dict:
    """The base site with 15 units of demand, the battery, and optionally one event."""
    cfg = base_config(periods=4)
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    cfg["storage"] = [
        {
            "name": "bat",
            "site": "s1",
            "power": 1.0,
            "energy": 2.0,
            "eta_charge": 0.9,
            "eta_discharge": 0.9,
        }
    ]
    if event is not None:
        ev = {
            "name": "ev",
            "node": "n1",
            "start": "2026-07-15 01:00",
            "end": "2026-07-15 03:00",
            "min_bid": 0.1,  # > 0: not taking part is then u = 0 only (not u = 1, c = 0)
            "max_reduction": 5.0,
            "shortfall_price": 1000.0,
            "baseline": {"s1": 3.85},
        }
        ev.update(event)
        cfg["demand_response"] = [ev]
    if curtailment is not None:
        cfg["nodes"][0]["curtailment_limit"] = curtailment
    return cfg


def values(r, name: str) -> list:
    """A dr output of the one event (``p_dr_credit`` as a list over the 4 periods)."""
    return r.ds[name].sel(dr_event="ev").values.tolist()


@pytest.mark.parametrize(
    ("capacity", "energy", "takes_part"),
    [
        (20.0, 20.0, True),  # 20 + 2 x 20 = 60 > 46.91
        (10.0, 15.0, False),  # 10 + 2 x 15 = 40 < 46.91
        (0.0, 23.5, True),  # 47.0 > 46.91: energy price alone, barely
        (0.0, 23.4, False),  # 46.8 < 46.91
    ],
)
def test_participation_pays_when_revenue_exceeds_the_shifting_cost(capacity, energy, takes_part):
    """Revenue per MW committed (capacity + 2 h x energy price) against 46.9136 CNY of losses.

    Taking part: commit 0.81 MW (the most the battery delivers in both periods; committing
    more would pay the 1000 CNY/MWh shortfall on 2 h for at most 20 CNY/MW of capacity
    price), discharge 0.81 in t1 and t2, charge 1 MW in t0 and in t3 (0.81 x 2 / 0.81 = 2 MWh
    in all, 1 MW each is the only split). Grid: 4.85, 3.04, 3.04, 4.85 MW.
    Cost = 1540 + 0.81 x 46.9136 - 0.81 x (capacity + 2 energy) = 1578 - 0.81 x (c + 2 e).
    Not taking part: 1540, battery idle.
    """
    r = solve_ok(config({"capacity_price": capacity, "energy_price": energy}))
    if takes_part:
        assert values(r, "u_dr") == 1
        assert values(r, "p_dr_commit") == pytest.approx(0.81)
        assert values(r, "p_dr_credit") == pytest.approx([0, 0.81, 0.81, 0], abs=1e-7)
        assert values(r, "p_dr_shortfall") == pytest.approx([0, 0, 0, 0], abs=1e-7)
        assert values(r, "p_dr_reduction") == pytest.approx([-1.0, 0.81, 0.81, -1.0])
        assert r.ds["p_grid"].sel(site="s1").values == pytest.approx([4.85, 3.04, 3.04, 4.85])
        assert r.costs["dr_capacity"] == pytest.approx(-0.81 * capacity)
        assert r.costs["dr_energy"] == pytest.approx(-0.81 * 2 * energy)
        assert r.costs["dr_penalty"] == pytest.approx(0.0, abs=1e-6)
        assert r.objective == pytest.approx(1578.0 - 0.81 * (capacity + 2 * energy))
        assert r.objective == pytest.approx(1540.0 + 0.81 * (SHIFT - capacity - 2 * energy))
    else:
        assert values(r, "u_dr") == 0
        assert values(r, "p_dr_commit") == pytest.approx(0.0, abs=1e-9)
        assert r.objective == pytest.approx(1540.0)


def test_minimum_bid_above_what_can_be_delivered_means_no_participation():
    """min_bid 1 MW, prices 20 / 20: the battery delivers at most 1.62 MWh over the event.

    Commit 1 MW: revenue 20 + 20 x 1.62 = 52.4, shifting 0.81 x 46.9136 = 38.0, shortfall
    (1 - 0.81) x 2 h = 0.38 MWh x 1000 = 380: a loss of 365.6. So no participation: 1540.
    (Without the minimum bid the same prices commit 0.81 MW: the test above.)
    """
    r = solve_ok(config({"capacity_price": 20.0, "energy_price": 20.0, "min_bid": 1.0}))
    assert values(r, "u_dr") == 0
    assert values(r, "p_dr_commit") == pytest.approx(0.0, abs=1e-9)
    assert r.objective == pytest.approx(1540.0)


def test_overcommitment_pays_when_the_shortfall_price_is_low():
    """Shortfall price 5 CNY/MWh: a MW committed but not delivered costs 2 h x 5 = 10 CNY and
    earns a capacity price of 20, so the plan commits the maximum, 5 MW.

    Delivery is still 1.62 MWh over the event: a MWh delivered earns 20 (energy) + 5
    (shortfall avoided) = 25 > 23.4568 = 46.9136 / 2 of shifting losses per MWh. Both periods
    stay below the 5 MW commitment, so how the 1.62 MWh split between them is free.
    Cost = 1578 - 20 x 5 - 20 x 1.62 + 5 x (5 - 0.81) x 2 = 1578 - 100 - 32.4 + 41.9 = 1487.5.
    """
    r = solve_ok(config({"capacity_price": 20.0, "energy_price": 20.0, "shortfall_price": 5.0}))
    assert values(r, "p_dr_commit") == pytest.approx(5.0)
    assert sum(values(r, "p_dr_credit")) == pytest.approx(1.62)
    assert sum(values(r, "p_dr_shortfall")) == pytest.approx(10.0 - 1.62)
    assert r.costs["dr_penalty"] == pytest.approx(41.9)
    assert r.objective == pytest.approx(1487.5)


def test_curtailment_limit_series_binds_in_its_periods():
    """有序用电: the node may draw 3.35 MW in t1 and t2 (10 MW otherwise, i.e. no cap).

    The battery must give 0.5 MW in t1 and in t2 (1 MWh), charging 1/0.81 = 1.234568 MWh in
    t0 and t3 (split free: same price). Cost = 1540 + (1/0.81 - 1) x 100 = 1563.45679.
    """
    series = pd.DataFrame({"cap": [10.0, 3.35, 3.35, 10.0]})
    r = solve_ok(config(curtailment="cap"), series=series)
    grid = r.ds["p_grid"].sel(site="s1").values
    assert grid[1:3] == pytest.approx([3.35, 3.35])
    assert r.ds["p_discharge"].sel(storage="bat").values[1:3] == pytest.approx([0.5, 0.5])
    assert r.ds["p_charge"].sel(storage="bat").values.sum() == pytest.approx(1 / 0.81)
    assert r.ds["curtailment_limit"].sel(node="n1").values.tolist() == [10.0, 3.35, 3.35, 10.0]
    assert r.objective == pytest.approx(1540.0 + (1 / 0.81 - 1) * 100)


def test_scalar_curtailment_limit_and_event_together():
    """A constant cap of 4.85 MW (the draw while charging at 1 MW) does not bind the plan of
    the first test (prices 20 / 20): same cost, 1529.4; a cap of 4.5 MW does — the battery
    then charges at most 0.65 MW in t0 and t3, so it delivers 0.81 x 1.3 / 2 = 0.5265 MW per
    period: cost 1540 + 0.5265 x (46.9136 - 60) = 1533.11.
    """
    event = {"capacity_price": 20.0, "energy_price": 20.0}
    r = solve_ok(config(event, curtailment=4.85))
    assert r.objective == pytest.approx(1529.4)
    r = solve_ok(config(event, curtailment=4.5))
    assert values(r, "p_dr_commit") == pytest.approx(0.5265)
    assert r.objective == pytest.approx(1540.0 + 0.5265 * (SHIFT - 60.0))


# ------------------------------------------------ settlement: above the baseline, credited 0
def cheap_inside(event: dict, prices=(100.0, 100.0, 20.0, 100.0)) -> tuple[dict, pd.DataFrame]:
    """The base site, a lossless battery (eta 1) and a tariff series, with the event of
    ``config`` (01:00-03:00, baseline 3.85 MW unless ``event`` says otherwise)."""
    cfg = config(event)
    for key in ("eta_charge", "eta_discharge"):
        cfg["storage"][0][key] = 1.0
    cfg["nodes"][0]["tariff"] = "price"
    return cfg, pd.DataFrame({"price": list(prices)})


CHEAP_EVENT = {"energy_price": 50.0, "shortfall_price": 40.0}


def test_draw_above_the_baseline_in_a_cheap_period_is_credited_zero():
    """Prices 100, 100, 20, 100; event t1-t2, baseline 3.85, 50 CNY/MWh credited, shortfall
    40 CNY/MWh, no capacity price; lossless battery (1 MW, 2 MWh, 1 MWh at the start and >= 1
    at the end).

    Without the event: charge 1 MWh at t2 (20) and give it back at 100 (t0, t1 or t3):
    4 x 3.85 x 100 - 3.85 x 80 ... = 100 x 3.85 x 3 + 20 x 3.85 + 20 - 100 = 1152.
    With it, t2 is the cheap period inside the event. Charging there draws 4.85 > 3.85:
    credited 0 (not refused) and the commitment c is short there: 40 c. Discharging 1 MW in t1
    (from the 1 MWh at the start, recharged at t2) is credited min(c, 1): c = 1 earns
    50 - 40 = 10 (each MW of c earns 50 in t1 and pays 40 in t2; t1 cannot reduce more than
    the battery's 1 MW). Energy as without the event (1152): cost 1152 - 50 + 40 = 1142.
    Alternatives: no charge at t2 and 1 MW out in both periods (charged at t0 and t3 at 100):
    energy 1232 + 80 = 1312, credit 100: 1212; t2 idle: 1232 - 50 + 40 = 1222; not taking
    part: 1152. A rule forbidding a draw above the baseline while taking part (the model
    before 2026-12) leaves 1212 or 1152: it refuses the event, 10 CNY dearer.
    """
    cfg, series = cheap_inside(CHEAP_EVENT)
    r = solve_ok(cfg, series=series)
    assert values(r, "u_dr") == 1
    assert values(r, "p_dr_commit") == pytest.approx(1.0)
    assert r.ds["p_grid"].sel(site="s1").values == pytest.approx([3.85, 2.85, 4.85, 3.85])
    assert values(r, "p_dr_reduction") == pytest.approx([0.0, 1.0, -1.0, 0.0], abs=1e-7)
    assert values(r, "p_dr_credit") == pytest.approx([0, 1.0, 0, 0], abs=1e-7)
    assert values(r, "p_dr_shortfall") == pytest.approx([0, 0, 1.0, 0], abs=1e-7)
    assert values(r, "u_dr_above")[1:3] == [0, 1]
    assert r.costs["dr_energy"] == pytest.approx(-50.0)
    assert r.costs["dr_penalty"] == pytest.approx(40.0)
    assert r.objective == pytest.approx(1142.0)
    assert books(r.ds)["energy_mwh"]["dr_credited"] == pytest.approx(1.0)


def _fixed(cfg: dict, **cells) -> suandian.Result:
    """Solve ``cfg`` with dr columns fixed: name -> (values over the event, ...) per cell."""
    from suandian.model import build_model

    m = build_model(scenario(cfg), pyomo=False)
    lm = m.built.lm
    for name, values in cells.items():
        var = m.built.builders["dr"].recorded[name].var
        want = np.broadcast_to(np.asarray(values, dtype=float), var.shape)
        has = (var.cols >= 0) & ~np.isnan(want)
        lm.add_rows(f"test.fix.{name}", var.expr(), "==", np.nan_to_num(want), has)
    return suandian.solve(m, mip_rel_gap=0.0)


def test_period_settled_above_must_not_reduce():
    """A plan may settle a period as drawn above the baseline (z = 1, credited 0) only if it
    is: found by the K = 10 two-stage MIP start (z rounded up to 1 in every period, credit 0
    and the full shortfall in the model, while the sites drew 1.7-6.9 MW below the baseline
    and the books credited min(c, q)).

    Baseline 4.0 MW; the idle site draws 3.85 (q = 0.15 in t1 and t2); the battery's charge
    can lift the draw to 4.85, so ``u_dr_above`` exists (V = 0.85). First stage fixed as an
    evaluation fixes it, u = 1, c = 0.15 MW; z fixed to 1 in t1 (the rounding). Prices 20 / 20,
    shortfall 1000 CNY/MWh.

    Before the row ``above_measured`` the model kept the battery idle, credited 0 in t1 and
    paid 0.15 x 1000 there: 1540 - 20 x 0.15 - 20 x 0.15 + 150 = 1684, while the books credit
    min(0.15, 0.15) in t1 (1531): the certifier's total_cost failed. With the row, z = 1 needs
    q_t1 <= 0: the battery charges 0.15 MW in t1 (15 CNY) and gives back 0.15 x 0.81 MWh later
    at 100 (12.15 CNY; in t2 its credit is already capped at c): energy 1542.85, t1 credited 0
    and short 0.15 (150), t2 credited 0.15: 1542.85 + 150 - 3 - 3 = 1686.85, as the books say.
    """
    cfg = config({"capacity_price": 20.0, "energy_price": 20.0, "baseline": {"s1": 4.0}})
    r = _fixed(cfg, u_dr=1.0, p_dr_commit=0.15, u_dr_above=[np.nan, 1.0, np.nan, np.nan])
    assert r.status == "optimal"
    assert values(r, "dr_draw_bound") == pytest.approx([0.0, 0.85, 0.85, 0.0], abs=1e-6)
    assert values(r, "p_dr_reduction")[1] <= 1e-7
    assert values(r, "p_dr_credit") == pytest.approx([0, 0, 0.15, 0], abs=1e-7)
    assert r.objective == pytest.approx(1686.85)
    assert r.certify() == []
    # the point the model admitted before: t2 (q = 0.15) settled above, credit 0, short 0.15
    at = {"dr_event": "ev", "time": "2026-07-15 02:00"}
    ds = _tampered(_tampered(r.ds, "u_dr_above", 1, **at), "p_dr_credit", 0.0, **at)
    ds = _sync(_tampered(ds, "p_dr_shortfall", 0.15, **at))
    assert "dr.above_measured" in {v.check for v in certify(ds)}


def test_draw_bound_is_the_most_the_site_can_draw_above_its_baseline():
    """The big-M of ``credit_measured``, per period, from the rows (not 10 x the baseline).

    The site serves a fixed 15 units on its 2 blocks: IT 2 x 1 + 0.1 x 15 = 3.5 MW, facility
    3.5 x 1.1 = 3.85 MW; the only other use of the meter is the battery charging, at most
    1 MW. So the draw never exceeds 4.85 MW and the settled reduction never falls below
    3.85 - 4.85 = -1: ``dr_draw_bound`` is 1 MW in t1 and t2 (0 outside the window; the
    default before 2026-12 was 10 x 3.85 = 38.5 MW), and the plan is the first test's
    (1578 - 0.81 x 60 = 1529.4).
    """
    r = solve_ok(config({"capacity_price": 20.0, "energy_price": 20.0}))
    assert values(r, "dr_draw_bound") == pytest.approx([0.0, 1.0, 1.0, 0.0], abs=1e-6)
    assert r.info.size["integer_columns"] == 1 + 2  # u_dr, u_dr_above in t1 and t2
    assert r.objective == pytest.approx(1529.4)


def test_baseline_above_every_possible_draw_needs_no_binary():
    """Baseline 6 MW, above the 4.85 MW the site can draw at most (previous test): no period
    can be settled above the baseline, so there is no ``u_dr_above`` (bound 0) and the credit
    is min(commit, 6 - draw). Idle battery: 6 - 3.85 = 2.15 MW in each period; discharging
    0.81 MW in both (charged 1 MW at t0 and t3, as in the first test) makes it 2.96 MW at a
    cost of 0.81 x 46.9136 = 38.0 CNY. Prices 20 / 20: each MW committed earns 20 + 2 x 20 = 60
    > 46.91 per MW shifted, so commit 2.96: cost 1540 + 0.81 x 46.9136 - 60 x 2.96 = 1400.4.
    """
    r = solve_ok(config({"capacity_price": 20.0, "energy_price": 20.0, "baseline": {"s1": 6.0}}))
    assert values(r, "dr_draw_bound") == pytest.approx([0.0, 0.0, 0.0, 0.0])
    assert r.info.size["integer_columns"] == 1  # u_dr only
    assert values(r, "p_dr_commit") == pytest.approx(2.96)
    assert values(r, "p_dr_credit") == pytest.approx([0, 2.96, 2.96, 0], abs=1e-7)
    assert r.objective == pytest.approx(1540.0 + 0.81 * SHIFT - 60 * 2.96)


def test_measured_over_the_event_the_period_above_offsets_the_reduction():
    """The same day, ``measure: event``: the window's average reduction is credited in both
    periods. Charging x MWh at t2 and giving 1 MW in t1 averages (1 - x) / 2 over the event:
    commitment c = (1 - x) / 2 earns 50 x 2 h x c = 50 (1 - x), while the energy costs
    1232 - 80 x (the rest charged at t3 at 100): 1182 - 30 x, least at x = 1 where the average
    is 0. Taking part at the 0.1 MW minimum bid needs x <= 0.8: >= 1158. Discharging in both
    periods: 1212 as above. So no participation: 1152."""
    cfg, series = cheap_inside({**CHEAP_EVENT, "measure": "event"})
    r = solve_ok(cfg, series=series)
    assert values(r, "u_dr") == 0
    assert r.objective == pytest.approx(1152.0)
    assert bool(r.ds["dr_event_average"].sel(dr_event="ev"))


def test_event_average_is_credited_in_every_period():
    """``measure: event`` on the flat-price case of the first test (prices 20 / 20): the
    battery still gives 0.81 MW in t1 and t2, so the average is 0.81 and the plan is the same
    (1529.4); the measured reduction is 0.81 in both periods and 0 outside."""
    r = solve_ok(config({"capacity_price": 20.0, "energy_price": 20.0, "measure": "event"}))
    assert r.objective == pytest.approx(1529.4)
    assert values(r, "p_dr_measured") == pytest.approx([0, 0.81, 0.81, 0], abs=1e-7)
    assert values(r, "p_dr_credit") == pytest.approx([0, 0.81, 0.81, 0], abs=1e-7)


# ------------------------------------------------------------------ baseline rules
def test_no_event_baseline_of_a_flat_plan():
    """``baseline: no_event``: the plan without the event keeps the battery idle (a cycle only
    loses at a flat price): it draws 3.85 MW in every period, so the event is settled against
    3.85 MW as in the first test: cost 1578 - 0.81 x (20 + 2 x 20) = 1529.4."""
    r = solve_ok(config({"capacity_price": 20.0, "energy_price": 20.0, "baseline": "no_event"}))
    base = r.ds["dr_baseline"].sel(dr_event="ev", site="s1").values
    assert base == pytest.approx([0.0, 3.85, 3.85, 0.0])
    assert r.objective == pytest.approx(1529.4)
    assert "ev: no_event" in r.ds.attrs["dr_baseline_rules"]
    assert r.ds.attrs["dr_no_event_objective"] == pytest.approx(1540.0)


def test_no_event_baseline_holds_the_plans_own_discharge():
    """Prices 100, 120, 20, 100, lossless battery, event t1-t2 at 50 CNY/MWh credited and 40
    of shortfall. Without the event the battery gives its 1 MWh at 120 (t1) and takes it back
    at 20 (t2), the only best plan: draw 3.85, 2.85, 4.85, 3.85, energy 385 + 342 + 97 + 385 =
    1209. That is the no_event baseline: 2.85 MW in t1, 4.85 MW in t2.

    Against it t1 cannot be reduced (the battery already gives its 1 MW), so each committed
    MW is 40 short there; t2 is reduced only by charging less there and more at t3 (+80 per
    MWh) for 50 + 40: per MW committed 10 - 40 - 0 < 0. No participation: 1209.
    Against a typed 3.85 MW instead the plan's own discharge in t1 is paid: c = 1, credit 50
    in t1, 40 short at t2 (charging there): 1209 - 10 = 1199.
    """
    cfg, series = cheap_inside({**CHEAP_EVENT, "baseline": "no_event"}, (100, 120, 20, 100))
    r = solve_ok(cfg, series=series)
    base = r.ds["dr_baseline"].sel(dr_event="ev", site="s1").values
    assert base[1:3] == pytest.approx([2.85, 4.85])
    assert values(r, "u_dr") == 0
    assert r.objective == pytest.approx(1209.0)
    cfg, series = cheap_inside(CHEAP_EVENT, (100, 120, 20, 100))
    typed = solve_ok(cfg, series=series)
    assert values(typed, "p_dr_commit") == pytest.approx(1.0)
    assert typed.objective == pytest.approx(1199.0)


def test_no_event_baseline_of_an_infeasible_day_is_diagnosed():
    """An orderly-curtailment cap of 3 MW below the 3.85 MW the site must draw (the battery
    gives at most 2 MWh, not 4 x 0.85): the day has no plan without the event, so none with
    it either. The event is not offered and the solve reports the day infeasible with the
    diagnosis of the day without the event."""
    r = suandian.solve(
        scenario(config({"energy_price": 20.0, "baseline": "no_event"}, curtailment=3.0))
    )
    without = suandian.solve(scenario(config(curtailment=3.0)))
    assert r.status == without.status == "infeasible"
    assert r.diagnosis is not None and without.diagnosis is not None
    assert r.diagnosis.shortfalls == pytest.approx(without.diagnosis.shortfalls)
    assert r.diagnosis.shortfalls  # what cannot be served (which periods: equal optima)


#: metered draw of s1 before the event's day (Wednesday 2026-07-15), hourly: weekdays near
#: 4 MW at 01:00 and 02:00, the weekend and Monday 13 July (excluded below) at 9 MW
HISTORY_DAYS = {
    "2026-07-08": (4.2, 4.2),  # Wednesday: the fourth weekday back, not counted
    "2026-07-09": (4.0, 4.1),  # Thursday
    "2026-07-10": (3.95, 4.1),  # Friday
    "2026-07-11": (9.0, 9.0),  # Saturday
    "2026-07-12": (9.0, 9.0),  # Sunday
    "2026-07-13": (9.0, 9.0),  # Monday, excluded (an outage, say)
    "2026-07-14": (4.05, 4.1),  # Tuesday
}


def history() -> pd.DataFrame:
    """``s1_meter`` rows at 00:00-03:00 of each day of :data:`HISTORY_DAYS` (3.85 at 00:00)."""
    rows = {}
    for day, (one, two) in HISTORY_DAYS.items():
        for hour, value in ((0, 3.85), (1, one), (2, two), (3, 3.85)):
            rows[pd.Timestamp(day) + pd.Timedelta(hours=hour)] = value
    return pd.DataFrame({"s1_meter": rows}).rename_axis("time")


PREVIOUS = {"rule": "previous_days", "series": "s1_meter", "days": 3, "exclude": ["2026-07-13"]}


def test_previous_days_baseline():
    """Three like days (weekdays: the event is on a Wednesday) before 15 July, 13 July
    excluded: 14, 10 and 9 July. Baseline at 01:00 (4.05 + 3.95 + 4.0) / 3 = 4.0, at 02:00
    4.1. The site draws 3.85: 0.15 and 0.25 MW of reduction for nothing.

    Prices 0 / 20 / 1000 (capacity / energy / shortfall): committing c <= 0.15 earns 40 c;
    from 0.15 to 0.25 each MW more needs the battery in t1 only (23.4568 CNY per MWh given:
    1/0.81 - 1 MWh more bought at 100) for 40: worth it; above 0.25 both periods need it
    (46.9136 > 40). c = 0.25: cost 1540 + 0.1 x 23.4568 - 0.25 x 40 = 1532.34568.
    """
    ev = {"capacity_price": 0.0, "energy_price": 20.0, "baseline": PREVIOUS}
    sc = suandian.load_scenario(config(ev), history=history())
    r = suandian.solve(sc, mip_rel_gap=0.0)
    assert r.status == "optimal" and r.certify() == []
    base = r.ds["dr_baseline"].sel(dr_event="ev", site="s1").values
    assert base == pytest.approx([0.0, 4.0, 4.1, 0.0])
    assert "2026-07-14, 2026-07-10, 2026-07-09" in r.ds.attrs["dr_baseline_rules"]
    assert values(r, "p_dr_commit") == pytest.approx(0.25)
    assert r.objective == pytest.approx(1540.0 + 0.1 * SHIFT / 2 - 0.25 * 40.0)


def test_previous_days_from_a_history_file(tmp_path):
    """The history as a CSV file of rows before the horizon only (not aligned, kept as the
    scenario's history); ``day_type: any`` counts the weekend: 14, 12 and 11 July (13 July
    excluded): (4.05 + 9 + 9) / 3 = 7.35 MW at 01:00 and (4.1 + 9 + 9) / 3 = 7.3667 at 02:00."""
    history().to_csv(tmp_path / "meter.csv")
    cfg = config({"baseline": {**PREVIOUS, "day_type": "any"}, "energy_price": 20.0})
    cfg["series"] = ["meter.csv"]
    sc = suandian.load_scenario(cfg, base_dir=tmp_path)
    assert list(sc.history.columns) == ["s1_meter"] and "s1_meter" not in sc.series
    r = suandian.solve(sc, mip_rel_gap=0.0)
    base = r.ds["dr_baseline"].sel(dr_event="ev", site="s1").values
    assert base[1:3] == pytest.approx([7.35, 22.1 / 3])
    assert r.certify() == []


def test_window_holds_the_periods_before_it_as_history():
    """A 2-day horizon whose series run over both days: a window on the second day holds the
    first day's rows as history, so an event of the second day looks back at them. The event
    (16 July 01:00-03:00, one previous day of any type) takes the meter's 15 July values at
    01:00 and 02:00: 1 and 2 MW, in the whole horizon and in the window alike."""
    cfg = base_config(periods=48)
    cfg["interactive"] = [{"name": "web", "demand": "load", "sites": ["s1"]}]
    rule = {"rule": "previous_days", "series": "meter", "days": 1, "day_type": "any"}
    cfg["demand_response"] = [
        {
            "name": "ev",
            "node": "n1",
            "start": "2026-07-16 01:00",
            "end": "2026-07-16 03:00",
            "max_reduction": 5.0,
            "baseline": rule,
        }
    ]
    index = pd.date_range("2026-07-15", periods=48, freq="1h", name="time")
    series = pd.DataFrame({"load": 15.0, "meter": np.arange(48.0)}, index=index)
    sc = suandian.load_scenario(cfg, series=series)
    assert sc.history.empty
    w = sc.window(24, 24)
    assert w.history.index[0] == index[0] and w.history.index[-1] == index[23]
    assert w.history["meter"].tolist() == list(np.arange(24.0))
    assert sc.window(0, 24).history.empty
    r = suandian.solve(w, mip_rel_gap=0.0)
    assert r.ds["dr_baseline"].sel(dr_event="ev", site="s1").values[1:3] == pytest.approx([1, 2])
    assert r.certify() == []


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ({**PREVIOUS, "series": "nope"}, "unknown series"),
        ({**PREVIOUS, "days": 6}, "the series starts on 2026-07-08"),
        ({**PREVIOUS, "series": {"s2": "s1_meter"}}, "no series for site 's1'"),
    ],
)
def test_bad_previous_days_are_named(rule, fragment):
    with pytest.raises(ScenarioError) as info:
        suandian.load_scenario(config({"baseline": rule}), history=history())
    problems = [p for p in info.value.problems if p.field == "demand_response[0].baseline.series"]
    assert problems and any(fragment in p.message for p in problems), [
        str(p) for p in info.value.problems
    ]


def test_missing_like_day_is_named():
    """10 July (a like day) has no rows: the baseline is not computed from the days around it."""
    rows = history()
    rows = rows[rows.index.normalize() != pd.Timestamp("2026-07-10")]
    with pytest.raises(ScenarioError) as info:
        suandian.load_scenario(config({"baseline": PREVIOUS}), history=rows)
    assert [p.field for p in info.value.problems] == ["demand_response[0].baseline.series"]
    assert "no rows on 2026-07-10" in info.value.problems[0].message


def test_unknown_baseline_rule_is_named():
    with pytest.raises(ScenarioError) as info:
        scenario(config({"baseline": {"rule": "average"}}))
    assert any(p.field.startswith("demand_response[0].baseline") for p in info.value.problems)
    assert "no_event" in str(info.value)


# ------------------------------------------------------------------ certifier
@pytest.fixture(scope="module")
def solved():
    """The participating plan (prices 20 / 20) under a curtailment series."""
    series = pd.DataFrame({"cap": [10.0, 3.35, 3.35, 10.0]})
    cfg = config({"capacity_price": 20.0, "energy_price": 20.0}, curtailment="cap")
    return solve_ok(cfg, series=series)


def _tampered(ds, name, value, **where):
    ds = ds.copy(deep=True)
    ds[name].loc[where] = value
    return ds


def _sync(ds):
    ds.attrs["objective"] = books(ds)["cost"]["total"]
    return ds


def test_clean_plan_certifies(solved):
    assert certify(solved.ds) == []
    assert books(solved.ds)["cost"]["dr_energy"] == pytest.approx(solved.costs["dr_energy"])


@pytest.mark.parametrize(
    ("name", "value", "where", "check"),
    [
        ("p_dr_credit", 1.2, {"time": "2026-07-15 01:00"}, "dr.credit_max"),
        ("p_dr_credit", 0.3, {"time": "2026-07-15 00:00"}, "dr.p_dr_credit.window"),
        ("p_dr_reduction", 2.0, {"time": "2026-07-15 01:00"}, "dr.p_dr_reduction_def"),
        ("u_dr", 0, {}, "dr.commit_max"),
        ("dr_min_bid", 2.0, {}, "dr.commit_min"),
        ("u_dr_above", 1, {"time": "2026-07-15 01:00"}, "dr.credit_above"),
        ("u_dr_above", 1, {"time": "2026-07-15 00:00"}, "dr.u_dr_above.window"),
        ("p_dr_measured", 2.0, {"time": "2026-07-15 01:00"}, "dr.p_dr_measured_def"),
        ("curtailment_limit", 3.0, {"node": "n1", "time": "2026-07-15 01:00"}, "dr.curtail_max"),
    ],
)
def test_tampered_value_is_caught(solved, name, value, where, check):
    """Each change breaks the named row (objective re-synchronised with the books)."""
    where = dict(where)
    if name not in ("curtailment_limit",):
        where["dr_event"] = "ev"
    ds = _sync(_tampered(solved.ds, name, value, **where))
    found = {v.check for v in certify(ds)}
    if check is None:
        assert found == set()
    else:
        assert check in found, found


def test_tampered_commitment_changes_the_settlement(solved):
    """Commitment 0.81 -> 1.0 MW: the shortfall row breaks (0 < 1 - 0.81) and the books
    settle 20 x 1.0 capacity revenue and 0.19 x 2 x 1000 = 380 penalty, so the objective the
    solver reported no longer matches."""
    ds = _tampered(solved.ds, "p_dr_commit", 1.0, dr_event="ev")
    found = {v.check for v in certify(ds)}
    assert {"dr.shortfall_min", "total_cost"} <= found
    cost = books(ds)["cost"]
    assert cost["dr_capacity"] == pytest.approx(-20.0)
    assert cost["dr_penalty"] == pytest.approx(380.0)


# ------------------------------------------------------------------ inputs
@pytest.mark.parametrize(
    ("change", "field", "fragment"),
    [
        ({"sites": ["s1"]}, "demand_response[0]", "not both"),
        ({"min_bid": 6.0}, "demand_response[0]", "min_bid"),
        ({"start": "2026-07-15 01:30"}, "demand_response[0].start", "not a period start"),
        ({"end": "2026-07-15 06:00"}, "demand_response[0].end", "not a period start"),
        ({"baseline": {}}, "demand_response[0].baseline", "no baseline for site 's1'"),
        ({"baseline": {"s1": "base"}}, "demand_response[0].baseline.s1", "unknown series"),
        ({"node": "n9"}, "demand_response[0].node", "unknown node"),
    ],
)
def test_bad_event_inputs_are_named(change, field, fragment):
    with pytest.raises(ScenarioError) as info:
        scenario(config(change))
    problems = [p for p in info.value.problems if p.field.startswith(field)]
    assert problems, [str(p) for p in info.value.problems]
    assert any(fragment in p.message or fragment in p.value for p in problems), [
        str(p) for p in problems
    ]


def test_curtailment_series_must_be_known():
    with pytest.raises(ScenarioError) as info:
        scenario(config(curtailment="nope"))
    assert [p.field for p in info.value.problems] == ["nodes[0].curtailment_limit"]


def test_no_event_no_change(tiny):
    """Without events or caps the policy adds nothing: the base plan costs 1540 as before."""
    r = solve_ok(config())
    assert r.objective == pytest.approx(1540.0)
    assert "u_dr" not in r.ds
    assert suandian.load_scenario(config()).config.demand_response == []


# ------------------------------------------------------------------ reserves (policy rsv)
def with_reserves(*products: dict, prices=None) -> tuple[dict, pd.DataFrame | None]:
    """The base site and battery (module docstring) with reserve products, price 10 unless
    given, duration 1 h; ``prices``: a tariff series (then len(prices) periods)."""
    cfg = config()
    series = None
    if prices is not None:
        cfg["horizon"]["periods"] = len(prices)
        cfg["nodes"][0]["tariff"] = "price"
        series = pd.DataFrame({"price": prices})
    cfg["reserves"] = [{"price": 10.0, **p} for p in products]
    return cfg, series


def reserve(r, name: str) -> list:
    return r.ds["p_reserve"].sel(reserve=name, provider="bat").values.tolist()


def test_idle_battery_offers_what_power_and_energy_allow():
    """Flat price, battery idle at 1 MWh (of 2), 1 MW, eta 0.9, 1-h products at 10 CNY/MW/h.

    Up: min(power 1, energy 1 MWh x 0.9 delivered) = 0.9 MW every period.
    Down: min(power 1, room (2 - 1) / 0.9 = 1.11 MWh of charging) = 1 MW.
    Revenue (0.9 + 1) x 10 x 4 h = 76; cost 1540 - 76 = 1464. Charging to lift the up
    headroom to 1 MW costs (1/0.9 - 1)/0.9 MWh x 100 = 12.35 CNY for at most 3 x 0.1 x 10 = 3.
    """
    cfg, _ = with_reserves({"name": "up", "direction": "up"}, {"name": "dn", "direction": "down"})
    r = solve_ok(cfg)
    assert reserve(r, "up") == pytest.approx([0.9] * 4)
    assert reserve(r, "dn") == pytest.approx([1.0] * 4)
    assert r.costs["reserve_capacity"] == pytest.approx(-76.0)
    assert r.objective == pytest.approx(1464.0)


def test_headroom_follows_the_arbitrage_schedule():
    """Prices [50, 200] (tests/test_storage.py): charge 1 MW in t0, discharge 0.81 in t1.

    Up headroom, 1 CNY/MW/h (too cheap to change the dispatch):
    t0: power 1 + 1 (stop charging) = 2; energy at the start 1 MWh -> 0.9, at the end 1.9 ->
    1.71: 0.9 MW. t1: power 1 - 0.81 = 0.19; energy 1.9 -> 1.71 and 1.0 -> 0.9: 0.19 MW.
    Cost = 850.5 - 1 x (0.9 + 0.19) = 849.41.
    """
    cfg, series = with_reserves({"name": "up", "direction": "up", "price": 1.0}, prices=[50, 200])
    r = solve_ok(cfg, series=series)
    assert r.ds["p_discharge"].sel(storage="bat").values == pytest.approx([0.0, 0.81], abs=1e-9)
    assert reserve(r, "up") == pytest.approx([0.9, 0.19])
    assert r.objective == pytest.approx(850.5 - 1.09)


def test_market_cap_and_eligible_sites():
    """max_mw 0.5: 0.5 MW offered in each period (revenue 20); a product for another site's
    batteries gets nothing from this one."""
    cfg, _ = with_reserves({"name": "up", "direction": "up", "max_mw": 0.5})
    cfg["sites"].append(dict(cfg["sites"][0], name="s2"))
    cfg["reserves"].append({"name": "other", "direction": "down", "price": 10.0, "sites": ["s2"]})
    r = solve_ok(cfg)
    assert reserve(r, "up") == pytest.approx([0.5] * 4)
    assert reserve(r, "other") == pytest.approx([0.0] * 4)
    assert r.costs["reserve_capacity"] == pytest.approx(-20.0)


def test_up_reserve_limited_by_the_sites_import():
    """A 3.5 MW PV at availability 1 (owned) leaves 0.35 MW of grid import: the battery can
    lower the site's draw by 0.35 MW at most (it does not export), so up = 0.35 MW, not 0.9.
    Curtailing PV to import more costs 100 CNY/MWh for 10 of reserve. Cost 4 x 0.35 x (100 -
    10) = 126.
    """
    cfg, _ = with_reserves({"name": "up", "direction": "up"})
    cfg["renewables"] = [{"name": "pv", "site": "s1", "capacity": 3.5, "profile": 1.0}]
    r = solve_ok(cfg)
    assert reserve(r, "up") == pytest.approx([0.35] * 4)
    assert r.objective == pytest.approx(126.0)


@pytest.fixture(scope="module")
def arbitrage():
    """The arbitrage plan above with the up product capped at 5 MW by the market."""
    cfg, series = with_reserves(
        {"name": "up", "direction": "up", "price": 1.0, "max_mw": 5.0}, prices=[50, 200]
    )
    return solve_ok(cfg, series=series)


@pytest.mark.parametrize(
    ("name", "value", "t", "check"),
    [
        ("p_reserve", 0.5, 1, "rsv.up_power"),  # 0.5 + 0.81 > 1 MW
        ("p_reserve", 1.0, 0, "rsv.up_energy_start"),  # 1 / 0.9 > 1 MWh stored
        ("reserve_max", 0.1, 0, "rsv.market_max"),  # 0.9 offered
    ],
)
def test_tampered_reserve_is_caught(arbitrage, name, value, t, check):
    """One value changed in the arbitrage plan (objective re-synchronised with the books)."""
    ds = arbitrage.ds.copy(deep=True)
    sel = {"reserve": "up", "time": ds["time"].values[t]}
    if name == "p_reserve":
        sel["provider"] = "bat"
    ds[name].loc[sel] = value
    found = {v.check for v in certify(_sync(ds))}
    assert check in found, found


def test_unknown_reserve_price_series_is_named():
    cfg, _ = with_reserves({"name": "up", "direction": "up", "price": "fcr_price"})
    with pytest.raises(ScenarioError) as info:
        scenario(cfg)
    assert [p.field for p in info.value.problems] == ["reserves[0].price"]


def test_saved_result_certifies_after_reading_back(tmp_path):
    """Event, curtailment cap and both reserve directions through the results folder."""
    from suandian.results.certifier import certify_folder

    cfg = config({"capacity_price": 20.0, "energy_price": 20.0}, curtailment=4.85)
    cfg["reserves"] = [
        {"name": "up", "direction": "up", "price": 1.0, "max_mw": 0.3},
        {"name": "dn", "direction": "down", "price": 1.0},
    ]
    r = solve_ok(cfg)
    r.save(tmp_path / "out")
    assert certify_folder(tmp_path / "out") == []
    back = suandian.read_result(tmp_path / "out")
    assert back.ds["dr_member"].sel(dr_event="ev", site="s1").item()
    assert float(back.ds["p_dr_commit"].sel(dr_event="ev")) == pytest.approx(0.81)
