"""The HiGHS bridge: options, limits with the best plan kept, user constraints, duals."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pyomo.environ as pyo
import pytest
import yaml
from conftest import DEFAULT_SCENARIO, base_config, scenario

import suandian


@pytest.fixture(scope="module")
def default_scenario() -> suandian.Scenario:
    """The default day without its DR event: one MILP per solve (no ``no_event`` baseline
    plan solved first), for the tests that need a real MILP of the default's size, not its
    figures."""
    raw = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    raw["demand_response"] = []
    return suandian.load_scenario(raw, base_dir=DEFAULT_SCENARIO.parent)


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


@pytest.mark.parametrize("solver", [None, "simplex", "ipm"])
def test_an_lp_takes_the_solver_asked_and_gives_the_same_plan(monkeypatch, solver):
    """A pure LP (no integer column to decide) reaches HiGHS with ``highs_options`` and has
    one answer whichever LP method solves it (``docs/math/solver.md``, "Large pure LPs").

    The case is ``test_sizing``'s tank that pays, derived there: a MWh of cold made in t0
    costs ``100 * 0.1 * 1.5 = 15`` CNY and saves ``1000 * 0.2 = 200`` CNY in t1, the tank
    costs 50 CNY per MWh over the 2-h horizon and absorbs at most the 3.5 MW air-path heat
    of t1: E = 3.5 MWh, objective 3,937.5 + 3.5 * 50 = 4,112.5 CNY. With no option, HiGHS
    chooses (``"choose"``: the dual simplex for an LP).
    """
    import highspy
    from test_sizing import _tank_case

    seen: list[tuple[str, int]] = []
    original = highspy.Highs.run

    def run(self, *args, **kwargs):
        status = original(self, *args, **kwargs)
        seen.append((self.getOptionValue("solver")[1], self.getInfo().ipm_iteration_count))
        return status

    monkeypatch.setattr(highspy.Highs, "run", run)
    cfg, series = _tank_case(219000.0)
    extra = {} if solver is None else {"highs_options": {"solver": solver}}
    r = suandian.solve(scenario(cfg, series), mip_rel_gap=0.0, **extra)
    assert r.status == "optimal" and r.info.size["integer_columns"] == 0
    assert r.objective == pytest.approx(4112.5, abs=1e-6)
    assert float(r.ds["tes_capacity"].sel(tes="tank")) == pytest.approx(3.5, abs=1e-6)
    assert r.certify() == []
    assert [name for name, _ in seen] == [solver or "choose"]  # one run: the LP's own duals
    assert (seen[0][1] > 0) == (solver == "ipm")  # the interior point ran only when asked


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


def test_timings_and_size_reported(default_result):
    r = default_result
    assert set(r.info.timings) >= {"presolve", "build", "handover", "solve", "duals", "extract"}
    assert r.info.size["integer_columns"] > 0 and r.info.size["rows"] > 0


def test_user_variable_and_expression_through_pyomo():
    # As test_user_constraint_added_before_solve_is_respected, but the 3 MW cap goes through
    # a variable of the user's own (y <= 3, p_grid <= y) and a family expression
    # (p_grid >= p_facility - contract headroom 5 MW, never binding): 1880 CNY again, and
    # y = 3 in every hour (p_grid = 3 needs y >= 3).
    c = base_config()
    c["interactive"] = [{"name": "w", "demand": 15.0, "sites": ["s1"]}]
    c["green_contracts"] = [{"name": "k", "node": "n1", "capacity": 5.0, "price": 200.0}]
    model = suandian.build_model(scenario(c))
    model.y = pyo.Var(model.TIME, bounds=(0, 3.0))
    model.cap = pyo.Constraint(model.TIME, rule=lambda m, t: m.grid.p_grid["s1", t] <= m.y[t])
    model.loose = pyo.Constraint(
        model.TIME, rule=lambda m, t: m.grid.p_grid["s1", t] >= m.dc.p_facility["s1", t] - 5.0
    )
    r = suandian.solve(model)
    assert r.objective == pytest.approx(1880.0)
    assert [model.y[t].value for t in model.TIME] == pytest.approx([3.0] * 4)
    assert r.certify() == []


def test_fixing_a_family_variable_through_pyomo():
    c = base_config()
    c["interactive"] = [{"name": "w", "demand": 5.0, "sites": ["s1"]}]
    model = suandian.build_model(scenario(c))
    model.dc.n_on["s1", 2].fix(2)  # one idle block more in hour 2: +1 MW x 1.1 x 100 CNY
    r = suandian.solve(model)
    # one block serves 5 units: facility 1.1 x (1 + 0.5) = 1.65 MW -> 4 x 165 = 660; +110
    assert r.objective == pytest.approx(770.0)
    assert r.ds["n_on"].values.tolist() == [[1, 1, 2, 1]]


def test_unknown_index_of_a_family_variable_names_the_form():
    model = suandian.build_model(scenario(base_config()))
    model.bad = pyo.Constraint(expr=model.grid.p_grid["nowhere", 0] <= 1)
    with pytest.raises(KeyError, match=r"grid.p_grid.*\(site, time\)"):
        suandian.solve(model)


def test_fixed_integers_go_to_highs_as_an_lp():
    c = base_config()
    c["sites"][0]["min_on"] = 2  # blocks fixed by their bounds
    r = suandian.solve(scenario(c))
    assert r.info.size["integer_columns"] == 0
    assert r.mip_gap == 0.0 and not np.isnan(float(r.ds["energy_price"][0, 0]))


def test_progress_through_logging(default_scenario, caplog):
    with caplog.at_level(logging.INFO, logger="suandian"):
        # a 1 % gap and no wall-time limit: ends on what is proven, however busy the machine
        r = suandian.solve(default_scenario, mip_rel_gap=1e-2, time_limit=float("inf"))
    assert r.status == "optimal"
    assert any("new plan" in rec.getMessage() for rec in caplog.records)


@pytest.mark.parametrize("log", [False, True])
def test_highs_banner_only_when_asked(log):
    """HiGHS prints its banner once per process, so this runs in a fresh one."""
    code = (
        "import suandian, sys; sys.path.insert(0, 'tests'); from conftest import *; "
        f"suandian.solve(scenario(base_config()), log={log})"
    )
    root = DEFAULT_SCENARIO.parents[1]
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert ("Running HiGHS" in proc.stdout) is log


def test_bad_options_are_named_together():
    with pytest.raises(ValueError, match="mip_rel_gap.*time_limit"):
        suandian.SolveOptions(mip_rel_gap=-0.5, time_limit=-1)


def test_second_solve_in_one_process_with_other_threads(default_scenario):
    # a 1 % gap and no wall-time limit: each ends on what is proven, however busy the machine
    opts = {"mip_rel_gap": 1e-2, "time_limit": float("inf")}
    a = suandian.solve(default_scenario, **opts)
    b = suandian.solve(default_scenario, threads=1, **opts)
    assert a.status == b.status == "optimal"
    assert b.objective == pytest.approx(a.objective, rel=2e-2)  # both within the 1 % gap


def test_lp_relaxation_on_request():
    # 15 units need 1.5 blocks in the relaxation: IT = 1.5 x 1 + 0.1 x 15 = 3 MW,
    # facility 3.3 MW, 4 h x 3.3 x 100 = 1320 CNY (the MIP needs 2 blocks: 1540 CNY)
    c = base_config()
    c["interactive"] = [{"name": "w", "demand": 15.0, "sites": ["s1"]}]
    r = suandian.solve(scenario(c), relax_integers=True)
    assert r.objective == pytest.approx(1320.0)
    assert r.ds["n_on"].values == pytest.approx(np.full((1, 4), 1.5))
    assert r.ds.attrs["relaxed"] == 1 and r.info.size["integer_columns"] == 0
    assert r.certify() == []
