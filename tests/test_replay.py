"""Replay of a day-ahead plan against a realised day (``docs/math/stochastic.md``, "Replay").

Every case is the spot-market site of ``test_stochastic._spot_config``: both blocks always
on, tariff 0, the node's purchase settled at day-ahead 100 CNY/MWh, facility
``P = 1.1 * (2 + 0.1 * demand)`` MW (demand 5: 2.75 MW; 10: 3.3 MW; 15: 3.85 MW), 1-hour
periods.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import scenario
from test_stochastic import _frame, _low_day, _spot_config, _two_period_newsvendor

import suandian
from suandian.model import build_model
from suandian.run.replay import Replay, load_plan, replay, save_plan
from suandian.run.stochastic import plan_of

INDEX2 = pd.date_range("2026-07-15 00:00", periods=2, freq="1h")


def _position_plan(sc: suandian.Scenario, mw: float) -> dict:
    """A labelled plan of ``sc``'s decisions with the day-ahead position set to ``mw``."""
    m = build_model(sc, pyomo=False)
    r = suandian.solve(m, mip_rel_gap=0.0)
    plan = plan_of(m.built, r.ds)
    plan["grid.p_da"] = plan["grid.p_da"] * 0.0 + mw
    return plan


def _banded_day(dem=(10.0, 10.0)) -> suandian.Scenario:
    """Real-time 120, band ``tau = 0.1``, assessment ``delta = 50`` CNY/MWh, 2 hours."""
    return scenario(_spot_config(120.0, 0.1, 50.0, periods=2), _frame(INDEX2, dem=list(dem)))


@pytest.mark.parametrize("every", [1, 2])
def test_replay_settles_the_position_as_billed(every):
    """Position ``X = 4`` MW both hours (a commitment of 8 MWh); the forecast says demand 10,
    the day brings 5 then 15 (``P = 2.75``, ``3.85``); real-time ``p = 120``, band
    ``b = 0.1 X = 0.4`` MW, assessment ``q = 50``.

    * Hour 0: ``r = 2.75 - 4 = -1.25`` (sold back at 120), beyond the band
      ``1.25 - 0.4 = 0.85``: ``100 * 4 - 120 * 1.25 + 50 * 0.85 = 400 - 150 + 42.5 = 292.5``.
    * Hour 1: ``r = -0.15``, inside the band: ``400 - 18 = 382``.
    * Day: ``674.5`` CNY: day-ahead 800, real time ``-168``, assessed ``42.5`` on 0.85 MWh.

    Nothing stores energy, so re-planning every hour or once gives the same bill.
    """
    forecast = _banded_day()
    plan = _position_plan(forecast, 4.0)
    realised = _banded_day((5.0, 15.0))
    rep = replay(plan, forecast, realised, every, mip_rel_gap=0.0)
    assert isinstance(rep, Replay)
    assert rep.result.certify() == []
    assert rep.realised_cost == pytest.approx(674.5)
    cost = rep.result.costs
    assert cost["spot_day_ahead"] == pytest.approx(800.0)
    assert cost["spot_real_time"] == pytest.approx(-168.0)
    assert cost["spot_deviation"] == pytest.approx(42.5)
    dev = rep.deviations().set_index(["commitment", "quantity"])["mwh"]
    assert dev[("spot n1", "position")] == pytest.approx(8.0)
    assert dev[("spot n1", "metered import")] == pytest.approx(6.6)
    assert dev[("spot n1", "real-time sold back")] == pytest.approx(1.4)
    assert dev[("spot n1", "real-time bought")] == pytest.approx(0.0)
    assert dev[("spot n1", "beyond the band")] == pytest.approx(0.85)
    assert rep.starts == list(range(0, 2, every))
    # the commitment is kept in every re-plan, also in the one from hour 1
    for step in rep.steps:
        assert step.results[0].ds["p_da"].values.ravel() == pytest.approx(4.0)


