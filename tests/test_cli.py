"""The real CLI in a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import DEFAULT_SCENARIO


def cli() -> list[str]:
    script = Path(sys.executable).with_name("suandian")
    return [str(script)] if script.exists() else [sys.executable, "-m", "suandian.cli"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*cli(), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("cli") / "plan"
    return run("solve", "--out", str(out), cwd=out.parent), out


def test_solve_default_prints_kpis_and_writes_results(default_run):
    proc, out = default_run
    assert proc.returncode == 0, proc.stderr
    assert "status        optimal" in proc.stdout
    assert "green share (target 80%)" in proc.stdout
    assert "certifier: the plan satisfies every check" in proc.stdout
    assert (out / "result.nc").is_file()
    assert (out / "parquet" / "site_time.parquet").is_file()
    assert (out / "csv" / "site_time.csv").is_file()
    report = json.loads((out / "kpis.json").read_text())
    assert report["solver"]["status"] == "optimal"
    assert report["kpis"]["green_share"]["portfolio"] >= 0.8 - 1e-6
    for site, pue in report["kpis"]["pue"].items():
        assert pue <= 1.25 + 1e-6, site
    # no temporary files left behind by the atomic writes
    assert not list(out.rglob("*.tmp"))


def test_help_lists_commands_and_examples(tmp_path):
    proc = run("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for word in ("solve", "validate", "example", "examples:"):
        assert word in proc.stdout
    proc = run("solve", "--help", cwd=tmp_path)
    assert "--mip-gap" in proc.stdout and "--time-limit" in proc.stdout


def test_validate_ok_and_bad(tmp_path):
    proc = run("validate", str(DEFAULT_SCENARIO), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: Scenario(")
    bad = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    bad["sites"][0]["node"] = "chongqin"
    bad["storage"][0]["eta_charge"] = 1.5
    bad["series"] = [str(DEFAULT_SCENARIO.parent / p) for p in bad["series"]]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    proc = run("validate", str(path), cwd=tmp_path)
    assert proc.returncode == 1
    assert "2 problem(s)" in proc.stderr
    assert "sites[0].node = 'chongqin'" in proc.stderr and "did you mean 'chongqing'" in proc.stderr
    assert "storage[0].eta_charge = 1.5" in proc.stderr


def test_infeasible_target_exits_2_with_diagnosis(tmp_path):
    config = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    config["series"] = [str(DEFAULT_SCENARIO.parent / p) for p in config["series"]]
    config["policies"]["green_share"]["target"] = 0.9
    config["corridors"], config["green_contracts"] = [], []
    config["certificates"]["max_share"] = 0.0
    path = tmp_path / "too_green.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = run("solve", str(path), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "status        infeasible" in proc.stdout
    assert "green share (portfolio): at most" in proc.stdout


def test_example_copies_an_editable_scenario(tmp_path):
    proc = run("example", "--out", str(tmp_path / "mine"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    copied = tmp_path / "mine" / "models" / DEFAULT_SCENARIO.name
    assert copied.is_file()
    proc = run("validate", str(copied), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_import_does_not_load_scipy_stats():
    code = "import sys, suandian; print('scipy.stats' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "False", proc.stderr


def test_entry_point_installed():
    assert Path(sys.executable).with_name("suandian").exists() or shutil.which("suandian")
