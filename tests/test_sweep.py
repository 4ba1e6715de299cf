"""Sweeps on a real dask LocalCluster of 2 worker processes, with HiGHS on every case.

The swept scenario is the one-site LP of ``conftest.base_config`` with an interactive demand
of 15 units for 2 hours: 2 blocks of 10 units must be on, IT power = 2 x 1 MW idle + 15 x
0.1 MW = 3.5 MW, facility power = 3.5 x (1 + 1/COP). Over 2 h at a flat tariff ``p``
(CNY/MWh) every MWh comes from the grid, so the cost is, on paper,

    cost(p, COP) = p x 2 h x 3.5 MW x (1 + 1/COP) = 7 p (1 + 1/COP) CNY,

i.e. 7.7 p at COP 10 and 8.4 p at COP 5. Nothing else costs (no start-up cost, no policy).
"""

from __future__ import annotations

import copy
import os
import signal
import time

import numpy as np
import pytest
from conftest import base_config
from distributed import Client, LocalCluster

import suandian
from suandian.results import io
from suandian.scenario.paths import parse_path, resolve
from suandian.scenario.rolling import raw_config

TARIFF, COP = "nodes[n1].tariff", "sites[s1].cooling.cop"


def hand_cost(tariff: float, cop: float) -> float:
    """The module docstring's derivation: 7 p (1 + 1/COP)."""
    return 7.0 * tariff * (1.0 + 1.0 / cop)


