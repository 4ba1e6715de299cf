"""The real CLI in a subprocess."""

from __future__ import annotations

import json
import re
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


# session scope: under pytest-xdist a worker tears a module fixture down whenever it does not
# yet hold the module's next test, so a module scope could build it twice (conftest groups)
@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("cli") / "plan"
    # no wall-time limit: the run ends on the proven gap, however busy the machine
    return run("solve", "--out", str(out), "--time-limit", "inf", cwd=out.parent), out


def test_solve_default_prints_kpis_and_writes_results(default_run):
    proc, out = default_run
    assert proc.returncode == 0, proc.stderr
    assert "status        optimal" in proc.stdout
    assert "green share                    share   of which certificates   target" in proc.stdout
    # the cost by term includes the bill's network charge (in its parts) and demand charge
    assert re.search(r"^  network_td\s+[\d,]+$", proc.stdout, re.M)
    assert re.search(r"^  connection_td\s+[\d,]+$", proc.stdout, re.M)
    assert re.search(r"^  demand\s+[\d,]+$", proc.stdout, re.M)
    assert "certifier: the plan satisfies every check" in proc.stdout
    assert (out / "result.nc").is_file()
    assert (out / "parquet" / "site_time.parquet").is_file()
    assert (out / "csv" / "site_time.csv").is_file()
    report = json.loads((out / "kpis.json").read_text())
    assert report["solver"]["status"] == "optimal"
    assert report["kpis"]["green_share"]["cq_dc"] >= 0.8 - 1e-6
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


def _copy_series(files: list[str], folder: Path) -> list[str]:
    """Copy the default scenario's series next to a scenario written in ``folder``.

    Series are read only from the scenario's folder (and ``data/`` beside it).
    """
    for p in files:
        shutil.copy(DEFAULT_SCENARIO.parent / p, folder / Path(p).name)
    return [Path(p).name for p in files]


