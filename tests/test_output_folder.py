"""A results folder never lies: written whole, one run only, umask permissions, checked first."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import base_config, scenario

import suandian
from suandian.results import io
from suandian.results.certifier import certify_folder


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def saved(default_result, tmp_path) -> Path:
    out = tmp_path / "plan"
    default_result.save(out)
    return out


def test_manifest_lists_every_file_with_its_checksum(saved):
    manifest = io.read_manifest(saved)
    assert manifest["status"] == "optimal"
    assert manifest["formats"] == ["netcdf", "parquet", "csv"]
    assert sorted(manifest["files"]) == [f for f in listing(saved) if f != "manifest.json"]
    for rel, entry in manifest["files"].items():
        assert entry["sha256"] == io.sha256(saved / rel)
        assert entry["bytes"] == (saved / rel).stat().st_size
    assert io.verify_folder(saved) == []
    assert certify_folder(saved) == []
    # nothing left beside the folder (staging or old copy)
    assert [p.name for p in saved.parent.iterdir()] == ["plan"]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "two-renames"])
def test_fewer_formats_leave_no_stale_files(default_result, saved, monkeypatch, exchange):
    if not exchange:  # systems without an atomic exchange: old aside, new in, old deleted
        monkeypatch.setattr(io, "_exchange", lambda a, b: False)
    assert (saved / "csv" / "site_time.csv").is_file()
    first = io.read_manifest(saved)["run_id"]
    default_result.save(saved, formats=("netcdf",))
    assert listing(saved) == ["kpis.json", "manifest.json", "result.nc"]
    assert io.read_manifest(saved)["run_id"] != first
    assert io.verify_folder(saved) == [] and certify_folder(saved) == []
    assert [p.name for p in saved.parent.iterdir()] == ["plan"]


def test_verify_folder_names_changed_missing_and_extra_files(saved):
    (saved / "csv" / "node.csv").write_text("node\nx\n")
    (saved / "parquet" / "site.parquet").unlink()
    (saved / "csv" / "stale.csv").write_text("old run\n")
    problems = io.verify_folder(saved)
    assert any(p.startswith("csv/node.csv: ") for p in problems), problems
    assert "parquet/site.parquet: listed in the manifest but missing" in problems
    assert "csv/stale.csv: not part of this run (not in the manifest)" in problems
    (saved / "manifest.json").unlink()
    assert io.verify_folder(saved)[0].startswith("manifest.json missing")


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError])
def test_interrupted_save_leaves_the_old_run_whole(default_result, saved, monkeypatch, error):
    before = {rel: io.sha256(saved / rel) for rel in listing(saved)}

    def write_netcdf_then_fail(ds, path):
        Path(path).write_bytes(b"half a netCDF file")
        raise error("killed mid-write")

    monkeypatch.setattr(io, "write_netcdf", write_netcdf_then_fail)
    with pytest.raises(error):
        default_result.save(saved)
    assert {rel: io.sha256(saved / rel) for rel in listing(saved)} == before
    assert io.verify_folder(saved) == []
    assert [p.name for p in saved.parent.iterdir()] == ["plan"]  # staging removed


KILLED_WRITER = """
import sys, time
import pandas as pd
import suandian
result = suandian.read_result(sys.argv[1])
original = pd.DataFrame.to_csv
def slow(self, *args, **kwargs):
    print("writing", flush=True)
    time.sleep(60)
pd.DataFrame.to_csv = slow
result.save(sys.argv[2])
"""


def test_sigkill_mid_write_leaves_the_old_run_whole(saved, tmp_path):
    """A real kill -9 while the new run's CSV files are being written."""
    source = tmp_path / "source"
    source.mkdir()
    (source / "result.nc").write_bytes((saved / "result.nc").read_bytes())
    (source / "kpis.json").write_bytes((saved / "kpis.json").read_bytes())
    before = {rel: io.sha256(saved / rel) for rel in listing(saved)}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(source), str(saved)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "writing"  # result.nc, parquet/ already staged
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert {rel: io.sha256(saved / rel) for rel in listing(saved)} == before
    assert io.verify_folder(saved) == [] and certify_folder(saved) == []
    staged = [p for p in saved.parent.iterdir() if p.name.startswith(".plan.tmp-")]
    assert len(staged) == 1 and (staged[0] / "result.nc").is_file()  # hidden, never final


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_permissions_follow_the_umask(default_result, tmp_path, mask):
    old = os.umask(mask)
    try:
        default_result.save(tmp_path / "plan", formats=("netcdf", "csv"))
        single = io.atomic_write(tmp_path / "x.txt", lambda p: p.write_text("x"))
    finally:
        os.umask(old)
    out = tmp_path / "plan"
    for path in [out, out / "csv"]:
        assert path.stat().st_mode & 0o777 == 0o777 & ~mask, path
    for rel in listing(out):
        assert (out / rel).stat().st_mode & 0o777 == 0o666 & ~mask, rel
    assert single.stat().st_mode & 0o777 == 0o666 & ~mask


def test_infeasible_result_saves_its_diagnosis_and_drops_the_old_plan(saved):
    config = base_config(periods=2)  # 3.85 MW of load, 1 MW of PV only: 50 % is out of reach
    config["interactive"] = [{"name": "web", "demand": 15.0, "sites": ["s1"]}]
    config["renewables"] = [{"name": "pv", "site": "s1", "capacity": 1.0, "profile": 1.0}]
    config["policies"]["green_share"] = {"target": 0.5}
    sc = scenario(config)
    result = suandian.solve(sc)
    assert result.status == "infeasible"
    result.save(saved)
    assert listing(saved) == ["kpis.json", "manifest.json"]
    report = json.loads((saved / "kpis.json").read_text())
    assert report["solver"]["status"] == result.status
    assert report["kpis"] == {}
    assert report["diagnosis"]["findings"]
    assert io.read_manifest(saved)["formats"] == []
    assert certify_folder(saved) == []


def test_check_output_refusals(tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(io.OutputError, match="is a file, not a folder"):
        io.check_output(a_file)
    with pytest.raises(io.OutputError, match="is a file, not a folder"):
        io.check_output(a_file / "sub" / "out")
    other = tmp_path / "home"
    other.mkdir()
    (other / "thesis.tex").write_text("precious")
    with pytest.raises(io.OutputError, match=r"not suandian results \(thesis.tex\)"):
        io.check_output(other)
    with pytest.raises(io.OutputError, match="cannot write in /proc"):
        io.check_output("/proc/suandian-out")
    io.check_output(tmp_path / "new" / "deep" / "out")  # missing folders are fine
    assert not (tmp_path / "new").exists()  # and nothing was created
    io.check_output(tmp_path / "empty")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_check_output_read_only(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        with pytest.raises(io.OutputError, match="read-only"):
            io.check_output(ro)
        with pytest.raises(io.OutputError, match="cannot write in"):
            io.check_output(ro / "out")
    finally:
        ro.chmod(0o755)


def test_save_through_a_symlink_keeps_the_link(default_result, tmp_path):
    real = tmp_path / "real"
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    default_result.save(link, formats=("netcdf",))
    default_result.save(link, formats=("netcdf",))
    assert link.is_symlink() and (real / "manifest.json").is_file()
    assert io.verify_folder(link) == []


def test_save_is_fast_enough(default_result, tmp_path):
    start = time.perf_counter()
    default_result.save(tmp_path / "plan")
    assert time.perf_counter() - start < 120  # a blow-up guard, not a speed budget