def one_site() -> dict:
    cfg = base_config(periods=2)
    cfg["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    return cfg


@pytest.fixture(scope="module")
def client():
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


def test_grid_costs_are_the_hand_derived_ones_and_the_sweep_saves_whole(client, tmp_path):
    """Grid of 3 tariffs x 2 COPs = 6 cases, first path slowest; cost 7 p (1 + 1/COP)."""
    sc = suandian.load_scenario(one_site())
    tariffs, cops = [50.0, 100.0, 200.0], [10.0, 5.0]
    r = suandian.sweep(
        sc, {TARIFF: tariffs, COP: cops}, scheduler=client, progress=False, mip_rel_gap=0.0
    )
    ds = r.ds
    assert ds.sizes["case"] == 6
    assert list(ds[TARIFF].values) == [50.0, 50.0, 100.0, 100.0, 200.0, 200.0]
    assert list(ds[COP].values) == [10.0, 5.0] * 3
    expected = [hand_cost(p, c) for p in tariffs for c in cops]  # 385, 420, 770, 840, ...
    assert ds["objective"].values == pytest.approx(expected)
    assert ds["cost"].sel(term="grid_energy").values == pytest.approx(expected)
    assert ds["cost"].sel(term="total").values == pytest.approx(expected)
    assert ds["pue"].sel(site="s1").values == pytest.approx([1.1, 1.2] * 3)
    assert list(ds["status"].values) == ["optimal"] * 6
    assert r.all_certified and list(ds["violations"].values) == [0] * 6
    table = r.table()
    assert list(table.columns[:3]) == ["case", TARIFF, COP]
    assert table["cost.total"].to_numpy() == pytest.approx(expected)

    written = r.save(tmp_path / "sweep")
    assert {p.name for p in written} == {"sweep.nc", "cases.csv", "sweep.json", "manifest.json"}
    assert io.verify_folder(tmp_path / "sweep") == []
    back = suandian.read_sweep(tmp_path / "sweep")
    assert back.paths == [TARIFF, COP]
    assert back.ds["objective"].values == pytest.approx(expected)
    assert back.ds["certified"].values.all()
    assert back.report()["cases"][3]["values"] == {TARIFF: 100.0, COP: 5.0}
    r.save(tmp_path / "sweep")  # an earlier sweep folder is replaced whole


def test_zip_pairs_the_ith_values(client):
    """zip: (50, COP 5) and (200, COP 10): 7 x 50 x 1.2 = 420 and 7 x 200 x 1.1 = 1540."""
    sc = suandian.load_scenario(one_site())
    r = suandian.sweep(
        sc,
        {TARIFF: [50.0, 200.0], COP: [5.0, 10.0]},
        design="zip",
        scheduler=client,
        progress=False,
        mip_rel_gap=0.0,
    )
    assert r.ds["objective"].values == pytest.approx([420.0, 1540.0])


def test_random_design_is_seeded_and_each_case_costs_what_its_draw_says(client):
    """Same seed, same cases; each case's cost is 7 p (1 + 1/COP) of its own draw."""
    params = {TARIFF: ("uniform", 50.0, 200.0), COP: [5.0, 10.0]}
    a = suandian.design_cases(params, "random", n=5, seed=11)
    b = suandian.design_cases(params, "random", n=5, seed=11)
    c = suandian.design_cases(params, "random", n=5, seed=12)
    assert a.cases == b.cases and a.cases != c.cases
    assert all(50.0 <= case[TARIFF] <= 200.0 and case[COP] in (5.0, 10.0) for case in a.cases)
    unseeded = suandian.design_cases(params, "random", n=2)
    assert unseeded.seed is not None  # a fresh seed is drawn and recorded
    assert suandian.design_cases(params, "random", n=2, seed=unseeded.seed).cases == (
        unseeded.cases
    )

    sc = suandian.load_scenario(one_site())
    r = suandian.sweep(sc, params, design="random", n=3, seed=11, scheduler=client, progress=False)
    draws = suandian.design_cases(params, "random", n=3, seed=11).cases
    assert list(r.ds[TARIFF].values) == [d[TARIFF] for d in draws]
    assert r.ds["objective"].values == pytest.approx(
        [hand_cost(d[TARIFF], d[COP]) for d in draws], rel=1e-6
    )
    assert r.ds.attrs["seed"] == 11 and r.ds.attrs["design"] == "random"


def test_both_list_paths_name_the_same_field():
    """storage[batt].energy, storage[0].energy and storage.0.energy resolve alike."""
    cfg = one_site()
    cfg["storage"] = [{"name": "batt", "site": "s1", "power": 1.0, "energy": 2.0}]
    raw = raw_config(suandian.load_scenario(cfg))
    steps = {resolve(raw, parse_path(p))[0] for p in ("storage[batt].energy", "storage[0].energy")}
    assert steps == {("storage", 0, "energy")} == {resolve(raw, parse_path("storage.0.energy"))[0]}


def test_bad_paths_and_values_are_all_named_before_any_solve():
    """Every problem at once: an unknown item, a position out of range, a key the schema does
    not know, a path past a number, and a value the schema refuses (COP 0) in one case only.
    """
    sc = suandian.load_scenario(one_site())
    with pytest.raises(suandian.SweepError) as err:
        suandian.sweep(
            sc,
            {
                "nodes[n9].tariff": [100.0],
                "sites[3].blocks": [2],
                "policies.green_shar.target": [0.5],
                "nodes[n1].tariff.peak": [1.0],
                COP: [10.0, 0.0],
            },
            scheduler="does-not-matter: raised before",
        )
    text = str(err.value)
    by_field = {p.field: p for p in err.value.problems}
    assert "no item named 'n9'" in by_field["nodes[n9].tariff"].message
    assert "use one of: n1" in by_field["nodes[n9].tariff"].message
    assert "has 1 item(s)" in by_field["sites[3].blocks"].message
    assert "did you mean 'green_share'" in by_field["policies.green_shar"].message
    assert "not a section" in by_field["nodes[n1].tariff.peak"].message
    cop = by_field[COP]
    assert cop.value == "0.0" and ">= 1e-09" in cop.message and "case 1" in cop.message
    assert len(err.value.problems) == 5, text


def test_design_problems_name_the_fix():
    with pytest.raises(suandian.SweepError, match="lists of one length"):
        suandian.design_cases({TARIFF: [1.0, 2.0], COP: [5.0]}, "zip")
    with pytest.raises(suandian.SweepError, match="needs its number of cases"):
        suandian.design_cases({TARIFF: ("uniform", 1.0, 2.0)}, "random")
    with pytest.raises(suandian.SweepError, match="low 3 above high 2"):
        suandian.design_cases({TARIFF: ("uniform", 3.0, 2.0)}, "random", n=2, seed=0)
    with pytest.raises(suandian.SweepError, match="use one of grid, zip, random"):
        suandian.design_cases({TARIFF: [1.0]}, "latin")


def green_case(contract_mw: float) -> dict:
    """one_site() with a 60 %... target swept, and a 150 CNY/MWh green contract of
    ``contract_mw`` MW beside the 100 CNY/MWh grid."""
    cfg = one_site()
    cfg["policies"]["green_share"] = {"target": 0.5, "scope": "portfolio"}
    cfg["green_contracts"] = [
        {"name": "ppa", "node": "n1", "capacity": contract_mw, "price": 150.0}
    ]
    return cfg


def test_an_infeasible_case_is_reported_with_its_diagnosis_and_the_others_complete(client):
    """Contract of 3 MW against a facility draw of 3.85 MW: green share at most 3/3.85 = 77.9 %.

    Targets 0.5 and 0.7 are feasible: cost = 7.7 x 100 + 50 x 7.7 x target = 962.5 and
    1039.5 CNY (each green MWh swaps 100 CNY of grid for 150 of contract). Target 1.0 is
    infeasible and its diagnosis names the green share.
    """
    sc = suandian.load_scenario(green_case(3.0))
    r = suandian.sweep(
        sc,
        {"policies.green_share.target": [0.5, 1.0, 0.7]},
        scheduler=client,
        progress=False,
        mip_rel_gap=0.0,
    )
    ds = r.ds
    assert list(ds["status"].values) == ["optimal", "infeasible", "optimal"]
    assert ds["objective"].sel(case=[0, 2]).values == pytest.approx([962.5, 1039.5])
    assert np.isnan(float(ds["objective"].sel(case=1)))
    assert r.failed == [1]
    assert list(ds["violations"].values) == [0, -1, 0]
    assert "green share" in str(ds["diagnosis"].sel(case=1).values)
    assert r.outcomes[1].diagnosis["shortfalls"]
    assert ds["diagnosis"].sel(case=0).item() == ""


def test_a_worker_killed_mid_run_loses_no_case():
    """Four grid cases on 2 workers; when the first case finishes, the worker that solved it
    is killed (SIGKILL) as soon as it has started its next case. That case and the rest all
    complete, with the hand-derived costs, and the killed case was solved by another
    process. The nanny restarts the killed worker; the scheduler hands its case on.
    """
    sc = suandian.load_scenario(one_site())
    tariffs, cops = [50.0, 200.0], [10.0, 5.0]
    killed: dict = {}
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as c,
    ):

        def kill_first_solver(outcome, values):
            if killed:
                return
            pid = int(outcome.worker.rsplit(":", 1)[1])
            address = next(a for a, p in c.run(os.getpid).items() if p == pid)
            for _ in range(600):  # until it has taken its next case (bounded, not timed)
                running = c.processing().get(address, ())
                if running:
                    break
                time.sleep(0.05)
            killed.update(pid=pid, keys=list(running))
            os.kill(pid, signal.SIGKILL)

        r = suandian.sweep(
            sc,
            {TARIFF: tariffs, COP: cops},
            scheduler=c,
            progress=kill_first_solver,
            mip_rel_gap=0.0,
        )
    assert killed["keys"], "the killed worker was running a case"
    lost = [int(k.split("-")[2]) for k in killed["keys"]]
    ds = r.ds
    assert list(ds["status"].values) == ["optimal"] * 4 and r.all_certified
    assert ds["objective"].values == pytest.approx(
        [hand_cost(p, c_) for p in tariffs for c_ in cops]
    )
    for case in lost:
        assert not ds["worker"].sel(case=case).item().endswith(f":{killed['pid']}")


