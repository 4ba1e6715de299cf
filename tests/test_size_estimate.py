"""The model-size estimate (``Component.estimate``, :mod:`suandian.sizing`) and the size guard.

Every model the suite builds is checked against its estimate by the autouse fixture
``size_estimate_holds`` (tests/conftest.py); here: a year of 10 sites that the old hand count
refused, the message naming the largest contributors, and the registry walk.
"""

from __future__ import annotations

import copy

import pytest
from conftest import base_config

import suandian
from suandian import sizing
from suandian.components import REGISTRY
from suandian.ledgers import COMPONENT as LEDGER
from suandian.policies import POLICIES
from suandian.scenario import ScenarioError
from suandian.scenario.load import MAX_COLUMNS, check_size, estimate_columns

SITES, HOURS, DAYS = 10, 8760, 365


def _year() -> dict:
    """10 sites x 8,760 h, every value a constant (no series file).

    Each site: 2 blocks with a start-up cost, a battery and a PV array; workload ``w{i}``
    may run at sites ``s{i}`` and ``s{i+1}``; one batch job a day, eligible at two sites,
    its window that day's 24 h.
    """
    c = base_config(periods=HOURS)
    site = c["sites"][0]
    c["sites"] = [dict(site, name=f"s{i}", startup_cost=50.0) for i in range(SITES)]
    nxt = [f"s{(i + 1) % SITES}" for i in range(SITES)]
    c["interactive"] = [
        {"name": f"w{i}", "demand": 5.0, "sites": [f"s{i}", nxt[i]]} for i in range(SITES)
    ]
    c["batch"] = [
        {
            "name": f"job{d}",
            "work": 10.0,
            "max_rate": 5.0,
            "sites": [f"s{d % SITES}", nxt[d % SITES]],
            "release": 24 * d,
            "deadline": 24 * (d + 1),
        }
        for d in range(DAYS)
    ]
    c["storage"] = [
        {"name": f"b{i}", "site": f"s{i}", "power": 1.0, "energy": 2.0} for i in range(SITES)
    ]
    c["renewables"] = [
        {"name": f"pv{i}", "site": f"s{i}", "capacity": 1.0, "profile": 0.3} for i in range(SITES)
    ]
    return c


def test_a_year_of_ten_sites_loads_and_is_estimated_by_hand():
    """The hand count of the year's columns.

    Per hour: ``dc.n_on`` 10 + ``dc.n_start`` 10 (start-ups priced) + ``dc.x_serve`` 20
    (10 workloads x 2 sites) + ``grid.p_grid`` 10 + ``stor`` 3 x 10 + ``res.p_renewable`` 10
    = 90, so 90 x 8,760 = 788,400; ``dc.x_run`` one per (job, site, hour of its day):
    365 x 2 x 24 = 17,520; ``green.e_certificate`` one per site: 10. Total 805,930 (the old
    hand list counted 831 a period, 7,279,560, above the 5,000,000 limit). Measured once
    with ``build_model(..., pyomo=False)``: 805,930 columns.
    """
    expected = 90 * HOURS + DAYS * 2 * 24 + SITES
    assert expected == 805_930
    config = _year()
    sc = suandian.load_scenario(copy.deepcopy(config))  # no max_columns refusal
    columns, how = estimate_columns(sc.config, REGISTRY)  # not the genset others register
    assert columns < MAX_COLUMNS
    assert abs(columns - expected) <= 0.1 * expected
    assert how.startswith("largest: dc ")
    assert check_size(sc.config, config, HOURS, None) == []


def test_refusal_names_the_largest_contributors():
    """10 sites x 8,760 h against a limit of 100,000: dc is the largest (n_on, n_start,
    x_serve, x_run = 40 x 8,760 + 17,520 = 367,920), then stor (30 x 8,760 = 262,800)."""
    with pytest.raises(ScenarioError) as info:
        suandian.load_scenario(_year(), max_columns=100_000)
    message = str(info.value)
    assert "above the limit of 100,000" in message
    assert "largest: dc 367,920, stor 262,800" in message


def test_a_huge_horizon_is_refused_by_the_floor_alone():
    """5,000,001 periods x 1 site: at least 5,000,001 columns (``dc.n_on``), no hook run."""
    config = base_config(periods=MAX_COLUMNS + 1)
    problems = check_size(None, config, MAX_COLUMNS + 1, None)
    assert len(problems) == 1 and "at least" in problems[0].message


def test_every_component_declares_its_estimate():
    """The contract: every family, the ledger and every policy has an ``estimate`` hook."""
    missing = [c.name for c in (*REGISTRY, LEDGER, *POLICIES) if c.estimate is None]
    assert missing == []


def test_estimate_adds_the_diagnosis_slacks():
    """``compute_shortfall_penalty``: ``dc.x_unserved`` per (workload, period) and
    ``dc.x_unfinished`` per job; ``shortfall_penalty``: ``pue_cap.e_pue_excess`` per site.

    Base: 1 site x 4 h, one workload: n_on 4 + x_serve 4 + p_grid 4 + e_certificate 1 = 13;
    with both penalties: + 4 (x_unserved) + 0 jobs + 1 (e_pue_excess) = 18.
    """
    c = base_config()
    c["interactive"] = [{"name": "w", "demand": 5.0, "sites": ["s1"]}]
    sc = suandian.load_scenario(c)
    assert sizing.total(sizing.estimate(sc, REGISTRY)) == 13
    both = {"compute_shortfall_penalty": 1e4, "shortfall_penalty": 1e4}
    assert sizing.total(sizing.estimate(sc, REGISTRY, options=both)) == 18
    m = suandian.build_model(sc, pyomo=False, shortfall_penalty=1e4, compute_shortfall_penalty=1e4)
    assert m.built.estimated_columns == 18
