"""Annual budgets: PUE and green share judged over the year (year to date + horizon + forecast),
as an allowance, or as a priced (soft) budget. Every expected value is derived by hand below.
"""

from __future__ import annotations

import pytest
from conftest import base_config, scenario, solve_ok
from test_policies import _pue_case, contract, loaded

import suandian


# --------------------------------------------------------------------------- PUE
def _linear_pue_case(**pue) -> tuple[dict, object]:
    """The split case of test_policies: idle power 0, so IT = 0.1 x and a split is possible.

    Job 10 units*h: IT0 + IT1 = 1 MWh. t0: COP 2 at 50 CNY/MWh -> facility 1.5 IT0 and
    75 CNY per MWh of IT; t1: COP 20 at 100 CNY/MWh -> 1.05 IT1 and 105 CNY per MWh of IT.
    With cap 1.25: F - 1.25 IT = 0.25 IT0 - 0.2 IT1 = 0.45 IT0 - 0.2 (MWh), cost 105 - 30 IT0.
    """
    cfg, series = _pue_case(1.25)
    cfg["sites"][0]["idle_power"] = 0.0
    cfg["policies"]["pue"].update(pue)
    return cfg, series


def test_pue_year_budget_from_year_to_date_and_forecast():
    """Year: IT 60 + 40 = 100 MWh and facility 74.93 + 50 = 124.93 MWh outside the horizon.

    Allowance A = 1.25 * 100 - 124.93 = 0.07 MWh, so 0.45 IT0 - 0.2 <= 0.07 -> IT0 <= 0.6:
    x = [6, 4], cost 105 - 30 * 0.6 = 87 CNY (the horizon alone would allow IT0 = 4/9).
    Horizon PUE (1.5 * 0.6 + 1.05 * 0.4) / 1 = 1.32 > 1.25 is fine: the year's is
    (1.32 + 124.93) / 101 = 1.25. Shadow price: 30 / 0.45 = 66.67 CNY per MWh of allowance;
    a cap 0.01 higher adds 0.01 * (1 + 100) = 1.01 MWh -> 67.33 CNY per 0.01.
    """
    year = {
        "facility_to_date_mwh": 74.93,
        "it_to_date_mwh": 60.0,
        "facility_forecast_mwh": 50.0,
        "it_forecast_mwh": 40.0,
    }
    cfg, series = _linear_pue_case(basis="year", year={"s1": year})
    r = solve_ok(cfg, series=series)
    assert r.batch_schedule().sel(job="job", site="s1").values == pytest.approx([6.0, 4.0])
    assert r.objective == pytest.approx(87.0)
    assert r.kpis["pue"]["s1"] == pytest.approx(1.32)
    assert r.kpis["pue_year"]["s1"] == pytest.approx(1.25)
    assert r.kpis["pue_grade"]["s1"] == 3.0  # GB 40879: 1.30 < 1.32 <= 1.50
    assert float(r.ds["pue_allowance"].sel(site="s1")) == pytest.approx(0.07)
    assert r.ds["shadow_pue"].sel(site="s1") == pytest.approx(30 / 0.45 * 0.01 * 101)


@pytest.mark.parametrize(
    ("allowance", "it0", "cost"),
    [
        # 0.45 IT0 - 0.2 <= 0.07 -> IT0 = 0.6, cost 105 - 18 = 87
        (0.07, 0.6, 87.0),
        # a summer day owing 0.1 MWh to the year: IT0 <= 0.1 / 0.45 = 2/9, cost 105 - 20/3
        (-0.1, 2.0 / 9.0, 105.0 - 20.0 / 3.0),
    ],
)
def test_pue_allowance(allowance, it0, cost):
    """The allowance given directly (from a seasonal plan); shadow price per 0.01 of cap uses
    the horizon's IT energy only (1 MWh): 66.67 * 0.01 = 0.6667 CNY."""
    cfg, series = _linear_pue_case(basis="year", year={"s1": {"allowance_mwh": allowance}})
    r = solve_ok(cfg, series=series)
    assert r.batch_schedule().sel(job="job", site="s1").values == pytest.approx(
        [10 * it0, 10 * (1 - it0)]
    )
    assert r.objective == pytest.approx(cost)
    assert r.ds["shadow_pue"].sel(site="s1") == pytest.approx(2.0 / 3.0)


@pytest.mark.parametrize(
    ("price", "it0", "over", "cost"),
    [
        # moving 1 MWh of IT to t0 saves 30 CNY and adds 0.45 MWh above the cap:
        # at 50 CNY/MWh that costs 22.5 < 30 -> all in t0, over = 0.25 MWh, 75 + 12.5 = 87.5
        (50.0, 1.0, 0.25, 87.5),
        # at 100 CNY/MWh it costs 45 > 30 -> the hard-cap split IT0 = 4/9, nothing over
        (100.0, 4.0 / 9.0, 0.0, 105.0 - 40.0 / 3.0),
    ],
)
def test_pue_soft_budget(price, it0, over, cost):
    cfg, series = _linear_pue_case(excess_price=price)
    r = solve_ok(cfg, series=series)
    assert r.batch_schedule().sel(job="job", site="s1").values == pytest.approx(
        [10 * it0, 10 * (1 - it0)]
    )
    assert float(r.ds["e_pue_over_budget"].sel(site="s1")) == pytest.approx(over, abs=1e-9)
    assert r.objective == pytest.approx(cost)
    assert r.kpis["cost"]["pue_budget_excess"] == pytest.approx(price * over, abs=1e-9)


