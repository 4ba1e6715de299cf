"""Writing and reading results: netCDF, Parquet and CSV, one run per folder.

Layout of a results folder::

    result.nc                 the whole Dataset (decisions, inputs, duals, attrs)
    parquet/<group>.parquet   one long table per group of dimensions, e.g. site_time; each
                              column's units and description in the Parquet field metadata
    csv/<group>.csv           the same tables as CSV, floats at 6 significant digits
    csv/columns.csv           the CSV tables' data dictionary: table, column, units, description
    kpis.json                 the KPIs and the solver report (and the diagnosis, if any)
    manifest.json             the run id and every file above with its size and sha256

A run without a plan (infeasible, solver error) writes ``kpis.json`` and ``manifest.json``
only. The folder is written whole (:func:`write_folder`): every file goes into a staging
folder beside the target (``.<name>.tmp-XXXX``), the manifest last, and the staging folder
then replaces the target in one step (an atomic exchange of the two folders where the
system offers it, else two renames), after which the old folder is deleted. A reader thus
sees either the old run or the new one, never a mix; a kill mid-write leaves the old folder
untouched (and a ``.<name>.tmp-*`` folder that may be deleted). Files and folders get the
permissions of the user's umask.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

FORMATS = ("netcdf", "parquet", "csv")
#: name of the manifest written last into every results folder
MANIFEST = "manifest.json"
#: manifest format tag
MANIFEST_FORMAT = "suandian-results/1"
#: entries a results folder (a result's or a sweep's) may hold; an existing folder with anything
#: else is not replaced
RESULT_ENTRIES = frozenset(
    {
        "result.nc",
        "kpis.json",
        MANIFEST,
        "parquet",
        "csv",
        "sweep.nc",
        "cases.csv",
        "sweep.json",
        # a replay's or a re-plan's folder (suandian replay, suandian replan)
        "first_stage.nc",
        "replay.json",
        "replay_costs.csv",
        "replay_deviations.csv",
        "replan.json",
    }
)


#: ``float_format`` of the CSV tables: 6 significant digits (relative rounding error at most
#: 5e-6), so that a CSV reads as numbers a person can use (``0.05``, not
#: ``0.050000000000000003``); ``result.nc`` and the Parquet tables keep the exact values
CSV_FLOAT_FORMAT = "%.6g"
#: name of the data dictionary written beside the CSV tables
CSV_COLUMNS = "columns"
#: descriptions of the index columns of the tables (Dataset dimensions) and of the labels along
#: a sparse dimension; one not listed is described from its name
DIMENSIONS = {
    "time": "start of the period (the scenario's clock)",
    "site": "data-center site",
    "grant": "one-off capital grant on chosen capacities",
    "node": "grid node",
    "workload": "interactive workload",
    "job": "batch job",
    "cap_point": "breakpoint of the GPU power-cap curve, from 0",
    "run": "entry of the sparse (job, site, period) cells a batch job may run in, from 0",
    "run_job": "job of the run entry",
    "run_site": "site of the run entry",
    "run_period": "period of the run entry, from 0",
    "place": "entry of the (job, site, window) placement choices, from 0",
    "place_job": "job of the placement entry",
    "place_site": "site of the placement entry",
    "place_window": "placement window of the entry, from 0",
    "move": "entry of the (job, from, to, boundary) migrations, from 0",
    "move_job": "job of the migration",
    "move_from": "site the job moves from",
    "move_to": "site the job moves to",
    "move_boundary": "window boundary of the migration, from 0",
    "renewable": "renewable asset",
    "storage": "battery",
    "corridor": "cross-province (UHVDC) corridor",
    "contract": "local green-power contract",
    "block": "entry of the (corridor, window) block purchases, from 0",
    "block_corridor": "corridor of the block entry",
    "block_window": "trading window of the block entry, from 0",
    "tes": "thermal storage tank",
    "recovery": "waste-heat recovery unit",
    "genset": "backup generator",
    "scope": "scope of the green-share target ('portfolio' or a site)",
    "match": "start of the hourly-matching bucket",
    "dr_event": "demand-response event",
    "reserve": "reserve product",
    "provider": "unit offering reserve headroom",
    "network_part": "part of the network charge",
    "self_use_part": "part of the self-used direct energy",
    "meter": "demand-charge meter",
    "bill_month": "calendar month of the bill (YYYY-MM)",
    "ratchet_month": "earlier month the ratchet looks back to",
    "history_month": "month of the stated peak history (YYYY-MM)",
    "cost_term": "per-period cost term",
    "cfe_scope": "scope of the 24/7 CFE score target ('portfolio' or a site)",
    "market": "grid node whose purchase is settled in the spot market",
}


class OutputError(OSError):
    """A results folder that cannot be written (a file, read-only, holds other files)."""


def umask() -> int:
    """The process's umask (read without changing it for good)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``.

    The file gets the permissions of a plain ``open`` under the umask (``0o666 & ~umask``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~umask())
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ------------------------------------------------------------------ results folder
def check_output(directory: str | Path) -> None:
    """Check, without writing anything there, that ``directory`` can receive a results folder.

    The folder may be missing (its nearest existing ancestor must be a writable folder), empty,
    or an earlier results folder (only the entries of :data:`RESULT_ENTRIES`); its parent must
    be writable, since the new folder is staged beside it and swapped in.

    Raises
    ------
    OutputError
        with a message naming the path and what to do.
    """
    target = Path(os.path.realpath(directory))
    if target.exists() or target.is_symlink():
        if not target.is_dir():
            raise OutputError(f"{directory} is a file, not a folder: give a folder for the results")
        if not os.access(target, os.W_OK | os.X_OK):
            raise OutputError(f"{directory} is read-only: give a folder you can write to")
        others = sorted(p.name for p in target.iterdir() if p.name not in RESULT_ENTRIES)
        if others:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise OutputError(
                f"{directory} holds files that are not suandian results ({shown}); the results "
                "folder is replaced whole, so give a new or empty folder, or an earlier results "
                "folder"
            )
    ancestor = target.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutputError(f"{directory}: {ancestor} is a file, not a folder")
    _probe(ancestor, directory)


