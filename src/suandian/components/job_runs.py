"""Running, restarts and minimum run lengths of batch jobs.

Math: ``docs/math/datacenter.md`` (section "Restarts and minimum run lengths"). Called from
the data-center family's build; the outputs are declared in dc's output table. Only jobs with
a ``restart_cost``, a ``min_run_hours`` or a ``min_rate`` get columns: a binary ``z_job`` per
(job, period of its window) — the job runs — and ``s_job`` — it starts — with rows
``job_running`` (rate <= max_rate x z), ``job_floor`` (rate >= min_rate x z), ``job_start``
(s >= z - z before) and ``job_min_run`` (starts in the last U periods <= z).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..checks import Rows
from ..component import FamilyBuilder
from ..linear import Expr


def _min_run_window(var, periods: np.ndarray) -> Expr:
    """``sum_{k=0}^{U_j - 1} var[j, t - k]`` per (job, period); cells without a column drop."""
    total = var.expr()
    for k in range(1, int(periods.max(initial=1))):
        shifted = var.shift(1, k) * (k < periods).astype(float)[:, None]
        keep = shifted.val != 0.0
        total = total + Expr(shifted.shape, shifted.row[keep], shifted.col[keep], shifted.val[keep])
    return total


def build_job_runs(
    fb: FamilyBuilder,
    jobs,
    release: np.ndarray,
    deadline: np.ndarray,
    run_job: np.ndarray,
    run_t: np.ndarray,
    x_run,
    max_rate: np.ndarray,
    scale: float,
) -> None:
    """Add ``z_job``, ``s_job`` and their rows for the jobs that track their runs."""
    T, dt = fb.ctx.T, fb.ctx.dt
    J = len(jobs)
    tracked = np.array([j.tracks_runs for j in jobs], dtype=bool)
    floor = np.array([j.floor_rate if j.tracks_runs else 0.0 for j in jobs], dtype=float)
    periods = np.array([int(np.ceil(j.min_run_hours / dt - 1e-9)) for j in jobs], dtype=np.int64)
    cost = np.array([j.restart_cost for j in jobs], dtype=float)
    fb.input("job_min_rate", floor)
    fb.input("job_min_run_periods", periods)
    fb.input("job_restart_cost", cost)
    if not tracked.any():
        # no (job, period) cells at all: a year of 10 sites has ~3,650 jobs x 8,760 h, 32 M
        # cells per array that would all be masked out (measured: 1.2 GB and 4 s of build
        # for nothing); the Dataset then has no z_job / s_job, which the checks allow
        return
    t = np.arange(T)
    window = (t[None, :] >= release[:, None]) & (t[None, :] < deadline[:, None])
    mask = window & tracked[:, None]
    z = fb.var("z_job", mask=mask)
    # starts only where they cost or count (a free, unconstrained start count is arbitrary)
    counted = mask & ((cost > 0) | (periods >= 2))[:, None]
    s = fb.var("s_job", mask=counted)
    if not mask.any():
        return
    rate = Expr.cells((J, T), (run_job, run_t), x_run.cols, scale)  # compute units
    fb.constrain("job_running", rate - z * max_rate[:, None], "<=", 0.0, mask=mask)
    fb.constrain(
        "job_floor", rate - z * floor[:, None], ">=", 0.0, mask=mask & (floor > 0)[:, None]
    )
    fb.constrain("job_start", s - z + z.shift(1, 1), ">=", 0.0, mask=counted)
    long = mask & (periods >= 2)[:, None]
    if long.any():
        fb.constrain("job_min_run", _min_run_window(s, periods) - z, "<=", 0.0, mask=long)
    if (cost[tracked] > 0).any():
        fb.cost("job_restart", s * cost[:, None], per_period=True)


def check_job_runs(ds: xr.Dataset, rows: Rows, rate: xr.DataArray) -> None:
    """Recompute the rows from the Dataset; ``rate`` is the job's rate per (job, time)."""
    if "z_job" not in ds or "job_restart_cost" not in ds:
        return
    cost, floor = ds["job_restart_cost"], ds["job_min_rate"]
    periods = ds["job_min_run_periods"].values.astype(np.int64)
    t = np.arange(ds.sizes["time"])
    window = (t[None, :] >= ds["job_release"].values[:, None]) & (
        t[None, :] < ds["job_deadline"].values[:, None]
    )
    tracked = (cost > 0) | (floor > 0) | (ds["job_min_run_periods"] > 0)
    inside = xr.DataArray(window, dims=("job", "time"), coords={"job": ds["job"]}) & tracked
    if not bool(inside.any()):
        return
    z, s = ds["z_job"].astype(float), ds["s_job"]
    mr = ds["job_max_rate"]
    rows.le("dc.job_running", rate.where(inside), (mr * z).where(inside), scale=mr)
    floored = inside & (floor > 0)
    rows.ge("dc.job_floor", rate.where(floored), (floor * z).where(floored), scale=mr)
    before = z.shift(time=1).fillna(0.0)
    counted = inside & ((cost > 0) | (ds["job_min_run_periods"] >= 2))
    rows.ge("dc.job_start", s.where(counted), (z - before).where(counted))
    cs = np.concatenate((np.zeros((z.shape[0], 1)), np.cumsum(s.values, 1)), 1)
    lo = np.maximum(t[None, :] + 1 - periods[:, None], 0)
    recent = cs[:, 1:] - np.take_along_axis(cs, lo, 1)
    long = inside & xr.DataArray(periods >= 2, dims="job", coords={"job": ds["job"]})
    rows.le("dc.job_min_run", z.copy(data=recent).where(long), z.where(long))
