"""Hourly CFE score (Google's 24/7 method): time alignment, batteries, the grid's share.

Base site (conftest) with 10 units of interactive demand: one block at full load, IT
1 + 0.1 * 10 = 2 MW, facility 1.1 * 2 = 2.2 MW, so the load is 2.2 MWh in each of the two
hours. Battery: 1 MW, 2 MWh, eta 0.9 / 0.9, empty at the start, free end, no wear cost.

Rule (docs/math/accounting.md, "Hourly carbon-free energy"): in each hour the load is served
first by green intake and the carbon-free part of battery discharge, the excess charges the
battery; the rest of the load (and of the charging) comes from the grid, carbon-free at the
node's ``grid_cfe`` (the non-green part of corridor energy at the SENDING node's). A battery's
discharge is carbon-free in proportion to what charged it.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok

LOAD = 2.2  # MW = MWh per hour


def two_hours(
    prices: list[float], grid_cfe, pv: list[float] | None = None
) -> tuple[dict, pd.DataFrame]:
    """Two 1-h periods, 10 units of demand, one battery, optional free PV of 3.2 MW."""
    cfg = base_config(periods=2)
    cfg["nodes"][0]["tariff"] = "price"
    cfg["nodes"][0]["grid_cfe"] = grid_cfe
    cfg["interactive"] = [{"name": "web", "demand": 10.0, "sites": ["s1"]}]
    cfg["storage"] = [
        {
            "name": "bat",
            "site": "s1",
            "power": 1.0,
            "energy": 2.0,
            "eta_charge": 0.9,
            "eta_discharge": 0.9,
            "soc_initial": 0.0,
            "soc_final": "free",
        }
    ]
    series = {"price": prices, "cfe": [0.8, 0.0] * (len(prices) // 2)}
    if pv is not None:
        cfg["renewables"] = [
            {"name": "pv", "site": "s1", "capacity": 3.2, "profile": "pv", "contract": "owned"}
        ]
        series["pv"] = pv
    return cfg, pd.DataFrame(series)


def test_pv_shifted_by_battery_and_grid_share():
    """PV 3.2 MW in hour 0 only; grid price 100 in both hours; grid_cfe 0.3.

    Plan (unique optimum): hour 0, PV 3.2 = load 2.2 + charge 1.0 (battery power limit;
    storing PV saves grid energy at 100, curtailing it saves nothing); SOC 0.9 MWh. Hour 1:
    discharge all, 0.9 * 0.9 = 0.81 MW; grid 2.2 - 0.81 = 1.39 MW. Cost 139 CNY.

    Volumetric green share (all green MWh over all intake, hour by hour or not):
        green 3.2 / intake (3.2 + 1.39) = 3.2 / 4.59 = 0.697168.
    Hourly CFE:
        hour 0: clean 3.2 >= load 2.2 -> 2.2 carbon-free; the excess 1.0 charges the battery,
                which holds 0.9 MWh, all carbon-free.
        hour 1: discharge 0.81 carbon-free (share 1) -> 0.81; grid 1.39 at 0.3 -> 0.417;
                carbon-free 1.227 of 2.2.
        score (2.2 + 1.227) / 4.4 = 3.427 / 4.4 = 0.778864.
    With grid_cfe 0: (2.2 + 0.81) / 4.4 = 0.684091, below the volumetric share: the share
    counts the 0.19 MWh of PV lost in the battery, the score counts only what served load.
    """
    cfg, series = two_hours([100.0, 100.0], 0.3, pv=[1.0, 0.0])
    r = solve_ok(cfg, series=series)
    assert r.ds["p_charge"].sel(storage="bat").values == pytest.approx([1.0, 0.0], abs=1e-9)
    assert r.ds["p_grid"].sel(site="s1").values == pytest.approx([0.0, 1.39], abs=1e-9)
    assert r.objective == pytest.approx(139.0)
    k = r.kpis
    assert k["green_share"]["s1"] == pytest.approx(3.2 / 4.59)
    assert k["cfe_hourly"]["s1"] == pytest.approx(3.427 / 4.4)
    assert k["cfe_hourly"]["portfolio"] == pytest.approx(3.427 / 4.4)
    assert r.ds["grid_cfe"].sel(node="n1").values == pytest.approx([0.3, 0.3])

    from suandian.results.accounting import cfe

    hourly = cfe(r.ds).sel(site="s1")
    assert hourly["load"].values == pytest.approx([2.2, 2.2])
    assert hourly["cfe"].values == pytest.approx([2.2, 1.227])
    assert hourly["clean"].values == pytest.approx([3.2, 0.81])
    assert hourly["grid_cfe"].values == pytest.approx([0.0, 0.417])

    no_grid = r.ds.assign(grid_cfe=r.ds["grid_cfe"] * 0.0)
    from suandian.results.accounting import books

    assert books(no_grid)["cfe_hourly"]["s1"] == pytest.approx(3.01 / 4.4)
    assert books(no_grid)["green_share"]["s1"] == pytest.approx(3.2 / 4.59)


def test_grid_charged_battery_carries_the_hour_it_charged_in():
    """No PV; price [50, 200]; grid_cfe a series [0.8, 0.0].

    Plan (unique optimum): charge 1 MW at 50 in hour 0 (SOC 0.9), discharge 0.81 MW at 200 in
    hour 1 (profit 0.81 * 200 - 50 = 112 > 0). Grid [2.2 + 1.0, 2.2 - 0.81] = [3.2, 1.39].
    Cost 3.2 * 50 + 1.39 * 200 = 160 + 278 = 438 CNY.

    Volumetric green share 0 (no green energy at all).
    Hourly CFE:
        hour 0: no clean supply; the pool is grid 3.2 MWh, carbon-free 0.8 * 3.2 = 2.56, which
                serves load 2.2 and charging 1.0 pro rata: 0.8 * 2.2 = 1.76 to the load, 0.8 to
                the battery (0.72 of its 0.9 MWh carbon-free: share 0.8).
        hour 1: discharge 0.81 at share 0.8 -> 0.648; grid 1.39 at 0.0 -> 0.
        score (1.76 + 0.648) / 4.4 = 2.408 / 4.4 = 0.547273.
    A score that treated discharge as grid energy of its own hour would give 1.76 / 4.4 = 0.4;
    the battery moved hour 0's carbon-free grid energy into hour 1.
    """
    cfg, series = two_hours([50.0, 200.0], "cfe")
    r = solve_ok(cfg, series=series)
    assert r.ds["p_grid"].sel(site="s1").values == pytest.approx([3.2, 1.39], abs=1e-9)
    assert r.objective == pytest.approx(438.0)
    k = r.kpis
    assert k["green_share"]["s1"] == pytest.approx(0.0, abs=1e-12)
    assert k["cfe_hourly"]["s1"] == pytest.approx(2.408 / 4.4)

    from suandian.results.accounting import cfe

    assert cfe(r.ds)["cfe"].sel(site="s1").values == pytest.approx([1.76, 0.648])


def test_quarter_hours_are_matched_by_clock_hour():
    """Four 15-min periods, PV available only in the first two; no battery use, grid_cfe 0.

    Load 2.2 MW throughout; PV 3.2 MW x [1, 1, 0, 0] but no battery (power 0): PV used 2.2 in
    the first two quarters, curtailed 1.0. Hour 00:00: green 2 * 2.2 * 0.25 = 1.1 MWh,
    load 2.2 * 4 * 0.25 = 2.2 MWh -> score 1.1 / 2.2 = 0.5 = the volumetric share (the
    green energy is consumed as it arrives, so the two agree).
    """
    cfg, series = two_hours([100.0] * 4, 0.0, pv=[1.0, 1.0, 0.0, 0.0])
    cfg["horizon"] = {"start": "2026-07-15 00:00", "periods": 4, "resolution": "15min"}
    cfg["storage"][0]["power"] = 0.0
    r = solve_ok(cfg, series=series)
    k = r.kpis
    assert k["cfe_hourly"]["s1"] == pytest.approx(0.5)
    assert k["green_share"]["s1"] == pytest.approx(0.5)

    from suandian.results.accounting import cfe

    assert cfe(r.ds).sizes["time"] == 1


def test_grid_cfe_above_one_is_refused():
    """grid_cfe is a share: a series value of 1.2 names the field, the value and the bound."""
    cfg, series = two_hours([100.0, 100.0], "bad")
    series["bad"] = [0.5, 1.2]
    with pytest.raises(Exception) as err:
        scenario(cfg, series)
    text = str(err.value)
    assert "nodes[0].grid_cfe" in text and "max 1.2" in text and "<= 1" in text


def test_tampered_cfe_is_caught():
    """A reported score that differs from the Dataset's is named by the certifier."""
    from suandian.results import io
    from suandian.results.certifier import certify_report

    cfg, series = two_hours([100.0, 100.0], 0.3, pv=[1.0, 0.0])
    r = solve_ok(cfg, series=series)
    report = json.loads(json.dumps(io._clean(r.report())))
    assert certify_report(r.ds, report) == []
    report["kpis"]["cfe_hourly"]["s1"] = 3.2 / 4.59  # the volumetric share passed off as CFE
    found = certify_report(r.ds, report)
    assert [(v.check, v.where) for v in found] == [("report.cfe_hourly", "s1")]
    assert found[0].limit == pytest.approx(3.427 / 4.4)
    # the score is recomputed from the stored input: changing grid_cfe in the Dataset moves it
    report["kpis"]["cfe_hourly"]["s1"] = 3.427 / 4.4
    tampered = r.ds.assign(grid_cfe=r.ds["grid_cfe"] * 0.0)
    found = certify_report(tampered, report)
    assert ("report.cfe_hourly", "s1") in [(v.check, v.where) for v in found]