def _probe(folder: Path, shown) -> None:
    """Create and remove a folder in ``folder`` (permissions alone miss read-only mounts)."""
    try:
        probe = tempfile.mkdtemp(prefix=".suandian-probe-", dir=folder)
    except OSError as exc:
        raise OutputError(
            f"{shown}: cannot write in {folder} ({exc.strerror}): give a folder you can write to"
        ) from None
    os.rmdir(probe)


def write_folder(directory: str | Path, write: Callable[[Path], None], run: dict) -> list[Path]:
    """Write a results folder whole: ``write(staging)``, then the manifest, then swap it in.

    ``run`` goes into the manifest (status, formats, ...) beside the run id and the files.
    Returns the final paths of the files written (the manifest last).
    """
    check_output(directory)
    target = Path(os.path.realpath(directory))
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        write(staging)
        manifest = build_manifest(staging, run)
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        (staging / MANIFEST).write_text(text, encoding="utf-8")
        mode = 0o777 & ~umask()
        os.chmod(staging, mode)
        for sub in staging.rglob("*"):
            if sub.is_dir():
                os.chmod(sub, mode)
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [target / name for name in manifest["files"]] + [target / MANIFEST]


def _swap_in(staging: Path, target: Path) -> None:
    """Put ``staging`` at ``target``; the old ``target`` (if any) is removed afterwards."""
    if not (target.exists() or target.is_symlink()):
        os.rename(staging, target)
        return
    if _exchange(staging, target):  # staging now holds the old run
        shutil.rmtree(staging, ignore_errors=True)
        return
    old = staging.with_name(staging.name.replace(".tmp-", ".old-", 1))
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    code = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if code == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def build_manifest(folder: Path, run: dict) -> dict:
    """Manifest of every file under ``folder`` (sorted POSIX paths), its size and sha256.

    The run id is the sha256 of the file list with their checksums: it names the content.
    """
    files = {}
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel != MANIFEST:
            files[rel] = {"bytes": path.stat().st_size, "sha256": sha256(path)}
    listing = json.dumps(files, sort_keys=True).encode()
    return {
        "format": MANIFEST_FORMAT,
        "run_id": hashlib.sha256(listing).hexdigest()[:16],
        **run,
        "files": files,
    }


