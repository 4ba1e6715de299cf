"""Figures from the library (``suandian.plot``): what each draws, on toy plans solved by hand.

Every function returns a Figure, draws on an axis it is given, and the data it draws are
compared with figures derived on paper for the toy (each toy's docstring).
"""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from conftest import base_config, solve_ok  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import suandian  # noqa: E402
from suandian import plot  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------------------ toys
@pytest.fixture(scope="module")
def stores() -> suandian.Result:
    """One site, 2 hours: prices [100, 1000] CNY/MWh, COP [10, 5] (all heat on the air
    path: chiller power = heat / COP), interactive demand [5, 15] units, a battery (1 MW,
    2 MWh, eta 0.9 / 0.9, starts and ends at 1 MWh) and a chilled-water tank (10 MWh,
    charge factor 1.5, starts empty, may end empty).

    Blocks: 5 units fit one block, 15 need two: n_on = [1, 2]; IT = [1 + 0.5, 2 + 1.5] =
    [1.5, 3.5] MW; dc facility = IT (1 + 1/COP) = [1.65, 4.2] MW.
    Battery (test_storage, valley to peak): charge 1 MW in t0, discharge 0.81 MW in t1:
    charge [1.9, 1.0] MWh, i.e. [95 %, 50 %] of 2 MWh after 50 % at the start.
    Tank (test_thermal): cold made in t0 costs 100 x 0.1 x 1.5 = 15 CNY/MWh, saves 1000 x
    0.2 = 200 in t1, up to t1's air heat 3.5 MWh: e_cold = [3.5, 0] MWh = [35 %, 0 %]; its
    electricity +0.525 MW in t0, -0.7 MW in t1 (the thermal family's bus flow -0.525, +0.7).
    Grid = the rest: t0 1.65 + 1 + 0.525 = 3.175 MW, t1 4.2 - 0.81 - 0.7 = 2.69 MW.
    Cost 317.5 + 2,690 = 3,007.5 CNY, all grid energy.
    PUE per period (facility with the tank / IT): t0 (1.65 + 0.525) / 1.5 = 1.45, t1
    (4.2 - 0.7) / 3.5 = 1.0.
    """
    cfg = base_config(periods=2)
    cfg["nodes"][0]["tariff"] = "price"
    cfg["sites"][0]["cooling"] = {"cop": "cop"}
    cfg["interactive"] = [{"name": "web", "demand": "demand", "sites": ["s1"]}]
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
    cfg["thermal_storage"] = [
        {
            "name": "tank",
            "site": "s1",
            "capacity": 10.0,
            "charge_max": 5.0,
            "discharge_max": 10.0,
            "charge_factor": 1.5,
            "soc_initial": 0.0,
        }
    ]
    series = pd.DataFrame({"price": [100.0, 1000.0], "cop": [10.0, 5.0], "demand": [5.0, 15.0]})
    return solve_ok(cfg, series=series)


@pytest.fixture(scope="module")
def green() -> suandian.Result:
    """One site drawing 3.85 MW for 2 h (15 units, 7.7 MWh), grid at 100 CNY/MWh with a
    carbon-free share grid_cfe 0.5, a green contract at 150 CNY/MWh limited to [3.08, 1.54]
    MW, a portfolio green target of 60 %.

    Green needed 0.6 x 7.7 = 4.62 MWh = 3.08 + 1.54: the contract runs at its limit in both
    hours (unique). Grid [0.77, 2.31] MW. Cost: grid 100 x 3.08 = 308, contract 150 x 4.62 =
    693, total 1,001 CNY. Green share by hour: 3.08 / 3.85 = 80 %, 1.54 / 3.85 = 40 %. CFE by
    hour: (green + 0.5 grid) / load = (3.08 + 0.385) / 3.85 = 90 %, (1.54 + 1.155) / 3.85 =
    70 %.
    """
    cfg = base_config(periods=2)
    cfg["nodes"][0]["grid_cfe"] = 0.5
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    cfg["green_contracts"] = [{"name": "ppa", "node": "n1", "capacity": "cap", "price": 150.0}]
    cfg["policies"]["green_share"] = {"target": 0.6, "scope": "portfolio"}
    return solve_ok(cfg, series=pd.DataFrame({"cap": [3.08, 1.54]}))


