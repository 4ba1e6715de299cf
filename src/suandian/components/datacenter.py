"""Data centers: workloads, cluster blocks, IT power, cooling and facility power.

Math: ``docs/math/datacenter.md``. Block ``m.dc``; port ``power`` (MW, minus the facility
power); cost terms ``startup`` and, in a diagnosis, ``shortfall_compute`` (CNY).

Compute variables ``x_*`` are held in units of ``compute_scale`` (the largest block
capacity): PFLOPS counts of 10^4 next to MW of 10^0 made HiGHS's MIP 3-4x slower. The
extraction multiplies them back. IT, loss, cooling and facility power are expressions of
``n_on`` and the compute served, not columns (four columns and rows per site and period
that presolve would remove anyway). Batch work is stored sparsely: one cell per (job, site,
period) inside the job's window at an eligible site (dimension ``run``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..checks import Rows, committed_share, period_weight
from ..component import (
    Account,
    Capacity,
    Component,
    Context,
    Cut,
    FamilyBuilder,
    Limit,
    Output,
    StateField,
    Totals,
    Violation,
    capacity_cost,
    capacity_outputs,
    check_capacities,
    hold_capacity,
)
from ..linear import Expr, Var
from . import dc_validate
from .job_runs import build_job_runs, check_job_runs
from .placement import (
    build_placement,
    check_migration,
    check_placement,
    move_weight,
    window_periods,
)


@dataclass
class _Cells:
    """The family's index sets: where work may be served or run, and the batch cells.

    Attributes
    ----------
    serve_ok : numpy.ndarray
        (workload, site): the workload may be served at the site.
    run_ok : numpy.ndarray
        (job, site): the job may run at the site.
    release, deadline : numpy.ndarray
        Per job: its first period and the period after its last (int64).
    job, site, t : numpy.ndarray
        Per cell of dimension ``run`` (job-major; a cell per period of the job's window at
        each eligible site): its job, site and period (int64).
    """

    serve_ok: np.ndarray
    run_ok: np.ndarray
    release: np.ndarray
    deadline: np.ndarray
    job: np.ndarray
    site: np.ndarray
    t: np.ndarray


@dataclass
class _Data:
    """Per-workload, per-job and per-site data of the build (recorded as inputs too).

    Attributes
    ----------
    scale : float
        Compute units per column unit (the largest block capacity).
    demand : numpy.ndarray
        Interactive demand (workload, time), compute units.
    rho : numpy.ndarray
        Utilisation headroom per workload.
    max_rate, work : numpy.ndarray
        Per job: largest rate (compute units) and work (compute units x h).
    col : dict of numpy.ndarray
        The per-site fields of :data:`_SITE_FIELDS`, and ``blocks``: the most blocks
        installed per site (the number, or ``existing + max`` where chosen).
    blocks : numpy.ndarray or Expr
        The blocks installed per site: the numbers, or the chosen expression ``existing +
        built`` (:meth:`FamilyBuilder.capacity`, docs: "Blocks as a decision").
    flex : dict of numpy.ndarray
        The cluster rules and capping curve (:func:`_flex_inputs`).
    initial_on : numpy.ndarray
        Blocks on before the horizon per site (NaN: unknown).
    design_it : numpy.ndarray or Expr
        Per site: rated IT (MW); an expression of the chosen blocks where they are chosen
        and ``design_it`` is not given.
    liquid, water_use, wue_cap : numpy.ndarray
        Per site: liquid-cooled share, water per MWh of heat (m3), WUE cap (NaN: none).
    k_cool, wet : numpy.ndarray
        Per (site, time): cooling MW per MW of heat, and 1 where the plant runs wet.
    """

    scale: float
    demand: np.ndarray
    rho: np.ndarray
    max_rate: np.ndarray
    work: np.ndarray
    col: dict[str, np.ndarray]
    flex: dict[str, np.ndarray]
    initial_on: np.ndarray
    blocks: np.ndarray | Expr
    design_it: np.ndarray | Expr
    liquid: np.ndarray
    water_use: np.ndarray
    wue_cap: np.ndarray
    k_cool: np.ndarray
    wet: np.ndarray

    @property
    def with_start(self) -> np.ndarray:
        """Sites with a start-up column: start-ups priced, or counted by ``dc.min_up``."""
        return (self.col["startup_cost"] > 0) | (self.flex["min_up_periods"] >= 2)

    @property
    def with_stop(self) -> np.ndarray:
        """Sites with a shut-down column (counted by ``dc.min_down``)."""
        return self.flex["min_down_periods"] >= 2

    @property
    def capped(self) -> np.ndarray:
        """Sites with a power-capping curve (a ``p_dyn`` column)."""
        return ~np.isnan(self.flex["cap_power_share"]).all(1)


@dataclass
class _Columns:
    """The family's columns (``None``: not built for this scenario)."""

    n_on: Var
    n_start: Var
    n_stop: Var | None
    p_dyn: Var | None
    x_serve: Var
    x_run: Var
    x_unserved: Var | None
    x_unfinished: Var | None


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    """Columns, then rows: work served and run, block capacity, commitment, power chain."""
    cells = _index_sets(fb, ctx)
    d = _inputs(fb, ctx, cells)
    v = _columns(fb, ctx, d, cells)
    _interactive_rows(fb, d, v)
    _batch_rows(fb, ctx, d, cells, v)
    x_b = Expr.cells((ctx.S, ctx.T), (cells.site, cells.t), v.x_run.cols)
    _capacity_rows(fb, d, v, x_b)
    _commitment_rows(fb, ctx, d, v)
    p_facility, p_it, heat, water = _power_chain(fb, ctx, d, v, x_b)
    _ports_and_costs(fb, ctx, d, v, p_facility, p_it, heat, water)


