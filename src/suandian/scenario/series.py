"""Time series: reading CSV files and aligning them to the horizon, explicitly.

Rules (see ``docs/scenario-format.md``):

* A table with a ``time`` column is aligned by timestamp: every period of the horizon must be
  present. Rows outside the horizon are not used (selection by label, not truncation).
  With ``horizon.upsample: hold`` a coarser series (e.g. hourly for a 15-min horizon) is held
  constant over the periods it covers.
* A table without a ``time`` column is positional: it must have exactly ``periods`` rows.
* No NaN may remain after alignment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .errors import Problem


def horizon_index(start, periods: int, resolution: str) -> pd.DatetimeIndex:
    """Return the period start times of a horizon."""
    return pd.date_range(pd.Timestamp(start), periods=periods, freq=resolution, name="time")


def read_series_file(path: Path, label: str) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one CSV file of series; a ``time`` column, if present, becomes the index."""
    if not path.exists():
        return None, [
            Problem(label, str(path), "file not found; fix the path (relative to the YAML file)")
        ]
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        return None, [Problem(label, str(path), f"cannot be read as CSV ({exc})")]
    if "time" in frame.columns:
        try:
            frame["time"] = pd.to_datetime(frame["time"])
        except (ValueError, TypeError) as exc:
            return None, [
                Problem(f"{label}:time", str(path), f"timestamps cannot be parsed ({exc})")
            ]
        frame = frame.set_index("time")
    return frame, []


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
        values = pd.to_numeric(aligned[column], errors="coerce")
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
        aligned[column] = values
    return aligned.astype(float), problems


def _step(source: pd.DatetimeIndex, target: pd.DatetimeIndex) -> pd.Timedelta:
    """Return the step of a source series (its smallest spacing), or the horizon's."""
    if len(source) > 1:
        return pd.Series(source).diff().dropna().min()
    return target[1] - target[0] if len(target) > 1 else pd.Timedelta("1h")