def test_quarter_hour_battery_is_summed_by_clock_hour():
    """The two-hour PV case of the first test at 15-min resolution: the same hourly score.

    Eight quarters, PV 3.2 MW in the first four only, load 2.2 MW, price 100, grid_cfe 0.3.
    Hour 00:00: the battery charges at its 1 MW limit in every quarter (storing PV saves grid
    energy at 100 later; 2 MWh of room, so power binds): 4 * 0.25 * 1.0 = 1.0 MWh, SOC 0.9.
    Hour 01:00: it gives back 0.9 * 0.9 = 0.81 MWh (how it spreads over the quarters does not
    matter to the hour); grid 2.2 - 0.81 = 1.39 MWh, cost 139 CNY.
    Clock hours (MWh): load [2.2, 2.2]; clean [3.2, 0.81] (hour 0's excess 1.0 charges the
    battery carbon-free); cfe [2.2, 0.81 + 0.3 * 1.39 = 1.227]; score 3.427 / 4.4.
    """
    cfg, series = two_hours([100.0] * 8, 0.3, pv=[1.0] * 4 + [0.0] * 4)
    cfg["horizon"] = {"start": "2026-07-15 00:00", "periods": 8, "resolution": "15min"}
    r = solve_ok(cfg, series=series)
    assert r.objective == pytest.approx(139.0)
    assert r.kpis["cfe_hourly"]["s1"] == pytest.approx(3.427 / 4.4)

    from suandian.results.accounting import cfe

    hourly = cfe(r.ds).sel(site="s1")
    assert hourly["time"].values.astype("datetime64[h]").astype(str).tolist() == [
        "2026-07-15T00",
        "2026-07-15T01",
    ]
    assert hourly["load"].values == pytest.approx([2.2, 2.2])
    assert hourly["clean"].values == pytest.approx([3.2, 0.81])
    assert hourly["cfe"].values == pytest.approx([2.2, 1.227])
    assert hourly["grid_cfe"].values == pytest.approx([0.0, 0.417])


