"""Emissions cap (``policies.carbon_cap``, row ``carbon.co2_cap``): answers derived by hand.

Every case: one site, one hour, load 3.85 MW (15 units on 2 blocks: IT 3.5 MW x 1.1 for a
COP of 10), so 3.85 MWh; grid 100 CNY/MWh at grid factor 1.0 and residual factor 0.8 tCO2/MWh.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok

import suandian
from suandian.errors import ScenarioError

LOAD = 3.85  # MWh in the hour


def config(**cap) -> dict:
    """1 h, 3.85 MWh; grid 100 CNY/MWh, factor 1.0 (location) and 0.8 (market, residual)."""
    c = base_config(periods=1)
    c["nodes"][0].update(emission_factor=1.0, residual_emission_factor=0.8)
    c["interactive"] = [{"name": "w", "demand": 15.0, "sites": ["s1"]}]
    c["policies"]["carbon_cap"] = cap
    return c


def with_contract(**cap) -> dict:
    """:func:`config` with a green contract at 130 CNY/MWh (market factor 0), 5 MW."""
    c = config(**cap)
    c["green_contracts"] = [{"name": "k", "node": "n1", "capacity": 5.0, "price": 130.0}]
    return c


def test_binding_market_cap_buys_the_dearer_clean_source():
    """Cap 1.54 tCO2 on market emissions; grid 100 CNY/MWh at 0.8 t, contract 130 at 0 t.

    Grid energy g, contract 3.85 - g: 0.8 g <= 1.54 so g <= 1.925 MWh. The grid is cheaper,
    so g = 1.925 and the contract 1.925: cost 1.925 x 100 + 1.925 x 130 = 192.5 + 250.25
    = 442.75 CNY. One more tCO2 of cap lets 1 / 0.8 = 1.25 MWh move from the contract to the
    grid, saving 1.25 x 30 = 37.5 CNY: shadow 37.5 CNY/tCO2 (30 CNY/MWh over 0.8 t/MWh).
    """
    r = solve_ok(with_contract(tco2=1.54, emissions="market"))
    assert float(r.ds["p_grid"].sum()) == pytest.approx(1.925)
    assert float(r.ds["p_contract"].sum()) == pytest.approx(1.925)
    assert r.objective == pytest.approx(442.75)
    assert float(r.ds["shadow_co2_cap"]) == pytest.approx(37.5)
    assert r.kpis["shadow_prices"]["shadow_co2_cap_cny_per_tco2"] == pytest.approx(37.5)
    assert "emissions cap, one tCO2 lower" in r.summary()
    assert r.kpis["co2_capped_tco2"] == pytest.approx(1.54)


def test_year_basis_gives_the_horizon_what_the_year_leaves():
    """Cap 11.54 t on the year; 6 t to date and 4 t forecast: the horizon may emit
    11.54 - 6 - 4 = 1.54 t, the binding case above: 442.75 CNY, shadow 37.5 CNY/tCO2, and
    the year's emissions 6 + 1.54 + 4 = 11.54 t."""
    cap = {"tco2": 11.54, "basis": "year", "year": {"to_date_tco2": 6.0, "forecast_tco2": 4.0}}
    r = solve_ok(with_contract(**cap))
    assert r.objective == pytest.approx(442.75)
    assert float(r.ds["shadow_co2_cap"]) == pytest.approx(37.5)
    assert r.kpis["co2_year_tco2"] == pytest.approx(11.54)


def test_cap_that_does_not_bind_has_no_price():
    """Location cap 10 t; the grid alone emits 3.85 x 1.0 = 3.85 t < 10: all from the grid,
    cost 3.85 x 100 = 385 CNY, shadow 0. (On the location ledger the contract's energy
    carries the grid factor too, so it could not help anyway.)"""
    r = solve_ok(with_contract(tco2=10.0, emissions="location"))
    assert r.objective == pytest.approx(385.0)
    assert float(r.ds["shadow_co2_cap"]) == pytest.approx(0.0, abs=1e-9)
    assert r.kpis["co2_capped_tco2"] == pytest.approx(3.85)


def test_market_cap_met_with_certificates():
    """Market cap 1.0 t, certificates at 5 CNY each (1 MWh at the residual factor 0.8 t).

    Without certificates 3.85 x 0.8 = 3.08 t; each removes 0.8 t, so (3.08 - 1.0) / 0.8
    = 2.6 certificates: cost 385 + 2.6 x 5 = 398 CNY. Shadow: a tonne of abatement costs
    5 / 0.8 = 6.25 CNY/tCO2.
    """
    c = config(tco2=1.0, emissions="market")
    c["certificates"] = {"price": 5.0}
    r = solve_ok(c)
    assert float(r.ds["e_certificate"].sum()) == pytest.approx(2.6)
    assert r.objective == pytest.approx(398.0)
    assert float(r.ds["shadow_co2_cap"]) == pytest.approx(6.25)
    assert r.kpis["emissions_tco2"]["market_based"] == pytest.approx(1.0)