def test_replay_once_equals_the_plan_settled_on_the_realised_day(tmp_path):
    """Two routes to one figure: the two-stage newsvendor plan (``x = 3.85`` both hours)
    replayed on the low day without re-plan (``every = 2``: re-plan, stitch, settle with
    the dispatch fixed) and ``evaluate_plan`` of that one day (its recourse optimised):
    both ``2 * (385 - 120 * 1.1 + 50 * 1.1) = 2 * 308 = 616`` CNY. Planned: the plan's
    expected cost ``2 * 346.5 = 693``, by term its members' books weighted."""
    sc = _two_period_newsvendor(tmp_path)
    rp = suandian.solve_stochastic(sc, mip_rel_gap=0.0)
    low = _low_day(sc)
    rep = replay(rp, sc, low, 2, mip_rel_gap=0.0)
    direct = suandian.evaluate_plan(rp, [low], mip_rel_gap=0.0)
    assert rep.realised_cost == pytest.approx(float(direct.costs[0]))
    assert rep.realised_cost == pytest.approx(616.0)
    assert rep.planned_cost == pytest.approx(693.0)
    table = rep.costs().set_index("term")
    assert table.loc["total", "difference"] == pytest.approx(616.0 - 693.0)
    assert table.loc["spot_deviation", "realised"] == pytest.approx(110.0)
    assert table.loc["spot_deviation", "planned"] == pytest.approx(55.0)
    assert rep.result.certify() == []


def test_a_replay_keeps_the_commitment_a_free_replan_would_drop(tmp_path):
    """The newsvendor plan holds ``x_1 = 3.85`` for hour 1. Replayed every hour on the low
    day (demand 5), the re-plan from hour 1 knows hour 1 brings ``P = 2.75`` and would buy
    2.75 for 275 if it were free; it keeps 3.85 and pays 308 for the hour."""
    sc = _two_period_newsvendor(tmp_path)
    rp = suandian.solve_stochastic(sc, mip_rel_gap=0.0)
    rep = replay(rp, sc, _low_day(sc), 1, mip_rel_gap=0.0)
    last = rep.steps[-1]
    assert last.results[0].ds["p_da"].values.ravel() == pytest.approx([3.85])
    assert list(last.costs) == pytest.approx([308.0])
    assert rep.realised_cost == pytest.approx(616.0)


def test_replay_refuses_a_bad_every_and_another_day():
    forecast = _banded_day()
    plan = _position_plan(forecast, 4.0)
    with pytest.raises(ValueError, match="every=3"):
        replay(plan, forecast, forecast, 3)
    other = scenario(
        _spot_config(120.0, 0.1, 50.0, periods=1), _frame(dem=[10.0])
    )  # one hour, not two
    with pytest.raises(ValueError, match="not the forecast's horizon"):
        replay(plan, forecast, other, 1)


def test_a_scenario_without_a_realised_day_is_a_clear_error():
    with pytest.raises(suandian.ScenarioError, match="uncertainty.realised"):
        replay({}, _banded_day())


def test_plan_saved_and_loaded_by_label(tmp_path):
    """A labelled plan written to first_stage.nc and read back fixes the same position."""
    forecast = _banded_day()
    plan = _position_plan(forecast, 4.0)
    save_plan(plan, tmp_path / "first_stage.nc")
    again, result = load_plan(tmp_path, forecast)
    assert result is None
    assert again["grid.p_da"].values.ravel() == pytest.approx([4.0, 4.0])
    assert set(again) == set(plan)