def test_clock_hours_bins_like_resample():
    """ClockHours sums periods into clock hours as ``resample(time="1h")`` does.

    Regular 15-min periods 00:00..01:45 with values 1..8: hours [1+2+3+4, 5+6+7+8] = [10, 26]
    (a reshape to (2, 4)). Irregular periods 00:00, 00:30, 03:00, 03:15 with values 1, 2, 3,
    4: four hours 00..03, sums [3, NaN, NaN, 7] (01 and 02 hold no period), means
    [1.5, NaN, NaN, 3.5]. Given out of order (03:15, 00:00, 03:00, 00:30 with 4, 1, 3, 2), the
    same bins. A NaN value is skipped as resample's sum skips it: 00:00 NaN, 00:30 2 -> 2.
    """
    import numpy as np

    from suandian.results.accounting import ClockHours

    quarters = np.arange("2026-07-15T00:00", "2026-07-15T02:00", 15, dtype="datetime64[m]")
    h = ClockHours(quarters)
    assert h.regular == 4
    assert h.sum(np.arange(1.0, 9.0)).tolist() == [10.0, 26.0]
    assert h.sum(np.arange(1.0, 17.0).reshape(2, 8)).tolist() == [[10.0, 26.0], [42.0, 58.0]]

    t = np.array(["2026-07-15T00:00", "2026-07-15T00:30", "2026-07-15T03:00", "2026-07-15T03:15"])
    h = ClockHours(t.astype("datetime64[m]"))
    assert h.regular is None
    assert h.labels.astype("datetime64[h]").astype(str).tolist() == [
        "2026-07-15T00",
        "2026-07-15T01",
        "2026-07-15T02",
        "2026-07-15T03",
    ]
    got = h.sum(np.array([1.0, 2.0, 3.0, 4.0]))
    assert got[[0, 3]].tolist() == [3.0, 7.0] and np.isnan(got[[1, 2]]).all()
    mean = h.mean(np.array([1.0, 2.0, 3.0, 4.0]))
    assert mean[[0, 3]].tolist() == [1.5, 3.5] and np.isnan(mean[[1, 2]]).all()
    assert h.sum(np.array([np.nan, 2.0, 3.0, 4.0]))[0] == 2.0

    shuffled = ClockHours(t[[3, 0, 2, 1]].astype("datetime64[m]"))
    got = shuffled.sum(np.array([4.0, 1.0, 3.0, 2.0]))
    assert got[[0, 3]].tolist() == [3.0, 7.0] and np.isnan(got[[1, 2]]).all()

    import xarray as xr

    da = xr.DataArray(
        [1.0, 2.0, 3.0, 4.0], dims="time", coords={"time": t.astype("datetime64[ns]")}
    )
    expected = da.resample(time="1h").sum()
    assert np.array_equal(expected.values, h.sum(da.values), equal_nan=True)
    assert np.array_equal(expected["time"].values, h.labels)


