"""Units and descriptions in the outputs: Dataset attributes, Parquet field metadata, CSV at
6 significant digits with its data dictionary (``csv/columns.csv``)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import xarray as xr
from conftest import base_config, solve_ok

from suandian.components import REGISTRY
from suandian.ledgers import COMPONENT as LEDGER
from suandian.policies import POLICIES
from suandian.results import io


def _toy_config() -> dict:
    """The conftest base (one site, 2 blocks, 4 hours) with a battery, a batch job and an
    interactive workload, so that several tables (site_time, storage_time, job, ...) exist."""
    cfg = base_config(periods=4)
    cfg["interactive"] = [{"name": "web", "demand": 5.0, "sites": ["s1"]}]
    cfg["batch"] = [{"name": "train", "work": 20.0, "max_rate": 10.0, "sites": ["s1"]}]
    cfg["storage"] = [
        {"name": "b1", "site": "s1", "power": 1.0, "energy": 2.0, "eta_charge": 0.9,
         "eta_discharge": 0.9}
    ]  # fmt: skip
    return cfg


@pytest.fixture(scope="module")
def toy():
    return solve_ok(_toy_config())


def test_every_declared_output_has_units_and_a_description():
    """Every entry of every component's output table states its units and a description
    (labels have the units ``text``)."""
    missing = [
        f"{c.name}.{o.name}"
        for c in (*REGISTRY, LEDGER, *POLICIES)
        for o in c.outputs
        if not o.unit.strip() or not o.doc.strip()
    ]
    assert not missing, f"outputs without units or description: {missing}"


def test_every_variable_and_column_has_units_and_a_description(toy):
    ds = toy.ds
    bare = [
        str(n)
        for n, v in ds.data_vars.items()
        if not str(v.attrs.get("units", "")).strip()
        or not str(v.attrs.get("description", "")).strip()
    ]
    assert not bare, f"Dataset variables without units or description: {bare}"
    table = io.data_dictionary(ds)
    assert {"site_time", "storage_time", "job"} <= set(table["table"])
    assert (table["units"].str.len() > 0).all() and (table["description"].str.len() > 0).all()
    # one row per column of every table, in the tables' column order
    for group, names in io.groups(ds).items():
        columns = list(io.group_frame(ds, names).columns)
        assert table.loc[table["table"] == group, "column"].tolist() == columns


def test_parquet_fields_carry_units_and_descriptions(toy, tmp_path):
    toy.save(tmp_path, formats=("parquet",))
    ds = toy.ds
    for group, names in io.groups(ds).items():
        schema = pq.read_schema(tmp_path / "parquet" / f"{group}.parquet")
        for name in names:
            meta = schema.field(name).metadata
            assert meta[b"units"].decode() == ds[name].attrs["units"]
            assert meta[b"description"].decode() == ds[name].attrs["description"]
        for dim in ds[names[0]].dims:
            assert schema.field(str(dim)).metadata[b"role"] == b"dimension"
    # the metadata does not change what pandas reads: the values are bit-exact
    frame = pd.read_parquet(tmp_path / "parquet" / "storage_time.parquet")
    expected = io.group_frame(ds, io.groups(ds)["storage_time"])
    pd.testing.assert_frame_equal(frame, expected, check_exact=True)
    assert frame["p_charge"].dtype == np.float64


def test_csv_floats_at_six_significant_digits(tmp_path):
    """Hand-written values and the text ``%.6g`` gives them.

    0.1 * 0.5 + 1e-18 is the float 0.05000000000000000277 (printed 0.050000000000000003 at 17
    digits): 0.05. 1/3: 0.333333. 123456.789 rounds at the 6th digit: 123457. 2.5e-9: 2.5e-09
    (exponent form below 1e-4). 7.0: 7. 0: 0.
    """
    values = [0.1 * 0.5 + 1e-18, 1 / 3, 123456.789, 2.5e-9, 7.0, 0.0]
    ds = xr.Dataset(
        {"x": xr.DataArray(values, dims=("site",), attrs={"units": "MW", "description": "x"})},
        coords={"site": [f"s{i}" for i in range(len(values))]},
    )
    io.write_tables(ds, tmp_path, "csv")
    lines = (tmp_path / "site.csv").read_text().splitlines()
    assert lines == [
        "site,x",
        "s0,0.05",
        "s1,0.333333",
        "s2,123457",
        "s3,2.5e-09",
        "s4,7",
        "s5,0",
    ]
    columns = pd.read_csv(tmp_path / "columns.csv", keep_default_na=False)
    assert columns.to_dict("records") == [
        {
            "table": "site",
            "column": "site",
            "units": "text",
            "description": "data-center site",
            "role": "dimension",
            "component": "",
        },
        {
            "table": "site",
            "column": "x",
            "units": "MW",
            "description": "x",
            "role": "",
            "component": "",
        },
    ]
    assert set(io.read_tables(tmp_path, "csv")) == {"site"}  # the dictionary is no table


def test_csv_of_a_solve_reads_back_within_its_digits(toy, tmp_path):
    toy.save(tmp_path, formats=("csv",))
    frame = pd.read_csv(tmp_path / "csv" / "site_time.csv")
    expected = io.group_frame(toy.ds, io.groups(toy.ds)["site_time"])
    for column in expected.columns:
        if expected[column].dtype.kind == "f":
            np.testing.assert_allclose(frame[column], expected[column], rtol=5e-6, atol=0.0)
    raw = pd.read_csv(tmp_path / "csv" / "site_time.csv", dtype=str, keep_default_na=False)
    for column in expected.columns:
        if expected[column].dtype.kind == "f":
            for cell in raw[column]:
                mantissa = re.sub(r"e[-+]\d+$", "", cell).lstrip("-").replace(".", "")
                assert len(mantissa.lstrip("0")) <= 6, (column, cell)
    assert (tmp_path / "csv" / "columns.csv").is_file()