def verify_folder(directory: str | Path) -> list[str]:
    """Check a results folder against its manifest; returns the problems (empty if none).

    Every listed file must be present with its size and sha256, no other file may be there,
    and the run id must match the listing.
    """
    folder = Path(directory)
    path = folder / MANIFEST
    if not path.is_file():
        return [f"{MANIFEST} missing: the folder was not written whole by suandian save"]
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        files = dict(manifest["files"])
    except (ValueError, KeyError, TypeError) as exc:
        return [f"{MANIFEST} unreadable ({type(exc).__name__}: {str(exc)[:80]})"]
    problems = []
    if manifest.get("format") != MANIFEST_FORMAT:
        problems.append(
            f"{MANIFEST}: format {manifest.get('format')!r}, expected {MANIFEST_FORMAT!r}"
        )
    listing = json.dumps(files, sort_keys=True).encode()
    if manifest.get("run_id") != hashlib.sha256(listing).hexdigest()[:16]:
        problems.append(f"{MANIFEST}: run_id does not match the file list (edited manifest)")
    for rel, entry in files.items():
        file = folder / rel
        if not file.is_file():
            problems.append(f"{rel}: listed in the manifest but missing")
            continue
        size = file.stat().st_size
        if size != entry.get("bytes"):
            problems.append(f"{rel}: {size} bytes, the manifest says {entry.get('bytes')}")
        elif sha256(file) != entry.get("sha256"):
            problems.append(f"{rel}: sha256 differs from the manifest (file changed)")
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = file.relative_to(folder).as_posix()
        if rel != MANIFEST and rel not in files:
            problems.append(f"{rel}: not part of this run (not in the manifest)")
    return problems


def read_manifest(directory: str | Path) -> dict:
    """The manifest of a results folder."""
    return json.loads((Path(directory) / MANIFEST).read_text(encoding="utf-8"))


# ------------------------------------------------------------------------- files
def groups(ds: xr.Dataset) -> dict[str, list[str]]:
    """Variables of a Dataset grouped by their dimensions, e.g. ``{'site_time': [...]}``."""
    out: dict[str, list[str]] = {}
    variables = ds.variables  # not ds.data_vars.items(): a DataArray per variable (slow)
    for name in ds.data_vars:
        dims = variables[name].dims
        out.setdefault("_".join(str(d) for d in dims) or "scalar", []).append(str(name))
    return out


def group_frame(ds: xr.Dataset, names: list[str]) -> pd.DataFrame:
    """Long table of variables sharing dimensions (index columns first)."""
    frame = ds[names].to_dataframe()
    return frame.reset_index() if ds.variables[names[0]].dims else frame.reset_index(drop=True)


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


def write_arrays(ds: xr.Dataset, path: Path) -> Path:
    """Write a Dataset as an uncompressed ``.npz`` of plain arrays, atomically (a checkpoint).

    Fast (no per-variable netCDF overhead) and safe to read (no pickles): numbers, booleans
    and timestamps as they are, labels as fixed-width text, names, dimensions and attributes
    as a JSON document in the same file. Read back with :func:`read_arrays`.
    """
    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {"attrs": dict(ds.attrs), "variables": []}
    for i, (name, var) in enumerate(ds.variables.items()):
        values = np.asarray(var.values)
        text = values.dtype == object
        arrays[f"a{i}"] = values.astype(str) if text else values
        meta["variables"].append(
            {
                "name": str(name),
                "dims": list(var.dims),
                "attrs": dict(var.attrs),
                "text": bool(text),
                "coord": name in ds.coords,
            }
        )
    blob = json.dumps(meta, default=_plain).encode("utf-8")
    arrays["meta"] = np.frombuffer(blob, dtype=np.uint8)

    def write(tmp: Path) -> None:
        save: Callable[..., None] = np.savez  # its stub reads **arrays as its own options
        with open(tmp, "wb") as handle:
            save(handle, **arrays)

    return atomic_write(Path(path), write)


def read_arrays(path: Path) -> xr.Dataset:
    """Read a Dataset written by :func:`write_arrays`."""
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(bytes(data["meta"]).decode("utf-8"))
        coords: dict[str, Any] = {}
        variables: dict[str, Any] = {}
        for i, v in enumerate(meta["variables"]):
            values = data[f"a{i}"]
            if v["text"]:
                values = values.astype(object)
            target = coords if v["coord"] else variables
            target[v["name"]] = xr.Variable(v["dims"], values, attrs=v["attrs"])
    return xr.Dataset(variables, coords=coords, attrs=meta["attrs"])