def test_serial_scheduler_needs_no_cluster():
    """scheduler='serial': the same cases in this process; cost 7.7 x 100 = 770."""
    sc = suandian.load_scenario(copy.deepcopy(one_site()))
    r = suandian.sweep(sc, {TARIFF: [100.0]}, scheduler="serial", progress=False)
    assert r.ds["objective"].values == pytest.approx([770.0])
    assert r.ds.attrs["scheduler"] == "serial"


def test_cli_sweep_writes_the_folder_and_names_bad_paths(tmp_path):
    """`suandian sweep` on a scenario file: tariffs 50 and 100 cost 385 and 770 CNY."""
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(yaml.safe_dump(one_site()))
    script = Path(sys.executable).with_name("suandian")
    cli = [str(script)] if script.exists() else [sys.executable, "-m", "suandian.cli"]

    def run(*args: str) -> subprocess.CompletedProcess:
        src = str(Path(suandian.__file__).resolve().parents[1])  # this checkout's package
        return subprocess.run(
            [*cli, "sweep", str(scenario), *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=600,
            env={**os.environ, "PYTHONPATH": src},
        )

    proc = run("--set", f"{TARIFF}=50,100", "--scheduler", "serial", "--out", "out", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "2 of 2 cases certified" in proc.stdout
    back = suandian.read_sweep(tmp_path / "out")
    assert back.ds["objective"].values == pytest.approx([385.0, 770.0])
    assert io.verify_folder(tmp_path / "out") == []

    proc = run("--set", "nodes[n2].tariff=50", "--set", "sites[s1].blocks=x", "--out", "out")
    assert proc.returncode == 1
    assert "nodes[n2].tariff" in proc.stderr and "no item named 'n2'" in proc.stderr
    assert "sites[s1].blocks = 'x'" in proc.stderr
    proc = run("--set", "nodes[n1].tariff", "--out", "out")
    assert proc.returncode == 1 and "write PATH=VALUES" in proc.stderr


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("a..b", "cannot read the path at position 1"),
        ("storage[0]energy", "cannot read the path at position 10"),
        ("storage[].energy", "empty brackets"),
        ("[0].energy", "starts with a section's key"),
    ],
)
def test_unreadable_paths_say_where(path, message):
    with pytest.raises(ValueError, match=message):
        parse_path(path)
    sc = suandian.load_scenario(one_site())
    with pytest.raises(suandian.SweepError, match=message):
        suandian.sweep(sc, {path: [1.0]}, scheduler="serial")