def two_sites() -> dict:
    """Sites s1 (node n1, tariff [200, 100]) and s2 (node n2, tariff 300), no load but a
    batch job of 10 unit.h at up to 10 units, eligible at both.

    Running it in one period on one block costs (1 + 0.1 x 10) x 1.1 = 2.2 MWh at the price
    there: s1 in t1 220 CNY, s1 in t0 440, s2 660; splitting pays a second block's idle
    power. So x_run = 10 at (s1, t1), 0 elsewhere; n_on s1 = [0, 1], s2 = [0, 0].
    """
    cfg = base_config(periods=2)
    cfg["nodes"][0]["tariff"] = "p1"
    cfg["nodes"].append({"name": "n2", "tariff": 300.0, "emission_factor": 0.5})
    second = dict(cfg["sites"][0], name="s2", node="n2")
    cfg["sites"].append(second)
    cfg["batch"] = [{"name": "train", "work": 10.0, "max_rate": 10.0, "sites": ["s1", "s2"]}]
    return cfg


@pytest.fixture(scope="module")
def placed() -> suandian.Result:
    """The batch job of :func:`two_sites`."""
    r = solve_ok(two_sites(), series=pd.DataFrame({"p1": [200.0, 100.0]}))
    assert r.objective == pytest.approx(220.0)
    return r


def stairs(ax) -> dict:
    """The filled step patches of ``ax`` by label: (top, bottom) per period."""
    out = {}
    for patch in ax.patches:
        if isinstance(patch, matplotlib.patches.StepPatch):
            data = patch.get_data()
            out[patch.get_label()] = (np.asarray(data.values), np.asarray(data.baseline))
    return out


def lines(ax) -> dict:
    return {line.get_label(): np.asarray(line.get_ydata(), dtype=float) for line in ax.lines}


