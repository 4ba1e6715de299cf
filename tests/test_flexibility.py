"""Flexibility offers (``suandian.flexibility_offer``): MW below the plan x duration x cost.

Base (conftest): one node n1 at a flat 100 CNY/MWh, one site s1, 1-h periods. Interactive
demand of 5 units in each of 4 periods fits one block: facility 1.1 x (1 + 0.5) = 1.65 MW.
The node adds a network charge of 50 CNY/MWh, so every metered MWh costs 150 (the draw the
offer is measured on is ``p_metered``). A battery of 1 MW / 2 MWh starts at 1 MWh, must end
at >= 1 MWh (cyclic), charges at 80 % and discharges at 100 %: in the base plan it stays idle
(any cycle loses 20 % of what it stores), so the plan draws 1.65 MW in every period and costs
1.65 x 4 x 150 = 990 CNY.

An offer of R MW below the plan in a window can only come from the battery (the load is
fixed): it discharges R in each period of the window and must put back what it gave, drawing
1/0.8 = 1.25 MWh per MWh stored. The cost is the extra metered energy x 150.

* 1 h from 02:00, R = 0.5: discharge 0.5 MWh, recharge 0.625 MWh elsewhere: +0.125 MWh,
  18.75 CNY (37.5 CNY/MWh offered).
* 1 h, R = 1.0 (the battery's power): +0.25 MWh, 37.5 CNY (37.5 CNY/MWh).
* 1 h, R = 1.5: above the battery's power and the site cannot shed load: infeasible; R = 2 is
  then reported infeasible without a solve.
* 2 h from 01:00, R = 0.5: 1 MWh discharged, 1.25 MWh drawn back: +0.25 MWh, 37.5 CNY.
* 2 h, R = 1.0: 2 MWh must leave the battery within the window. It holds 1 MWh and can store
  at most 0.8 MWh more in period 0 (1 MW x 0.8), 1.8 < 2: infeasible.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import base_config, scenario

import suandian
from suandian import SolveOptions
from suandian.run.flexibility import OFFER_COLUMNS, flexibility_offer

EXACT = SolveOptions(mip_rel_gap=0.0, duals=False, diagnose=False)


def config(network_charge: float = 50.0) -> dict:
    cfg = base_config(periods=4)
    cfg["nodes"][0]["network_charge"] = network_charge
    cfg["interactive"] = [{"name": "web", "demand": 5.0, "sites": ["s1"]}]
    cfg["storage"] = [
        {
            "name": "bat",
            "site": "s1",
            "power": 1.0,
            "energy": 2.0,
            "eta_charge": 0.8,
            "eta_discharge": 1.0,
            "soc_initial": 0.5,
            "soc_final": "cyclic",
        }
    ]
    return cfg


def test_offer_prices_each_level_and_stops_at_the_first_infeasible():
    sc = scenario(config())
    table = flexibility_offer(
        sc, start="2026-07-15 02:00", hours=[1.0], levels_mw=[2.0, 0.5, 1.5, 1.0], options=EXACT
    )
    assert list(table.columns) == list(OFFER_COLUMNS)
    assert list(table["mw"]) == [0.5, 1.0, 1.5, 2.0]  # sorted
    assert list(table["status"]) == ["optimal", "optimal", "infeasible", "infeasible"]
    assert table["cost"].iloc[:2].to_numpy() == pytest.approx([18.75, 37.5], abs=1e-6)
    assert table["cost_per_mwh"].iloc[:2].to_numpy() == pytest.approx([37.5, 37.5], abs=1e-6)
    assert np.isnan(table["cost"].iloc[2:]).all()
    assert np.isnan(table["seconds"].iloc[3])  # not solved: a larger level than an infeasible one
    # why: 1.5 MW is beyond the battery with 1 MW held; 2 MW was not tried, and the plan's
    # own draw (1.65 MW in every period) is below it
    assert list(table["reason"]) == [
        "",
        "",
        "no plan keeps every rule with the draw 1.5 MW below the plan for 1 h; 1 MW held",
        "not re-planned: 1.5 MW below the plan already failed "
        "(the plan draws only 1.65 MW at 02:00)",
    ]


def test_longer_window_needs_energy_the_battery_cannot_hold():
    sc = scenario(config())
    table = flexibility_offer(sc, start=1, hours=[2.0], levels_mw=[0.5, 1.0], options=EXACT)
    assert list(table["hours"]) == [2.0, 2.0]
    assert list(table["mwh"]) == [1.0, 2.0]
    assert list(table["status"]) == ["optimal", "infeasible"]
    assert table["cost"].iloc[0] == pytest.approx(37.5, abs=1e-6)


def test_without_a_bill_the_offer_is_measured_on_grid_purchases():
    """No network charge: no meter (p_metered); the offer reduces p_grid at 100 CNY/MWh:
    R = 1 for 1 h costs 0.25 MWh x 100 = 25 CNY."""
    sc = scenario(config(network_charge=0.0))
    base = suandian.solve(sc, EXACT)
    assert "p_metered" not in base.ds
    table = flexibility_offer(sc, start=2, hours=[1.0], levels_mw=[1.0], base=base, options=EXACT)
    assert table["cost"].iloc[0] == pytest.approx(25.0, abs=1e-6)


def test_bad_requests_are_named():
    sc = scenario(config())
    with pytest.raises(ValueError, match="not a period start"):
        flexibility_offer(sc, start="2026-07-15 02:30", options=EXACT)
    with pytest.raises(ValueError, match="does not fit"):
        flexibility_offer(sc, start=3, hours=[2.0], options=EXACT)
    with pytest.raises(ValueError, match="not in the scenario"):
        flexibility_offer(sc, start=0, hours=[1.0], sites=["nowhere"], options=EXACT)


def test_cli_offer_prints_the_table_and_writes_csv(tmp_path):
    """The real CLI in a subprocess, on the battery case above: 1 h from 02:00 at 0.5 and 1.5
    MW gives 18.75 CNY and infeasible; a bad --mw is named with exit code 1."""
    import subprocess
    import sys
    from pathlib import Path

    import pandas as pd
    import yaml

    path = tmp_path / "day.yaml"
    path.write_text(yaml.safe_dump(config()), encoding="utf-8")
    script = Path(sys.executable).with_name("suandian")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "suandian.cli"]
    args = ["offer", str(path), "--start", "02:00", "--hours", "1", "--mw", "0.5,1.5"]
    proc = subprocess.run(
        [*cmd, *args, "--mip-gap", "0", "--csv", str(tmp_path / "offers.csv")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "infeasible" in proc.stdout
    # progress on stderr, one line per re-plan; the reason of the infeasible offer on stdout
    assert "offer s1, 1 h from 2026-07-15 02:00:00, 0.5 MW: optimal, +19 CNY" in proc.stderr
    assert "offer s1, 1 h from 2026-07-15 02:00:00, 1.5 MW: infeasible" in proc.stderr
    assert (
        "  s1, 1 h, 1.5 MW: no plan keeps every rule with the draw 1.5 MW below the plan for "
        "1 h; 0.5 MW held"
    ) in proc.stdout
    table = pd.read_csv(tmp_path / "offers.csv")
    assert list(table["status"]) == ["optimal", "infeasible"]
    assert table["cost"].iloc[0] == pytest.approx(18.75, abs=1e-6)
    assert table["reason"].fillna("").iloc[0] == ""
    bad = subprocess.run([*cmd, *args[:-1], "-3"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "--mw" in bad.stderr
