"""Corridor pricing on one basis: price components, loss basis, green profile, deviations.

Base (tests/test_green_power.py): one site at node n1 with 15 units of interactive demand,
3.85 MW in every period (facility 1.1 x 3.5 MW IT), no storage, no way to dump energy; a
sending node n2 without sites; grid price 200 CNY/MWh unless told. Every expected value is
derived by hand in the docstrings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import solve_ok
from test_green_power import LOAD, corridor, loaded

import suandian
from suandian.results.accounting import accounts, books
from suandian.results.certifier import certify
from suandian.run.diagnose import _data_checks


def _solve(periods: int = 2, series: pd.DataFrame | None = None, **line):
    cfg = loaded(periods=periods, grid_price=200.0)
    cfg["corridors"] = [corridor(**line)]
    return solve_ok(cfg, series=series)


def _checks(ds) -> set[str]:
    return {v.check for v in certify(ds)}


# --------------------------------------------------------------------- loss basis
def test_loss_basis_physical_and_in_tariff_cost_the_same():
    """The same delivered cost on both bases when the tariff's loss allowance is the loss.

    physical: source 90 + tariff 18 (losses excluded) per MWh sent, loss 10 %:
      sent = 3.85 / 0.9 = 4.2778 MW, delivered 3.85 MW; 120 CNY per MWh delivered
      (108 / 0.9) < grid 200, so the corridor carries the whole load for 2 h:
      cost = 108 x 4.2778 x 2 = 924 CNY.
    in_tariff: the tariff includes the losses: 18 + 0.1 x 120 = 30 (the allowance 12 is the
      loss, 10 % of the delivered price), loss 0, settled as delivered: sent = delivered
      = 3.85 MW; cost = (90 + 30) x 3.85 x 2 = 924 CNY.
    Both meter 7.7 MWh at the receiving node (the network charge base).
    """
    physical = _solve(source_price=90.0, tariff=18.0, loss=0.1)
    in_tariff = _solve(source_price=90.0, tariff=30.0, loss_basis="in_tariff")
    for r, sent, price in ((physical, LOAD / 0.9, 108.0), (in_tariff, LOAD, 120.0)):
        ds = r.ds
        assert ds["corridor_source_price"].values.ravel() == pytest.approx([90.0, 90.0])
        assert float(ds["corridor_price"].max()) == pytest.approx(price)
        assert float(ds["corridor_tariff"][0]) == pytest.approx(price - 90.0)
        assert r.kpis["energy_mwh"]["corridor_sent"] == pytest.approx(2 * sent)
        assert r.kpis["energy_mwh"]["corridor_delivered"] == pytest.approx(2 * LOAD)
        assert r.costs["corridor"] == pytest.approx(924.0)
        assert r.objective == pytest.approx(924.0)
        metered = accounts(ds)["green"].flows["metered"]
        assert float(metered.sum()) * 1.0 == pytest.approx(2 * LOAD)
    assert str(in_tariff.ds["corridor_loss_basis"].values[0]) == "in_tariff"


def test_in_tariff_with_a_loss_is_refused():
    """A loss on top of a tariff that includes losses counts them twice: the loader says so."""
    cfg = loaded()
    cfg["corridors"] = [corridor(tariff=60.0, loss=0.06, loss_basis="in_tariff")]
    with pytest.raises(suandian.ScenarioError) as err:
        suandian.load_scenario(cfg)
    text = str(err.value)
    assert "corridors[0]" in text and "loss 0.06" in text and "set loss: 0" in text


# ------------------------------------------------------------------ green profile
GREEN = pd.DataFrame({"re": [0.0, 1.0, 2.0, 5.0]})  # MW of wind and PV at the sending end


def _green_target(gf: float = 1.0) -> dict:
    """4 h, corridor 100 (< grid 200), green_profile [0, 1, 2, 5] MW, target 50 %, GEC 30."""
    cfg = loaded(periods=4, grid_price=200.0)
    cfg["corridors"] = [corridor(green_profile="re", green_fraction=gf)]
    cfg["policies"]["green_share"] = {"target": 0.5}
    cfg["certificates"] = {"price": 30.0}
    return cfg


@pytest.mark.parametrize(
    ("gf", "green_sent"),
    [
        # green part = min(gf x 3.85, profile): [0, 1, 2, 3.85] = 6.85 MWh
        (1.0, [0.0, 1.0, 2.0, LOAD]),
        # gf 0.5: min(1.925, profile) = [0, 1, 1.925, 1.925] = 4.85 MWh
        (0.5, [0.0, 1.0, 1.925, 1.925]),
    ],
)
def test_green_profile_bounds_the_green_share(gf, green_sent):
    """The corridor (100/MWh, no loss) carries the whole load, 3.85 MW x 4 h = 15.4 MWh.

    The target asks for 0.5 x 15.4 = 7.7 MWh green. Without the profile the corridor would
    be all green (cost 1540). With it the green part in each period is at most
    min(gf x sent, profile), summed as in the parameters; the rest of the 7.7 MWh are
    certificates at 30: gf 1: 7.7 - 6.85 = 0.85 -> 1540 + 25.5 = 1565.5;
    gf 0.5: 7.7 - 4.85 = 2.85 -> 1540 + 85.5 = 1625.5.
    """
    r = solve_ok(_green_target(gf), series=GREEN)
    green = sum(green_sent)
    assert r.ds["p_send"].sel(corridor="line", site="s1").values == pytest.approx([LOAD] * 4)
    assert r.ds["p_send_green"].sel(corridor="line", site="s1").values == pytest.approx(green_sent)
    assert r.kpis["energy_mwh"]["corridor_green_delivered"] == pytest.approx(green)
    assert r.kpis["energy_mwh"]["certificates"] == pytest.approx(7.7 - green)
    assert r.objective == pytest.approx(1540.0 + 30.0 * (7.7 - green))
    assert r.kpis["green_share"]["portfolio"] == pytest.approx(0.5)


def test_green_profile_without_a_target_is_reported_at_its_maximum():
    """No green rule: the green part costs nothing, so the solver may return any amount up to
    the bound; the Dataset reports the maximum, min(3.85, [0, 1, 2, 5]) = 6.85 MWh of 15.4:
    green share 6.85 / 15.4 = 0.444805. Cost 100 x 15.4 = 1540."""
    cfg = loaded(periods=4, grid_price=200.0)
    cfg["corridors"] = [corridor(green_profile="re")]
    r = solve_ok(cfg, series=GREEN)
    assert r.kpis["green_mwh"]["s1"] == pytest.approx(6.85)
    assert r.kpis["green_share"]["portfolio"] == pytest.approx(6.85 / 15.4)
    assert r.objective == pytest.approx(1540.0)


# -------------------------------------------------------------------- deviations
@pytest.mark.parametrize(
    ("up", "down", "n", "dev_up", "dev_down", "corridor_cost", "deviation_cost"),
    [
        # up 150 < grid 200: hold n = 1 (2 MW at 100) and take 1.85 MW above at 150:
        # 200 + 277.5 = 477.5 per h (n = 2 would hold 4 MW that cannot all be taken)
        (150.0, None, 1, 1.85, 0.0, 800.0, 1110.0),
        # credit 60 for energy not taken: n = 2 costs 400 - 0.15 x 60 = 391 per h, n = 1
        # 477.5, n = 3 600 - 2.15 x 60 = 471: n = 2, 0.15 MW not taken
        (150.0, 60.0, 2, 0.0, 0.15, 1600.0, -36.0),
        # penalty 50 for energy not taken, nothing above: n = 2 costs 400 + 0.15 x 50 =
        # 407.5 per h, n = 1 200 + 1.85 x 200 (grid) = 570: n = 2
        (None, -50.0, 2, 0.0, 0.15, 1600.0, 30.0),
        # credit 120 above the block price 100: blocks are held up to the capacity (10 MW,
        # n = 5, row corridor_held): 1000 - 6.15 x 120 = 262 per h (n = 4: 800 - 4.15 x 120
        # = 302)
        (150.0, 120.0, 5, 0.0, 6.15, 4000.0, -2952.0),
    ],
)
def test_deviation_settlement(up, down, n, dev_up, dev_down, corridor_cost, deviation_cost):
    """Blocks of 2 MW over the whole day, contract price 100, load 3.85 MW, 4 h, grid 200.

    Without deviation prices n = floor(3.85 / 2) = 1 and the grid buys 1.85 MW (2280 CNY).
    With them: blocks held are paid in full at 100 (cost term ``corridor`` = 100 x 2n x 4),
    energy above at ``up``, energy not taken credited at ``down`` (``corridor_deviation``).
    """
    r = _solve(
        periods=4,
        capacity=10.0,
        block_mw=2.0,
        deviation_price_up=up,
        deviation_price_down=down,
    )
    ds = r.ds
    assert ds["n_block"].values == pytest.approx([n])
    assert ds["p_send"].sel(site="s1", corridor="line").values == pytest.approx(
        [2.0 * n + dev_up - dev_down] * 4
    )
    for side, value, given in (("up", dev_up, up), ("down", dev_down, down)):
        if given is None:
            assert f"p_dev_{side}" not in ds
        else:
            assert ds[f"p_dev_{side}"].values.ravel() == pytest.approx([value] * 4, abs=1e-9)
    assert r.costs["corridor"] == pytest.approx(corridor_cost)
    assert r.costs["corridor_deviation"] == pytest.approx(deviation_cost)
    grid = 4 * 200.0 * (LOAD - (2.0 * n + dev_up - dev_down))
    assert r.objective == pytest.approx(corridor_cost + deviation_cost + grid)


def test_no_deviation_prices_keep_the_block_equality():
    """Same corridor without deviation prices: n = 1, grid 1.85 MW: 800 + 1480 = 2280."""
    r = _solve(periods=4, capacity=10.0, block_mw=2.0)
    assert "p_dev_up" not in r.ds and "corridor_deviation" not in r.costs
    assert r.objective == pytest.approx(2280.0)


def test_deviation_price_down_above_up_is_refused():
    cfg = loaded()
    cfg["corridors"] = [corridor(block_mw=1.0, deviation_price_up=50.0, deviation_price_down=80.0)]
    with pytest.raises(suandian.ScenarioError, match="deviation_price_down 80"):
        suandian.load_scenario(cfg)
    series = pd.DataFrame({"up": [50.0, 50.0], "down": [40.0, 60.0]})
    cfg["corridors"] = [
        corridor(block_mw=1.0, deviation_price_up="up", deviation_price_down="down")
    ]
    with pytest.raises(suandian.ScenarioError, match="above deviation_price_up"):
        suandian.load_scenario(cfg, series=series)


def test_deviation_prices_need_blocks():
    cfg = loaded()
    cfg["corridors"] = [corridor(deviation_price_up=150.0)]
    with pytest.raises(suandian.ScenarioError, match="set block_mw"):
        suandian.load_scenario(cfg)


# ------------------------------------------------------------------------ certifier
@pytest.fixture(scope="module")
def deviating():
    """The (up 150, down 60) plan above: n = 2, 0.15 MW not taken in every period."""
    return _solve(
        periods=4,
        capacity=10.0,
        block_mw=2.0,
        deviation_price_up=150.0,
        deviation_price_down=60.0,
    )


@pytest.fixture(scope="module")
def profiled():
    return solve_ok(_green_target(1.0), series=GREEN)


def _resync(ds) -> None:
    """The objective of the tampered plan; its per-period split (the model's) is dropped."""
    ds.attrs["objective"] = books(ds)["cost"]["total"]
    if "cost_period" in ds:
        del ds["cost_period"]


def test_tampered_deviation_is_caught(deviating):
    """p_dev_down 0.15 -> 0.5 in period 2: the block row no longer closes (and the credit
    changes the cost); n_block 2 -> 3: held 6 MW, the row misses in every period."""
    ds = deviating.ds.copy(deep=True)
    ds["p_dev_down"][0, 2] = 0.5
    found = certify(ds)
    assert [v.where for v in found if v.check == "green.corridor_block"] == [
        "corridor=line time=2026-07-15 02:00"
    ]
    assert "total_cost" in {v.check for v in found}
    ds = deviating.ds.copy(deep=True)
    ds["n_block"][0] = 3
    _resync(ds)
    assert _checks(ds) == {"green.corridor_block"}


def test_tampered_deviation_price_and_tariff_are_caught(deviating):
    """A changed deviation price is caught by the cost; a changed tariff by corridor_price."""
    ds = deviating.ds.copy(deep=True)
    ds["corridor_deviation_price_down"][0, 1] = 10.0
    assert _checks(ds) == {"total_cost", "cost_period"}  # a per-period term: off its split too
    ds = deviating.ds.copy(deep=True)
    ds["corridor_tariff"][0] = 5.0
    assert _checks(ds) == {"green.corridor_price"}


def test_tampered_held_above_capacity_is_caught(deviating):
    """Capacity 10 -> 3 MW in period 0: 4 MW held is more than the corridor can carry."""
    ds = deviating.ds.copy(deep=True)
    ds["corridor_capacity"][0, 0] = 3.0
    assert _checks(ds) == {"green.corridor_held", "green.corridor_capacity"}


def test_tampered_green_part_is_caught(profiled):
    """Green part 0 -> 0.5 MW at 00:00, where the profile is 0: the profile row fires; 5 MW
    at 03:00, equal to the profile there but above the 3.85 MW sent: the share row fires."""
    ds = profiled.ds.copy(deep=True)
    ds["p_send_green"][0, 0, 0] = 0.5
    _resync(ds)
    assert _checks(ds) == {"green.corridor_green_profile"}
    ds = profiled.ds.copy(deep=True)
    ds["p_send_green"][0, 0, 3] = 5.0
    _resync(ds)
    assert _checks(ds) == {"green.corridor_green_share"}


def test_tampered_loss_basis_is_caught():
    """A loss kept with loss_basis in_tariff is the double count the loader refuses."""
    r = _solve(source_price=90.0, tariff=30.0, loss_basis="in_tariff")
    ds = r.ds.copy(deep=True)
    ds["corridor_loss"][0] = 0.05
    found = _checks(ds)
    assert "green.corridor_loss_basis" in found
    assert np.isclose(float(r.ds["corridor_loss"][0]), 0.0)


# ------------------------------------------------------------------------ diagnosis
def test_minimum_above_the_blocks_is_reachable_with_deviations():
    """Blocks of 2 MW, capacity 3 MW, min_mw 2.5 MW, 2 h.

    Whole blocks reach at most 2 MW < 2.5: infeasible, and the diagnosis proves it from the
    data. With deviation_price_up 150 energy above the blocks is allowed up to the capacity:
    n = 1 (2 MW at 100) + 1 MW above at 150 (< grid 200) + 0.85 MW grid = 520 per h, 1040
    for 2 h (n = 0 with 3 MW above: 450 + 170 = 620 per h).
    """
    cfg = loaded(grid_price=200.0)
    cfg["corridors"] = [corridor(capacity=3.0, block_mw=2.0, min_mw=2.5)]
    r = suandian.solve(suandian.load_scenario(cfg))
    assert r.status == "infeasible"
    assert "whole blocks of 2 MW held over each window reach at most 2 MW" in str(r.diagnosis)
    cfg["corridors"][0]["deviation_price_up"] = 150.0
    assert _data_checks(suandian.load_scenario(cfg)) == []  # the capacity 3 MW >= 2.5
    r = solve_ok(cfg)
    assert r.ds["n_block"].values == pytest.approx([1])
    assert r.ds["p_dev_up"].values.ravel() == pytest.approx([1.0, 1.0])
    assert r.objective == pytest.approx(1040.0)


def test_round_trip_certifies(deviating, profiled, tmp_path):
    """The new inputs (strings, NaN profiles) and decisions survive netCDF and certify."""
    for i, r in enumerate((deviating, profiled)):
        r.save(tmp_path / str(i), formats=("netcdf",))
        ds = suandian.read_result(tmp_path / str(i)).ds
        assert certify(ds) == []
        assert str(ds["corridor_loss_basis"].values[0]) == "physical"


def test_green_part_is_reported_at_its_maximum(profiled):
    """Whatever the solver returns below the bound (here 0 everywhere), the reported green
    part is min(phi x sent, profile) = min(3.85, [0, 1, 2, 5]) = [0, 1, 2, 3.85]."""
    from suandian.components.green_power import _derive

    ds = profiled.ds.copy(deep=True)
    ds["p_send_green"][:] = 0.0
    got = _derive(ds)["p_send_green"]
    assert got[0, 0] == pytest.approx([0.0, 1.0, 2.0, LOAD])
