"""Placement of unsplittable (synchronous) batch jobs: one site per placement window.

Math: ``docs/math/datacenter.md`` (section "Job placement"). Called from the data-center
family's build; the outputs (``y_place`` and its inputs) are declared in dc's output table.
A job with ``placement: one_site`` gets a binary ``y_place`` per (job, eligible site,
window), windows of ``placement_hours`` aligned to its release (the last one may be shorter).
Rows ``place_one`` (one site per window) and ``place_rate`` (``x_run <= max_rate * y_place``
in the window's cells).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from ..checks import Rows, period_weight
from ..component import FamilyBuilder
from ..errors import Problem
from ..linear import Expr

if TYPE_CHECKING:
    from ..errors import Problem
    from ..scenario import Scenario


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
    _build_migration(
        fb, jobs, site_names, index, n_win, P, release, run_job, run_site, y, x_run, max_rate, scale
    )


#: Gbit per TB (1 TB = 8,000 Gbit) over seconds per hour: transfer hours = TB x this / Gbit/s.
TB_HOURS_PER_GBPS = 8000.0 / 3600.0


def _build_migration(
    fb: FamilyBuilder,
    jobs,
    site_names: list[str],
    index: np.ndarray,
    n_win: np.ndarray,
    P: np.ndarray,
    release: np.ndarray,
    run_job: np.ndarray,
    run_site: np.ndarray,
    y_place,
    x_run,
    max_rate: np.ndarray,
    scale: float,
) -> None:
    """Moves of one_site jobs between windows: ``y_move``, ``move_def``, ``move_blackout``.

    A candidate move is (job, from site a, to site b, boundary k between windows k and k+1)
    for every job with ``checkpoint_tb`` and every ordered pair of its eligible sites; it has a
    ``y_move`` column only where a data link joins a and b (``move_linked``), so
    ``move_def`` (``y_a,k + y_b,k+1 - y_move <= 1``) forbids a move without a link.
    """
    dt = fb.ctx.dt
    links = {frozenset(link.sites): link for link in fb.ctx.scenario.config.data_links}
    parts: dict[str, list] = {k: [] for k in ("j", "a", "b", "k", "linked", "unit", "blackout")}
    for j, job in enumerate(jobs):
        if job.checkpoint_tb is None or n_win[j] < 2:
            continue
        eligible = np.nonzero(index[j, :, 0] >= 0)[0]
        ks = np.arange(n_win[j] - 1)
        for a in eligible:
            for b in eligible[eligible != a]:
                link = links.get(frozenset((site_names[a], site_names[b])))
                if link is None:
                    per_move, periods = np.nan, 0
                else:
                    hours = job.checkpoint_tb * TB_HOURS_PER_GBPS / link.bandwidth_gbps
                    periods = int(np.ceil((hours + job.restore_hours) / dt - 1e-9))
                    per_move = job.checkpoint_tb * link.cost_per_tb + job.move_cost
                for key, value in zip(
                    parts, (j, a, b, ks, link is not None, per_move, periods), strict=True
                ):
                    parts[key].append(np.broadcast_to(value, ks.shape))

    def cat(key: str, kind) -> np.ndarray:
        return np.concatenate(parts[key]).astype(kind) if parts[key] else np.zeros(0, kind)

    mj, ma, mb, mk = (cat(k, np.int64) for k in ("j", "a", "b", "k"))
    linked, unit, blackout = cat("linked", bool), cat("unit", float), cat("blackout", np.int64)
    job_names = [j.name for j in jobs]
    fb.coord(
        "move",
        range(len(mj)),
        move_job=np.array([job_names[i] for i in mj], dtype=object),
        move_from=np.array([site_names[i] for i in ma], dtype=object),
        move_to=np.array([site_names[i] for i in mb], dtype=object),
        move_boundary=mk,
    )
    fb.ctx.coords["move:key"] = ["move_job", "move_from", "move_to", "move_boundary"]
    checkpoint = [np.nan if j.checkpoint_tb is None else j.checkpoint_tb for j in jobs]
    fb.input("job_checkpoint_tb", np.array(checkpoint, dtype=float))
    fb.input("move_linked", linked)
    fb.input("move_unit_cost", unit)
    fb.input("move_blackout_periods", blackout)
    y_move = fb.var("y_move", mask=linked)
    n = len(mj)
    if not n:
        return
    cells = np.arange(n)
    lhs = (
        Expr.cells((n,), cells, y_place.cols[index[mj, ma, mk]])
        + Expr.cells((n,), cells, y_place.cols[index[mj, mb, mk + 1]])
        - Expr.cells((n,), cells, y_move.cols)
    )
    fb.constrain("move_def", lhs, "<=", 1.0)
    priced = linked & (unit > 0)
    if priced.any():  # a move is priced in the first period of window k+1 (weighted there)
        landing = release[mj] + (mk + 1) * P[mj]
        T = fb.ctx.T
        moves = Expr.cells((T,), landing, y_move.cols, np.nan_to_num(unit))
        fb.cost("migration", moves, per_period=True)
    # move_blackout: the first L periods of window k+1 at the new site, one row per (move, t);
    # the run cells of a (job, site) pair are contiguous in time from the job's release
    S_ = len(site_names)
    pair = run_job * S_ + run_site
    keys, first = np.unique(pair, return_index=True)
    start_of = np.full(len(jobs) * S_, -1)
    start_of[keys] = first
    begin = release[mj] + (mk + 1) * P[mj]  # first period of window k+1
    end = np.minimum(begin + P[mj], release[mj] + n_win[mj] * P[mj])
    length = np.where(linked, np.minimum(blackout, end - begin), 0)
    total = int(length.sum())
    if not total:
        return
    move = np.repeat(cells, length)
    t = begin[move] + np.arange(total) - np.repeat(np.cumsum(length) - length, length)
    run_cell = start_of[mj[move] * S_ + mb[move]] + t - release[mj[move]]
    rate = max_rate[mj[move]] / scale
    rows = np.arange(total)
    fb.constrain(
        "move_blackout",
        Expr.cells((total,), rows, x_run.cols[run_cell])
        + Expr.cells((total,), rows, y_move.cols[move], rate),
        "<=",
        rate,
    )


def _place_index(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (job, site, window) of every place cell."""
    jpos = {v: i for i, v in enumerate(ds["job"].values)}
    spos = {v: i for i, v in enumerate(ds["site"].values)}
    return (
        np.array([jpos[v] for v in ds["place_job"].values], dtype=np.int64),
        np.array([spos[v] for v in ds["place_site"].values], dtype=np.int64),
        ds["place_window"].values.astype(np.int64),
    )


