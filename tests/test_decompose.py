"""The Lagrangian decomposition over blocks (suandian.run.decompose, issue 10).

**Standard-form case** (``two_blocks``), solved by hand. Two blocks b = 1, 2, each with an
integer count n_b in {0, 1, 2} (blocks on, 10 units each, 10 CNY per block on) and work
y_b >= 0 at 1 CNY/unit, a local demand y_b >= 5 and the capacity y_b <= 10 n_b; one linking
row y_1 + y_2 + s >= 12, where s (0..12, 100 CNY/unit) is work bought elsewhere.

* MIP: each block needs n_b >= 1 (its own demand); n = (1, 1) holds 20 >= 12 units, so the
  optimum is 2 x 10 + 12 x 1 = **32 CNY** (s = 0).
* LP relaxation: n_b = y_b / 10 costs 2 CNY/unit, so 12 units cost **24 CNY**; the linking
  row's dual is 2.
* Lagrangian, multiplier lambda on the linking row (0 <= lambda <= 100, so s = 0):
  L(lambda) = 12 lambda + 2 min_b(...). For lambda <= 1 each block takes y = 5, n = 1:
  15 - 5 lambda, so L = 30 + 2 lambda; for 1 <= lambda <= 2 it takes y = 10, n = 1:
  20 - 10 lambda, so L = 40 - 8 lambda. The maximum is **L(1) = 32**, the MIP optimum, while
  L(2) = 24 is only the LP bound: starting from the LP dual, the search must step to 1.

**Scenario case** (``two_sites``): two copies of the hand-solved batch site of
``test_mip_start`` (2 blocks of 10 units, idle 1 MW, 0.1 MW/unit, facility 1.1 x IT, 100
CNY/MWh, one job of 25 unit-h in 4 h each) at two nodes, tied only by a portfolio green share
of 0.5 met with certificates at 5 CNY/MWh.

* Each site needs ceil(25/10) = 3 block-hours: 1.1 x (3 + 2.5) = 6.05 MWh, 605 CNY.
* Certificates: 0.5 x 12.1 MWh x 5 = 30.25 CNY. Optimum **1,240.25 CNY**.
* LP relaxation: 2.5 block-hours per site, 1.1 x 5 = 5.5 MWh each: 1,100 + 0.5 x 11 x 5 =
  **1,127.5 CNY**.
* At the share row's price of 5 CNY/MWh (a certificate's), each site's own MIP prices its
  energy at 100 + 0.5 x 5 CNY/MWh, so the Lagrangian bound is the optimum, 1,240.25.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from conftest import base_config, cli_solve_options, scenario

import suandian
from suandian.highs import HandOver, SolveOptions, quiet_highs
from suandian.linear import CSC
from suandian.run import decompose


def two_blocks() -> HandOver:
    # columns: n1, y1, n2, y2, s
    rows = [0, 0, 1, 2, 2, 3, 4, 4, 4]
    cols = [1, 0, 1, 3, 2, 3, 1, 3, 4]
    vals = [1.0, -10.0, 1.0, 1.0, -10.0, 1.0, 1.0, 1.0, 1.0]
    inf = np.inf
    return HandOver(
        c=np.array([10.0, 1.0, 10.0, 1.0, 100.0]),
        offset=0.0,
        lb=np.zeros(5),
        ub=np.array([2.0, inf, 2.0, inf, 12.0]),
        integer=np.array([True, False, True, False, False]),
        A=CSC.from_coo(rows, cols, vals, (5, 5)),
        row_lo=np.array([-inf, 5.0, -inf, 5.0, 12.0]),
        row_hi=np.array([0.0, inf, 0.0, inf, inf]),
    )


def test_split_finds_the_linking_row_and_the_two_blocks():
    ho = two_blocks()
    parts = decompose.split(ho, ho.integer)
    assert parts is not None
    assert parts.linking.tolist() == [4]
    blocks = sorted(sorted(c.tolist()) for c, _ in parts.blocks)
    assert blocks == [[0, 1], [2, 3]]
    assert parts.rest[0].tolist() == [4]  # s: no integer column, solved as an LP


def test_search_steps_from_the_lp_dual_to_the_lagrangian_maximum_derived_by_hand():
    ho = two_blocks()
    parts = decompose.split(ho, ho.integer)
    lp_duals = np.array([0.0, 0.0, 0.0, 0.0, 2.0])  # the LP relaxation's: lambda = 2
    start = np.array([1.0, 6.0, 1.0, 6.0, 0.0])  # a plan of 32 CNY
    out = decompose.improve(
        ho, ho.integer, parts, [lp_duals], SolveOptions(), 30.0, 0.0, 32.0, 24.0, start_x=start
    )
    assert out.trace[0]["bound"] == pytest.approx(24.0)  # L(2): the LP bound
    assert out.bound == pytest.approx(32.0)  # L(1): the optimum, proven
    assert out.objective == pytest.approx(32.0)
    assert np.allclose(out.x[[0, 2]], [1.0, 1.0])
    assert float(ho.c @ out.x) == pytest.approx(out.objective)


def test_every_bound_of_the_search_is_below_the_optimum():
    ho = two_blocks()
    parts = decompose.split(ho, ho.integer)
    for lam in (0.0, 0.5, 1.5, 3.0, 50.0):
        duals = np.array([0.0, 0.0, 0.0, 0.0, lam])
        out = decompose.improve(
            ho, ho.integer, parts, [duals], SolveOptions(), 30.0, 0.0, 32.0, 24.0
        )
        assert all(p["bound"] <= 32.0 + 1e-6 for p in out.trace), out.trace
        expected = min(30 + 2 * lam, 40 - 8 * lam) if lam <= 2 else None
        if expected is not None:  # the first evaluation is L(lambda), derived by hand
            assert out.trace[0]["bound"] == pytest.approx(expected)


def test_no_time_left_gives_no_bound_and_no_plan_rather_than_an_overrun():
    ho = two_blocks()
    parts = decompose.split(ho, ho.integer)
    duals = np.array([0.0, 0.0, 0.0, 0.0, 1.0])
    out = decompose.improve(ho, ho.integer, parts, [duals], SolveOptions(), 0.0, 0.0, 32.0, 24.0)
    assert out.x is None and out.objective == np.inf and out.bound == -np.inf


def two_sites() -> dict:
    c = base_config()
    c["nodes"].append({"name": "n2", "tariff": 100.0, "emission_factor": 0.5})
    s2 = dict(c["sites"][0], name="s2", node="n2")
    c["sites"].append(s2)
    c["batch"] = [
        {
            "name": f"j{i}",
            "work": 25.0,
            "release": 0,
            "deadline": 4,
            "max_rate": 20.0,
            "sites": [site],
        }
        for i, site in enumerate(["s1", "s2"], 1)
    ]
    c["certificates"] = {"price": 5.0}
    c["policies"] = {"green_share": {"target": 0.5, "scope": "portfolio"}, "pue": None}
    return c


def test_two_sites_tied_by_a_portfolio_share_are_proven_optimal_by_the_decomposition():
    r = suandian.solve(scenario(two_sites()), mip_rel_gap=1e-9)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(1240.25)
    assert r.certify() == []
    assert r.info.start["bound"] == pytest.approx(1127.5)  # the LP relaxation
    d = r.info.decomposition
    assert d["blocks"] == 2 and d["linking_rows"] >= 1
    assert d["bound"] == pytest.approx(1240.25)  # the Lagrangian bound is the optimum
    assert r.info.bound == pytest.approx(1240.25)
    assert "decompose" in r.info.timings


def test_two_sites_that_share_nothing_split_with_no_linking_rows():
    # no policy: each site is its own MIP, 605 CNY each (see test_mip_start); LP 550 each
    c = two_sites()
    c["certificates"] = None
    c["policies"] = {"green_share": None, "pue": None}
    r = suandian.solve(scenario(c), mip_rel_gap=0.0)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(1210.0)
    assert r.certify() == []
    assert r.info.start["bound"] == pytest.approx(1100.0)
    d = r.info.decomposition
    assert d["blocks"] == 2 and d["linking_rows"] == 0
    assert d["bound"] == pytest.approx(1210.0)  # the two sites' own MIPs, solved exactly


def test_decomposition_off_gives_the_same_optimum():
    r = suandian.solve(scenario(two_sites()), mip_rel_gap=0.0, decompose=False)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(1240.25)
    assert r.info.decomposition == {}
    assert "decompose" not in r.info.timings


def test_banner_suppression_from_many_threads_leaves_stdout_where_it_was():
    before = os.fstat(1)

    def make() -> None:
        for _ in range(100):
            quiet_highs()

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = os.fstat(1)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)


def test_cli_flag_turns_the_decomposition_off(tmp_path, monkeypatch):
    # the command line passes --no-decompose through as SolveOptions(decompose=False)
    assert cli_solve_options(monkeypatch, tmp_path, "--no-decompose")["decompose"] is False
    assert cli_solve_options(monkeypatch, tmp_path)["decompose"] is True
