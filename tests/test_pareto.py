"""Pareto fronts on a real 2-worker LocalCluster, against fronts derived on paper.

The scenario is the one-site LP of ``test_sweep``: a facility draw of 3.85 MW for 2 h, so
consumption C = 7.7 MWh, bought from the grid at 100 CNY/MWh (0.5 tCO2/MWh).
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from test_sweep import one_site  # noqa: E402

import suandian  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


def two_green_sources() -> dict:
    """Green contract A at 120 CNY/MWh for 1 MW, contract B at 150 CNY/MWh for 10 MW."""
    cfg = one_site()
    cfg["policies"]["green_share"] = {"target": 0.5, "scope": "portfolio"}
    cfg["green_contracts"] = [
        {"name": "a", "node": "n1", "capacity": 1.0, "price": 120.0},
        {"name": "b", "node": "n1", "capacity": 10.0, "price": 150.0},
    ]
    return cfg


def test_green_share_front_is_piecewise_linear_with_the_derived_slopes(client):
    """Green target phi needs G = 7.7 phi MWh green. Each green MWh replaces a grid MWh:
    from A (+20 CNY, at most 1 MW x 2 h = 2 MWh), then from B (+50 CNY). So

        cost(phi) = 770 + 20 min(G, 2) + 50 max(G - 2, 0),

    linear with slope 20 x 7.7 = 154 CNY per unit of share below phi = 2 / 7.7 = 0.2597 and
    50 x 7.7 = 385 above. At 0.1, 0.2, 0.4, 0.6, 0.8: cost 785.4, 800.8, 864, 941, 1018.
    The target row's shadow price per percentage point is the slope / 100 (1.54, 3.85), so
    the front's slope from the shadow prices is 154, 154, 385, 385, 385; the secants
    between 0.1 and 0.2 and from 0.4 on are the same. (phi = 1 is left out: there the grid
    buys nothing and the row's dual is not unique.)
    """
    sc = suandian.load_scenario(two_green_sources())
    targets = [0.1, 0.2, 0.4, 0.6, 0.8]
    front = suandian.pareto(
        sc,
        against="green_share",
        points=targets,
        scheduler=client,
        progress=False,
        mip_rel_gap=0.0,
    )
    t = front.table
    assert list(t["epsilon"]) == targets
    assert t["level"].to_numpy() == pytest.approx(targets)
    assert t["cost"].to_numpy() == pytest.approx([785.4, 800.8, 864.0, 941.0, 1018.0])
    assert t["slope"].to_numpy() == pytest.approx([154.0, 154.0, 385.0, 385.0, 385.0])
    shadow = "shadow.shadow_green_share_point_portfolio_cny_per_point"
    assert t[shadow].to_numpy() == pytest.approx([1.54, 1.54, 3.85, 3.85, 3.85])
    assert t["secant"].to_numpy()[[1, 3, 4]] == pytest.approx([154.0, 385.0, 385.0])
    assert np.isnan(t["secant"].iloc[0])
    assert t["certified"].all() and front.method == "epsilon-constraint"

    fig = front.figure()
    assert isinstance(fig, matplotlib.figure.Figure)
    _, ax = plt.subplots()
    assert suandian.plot_pareto(front, ax=ax) is ax.figure
    assert ax.get_xlabel() == "green share achieved"
    plt.close("all")


def two_sites_one_target() -> dict:
    """s1 (node n1, with a green contract at 150 CNY/MWh for 10 MW) and s2 (node n2, grid
    only), each drawing 3.85 MW for 2 h; a per-site green target on s1 alone (s2: null)."""
    cfg = one_site()
    cfg["nodes"].append({"name": "n2", "tariff": 100.0, "emission_factor": 0.5})
    cfg["sites"].append({**cfg["sites"][0], "name": "s2", "node": "n2"})
    cfg["interactive"].append({"name": "web2", "demand": 15.0, "sites": ["s2"]})
    cfg["policies"]["green_share"] = {"target": 0.5, "scope": "site", "site_targets": {"s2": None}}
    cfg["green_contracts"] = [{"name": "g", "node": "n1", "capacity": 10.0, "price": 150.0}]
    return cfg


def test_site_target_front_is_the_two_source_line(tmp_path):
    """Two sources for s1's load L = 7.7 MWh: the grid at a = 100 CNY/MWh (no green
    attribute) and the contract at b = 150 (green). At target x, s1 buys x L green and
    (1 - x) L grid: cost_s1(x) = L (a + x (b - a)) = 770 + 385 x; s2 buys L from its grid
    (770) under no target. So cost(x) = 1540 + 385 x: 1617 at 0.2, 1732.5 at 0.5, 1886.5
    at 0.9; slope (b - a) L = 385 CNY per unit of share, (b - a) L / 100 = 3.85 per
    percentage point, at every point, and the secant equals it. The level is s1's share
    (x): s2 (share 0) has no target and is left out of the level and the slope. The same
    front comes back from the saved sweep, and from a plain sweep of the target with its
    scope inferred from the shadow prices.
    """
    from suandian.run.pareto import front_of

    sc = suandian.load_scenario(two_sites_one_target())
    points = [0.2, 0.5, 0.9]
    front = suandian.pareto(sc, points=points, scheduler="serial", progress=False, mip_rel_gap=0.0)
    t = front.table
    assert t["cost"].to_numpy() == pytest.approx([1617.0, 1732.5, 1886.5])
    assert t["level"].to_numpy() == pytest.approx(points)
    assert t["slope"].to_numpy() == pytest.approx([385.0] * 3)
    assert t["shadow.shadow_green_share_point_s1_cny_per_point"].to_numpy() == pytest.approx(
        [3.85] * 3
    )
    assert "shadow.shadow_green_share_point_s2_cny_per_point" not in t
    assert t["secant"].to_numpy()[1:] == pytest.approx([385.0, 385.0])
    assert front.sweep.ds["green_share"].sel(scope="s2").values == pytest.approx([0.0] * 3)

    front.sweep.save(tmp_path / "front")
    back = front_of(suandian.read_sweep(tmp_path / "front"))
    numbers = ["epsilon", "level", "cost", "slope", "secant"]
    assert back.against == "green_share" and back.table[numbers].equals(t[numbers])

    plain = suandian.sweep(
        sc,
        {"policies.green_share.target": points},
        scheduler="serial",
        progress=False,
        mip_rel_gap=0.0,
    )
    inferred = front_of(plain)
    assert inferred.table["level"].to_numpy() == pytest.approx(points)
    assert inferred.table["slope"].to_numpy() == pytest.approx([385.0] * 3)


def test_an_annual_target_front_runs_along_the_year_share():
    """The two sources of the test above (L = 7.7 MWh, grid 100, green 150) under a target
    on the YEAR: 7.7 MWh consumed before the horizon with no green, nothing forecast, so
    the year's share is G / 15.4 and target y needs G = 15.4 y MWh of green in the
    horizon: cost 770 + 50 x 15.4 y = 770 + 770 y (847, 962.5, 1078 at y = 0.1, 0.25,
    0.4). The front's level is the year's share the row judges (y), not the horizon's
    (2 y), so the slope from the shadow price, 770 CNY per unit of year share (7.7 per
    point), equals the secant; against the horizon's share the secant would be half.
    """
    cfg = two_sites_one_target()
    cfg["sites"], cfg["nodes"], cfg["interactive"] = (
        cfg["sites"][:1],
        cfg["nodes"][:1],
        cfg["interactive"][:1],
    )
    cfg["policies"]["green_share"] = {
        "target": 0.1,
        "scope": "portfolio",
        "basis": "year",
        "year": {"portfolio": {"consumption_to_date_mwh": 7.7}},
    }
    points = [0.1, 0.25, 0.4]
    front = suandian.pareto(
        suandian.load_scenario(cfg),
        points=points,
        scheduler="serial",
        progress=False,
        mip_rel_gap=0.0,
    )
    t = front.table
    assert t["cost"].to_numpy() == pytest.approx([847.0, 962.5, 1078.0])
    assert t["level"].to_numpy() == pytest.approx(points)
    horizon = front.sweep.ds["green_share"].sel(scope="portfolio").values
    assert horizon == pytest.approx([0.2, 0.5, 0.8])
    assert t["slope"].to_numpy() == pytest.approx([770.0] * 3)
    assert t["secant"].to_numpy()[1:] == pytest.approx([770.0, 770.0])


def test_emissions_front_by_carbon_price(client):
    """Contract B (150 CNY/MWh, no emissions, 10 MW) against the grid at 100 + 0.5 p CNY/MWh
    under a carbon price p: below p = 100 the grid is cheaper (3.85 tCO2, cost without the
    carbon charge 770), above it B serves all 7.7 MWh (0 tCO2, 1155). The slope of the front
    at a point is -p (the marginal abatement cost).
    """
    cfg = one_site()
    cfg["green_contracts"] = [{"name": "b", "node": "n1", "capacity": 10.0, "price": 150.0}]
    sc = suandian.load_scenario(cfg)
    front = suandian.pareto(
        sc,
        against="emissions",
        points=[50.0, 200.0],
        scheduler=client,
        progress=False,
        mip_rel_gap=0.0,
    )
    t = front.table
    assert t["level"].to_numpy() == pytest.approx([3.85, 0.0], abs=1e-9)
    assert t["cost"].to_numpy() == pytest.approx([770.0, 1155.0])
    assert t["slope"].to_numpy() == pytest.approx([-50.0, -200.0])
    assert front.method == "weighted sum"


def test_cfe_score_front_of_a_sized_pv_and_battery(client):
    """``test_sizing``'s 24/7 case (grid 100 CNY/MWh with grid_cfe 0.5, PV at 50 CNY/MW and a
    battery at 100 CNY/MWh over the 2 h, both chosen): at score sigma >= 0.75 the battery
    shifts ``c = (7.7 sigma - 5.775) / 0.5`` MWh of PV into hour 2 at 50 CNY net each, so
    cost ``577.5 + 100 (7.7 sigma - 5.775)``: 616 at 0.8, 693 at 0.9; slope ``770`` CNY per
    unit of score (100 x 7.7 CNY per point), the level the score itself (the row binds).
    """
    from test_sizing import _cfe_case

    cfg, series = _cfe_case(0.9)
    sc = suandian.load_scenario(cfg, series=series)
    front = suandian.pareto(
        sc,
        against="cfe_score",
        points=[0.8, 0.9],
        scheduler=client,
        progress=False,
        mip_rel_gap=0.0,
    )
    t = front.table
    assert t["cost"].to_numpy() == pytest.approx([616.0, 693.0])
    assert t["level"].to_numpy() == pytest.approx([0.8, 0.9])
    assert t["slope"].to_numpy() == pytest.approx([770.0, 770.0])
    assert t["secant"].to_numpy()[1] == pytest.approx(770.0)
    assert t["certified"].all()


def test_unknown_axes_are_refused_with_the_fix():
    sc = suandian.load_scenario(one_site())
    with pytest.raises(suandian.SweepError, match="no 24/7 CFE target to sweep"):
        suandian.pareto(sc, against="cfe_score")
    with pytest.raises(suandian.SweepError, match="minimises cost"):
        suandian.pareto(sc, objective="emissions")
    with pytest.raises(suandian.SweepError, match="low < high"):
        suandian.pareto(sc, points=4, span=(1.0, 0.5))
