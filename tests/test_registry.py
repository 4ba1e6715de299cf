"""A family added without touching the library: one Component, registered, built, certified.

The toy family is a diesel genset per site (capacity 2 MW, 60 CNY/MWh, 0.8 tCO2/MWh). On the
base site (1.1 x IT, 15 units of demand -> 2 blocks on, IT = 2 x 1 + 0.1 x 15 = 3.5 MW,
facility 3.85 MW, 4 h at 100 CNY/MWh) the genset is cheaper than the grid every hour, so the
unique optimum runs it at 2 MW and imports 1.85 MW:
cost = 4 x (2 x 60 + 1.85 x 100) = 1,220 CNY; location CO2 = 4 x (2 x 0.8 + 1.85 x 0.5) = 10.1 t.
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

CAPACITY, FUEL, FACTOR = 2.0, 60.0, 0.8


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    fb.input("genset_capacity", np.full(ctx.S, CAPACITY))
    p = fb.var("p_gen", ub=np.full((ctx.S, ctx.T), CAPACITY))
    fb.port("power", p.expr())
    fb.port("intake", p.expr())
    fb.port("co2", p * FACTOR)
    fb.port("co2_market", p * FACTOR)
    fb.cost("genset_fuel", p * (FUEL * ctx.dt))


def _account(ds: xr.Dataset) -> Account:
    dt = float(ds.attrs["dt_hours"])
    p = ds["p_gen"]
    return Account(
        flows={"power": p, "intake": p, "co2": p * FACTOR, "co2_market": p * FACTOR},
        cost={"genset_fuel": float(p.sum()) * FUEL * dt},
        energy={"genset": float(p.sum()) * dt},
    )


def _check(ds: xr.Dataset, rows: Rows) -> None:
    rows.le("genset.capacity", ds["p_gen"], ds["genset_capacity"])


GENSET = register(
    Component(
        name="genset",
        sections=(),
        outputs=(
            Output("p_gen", ("site", "time"), "MW", "genset output", upper="genset_capacity"),
            Output("genset_capacity", ("site",), "MW", "genset capacity", role="input"),
        ),
        build=_build,
        estimate=lambda sc, options: len(sc.config.sites) * sc.periods,  # p_gen
        account=_account,
        check=_check,
    )
)


@pytest.fixture(scope="module")
def result() -> suandian.Result:
    c = base_config()
    c["interactive"] = [{"name": "w", "demand": 15.0, "sites": ["s1"]}]
    model = suandian.build_model(scenario(c), components=(*REGISTRY, GENSET))
    return suandian.solve(model)


def test_new_family_is_built_solved_and_booked(result):
    assert result.status == "optimal"
    assert result.objective == pytest.approx(1220.0)
    assert result.ds["p_gen"].values == pytest.approx(np.full((1, 4), 2.0))
    assert result.kpis["cost"]["genset_fuel"] == pytest.approx(480.0)
    assert result.kpis["energy_mwh"]["genset"] == pytest.approx(8.0)
    assert result.kpis["emissions_tco2"]["location_based"] == pytest.approx(10.1)
    assert result.ds["p_gen"].attrs["component"] == "genset"


def test_new_family_is_certified_by_its_own_checks(result):
    assert result.certify() == []
    ds = result.ds.copy(deep=True)
    ds["p_gen"][0, 1] = 2.5
    found = {v.check for v in suandian.certify(ds)}
    assert {"genset.capacity", "genset.p_gen.bounds", "ledger.balance", "total_cost"} <= found


def test_pyomo_variable_of_a_new_family_takes_user_constraints():
    c = base_config()
    c["interactive"] = [{"name": "w", "demand": 15.0, "sites": ["s1"]}]
    import pyomo.environ as pyo

    model = suandian.build_model(scenario(c), components=(*REGISTRY, GENSET))
    model.gen_cap = pyo.Constraint(expr=model.genset.p_gen["s1", 0] <= 1.0)
    r = suandian.solve(model)
    # one hour at 1 MW instead of 2: 1 MWh more from the grid at 100 - 60 = 40 CNY more
    assert r.objective == pytest.approx(1260.0)
    assert model.genset.p_gen["s1", 0].value == pytest.approx(1.0)


def test_two_scenarios_built_into_one_model_share_one_linear_model():
    """Builders take any parent: two scenarios as Blocks of one model, solved as one problem.

    Each is the base site with 15 units (facility 3.85 MW for 4 h); at 100 and 200 CNY/MWh
    they cost 1,540 and 3,080 CNY, so the joint optimum is 4,620 CNY and each block's Result
    shows its own plan.
    """
    import pyomo.environ as pyo

    from suandian.highs import SolveOptions
    from suandian.linear import LinearModel
    from suandian.results.result import Result
    from suandian.run.strategy import solve_model

    root = pyo.ConcreteModel()
    root.lm = LinearModel()
    for name, price in (("a", 100.0), ("b", 200.0)):
        c = base_config()
        c["interactive"] = [{"name": "w", "demand": 15.0, "sites": ["s1"]}]
        c["nodes"][0]["tariff"] = price
        root.add_component(name, pyo.Block())
        suandian.build_model(scenario(c), parent=getattr(root, name), lm=root.lm, prefix=f"{name}.")
    info = solve_model(root, SolveOptions(mip_rel_gap=0.0), {})
    assert info.objective == pytest.approx(4620.0)
    a, b = Result.from_model(root.a, info), Result.from_model(root.b, info)
    assert a.kpis["cost"]["grid_energy"] == pytest.approx(1540.0)
    assert b.kpis["cost"]["grid_energy"] == pytest.approx(3080.0)
    assert {"a.grid.p_grid", "b.grid.p_grid"} <= set(root.lm.vars)


def test_a_component_built_before_what_it_requires_is_refused():
    """thermal reads dc's heat ports (ctx.published): built first, the build names both."""
    from suandian.components import datacenter, thermal

    others = tuple(c for c in REGISTRY if c.name not in ("dc", "thermal"))
    with pytest.raises(ValueError, match="'thermal' requires \\['dc'\\]"):
        suandian.build_model(
            scenario(base_config()),
            components=(thermal.COMPONENT, datacenter.COMPONENT, *others),
        )
