"""The HiGHS bridge: options, limits with the best plan kept, user constraints, duals."""

from __future__ import annotations

import pyomo.environ as pyo
import pytest
from conftest import DEFAULT_SCENARIO, base_config, scenario

import suandian


@pytest.fixture(scope="module")
def default_scenario() -> suandian.Scenario:
    return suandian.load_scenario(DEFAULT_SCENARIO)


def test_stopping_at_first_plan_returns_it_with_its_gap(default_scenario):
    r = suandian.solve(
        default_scenario, mip_rel_gap=0.0, highs_options={"mip_max_improving_sols": 1}
    )
    assert r.status == "limit_reached"
    assert r.has_plan and r.mip_gap > 0
    assert r.objective >= r.info.bound
    assert r.certify() == []  # the incumbent is a valid plan


def test_refused_highs_option_is_named():
    with pytest.raises(ValueError, match="no_such_option"):
        suandian.solve(scenario(base_config()), highs_options={"no_such_option": 1})


def test_user_constraint_added_before_solve_is_respected():
    # 15 units of demand -> 2 blocks; cost at 100 CNY/MWh = 3.85 MW x 4 h x 100 = 1540.
    # A user cap of 3 MW on grid import with a 200 CNY/MWh contract covering the rest:
    # 0.85 MW x 4 h x 200 + 3 MW x 4 h x 100 = 680 + 1200 = 1880 CNY.
    c = base_config()
    c["interactive"] = [{"name": "w", "demand": 15.0, "sites": ["s1"]}]
    c["green_contracts"] = [{"name": "k", "node": "n1", "capacity": 5.0, "price": 200.0}]
    model = suandian.build_model(scenario(c))
    model.grid_cap = pyo.Constraint(model.TIME, rule=lambda m, t: m.grid.p_grid["s1", t] <= 3.0)
    r = suandian.solve(model)
    assert r.objective == pytest.approx(1880.0)
    assert float(r.ds["p_grid"].max()) == pytest.approx(3.0)
    # the dual of the user's cap: one more MW for one hour saves 200 - 100 = 100 CNY
    assert model.dual[model.grid_cap[0]] == pytest.approx(-100.0)


def test_timings_and_size_reported(default_scenario):
    r = suandian.solve(default_scenario)
    assert set(r.info.timings) >= {"build", "handover", "solve", "duals", "extract"}
    assert r.info.size["integer_columns"] > 0 and r.info.size["rows"] > 0