def test_tampered_cap_is_caught():
    """The binding case emits 1.54 t: a cap lowered to 1.0 t in the Dataset is 0.54 t over."""
    r = solve_ok(with_contract(tco2=1.54, emissions="market"))
    ds = r.ds.copy()
    ds["co2_cap"] = ds["co2_cap"] * 0 + 1.0
    found = [v for v in suandian.certify(ds) if v.check == "carbon.co2_cap"]
    assert found and found[0].value == pytest.approx(1.54) and found[0].limit == 1.0


def test_infeasible_cap_is_diagnosed_by_how_far():
    """Location cap 1 t with the grid the only supply: 3.85 t must be emitted, 2.85 t over."""
    sc = scenario(config(tco2=1.0, emissions="location"))
    r = suandian.solve(sc)
    assert r.status == "infeasible"
    d = r.diagnosis
    assert d.shortfalls["co2_cap"] == pytest.approx(2.85)
    assert any("emissions cap" in f for f in d.findings)


@pytest.mark.parametrize(
    ("cap", "field", "words"),
    [
        ({"tco2": 1.0, "sites": ["nowhere"]}, "policies.carbon_cap.sites", "unknown site"),
        ({"tco2": -1.0}, "policies.carbon_cap.tco2", "greater than or equal to 0"),
        ({"tco2": 1.0, "basis": "year"}, "policies.carbon_cap", "needs 'year'"),
        ({"tco2": 1.0, "emissions": "scope3"}, "policies.carbon_cap.emissions", "location"),
    ],
)
def test_bad_cap_is_named(cap, field, words):
    """Each bad field is named with its value and the fix."""
    with pytest.raises(ScenarioError) as err:
        scenario(config(**cap))
    text = str(err.value)
    assert field in text and words in text


def _two_hours() -> tuple[dict, pd.DataFrame]:
    """Two hours at 3.85 MWh each; grid 120 then 100 CNY/MWh; contract 130; year cap 3.08 t
    on the market ledger (nothing to date or after the horizon)."""
    c = with_contract(tco2=3.08, basis="year", year={"to_date_tco2": 0.0, "forecast_tco2": 0.0})
    c["horizon"]["periods"] = 2
    c["nodes"][0]["tariff"] = "price"
    return c, pd.DataFrame({"price": [120.0, 100.0]})


def test_rolling_year_cap_is_re_targeted_from_the_forecast():
    """The whole horizon (one MILP): 3.08 t lets 3.08 / 0.8 = 3.85 MWh come from the grid
    over the two hours; the grid is 30 below the contract at t1 and 10 below at t0, so the
    grid at t1 and the contract at t0: 130 x 3.85 + 100 x 3.85 = 500.5 + 385 = 885.5 CNY.

    Rolling one hour at a time with the foresight forecast: the forecast is the plan of the
    horizon's LP (integers relaxed: 1.5 blocks carry the 15 units, IT 1.5 + 1.5 = 3 MW,
    facility 3.3 MW), grid at t1: 3.3 x 0.8 = 2.64 t after t0. Window 1 (t0, its own
    3.85 MWh) may emit 3.08 - 2.64 = 0.44 t: 0.55 MWh of grid, 3.3 MWh of contract,
    0.55 x 120 + 3.3 x 130 = 66 + 429 = 495 CNY. It hands over 0.44 t; window 2 (t1) may
    emit 3.08 - 0.44 = 2.64 t: 3.3 MWh of grid, 0.55 of contract, 330 + 71.5 = 401.5 CNY.
    Year 896.5 = 885.5 + 11 (the forecast's relaxed load misjudged t1). With the neutral
    forecast (the rest assumed to emit nothing) window 1 spends the whole cap at t0 (grid,
    3.85 x 120 = 462) and window 2 must buy the contract (500.5): 962.5 CNY, the myopic plan.
    """
    c, series = _two_hours()
    sc = scenario(c, series)
    kw = {"mip_rel_gap": 0.0, "progress": False}
    whole = solve_ok(c, series)
    assert whole.objective == pytest.approx(885.5)
    y = suandian.solve_rolling(sc, 1, 0, forecast="foresight", **kw)
    assert [p.cost["total"] for p in y.parts] == pytest.approx([495.0, 401.5])
    assert y.certify() == []
    y = suandian.solve_rolling(sc, 1, 0, forecast="neutral", **kw)
    assert [p.cost["total"] for p in y.parts] == pytest.approx([462.0, 500.5])
