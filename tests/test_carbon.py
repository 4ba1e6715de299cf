"""Carbon price on market- vs location-based emissions (answers derived by hand)."""

from __future__ import annotations

import pytest
from conftest import base_config, solve_ok

LOAD = 3.85  # MW: 15 units -> 2 blocks, IT 3.5 MW, x 1.1 for COP 10


def config(basis: str) -> dict:
    """1 h, load 3.85 MW; grid 100 CNY/MWh with grid factor 1.0 and residual factor 0.8;
    carbon price 50 CNY/t on the chosen basis."""
    c = base_config(periods=1)
    c["nodes"][0].update(emission_factor=1.0, residual_emission_factor=0.8)
    c["interactive"] = [{"name": "w", "demand": 15.0, "sites": ["s1"]}]
    c["policies"].update(carbon_price=50.0, carbon_basis=basis)
    return c


def test_market_basis_makes_green_contract_worth_buying():
    # grid costs 100 + 0.8 * 50 = 140 CNY/MWh, the contract 130 and carries no market-based
    # emissions: all 3.85 MWh from the contract, cost 3.85 * 130 = 500.5, carbon 0
    c = config("market")
    c["green_contracts"] = [{"name": "k", "node": "n1", "capacity": 5.0, "price": 130.0}]
    r = solve_ok(c)
    assert float(r.ds["p_contract"].sum()) == pytest.approx(LOAD)
    assert r.objective == pytest.approx(500.5)
    assert r.costs.get("carbon", 0.0) == pytest.approx(0.0)
    assert r.kpis["emissions_tco2"]["market_based"] == pytest.approx(0.0)


def test_location_basis_prices_contract_energy_too():
    # every grid-delivered MWh carries 1.0 t: grid 100 + 50 = 150 < contract 130 + 50 = 180;
    # cost 3.85 * 150 = 577.5 of which carbon 3.85 * 50 = 192.5
    c = config("location")
    c["green_contracts"] = [{"name": "k", "node": "n1", "capacity": 5.0, "price": 130.0}]
    r = solve_ok(c)
    assert float(r.ds["p_grid"].sum()) == pytest.approx(LOAD)
    assert r.objective == pytest.approx(577.5)
    assert r.costs["carbon"] == pytest.approx(192.5)


def test_certificates_cancel_market_emissions_until_their_cap():
    # a certificate costs 5 and removes 0.8 t (mean residual factor) = 40 CNY of carbon:
    # buy up to the cap 0.5 * 3.85 = 1.925; market CO2 = 0.8 * (3.85 - 1.925) = 1.54 t;
    # cost = 385 + 1.925 * 5 + 1.54 * 50 = 385 + 9.625 + 77 = 471.625
    c = config("market")
    c["certificates"] = {"price": 5.0, "max_share": 0.5}
    r = solve_ok(c)
    assert float(r.ds["e_certificate"].sum()) == pytest.approx(1.925)
    assert r.kpis["emissions_tco2"]["market_based"] == pytest.approx(1.54)
    assert r.objective == pytest.approx(471.625)


def test_market_emissions_never_negative():
    # uncapped certificates: buying more than the brown energy would make emissions negative;
    # the floor keeps them at 0, so exactly 3.85 certificates: cost 385 + 19.25 = 404.25
    c = config("market")
    c["certificates"] = {"price": 5.0}
    r = solve_ok(c)
    assert float(r.ds["e_certificate"].sum()) == pytest.approx(LOAD)
    assert r.objective == pytest.approx(404.25)
