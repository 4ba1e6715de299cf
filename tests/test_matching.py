"""Matching granularity of the green target: horizon (volumetric) vs day / hour (24/7).

Base (test_policies.loaded): one site drawing 3.85 MW in each of 2 hours (7.7 MWh). A free
10 MW PV shines in hour 0 only (no export); a 150 CNY/MWh green contract and the 100 CNY/MWh
grid are available in both hours. Target 50 %. Every expected value is derived by hand below.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import base_config, scenario, solve_ok
from test_policies import contract, loaded

import suandian

PV = pd.DataFrame({"pv": [1.0, 0.0]})


def _case(matching: str, **policy) -> dict:
    cfg = loaded(2)
    cfg["renewables"] = [{"name": "pv", "site": "s1", "capacity": 10.0, "profile": "pv"}]
    cfg["green_contracts"] = [contract()]
    cfg["policies"]["green_share"] = {
        "target": 0.5,
        "scope": "portfolio",
        "matching": matching,
        **policy,
    }
    return cfg


@pytest.mark.parametrize(
    ("matching", "contract_mwh", "cost"),
    [
        # horizon: hour 0's PV (3.85 MWh) alone is 50 % of 7.7 -> hour 1 all grid: 385 CNY
        ("horizon", 0.0, 385.0),
        # day: both hours are one day, same as the horizon
        ("day", 0.0, 385.0),
        # hour: hour 1 needs 0.5 * 3.85 = 1.925 MWh of contract: 1.925 * 150 + 1.925 * 100
        ("hour", 1.925, 481.25),
    ],
)
def test_matching_granularity(matching, contract_mwh, cost):
    r = solve_ok(_case(matching), series=PV)
    assert r.kpis["energy_mwh"]["green_contract"] == pytest.approx(contract_mwh, abs=1e-9)
    assert r.objective == pytest.approx(cost)


def test_hourly_shadow_prices():
    """Hour 0 has surplus PV (dual 0); hour 1's extra green MWh swaps grid for the contract:
    150 - 100 = 50 CNY/MWh."""
    r = solve_ok(_case("hour"), series=PV)
    assert r.ds["shadow_green_match"].sel(scope="portfolio").values == pytest.approx([0.0, 50.0])
    assert list(r.ds["match"].values) == ["2026-07-15T00:00:00", "2026-07-15T01:00:00"]


def test_certificates_do_not_count_hourly():
    """Certificates at 5 CNY/MWh: horizon matching may use them (but PV already covers the
    target, so cost 385 either way); hourly matching cannot: 481.25 as without them."""
    cfg = _case("hour")
    cfg["certificates"] = {"price": 5.0}
    r = solve_ok(cfg, series=PV)
    assert r.objective == pytest.approx(481.25)
    assert r.kpis["energy_mwh"]["certificates"] == pytest.approx(0.0, abs=1e-9)


def test_soft_hourly_target():
    """shortfall_price 30 < premium 50: hour 1's 1.925 MWh are left as a priced gap:
    385 + 30 * 1.925 = 442.75 CNY."""
    r = solve_ok(_case("hour", shortfall_price=30.0), series=PV)
    assert r.objective == pytest.approx(385.0 + 30.0 * 1.925)
    gap = r.ds["e_green_match_gap"].sel(scope="portfolio").values
    assert gap == pytest.approx([0.0, 1.925], abs=1e-9)
    assert r.kpis["cost"]["green_budget_shortfall"] == pytest.approx(30.0 * 1.925)


def test_tampered_hourly_match_is_caught():
    r = solve_ok(_case("hour"), series=PV)
    ds = r.ds.copy()
    ds["p_contract"] = ds["p_contract"] * 0.5  # hour 1 now 0.96 MWh short of its 1.925
    ds["p_grid"] = ds["p_grid"] + r.ds["p_contract"].sum("contract") * 0.5  # balance kept
    checks = {v.check for v in suandian.certify(ds)}
    assert "green_share.share_match" in checks


def test_matching_with_basis_year_is_an_error():
    cfg = base_config()
    cfg["policies"]["green_share"] = {
        "target": 0.8,
        "matching": "hour",
        "basis": "year",
        "year": {"portfolio": {"allowance_mwh": 0.0}},
    }
    with pytest.raises(suandian.ScenarioError, match="cannot be combined with basis 'year'"):
        scenario(cfg)