def test_tampered_pue_allowance_is_caught():
    year = {"s1": {"allowance_mwh": 0.07}}
    cfg, series = _linear_pue_case(basis="year", year=year)
    r = solve_ok(cfg, series=series)
    ds = r.ds.copy()
    ds["pue_allowance"] = ds["pue_allowance"] - 0.05  # the plan used 0.07: now 0.02 over
    checks = {v.check for v in suandian.certify(ds)}
    assert "pue_cap.pue_max" in checks


# --------------------------------------------------------------------------- green share
def _green_case(**policy) -> dict:
    """Target 0.6 over 7.7 MWh consumed; green only from a 150 CNY/MWh contract vs grid 100."""
    cfg = loaded()
    cfg["policies"]["green_share"] = {"target": 0.6, "scope": "portfolio", **policy}
    cfg["green_contracts"] = [contract()]
    return cfg


def test_green_year_budget_from_year_to_date_and_forecast():
    """Outside the horizon: green 500 + 101.54, consumption 800 + 200 MWh.

    Allowance = 601.54 - 0.6 * 1000 = 1.54 MWh: the horizon needs 0.6 * 7.7 - 1.54 = 3.08 MWh
    green: cost 770 + 3.08 * 50 = 924 CNY. Year share (3.08 + 601.54) / 1007.7 = 0.6.
    Per percentage point: 50 CNY/MWh * (7.7 + 1000) / 100 = 503.85 CNY.
    """
    year = {
        "green_to_date_mwh": 500.0,
        "consumption_to_date_mwh": 800.0,
        "green_forecast_mwh": 101.54,
        "consumption_forecast_mwh": 200.0,
    }
    r = solve_ok(_green_case(basis="year", year={"portfolio": year}))
    assert r.kpis["energy_mwh"]["green_contract"] == pytest.approx(3.08)
    assert r.objective == pytest.approx(924.0)
    assert r.kpis["green_share"]["portfolio"] == pytest.approx(0.4)
    assert r.kpis["green_share_year"]["portfolio"] == pytest.approx(0.6)
    assert r.ds["shadow_green_share"].sel(scope="portfolio") == pytest.approx(50.0)
    assert r.ds["shadow_green_share_point"].sel(scope="portfolio") == pytest.approx(503.85)


def test_green_allowance_negative_asks_for_more():
    """allowance -1 MWh: the horizon needs 4.62 + 1 = 5.62 MWh green: 770 + 281 = 1051 CNY."""
    r = solve_ok(_green_case(basis="year", year={"portfolio": {"allowance_mwh": -1.0}}))
    assert r.kpis["energy_mwh"]["green_contract"] == pytest.approx(5.62)
    assert r.objective == pytest.approx(1051.0)


@pytest.mark.parametrize(
    ("price", "gap", "cost"),
    [
        (40.0, 4.62, 770.0 + 40.0 * 4.62),  # the gap at 40 is cheaper than the premium 50
        (60.0, 0.0, 1001.0),  # the premium is cheaper: buy 4.62 MWh of the contract
    ],
)
def test_green_soft_budget(price, gap, cost):
    r = solve_ok(_green_case(shortfall_price=price))
    assert float(r.ds["e_green_budget_gap"].sel(scope="portfolio")) == pytest.approx(gap, abs=1e-9)
    assert r.objective == pytest.approx(cost)
    assert r.kpis["cost"]["green_budget_shortfall"] == pytest.approx(price * gap, abs=1e-9)


def test_tampered_green_allowance_is_caught():
    r = solve_ok(_green_case(basis="year", year={"portfolio": {"allowance_mwh": 1.54}}))
    ds = r.ds.copy()
    ds["green_allowance"] = ds["green_allowance"] - 1.0
    checks = {v.check for v in suandian.certify(ds)}
    assert "green_share.share_min" in checks


# --------------------------------------------------------------------------- bad input
def test_year_budget_input_errors_are_collected():
    cfg = base_config()
    cfg["policies"]["pue"] = {
        "cap": 1.25,
        "basis": "year",
        "year": {"s9": {"allowance_mwh": 1.0}},
    }
    cfg["policies"]["green_share"] = {
        "target": 0.8,
        "basis": "year",
        "year": {"portfolio": {"allowance_mwh": 1.0, "green_to_date_mwh": 3.0}},
    }
    with pytest.raises(suandian.ScenarioError) as err:
        scenario(cfg)
    text = str(err.value)
    assert "policies.pue.year.s9" in text and "unknown site" in text
    assert "add s1" in text
    assert "not both" in text


def test_year_data_with_basis_horizon_is_an_error():
    cfg = base_config()
    cfg["policies"]["pue"] = {"cap": 1.25, "year": {"s1": {"allowance_mwh": 1.0}}}
    with pytest.raises(suandian.ScenarioError, match="basis is 'horizon'"):
        scenario(cfg)


def test_grade_limits():
    """GB 40879-2021 grades 1/2/3 at 1.20/1.30/1.50; none above 1.50."""
    from suandian.policies.pue_cap import grade

    assert [grade(x) for x in (1.1, 1.2, 1.25, 1.3, 1.5)] == [1.0, 1.0, 2.0, 2.0, 3.0]
    assert grade(1.51) != grade(1.51)  # NaN
