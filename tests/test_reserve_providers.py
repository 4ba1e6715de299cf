"""Any family can offer reserves: a toy provider defined here writes the headroom carriers.

The toy is a standby generator per site: 2 MW, never worth running (fuel 500 CNY/MWh against
the grid's 100), with 1.5 MWh of fuel on site. It offers, through
``FamilyBuilder.headroom``, ``reserve_up`` = 2 - p (MW it could still start) and
``reserve_energy_up`` = (1.5, 1.5) MWh at the start and the end of each period; no down
headroom (``reserve_down`` left out: 0).

Base site (tests/conftest.py): 3.85 MW facility draw at 100 CNY/MWh for 4 h = 1,540 CNY.
Products, 10 CNY/MW/h each, duration 1 h:

* ``up``: r <= 2 - p = 2 (power), 1 h x r <= 1.5 (energy), r <= 3.85 (metered draw):
  r = 1.5 MW every period, revenue 4 x 1.5 x 10 = 60 CNY.
* ``dn``: r <= 0 (no down headroom): 0 MW.

Running the generator would cost 400 CNY/MWh more than the grid and only lower the headroom,
so p = 0 and the objective is 1,540 - 60 = 1,480 CNY.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from conftest import base_config, scenario

import suandian
from suandian.checks import Rows
from suandian.component import Account, Component, Context, FamilyBuilder, Output
from suandian.components import REGISTRY, register
from suandian.linear import Expr

CAPACITY, FUEL, STOCK = 2.0, 500.0, 1.5


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    p = fb.var("p_standby", ub=np.full((ctx.S, ctx.T), CAPACITY))
    fb.port("power", p.expr())
    fb.port("intake", p.expr())
    fb.cost("standby_fuel", p * (FUEL * ctx.dt))
    stock = Expr.constant(STOCK, (ctx.S, ctx.T))
    fb.headroom(
        [f"standby_{s}" for s in ctx.sites],
        np.arange(ctx.S),
        reserve_up=-p + CAPACITY,
        reserve_energy_up=(stock, stock),
    )


def _account(ds: xr.Dataset) -> Account:
    dt = float(ds.attrs["dt_hours"])
    p = ds["p_standby"]
    stock = xr.full_like(p, STOCK)
    return Account(
        flows={"power": p, "intake": p},
        cost={"standby_fuel": float(p.sum()) * FUEL * dt},
        headroom={"reserve_up": CAPACITY - p, "reserve_energy_up": (stock, stock)},
    )


def _check(ds: xr.Dataset, rows: Rows) -> None:
    rows.le("standby.capacity", ds["p_standby"], xr.full_like(ds["p_standby"], CAPACITY))


STANDBY = register(
    Component(
        name="standby",
        sections=(),
        outputs=(Output("p_standby", ("site", "time"), "MW", "standby output", upper=CAPACITY),),
        build=_build,
        account=_account,
        check=_check,
    )
)


@pytest.fixture(scope="module")
def result() -> suandian.Result:
    c = base_config()
    c["interactive"] = [{"name": "w", "demand": 15.0, "sites": ["s1"]}]
    c["reserves"] = [
        {"name": "up", "direction": "up", "price": 10.0},
        {"name": "dn", "direction": "down", "price": 10.0},
    ]
    model = suandian.build_model(scenario(c), components=(*REGISTRY, STANDBY))
    return suandian.solve(model)


def test_a_toy_family_offers_reserve_through_its_headroom(result):
    assert result.status == "optimal"
    offered = result.ds["p_reserve"].sel(provider="standby_s1")
    assert offered.sel(reserve="up").values == pytest.approx([1.5] * 4)
    assert offered.sel(reserve="dn").values == pytest.approx([0.0] * 4, abs=1e-9)
    assert result.ds["p_standby"].values == pytest.approx(np.zeros((1, 4)), abs=1e-9)
    assert result.costs["reserve_capacity"] == pytest.approx(-60.0)
    assert result.objective == pytest.approx(1480.0)
    assert result.ds["provider_family"].values.tolist() == ["standby"]


def test_the_certifier_rechecks_the_toy_headroom_from_its_account(result):
    assert result.certify() == []
    ds = result.ds.copy(deep=True)
    ds["p_reserve"].loc[{"reserve": "up", "provider": "standby_s1"}] = 1.8  # > 1.5 MWh of fuel
    found = {v.check for v in suandian.certify(ds)}
    assert {"rsv.up_energy_start", "rsv.up_energy_end"} <= found
    assert "rsv.up_power" not in found  # 1.8 <= 2 MW