def test_validate_ok_and_bad(tmp_path):
    proc = run("validate", str(DEFAULT_SCENARIO), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("ok: Scenario(")
    bad = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    bad["sites"][0]["node"] = "chongqin"
    bad["storage"][0]["eta_charge"] = 1.5
    bad["series"] = _copy_series(bad["series"], tmp_path)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    proc = run("validate", str(path), cwd=tmp_path)
    assert proc.returncode == 1
    assert "2 problem(s)" in proc.stderr
    assert "sites[0].node = 'chongqin'" in proc.stderr and "did you mean 'chongqing'" in proc.stderr
    assert "storage[0].eta_charge = 1.5" in proc.stderr


def _too_green(folder: Path) -> Path:
    """The default day with a 90 % green target and no purchases: infeasible."""
    config = yaml.safe_load(DEFAULT_SCENARIO.read_text())
    config["series"] = _copy_series(config["series"], folder)
    config["policies"]["green_share"]["target"] = 0.9
    config["corridors"], config["green_contracts"] = [], []
    config["certificates"]["max_share"] = 0.0
    path = folder / "too_green.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_infeasible_target_exits_2_with_diagnosis(tmp_path):
    path = _too_green(tmp_path)
    proc = run("solve", str(path), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "status        infeasible" in proc.stdout
    assert "green share (cq_dc): at most" in proc.stdout


def test_example_copies_an_editable_scenario(tmp_path):
    proc = run("example", "--out", str(tmp_path / "mine"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    copied = tmp_path / "mine" / "models" / DEFAULT_SCENARIO.name
    assert copied.is_file()
    proc = run("validate", str(copied), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_example_into_a_folder_whose_models_is_a_file(tmp_path):
    """``DIR/models`` is a file: a clear error naming it and the fix, exit 1, no traceback.

    Nothing is copied either (``DIR/data`` is not created), since the check comes first.
    """
    target = tmp_path / "mine"
    target.mkdir()
    (target / "models").write_text("not a folder")
    proc = run("example", "--out", str(target), cwd=tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert f"{target / 'models'}: exists and is not a folder" in proc.stderr
    assert "choose another --out" in proc.stderr
    assert not (target / "data").exists()


def test_import_does_not_load_scipy_stats():
    code = "import sys, suandian; print('scipy.stats' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.stdout.strip() == "False", proc.stderr


def test_entry_point_installed():
    assert Path(sys.executable).with_name("suandian").exists() or shutil.which("suandian")


# ------------------------------------------------------------- the output folder
def tampered_copy(out: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    return copy


def test_certify_a_saved_folder_clean_and_tampered(default_run, tmp_path):
    _, out = default_run
    proc = run("certify", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "clean" in proc.stdout

    copy = tampered_copy(out, tmp_path)  # green share 95 %, PUE 1.05, cost -20 % in kpis.json
    report = json.loads((copy / "kpis.json").read_text())
    report["kpis"]["green_share"]["portfolio"] = 0.95
    report["kpis"]["pue"]["cq_dc"] = 1.05
    report["kpis"]["cost"]["total"] *= 0.8
    (copy / "kpis.json").write_text(json.dumps(report, indent=2))
    proc = run("certify", str(copy), cwd=tmp_path)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for text in (
        "kpis.json: ",  # checksum or size against the manifest
        "report.green_share at portfolio: 0.95",
        "report.pue at cq_dc: 1.05",
        "report.cost at total",
    ):
        assert text in proc.stderr, (text, proc.stderr)

    copy = tampered_copy(out, tmp_path / "b")  # a stale file and a changed table
    (copy / "csv" / "old_run.csv").write_text("x\n1\n")
    with (copy / "csv" / "site_time.csv").open("a") as fh:
        fh.write("cq_dc,2026-07-16 00:00:00\n")
    proc = run("certify", str(copy), cwd=tmp_path)
    assert proc.returncode == 3
    assert "csv/old_run.csv: not part of this run" in proc.stderr
    assert "csv/site_time.csv: " in proc.stderr

    proc = run("certify", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert proc.returncode == 1 and "not a folder" in proc.stderr


@pytest.mark.parametrize("case", ["file", "file_parent", "not_results", "proc", "formats"])
def test_bad_out_fails_before_the_solve(tmp_path, case):
    out = tmp_path / "out"
    extra = []
    if case == "file":
        out.write_text("not a folder")
        expected = "is a file, not a folder"
    elif case == "file_parent":
        (tmp_path / "f").write_text("x")
        out = tmp_path / "f" / "out"
        expected = "is a file, not a folder"
    elif case == "not_results":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
        expected = "not suandian results (notes.txt)"
    elif case == "proc":
        out = Path("/proc/suandian-out")
        expected = "cannot write in /proc"
    else:
        extra = ["--formats", "netcdf,xlsx"]
        expected = "--formats 'netcdf,xlsx'"
    proc = run("solve", "--out", str(out), *extra, cwd=tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "planning" not in proc.stdout + proc.stderr  # refused before loading and solving


def test_read_only_out_fails_before_the_solve(tmp_path):
    """As an unprivileged user (root ignores permissions; setpriv drops to nobody)."""
    import os
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="suandian-ro-"))
    try:
        base.chmod(0o755)
        ro = base / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        prefix = []
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("running as root without setpriv")
            prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        for out, expected in ((ro, "is read-only"), (ro / "out", "cannot write in")):
            proc = subprocess.run(
                [*prefix, *cli(), "solve", "--out", str(out)],
                cwd=base,
                capture_output=True,
                text=True,
                timeout=300,
                env={**os.environ, "HOME": str(base)},
            )
            assert proc.returncode == 1, proc.stdout + proc.stderr
            assert expected in proc.stderr and "Traceback" not in proc.stderr
            assert "planning" not in proc.stdout + proc.stderr
    finally:
        (base / "ro").chmod(0o755)
        shutil.rmtree(base)


def test_infeasible_run_replaces_an_old_plan_with_its_diagnosis(default_run, tmp_path):
    _, previous = default_run
    out = tmp_path / "out"
    shutil.copytree(previous, out)
    path = _too_green(tmp_path)
    proc = run("solve", str(path), "--out", str(out), "--formats", "csv", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["kpis.json", "manifest.json"]
    report = json.loads((out / "kpis.json").read_text())
    assert report["solver"]["status"] == "infeasible" and report["kpis"] == {}
    assert any("green share" in f for f in report["diagnosis"]["findings"])
    proc = run("certify", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


def test_command_line_does_not_wait_for_a_run_left_behind(monkeypatch, capsys):
    """The ``suandian`` command ends at once when a HiGHS run left behind is still running.

    A run that missed its deadline keeps its thread until HiGHS next checks its limits; the
    command must not wait for it once its outputs are written. Stand-ins: ``left_behind()``
    reports one such run and ``os._exit`` records its code instead of ending pytest. From the
    command line (``argv`` None) the process ends with the verb's own exit code (0 for a
    valid scenario); from Python (``argv`` given) it returns normally.
    """
    from suandian import cli, highs

    ended: list[int] = []

    def fake_exit(code: int) -> None:
        ended.append(code)

    monkeypatch.setattr(highs, "left_behind", lambda: 1)
    monkeypatch.setattr(cli.os, "_exit", fake_exit)
    monkeypatch.setattr(sys, "argv", ["suandian", "validate", str(DEFAULT_SCENARIO)])
    assert cli.main() == 0
    assert ended == [0]
    assert "left behind" in capsys.readouterr().err
    assert cli.main(["validate", str(DEFAULT_SCENARIO)]) == 0
    assert ended == [0]


_PROBE = """
import sys
from suandian import cli
{before}
cli._no_dask_probe()
import numpy as np, xarray as xr
a = xr.DataArray(np.arange(3.0), dims="x")
print(float((a * 2).sum()), "dask.array" in sys.modules)
"""


@pytest.mark.parametrize(
    ("before", "expected"),
    [("", "6.0 False"), ("import dask.array", "6.0 True")],
)
def test_solve_spares_xarrays_dask_probe(before, expected):
    """``suandian solve`` tells xarray there is no dask when none is imported: xarray then
    works on numpy data without importing ``dask.array`` (sum of 2 x [0, 1, 2] = 6). With
    dask already imported, xarray is left as it is (it knows dask's arrays)."""
    code = _PROBE.format(before=before)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected
