"""Placement of unsplittable (synchronous) batch jobs: one site per placement window.

Math: ``docs/math/datacenter.md`` (section "Job placement"). Called from the data-center
family's build; the outputs (``y_place`` and its inputs) are declared in dc's output table.
A job with ``placement: one_site`` gets a binary ``y_place`` per (job, eligible site,
window), windows of ``placement_hours`` aligned to its release (the last one may be shorter).
Rows ``place_one`` (one site per window) and ``place_rate`` (``x_run <= max_rate * y_place``
in the window's cells).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..checks import Rows
from ..component import FamilyBuilder
from ..linear import Expr


def window_periods(jobs, dt: float, release, deadline) -> np.ndarray:
    """Periods per placement window of each job (0: a ``split`` job, no windows)."""
    out = np.zeros(len(jobs), dtype=np.int64)
    for i, j in enumerate(jobs):
        if j.placement == "one_site":
            hours = j.placement_hours
            out[i] = (
                deadline[i] - release[i]
                if hours is None
                else max(1, int(np.ceil(hours / dt - 1e-9)))
            )
    return out


def build_placement(
    fb: FamilyBuilder,
    jobs,
    site_names: list[str],
    run_ok: np.ndarray,
    release: np.ndarray,
    deadline: np.ndarray,
    run_job: np.ndarray,
    run_site: np.ndarray,
    run_t: np.ndarray,
    x_run,
    max_rate: np.ndarray,
    scale: float,
) -> None:
    """Add ``y_place``, ``place_one`` and ``place_rate`` for the ``one_site`` jobs."""
    dt = fb.ctx.dt
    P = window_periods(jobs, dt, release, deadline)
    fb.input("job_window_periods", P)
    one = P > 0
    # windows per job and the place cells: (job, eligible site, window), job-major
    n_win = np.where(one, -(-(deadline - release) // np.maximum(P, 1)), 0)
    jj, ss = np.nonzero(run_ok & one[:, None])
    reps = n_win[jj]
    place_job = np.repeat(jj, reps)
    place_site = np.repeat(ss, reps)
    first = np.repeat(np.cumsum(reps) - reps, reps)
    place_window = np.arange(len(place_job)) - first
    job_names = [j.name for j in jobs]
    fb.coord(
        "place",
        range(len(place_job)),
        place_job=np.array([job_names[i] for i in place_job], dtype=object),
        place_site=np.array([site_names[i] for i in place_site], dtype=object),
        place_window=place_window,
    )
    fb.ctx.coords["place:key"] = ["place_job", "place_site", "place_window"]
    y = fb.var("y_place")
    # place_one: per (job, window) pair of a one_site job
    jw = np.zeros(len(jobs) + 1, dtype=np.int64)
    jw[1:] = np.cumsum(n_win)
    pair = jw[place_job] + place_window
    fb.constrain("place_one", Expr.cells((int(jw[-1]),), pair, y.cols), "==", 1.0)
    # place_rate: a one_site job's run cell x <= max_rate * y of its site and window
    cell_one = one[run_job]
    win = np.where(cell_one, (run_t - release[run_job]) // np.maximum(P[run_job], 1), 0)
    index = np.full((len(jobs), len(site_names), int(max(n_win.max(initial=0), 1))), -1)
    index[place_job, place_site, place_window] = np.arange(len(place_job))
    pcell = np.where(cell_one, index[run_job, run_site, win], -1)
    ycols = np.append(y.cols, -1)  # position -1: no place cell (a split job)
    n = len(run_job)
    lhs = Expr.cells((n,), np.arange(n), x_run.cols) - Expr.cells(
        (n,),
        np.arange(n),
        ycols[pcell],
        max_rate[run_job] / scale,
    )
    fb.constrain("place_rate", lhs, "<=", 0.0, mask=cell_one)


def _place_index(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (job, site, window) of every place cell."""
    jpos = {v: i for i, v in enumerate(ds["job"].values)}
    spos = {v: i for i, v in enumerate(ds["site"].values)}
    return (
        np.array([jpos[v] for v in ds["place_job"].values], dtype=np.int64),
        np.array([spos[v] for v in ds["place_site"].values], dtype=np.int64),
        ds["place_window"].values.astype(np.int64),
    )


def check_placement(ds: xr.Dataset, rows: Rows, x_run: xr.DataArray) -> None:
    """Recompute ``place_one`` and ``place_rate`` from the Dataset alone."""
    if "y_place" not in ds or not ds.sizes.get("place", 0):
        return
    J, S_ = ds.sizes["job"], ds.sizes["site"]
    P = ds["job_window_periods"].values.astype(np.int64)
    release = ds["job_release"].values.astype(np.int64)
    deadline = ds["job_deadline"].values.astype(np.int64)
    n_win = np.where(P > 0, -(-(deadline - release) // np.maximum(P, 1)), 0)
    pj, ps, pw = _place_index(ds)
    y = np.zeros((J, S_, int(max(n_win.max(initial=0), 1))))
    y[pj, ps, pw] = ds["y_place"].values
    one_jobs = np.nonzero(P > 0)[0]
    # place_one: every window of every one_site job has exactly one site (sum over sites)
    total = np.concatenate([y[j, :, : n_win[j]].sum(0) for j in one_jobs])
    label = np.concatenate(
        [[f"{ds['job'].values[j]} w{w}" for w in range(n_win[j])] for j in one_jobs]
    )
    rows.eq(
        "dc.place_one",
        xr.DataArray(total, dims="place_pair", coords={"place_pair": label}),
        1.0,
    )
    # place_rate: x_run <= max_rate * y of the cell's site and window
    jpos = {v: i for i, v in enumerate(ds["job"].values)}
    spos = {v: i for i, v in enumerate(ds["site"].values)}
    rj = np.array([jpos[v] for v in ds["run_job"].values], dtype=np.int64)
    rs = np.array([spos[v] for v in ds["run_site"].values], dtype=np.int64)
    rt = ds["run_period"].values.astype(np.int64)
    one = P[rj] > 0
    win = np.where(one, (rt - release[rj]) // np.maximum(P[rj], 1), 0)
    limit = np.where(one, ds["job_max_rate"].values[rj] * y[rj, rs, win], np.nan)
    rows.le(
        "dc.place_rate",
        x_run,
        xr.DataArray(limit, dims="run", coords=x_run.coords),
        floor=rows.cs,
    )