def _placements(ds: xr.Dataset):
    """Window periods, releases and windows per job, and ``y[job, site, window]``.

    ``y`` holds ``y_place`` with one spare window at the end, left 0.
    """
    P = ds["job_window_periods"].values.astype(np.int64)
    release = ds["job_release"].values.astype(np.int64)
    deadline = ds["job_deadline"].values.astype(np.int64)
    n_win = np.where(P > 0, -(-(deadline - release) // np.maximum(P, 1)), 0)
    pj, ps, pw = _place_index(ds)
    y = np.zeros((ds.sizes["job"], ds.sizes["site"], int(max(n_win.max(initial=0), 1)) + 1))
    y[pj, ps, pw] = ds["y_place"].values
    return P, release, n_win, y


def move_weight(ds: xr.Dataset) -> xr.DataArray | float:
    """Weight ``w_t`` of the period each move lands in (the first of window k+1), per move.

    The migration cost is a per-period cost of that period (1.0 without weights).
    """
    w = period_weight(ds)
    if isinstance(w, float):
        return w
    P, release, _, _ = _placements(ds)
    jpos = {v: i for i, v in enumerate(ds["job"].values)}
    mj = np.array([jpos[v] for v in ds["move_job"].values], dtype=np.int64)
    landing = release[mj] + (ds["move_boundary"].values.astype(np.int64) + 1) * P[mj]
    return xr.DataArray(w.values[landing], dims="move", coords={"move": ds["move"]})


def check_placement(ds: xr.Dataset, rows: Rows, x_run: xr.DataArray) -> None:
    """Recompute ``place_one`` and ``place_rate`` from the Dataset alone."""
    if "y_place" not in ds or not ds.sizes.get("place", 0):
        return
    P, release, n_win, y = _placements(ds)
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


def check_migration(ds: xr.Dataset, rows: Rows, x_run: xr.DataArray) -> None:
    """Recompute ``move_def`` and ``move_blackout`` from the Dataset alone."""
    if "y_move" not in ds or not ds.sizes.get("move", 0):
        return
    J, S_ = ds.sizes["job"], ds.sizes["site"]
    P, release, n_win, y = _placements(ds)
    jpos = {v: i for i, v in enumerate(ds["job"].values)}
    spos = {v: i for i, v in enumerate(ds["site"].values)}
    mj = np.array([jpos[v] for v in ds["move_job"].values], dtype=np.int64)
    ma = np.array([spos[v] for v in ds["move_from"].values], dtype=np.int64)
    mb = np.array([spos[v] for v in ds["move_to"].values], dtype=np.int64)
    mk = ds["move_boundary"].values.astype(np.int64)
    y_move = ds["y_move"]
    # move_def: y at the old site in window k + y at the new one in k+1 - y_move <= 1 (a move
    # without a data link has no y_move: the pair of placements is forbidden)
    both = xr.DataArray(y[mj, ma, mk] + y[mj, mb, mk + 1], dims="move", coords=y_move.coords)
    rows.le("dc.move_def", both - y_move, 1.0)
    # move_blackout: no run at the new site in the first L periods of window k+1 after a move
    rate = ds["job_max_rate"].values[mj]
    begin = release[mj] + (mk + 1) * P[mj]
    end = np.minimum(begin + P[mj], release[mj] + n_win[mj] * P[mj])
    length = np.where(
        ds["move_linked"].values,
        np.minimum(ds["move_blackout_periods"].values.astype(np.int64), end - begin),
        0,
    )
    total = int(length.sum())
    if not total:
        return
    move = np.repeat(np.arange(len(mj)), length)
    t = begin[move] + np.arange(total) - np.repeat(np.cumsum(length) - length, length)
    # the run cell of (job, new site, t): cells of a (job, site) pair follow in time
    rj = np.array([jpos[v] for v in ds["run_job"].values], dtype=np.int64)
    rs = np.array([spos[v] for v in ds["run_site"].values], dtype=np.int64)
    rt = ds["run_period"].values.astype(np.int64)
    keys, first = np.unique(rj * S_ + rs, return_index=True)
    start_of = np.full(J * S_, -1)
    start_of[keys] = first
    idx = start_of[mj[move] * S_ + mb[move]] + t - rt[start_of[mj[move] * S_ + mb[move]]]
    job_names, site_names = ds["job"].values, ds["site"].values
    label = [
        f"{job_names[mj[m]]} {site_names[ma[m]]}->{site_names[mb[m]]} t{tt}"
        for m, tt in zip(move, t, strict=True)
    ]
    coords = {"blackout": label}
    lhs = xr.DataArray(
        x_run.values[idx] + rate[move] * y_move.values[move], dims="blackout", coords=coords
    )
    rows.le("dc.move_blackout", lhs, xr.DataArray(rate[move], dims="blackout", coords=coords))


def check_links(sc: Scenario) -> list[Problem]:
    """Scenario checks: one data link per pair of sites (part of ``dc``'s validate hook)."""
    from ..errors import Problem

    problems = []
    seen: dict[frozenset, str] = {}
    for i, link in enumerate(sc.config.data_links):
        pair = frozenset(link.sites)
        if pair in seen:
            problems.append(
                Problem(
                    f"data_links[{i}].sites",
                    repr(link.sites),
                    f"link '{seen[pair]}' already joins these sites; give one link per pair "
                    "(add the bandwidths into one)",
                )
            )
        seen.setdefault(pair, link.name)
    return problems
