"""Cluster rules (minimum up/down times, ramp limits) and GPU power capping, solved by hand.

Every scenario is the conftest base site unless stated: 1 h periods, flat tariff
100 CNY/MWh, COP 10 and no losses, so facility power = 1.1 x IT and an MWh of IT costs
110 CNY; a block holds 10 units, idles at 1 MW and draws 0.1 MW per unit served (1 MW of
dynamic power at full load). Math: docs/math/datacenter.md ("Minimum up and down times",
"Ramp limits on facility power", "GPU power capping").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok

from suandian.results.accounting import books
from suandian.results.certifier import certify


def _one_block(demand: list[float], **site) -> dict:
    """One block, interactive demand ``web`` (series), start-ups at 50 CNY."""
    cfg = base_config(periods=len(demand))
    cfg["sites"][0].update(blocks=1, startup_cost=50.0, initial_on=0, **site)
    cfg["interactive"] = [{"name": "web", "demand": "web", "sites": ["s1"]}]
    return cfg


def _solve(cfg: dict, demand: list[float], **series):
    return solve_ok(cfg, series=pd.DataFrame({"web": demand, **series}))


def _tamper(result, change) -> set[str]:
    """Certify a changed copy of the Dataset, with the objective re-synchronised."""
    ds = result.ds.copy(deep=True)
    change(ds)
    ds.attrs["objective"] = books(ds)["cost"]["total"]
    return {v.check for v in certify(ds)}


# ----------------------------------------------------------------- minimum up time
UP_DEMAND = [10.0, 0.0, 0.0, 10.0]


def test_without_min_up_the_block_cycles():
    """Reference: demand 10 in t0 and t3 only. Keeping the block on over t1, t2 costs
    2 h x 1 MW idle x 110 = 220 CNY, a second start 50: it stops and restarts.
    IT = [2, 0, 0, 2] MWh -> 4 x 110 = 440, plus 2 starts = 100: 540 CNY."""
    r = _solve(_one_block(UP_DEMAND), UP_DEMAND)
    assert r.ds["n_on"].sel(site="s1").values.tolist() == [1, 0, 0, 1]
    assert r.objective == pytest.approx(540.0)


def test_min_up_time_keeps_the_block_on():
    """min_up_hours 3: the block started in t0 must stay on in t0, t1, t2 (then t3 needs it
    anyway). IT = [2, 1, 1, 2] = 6 MWh -> 660 CNY, one start 50: 710 CNY."""
    r = _solve(_one_block(UP_DEMAND, min_up_hours=3.0), UP_DEMAND)
    assert r.ds["n_on"].sel(site="s1").values.tolist() == [1, 1, 1, 1]
    assert r.ds["n_start"].sel(site="s1").values.tolist() == pytest.approx([1, 0, 0, 0])
    assert r.objective == pytest.approx(710.0)
    assert int(r.ds["min_up_periods"].sel(site="s1")) == 3


def test_min_up_time_in_hours_rounds_up_to_periods():
    """2.5 h at 1 h periods is 3 periods: the same plan as with 3 h (710 CNY)."""
    r = _solve(_one_block(UP_DEMAND, min_up_hours=2.5), UP_DEMAND)
    assert r.ds["n_on"].sel(site="s1").values.tolist() == [1, 1, 1, 1]
    assert r.objective == pytest.approx(710.0)


def test_min_up_carried_over_from_before_the_horizon():
    """No demand. The block was on for 1 h before the horizon (initial_on 1,
    initial_up_hours 1) with a 3-h minimum: it stays on 2 more periods, t0 and t1:
    2 x 1 MW idle x 110 = 220 CNY. Without initial_up_hours (long enough): off, 0 CNY."""
    demand = [0.0] * 4
    cfg = _one_block(demand, min_up_hours=3.0)
    cfg["sites"][0]["initial_on"] = 1
    free = _solve(cfg, demand)
    assert free.ds["n_on"].sel(site="s1").values.tolist() == [0, 0, 0, 0]
    assert free.objective == pytest.approx(0.0)
    cfg["sites"][0]["initial_up_hours"] = 1.0
    r = _solve(cfg, demand)
    assert r.ds["n_on"].sel(site="s1").values.tolist() == [1, 1, 0, 0]
    assert r.objective == pytest.approx(220.0)


def test_min_up_tamper_is_caught():
    """A second start reported in t2 of the 3-h plan: n_on[t2] = 1 < starts in t0..t2 = 2."""
    r = _solve(_one_block(UP_DEMAND, min_up_hours=3.0), UP_DEMAND)

    def change(ds):
        ds["n_start"].loc[{"site": "s1", "time": ds["time"].values[2]}] = 1.0

    assert "dc.min_up" in _tamper(r, change)


# --------------------------------------------------------------- minimum down time
DOWN_DEMAND = [10.0, 0.0, 10.0, 0.0]


def test_min_down_time_keeps_the_block_on_through_a_short_gap():
    """Demand in t0 and t2. Without a minimum down time the block stops in t1 (idling costs
    110 CNY, a restart 50): IT [2, 0, 2, 0] -> 440 + 2 starts = 540 CNY. With
    min_down_hours 2 a stop in t1 would keep it off in t2, where it is needed: it stays on,
    IT [2, 1, 2, 0] = 5 MWh -> 550 + 1 start = 600 CNY; it may stop in t3 (the horizon ends).
    """
    base = _solve(_one_block(DOWN_DEMAND), DOWN_DEMAND)
    assert base.ds["n_on"].sel(site="s1").values.tolist() == [1, 0, 1, 0]
    assert base.objective == pytest.approx(540.0)
    r = _solve(_one_block(DOWN_DEMAND, min_down_hours=2.0), DOWN_DEMAND)
    assert r.ds["n_on"].sel(site="s1").values.tolist() == [1, 1, 1, 0]
    assert r.ds["n_stop"].sel(site="s1").values.tolist() == pytest.approx([0, 0, 0, 1])
    assert r.objective == pytest.approx(600.0)


def test_min_down_carried_over_and_tamper():
    """A batch job (10 unit*h, at most 10 units/h) at prices [50, 60, 200, 300]: it would
    run in t0. The block has been off 1 h (initial_on 0, initial_down_hours 1) with a 3-h
    minimum down time, so it stays off in t0 and t1: the job runs in t2 at 200 CNY/MWh.
    IT in t2 = 1 + 1 = 2 MW -> 2.2 MWh x 200 = 440 CNY, one start 50: 490 CNY."""
    cfg = _one_block([0.0] * 4, min_down_hours=3.0, initial_down_hours=1.0)
    cfg["nodes"][0]["tariff"] = "price"
    cfg["batch"] = [{"name": "job", "work": 10.0, "max_rate": 10.0, "sites": ["s1"]}]
    r = _solve(cfg, [0.0] * 4, price=[50.0, 60.0, 200.0, 300.0])
    assert r.ds["n_on"].sel(site="s1").values.tolist() == [0, 0, 1, 0]
    assert r.objective == pytest.approx(490.0)

    def change(ds):  # the stored carry-over says the block was off long enough; say 0 h
        ds["down_before_periods"].loc[{"site": "s1"}] = 0.0

    ok = r.ds.copy(deep=True)
    assert certify(ok) == []
    # with 0 periods off before the horizon the block must stay off t0..t2: t2 breaks
    assert "dc.min_down" in _tamper(r, change)


# ------------------------------------------------------------------------ ramps
def test_ramp_up_limit_binds():
    """Two blocks, demand [0, 20, 20, 0] (both blocks full in t1, t2: IT 4 MW, facility
    4.4 MW) and a batch job of 5 unit*h (at most 10 units/h), flat price. Without a ramp
    limit the job runs on one block in t0 or t3: IT 1 + 0.5 = 1.5 MWh; total IT
    1.5 + 4 + 4 = 9.5 MWh -> 1,045 CNY (no start-up cost here).
    ramp_up 1.65 MW/h: facility power in t0 must be >= 4.4 - 1.65 = 2.75 MW = 2.5 MW IT:
    the only way is both blocks on (2 MW idle) with the whole job (5 units, 0.5 MW) in t0.
    IT = 2.5 + 4 + 4 + 0 = 10.5 MWh -> 1,155 CNY (110 more: the second block idling in t0).
    """
    demand = [0.0, 20.0, 20.0, 0.0]
    cfg = base_config(periods=4)
    cfg["interactive"] = [{"name": "web", "demand": "web", "sites": ["s1"]}]
    cfg["batch"] = [{"name": "job", "work": 5.0, "max_rate": 10.0, "sites": ["s1"]}]
    free = _solve(cfg, demand)
    assert free.objective == pytest.approx(1045.0)
    cfg["sites"][0]["ramp_up"] = 1.65
    r = _solve(cfg, demand)
    assert r.objective == pytest.approx(1155.0)
    assert r.ds["n_on"].sel(site="s1").values.tolist() == [2, 2, 2, 0]
    fac = r.ds["p_facility"].sel(site="s1").values
    assert fac == pytest.approx([2.75, 4.4, 4.4, 0.0])
    assert np.diff(fac).max() == pytest.approx(1.65)

    def change(ds):  # a tighter stored limit: the step t0 -> t1 (1.65 MW) breaks it
        ds["ramp_up"].loc[{"site": "s1"}] = 1.5

    assert _tamper(r, change) == {"dc.ramp_up"}


def test_ramp_down_limit_binds():
    """The mirror image: demand [20, 20, 0, 0], ramp_down 1.65 MW/h. Facility power in t2
    must be >= 4.4 - 1.65 = 2.75 MW (IT 2.5): both blocks on with the whole 5-unit job in
    t2; and in t3 >= 2.75 - 1.65 = 1.1 MW (IT 1): one block idling. IT = 4 + 4 + 2.5 + 1
    = 11.5 MWh -> 1,265 CNY."""
    demand = [20.0, 20.0, 0.0, 0.0]
    cfg = base_config(periods=4)
    cfg["sites"][0]["ramp_down"] = 1.65
    cfg["interactive"] = [{"name": "web", "demand": "web", "sites": ["s1"]}]
    cfg["batch"] = [{"name": "job", "work": 5.0, "max_rate": 10.0, "sites": ["s1"]}]
    r = _solve(cfg, demand)
    assert r.objective == pytest.approx(1265.0)
    assert r.ds["p_facility"].sel(site="s1").values == pytest.approx([4.4, 4.4, 2.75, 1.1])
    assert r.ds["n_on"].sel(site="s1").values.tolist() == [2, 2, 2, 1]


# ------------------------------------------------------------------ power capping
CURVE = [[0.6, 0.8], [1.0, 1.0]]


def _capping(curve) -> dict:
    """One block always on (min_on 1), a batch job of 16 unit*h at <= 10 units/h over two
    periods priced 100 and 400 CNY/MWh."""
    cfg = base_config(periods=2)
    cfg["nodes"][0]["tariff"] = "price"
    cfg["sites"][0].update(blocks=1, min_on=1, power_cap_curve=curve)
    cfg["batch"] = [{"name": "job", "work": 16.0, "max_rate": 10.0, "sites": ["s1"]}]
    return cfg


PRICE = pd.DataFrame({"price": [100.0, 400.0]})


def test_without_capping_power_is_linear():
    """Linear: 0.1 MW per unit. The cheap hour takes the most it can, 10 units, the dear
    one 6. IT = 1 + 1 = 2 MW, then 1 + 0.6 = 1.6 MW; cost 2 x 110 + 1.6 x 440 = 924 CNY."""
    r = solve_ok(_capping(None), series=PRICE)
    assert r.objective == pytest.approx(924.0)


def test_capping_curve_serves_the_work_at_lower_power_when_energy_is_dear():
    """Curve (0, 0) - (0.6, 0.8) - (1, 1) of a block's 1 MW dynamic power: segment rows
    u <= 4/3 p and u <= 0.5 p + 0.5 n (u = 0.1 x, the uncapped dynamic power), so the least
    dynamic power for x units is p(x) = max(0.075 x, 0.2 x - 1) MW: 0.075 MW per unit up to
    8 units, 0.2 MW per unit above. Marginal cost per unit: cheap hour 8.25 then 22 CNY,
    dear hour 33 then 88 CNY. Every unit in the cheap hour (<= 22) beats the dear hour
    (>= 33): x = (10, 6). p = (0.2 x 10 - 1, 0.075 x 6) = (1.0, 0.45) MW -- the dear hour
    runs at 60 % throughput on 45 % of the dynamic power.
    Cost: idle 1.1 x (100 + 400) = 550, dynamic 1.0 x 110 + 0.45 x 440 = 308: 858 CNY
    (66 less than the linear 924)."""
    r = solve_ok(_capping(CURVE), series=PRICE)
    assert r.objective == pytest.approx(858.0)
    assert r.ds["p_dyn"].sel(site="s1").values == pytest.approx([1.0, 0.45])
    assert r.ds["p_it"].sel(site="s1").values == pytest.approx([2.0, 1.45])
    x = r.batch_schedule().sel(job="job", site="s1").values
    assert x == pytest.approx([10.0, 6.0])

    def change(ds):  # a stored curve with less throughput at 60 % power: t1 breaks it
        ds["cap_throughput_share"].loc[{"site": "s1", "cap_point": 0}] = 0.7

    assert _tamper(r, change) == {"dc.cap_curve"}

    def above_full(ds):  # more dynamic power than a block has (p_it moved along)
        ds["p_dyn"].loc[{"site": "s1", "time": ds["time"].values[0]}] = 1.2
        ds["p_it"].loc[{"site": "s1", "time": ds["time"].values[0]}] = 2.2

    assert "dc.cap_limit" in _tamper(r, above_full)


def test_interactive_work_has_its_own_dynamic_power():
    """dynamic_power_interactive 0.05 MW/unit: 10 units of interactive demand draw
    1 + 0.5 = 1.5 MW IT, facility 1.65 MW: 165 CNY per hour, 330 for two hours (with
    dynamic_power 0.1 it would be 2.2 MW, 440 CNY)."""
    cfg = base_config(periods=2)
    cfg["sites"][0].update(blocks=1, dynamic_power_interactive=0.05)
    cfg["interactive"] = [{"name": "web", "demand": 10.0, "sites": ["s1"]}]
    r = solve_ok(cfg)
    assert r.objective == pytest.approx(330.0)
    assert r.ds["p_it"].sel(site="s1").values == pytest.approx([1.5, 1.5])


def test_capped_interactive_work_uses_its_own_power():
    """Capping with dynamic_power_interactive 0.05: 8 units of inference are u = 0.4 MW
    uncapped; the block's full dynamic power is 10 x max(0.1, 0.05) = 1 MW, so the curve
    (0.6, 0.8), (1, 1) needs p >= max(0.75 u, 2 u - 1) = 0.3 MW. IT 1.3 MW, facility
    1.43 MW: 143 CNY per hour, 286 for two."""
    cfg = base_config(periods=2)
    cfg["sites"][0].update(blocks=1, dynamic_power_interactive=0.05, power_cap_curve=CURVE)
    cfg["interactive"] = [{"name": "web", "demand": 8.0, "sites": ["s1"]}]
    r = solve_ok(cfg)
    assert r.objective == pytest.approx(286.0)
    assert r.ds["p_dyn"].sel(site="s1").values == pytest.approx([0.3, 0.3])
    assert float(r.ds["full_dynamic_power"].sel(site="s1")) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("curve", "message"),
    [
        ([[0.6, 0.8]], "must end at the uncapped block"),
        ([[0.6, 0.5], [1.0, 1.0]], "not concave"),
        ([[0.8, 0.9], [0.6, 0.95], [1.0, 1.0]], "does not increase"),
    ],
)
def test_bad_capping_curve_is_named(curve, message):
    cfg = _capping(curve)
    with pytest.raises(Exception, match=message):
        scenario(cfg, series=PRICE)


def test_initial_up_hours_needs_initial_on():
    cfg = base_config()
    cfg["sites"][0].update(min_up_hours=2.0, initial_up_hours=1.0)
    with pytest.raises(Exception, match="initial_up_hours .* needs initial_on"):
        scenario(cfg)
