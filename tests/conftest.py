"""Shared fixtures: small hand-solvable scenarios built from Python dicts."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

import suandian

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SCENARIO = ROOT / "models" / "chongqing_hami_day.yaml"


#: absolute slack of the size-estimate check for toy models (< 50 columns): a column or two
#: that a hook does not bother to count is 10 % of nothing there
TOY_COLUMNS, TOY_SLACK = 50, 5


#: Expensive fixtures shared by several tests, by the pytest-xdist group their tests form: the
#: embedded default day solved (tens of seconds each) and the Sphinx build with the tutorials
#: executed (minutes). Under ``-n auto --dist loadgroup`` a group runs in one worker, so each
#: is made once (see :func:`pytest_collection_modifyitems` for what that takes under pytest 9).
SHARED_FIXTURE_GROUPS = {
    "default_result": "default_day",
    "default_run": "default_day",
    "sphinx_build": "sphinx_build",
}


def pytest_itemcollected(item: pytest.Item) -> None:
    """Group a test that shares an expensive fixture (:data:`SHARED_FIXTURE_GROUPS`).

    Marked as each test is collected, before any ``pytest_collection_modifyitems`` (where
    pytest-xdist's worker turns the marks into node ids, whatever the order of the hooks).
    """
    names = getattr(item, "fixturenames", ())
    groups = {SHARED_FIXTURE_GROUPS[f] for f in names if f in SHARED_FIXTURE_GROUPS}
    if groups:
        # a test needing both (none today) joins the longer one, the docs build
        group = "sphinx_build" if "sphinx_build" in groups else groups.pop()
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Carry pytest-xdist's group suffix into the node id pytest 9 reports.

    pytest-xdist 3.8's worker appends ``@<group>`` to ``item._nodeid``; pytest 9 reads the
    node id from ``item._id`` instead, so the controller never saw the group and
    ``loadgroup`` behaved like ``load`` (measured 2026-12-07: the default day solved and the
    docs built once per worker). Run after xdist's hook; a no-op without xdist or on pytest 8.
    """
    for item in items:
        suffixed = getattr(item, "_nodeid", None)
        if isinstance(suffixed, str) and "@" in suffixed and item.nodeid != suffixed:
            from _pytest.nodeid import coerce_node_id

            item._id = coerce_node_id(suffixed)


@pytest.fixture(autouse=True)
def size_estimate_holds():
    """After every test: each model it built had its size estimate within 10 % of its columns.

    ``build_model`` records ``(name, estimated, built)`` in :data:`suandian.sizing.observed`
    (the estimate through the same function as ``load_scenario``'s size guard); a model of
    fewer than :data:`TOY_COLUMNS` columns may be off by :data:`TOY_SLACK` columns instead.
    """
    from suandian import sizing

    seen: list[tuple[str, int, int]] = []
    sizing.observed = seen
    yield
    sizing.observed = None
    off = [
        (name, est, built)
        for name, est, built in seen
        if abs(est - built) > (TOY_SLACK if built < TOY_COLUMNS else 0.1 * built)
    ]
    assert not off, f"size estimate off by more than 10 % (name, estimated, built): {off}"


def base_config(periods: int = 4, resolution: str = "1h") -> dict:
    """One node, one site with 2 blocks, flat price 100 CNY/MWh, COP 10, no losses, no policies.

    Block: capacity 10 units, idle 1 MW, dynamic 0.1 MW/unit, so a block at full load draws
    2 MW of IT power; facility power = IT * (1 + 1/COP) = 1.1 * IT.
    """
    return {
        "name": "tiny",
        "horizon": {"start": "2026-07-15 00:00", "periods": periods, "resolution": resolution},
        "nodes": [{"name": "n1", "tariff": 100.0, "emission_factor": 0.5}],
        "sites": [
            {
                "name": "s1",
                "node": "n1",
                "blocks": 2,
                "block_capacity": 10.0,
                "idle_power": 1.0,
                "dynamic_power": 0.1,
                "loss_fraction": 0.0,
                "cooling": {"cop": 10.0},
            }
        ],
        "policies": {"green_share": None, "pue": None},
    }


#: facility power of :func:`steady_load_config`'s load, MW in every period: 15 units on two
#: blocks = 2 x 1 MW idle + 15 x 0.1 MW = 3.5 MW of IT, x 1.1 with the COP of 10
STEADY_LOAD_MW = 3.85


def steady_load_config(periods: int) -> dict:
    """:func:`base_config` with an interactive workload of 15 units at ``s1``: 3.85 MW."""
    c = base_config(periods)
    c["interactive"] = [{"name": "w", "demand": 15.0, "sites": ["s1"]}]
    return c


def hourly_series(**columns) -> pd.DataFrame:
    """Hourly series from 2026-07-15 00:00, one column per keyword (equal lengths)."""
    n = len(next(iter(columns.values())))
    index = pd.date_range("2026-07-15 00:00", periods=n, freq="1h")
    return pd.DataFrame(columns, index=index)


def scenario(config: dict, series=None) -> suandian.Scenario:
    """Load a scenario from a dict (deep-copied)."""
    return suandian.load_scenario(copy.deepcopy(config), series=series)


def solve_ok(config: dict, series=None, **options) -> suandian.Result:
    """Solve a dict scenario, assert it is optimal and that the certifier finds nothing.

    Solved to a zero MIP gap unless told otherwise: the tests compare with the optimum derived
    by hand, and the default gap (0.1 %) would also accept other, slightly dearer plans.
    """
    options.setdefault("mip_rel_gap", 0.0)
    result = suandian.solve(scenario(config, series), **options)
    assert result.status == "optimal", result.summary()
    violations = result.certify()
    assert violations == [], violations
    return result


def cli_solve_options(monkeypatch, tmp_path, *flags: str) -> dict:
    """The options ``suandian solve FLAGS`` (default scenario) passes to :func:`suandian.solve`.

    The solve runs for real; a spy on ``suandian.solve`` records its keyword options.
    """
    from suandian.cli import main

    seen: dict = {}
    real = suandian.solve

    def spy(scenario, **options):
        seen.update(options)
        return real(scenario, **options)

    monkeypatch.setattr(suandian, "solve", spy)
    out = str(tmp_path / "plan")
    code = main(["solve", *flags, "--no-certify", "--formats", "csv", "--out", out])
    assert code == 0
    return seen


@pytest.fixture
def tiny() -> dict:
    """A fresh copy of :func:`base_config`."""
    return base_config()


@pytest.fixture(scope="session")
def default_result() -> suandian.Result:
    """The embedded default scenario, solved once per test session.

    No wall-time limit (``time_limit`` inf): the solve ends when the 0.1 % gap is proven,
    however busy the machine, so the tests that read it never depend on its speed.
    """
    return suandian.solve(suandian.load_scenario(DEFAULT_SCENARIO), time_limit=float("inf"))
