"""Results written atomically and read back exactly (netCDF, Parquet, CSV)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import suandian
from suandian.results import io


def test_netcdf_round_trip_is_exact(default_result, tmp_path):
    default_result.save(tmp_path, formats=("netcdf",))
    back = suandian.read_result(tmp_path)
    xr.testing.assert_identical(back.ds, default_result.ds)
    assert back.certify() == default_result.certify() == []
    assert back.kpis["cost"] == default_result.kpis["cost"]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_tables_round_trip(default_result, tmp_path, fmt):
    """Parquet reads back bit-exact; CSV within its 6 significant digits (``%.6g`` rounds to
    a relative error of at most 0.5e-5, and writes 0 as 0)."""
    default_result.save(tmp_path, formats=(fmt,))
    tables = io.read_tables(tmp_path / fmt, fmt)
    ds = default_result.ds
    groups = io.groups(ds)
    assert set(tables) == set(groups)
    for group, names in groups.items():
        expected = io.group_frame(ds, names)
        got = tables[group]
        assert list(got.columns) == list(expected.columns)
        for column in expected.columns:
            a, b = expected[column].to_numpy(), got[column].to_numpy()
            if a.dtype.kind == "f" and fmt == "parquet":
                np.testing.assert_array_equal(a, b.astype(float))  # bit-exact floats
            elif a.dtype.kind == "f":
                np.testing.assert_allclose(b.astype(float), a, rtol=5e-6, atol=0.0)
            elif a.dtype.kind == "M":
                assert (pd.to_datetime(b) == pd.to_datetime(a)).all()
            else:
                assert [str(x) for x in a] == [str(x) for x in b]


def test_atomic_write_leaves_old_file_when_writer_fails(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")

    def failing(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        io.atomic_write(target, failing)
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_unknown_format_is_refused(default_result, tmp_path):
    with pytest.raises(ValueError, match="unknown format"):
        default_result.save(tmp_path, formats=("xlsx",))
