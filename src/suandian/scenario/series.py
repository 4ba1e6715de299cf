"""Time series: reading CSV files and aligning them to the horizon, explicitly.

Rules (see ``docs/scenario-format.md``):

* A table with a ``time`` column is aligned by timestamp: every period of the horizon must be
  present. Rows outside the horizon are not used (selection by label, not truncation).
  With ``horizon.upsample: hold`` a coarser series (e.g. hourly for a 15-min horizon) is held
  constant over the periods it covers.
* A table without a ``time`` column is positional: it must have exactly ``periods`` rows.
* No NaN may remain after alignment; every value is a finite number (no infinity, no
  true/false).
* Rows before the horizon are kept apart as its history (``Scenario.history``), for the
  rules that look back (the DR baseline of the previous like days); a time-indexed table
  whose rows all lie before the horizon is history only and is not aligned.
* Timestamps with a UTC offset (``2026-07-15 00:00+08:00``) are read as the local time of
  that offset when every row has the same offset (a naive horizon is local time); mixed
  offsets are refused. With a horizon ``start`` carrying an offset, the series are
  converted to it.
* Files are read only from inside the scenario's folder, the ``data/`` folder beside it
  (``models/x.yaml`` may read ``../data/y.csv``), or an allowed data root: absolute paths
  and paths leading out (``..``, symlinks) are refused, and nothing of them is read.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import Problem


def data_roots_for(base: Path, data_roots: Sequence[str | Path] = ()) -> list[Path]:
    """Folders series files may be read from.

    ``base`` (the scenario's folder), the ``data/`` folder beside it (the project layout:
    ``models/`` beside ``data/``), ``data_roots`` and the folders of the
    ``SUANDIAN_DATA_ROOTS`` variable (separated by ``os.pathsep``).
    """
    env = [Path(p) for p in os.environ.get("SUANDIAN_DATA_ROOTS", "").split(os.pathsep) if p]
    base = Path(base).absolute()
    return [base, base.parent / "data", *(Path(r) for r in data_roots), *env]


def horizon_index(start, periods: int, resolution: str) -> pd.DatetimeIndex:
    """Return the period start times of a horizon."""
    return pd.date_range(pd.Timestamp(start), periods=periods, freq=resolution, name="time")


#: Largest series file read, in bytes.
MAX_SERIES_BYTES = 500_000_000


def resolve_series_path(
    file: str, base: Path, roots: list[Path], label: str
) -> tuple[Path | None, list[Problem]]:
    """The path of a ``series:`` file, if it resolves inside one of the allowed ``roots``.

    ``file`` is relative to ``base``; ``roots`` are the folders files may be read from
    (the scenario's folder, the ``data/`` folder beside it, and any allowed data roots).
    Absolute paths and paths leading out of every root (``..``, symlinks) are refused
    without reading anything.
    """
    shown = file if len(file) <= 120 else file[:117] + "..."
    given = Path(file)
    if (given.is_absolute() or given.drive) and not _inside(given, roots):
        return None, [
            Problem(
                label,
                shown,
                "absolute path refused: series files are read from the scenario's folder; "
                "copy the file next to the YAML file and give its relative path",
            )
        ]
    try:
        path = (base / given).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None, [Problem(label, shown, "cannot be resolved (symlink loop?); fix the path")]
    for root in roots:
        try:
            if path.is_relative_to(root.resolve()):
                return path, []
        except (OSError, RuntimeError):
            continue
    return None, [
        Problem(
            label,
            shown,
            "refused: the path leads outside the scenario's folder and the data/ folder "
            "beside it (through '..' or a symlink); copy the file into the scenario's "
            "folder, or allow its folder (load_scenario(data_roots=[...]) or the "
            "SUANDIAN_DATA_ROOTS variable)",
        )
    ]


def _inside(path: Path, roots: list[Path]) -> bool:
    try:
        real = path.resolve()
        return any(real.is_relative_to(root.resolve()) for root in roots)
    except (OSError, RuntimeError):
        return False


def read_series_file(
    path: Path, label: str, shown: str | None = None
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one CSV file of series; a ``time`` column, if present, becomes the index.

    Problems name the file as ``shown`` (default: the path) and never quote its content
    beyond a short excerpt of a bad timestamp.
    """
    shown = str(path) if shown is None else shown

    def problem(message: str, field: str = label) -> tuple[None, list[Problem]]:
        return None, [Problem(field, shown, message)]

    if not path.exists():
        return problem("file not found; fix the path (relative to the YAML file)")
    if path.is_dir():
        return problem("is a directory, not a CSV file; name the file")
    try:
        size = path.stat().st_size
        if size > MAX_SERIES_BYTES:
            return problem(f"file of {size} bytes, above {MAX_SERIES_BYTES}; split it")
        with path.open("rb") as handle:
            head = handle.read(8192)
    except OSError as exc:
        return problem(f"cannot be read ({exc.strerror or type(exc).__name__}); check it")
    if not head.strip():
        return problem("the file is empty; write a header row and one row per period")
    if b"\0" in head:
        return problem("binary file, not CSV text; give a CSV file (comma-separated, UTF-8)")
    try:
        frame = pd.read_csv(path, encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        return problem(f"not UTF-8 text (position {exc.start}); save the file as UTF-8 CSV")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return problem(f"cannot be read as CSV ({text[:120]}); check the commas and the header")
    if "time" in frame.columns:
        frame, found = _time_index(frame, label, shown)
        if found:
            return None, found
    return frame, []


def _time_index(frame: pd.DataFrame, label: str, shown: str) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse the ``time`` column into the index; one fixed UTC offset becomes local time."""
    column = frame["time"]
    try:
        times = pd.to_datetime(column)
    except (ValueError, TypeError) as exc:
        if "timezone" in str(exc).lower() or "offset" in str(exc).lower():
            offsets = sorted({str(t)[-6:] for t in column.astype(str) if "+" in str(t)[-6:]})
            return frame, [
                Problem(
                    f"{label}:time",
                    shown,
                    "timestamps carry different UTC offsets"
                    + (f" ({', '.join(offsets[:4])})" if offsets else "")
                    + "; write them all in the horizon's local time, with one offset or none",
                )
            ]
        bad = next((str(t) for t in column if _unparsable(t)), "")
        return frame, [
            Problem(
                f"{label}:time",
                shown,
                f"timestamps cannot be parsed (first bad one {bad[:30]!r}); write them as "
                "'2026-07-15 00:00' (or with a UTC offset, '2026-07-15 00:00+08:00')",
            )
        ]
    frame = frame.drop(columns="time")
    frame.index = pd.DatetimeIndex(times, name="time")
    return frame, []


def _unparsable(value) -> bool:
    try:
        pd.Timestamp(value)
    except (ValueError, TypeError):
        return True
    return False


def _match_zone(
    frame_index: pd.DatetimeIndex, index: pd.DatetimeIndex, label: str
) -> tuple[pd.DatetimeIndex | None, list[Problem]]:
    """Express a series' timestamps in the horizon's time zone (naive = local time)."""
    if frame_index.tz is None and index.tz is None:
        return frame_index, []
    if frame_index.tz is not None and index.tz is None:
        # one fixed offset for every row: its wall-clock time is the local time
        return frame_index.tz_localize(None), []
    if frame_index.tz is not None:
        return frame_index.tz_convert(index.tz), []
    return None, [
        Problem(
            f"{label}:time",
            "no UTC offset",
            f"the horizon starts at {index[0]} (with a UTC offset) but the series' timestamps "
            "have none; add the offset to the timestamps or remove it from horizon.start",
        )
    ]


def history_rows(
    frame: pd.DataFrame, index: pd.DatetimeIndex, label: str
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """The rows of a time-indexed table before the horizon ``index`` (its history), as numbers.

    Timestamps are read in the horizon's time zone as :func:`align_series` reads them;
    values that are not numbers become NaN (a rule reading them finds no value there).
    """
    if not isinstance(frame.index, pd.DatetimeIndex):
        return None, [
            Problem(
                label,
                f"{len(frame)} rows",
                "history rows need timestamps: index the table by time (a 'time' column)",
            )
        ]
    zoned, found = _match_zone(frame.index, index, label)
    if zoned is None:
        return None, found
    before = zoned < index[0]
    rows = frame if before.all() and zoned is frame.index else frame.loc[before]
    if zoned is not frame.index:
        rows = rows.set_axis(zoned[before], axis=0)
    if not all(dtype.kind == "f" for dtype in rows.dtypes):
        rows = rows.apply(pd.to_numeric, errors="coerce").astype(float)
    if rows.index.has_duplicates:
        rows = rows[~rows.index.duplicated(keep="last")]
    if not rows.index.is_monotonic_increasing:
        rows = rows.sort_index()
    rows = rows.copy() if rows is frame else rows  # never share the caller's table
    rows.index.name = "time"
    return rows, []


def align_series(
    frame: pd.DataFrame, index: pd.DatetimeIndex, upsample: str, label: str
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Align a table of series to the horizon ``index``.

    Returns the aligned table (same index as the horizon) and the problems found.
    """
    problems: list[Problem] = []
    n = len(index)
    if not isinstance(frame.index, pd.DatetimeIndex):
        if len(frame) != n:
            return None, [
                Problem(
                    label,
                    f"{len(frame)} rows",
                    f"wrong series length: the horizon has {n} periods; give exactly {n} rows "
                    "or add a 'time' column so rows are aligned by timestamp",
                )
            ]
        aligned = frame.reset_index(drop=True)
        aligned.index = index
    else:
        zoned, found = _match_zone(frame.index, index, label)
        if zoned is None:
            return None, found
        frame = frame.set_axis(zoned, axis=0)
        if frame.index.has_duplicates:
            dup = frame.index[frame.index.duplicated()][0]
            return None, [
                Problem(f"{label}:time", str(dup), "duplicate timestamp; keep one row per time")
            ]
        frame = frame.sort_index()
        missing = index.difference(frame.index)
        if not len(missing):
            aligned = frame.loc[index]
        elif upsample == "hold":
            end = frame.index[-1] + _step(frame.index, index)
            covered = (index >= frame.index[0]) & (index < end)
            if not covered.all():
                return None, [
                    Problem(
                        f"{label}:time",
                        str(index[~covered][0]),
                        f"series does not cover the horizon ({int((~covered).sum())} of {n} "
                        f"periods outside it); extend the file to cover {index[0]} .. {index[-1]}",
                    )
                ]
            aligned = frame.reindex(frame.index.union(index)).ffill().reindex(index)
        else:
            return None, [
                Problem(
                    f"{label}:time",
                    f"{len(missing)} missing, first {missing[0]}",
                    f"wrong series length: {len(missing)} of the horizon's {n} periods have no "
                    "row; add rows for every period, or set horizon.upsample: hold if the "
                    "series is coarser than the horizon",
                )
            ]
    for column in aligned.columns:
        raw = aligned[column]
        mixed = raw.dtype == object  # only a column of Python objects can hide a boolean
        if raw.dtype == bool or (
            mixed and raw.map(lambda v: isinstance(v, (bool, np.bool_))).any()
        ):
            problems.append(
                Problem(
                    f"{label}:{column}",
                    "true/false values",
                    "booleans are not numbers; write the values as numbers (1.0 / 0.0)",
                )
            )
            aligned[column] = np.nan
            continue
        values = pd.to_numeric(raw, errors="coerce")
        bad = values.isna().to_numpy()
        if bad.any():
            first = index[int(np.argmax(bad))]
            problems.append(
                Problem(
                    f"{label}:{column}",
                    f"{int(bad.sum())} NaN/non-numeric, first at {first}",
                    "fill the gaps with numbers (interpolate or repeat the last value) "
                    "before loading",
                )
            )
        infinite = np.isinf(values.to_numpy(dtype=float))
        if infinite.any():
            first = index[int(np.argmax(infinite))]
            problems.append(
                Problem(
                    f"{label}:{column}",
                    f"{int(infinite.sum())} infinite, first at {first}",
                    "not a finite number; write the actual values (a finite number each period)",
                )
            )
        aligned[column] = values
    return aligned.astype(float), problems


def _step(source: pd.DatetimeIndex, target: pd.DatetimeIndex) -> pd.Timedelta:
    """Return the step of a source series (its smallest spacing), or the horizon's."""
    if len(source) > 1:
        return pd.Series(source).diff().dropna().min()
    return target[1] - target[0] if len(target) > 1 else pd.Timedelta("1h")