def _plain(value: Any) -> Any:
    """JSON form of numpy scalars and arrays in attributes."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"attribute of type {type(value).__name__} cannot be checkpointed")


def _label_units(values: xr.DataArray | xr.Variable) -> str:
    kind = values.dtype.kind
    return "time" if kind == "M" else "index" if kind in "iu" else "text"


def column_metadata(ds: xr.Dataset, names: list[str]) -> dict[str, dict[str, str]]:
    """Units, description, role and component of each column of a group's table.

    In the order of :func:`group_frame`'s columns: the index columns (the variables'
    dimensions), the variables, with their attributes ``units``, ``description``, ``role``
    and ``component``, then the labels along the dimensions (e.g. ``run_job`` of a sparse
    dimension ``run``). Labels have the units ``text``, ``index`` (a position, from 0) or ``time``.
    """
    out: dict[str, dict[str, str]] = {}
    # xarray Variables, not DataArrays: ds[name] gathers the coordinates of every variable of
    # the Dataset each time (0.4 ms on the default day's, 7,000 calls for its 108 tables)
    variables = ds.variables
    dims = [str(d) for d in variables[names[0]].dims]
    for dim in dims:
        out[dim] = {
            "units": _label_units(variables[dim]),
            "description": DIMENSIONS.get(dim, f"name of the {dim.replace('_', ' ')}"),
            "role": "dimension",
            "component": "",
        }
    for name in names:
        attrs = variables[name].attrs
        out[name] = {
            key: str(attrs.get(key, "")) for key in ("units", "description", "role", "component")
        }
    for key in ds.coords:
        label, coord = str(key), variables[key]
        if label not in ds.dims and coord.dims and set(coord.dims) <= set(dims):
            dim = str(coord.dims[0])
            what = label.removeprefix(f"{dim}_").replace("_", " ")
            out[label] = {
                "units": _label_units(coord),
                "description": DIMENSIONS.get(label, f"{what} of the {dim} entry"),
                "role": "label",
                "component": "",
            }
    return out


def data_dictionary(ds: xr.Dataset) -> pd.DataFrame:
    """One row per column of every table: table, column, units, description, role, component."""
    rows = [
        {"table": group, "column": column, **meta}
        for group, names in groups(ds).items()
        for column, meta in column_metadata(ds, names).items()
    ]
    columns = ["table", "column", "units", "description", "role", "component"]
    return pd.DataFrame(rows, columns=columns)


def _write_parquet(frame: pd.DataFrame, meta: dict[str, dict[str, str]], path: Path) -> None:
    """Write a table to Parquet with each field's units and description in its metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = [
        field.with_metadata({k: v for k, v in meta.get(field.name, {}).items() if v})
        for field in table.schema
    ]
    schema = pa.schema(fields, metadata=table.schema.metadata)
    pq.write_table(table.cast(schema), path)


def write_tables(
    ds: xr.Dataset, directory: Path, fmt: str, frames: dict[str, pd.DataFrame] | None = None
) -> list[Path]:
    """Write one Parquet or CSV table per group of dimensions, atomically.

    Parquet: every field carries ``units``, ``description``, ``role`` and ``component`` in its
    metadata (:func:`column_metadata`; read them with ``pyarrow.parquet.read_schema``). CSV:
    floats at :data:`CSV_FLOAT_FORMAT`, and the data dictionary of all the tables in
    ``columns.csv`` (:func:`data_dictionary`). ``frames`` caches the tables between formats
    (filled here when given empty).
    """
    written = []
    frames = {} if frames is None else frames
    for group, names in groups(ds).items():
        if group not in frames:
            frames[group] = group_frame(ds, names)
        frame = frames[group]
        if fmt == "parquet":
            path = Path(directory) / f"{group}.parquet"
            meta = column_metadata(ds, names)
            written.append(atomic_write(path, partial(_write_parquet, frame, meta)))
        else:
            path = Path(directory) / f"{group}.csv"
            write = partial(frame.to_csv, index=False, float_format=CSV_FLOAT_FORMAT)
            written.append(atomic_write(path, write))
    if fmt == "csv":
        path = Path(directory) / f"{CSV_COLUMNS}.csv"
        written.append(atomic_write(path, partial(data_dictionary(ds).to_csv, index=False)))
    return written


def read_tables(directory: Path, fmt: str) -> dict[str, pd.DataFrame]:
    """Read the tables written by :func:`write_tables`, keyed by group name.

    The CSV data dictionary (``columns.csv``) is not a table of the Dataset and is skipped.
    """
    suffix = ".parquet" if fmt == "parquet" else ".csv"
    out = {}
    for path in sorted(Path(directory).glob(f"*{suffix}")):
        if fmt == "parquet":
            out[path.stem] = pd.read_parquet(path)
        elif path.stem != CSV_COLUMNS:
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
