"""Rolling horizon: ``suandian.solve_rolling``, the committed books, the year's certifier.

**The state case** (``test_state.py``, derived there by hand): 4 periods, one site, a
battery, two blocks with a 3-h minimum up time and a demand charge; one window costs
1,687.5 CNY, and two windows of 2 with the state handed over cost 1,360 + 327.5.

**The green-year case** (derived here): one site drawing 3.85 MW in each of 4 hours
(``loaded``: 15 units on 2 blocks, facility 1.1 x 3.5 MW), grid at 100, 100, 200, 200 CNY/MWh,
a green contract at 250 CNY/MWh, a green share of 0.5 judged over the year (``basis: year``,
nothing before or after the horizon). Consumption 15.4 MWh, so 7.7 MWh must be green.

* *Perfect foresight:* green where it costs least over the grid (+50 at t2, t3): 3.85 x 2
  MWh from the contract there, the grid at t0, t1: 770 + 1,925 = **2,695 CNY** (no integer
  decision binds: the LP and the MILP agree).
* *Rolling, commit 2, no look-ahead:* the first window must itself meet 0.5 of its 7.7 MWh
  (the rest of the year is assumed to meet its target exactly): 3.85 MWh green at +150:
  962.5 + 385 = 1,347.5 CNY. The second starts from green 3.85 and consumption 7.7 MWh to
  date, so it needs 0.5 x 15.4 - 3.85 = 3.85 MWh: 962.5 + 770 = 1,732.5 CNY. Year
  **3,080 CNY**, value of foresight 385 = 3.85 x (150 - 50).
* *Rolling, commit 2, look-ahead 1:* the first window (t0..t2) needs 0.5 x 11.55 = 5.775 MWh:
  3.85 at t2 (+50), 1.925 in t0/t1 (+150); it keeps t0, t1: 1.925 x 250 + 5.775 x 100 =
  1,058.75 CNY. The last window (t2, t3) needs 7.7 - 1.925 = 5.775 of its 7.7 MWh:
  5.775 x 250 + 1.925 x 200 = 1,828.75 CNY. Year **2,887.5 CNY**: the look-ahead is worth
  192.5.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import scenario
from test_cli import cli
from test_policies import contract, loaded
from test_state import PRICES, config

import suandian
from suandian.results.year import committed_costs

YEAR_FIELDS = ("green_to_date_mwh", "consumption_to_date_mwh")
YEAR_FIELDS += ("green_forecast_mwh", "consumption_forecast_mwh")
GREEN_PRICES = pd.DataFrame({"price": [100.0, 100.0, 200.0, 200.0]})


def green_year() -> dict:
    """The green-year case of the module docstring."""
    cfg = loaded(periods=4)
    cfg["nodes"][0]["tariff"] = "price"
    cfg["green_contracts"] = [contract(price=250.0)]
    cfg["policies"]["green_share"] = {
        "target": 0.5,
        "scope": "portfolio",
        "basis": "year",
        "year": {"portfolio": dict.fromkeys(YEAR_FIELDS, 0.0)},
    }
    return cfg


def rolled(cfg: dict, series, commit, lookahead, **kw) -> suandian.YearResult:
    kw.setdefault("mip_rel_gap", 0.0)
    kw.setdefault("progress", False)
    return suandian.solve_rolling(scenario(cfg, series), commit, lookahead, **kw)


# --------------------------------------------------------------------------- the books
@pytest.mark.parametrize(
    ("commit", "lookahead", "parts", "total"),
    [
        (2, 0, [1347.5, 1732.5], 3080.0),
        (2, 1, [1058.75, 1828.75], 2887.5),
        (4, 0, [2695.0], 2695.0),
    ],
)
def test_green_year_rolls_as_derived(commit, lookahead, parts, total):
    """Each window re-targets the annual share from the committed windows (docstring)."""
    y = rolled(green_year(), GREEN_PRICES, commit, lookahead, forecast="neutral")
    assert [p.cost["total"] for p in y.parts] == pytest.approx(parts)
    assert y.objective == pytest.approx(total)
    assert y.costs["total"] == pytest.approx(total)
    share = y.compliance()["green_share"]["portfolio"]
    assert share["share"] == pytest.approx(0.5) and share["ok"]
    assert y.kpis["green_share"]["portfolio"] == pytest.approx(0.5)
    assert y.ds.sizes["time"] == 4
    assert y.certify() == []


def test_value_of_foresight_against_the_whole_horizon():
    """The whole horizon as one MILP costs 2,695: foresight is worth 3,080 - 2,695 = 385.

    As one LP (integers relaxed, the default yardstick) the two blocks may be 1.5 blocks:
    IT 1.5 + 1.5 = 3 MW, facility 3.3 MW; green 6.6 MWh at t2, t3: 660 + 1,650 = 2,310
    CNY, a lower bound.
    """
    sc = scenario(green_year(), GREEN_PRICES)
    y = suandian.solve_rolling(sc, 2, 0, progress=False, mip_rel_gap=0.0, forecast="neutral")
    assert y.foresight == {}  # the neutral rule solves no LP
    y.foresight = suandian.foresight(sc, relax_integers=False, mip_rel_gap=0.0)
    assert y.foresight["objective"] == pytest.approx(2695.0)
    assert y.value_of_foresight() == pytest.approx(385.0)
    assert "value of foresight 385" in y.summary()
    bound = suandian.foresight(sc)
    assert bound["relaxed"] is True and bound["objective"] == pytest.approx(2310.0)
    assert bound["margins"]["green_share"]["portfolio"] == pytest.approx(0.0, abs=1e-9)
    assert y.compliance()["green_share"]["portfolio"]["margin_mwh"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("lookahead", [0, 1])
def test_green_year_with_the_foresight_forecast(lookahead):
    """The default rule: the rest of the horizon as the foresight LP plans it.

    The LP (2,310 CNY, above) plans 3.3 MWh green and 3.3 MWh consumed in each of t2, t3.
    Window 1 (t0, t1) needs G1 + 6.6 >= 0.5 (7.7 + 6.6): G1 = 0.55 MWh at +150:
    0.55 x 250 + 7.15 x 100 = 852.5 CNY. Window 2 (to date 0.55 of 7.7 MWh) needs
    0.5 x 15.4 - 0.55 = 7.15 MWh of its 7.7: 7.15 x 250 + 0.55 x 200 = 1,897.5 CNY.
    Year 2,750 CNY (between the MILP optimum 2,695 and the neutral rule's 3,080); the year's
    share is 0.5 and the foresight figures come with the result.

    With one period of look-ahead the budget still counts the committed t0, t1 only
    (``horizon.budget_periods`` = 2), t2 and t3 standing in the forecast: the same 0.55 MWh
    (counting t2 would ask G(t0..t2) >= 0.5 x 14.85 - 3.3 = 4.125, 0.275 of it in t0, t1).
    """
    y = rolled(green_year(), GREEN_PRICES, 2, lookahead)
    assert [p.cost["total"] for p in y.parts] == pytest.approx([852.5, 1897.5])
    assert y.compliance()["green_share"]["portfolio"]["share"] == pytest.approx(0.5)
    assert y.foresight["objective"] == pytest.approx(2310.0)
    assert y.value_of_foresight() == pytest.approx(440.0)
    assert y.certify() == []


def test_state_case_rolls_to_the_one_window_optimum():
    """Commit 2, no look-ahead: the two windows of test_state (1,360 + 327.5 = 1,687.5)."""
    y = rolled(config(), PRICES, "2h", "0h")
    assert [p.cost["total"] for p in y.parts] == pytest.approx([1360.0, 327.5])
    assert y.objective == pytest.approx(1687.5)
    assert y.costs["demand"] == pytest.approx(335.0)  # 100 CNY/MW x the 3.35 MW peak, once
    assert y.costs["startup"] == pytest.approx(20.0)
    assert y.ds["p_metered"].sel(site="s1").values == pytest.approx([0, 3.35, 2.75, 3.25])
    assert y.parts[1].state_in["bill"] == {
        "n1": {"month": "2026-07", "peak_mw": pytest.approx(3.35)}
    }
    assert y.certify() == []


def test_committed_costs_of_a_whole_plan_are_its_books():
    """committed_costs(ds, T) is the cost table of the books; of t < T, the first periods."""
    r = suandian.solve(scenario(config(), PRICES), mip_rel_gap=0.0)
    whole = committed_costs(r.ds, 4)
    assert {k: whole[k] for k in r.costs} == pytest.approx(r.costs)
    assert all(whole[k] == 0.0 for k in set(whole) - set(r.costs))  # terms of 0 (lost_load)
    first = committed_costs(r.ds, 2)  # energy 1,005, start-ups 20; the peak 3.35 MW is at t1
    assert first["grid_energy"] == pytest.approx(1005.0)
    assert first["startup"] == pytest.approx(20.0)


# --------------------------------------------------------------------------- runs on disk
def test_resume_gives_the_same_year(tmp_path):
    """Stopped after one window and resumed: the same parts, states and stitched plan.

    With the warm start, the window after the stop reads window 0's plan from its
    checkpoint (``windows/0000.plan.npz``), so it starts as the uninterrupted run did.
    """
    warm = {"warm_start": True}
    whole = rolled(config(), PRICES, 1, 1, out=tmp_path / "a", **warm)
    first = rolled(config(), PRICES, 1, 1, out=tmp_path / "b", stop_after=1, **warm)
    assert len(first.parts) == 1
    assert (tmp_path / "b" / "windows" / "0000.plan.npz").is_file()
    again = rolled(config(), PRICES, 1, 1, out=tmp_path / "b", resume=True, **warm)
    assert [p.start_plan for p in again.parts] == [p.start_plan for p in whole.parts]
    assert [p.cost for p in again.parts] == [p.cost for p in whole.parts]
    assert [p.state_out for p in again.parts] == [p.state_out for p in whole.parts]
    assert again.ds["p_grid"].equals(whole.ds["p_grid"])
    assert (tmp_path / "b" / "kpis.json").is_file() and again.certify() == []


def test_a_folder_never_mixes_two_runs(tmp_path):
    """Another scenario's run, or a non-empty folder without a run, is refused by name."""
    out = tmp_path / "run"
    rolled(config(), PRICES, 2, 0, out=out, stop_after=1)
    with pytest.raises(ValueError, match="already holds a rolling run"):
        rolled(config(), PRICES, 2, 0, out=out)
    with pytest.raises(ValueError, match="digest"):
        rolled(green_year(), GREEN_PRICES, 2, 0, out=out, resume=True)
    with pytest.raises(ValueError, match="commit"):
        rolled(config(), PRICES, 1, 0, out=out, resume=True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not empty"):
        rolled(config(), PRICES, 2, 0, out=other)


def test_a_window_without_a_plan_is_named_and_the_committed_ones_are_kept(tmp_path):
    """30 units at t3 exceed the site's 20: the second window is infeasible."""
    series = PRICES.assign(units=[0.0, 15.0, 5.0, 30.0])
    out = tmp_path / "run"
    with pytest.raises(suandian.RollingError, match="window 1 .from 2026-07-15 02:00") as err:
        rolled(config(), series, 2, 0, out=out)
    assert err.value.status == "infeasible" and err.value.diagnosis is not None
    assert len(err.value.parts) == 1
    assert sorted(p.name for p in (out / "windows").iterdir()) == ["0000.json", "0000.npz"]


@pytest.mark.parametrize("bad", [{"commit": 0}, {"commit": "90min"}, {"lookahead": "soon"}])
def test_bad_lengths_name_the_field(bad):
    args = {"commit": 2, "lookahead": 0} | bad
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        rolled(config(), PRICES, args["commit"], args["lookahead"])


# --------------------------------------------------------------------------- the certifier
def test_tampered_state_and_costs_are_caught():
    """A handed-over state or a committed cost changed after the run."""
    y = rolled(config(), PRICES, 2, 0)
    y.parts[1].state_in["stor"]["bat"]["soc_mwh"] = 0.25
    y.parts[0].cost["total"] += 5.0
    found = {(v.check, v.where) for v in y.certify()}
    assert ("state", "window 1: stor") in found
    assert ("part_cost", "window 0") in found
    assert ("total_cost", "all") in found  # the reported total against the recomputed parts


def test_a_missed_annual_target_is_a_violation():
    """The same plan judged against 0.6: the year's share 0.5 misses it."""
    y = rolled(green_year(), GREEN_PRICES, 2, 0)
    y.datasets[0]["green_target"][:] = 0.6
    found = [v for v in y.certify() if v.check == "year.green_share_min"]
    assert [(v.where, v.value, v.limit) for v in found] == [("scope=portfolio", 0.5, 0.6)]


# --------------------------------------------------------------------------- the CLI
def test_cli_killed_mid_run_resumes_to_the_same_year(tmp_path):
    """The real CLI in a subprocess, killed after its first checkpoint, then resumed."""
    cfg = config()
    cfg["horizon"]["periods"] = 4
    path = tmp_path / "case.yaml"
    PRICES.to_csv(tmp_path / "prices.csv", index=False)
    cfg["series"] = ["prices.csv"]
    path.write_text(yaml.safe_dump(cfg))
    exe = [*cli(), "rolling", str(path), "--commit", "1h"]
    exe += ["--lookahead", "1h", "--mip-gap", "0", "--quiet"]
    done = subprocess.run([*exe, "--out", str(tmp_path / "whole")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    run = subprocess.Popen([*exe, "--out", str(tmp_path / "cut")], start_new_session=True)
    first = tmp_path / "cut" / "windows" / "0000.json"
    for _ in range(6000):
        if first.is_file() or run.poll() is not None:
            break
        time.sleep(0.01)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    windows = sorted((tmp_path / "cut" / "windows").glob("*.json"))
    assert 1 <= len(windows) < 3 and not (tmp_path / "cut" / "kpis.json").exists()
    resumed = subprocess.run(
        [*exe, "--out", str(tmp_path / "cut"), "--resume"], capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "certifier: the year satisfies every check" in resumed.stdout
    a = json.loads((tmp_path / "whole" / "kpis.json").read_text())["kpis"]["cost"]
    b = json.loads((tmp_path / "cut" / "kpis.json").read_text())["kpis"]["cost"]
    assert b == pytest.approx(a) and a["total"] == pytest.approx(1687.5)
    assert Path(tmp_path / "cut" / "windows.csv").is_file()


def test_cli_rolls_the_embedded_year_one_window(tmp_path):
    """``suandian rolling`` on the embedded year: one window, stopped, resumable."""
    out = tmp_path / "year"
    cmd = [*cli(), "rolling", "--out", str(out), "--stop-after", "1", "--forecast", "neutral"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "chongqing_hami_year" in done.stdout and "go on with --resume" in done.stdout
    assert "window 1/364 2026-01-01" in done.stderr
    record = json.loads((out / "windows" / "0000.json").read_text())
    assert record["committed"] == 24 and record["periods"] == 48 and record["status"] == "optimal"
    again = subprocess.run(cmd, capture_output=True, text=True)  # the folder holds a run
    assert again.returncode == 1 and "already holds a rolling run" in again.stderr


def test_direct_ratios_over_the_year():
    """The 650号 case of test_direct_year (two windows of 1 h, the budget carried).

    Self 0.6 and supply 0.4 over the year, U_o = 62 of 100 available and 100 consumed
    before and after the horizon: 385 + 510 = 895 CNY, 1.6 MWh used at t1. Margins: self
    1.6 + 2 - 0.6 x 6 = 0 MWh (binding), supply 1.6 + 22 - 0.4 x 7.7 = 20.52 MWh.
    """
    from test_direct_year import ENERGIES, case

    cfg, series = case(dict(ENERGIES), min_self_consumption=0.6, min_supply_share=0.4)
    y = rolled(cfg, series, 1, 0, forecast="neutral")
    assert [p.cost["total"] for p in y.parts] == pytest.approx([385.0, 510.0])
    ratios = y.compliance()["direct"]["s1"]
    assert ratios["self_consumption"]["margin_mwh"] == pytest.approx(0.0, abs=1e-6)
    assert ratios["supply_share"]["margin_mwh"] == pytest.approx(20.52)
    assert ratios["self_consumption"]["share_horizon"] == pytest.approx(1.6 / 6.0)
    assert all(r["ok"] for r in ratios.values()) and y.certify() == []
    assert "650号 supply_share s1: 20.78% over the horizon (min 40% of the year" in y.summary()


@pytest.mark.parametrize(("excess", "ok"), [(1e-9, True), (1e-3, False)])
def test_work_left_within_the_solver_tolerance_fits(excess, ok):
    """Work handed over is the solver's figure: 40 units·h at max_rate 10 over 4 h fits
    within 1e-6 relative (seen on 2026-12-21 of the default year); 0.1 % more does not."""
    cfg = config()
    cfg["batch"] = [{"name": "j", "work": 40.0 * (1 + excess), "max_rate": 10.0, "sites": ["s1"]}]
    if ok:
        assert scenario(cfg, PRICES).config.batch[0].work > 40.0
    else:
        with pytest.raises(suandian.ScenarioError, match="cannot finish"):
            scenario(cfg, PRICES)


# --------------------------------------------------------------------------- warm start
def test_the_warm_start_is_the_previous_plan_shifted_and_feasible(monkeypatch):
    """The state case with commit 1 h and look-ahead 2 h: windows t0..t2 and t1..t3.

    Window 0 (from no block on, 0.5 MWh, no peak; not the last, so no end rule for the
    battery): 15 units at t1 need both blocks, started at t1; the 3-h minimum up time keeps
    them on at t2 (the window ends there), and a block started at t0 only idles (110 CNY):
    ``n_on`` = 0, 2, 2. The battery gives its 0.5 MWh at t1 (300 + 100 CNY/MWh, at its 0.5 MW
    limit) and nothing else pays (charging at 100 to discharge at 60 or 50 loses): charge
    0.5, 0, 0 MWh at the ends of t0..t2. It commits t0, which costs nothing (no demand, no
    block, no flow).

    Window 1 (t1..t3, the last) is handed window 0's t1, t2 as its first two periods:
    ``n_on`` hint 2, 2 and charge 0, 0; t3 lies beyond window 0's end: no hint (the default
    tail rule). Fixing ``n_on`` at t1, t2 = 2 is feasible (the minimum up time then also
    keeps both on at t3) and is the one-window plan: the year costs 1,687.5 CNY
    (``test_state``), the warm start's own objective included.
    """
    from suandian.run import rolling

    seen = []
    real = rolling.shifted

    def spy(plan, lm, by, day):
        hint = real(plan, lm, by, day)
        seen.append((lm, hint, by))
        return hint

    monkeypatch.setattr(rolling, "shifted", spy)
    y = rolled(config(), PRICES, 1, 2, warm_start=True)
    assert len(y.parts) == 2 and len(seen) == 1
    lm, hint, by = seen[0]
    assert by == 1
    n_on = hint[lm.vars["dc.n_on"].cols[0]]
    assert n_on[:2] == pytest.approx([2.0, 2.0]) and pd.isna(n_on[2])
    charge = hint[lm.vars["stor.e_soc"].cols[0]]
    assert charge[:2] == pytest.approx([0.0, 0.0], abs=1e-9) and pd.isna(charge[2])
    start = y.parts[1].start_plan
    assert start["step"].startswith("shifted")  # the shifted plan is feasible
    assert start["objective"] == pytest.approx(1687.5)
    assert y.objective == pytest.approx(1687.5)
    assert y.certify() == []


@pytest.mark.parametrize("case", ["state", "green"])
def test_the_year_is_the_same_with_or_without_the_warm_start(case):
    """The year's cost does not depend on the warm start when every window is solved to gap 0.

    Each window has one optimum value in these cases (derived in this module's docstring
    and the test above): 1,687.5 CNY for the state case with one hour committed and two
    looked ahead, 2,750 CNY for the green year with the foresight forecast and one hour of
    look-ahead.
    """
    if case == "state":
        cfg, series, commit, lookahead, total = config(), PRICES, 1, 2, 1687.5
    else:
        cfg, series, commit, lookahead, total = green_year(), GREEN_PRICES, 2, 1, 2750.0
    warm = rolled(cfg, series, commit, lookahead, warm_start=True)
    cold = rolled(cfg, series, commit, lookahead, warm_start=False)
    assert warm.objective == pytest.approx(total)
    assert cold.objective == pytest.approx(total)
    assert all(not p.start_plan.get("step", "").startswith("shifted") for p in cold.parts)


def test_the_rolling_gap_is_the_cli_default():
    """``suandian rolling`` and ``solve_rolling`` share one per-window gap (ROLLING_GAP)."""
    from suandian import cli
    from suandian.run.rolling import ROLLING_GAP

    args = cli._parser().parse_args(["rolling"])
    assert args.mip_rel_gap == ROLLING_GAP == 0.01


@pytest.mark.parametrize("lookahead", [0, 1])
def test_certificates_committed_pro_rata_are_the_years(lookahead):
    """The green-year case with certificates at 30 CNY/MWh instead of the contract.

    Certificates (+30) are the cheapest green: window 1 must hold 0.5 of what its budget
    counts. Without look-ahead: 0.5 x 7.7 = 3.85 MWh bought, all committed. With one period
    of look-ahead (the neutral rule counts the whole window, t0..t2): 0.5 x 11.55 = 5.775 MWh
    bought, of which the committed t0, t1 owe 7.7 / 11.55 = 2/3: 3.85 MWh. Either way window
    1 costs 7.7 x 100 + 3.85 x 30 = 885.5 CNY and window 2 (t2, t3; green 3.85 of 7.7 MWh to
    date) buys 0.5 x 15.4 - 3.85 = 3.85 MWh: 7.7 x 200 + 115.5 = 1,655.5 CNY. The year: 7.7
    MWh of certificates, a green share of 0.5, the same whether the year's books read the
    certificates the run kept per window or recompute them from the windows' data.
    """
    cfg = green_year()
    del cfg["green_contracts"]
    cfg["certificates"] = {"price": 30.0}
    y = rolled(cfg, GREEN_PRICES, 2, lookahead, forecast="neutral")
    assert [p.cost["total"] for p in y.parts] == pytest.approx([885.5, 1655.5])
    assert y.certificates is not None  # kept by the run, per window
    assert [float(c.sum()) for c in y.certificates] == pytest.approx([3.85, 3.85])
    again = suandian.YearResult.from_parts(y.parts, y.datasets)  # recomputed from the data
    for year in (y, again):
        assert sum(year.kpis["certificates_mwh"].values()) == pytest.approx(7.7)
        assert year.kpis["green_share"]["portfolio"] == pytest.approx(0.5)
        assert year.months()["green_share_to_date_s1"].iloc[-1] == pytest.approx(0.5)
    assert y.certify() == []


def test_window_books_fall_back_to_the_default_join(monkeypatch):
    """Books read with xarray's exact join; where labels differ, again with the default.

    The whole green-year case as one window (commit 4): 2,695 CNY (module docstring), the
    same after the first reading is refused.
    """
    import xarray as xr

    from suandian.run import rolling as module

    joins: list[str] = []
    real = module._window_books

    def refused_once(ds, keep, hand_over):
        joins.append(xr.get_options()["arithmetic_join"])
        if len(joins) == 1:
            raise xr.AlignmentError("labels differ")
        return real(ds, keep, hand_over)

    monkeypatch.setattr(module, "_window_books", refused_once)
    y = rolled(green_year(), GREEN_PRICES, 4, 0, forecast="neutral")
    assert joins == ["exact", "inner"]
    assert y.objective == pytest.approx(2695.0)