# ------------------------------------------------------------------------------ tests
def test_plot_is_not_imported_with_suandian():
    """``import suandian`` pays for neither matplotlib nor suandian.plot."""
    code = (
        "import sys, suandian; print('matplotlib' in sys.modules, 'suandian.plot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_dispatch_stack_balances_and_matches_the_hand_flows(stores):
    """The toy's bus by family (``stores``): sources t0 grid 3.175; t1 grid 2.69, battery
    0.81, tank 0.7; uses t0 facility 1.65, battery 1, tank 0.525; t1 facility 4.2. The
    sources equal the uses in every period: 3.175 and 4.2 MW."""
    table = plot.dispatch_table(stores)
    assert table["grid"].to_numpy() == pytest.approx([3.175, 2.69])
    assert table["dc"].to_numpy() == pytest.approx([-1.65, -4.2])
    assert table["stor"].to_numpy() == pytest.approx([-1.0, 0.81], abs=1e-9)
    assert table["thermal"].to_numpy() == pytest.approx([-0.525, 0.7], abs=1e-9)

    fig = plot.dispatch(stores, site="s1")
    assert isinstance(fig, Figure)
    layers = stairs(fig.axes[0])
    sources = sum(top - bottom for top, bottom in layers.values() if (top >= bottom).all())
    uses = sum(bottom - top for top, bottom in layers.values() if (top < bottom).any())
    assert sources == pytest.approx([3.175, 4.2])
    assert uses == pytest.approx([3.175, 4.2])
    top, bottom = layers["battery discharge"]
    assert (top - bottom) == pytest.approx([0.0, 0.81], abs=1e-9)
    top, bottom = layers["battery charge"]
    assert (top - bottom) == pytest.approx([-1.0, 0.0], abs=1e-9)
    # the node's stack and the portfolio's are the site's (one site at n1)
    assert plot.dispatch_table(stores, node="n1").equals(table)
    with pytest.raises(ValueError, match="site 'nowhere' is not in the plan"):
        plot.dispatch(stores, site="nowhere")


def test_dispatch_per_node_sums_its_sites(placed):
    """Node n1 holds s1 only: its stack is s1's (grid 0 then 2.2 MW, facility the same)."""
    table = plot.dispatch_table(placed, node="n1")
    assert table["grid"].to_numpy() == pytest.approx([0.0, 2.2])
    assert table["dc"].to_numpy() == pytest.approx([0.0, -2.2])
    assert plot.dispatch_table(placed, node="n2").empty or (
        plot.dispatch_table(placed, node="n2").abs().to_numpy().max() < 1e-9
    )
    _, ax = plt.subplots()
    assert plot.dispatch(placed, node="n1", ax=ax) is ax.figure


def test_state_of_charge_of_battery_and_tank(stores):
    """Battery 50 % at the start, then 95 %, 50 %; tank 0 %, 35 %, 0 % (``stores``)."""
    _, ax = plt.subplots()
    fig = plot.state_of_charge(stores, ax=ax)
    assert fig is ax.figure
    got = lines(ax)
    assert got["battery bat"] == pytest.approx([50.0, 95.0, 50.0])
    assert got["tank tank"] == pytest.approx([0.0, 35.0, 0.0], abs=1e-7)


def test_commitment_steps_through_the_blocks_on(stores, placed):
    """``stores``: one block then two, of 2 installed. ``placed``: s1 [0, 1], s2 off."""
    fig = plot.commitment(stores)
    got = lines(fig.axes[0])
    assert got["s1"] == pytest.approx([1, 2, 2])  # the last step drawn to the horizon's end
    assert got["s1: blocks installed"] == pytest.approx([2, 2])
    _, ax = plt.subplots()
    assert plot.commitment(placed, ax=ax) is ax.figure
    got = lines(ax)
    assert got["s1"] == pytest.approx([0, 1, 1])
    assert got["s2"] == pytest.approx([0, 0, 0])


def test_placement_puts_the_job_where_derived(placed):
    """x_run = 10 at (s1, t1), nothing at s2 (:func:`two_sites`)."""
    table = plot.placement_table(placed)
    assert list(table.index) == ["batch train @ s1", "batch train @ s2"]
    assert table.to_numpy() == pytest.approx(np.array([[0.0, 10.0], [0.0, 0.0]]))
    _, ax = plt.subplots()
    fig = plot.placement(placed, ax=ax)
    assert fig is ax.figure
    (mesh,) = ax.collections
    assert np.asarray(mesh.get_array()).reshape(2, 2) == pytest.approx(
        np.array([[0, 10.0], [0, 0]])
    )


def test_green_share_and_cfe_by_hour(green):
    """80 % and 40 % green, 90 % and 70 % CFE (``green``); the target line at 60 %."""
    fig = plot.green_by_hour(green, site="s1")
    got = lines(fig.axes[0])
    assert got["green share s1"] == pytest.approx([80.0, 40.0])
    assert got["CFE s1"] == pytest.approx([90.0, 70.0])
    _, ax = plt.subplots()
    plot.green_by_hour(green, site="portfolio", ax=ax)
    got = lines(ax)
    assert got["green share portfolio"] == pytest.approx([80.0, 40.0])
    assert got["target portfolio (horizon)"] == pytest.approx([60.0, 60.0])
    # the hours' CFE weighted by their load is the KPI (equal loads: the mean)
    assert np.mean([0.9, 0.7]) == pytest.approx(green.kpis["cfe_hourly"]["s1"])


def test_pue_against_load_and_temperature():
    """Ambient [10, 35] degC, demand [10, 15] units, one site.

    t0: 10 degC is free cooling, COP 25 (test_datacenter); one block, IT 1 + 1 = 2 MW,
    PUE 1 + 1/25 = 1.04. t1: 35 degC, chiller COP 7 x (1 - 0.025 x 10) = 5.25; two
    blocks, IT 3.5 MW, PUE 1 + 1/5.25 = 1.190476. The colour of each point is the driving
    temperature [10, 35].
    """
    cfg = base_config(periods=2)
    cfg["sites"][0]["cooling"] = {"ambient": "temp"}
    cfg["interactive"] = [{"name": "web", "demand": "demand", "sites": ["s1"]}]
    r = solve_ok(cfg, series=pd.DataFrame({"temp": [10.0, 35.0], "demand": [10.0, 15.0]}))
    fig = plot.pue_vs_load(r)
    ax = fig.axes[0]
    (points,) = [c for c in ax.collections if c.get_label() == "s1"]
    assert np.asarray(points.get_offsets()) == pytest.approx(
        np.array([[2.0, 1.04], [3.5, 1 + 1 / 5.25]])
    )
    assert np.asarray(points.get_array()) == pytest.approx([10.0, 35.0])
    assert len(fig.axes) == 2  # the colour bar


def test_pue_of_the_periods_with_a_tank(stores):
    """``stores``: PUE 1.45 at 1.5 MW IT, 1.0 at 3.5 MW; no temperature (a COP series)."""
    _, ax = plt.subplots()
    assert plot.pue_vs_load(stores, ax=ax) is ax.figure
    (points,) = [c for c in ax.collections if c.get_label() == "s1"]
    assert np.asarray(points.get_offsets()) == pytest.approx(np.array([[1.5, 1.45], [3.5, 1.0]]))


def test_cost_waterfall_builds_up_to_the_objective(green):
    """Grid 308 from 0, contract 693 from 308, then the total 1,001 from 0 (``green``)."""
    fig = plot.cost_waterfall(green)
    bars = fig.axes[0].patches
    heights = [b.get_height() for b in bars]
    bottoms = [b.get_y() for b in bars]
    assert heights == pytest.approx([308.0, 693.0, 1001.0])
    assert bottoms == pytest.approx([0.0, 308.0, 0.0])
    assert sum(heights[:-1]) == pytest.approx(green.objective)
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["grid_energy", "green_contract", "total"]
    _, ax = plt.subplots()
    assert plot.cost_waterfall({"a": 10.0, "b": -4.0, "total": 6.0}, ax=ax) is ax.figure
    assert [b.get_height() for b in ax.patches] == pytest.approx([10.0, -4.0, 6.0])
    assert [b.get_y() for b in ax.patches] == pytest.approx([0.0, 10.0, 0.0])


def test_offer_chart_draws_the_table():
    """Two windows at one site; the 2-h window cannot hold 20 MW (a cross on the axis)."""
    table = pd.DataFrame(
        {
            "site": ["a", "a", "a", "a"],
            "hours": [1.0, 1.0, 2.0, 2.0],
            "mw": [5.0, 20.0, 5.0, 20.0],
            "mwh": [5.0, 20.0, 10.0, 40.0],
            "status": ["optimal", "optimal", "optimal", "infeasible"],
            "cost": [500.0, 3000.0, 1200.0, np.nan],
        }
    )
    table["cost_per_mwh"] = table["cost"] / table["mwh"]
    _, ax = plt.subplots()
    assert plot.offer(table, ax=ax) is ax.figure
    got = lines(ax)
    assert got["a, 1 h"] == pytest.approx([100.0, 150.0])
    assert got["a, 2 h"] == pytest.approx([120.0])
    crosses = [line for line in ax.lines if line.get_marker() == "x" and len(line.get_xdata())]
    assert [float(c.get_xdata()[0]) for c in crosses] == [20.0]


def test_sweep_kpi_one_line_per_hue():
    """The LP of test_sweep: cost = 7 p (1 + 1/COP): p 50, 100 at COP 5: 420, 840; at COP
    10: 385, 770. Solved here one by one (no cluster)."""
    from test_sweep import COP, TARIFF, one_site

    sc = suandian.load_scenario(one_site())
    result = suandian.sweep(
        sc, {TARIFF: [50.0, 100.0], COP: [5.0, 10.0]}, scheduler="serial", progress=False
    )
    fig = plot.sweep_kpi(result, y="objective", x=TARIFF, hue=COP)
    got = lines(fig.axes[0])
    assert got[f"{COP} = 5.0"] == pytest.approx([420.0, 840.0])
    assert got[f"{COP} = 10.0"] == pytest.approx([385.0, 770.0])
    _, ax = plt.subplots()
    assert plot.sweep_kpi(result.ds, ax=ax) is ax.figure  # the Dataset alone, defaults
    with pytest.raises(ValueError, match="y='nope' is not a column"):
        plot.sweep_kpi(result, y="nope")


def test_pareto_front_is_the_library_figure():
    """The green front of test_pareto at 0.1 and 0.8: cost 785.4 and 1,018; ``plot_pareto``
    and ``ParetoFront.figure`` draw the same through ``plot.pareto_front``."""
    from test_pareto import two_green_sources

    sc = suandian.load_scenario(two_green_sources())
    front = suandian.pareto(
        sc, points=[0.1, 0.8], scheduler="serial", progress=False, mip_rel_gap=0.0
    )
    _, ax = plt.subplots()
    assert plot.pareto_front(front, ax=ax) is ax.figure
    assert lines(ax)["least-cost plan"] == pytest.approx([785.4, 1018.0])
    fig = suandian.plot_pareto(front)
    assert lines(fig.axes[0])["least-cost plan"] == pytest.approx([785.4, 1018.0])


def test_year_compliance_month_by_month():
    """The green-year case of test_rolling (commit 2, look-ahead 1) starting on 31 July at
    22:00, so that t0, t1 fall in July and t2, t3 in August.

    The first window keeps t0, t1 with 1.925 MWh green of 7.7 (test_rolling): July to date
    25 %; over the year 0.5 x 15.4 = 7.7 MWh green: August to date 50 %. PUE 1.1 throughout
    (no losses, COP 10). Target 50 % (portfolio); no PUE cap.
    """
    from test_rolling import GREEN_PRICES, green_year, rolled

    cfg = green_year()
    cfg["horizon"]["start"] = "2026-07-31 22:00"
    year = rolled(cfg, GREEN_PRICES, 2, 1, forecast="neutral")
    assert year.objective == pytest.approx(2887.5)
    fig = plot.year_compliance(year)
    left, right = fig.axes[0], fig.axes[-1]
    assert lines(left)["PUE s1"] == pytest.approx([1.1, 1.1])
    got = lines(right)
    assert got["green share s1"] == pytest.approx([25.0, 50.0])
    assert got["green target portfolio"] == pytest.approx([50.0, 50.0])
    assert [t.get_text() for t in left.get_xticklabels()] == ["2026-07", "2026-08"]
    _, ax = plt.subplots()
    assert plot.year_compliance(year, ax=ax) is ax.figure


def test_no_plan_draws_a_note():
    """An infeasible plan draws no data, and says so."""
    cfg = base_config(periods=1)
    cfg["interactive"] = [{"name": "web", "demand": 50.0, "sites": ["s1"]}]  # 20 units fit
    r = suandian.solve(suandian.load_scenario(cfg), diagnose=False)
    assert not r.has_plan
    for draw in (plot.dispatch, plot.state_of_charge, plot.commitment, plot.placement):
        fig = draw(r)
        assert not fig.axes[0].patches and not fig.axes[0].lines
        assert "no plan" in fig.axes[0].texts[0].get_text()