def three_hours_pv(grid_cfe: list[float]) -> tuple[dict, pd.DataFrame]:
    """Three 1-h periods, load 2.2 MW, owned PV of 2.2 MW at [1, 0.5, 0], no battery."""
    cfg = base_config(periods=3)
    cfg["nodes"][0]["grid_cfe"] = "cfe"
    cfg["interactive"] = [{"name": "web", "demand": 10.0, "sites": ["s1"]}]
    cfg["renewables"] = [
        {"name": "pv", "site": "s1", "capacity": 2.2, "profile": "pv", "contract": "owned"}
    ]
    return cfg, pd.DataFrame({"pv": [1.0, 0.5, 0.0], "cfe": grid_cfe})


def test_hourly_grid_share_is_not_the_physical_share_plus_a_constant():
    """The grid's carbon-free share per hour: the score depends on WHEN the grid is drawn.

    Plan (unique; PV is free, the grid costs 100): PV used [2.2, 1.1, 0], grid
    [0, 1.1, 2.2] MW; cost 3.3 * 100 = 330 CNY, whatever grid_cfe is (it enters no row).
    Physical green share 3.3 / 6.6 = 0.5.

    grid_cfe [0.1, 0.3, 0.8] (the grid cleaner when it is drawn most):
        cfe [2.2, 1.1 + 0.3 * 1.1, 0.8 * 2.2] = [2.2, 1.43, 1.76]; score 5.39 / 6.6 = 0.816667.
    grid_cfe [0.8, 0.3, 0.1] (the same mean 0.4, reversed):
        cfe [2.2, 1.43, 0.1 * 2.2 = 0.22]; score 3.85 / 6.6 = 0.583333.
    A constant 0.4 (the mean) credits the share plus a constant in both cases:
        0.5 + 0.4 * (1 - 0.5) = 0.7.
    """
    scores = {}
    for name, series in (("clean_late", [0.1, 0.3, 0.8]), ("clean_early", [0.8, 0.3, 0.1])):
        cfg, data = three_hours_pv(series)
        r = solve_ok(cfg, series=data)
        assert r.ds["p_grid"].sel(site="s1").values == pytest.approx([0.0, 1.1, 2.2], abs=1e-9)
        assert r.objective == pytest.approx(330.0)
        assert r.kpis["green_share"]["s1"] == pytest.approx(0.5)
        scores[name] = r.kpis["cfe_hourly"]["s1"]
        if name == "clean_late":
            from suandian.results.accounting import books, cfe

            assert cfe(r.ds)["cfe"].sel(site="s1").values == pytest.approx([2.2, 1.43, 1.76])
            flat = r.ds.assign(grid_cfe=r.ds["grid_cfe"] * 0.0 + 0.4)
            assert books(flat)["cfe_hourly"]["s1"] == pytest.approx(0.7)
    assert scores["clean_late"] == pytest.approx(5.39 / 6.6)
    assert scores["clean_early"] == pytest.approx(3.85 / 6.6)


def corridor_from_a_cleaner_grid() -> tuple[dict, pd.DataFrame]:
    """Two 1-h periods, load 2.2 MW at s1 (node n1: grid 100 CNY/MWh, grid_cfe 0.3, factor
    0.5); a corridor from n2 (no site; grid_cfe [0.8, 0.1], factor 0.9) of 1.2 MW at 50,
    half of it green (green_fraction 0.5, no profile, no loss)."""
    cfg = base_config(periods=2)
    cfg["nodes"][0]["grid_cfe"] = 0.3
    cfg["nodes"].append({"name": "n2", "tariff": 0.0, "emission_factor": 0.9, "grid_cfe": "cfe_n2"})
    cfg["interactive"] = [{"name": "web", "demand": 10.0, "sites": ["s1"]}]
    cfg["corridors"] = [
        {
            "name": "line",
            "from_node": "n2",
            "to_node": "n1",
            "capacity": 1.2,
            "source_price": 50.0,
            "green_fraction": 0.5,
        }
    ]
    return cfg, pd.DataFrame({"cfe_n2": [0.8, 0.1]})


