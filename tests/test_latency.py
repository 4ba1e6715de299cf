"""Latency classes of interactive workloads (``interactive[].latency_ms``, ``max_latency_ms``).

Two sites (conftest base, duplicated): s1 at 100 CNY/MWh, s2 at 50 CNY/MWh, each with 2
blocks of 10 units (idle 1 MW, 0.1 MW/unit, COP 10: facility 1.1 x IT). One workload of 5
units in each of 2 periods, listed at both sites.

* Without a latency class it is served at the cheaper s2: one block, IT 1.5 MW, facility
  1.65 MW, 2 h x 1.65 x 50 = 165 CNY.
* With latency_ms {s1: 5, s2: 40} and max_latency_ms 20, only s1 qualifies: 1.65 x 2 x 100 =
  330 CNY.
"""

from __future__ import annotations

import copy

import pytest
from conftest import base_config, scenario, solve_ok

from suandian import ScenarioError


def config(**workload) -> dict:
    cfg = base_config(periods=2)
    second = copy.deepcopy(cfg["sites"][0])
    second.update(name="s2", node="n2")
    cfg["sites"].append(second)
    cfg["nodes"].append({"name": "n2", "tariff": 50.0, "emission_factor": 0.5})
    cfg["interactive"] = [{"name": "chat", "demand": 5.0, "sites": ["s1", "s2"], **workload}]
    return cfg


def test_without_a_class_the_cheaper_far_site_serves():
    r = solve_ok(config())
    assert r.objective == pytest.approx(165.0)
    assert float(r.ds["x_serve"].sel(site="s2").sum()) == pytest.approx(10.0)


def test_latency_class_keeps_the_workload_near_its_users():
    r = solve_ok(config(latency_ms={"s1": 5.0, "s2": 40.0}, max_latency_ms=20.0))
    assert r.objective == pytest.approx(330.0)
    assert r.ds["serve_eligible"].sel(site="s2").values.tolist() == [False]
    # a looser class lets the far site serve again
    r = solve_ok(config(latency_ms={"s1": 5.0, "s2": 40.0}, max_latency_ms=50.0))
    assert r.objective == pytest.approx(165.0)


def test_bad_latency_classes_are_named():
    with pytest.raises(ScenarioError) as err:
        scenario(config(latency_ms={"s1": 5.0}, max_latency_ms=20.0))
    assert "missing: ['s2']" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        scenario(config(latency_ms={"s1": 25.0, "s2": 40.0}, max_latency_ms=20.0))
    assert "no site meets max_latency_ms 20" in str(err.value)
    with pytest.raises(ScenarioError) as err:
        scenario(config(latency_ms={"s1": 5.0, "s2": 40.0, "s9": 1.0}, max_latency_ms=20.0))
    assert "latency_ms.s9" in str(err.value)
