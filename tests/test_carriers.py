"""The books read carriers, not families: a generator's energy is not grid mix.

A toy diesel family, defined here and registered (as ``tests/test_registry.py`` does), writes
``power``, ``intake``, ``co2`` and ``co2_market`` but neither ``green`` nor ``grid_mix``: its
energy has no carbon-free share. Base site (conftest) with 15 units of interactive demand:
2 blocks on, IT = 2 x 1 + 0.1 x 15 = 3.5 MW, facility 1.1 x 3.5 = 3.85 MW in each of 4 h.
Grid price [100, 400, 100, 200] CNY/MWh, grid_cfe 0.5, factor 0.5 t/MWh; the diesel has
1 MW at 250 CNY/MWh and 0.8 t/MWh, so it runs only where the grid is dearer: 1 MW in t1.

    cost   = 3.85 x 100 + (2.85 x 400 + 1 x 250) + 3.85 x 100 + 3.85 x 200
           = 385 + 1,390 + 385 + 770 = 2,930 CNY
    CO2    = 1 x 0.8 + 14.4 x 0.5 = 8.0 t (location-based)
    CFE    = the grid's share of the grid energy only: hour by hour
             [0.5 x 3.85, 0.5 x 2.85, 0.5 x 3.85, 0.5 x 3.85] = [1.925, 1.425, 1.925, 1.925]
             score 7.2 / 15.4 = 0.467532...
    The old rule (every non-green MWh is grid mix) credited the diesel MWh at 0.5 too:
    0.5 x 15.4 / 15.4 = 0.500.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import base_config, scenario

import suandian
from suandian.component import CARRIERS, Account, Component, Context, FamilyBuilder, Output
from suandian.components import REGISTRY, register

CAPACITY, FUEL, FACTOR = 1.0, 250.0, 0.8


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    p = fb.var("p_diesel", ub=np.full((ctx.S, ctx.T), CAPACITY))
    fb.port("power", p.expr())
    fb.port("intake", p.expr())
    fb.port("co2", p * FACTOR)
    fb.port("co2_market", p * FACTOR)
    fb.cost("diesel_fuel", p * (FUEL * ctx.dt))


def _account(ds: xr.Dataset) -> Account:
    dt = float(ds.attrs["dt_hours"])
    p = ds["p_diesel"]
    return Account(
        flows={"power": p, "intake": p, "co2": p * FACTOR, "co2_market": p * FACTOR},
        cost={"diesel_fuel": float(p.sum()) * FUEL * dt},
        energy={"diesel": float(p.sum()) * dt},
    )


DIESEL = register(
    Component(
        name="diesel",
        sections=(),
        outputs=(Output("p_diesel", ("site", "time"), "MW", "diesel output", upper=CAPACITY),),
        build=_build,
        account=_account,
    )
)


@pytest.fixture(scope="module")
def result() -> suandian.Result:
    c = base_config()
    c["interactive"] = [{"name": "w", "demand": 15.0, "sites": ["s1"]}]
    c["nodes"][0]["tariff"] = "price"
    c["nodes"][0]["grid_cfe"] = 0.5
    series = pd.DataFrame({"price": [100.0, 400.0, 100.0, 200.0]})
    model = suandian.build_model(scenario(c, series), components=(*REGISTRY, DIESEL))
    return suandian.solve(model, mip_rel_gap=0.0)


def test_generator_energy_is_not_credited_with_the_grid_share(result):
    assert result.status == "optimal"
    assert result.objective == pytest.approx(2930.0)
    assert result.ds["p_diesel"].sel(site="s1").values == pytest.approx([0, 1, 0, 0], abs=1e-9)
    assert result.certify() == []
    k = result.kpis
    assert k["emissions_tco2"]["location_based"] == pytest.approx(8.0)
    assert k["cfe_hourly"]["s1"] == pytest.approx(7.2 / 15.4)
    assert round(k["cfe_hourly"]["portfolio"], 3) == 0.468

    from suandian.results.accounting import cfe

    hourly = cfe(result.ds).sel(site="s1")
    assert hourly["load"].values == pytest.approx([3.85] * 4)
    assert hourly["cfe"].values == pytest.approx([1.925, 1.425, 1.925, 1.925])
    assert hourly["clean"].values == pytest.approx([0.0] * 4)


def test_the_grid_writes_its_energy_as_grid_mix(result):
    """grid_mix is the grid import [3.85, 2.85, 3.85, 3.85]; intake adds the diesel's 1 MW."""
    from suandian.results.accounting import flows

    f = flows(result.ds).sel(site="s1")
    assert f["grid_mix"].values == pytest.approx([3.85, 2.85, 3.85, 3.85])
    assert f["intake"].values == pytest.approx([3.85] * 4)


def test_carriers_state_what_the_books_need():
    """The CFE's supply semantics sit on the carriers (no carrier is reserved and unused)."""
    assert CARRIERS["green"].carbon_free == 1.0 and CARRIERS["green"].certificate
    assert CARRIERS["grid_mix"].carbon_free == "grid_cfe"
    assert CARRIERS["grid_mix"].emission_factor == "node"
    assert CARRIERS["intake"].carbon_free == 0.0
    assert CARRIERS["certificates"].horizon and not CARRIERS["green"].horizon
    assert "heat" not in CARRIERS and "compute" not in CARRIERS
