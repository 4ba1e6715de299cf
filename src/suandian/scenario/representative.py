"""Representative days: a year of hourly series reduced to a few weighted days.

Math: ``docs/math/run_modes.md`` ("Representative periods"). The days of the series are
clustered by Ward's hierarchical clustering on their profiles (each column scaled to 0..1 over
the year, every hour of the day a feature), and each cluster is represented by its medoid: the
real day nearest to the others of its cluster (not a mean: a medoid keeps the joint shape of
wind, sun and load of one day). A representative day's weight is the number of days of its
cluster, so the weighted year has the year's days. This is the configuration tsam calls
``clusterMethod="hierarchical"`` with ``representationMethod="medoidRepresentation"``
(Kotzur et al. 2018, "Impact of different time series aggregation methods on optimal energy
system design", Renewable Energy 117), written on scipy, a dependency already, because tsam's
releases cap pandas and highspy below the versions this project is locked to (tsam 4.1.1:
``pandas<=3.0.5``, ``highspy<=1.15.1``; requirements/ci-lock.txt: pandas 3.1.1, highspy
1.16.0).

:func:`representative_days` clusters; :meth:`RepresentativeDays.scenario` writes the reduced
scenario (``horizon.periods`` = days x periods a day, ``horizon.weights`` the series
``rep_weight``, ``horizon.cycle_periods`` a day: stored energy wraps around within each day);
:meth:`RepresentativeDays.expand` maps a plan's hourly values back onto the year's days.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: name of the weight series the reduced scenario reads (``horizon.weights``)
WEIGHT = "rep_weight"


@dataclass(frozen=True)
class RepresentativeDays:
    """Representative days of a series and the days each stands for.

    Attributes
    ----------
    days : pandas.DatetimeIndex
        Start of each representative day (a real day of the series), in the order of the
        reduced horizon.
    weights : numpy.ndarray
        (n,) days each representative stands for (its cluster's size); they sum to the days
        of the series.
    assignment : numpy.ndarray
        (days,) index of the representative of each day of the series.
    periods_per_day : int
        Periods of a day (24 at 1 h).
    """

    days: pd.DatetimeIndex
    weights: np.ndarray
    assignment: np.ndarray
    periods_per_day: int

    def series(self, frame: pd.DataFrame, start: pd.Timestamp | str) -> pd.DataFrame:
        """The representative days' rows of ``frame``, one after the other from ``start``.

        With the column :data:`WEIGHT` (days each period's day stands for).
        """
        L = self.periods_per_day
        rows = []
        for day in self.days:
            at = frame.index.get_loc(day)
            rows.append(frame.iloc[at : at + L])
        out = pd.concat(rows)
        out.index = pd.date_range(pd.Timestamp(start), periods=len(out), freq=frame.index.freq)
        out[WEIGHT] = np.repeat(self.weights.astype(float), L)
        return out

    def expand(self, values: np.ndarray) -> np.ndarray:
        """Per-period values of the reduced horizon mapped onto every day of the series.

        ``values`` (representative days x L,); each day takes its representative's:
        (days x L,).
        """
        L = self.periods_per_day
        per_day = np.asarray(values, float).reshape(len(self.days), L)
        return per_day[self.assignment].reshape(-1)

    def scenario(
        self, raw: dict[str, Any], frame: pd.DataFrame, start: pd.Timestamp | str | None = None
    ) -> tuple[dict[str, Any], pd.DataFrame]:
        """A raw scenario of the year reduced to the representative days, and its series.

        ``horizon.periods`` = representative days x :attr:`periods_per_day`,
        ``horizon.weights`` = :data:`WEIGHT`, ``horizon.cycle_periods`` = a day, ``start``
        (default: the horizon's) the first day's start; ``series`` (the files) is replaced
        by the returned frame. Calendar rules (TOU bands by hour) see each day's hours as in
        the year; rules by month (critical-peak months, billing months) see the stitched
        dates, not the represented ones.
        """
        out = copy.deepcopy(raw)
        horizon = out.setdefault("horizon", {})
        first = pd.Timestamp(start if start is not None else horizon["start"])
        horizon["start"] = first.to_pydatetime()
        horizon["periods"] = len(self.days) * self.periods_per_day
        horizon["weights"] = WEIGHT
        horizon["cycle_periods"] = self.periods_per_day
        out.pop("series", None)
        return out, self.series(frame, first)


def representative_days(
    frame: pd.DataFrame, n: int, columns: list[str] | None = None
) -> RepresentativeDays:
    """Cluster the days of ``frame`` into ``n`` representative days (Ward, medoids).

    Parameters
    ----------
    frame : pandas.DataFrame
        Series at a fixed step over whole days (a DatetimeIndex with a frequency, e.g. the
        8,760 h of a year).
    n : int
        Representative days, ``1 <= n <= days``.
    columns : list of str, optional
        Columns the clustering reads (default: all); each scaled to 0..1 over the frame, so
        that MW and per-unit profiles weigh alike.

    Raises
    ------
    ValueError
        For a frame that is not whole days at a fixed step, or ``n`` out of range, naming
        the value and the fix.
    """
    from scipy.cluster.hierarchy import fcluster, linkage

    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.freq is None:
        raise ValueError(
            "representative_days: the frame needs a DatetimeIndex at a fixed step "
            "(frame.asfreq('1h')), got an index without a frequency"
        )
    step = pd.Timedelta(frame.index.freq)
    L = int(pd.Timedelta("1D") / step)
    if len(frame) % L or frame.index[0] != frame.index[0].normalize():
        raise ValueError(
            f"representative_days: the frame must be whole days from midnight ({L} periods "
            f"a day), got {len(frame)} periods from {frame.index[0]}; cut it to whole days"
        )
    days = len(frame) // L
    if not 1 <= n <= days:
        raise ValueError(f"representative_days: n = {n} must be within 1 .. {days} (the days)")
    cols = list(frame.columns) if columns is None else list(columns)
    x = frame[cols].to_numpy(float)
    span = x.max(axis=0) - x.min(axis=0)
    x = (x - x.min(axis=0)) / np.where(span > 0, span, 1.0)
    features = x.reshape(days, L * len(cols))
    if n == days:
        labels = np.arange(days)
    else:
        labels = fcluster(linkage(features, method="ward"), n, criterion="maxclust") - 1
    reps, weights = [], []
    for k in np.unique(labels):
        members = np.flatnonzero(labels == k)
        d = np.linalg.norm(features[members, None, :] - features[None, members, :], axis=2)
        reps.append(int(members[np.argmin(d.sum(axis=1))]))
        weights.append(len(members))
    order = np.argsort(reps)  # the representatives in calendar order
    reps_sorted = np.asarray(reps)[order]
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    starts = frame.index[::L]
    return RepresentativeDays(
        days=pd.DatetimeIndex(starts[reps_sorted]),
        weights=np.asarray(weights, float)[order],
        assignment=rank[np.unique(labels, return_inverse=True)[1]],
        periods_per_day=L,
    )


__all__ = ["WEIGHT", "RepresentativeDays", "representative_days"]
