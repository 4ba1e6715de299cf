"""Writing and reading results: netCDF, Parquet and CSV, each written atomically.

Layout of a results directory::

    result.nc                 the whole Dataset (decisions, inputs, duals, attrs)
    parquet/<group>.parquet   one long table per group of dimensions, e.g. site_time
    csv/<group>.csv           the same tables as CSV (floats written round-trip exact)
    kpis.json                 the KPIs and the solver report

A file is first written under a temporary name in the same directory and then renamed,
so a reader never sees a half-written file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

FORMATS = ("netcdf", "parquet", "csv")


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def groups(ds: xr.Dataset) -> dict[str, list[str]]:
    """Variables of a Dataset grouped by their dimensions, e.g. ``{'site_time': [...]}``."""
    out: dict[str, list[str]] = {}
    for name, da in ds.data_vars.items():
        out.setdefault("_".join(da.dims) or "scalar", []).append(str(name))
    return out


def group_frame(ds: xr.Dataset, names: list[str]) -> pd.DataFrame:
    """Long table of variables sharing dimensions (index columns first)."""
    frame = ds[names].to_dataframe()
    return frame.reset_index() if ds[names[0]].dims else frame.reset_index(drop=True)


def write_netcdf(ds: xr.Dataset, path: Path) -> Path:
    """Write a Dataset to netCDF atomically."""
    return atomic_write(Path(path), lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"))


def read_netcdf(path: Path) -> xr.Dataset:
    """Read a result Dataset from netCDF (loaded into memory, file closed)."""
    with xr.open_dataset(path, engine="netcdf4") as ds:
        out = ds.load()
    for name in list(out.variables):
        if out[name].dtype.kind in "SU":
            out[name] = out[name].astype(object)
    return out


def write_tables(
    ds: xr.Dataset, directory: Path, fmt: str, frames: dict[str, pd.DataFrame] | None = None
) -> list[Path]:
    """Write one Parquet or CSV table per group of dimensions, atomically.

    ``frames`` caches the tables between formats (filled here when given empty).
    """
    written = []
    frames = {} if frames is None else frames
    for group, names in groups(ds).items():
        if group not in frames:
            frames[group] = group_frame(ds, names)
        frame = frames[group]
        if fmt == "parquet":
            path = Path(directory) / f"{group}.parquet"
            written.append(atomic_write(path, lambda tmp, f=frame: f.to_parquet(tmp, index=False)))
        else:
            path = Path(directory) / f"{group}.csv"
            written.append(
                atomic_write(
                    path, lambda tmp, f=frame: f.to_csv(tmp, index=False, float_format="%.17g")
                )
            )
    return written


def read_tables(directory: Path, fmt: str) -> dict[str, pd.DataFrame]:
    """Read the tables written by :func:`write_tables`, keyed by group name."""
    suffix = ".parquet" if fmt == "parquet" else ".csv"
    out = {}
    for path in sorted(Path(directory).glob(f"*{suffix}")):
        if fmt == "parquet":
            out[path.stem] = pd.read_parquet(path)
        else:
            out[path.stem] = pd.read_csv(
                path, parse_dates=["time"] if "time" in path.stem else False
            )
    return out


def write_json(data: dict, path: Path) -> Path:
    """Write a JSON document atomically (NaN written as null)."""
    text = json.dumps(_clean(data), indent=2, ensure_ascii=False)
    return atomic_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _clean(value):
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value