# ------------------------------------------------------------------ the command line
def _cli(*args: str, cwd) -> subprocess.CompletedProcess:
    code = "import sys; from suandian.cli import main; sys.exit(main(sys.argv[1:]))"
    src = str(Path(suandian.__file__).resolve().parents[1])  # this checkout's suandian
    env = {**os.environ, "PYTHONPATH": src}
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_cli_replay_and_replan(tmp_path):
    """The banded day as files: forecast demand 10 both hours, realised 5 then 15.

    ``suandian solve`` plans the forecast deterministically: with real-time 120 above
    day-ahead 100, the position is the most the band lets it sell back inside,
    ``X = P / (1 - tau) = 3.3 / 0.9 = 3.667`` MW (``test_deviation_settlement_with_a_
    tolerance_band``). Replayed every hour: hour 0 ``r = 2.75 - 3.667 = -0.917``, beyond the
    band ``0.917 - 0.367 = 0.55``: ``366.67 - 110 + 27.5 = 284.17``; hour 1 ``r = 0.183``
    inside the band: ``366.67 + 22 = 388.67``; the day ``672.83`` CNY.

    ``suandian replan --from 1`` on the realised file as the new forecast keeps ``X``
    in hour 1 and costs that hour's 388.67.
    """
    c = _spot_config(120.0, 0.1, 50.0, periods=2)
    frame = _frame(INDEX2, dem=[10.0, 10.0])
    frame.index.name = "time"
    frame.to_csv(tmp_path / "forecast.csv")
    real = _frame(INDEX2, dem=[5.0, 15.0])
    real.index.name = "time"
    real.to_csv(tmp_path / "realised.csv")
    c["series"] = ["forecast.csv"]
    c["uncertainty"] = {"realised": ["realised.csv"]}
    (tmp_path / "day.yaml").write_text(yaml.safe_dump(c), encoding="utf-8")
    solved = _cli("solve", "day.yaml", "--out", "plan", "--mip-rel-gap", "0", cwd=tmp_path)
    assert solved.returncode == 0, solved.stderr
    run = _cli(
        "replay", "day.yaml", "--plan", "plan", "--every", "1", "--out", "rep",
        "--mip-rel-gap", "0", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = json.loads((tmp_path / "rep" / "replay.json").read_text())
    x = 3.3 / 0.9
    hour0 = 100 * x + 120 * (2.75 - x) + 50 * ((x - 2.75) - 0.1 * x)
    hour1 = 100 * x + 120 * (3.85 - x)
    assert summary["realised_cost"] == pytest.approx(hour0 + hour1)
    assert summary["realised_cost"] == pytest.approx(672.83, abs=0.01)
    assert summary["planned_cost"] == pytest.approx(2 * (100 * x - 120 * (x - 3.3)))
    for name in ("result.nc", "manifest.json", "replay_costs.csv", "first_stage.nc"):
        assert (tmp_path / "rep" / name).exists()
    again = _cli(
        "replay", "day.yaml", "--plan", "plan", "--out", "rep", "--mip-rel-gap", "0",
        cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr  # the folder replaced whole
    pd.DataFrame({"dem": [5.0, 15.0]}, index=pd.Index(INDEX2, name="time")).to_csv(
        tmp_path / "forecast.csv"
    )  # the updated forecast of the day
    rn = _cli(
        "replan", "day.yaml", "--from", "1", "--plan", "plan", "--out", "rn",
        "--mip-rel-gap", "0", cwd=tmp_path,
    )  # fmt: skip
    assert rn.returncode == 0, rn.stderr
    out = json.loads((tmp_path / "rn" / "replan.json").read_text())
    assert out["cost"] == pytest.approx(hour1)
    ds = suandian.read_result(tmp_path / "rn").ds
    assert ds["p_da"].values.ravel() == pytest.approx([x])


def test_cli_replay_without_a_plan_folder_is_a_clear_error(tmp_path):
    run = _cli("replay", "--plan", str(tmp_path / "nothing"), "--out", "o", cwd=tmp_path)
    assert run.returncode == 1
    assert "--plan" in run.stderr and "not a folder" in run.stderr


# ------------------------------------------------------------------ figures
def test_cost_distribution_marks_mean_and_cvar():
    """Plan ``a`` costs 1, 2, 3, 4 (equally likely): mean 2.5, CVaR at 0.5 the mean of the
    dearer half, 3.5. Plan ``b``: 2, 2, 2 and one day without recourse (inf): mean 2, CVaR
    2, the infinite day left out of the bars and named in the legend."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from suandian import plot

    fig = plot.cost_distribution({"a": [1, 2, 3, 4], "b": [2, 2, 2, np.inf]}, alpha=0.5)
    ax = fig.axes[0]
    marks = [float(line.get_xdata()[0]) for line in ax.lines]
    assert marks == pytest.approx([2.5, 3.5, 2.0, 2.0])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "1 without recourse" in labels[1]


def test_planned_vs_realised_draws_the_table():
    """The replay table of ``test_replay_once_equals...``: spot_deviation 55 planned, 110
    realised; the bars carry those values, the title the totals."""
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from suandian import plot

    table = pd.DataFrame(
        {
            "term": ["spot_day_ahead", "spot_real_time", "spot_deviation", "total"],
            "planned": [770.0, -132.0, 55.0, 693.0],
            "realised": [770.0, -264.0, 110.0, 616.0],
        }
    )
    fig = plot.planned_vs_realised(table)
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([770.0, -132.0, 55.0, 770.0, -264.0, 110.0])
    assert "616" in ax.get_title() and "693" in ax.get_title()


def _battery_day(rt) -> suandian.Scenario:
    """Demand 10 both hours (``P = 3.3`` MW), day-ahead 100, real-time ``rt`` per hour, no
    band (``tau = 0``), assessment 50 CNY/MWh; a 1 MW / 1 MWh lossless battery, empty at the
    start, free at the end."""
    c = _spot_config("rt", 0.0, 50.0, periods=2)
    c["storage"] = [
        {
            "name": "b",
            "site": "s1",
            "power": 1.0,
            "energy": 1.0,
            "eta_charge": 1.0,
            "eta_discharge": 1.0,
            "soc_initial": 0.0,
            "soc_final": "free",
        }
    ]
    return scenario(c, _frame(INDEX2, dem=[10.0, 10.0], rt=list(rt)))


def test_replay_every_hour_pays_for_not_seeing_the_evening():
    """Position ``X = 3.3`` MW both hours (the forecast's load). The forecast says real-time
    100 in both hours; the day brings 100 then 300.

    * **Once** (``every = 2``, the day known): charge 1 MWh in hour 0, bought above the
      position at 100 and assessed 50: ``+150``; discharge it in hour 1, the import 1 MW
      below the position, sold back at 300 and assessed 50: ``-250``. Day:
      ``2 * 330 + 150 - 250 = 560`` CNY (not using the battery: 660).
    * **Every hour**: at 00:00 the step sees hour 0 and the forecast 100 for hour 1:
      charging costs 150 for a return of ``100 - 50 = 50``, so the battery stays empty; at
      01:00 it has nothing to sell at 300. Day: ``660`` CNY. The settlement keeps the
      battery as run (empty all day): the 100 CNY is what not seeing the evening cost.
    """
    forecast = _battery_day([100.0, 100.0])
    plan = _position_plan(forecast, 3.3)
    realised = _battery_day([100.0, 300.0])
    once = replay(plan, forecast, realised, 2, mip_rel_gap=0.0)
    hourly = replay(plan, forecast, realised, 1, mip_rel_gap=0.0)
    assert once.realised_cost == pytest.approx(560.0)
    assert hourly.realised_cost == pytest.approx(660.0)
    assert once.result.ds["e_soc"].values.ravel() == pytest.approx([1.0, 0.0])
    assert hourly.result.ds["e_soc"].values.ravel() == pytest.approx([0.0, 0.0])
    assert once.result.certify() == [] and hourly.result.certify() == []
    direct = suandian.evaluate_plan(plan, [realised], mip_rel_gap=0.0)
    assert float(direct.costs[0]) == pytest.approx(once.realised_cost)


def test_a_realised_file_is_read_like_a_given_scenario(tmp_path):
    """``uncertainty.realised`` files replace the forecast's series by name; a column the
    scenario does not have is refused naming the field and the column."""
    from suandian.scenario.uncertainty import realised_scenario

    c = _spot_config(120.0, 0.1, 50.0, periods=2)
    good = _frame(INDEX2, dem=[5.0, 15.0])
    good.index.name = "time"
    good.to_csv(tmp_path / "day.csv")
    c["uncertainty"] = {"realised": ["day.csv"]}
    sc = suandian.load_scenario(c, series=_frame(INDEX2, dem=[10.0, 10.0]), base_dir=tmp_path)
    day = realised_scenario(sc)
    assert list(day.series["dem"]) == [5.0, 15.0]
    assert day.config.uncertainty is None
    bad = _frame(INDEX2, typo=[1.0, 2.0])
    bad.index.name = "time"
    bad.to_csv(tmp_path / "bad.csv")
    with pytest.raises(suandian.ScenarioError) as err:
        realised_scenario(sc, [str(tmp_path / "bad.csv")])
    assert "uncertainty.realised[0]:typo" in str(err.value)


def test_the_dr_baseline_plan_is_built_with_the_shortfall_penalty():
    """Demand 25 units against 2 blocks of 10: no plan serves it, so without a penalty the
    event's ``no_event`` baseline (the plan without the event) is infeasible and the event
    is not offered. Built with ``compute_shortfall_penalty`` the baseline plan sheds the
    5 units at that value as the model does, and the event is offered: a replay's re-plan
    that must shed keeps its DR commitment (the 20:00 re-plan of the tutorial)."""
    c = _spot_config(100.0, 0.1, 50.0, periods=2)
    c["demand_response"] = [
        {
            "name": "evening",
            "sites": ["s1"],
            "start": "2026-07-15 01:00",
            "end": "2026-07-15 02:00",
            "energy_price": 2000.0,
            "capacity_price": 0.0,
            "min_bid": 0.1,
            "max_reduction": 1.0,
            "shortfall_price": 4000.0,
            "baseline": "no_event",
        }
    ]
    sc = scenario(c, _frame(INDEX2, dem=[25.0, 25.0]))
    m = build_model(sc, pyomo=False, compute_shortfall_penalty=10.0)
    rules = suandian.solve(m, mip_rel_gap=0.0).ds.attrs["dr_baseline_rules"]
    assert "not offered" not in rules and "no_event (plan without it: optimal" in rules