def test_corridor_non_green_part_is_credited_at_the_sending_grid_share():
    """The non-green part of corridor energy is the sending grid's energy (docs/math/
    accounting.md, "Hourly carbon-free energy"): carbon-free at n2's grid_cfe, not n1's.

    Plan (unique): the corridor (50) is cheaper than the grid (100): send 1.2 MW in each
    hour, grid 2.2 - 1.2 = 1.0 MW; cost 2 * (1.2 * 50 + 1.0 * 100) = 320 CNY.
    Per hour: green 0.6 (served first), corridor non-green 0.6, grid 1.0; the pool (1.6)
    serves the rest of the load.
        hour 0: carbon-free pool 0.3 * 1.0 + 0.8 * 0.6 = 0.78 -> cfe 0.6 + 0.78 = 1.38;
        hour 1: 0.3 * 1.0 + 0.1 * 0.6 = 0.36 -> cfe 0.6 + 0.36 = 0.96;
        score 2.34 / 4.4 = 0.531818.
    At the receiving grid's 0.3 (the former rule): 0.6 + 0.3 * 1.6 = 1.08 per hour,
    2.16 / 4.4 = 0.490909. Physical green share 1.2 / 4.4 = 0.272727.
    Emissions stay at the receiving node (the grid where the energy is consumed):
    location-based 0.5 * (1.2 + 1.0) * 2 = 2.2 t (not 0.9 on the corridor's 2.4 MWh);
    market-based, the non-green energy at n1's residual (default its factor 0.5):
    0.5 * (0.6 + 1.0) * 2 = 1.6 t.
    """
    from suandian.results.accounting import cfe, flows

    cfg, data = corridor_from_a_cleaner_grid()
    r = solve_ok(cfg, series=data)
    assert r.ds["p_send"].sel(corridor="line", site="s1").values == pytest.approx([1.2, 1.2])
    assert r.ds["p_grid"].sel(site="s1").values == pytest.approx([1.0, 1.0], abs=1e-9)
    assert r.objective == pytest.approx(320.0)
    k = r.kpis
    assert k["green_share"]["s1"] == pytest.approx(1.2 / 4.4)
    assert k["cfe_hourly"]["s1"] == pytest.approx(2.34 / 4.4)
    f = flows(r.ds).sel(site="s1")
    assert f["grid_mix"].values == pytest.approx([1.0, 1.0])  # the receiving grid's energy
    assert f["remote_cfe"].values == pytest.approx([0.8 * 0.6, 0.1 * 0.6])
    assert cfe(r.ds)["cfe"].sel(site="s1").values == pytest.approx([1.38, 0.96])
    assert k["emissions_tco2"]["location_based"] == pytest.approx(2.2)
    assert k["emissions_tco2"]["market_based"] == pytest.approx(1.6)


def test_certifier_recomputes_the_corridor_credit_at_the_sending_node():
    """A report giving the corridor's non-green part the receiving grid's share (2.16 / 4.4,
    the former rule) is named; the score follows the sending node's grid_cfe in the Dataset:
    n2 at 0 leaves green 0.6 + grid 0.3 per hour, (0.9 * 2) / 4.4 = 0.409091."""
    from suandian.results import io
    from suandian.results.accounting import books
    from suandian.results.certifier import certify_report

    cfg, data = corridor_from_a_cleaner_grid()
    r = solve_ok(cfg, series=data)
    report = json.loads(json.dumps(io._clean(r.report())))
    assert certify_report(r.ds, report) == []
    report["kpis"]["cfe_hourly"]["s1"] = 2.16 / 4.4
    found = certify_report(r.ds, report)
    assert ("report.cfe_hourly", "s1") in [(v.check, v.where) for v in found]
    assert next(v for v in found if v.where == "s1").limit == pytest.approx(2.34 / 4.4)
    sending_dirty = r.ds.assign(grid_cfe=r.ds["grid_cfe"].where(r.ds["node"] != "n2", 0.0))
    assert books(sending_dirty)["cfe_hourly"]["s1"] == pytest.approx(1.8 / 4.4)