def _index_sets(fb: FamilyBuilder, ctx: Context) -> _Cells:
    """Eligible (workload, site) pairs and the batch cells; declares their dimensions."""
    sc = ctx.scenario
    c = sc.config
    S_, T = ctx.S, ctx.T
    site_pos = {s.name: i for i, s in enumerate(c.sites)}
    W, J = len(c.interactive), len(c.batch)
    serve_ok = np.zeros((W, S_), bool)
    for i, w in enumerate(c.interactive):
        serve_ok[i, [site_pos[s] for s in w.eligible_sites]] = True
    run_ok = np.zeros((J, S_), bool)
    release = np.array([sc.period(j.release, 0) for j in c.batch], dtype=np.int64)
    deadline = np.array([sc.period(j.deadline, T) for j in c.batch], dtype=np.int64)
    for i, j in enumerate(c.batch):
        run_ok[i, [site_pos[s] for s in j.sites]] = True
    jj, ss = np.nonzero(run_ok)  # eligible (job, site) pairs, job-major
    lengths = deadline[jj] - release[jj]
    run_job = np.repeat(jj, lengths)
    run_site = np.repeat(ss, lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    run_t = np.arange(len(run_job)) - starts + np.repeat(release[jj], lengths)
    job_names = [j.name for j in c.batch]
    site_names = [s.name for s in c.sites]
    fb.coord("workload", [w.name for w in c.interactive])
    fb.coord("job", job_names)
    fb.coord(
        "run",
        range(len(run_job)),
        run_job=np.array([job_names[i] for i in run_job], dtype=object),
        run_site=np.array([site_names[i] for i in run_site], dtype=object),
        run_period=run_t,
    )
    ctx.coords["run:key"] = ["run_job", "run_site", "run_period"]
    return _Cells(serve_ok, run_ok, release, deadline, run_job, run_site, run_t)


def _inputs(fb: FamilyBuilder, ctx: Context, cells: _Cells) -> _Data:
    """Demand, jobs, site fields, cooling and cluster rules, recorded as the family's inputs."""
    sc = ctx.scenario
    c = sc.config
    S_, T = ctx.S, ctx.T
    sites = c.sites
    scale = max((s.block_capacity for s in sites), default=1.0)
    fb.attrs["compute_scale"] = scale
    W = len(c.interactive)
    demand = np.array([sc.profile(w.demand) for w in c.interactive]).reshape(W, T)
    cool = [sc.cooling(s) for s in sites]
    k_air = np.array([k.k_air for k in cool]).reshape(S_, T)
    k_liquid = np.array([k.k_liquid for k in cool]).reshape(S_, T)
    liquid = np.array([k.liquid_fraction for k in cool])
    wet = np.array([k.wet for k in cool]).reshape(S_, T)
    k_cool = (1.0 - liquid[:, None]) * k_air + liquid[:, None] * k_liquid
    col = {a: np.array([float(getattr(s, a)) for s in sites]) for a in _SITE_FIELDS}
    col["blocks"] = np.array([s.blocks_max for s in sites])
    water_use = np.array([s.cooling.water_use for s in sites])
    wue_cap = np.array([np.nan if s.wue_cap is None else s.wue_cap for s in sites])
    max_rate = np.array([j.max_rate for j in c.batch])
    work = np.array([j.work for j in c.batch])
    initial_on = np.array([np.nan if s.initial_on is None else s.initial_on for s in sites])
    fb.input("demand", demand)
    fb.input("serve_eligible", cells.serve_ok)
    rho = np.array([w.max_utilization for w in c.interactive])
    fb.input("max_utilization", rho)
    fb.input("job_work", work)
    fb.input("job_release", cells.release)
    fb.input("job_deadline", cells.deadline)
    fb.input("job_max_rate", max_rate)
    fb.input("run_eligible", cells.run_ok)
    blocks = fb.capacity("blocks", [s.blocks for s in sites], "site")
    for name in _SITE_FIELDS:
        fb.input(name, col[name])
    fb.input("initial_on", initial_on)
    fb.input("cop", 1.0 / k_cool)
    design_it = _design_it(fb, sites, blocks)
    fb.input("t_drive", np.array([k.t_drive for k in cool]).reshape(S_, T))
    fb.input("k_air", k_air)
    fb.input("k_liquid", k_liquid)
    fb.input("liquid_fraction", liquid)
    fb.input("wet", wet)
    fb.input("water_use", water_use)
    fb.input("wue_cap", wue_cap)
    flex = _flex_inputs(sites, ctx.dt)
    for name, data in flex.items():
        fb.input(name, data)
    fb.coord("cap_point", range(flex["cap_power_share"].shape[1]))
    return _Data(
        scale=scale,
        demand=demand,
        rho=rho,
        max_rate=max_rate,
        work=work,
        col=col,
        flex=flex,
        initial_on=initial_on,
        blocks=blocks,
        design_it=design_it,
        liquid=liquid,
        water_use=water_use,
        wue_cap=wue_cap,
        k_cool=k_cool,
        wet=wet,
    )


def _design_it(fb: FamilyBuilder, sites, blocks: np.ndarray | Expr) -> np.ndarray | Expr:
    """The rated IT per site, MW, following the blocks installed.

    Docs: "Blocks as a decision". ``blocks`` is :meth:`FamilyBuilder.capacity` (numbers,
    or ``existing + built`` where a :class:`Capacity`). The rated IT is the site's
    ``design_it`` where given, else ``always_on_it + blocks x full_block_it`` (one block at
    full load: ``idle_power + beta x block_capacity``). With chosen blocks it is an
    expression (``fb.derived``): the no-load losses and their cooling follow the build.
    """
    if not isinstance(blocks, Expr):
        design = np.array([s.rated_it for s in sites])
        fb.input("design_it", design)
        return design
    base = np.array(
        [float(s.design_it) if s.design_it is not None else s.always_on_it for s in sites]
    )
    given = np.array([s.design_it is not None for s in sites])
    full = np.array([s.full_block_it for s in sites])
    fb.input("design_it_given", given)
    fb.input("full_block_it", full)
    return fb.derived("design_it", blocks * np.where(given, 0.0, full) + base)


def _columns(fb: FamilyBuilder, ctx: Context, d: _Data, cells: _Cells) -> _Columns:
    """Blocks on, starts and stops, capped dynamic power, work served and run, slacks.

    ``n_on <= blocks``: the column bound, or where the blocks are chosen the rows
    ``dc.n_on_max`` against the choice (:meth:`FamilyBuilder.bound`).
    """
    S_, T = ctx.S, ctx.T
    col, scale = d.col, d.scale
    n_on = fb.bound("n_on", d.blocks, lb=col["min_on"][:, None])
    if ctx.options.get("compute_shortfall_penalty") is None:  # docs: "Blocks the single-site"
        bound = _blocks_for_demand(cells.serve_ok, d.demand / d.rho[:, None], col)
        ctx.lm.add_mip_lower(n_on.cols, bound)
    n_start = fb.var("n_start", mask=np.broadcast_to(d.with_start[:, None], (S_, T)))
    n_stop = p_dyn = None
    if d.with_stop.any():
        n_stop = fb.var("n_stop", mask=np.broadcast_to(d.with_stop[:, None], (S_, T)))
    if d.capped.any():
        p_dyn = fb.var("p_dyn", mask=np.broadcast_to(d.capped[:, None], (S_, T)))
    W = len(d.rho)
    x_serve = fb.var(
        "x_serve", mask=np.broadcast_to(cells.serve_ok[:, :, None], (W, S_, T)), scale=scale
    )
    x_run = fb.var("x_run", ub=d.max_rate[cells.job] / scale, scale=scale)
    _gangs(fb, ctx, d, cells, x_run)
    x_unserved = x_unfinished = None
    if ctx.options.get("compute_shortfall_penalty") is not None:
        x_unserved = fb.var("x_unserved", scale=scale)
        x_unfinished = fb.var("x_unfinished", scale=scale)
    return _Columns(n_on, n_start, n_stop, p_dyn, x_serve, x_run, x_unserved, x_unfinished)


def _gangs(fb: FamilyBuilder, ctx: Context, d: _Data, cells: _Cells, x_run: Var) -> None:
    """Gang sizes (docs: "Gang sizes"): the rate of a ganged job is a whole number of gangs."""
    jobs, run_job = ctx.scenario.config.batch, cells.job
    gang = np.array([np.nan if j.gang_size is None else j.gang_size for j in jobs], float)
    fb.input("job_gang_size", gang)
    ganged = ~np.isnan(gang[run_job]) if len(run_job) else np.zeros(0, bool)
    n_gang = fb.var(
        "n_gang",
        ub=np.floor(
            d.max_rate[run_job] / np.where(np.isnan(gang[run_job]), 1.0, gang[run_job]) + 1e-9
        )
        if len(run_job)
        else 0.0,
        mask=ganged,
    )
    if ganged.any():
        g = np.nan_to_num(gang[run_job]) / d.scale
        fb.constrain("gang_rate", x_run - n_gang * g, "==", 0.0, mask=ganged)


def _interactive_rows(fb: FamilyBuilder, d: _Data, v: _Columns) -> None:
    """``dc.demand_served``: each workload's demand is served (or, in a diagnosis, not)."""
    served = v.x_serve.sum(1)
    if v.x_unserved is not None:
        served = served + v.x_unserved
    fb.constrain("demand_served", served, "==", d.demand / d.scale)


def _batch_rows(fb: FamilyBuilder, ctx: Context, d: _Data, cells: _Cells, v: _Columns) -> None:
    """Jobs complete their work within their windows at their rates; runs and placement."""
    jobs, T, scale = ctx.scenario.config.batch, ctx.T, d.scale
    done = Expr.cells((len(jobs),), cells.job, v.x_run.cols, ctx.dt)
    if v.x_unfinished is not None:
        done = done + v.x_unfinished
    fb.constrain("job_completion", done, "==", d.work / scale)
    # a job's rate summed over its sites, only at (job, period) pairs with several sites;
    # the rows are indexed by those pairs (sparse: a year of daily jobs has J x T ~ 10^7)
    key = cells.job * T + cells.t
    pairs, where, count = np.unique(key, return_inverse=True, return_counts=True)
    multi = count > 1
    rate = Expr.cells((len(pairs),), where, v.x_run.cols)
    fb.constrain("job_rate", rate, "<=", d.max_rate[pairs // T] / scale, mask=multi)

    build_job_runs(
        fb, jobs, cells.release, cells.deadline, cells.job, cells.t, v.x_run, d.max_rate, scale
    )
    build_placement(
        fb,
        jobs,
        [s.name for s in ctx.scenario.config.sites],
        cells.run_ok,
        cells.release,
        cells.deadline,
        cells.job,
        cells.site,
        cells.t,
        v.x_run,
        d.max_rate,
        scale,
    )


def _capacity_rows(fb: FamilyBuilder, d: _Data, v: _Columns, x_b: Expr) -> None:
    """``dc.compute_capacity``: the blocks on hold the work; the IT-load headroom ports."""
    # interactive work counts x_serve / rho against the blocks (headroom for latency)
    compute = (v.x_serve * (1.0 / d.rho)[:, None, None]).sum(0) + x_b
    cap = d.col["block_capacity"] / d.scale
    fb.constrain("compute_capacity", compute - v.n_on * cap[:, None], "<=", 0.0)
    # carriers read by the reserves (docs/math/reserves.md, "Headroom from IT load"), in
    # compute units: the batch work run, and what the blocks on could still run
    fb.port("batch_compute", x_b * d.scale)
    fb.port("spare_compute", (v.n_on * cap[:, None] - compute) * d.scale)


def _commitment_rows(fb: FamilyBuilder, ctx: Context, d: _Data, v: _Columns) -> None:
    """Start-up and shut-down counts, minimum up and down times (docs: "Minimum up ...")."""
    S_, T = ctx.S, ctx.T
    n_on, flex = v.n_on, d.flex
    known = ~np.isnan(d.initial_on)
    k0 = np.nan_to_num(d.initial_on)
    first = np.zeros((S_, T), bool)
    first[:, 0] = True
    fb.constrain(
        "start_count",
        v.n_start - n_on + n_on.shift(1, 1),
        ">=",
        np.where(first, -k0[:, None], 0.0),
        mask=d.with_start[:, None] & (~first | known[:, None]),
    )
    if v.n_stop is not None:
        fb.constrain(
            "stop_count",
            v.n_stop - n_on.shift(1, 1) + n_on,
            ">=",
            np.where(first, k0[:, None], 0.0),
            mask=d.with_stop[:, None] & (~first | known[:, None]),
        )
    # aggregated over identical blocks: blocks started in the last U periods are still on,
    # blocks stopped in the last D periods are still off; blocks on/off before the horizon
    # keep their remainder
    t_idx = np.arange(T)[None, :]
    up_t, down_t = flex["min_up_periods"], flex["min_down_periods"]
    if (up_t >= 2).any():
        left = up_t - np.nan_to_num(flex["up_before_periods"], nan=np.inf)  # periods still due
        fb.constrain(
            "min_up",
            n_on - _window(v.n_start, up_t),
            ">=",
            np.where(known[:, None] & (t_idx < left[:, None]), k0[:, None], 0.0),
            mask=np.broadcast_to((up_t >= 2)[:, None], (S_, T)),
        )
    if v.n_stop is not None:
        # blocks off (installed - n_on) >= those stopped in the last D periods, or, while the
        # blocks off before the horizon are still due, >= installed - k0: n_on + W <= k0
        left = down_t - np.nan_to_num(flex["down_before_periods"], nan=np.inf)
        carried = known[:, None] & (t_idx < left[:, None])
        fb.constrain(
            "min_down",
            -n_on - _window(v.n_stop, down_t) + fb.along(d.blocks, (S_, T)) * (~carried),
            ">=",
            np.where(carried, -k0[:, None], 0.0),
            mask=np.broadcast_to(d.with_stop[:, None], (S_, T)),
        )


def _power_chain(
    fb: FamilyBuilder, ctx: Context, d: _Data, v: _Columns, x_b: Expr
) -> tuple[Expr, Expr, Expr, Expr]:
    """IT, loss, cooling and facility power, water; capping, WUE cap and ramp rows.

    Returns ``p_facility``, ``p_it``, the heat (IT plus losses) and the water per site and
    period (docs/math/datacenter.md "Expressions"): constants (always-on IT, no-load losses,
    fixed load) sit in the expressions' constant part.
    """
    col, flex, scale = d.col, d.flex, d.scale
    x_i = v.x_serve.sum(0)
    # uncapped dynamic power of the compute served (MW): batch at dynamic_power, interactive
    # at dynamic_power_interactive
    beta_i = flex["dynamic_power_interactive"]
    u_dyn = x_b * (scale * col["dynamic_power"])[:, None] + x_i * (scale * beta_i)[:, None]
    dyn = u_dyn if v.p_dyn is None else _capping_rows(fb, ctx, d, v.n_on, v.p_dyn, u_dyn)
    p_it = fb.expression(
        "p_it",
        v.n_on * col["idle_power"][:, None] + dyn + col["always_on_it"][:, None],
    )
    p_loss = fb.expression(
        "p_loss",
        p_it * col["loss_fraction"][:, None]
        + fb.along(d.design_it * col["no_load_loss"], (ctx.S, ctx.T)),
    )
    heat = p_it + p_loss
    p_cool = fb.expression("p_cool", heat * d.k_cool)
    p_facility = fb.expression("p_facility", heat + p_cool + col["fixed_load"][:, None])
    water = fb.expression("water", heat * (d.water_use[:, None] * d.wet))
    wue_capped = ~np.isnan(d.wue_cap)
    if wue_capped.any():
        fb.constrain(
            "wue_cap",
            (water * ctx.w).sum(1) - (p_it * ctx.w).sum(1) * np.nan_to_num(d.wue_cap),
            "<=",
            0.0,
            mask=wue_capped,
        )
    # ramp limits on facility power between consecutive periods (MW per hour x dt)
    t_idx = np.arange(ctx.T)[None, :]
    for name, sign, limit in (
        ("ramp_up", 1.0, flex["ramp_up"]),
        ("ramp_down", -1.0, flex["ramp_down"]),
    ):
        ramped = ~np.isnan(limit)
        if ramped.any():
            fb.constrain(
                name,
                (p_facility - p_facility.shift(1, 1)) * sign,
                "<=",
                np.broadcast_to((np.nan_to_num(limit) * ctx.dt)[:, None], (ctx.S, ctx.T)),
                mask=ramped[:, None] & (t_idx >= 1),
            )
    return p_facility, p_it, heat, water


def _capping_rows(
    fb: FamilyBuilder, ctx: Context, d: _Data, n_on: Var, p_dyn: Var, u_dyn: Expr
) -> Expr:
    """GPU power capping (docs: "GPU power capping"): the dynamic power at capped sites.

    There it is the column ``p_dyn``, bounded below by the concave power-throughput curve
    (``dc.cap_curve``) and above by the blocks' full dynamic power (``dc.cap_limit``);
    elsewhere the uncapped ``u_dyn``. Returns the dynamic power per site and period.
    """
    S_, T = ctx.S, ctx.T
    full = d.flex["full_dynamic_power"]
    a, b, seg = _segments(d.flex["cap_power_share"], d.flex["cap_throughput_share"])
    nk = a.shape[0]
    shape = (nk, S_, T)
    fb.constrain(
        "cap_curve",
        u_dyn.expand(shape, 0)
        - p_dyn.expr().expand(shape, 0) * a[:, :, None]
        - n_on.expr().expand(shape, 0) * (b * full[None, :])[:, :, None],
        "<=",
        0.0,
        mask=np.broadcast_to(seg[:, :, None], shape),
    )
    fb.constrain(
        "cap_limit",
        p_dyn - n_on * full[:, None],
        "<=",
        0.0,
        mask=np.broadcast_to(d.capped[:, None], (S_, T)),
    )
    return _drop_zero(u_dyn * (~d.capped).astype(float)[:, None]) + p_dyn


def _ports_and_costs(
    fb: FamilyBuilder,
    ctx: Context,
    d: _Data,
    v: _Columns,
    p_facility: Expr,
    p_it: Expr,
    heat: Expr,
    water: Expr,
) -> None:
    """Ports ``power``, ``it``, ``facility`` and the heat per path; start-up, water, slacks."""
    col = d.col
    fb.port("power", -p_facility)
    fb.port("it", p_it)
    fb.port("facility", p_facility)
    fb.port("heat_air", heat * (1.0 - d.liquid)[:, None])  # heat per path, read by thermal
    fb.port("heat_liquid", heat * d.liquid[:, None])
    fb.cost("startup", v.n_start * col["startup_cost"][:, None], per_period=True)
    if (col["water_price"] > 0).any():
        fb.cost("water", water * (col["water_price"] * ctx.dt)[:, None], per_period=True)
    penalty = ctx.options.get("compute_shortfall_penalty")
    if penalty is not None:
        assert v.x_unserved is not None and v.x_unfinished is not None
        fb.cost(
            "shortfall_compute",
            v.x_unserved.sum() * (penalty * d.scale * ctx.dt)
            + v.x_unfinished.sum() * (penalty * d.scale),
        )
    fb.attrs["compute_shortfall_penalty"] = np.nan if penalty is None else penalty


def _blocks_for_demand(serve_ok: np.ndarray, demand: np.ndarray, col: dict) -> np.ndarray:
    """Lower bound of ``n_on``: blocks needed by the interactive demand only this site serves.

    ``n_on[s, t] >= max(min_on[s], ceil(sum_w demand[w, t] / block_capacity[s]))`` over the
    workloads eligible at site ``s`` alone (capped at ``blocks``; if the demand exceeds the
    site, ``demand_served`` and ``compute_capacity`` still report the infeasibility).
    """
    only = serve_ok.sum(1) == 1
    req = serve_ok[only].T.astype(float) @ demand[only]  # (S, T)
    need = np.ceil(req / col["block_capacity"][:, None] - 1e-7)
    return np.minimum(np.maximum(col["min_on"][:, None], need), col["blocks"][:, None])


def _flex_inputs(sites, dt: float) -> dict[str, np.ndarray]:
    """Per-site inputs of the cluster rules and power capping (docs/math/datacenter.md).

    Times in hours become periods: a minimum up or down time rounds **up** to whole periods
    (``ceil(hours / dt)``), the time already spent on or off before the horizon rounds
    **down** (``floor``), both conservative. The capping curve is padded with NaN to the
    longest curve (dimension ``cap_point``); NaN everywhere at a site without a curve.
    """
    eps = 1e-9

    def periods(hours, rounding) -> np.ndarray:
        return np.array(
            [
                np.nan
                if h is None
                else float(rounding(h / dt + (-eps if rounding is np.ceil else eps)))
                for h in hours
            ]
        )

    beta = np.array([float(s.dynamic_power) for s in sites])
    beta_i = np.array(
        [
            s.dynamic_power if s.dynamic_power_interactive is None else s.dynamic_power_interactive
            for s in sites
        ],
        dtype=float,
    )
    curves = [s.power_cap_curve or [] for s in sites]
    n_points = max((len(c) for c in curves), default=0)
    share = np.full((len(sites), n_points), np.nan)
    thr = np.full((len(sites), n_points), np.nan)
    for i, c in enumerate(curves):
        if c:
            share[i, : len(c)] = [p[0] for p in c]
            thr[i, : len(c)] = [p[1] for p in c]
    return {
        "min_up_periods": np.nan_to_num(periods([s.min_up_hours for s in sites], np.ceil)),
        "min_down_periods": np.nan_to_num(periods([s.min_down_hours for s in sites], np.ceil)),
        "up_before_periods": periods([s.initial_up_hours for s in sites], np.floor),
        "down_before_periods": periods([s.initial_down_hours for s in sites], np.floor),
        "ramp_up": np.array([np.nan if s.ramp_up is None else s.ramp_up for s in sites]),
        "ramp_down": np.array([np.nan if s.ramp_down is None else s.ramp_down for s in sites]),
        "dynamic_power_interactive": beta_i,
        "full_dynamic_power": np.array([s.block_capacity for s in sites])
        * np.maximum(beta, beta_i),
        "cap_power_share": share,
        "cap_throughput_share": thr,
    }


def _window(var, periods: np.ndarray) -> Expr:
    """``sum_{k=0}^{U_s - 1} var[s, t - k]`` per (site, period); ``U_s`` = ``periods[s]``.

    Built from ``max(U)`` shifted copies (columns before the first period drop out).
    """
    u = periods.astype(np.int64)
    total = var.expr()
    for k in range(1, int(u.max(initial=1))):
        total = total + _drop_zero(var.shift(1, k) * (k < u).astype(float)[:, None])
    return total


def _drop_zero(e: Expr) -> Expr:
    """``e`` without its zero coefficients (a masked product leaves them in)."""
    keep = e.val != 0.0
    return Expr(e.shape, e.row[keep], e.col[keep], e.val[keep], e.const)


def _segments(share: np.ndarray, thr: np.ndarray):
    """Segments of each site's capping curve through (0, 0) and its points.

    Returns ``a``, ``b`` of shape (segments, site) — throughput share ``<= a * power share +
    b`` on each segment — and the mask of the segments a site has. Segment ``k`` joins point
    ``k - 1`` (the origin for ``k = 0``) to point ``k``.
    """
    s0 = np.concatenate((np.zeros((share.shape[0], 1)), share), 1)
    t0 = np.concatenate((np.zeros((thr.shape[0], 1)), thr), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.diff(t0, axis=1) / np.diff(s0, axis=1)
    b = t0[:, :-1] - a * s0[:, :-1]
    seg = ~np.isnan(a)
    return np.nan_to_num(a).T, np.nan_to_num(b).T, seg.T


_SITE_FIELDS = (
    "block_capacity",
    "idle_power",
    "dynamic_power",
    "startup_cost",
    "loss_fraction",
    "min_on",
    "no_load_loss",
    "always_on_it",
    "fixed_load",
    "water_price",
)


def _derive(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Start-ups to report where a start costs nothing: the fewest consistent with ``n_on``.

    There the model has no start-up column (its count cannot change the cost), so the
    Dataset reports ``max(n_on[t] - n_on[t-1], 0)`` (first period: against ``initial_on``,
    or no start when it is unknown).
    """
    n_on = ds["n_on"].values.astype(float)
    out = ds["n_start"].values.astype(float).copy()
    initial = ds["initial_on"].values
    free = ds["startup_cost"].values <= 0
    before = np.concatenate(
        (np.where(np.isnan(initial), n_on[:, 0], initial)[:, None], n_on[:, :-1]), 1
    )
    out[free] = np.maximum(n_on - before, 0.0)[free]
    derived = {"n_start": out}
    if "n_stop" in ds:  # a stop costs nothing: the fewest stops consistent with n_on
        derived["n_stop"] = np.maximum(before - n_on, 0.0)
    if "p_dyn" in ds:  # uncapped sites: the linear dynamic power of the compute served
        capped = ~np.isnan(ds["cap_power_share"].values).all(1)
        linear = _uncapped_dynamic(ds).values
        derived["p_dyn"] = np.where(capped[:, None], ds["p_dyn"].values, linear)
    return derived


def _uncapped_dynamic(ds: xr.Dataset) -> xr.DataArray:
    """Dynamic IT power of the compute served without capping (MW, site x time)."""
    beta_i = _site_input(ds, "dynamic_power_interactive", np.nan)
    beta_i = beta_i.where(~np.isnan(beta_i), ds["dynamic_power"])
    x_i = ds["x_serve"].sum("workload")
    return ds["dynamic_power"] * run_to_site_time(ds) + beta_i * x_i


def _positions(ds: xr.Dataset, dim: str, labels) -> np.ndarray:
    """Positions along ``dim`` of each of ``labels`` (e.g. the site of every run cell)."""
    pos = {v: i for i, v in enumerate(ds[dim].values)}
    return np.array([pos[v] for v in labels], dtype=np.int64)


def run_to_site_time(ds: xr.Dataset, values=None) -> xr.DataArray:
    """Sum a ``run`` array (default ``x_run``) into (site, time)."""
    values = ds["x_run"].values if values is None else np.asarray(values)
    out: np.ndarray = np.zeros((ds.sizes["site"], ds.sizes["time"]))
    if len(values):
        si = _positions(ds, "site", ds["run_site"].values)
        T = ds.sizes["time"]
        cell = si * T + ds["run_period"].values.astype(np.int64)
        out = np.bincount(cell, weights=values, minlength=out.size).reshape(out.shape)
    return xr.DataArray(out, dims=("site", "time"), coords={"site": ds["site"], "time": ds["time"]})


def run_to_job_time(ds: xr.Dataset) -> xr.DataArray:
    """``x_run`` summed over sites per (job, period) pair that has cells (dimension ``pair``)."""
    T = ds.sizes["time"]
    ji = _positions(ds, "job", ds["run_job"].values)
    key = ji * T + ds["run_period"].values.astype(np.int64)
    pairs, where = np.unique(key, return_inverse=True)
    total = np.bincount(where, weights=ds["x_run"].values, minlength=len(pairs))
    return xr.DataArray(
        total,
        dims="pair",
        coords={
            "pair_job": ("pair", ds["job"].values[pairs // T] if len(pairs) else []),
            "pair_time": ("pair", ds["time"].values[pairs % T] if len(pairs) else []),
        },
    )


def batch_dense(ds: xr.Dataset) -> xr.DataArray:
    """``x_run`` as a dense (job, site, time) array (zeros outside the cells)."""
    out = np.zeros((ds.sizes["job"], ds.sizes["site"], ds.sizes["time"]))
    if ds.sizes.get("run", 0):
        ji = _positions(ds, "job", ds["run_job"].values)
        si = _positions(ds, "site", ds["run_site"].values)
        out[ji, si, ds["run_period"].values.astype(np.int64)] = ds["x_run"].values
    return xr.DataArray(
        out,
        dims=("job", "site", "time"),
        coords={"job": ds["job"], "site": ds["site"], "time": ds["time"]},
        attrs=dict(ds["x_run"].attrs),
    )


def compute_served(ds: xr.Dataset) -> xr.DataArray:
    """Compute served per (site, time): interactive plus batch."""
    return ds["x_serve"].sum("workload") + run_to_site_time(ds)


def _kpis(ds: xr.Dataset, t: Totals) -> dict:
    """WUE, L/kWh of IT energy (= m3/MWh) where water is modelled; tCO2 per compute unit x h.

    With chosen capacities also ``compute_served``: compute unit x h served over the horizon
    (weighted like every horizon sum), for the books' ``cny_per_compute``.
    """
    out: dict = {}
    if "water" in ds:
        water = (ds["water"] * t.weight).sum("time") * t.dt
        total = float(t.it.sum())
        wue = {"portfolio": float(water.sum()) / total if total > 0 else float("nan")}
        for s in t.sites:
            it = float(t.it.sel(site=s))
            wue[s] = float(water.sel(site=s)) / it if it > 0 else float("nan")
        out["wue_l_per_kwh"] = wue
    compute = float(((compute_served(ds) * t.weight).sum("time") * t.dt).sum())
    out["co2_per_compute"] = float(t.location.sum()) / compute if compute > 0 else float("nan")
    if any(str(n).endswith("_built") for n in ds.data_vars):  # a plan with chosen capacities
        out["compute_served"] = compute  # the books' cny_per_compute divides by it
    return out


def _account(ds: xr.Dataset) -> Account:
    dt = float(ds.attrs["dt_hours"])
    w = period_weight(ds)
    cost = {"startup": float((ds["n_start"] * ds["startup_cost"] * w).sum())}
    if "z_job" in ds and "job_restart_cost" in ds:
        tracked = (
            (ds["job_restart_cost"] > 0)
            | (ds["job_min_rate"] > 0)
            | (ds["job_min_run_periods"] > 0)
        )
        if bool((ds["job_restart_cost"] > 0).any()) and bool(tracked.any()):
            cost["job_restart"] = float((ds["s_job"] * ds["job_restart_cost"] * w).sum())
    if "y_move" in ds and (ds["move_linked"] & (ds["move_unit_cost"] > 0)).any():
        unit = ds["move_unit_cost"].fillna(0.0) * move_weight(ds)
        cost["migration"] = float((ds["y_move"] * unit).sum())
    if "water" in ds and float(ds["water_price"].max()) > 0:
        cost["water"] = float((ds["water"] * ds["water_price"] * w).sum() * dt)
    penalty = float(ds.attrs.get("compute_shortfall_penalty", np.nan))
    if not np.isnan(penalty) and "x_unserved" in ds:
        cost["shortfall_compute"] = penalty * float(
            ds["x_unserved"].sum() * dt + ds["x_unfinished"].sum()
        )
    cost.update(capacity_cost(ds, _CAPACITIES))
    batch = run_to_site_time(ds)
    served = batch + (ds["x_serve"] / _utilization(ds)).sum("workload")
    return Account(
        flows={
            "power": -ds["p_facility"],
            "it": ds["p_it"],
            "facility": ds["p_facility"],
            "batch_compute": batch,
            "spare_compute": ds["block_capacity"] * ds["n_on"] - served,
        },
        cost=cost,
        energy={
            "facility": float((ds["p_facility"] * w).sum() * dt),
            "it": float((ds["p_it"] * w).sum() * dt),
        },
    )


def _site_input(ds: xr.Dataset, name: str, default: float = 0.0) -> xr.DataArray:
    """A per-site input, or ``default`` for a Dataset saved before the input existed."""
    if name in ds:
        return ds[name]
    return xr.full_like(ds["blocks"], default, dtype=float)


def _utilization(ds: xr.Dataset) -> xr.DataArray:
    """Utilisation headroom rho per workload (1 for a Dataset saved before it existed)."""
    if "max_utilization" in ds:
        return ds["max_utilization"]
    return xr.ones_like(ds["workload"], dtype=float)


def _check(ds: xr.Dataset, rows: Rows) -> None:
    """The family's rows recomputed from the Dataset: the work, then blocks and power."""
    _check_work(ds, rows)
    _check_power(ds, rows)


def _check_work(ds: xr.Dataset, rows: Rows) -> None:
    """Index sets, demand served, job completion and rates, placement, runs and gangs."""
    cs, dt = rows.cs, rows.dt
    # cells of x_run must lie in their job's window at an eligible site (the index set);
    # work in a cell outside it does not count towards the job
    # (positions, not label look-ups: xarray copies a cell array's object labels per call)
    x_run = ds["x_run"]
    run_job = _positions(ds, "job", ds["run_job"].values) if ds.sizes["run"] else None
    if run_job is not None:
        run_site = _positions(ds, "site", ds["run_site"].values)
        period = ds["run_period"].values
        eligible = ds["run_eligible"].transpose("job", "site").values.astype(bool)
        inside_cell = (
            (period >= ds["job_release"].values[run_job])
            & (period < ds["job_deadline"].values[run_job])
            & eligible[run_job, run_site]
        )
        inside = x_run.copy(deep=False, data=inside_cell)
        rows.zero_outside("dc.RUN", x_run, inside, floor=cs)
        x_run = x_run.copy(deep=False, data=np.where(inside_cell, x_run.values, 0.0))
    rows.zero_outside("dc.SERVE", ds["x_serve"], ds["serve_eligible"], floor=cs)

    served = ds["x_serve"].where(ds["serve_eligible"], 0.0).sum("site")
    if "x_unserved" in ds:  # diagnosis slack
        served = served + ds["x_unserved"]
    rows.eq("dc.demand_served", served, ds["demand"], floor=cs)

    work: np.ndarray = np.zeros(ds.sizes["job"])
    if run_job is not None:
        work = np.bincount(run_job, weights=x_run.values, minlength=work.size).astype(float)
    done = xr.DataArray(work * dt, dims="job", coords={"job": ds["job"]})
    if "x_unfinished" in ds:
        done = done + ds["x_unfinished"]
    rows.eq("dc.job_completion", done, ds["job_work"], floor=cs)
    rate = run_to_job_time(ds)
    pair_job = _positions(ds, "job", rate["pair_job"].values)
    limit = rate.copy(deep=False, data=ds["job_max_rate"].values.astype(float)[pair_job])
    rows.le("dc.job_rate", rate, limit, floor=cs)

    check_placement(ds, rows, x_run)
    check_migration(ds, rows, x_run)
    if "z_job" in ds and run_job is not None:
        shape = (ds.sizes["job"], ds.sizes["time"])
        cell = run_job * shape[1] + ds["run_period"].values.astype(np.int64)
        dense = np.bincount(cell, weights=x_run.values, minlength=shape[0] * shape[1])
        dense = dense.reshape(shape)
        check_job_runs(ds, rows, ds["z_job"].copy(data=dense))
    if "n_gang" in ds and "job_gang_size" in ds and run_job is not None:
        gang = x_run.copy(deep=False, data=ds["job_gang_size"].values.astype(float)[run_job])
        ganged = gang.notnull()
        if bool(ganged.any()):
            rows.eq(
                "dc.gang_rate",
                x_run.where(ganged),
                (ds["n_gang"] * gang).where(ganged),
                floor=cs,
            )


def _check_power(ds: xr.Dataset, rows: Rows) -> None:
    """Block capacity, start-up and cluster rules, capping, the power chain and water."""
    dt = rows.dt
    compute = run_to_site_time(ds) + (ds["x_serve"] / _utilization(ds)).sum("workload")
    n_on = ds["n_on"]
    check_capacities(ds, rows, "dc", _CAPACITIES)
    if "blocks_built" in ds:  # chosen blocks: the blocks on against the choice
        chosen = ds["blocks_max"].notnull()
        rows.le("dc.n_on_max", n_on.where(chosen), ds["blocks"].where(chosen))
        _check_design(ds, rows, chosen)
    rows.le(
        "dc.compute_capacity",
        compute,
        ds["block_capacity"] * n_on,
        scale=ds["block_capacity"] * np.maximum(n_on, 1.0),
    )
    before = n_on.shift(time=1)
    before[{"time": 0}] = ds["initial_on"]
    rows.ge("dc.start_count", ds["n_start"], n_on - before, scale=ds["blocks"])
    if "n_stop" in ds:
        rows.ge("dc.stop_count", ds["n_stop"], before - n_on, scale=ds["blocks"])
    _check_clusters(ds, rows)
    p_it, p_loss, p_cool = ds["p_it"], ds["p_loss"], ds["p_cool"]
    dynamic = _uncapped_dynamic(ds)
    if "p_dyn" in ds:
        capped = ~ds["cap_power_share"].isnull().all("cap_point")
        dynamic = dynamic.where(~capped, ds["p_dyn"])
        _check_capping(ds, rows, capped)
    rows.eq(
        "dc.p_it_def",
        p_it,
        _site_input(ds, "always_on_it") + ds["idle_power"] * n_on + dynamic,
    )
    rows.eq(
        "dc.p_loss_def",
        p_loss,
        _site_input(ds, "no_load_loss") * _site_input(ds, "design_it") + ds["loss_fraction"] * p_it,
    )
    rows.eq("dc.p_cool_def", p_cool, (p_it + p_loss) / ds["cop"])
    rows.eq(
        "dc.p_facility_def",
        ds["p_facility"],
        p_it + p_loss + p_cool + _site_input(ds, "fixed_load"),
    )
    if "k_air" not in ds:  # a Dataset saved before heat paths and water existed
        return
    # the plant's COP is that of its two heat paths (the data precomputed per period)
    f = ds["liquid_fraction"]
    rows.eq("dc.cop_paths", 1.0 / ds["cop"], (1.0 - f) * ds["k_air"] + f * ds["k_liquid"])
    rows.eq("dc.water_def", ds["water"], ds["water_use"] * ds["wet"] * (p_it + p_loss))
    capped = ~np.isnan(ds["wue_cap"].values)
    if capped.any():
        rows.le(
            "dc.wue_cap",
            ((ds["water"] * period_weight(ds)).sum("time") * dt)[capped],
            (ds["wue_cap"] * (p_it * period_weight(ds)).sum("time") * dt)[capped],
        )


def _check_design(ds: xr.Dataset, rows: Rows, chosen: xr.DataArray) -> None:
    """``dc.design_it_def``: the rated IT follows the chosen blocks where not given.

    ``design_it = always_on_it + blocks x full_block_it`` at the chosen sites whose
    ``design_it_given`` is false (MW).
    """
    if "design_it_given" not in ds:
        return
    follows = chosen & ~ds["design_it_given"].astype(bool)
    rows.eq(
        "dc.design_it_def",
        ds["design_it"].where(follows),
        (ds["always_on_it"] + ds["blocks"] * ds["full_block_it"]).where(follows),
    )


def _window_sum(values: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """``sum_{k=0}^{U_s - 1} values[s, t - k]`` per site (values before period 0 are 0)."""
    cs = np.concatenate((np.zeros((values.shape[0], 1)), np.cumsum(values, 1)), 1)
    T = values.shape[1]
    t = np.arange(T)
    lo = np.maximum(t[None, :] + 1 - periods.astype(np.int64)[:, None], 0)
    return cs[:, 1:] - np.take_along_axis(cs, lo, 1)


def _check_clusters(ds: xr.Dataset, rows: Rows) -> None:
    """dc.min_up, dc.min_down, dc.ramp_up, dc.ramp_down recomputed from the Dataset."""
    if "min_up_periods" not in ds:  # a Dataset saved before the cluster rules existed
        return
    n_on = ds["n_on"].astype(float)
    T = ds.sizes["time"]
    k0 = np.nan_to_num(ds["initial_on"].values)
    known = ~np.isnan(ds["initial_on"].values)
    t = np.arange(T)[None, :]
    for name, periods, before, counts, held in (
        (
            "dc.min_up",
            ds["min_up_periods"].values,
            ds["up_before_periods"].values,
            ds["n_start"],
            n_on,
        ),
        (
            "dc.min_down",
            ds["min_down_periods"].values,
            ds["down_before_periods"].values,
            ds.get("n_stop"),
            ds["blocks"] - n_on,
        ),
    ):
        active = periods >= 2
        if not active.any() or counts is None:
            continue
        carried = k0 if name == "dc.min_up" else ds["blocks"].values - k0
        left = periods - np.nan_to_num(before, nan=np.inf)
        due = _window_sum(counts.values.astype(float), periods) + np.where(
            known[:, None] & (t < left[:, None]), carried[:, None], 0.0
        )
        need = n_on.copy(data=np.where(active[:, None], due, np.nan))
        rows.ge(name, held, need, scale=ds["blocks"])
    p = ds["p_facility"]
    step = p - p.shift(time=1)  # NaN in the first period: no row
    dt = float(ds.attrs["dt_hours"])
    has = step.notnull()
    step = step.fillna(0.0)
    rows.le("dc.ramp_up", step, (ds["ramp_up"] * dt).where(has), scale=p)
    rows.le("dc.ramp_down", -step, (ds["ramp_down"] * dt).where(has), scale=p)


def _check_capping(ds: xr.Dataset, rows: Rows, capped: xr.DataArray) -> None:
    """dc.cap_curve, dc.cap_limit at capped sites, from the stored curve and decisions."""
    a, b, seg = _segments(ds["cap_power_share"].values, ds["cap_throughput_share"].values)
    full = ds["full_dynamic_power"]
    n_on = ds["n_on"].astype(float)
    u = _uncapped_dynamic(ds)
    p_dyn = ds["p_dyn"]
    for k in range(a.shape[0]):
        on = xr.DataArray(seg[k], dims="site", coords={"site": ds["site"]})
        a_k = xr.DataArray(a[k], dims="site", coords={"site": ds["site"]})
        b_k = xr.DataArray(b[k], dims="site", coords={"site": ds["site"]})
        limit = (a_k * p_dyn + b_k * full * n_on).where(on)
        rows.le("dc.cap_curve", u, limit, scale=full * np.maximum(n_on, 1.0))
    rows.le("dc.cap_limit", p_dyn, (full * n_on).where(capped), scale=full * np.maximum(n_on, 1.0))


# ------------------------------------------------------------------------- state
def _since(n_on: np.ndarray, before: float, t: int, sign: float, carried: float):
    """Periods since the last rise (``sign`` 1) or fall (-1) of ``n_on[: t + 1]``.

    ``before`` is the count before the horizon (NaN: unknown, no change at the start);
    without a change in the horizon, ``carried`` (the periods in that state before the
    horizon; NaN: long enough) plus ``t + 1``, or None.
    """
    prev = np.concatenate(([n_on[0] if np.isnan(before) else before], n_on[:t]))
    changed = np.nonzero(sign * (n_on[: t + 1] - prev) > 0.5)[0]
    if changed.size:
        return float(t + 1 - changed[-1])
    return None if np.isnan(carried) else float(carried + t + 1)


def _state_out(ds: xr.Dataset, t: int, flows) -> dict:
    """Blocks on and hours in that state per site, work done per batch job, to period ``t``.

    Where the blocks installed are chosen, ``blocks`` carries the choice (held in the next
    window, as a chosen battery's capacity). Blocks are identical, so the state is
    aggregate: ``up_hours`` is the time since the blocks on were last raised (the youngest
    start), ``down_hours`` the time since they were last lowered. Handed over as
    ``initial_on``, ``initial_up_hours`` and ``initial_down_hours``, the next window keeps
    every block on (off) for the rest of the youngest start's (stop's) minimum time: exact
    when the blocks on at the end started together or longer ago than ``min_up_hours``,
    otherwise conservative.
    """
    dt = float(ds.attrs["dt_hours"])
    n_on = ds["n_on"].values.astype(float)
    sites: dict = {}
    for i, name in enumerate(ds["site"].values):
        before = float(ds["initial_on"].values[i])
        up = _since(n_on[i], before, t, 1.0, float(ds["up_before_periods"].values[i]))
        down = _since(n_on[i], before, t, -1.0, float(ds["down_before_periods"].values[i]))
        sites[str(name)] = {
            "on": int(round(n_on[i, t])),
            "up_hours": None if up is None else up * dt,
            "down_hours": None if down is None else down * dt,
        }
        if "blocks_built" in ds and not np.isnan(ds["blocks_max"].values[i]):
            sites[str(name)]["blocks"] = float(ds["blocks"].values[i])  # the choice, held
    jobs: dict = {}
    if ds.sizes.get("job", 0):
        work: np.ndarray = np.zeros(ds.sizes["job"])
        if ds.sizes.get("run", 0):
            x = ds["x_run"].values.astype(float)
            cells = (ds["run_period"].values <= t) & ~np.isnan(x)
            job_of = _positions(ds, "job", ds["run_job"].values[cells])
            work = np.bincount(job_of, weights=x[cells], minlength=ds.sizes["job"])
        for job, value in zip(ds["job"].values, work * dt, strict=True):
            jobs[str(job)] = {"work_done": float(value)}
    return {"sites": sites, "jobs": jobs}


def _state_in(entry: dict, raw: dict) -> None:
    """Blocks on before the horizon and their hours; batch work reduced by the work done.

    A job whose work is done (within 1e-6 relative) leaves the scenario; a job named in the
    state but absent from the scenario (its window already over) is ignored.
    """
    for site in raw.get("sites") or []:
        state = (entry.get("sites") or {}).get(site.get("name"))
        if state is None:
            continue
        site["initial_on"] = state["on"]
        if "blocks" in state:  # chosen blocks: held at the choice in the next window
            hold_capacity(site, "blocks", state["blocks"])
        site["initial_up_hours"] = state.get("up_hours")
        site["initial_down_hours"] = state.get("down_hours")
    done = entry.get("jobs") or {}
    kept = []
    for job in raw.get("batch") or []:
        if job.get("name") in done:
            work = float(job["work"]) - float(done[job["name"]]["work_done"])
            if work <= 1e-6 * max(float(job["work"]), 1.0):
                continue
            job["work"] = work
        kept.append(job)
    if "batch" in raw:
        raw["batch"] = kept


def _cut(raw: dict, cut: Cut) -> None:
    """Batch jobs in a window: release and deadline as periods of the window.

    A job whose window lies outside the cut is dropped. A job released before the cut starts
    at its first period (its work is the job's whole work: hand the work done over as state).
    A job whose deadline lies beyond the cut gets the cut's end as deadline and the least work
    the cut must do so that the rest fits after it at ``max_rate``,
    ``max(work - max_rate x dt x (deadline - end), 0)`` (dropped when 0): a window cannot
    hold a deadline beyond its end, so such work is done as late as it can be (myopic).
    """
    kept = []
    for job in raw.get("batch") or []:
        release = cut.period(job.get("release", 0), 0)
        deadline = cut.period(job.get("deadline"), cut.total)
        if deadline <= cut.start or release >= cut.end:
            continue
        if deadline > cut.end:
            later = float(job["max_rate"]) * cut.dt * (deadline - cut.end)
            work = float(job["work"]) - later
            if work <= 1e-9:
                continue
            job["work"] = work
        job["release"] = max(release - cut.start, 0)
        job["deadline"] = min(deadline, cut.end) - cut.start
        kept.append(job)
    if "batch" in raw:
        raw["batch"] = kept


_S = ("site",)

#: the family's capacities that may be chosen (:meth:`FamilyBuilder.capacity`)
_CAPACITIES = ("blocks",)


def _commit_costs(ds: xr.Dataset, t: int, flows) -> dict[str, float]:
    """The blocks' annuity owed by the first ``t`` periods: pro rata to their hours."""
    share = committed_share(ds, t)
    return {term: value * share for term, value in capacity_cost(ds, _CAPACITIES).items()}


def _ramp_finding(sc, v: Violation, kind: str) -> tuple[str, str, str, float]:
    """Diagnosis sentence: a facility ramp limit the relaxed re-solve had to exceed."""
    dt = sc.dt
    limit = getattr(sc.config.sites[v.i], kind)
    way = "rise" if kind == "ramp_up" else "fall"
    total = float(v.row.sum() * dt)
    text = (
        f"site '{v.element}': its facility power must {way} by up to {v.row.max():,.2f} MW "
        f"more per period than {kind} {limit:g} MW/h x {dt:g} h allows, in {v.when}, even with "
        "all compute given up (blocks kept on by min_on, fixed loads, cooling that follows the "
        f"weather); raise {kind} or lower min_on"
    )
    return kind, v.element, text, total


def _site_names(c) -> list[str]:
    return [x.name for x in c.sites]


_LIMITS = (
    Limit("ramp_up", "ramp_up", _site_names, lambda sc, v: _ramp_finding(sc, v, "ramp_up")),
    Limit("ramp_down", "ramp_down", _site_names, lambda sc, v: _ramp_finding(sc, v, "ramp_down")),
)


def _estimate(sc, options) -> int:
    """Columns of ``dc``, counted from the configuration with the build's masks.

    Per period: ``n_on`` per site, ``n_start`` / ``n_stop`` / ``p_dyn`` at the sites that
    need them, ``x_serve`` per (workload, eligible site); per run cell (job, eligible site,
    period of its window): ``x_run`` (and ``n_gang`` for a gang job); ``z_job`` / ``s_job``
    per period of a tracked job's window; ``y_place`` per (one_site job, site, window),
    ``y_move`` per linked move; the diagnosis slacks ``x_unserved`` and ``x_unfinished``;
    ``blocks_built`` per site whose blocks are chosen (``blocks_units`` in lumps).
    """
    c = sc.config
    T, dt, S_ = sc.periods, sc.dt, len(c.sites)
    flex = _flex_inputs(c.sites, dt)
    starts = np.array([s.startup_cost > 0 for s in c.sites], bool) | (flex["min_up_periods"] >= 2)
    stops = flex["min_down_periods"] >= 2
    capped = ~np.isnan(flex["cap_power_share"]).all(1)
    site_cols = S_ + int(starts.sum()) + int(stops.sum()) + int(capped.sum())
    serve = sum(len(set(w.eligible_sites)) for w in c.interactive)
    jobs = c.batch
    release = np.array([sc.period(j.release, 0) for j in jobs], dtype=np.int64)
    length = np.array([sc.period(j.deadline, T) for j in jobs], dtype=np.int64) - release
    n_sites = np.array([len(set(j.sites)) for j in jobs], dtype=np.int64)
    gang = np.array([j.gang_size is not None for j in jobs], bool)
    tracked = np.array([j.tracks_runs for j in jobs], bool)
    counted = tracked & np.array(
        [j.restart_cost > 0 or np.ceil(j.min_run_hours / dt - 1e-9) >= 2 for j in jobs], bool
    )
    runs = int((n_sites * length).sum() + (n_sites * length)[gang].sum())
    runs += int(length[tracked].sum() + length[counted].sum())
    P = window_periods(jobs, dt, release, release + length)
    n_win = np.where(P > 0, -(-length // np.maximum(P, 1)), 0)
    links = {frozenset(link.sites) for link in c.data_links}
    moves = 0
    for j, job in enumerate(jobs):
        if job.checkpoint_tb is not None and n_win[j] >= 2:
            sites = sorted(set(job.sites))
            pairs = sum(frozenset((a, b)) in links for a in sites for b in sites if a != b)
            moves += pairs * int(n_win[j] - 1)
    place = int((n_sites * n_win).sum()) + moves
    slack = len(c.interactive) * T + len(jobs)
    if options.get("compute_shortfall_penalty") is None:
        slack = 0
    chosen = [s.blocks for s in c.sites if isinstance(s.blocks, Capacity) and s.blocks.extendable]
    built = len(chosen) + sum(b.unit_size is not None for b in chosen)
    return (site_cols + serve) * T + runs + place + slack + built


COMPONENT = Component(
    name="dc",
    sections=("sites", "interactive", "batch"),
    doc="data centers: workloads, cluster blocks, IT, cooling and facility power",
    outputs=(
        Output(
            "n_on",
            ("site", "time"),
            "blocks",
            "cluster blocks switched on",
            lower="min_on",
            upper="blocks",
            integer=True,
            rounding="up",
            first_stage=True,
        ),
        Output("n_start", ("site", "time"), "blocks", "cluster blocks started"),
        Output(
            "n_stop",
            ("site", "time"),
            "blocks",
            "cluster blocks stopped (columns only with a minimum down time)",
        ),
        Output(
            "p_dyn",
            ("site", "time"),
            "MW",
            "dynamic IT power of the compute served (a column at capped sites)",
        ),
        Output(
            "x_serve",
            ("workload", "site", "time"),
            "{compute}",
            "interactive compute served",
            floor="compute",
        ),
        Output(
            "x_run",
            ("run",),
            "{compute}",
            "batch compute run (one cell per job, site, period in the job's window)",
            floor="compute",
        ),
        Output(
            "y_place",
            ("place",),
            "1",
            "1 if a one_site job runs at the site in the placement window",
            upper=1.0,
            integer=True,
        ),
        Output(
            "n_gang",
            ("run",),
            "gangs",
            "gangs of a job running at the site in the period (columns only for jobs with a "
            "gang_size)",
            integer=True,
            rounding="nearest",
        ),
        Output(
            "z_job",
            ("job", "time"),
            "1",
            "1 while a job that tracks its runs runs (restart_cost, min_run_hours, min_rate)",
            upper=1.0,
            integer=True,
            rounding="nearest",
        ),
        Output(
            "s_job",
            ("job", "time"),
            "1",
            "starts of the job (0 or 1 at the optimum)",
            upper=1.0,
        ),
        Output("job_restart_cost", ("job",), "CNY", "cost per start of the job", role="input"),
        Output(
            "job_min_run_periods",
            ("job",),
            "periods",
            "periods a started job keeps running (0: none)",
            role="input",
        ),
        Output(
            "job_min_rate",
            ("job",),
            "{compute}",
            "rate the job keeps while it runs (0: none)",
            role="input",
        ),
        Output(
            "job_gang_size",
            ("job",),
            "{compute}",
            "compute units of one gang (NaN: any rate)",
            role="input",
        ),
        Output(
            "y_move",
            ("move",),
            "1",
            "1 if a one_site job moves between the sites at the window boundary (columns only "
            "where a data link joins them; 0 or 1 at every vertex: no integer column needed)",
            upper=1.0,
        ),
        Output(
            "x_unserved",
            ("workload", "time"),
            "{compute}",
            "interactive demand not served (diagnosis)",
            floor="compute",
        ),
        Output(
            "x_unfinished",
            ("job",),
            "{compute} h",
            "batch work not done (diagnosis)",
            floor="compute",
        ),
        Output("p_it", ("site", "time"), "MW", "IT power", role="expression"),
        Output("p_loss", ("site", "time"), "MW", "electrical losses", role="expression"),
        Output("p_cool", ("site", "time"), "MW", "cooling electricity", role="expression"),
        Output(
            "p_facility",
            ("site", "time"),
            "MW",
            "facility power = IT + losses + cooling + fixed load",
            role="expression",
        ),
        Output(
            "water",
            ("site", "time"),
            "m3/h",
            "cooling water evaporated and blown down",
            role="expression",
        ),
        Output("demand", ("workload", "time"), "{compute}", "interactive demand", role="input"),
        Output("serve_eligible", ("workload", "site"), "bool", "eligible sites", role="input"),
        Output("job_work", ("job",), "{compute} h", "work to complete", role="input"),
        Output("job_release", ("job",), "period", "first period the job may run", role="input"),
        Output(
            "job_deadline", ("job",), "period", "end of the job's window (exclusive)", role="input"
        ),
        Output("job_max_rate", ("job",), "{compute}", "maximum rate", role="input"),
        Output("run_eligible", ("job", "site"), "bool", "eligible sites", role="input"),
        Output(
            "job_window_periods",
            ("job",),
            "periods",
            "placement window of a one_site job (0: split)",
            role="input",
        ),
        Output(
            "job_checkpoint_tb",
            ("job",),
            "TB",
            "checkpoint moved when a one_site job changes site (NaN: moves not modelled)",
            role="input",
        ),
        Output("move_linked", ("move",), "bool", "a data link joins the two sites", role="input"),
        Output(
            "move_unit_cost",
            ("move",),
            "CNY",
            "cost of the move: checkpoint_tb x cost_per_tb + move_cost (NaN: no link)",
            role="input",
        ),
        Output(
            "move_blackout_periods",
            ("move",),
            "periods",
            "periods the job cannot run at its new site after the move: transfer + restore",
            role="input",
        ),
        Output(
            "max_utilization",
            ("workload",),
            "1",
            "utilisation headroom: interactive compute counts x_serve / rho",
            role="input",
        ),
        Output(
            "blocks",
            _S,
            "blocks",
            "cluster blocks K installed (the chosen number where a Capacity)",
            role="input",
        ),
        *capacity_outputs("blocks", "site", "blocks"),
        Output(
            "design_it_given",
            _S,
            "bool",
            "design_it given in the scenario (else it follows the chosen blocks)",
            role="input",
        ),
        Output(
            "full_block_it",
            _S,
            "MW",
            "IT power of one block at full load: idle_power + beta x block_capacity",
            role="input",
        ),
        Output("block_capacity", _S, "{compute}", "compute per block", role="input"),
        Output("idle_power", _S, "MW", "IT power per block on", role="input"),
        Output("dynamic_power", _S, "MW/{compute}", "IT power per compute unit", role="input"),
        Output("startup_cost", _S, "CNY", "cost per block start", role="input"),
        Output("loss_fraction", _S, "1", "proportional power-chain losses per MW IT", role="input"),
        Output("no_load_loss", _S, "1", "no-load losses per MW of design IT", role="input"),
        Output(
            "design_it",
            _S,
            "MW",
            "rated IT capacity of the power chain (follows chosen blocks unless given)",
            role="input",
        ),
        Output("always_on_it", _S, "MW", "IT power drawn whatever blocks are on", role="input"),
        Output("fixed_load", _S, "MW", "fixed facility load (not IT)", role="input"),
        Output("water_price", _S, "CNY/m3", "price of cooling water", role="input"),
        Output("water_use", _S, "m3/MWh", "water per MWh of heat in wet mode", role="input"),
        Output("wue_cap", _S, "L/kWh", "cap on water per IT energy (NaN: none)", role="input"),
        Output("min_on", _S, "blocks", "blocks always on", role="input"),
        Output(
            "initial_on", _S, "blocks", "blocks on before the horizon (NaN: free)", role="input"
        ),
        Output("min_up_periods", _S, "periods", "minimum up time of a block", role="input"),
        Output("min_down_periods", _S, "periods", "minimum down time of a block", role="input"),
        Output(
            "up_before_periods",
            _S,
            "periods",
            "periods the initial_on blocks have been on (NaN: long enough)",
            role="input",
        ),
        Output(
            "down_before_periods",
            _S,
            "periods",
            "periods the blocks off before the horizon have been off (NaN: long enough)",
            role="input",
        ),
        Output("ramp_up", _S, "MW/h", "facility power ramp-up limit (NaN: none)", role="input"),
        Output("ramp_down", _S, "MW/h", "facility power ramp-down limit (NaN: none)", role="input"),
        Output(
            "dynamic_power_interactive",
            _S,
            "MW/{compute}",
            "IT power per compute unit of interactive work",
            role="input",
        ),
        Output(
            "full_dynamic_power",
            _S,
            "MW",
            "dynamic IT power of a block at full power (capping curve's share 1)",
            role="input",
        ),
        Output(
            "cap_power_share",
            ("site", "cap_point"),
            "1",
            "capping curve: dynamic power share of each point (NaN: none)",
            role="input",
        ),
        Output(
            "cap_throughput_share",
            ("site", "cap_point"),
            "1",
            "capping curve: throughput share of each point (NaN: none)",
            role="input",
        ),
        Output("cop", ("site", "time"), "1", "cooling COP of the plant", role="input"),
        Output(
            "t_drive", ("site", "time"), "degC", "driving temperature of the plant", role="input"
        ),
        Output("k_air", ("site", "time"), "MW/MW", "cooling per MW heat, air path", role="input"),
        Output(
            "k_liquid", ("site", "time"), "MW/MW", "cooling per MW heat, liquid path", role="input"
        ),
        Output("liquid_fraction", _S, "1", "share of heat on the liquid path", role="input"),
        Output("wet", ("site", "time"), "1", "1 where the plant runs wet", role="input"),
    ),
    build=_build,
    estimate=_estimate,
    account=_account,
    check=_check,
    derive=_derive,
    kpis=_kpis,
    limits=_LIMITS,
    state_out=_state_out,
    state_in=_state_in,
    cut=_cut,
    state_fields=(
        StateField("sites.<site>.on", "1", "blocks on; sets sites[].initial_on"),
        StateField(
            "sites.<site>.up_hours",
            "h",
            "time since the blocks on were last raised (null: long enough); sets "
            "sites[].initial_up_hours",
        ),
        StateField(
            "sites.<site>.down_hours",
            "h",
            "time since the blocks on were last lowered (null: long enough); sets "
            "sites[].initial_down_hours",
        ),
        StateField(
            "sites.<site>.blocks",
            "blocks",
            "blocks installed where chosen (existing + built); holds sites[].blocks at the "
            "choice (min = max = the built part)",
        ),
        StateField(
            "jobs.<job>.work_done",
            "compute unit x h",
            "batch work done in the horizon; reduces batch[].work (a finished job leaves)",
        ),
    ),
    validate=dc_validate.validate,
    commit_costs=_commit_costs,
)
