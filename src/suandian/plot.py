"""Figures of a plan, a sweep, a Pareto front and a year (matplotlib).

Every function takes what it draws (a :class:`~suandian.Result`, a sweep, a front, a year,
an offer table), draws on ``ax`` when one is given (else on a new figure) and returns the
:class:`matplotlib.figure.Figure`. matplotlib is imported when a function is called, not
with ``suandian`` (install it with the ``plot`` extra: ``pip install suandian[plot]``).
Each figure reads the result Dataset alone, through the same books as the KPIs
(:mod:`suandian.results.accounting`), so a saved plan (:func:`suandian.read_result`) draws
the same as the solved one. The functions and what they draw: ``docs/plots.md``.

============================  =========================================================
:func:`dispatch`              sources and uses of a site's bus (or a node's, or the
                              portfolio's), by family, per period (MW)
:func:`state_of_charge`       batteries and chilled-water tanks, share of capacity
:func:`commitment`            cluster blocks on per site against the blocks there
:func:`placement`             compute per job or workload and site, per period (heat map)
:func:`green_by_hour`         green share of intake and hourly CFE, per clock hour
:func:`pue_vs_load`           PUE of each period against IT load, coloured by temperature
:func:`cost_waterfall`        cost by term, building up to the total
:func:`offer`                 a flexibility offer table (:func:`suandian.flexibility_offer`)
:func:`sweep_kpi`             a KPI of a sweep against a swept field
:func:`pareto_front`          a cost front (:func:`suandian.pareto`)
:func:`year_compliance`       a rolling year's PUE and green share to date, month by month
:func:`cost_distribution`     costs of plans over scenarios, mean and CVaR marked
:func:`planned_vs_realised`   a replay's cost by term, planned against realised
============================  =========================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .results.result import Result
    from .results.sweep import SweepResult
    from .results.year import YearResult
    from .run.pareto import ParetoFront

#: readable names of the families' layers in :func:`dispatch`, as a source and as a use
#: (a family not listed shows under its component name, ``(use)`` below zero)
FAMILY_LABELS = {
    "dc": ("facility", "facility: IT, losses, cooling"),
    "grid": ("grid import", "grid"),
    "res": ("renewables used", "renewables"),
    "stor": ("battery discharge", "battery charge"),
    "green": ("corridors and green contracts", "corridors and green contracts"),
    "thermal": ("chiller power the tank saves", "tank charging and heat pump"),
    "backup": ("gensets and load shed", "gensets"),
}
#: colours of the layers (matplotlib colour names), by family
FAMILY_COLOURS = {
    "dc": "0.45",
    "grid": "tab:gray",
    "res": "tab:green",
    "stor": "tab:purple",
    "green": "tab:olive",
    "thermal": "tab:cyan",
    "backup": "tab:brown",
}


def _axes(ax: Axes | None, size: tuple[float, float] = (8.0, 4.0)) -> tuple[Any, Any]:
    """``(figure, axes)``: ``ax`` and its figure, or a new figure with one axes."""
    if ax is None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=size)
        return fig, ax
    try:
        return ax.get_figure(root=True), ax  # the top figure, also for an axes in a subfigure
    except TypeError:  # matplotlib < 3.10: no ``root``
        return ax.figure, ax


def _dates(times: Any) -> np.ndarray:
    """Timestamps as matplotlib date numbers (days)."""
    import matplotlib.dates as mdates

    return np.asarray(mdates.date2num(pd.DatetimeIndex(np.asarray(times))), dtype=float)


def _edges(times: Any, dt: float) -> np.ndarray:
    """The period boundaries (T + 1 date numbers): each period's start and the horizon's end."""
    time = pd.DatetimeIndex(np.asarray(times))
    return _dates(time.append(pd.DatetimeIndex([time[-1] + pd.Timedelta(hours=dt)])))


def _time_axis(ax: Any) -> None:
    import matplotlib.dates as mdates

    ax.xaxis_date()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))


def _no_plan(ax: Any, what: str) -> None:
    ax.text(0.5, 0.5, what, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def _cache(result: Result) -> dict:
    """Per-Result store of what several figures read (emptied when ``result.ds`` changes)."""
    cache = result.__dict__.setdefault("_plot_cache", {})
    if cache.get("ds") is not result.ds:
        cache.clear()
        cache["ds"] = result.ds
    return cache


def _accounts(result: Result) -> dict:
    """The families' accounts of the plan, computed once per Result (like its KPIs)."""
    cache = _cache(result)
    if "accounts" not in cache:
        from .results.accounting import accounts

        cache["accounts"] = accounts(result.ds)
    return cache["accounts"]


def _flows(result: Result) -> xr.Dataset:
    """The plan's per-site flows by carrier, computed once per Result."""
    cache = _cache(result)
    if "flows" not in cache:
        from .results.accounting import flows

        cache["flows"] = flows(result.ds, _accounts(result))
    return cache["flows"]


def _sites_of(ds: xr.Dataset, site: str | None, node: str | None) -> list[str]:
    """The sites a dispatch figure sums: one site, a node's sites, or all of them."""
    sites = [str(s) for s in ds["site"].values]
    if site is not None and node is not None:
        raise ValueError("dispatch: give a site or a node, not both")
    if site is not None:
        if site not in sites:
            raise ValueError(f"dispatch: site {site!r} is not in the plan; use one of {sites}")
        return [site]
    if node is not None:
        nodes = [str(n) for n in ds["site_node"].values]
        members = [s for s, n in zip(sites, nodes, strict=True) if n == node]
        if not members:
            raise ValueError(
                f"dispatch: node {node!r} has no site; use one of {sorted(set(nodes))}"
            )
        return members
    return sites


# ---------------------------------------------------------------------------- dispatch
def dispatch_table(
    result: Result, site: str | None = None, node: str | None = None
) -> pd.DataFrame:
    """Each family's flow into the bus (MW, the ``power`` carrier), per period.

    The ``power`` port of every family, recomputed from the Dataset
    (:func:`~suandian.results.accounting.accounts`) and summed over the chosen sites:
    positive = a source (grid import, renewables used, deliveries, battery discharge),
    negative = a use (facility power, battery charge). The bus balance
    (``ledger.balance``) makes every row sum to zero. A family's figure is its net over
    its units and the sites summed (a battery charging while another at the same site
    discharges shows as the difference).

    Parameters
    ----------
    result : Result
        A plan.
    site, node : str, optional
        One site, or the sites of one node; default: every site (the portfolio).

    Returns
    -------
    pandas.DataFrame
        Index ``time`` (period starts), one column per family that moves power (its
        component name), MW.
    """
    ds = result.ds
    members = _sites_of(ds, site, node)
    columns = {}
    for name, account in _accounts(result).items():
        flow = account.flows.get("power")
        if flow is None:
            continue
        values = flow.sel(site=members).sum("site").transpose("time").values.astype(float)
        if np.abs(values).max(initial=0.0) > 1e-9:
            columns[name] = values
    return pd.DataFrame(columns, index=pd.DatetimeIndex(ds["time"].values, name="time"))


def dispatch(
    result: Result,
    site: str | None = None,
    node: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Sources and uses of electricity per period, stacked by family (MW).

    Sources (the positive part of each family's flow into the bus, :func:`dispatch_table`)
    are stacked above zero, uses (the negative part) below it, so the two stacks mirror
    each other in every period. Each layer is one filled step patch
    (:meth:`~matplotlib.axes.Axes.stairs`, in ``ax.patches``) labelled with the family's
    name (:data:`FAMILY_LABELS`: a source's name above zero, a use's below); its
    ``get_data()`` gives the layer's top, the period boundaries and its bottom.

    Parameters
    ----------
    result : Result
        A plan.
    site, node : str, optional
        One site, or the sites of one node; default: the portfolio.
    ax : matplotlib.axes.Axes, optional
        Draw here; default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax)
    if not result.has_plan:
        _no_plan(ax, f"no plan ({result.status})")
        return fig
    table = dispatch_table(result, site, node)
    edges = _edges(table.index, float(result.ds.attrs["dt_hours"]))
    up = np.zeros(len(table))
    down = np.zeros(len(table))
    for name in table.columns:
        values = table[name].to_numpy()
        colour = FAMILY_COLOURS.get(name)
        label, used = FAMILY_LABELS.get(name, (name, f"{name} (use)"))
        source, use = np.maximum(values, 0.0), np.minimum(values, 0.0)
        if source.max() > 1e-9:
            top = up + source
            ax.stairs(top, edges, baseline=up, fill=True, color=colour, label=label)
            up = top
        if use.min() < -1e-9:
            bottom = down + use
            ax.stairs(
                bottom,
                edges,
                baseline=down,
                fill=True,
                color=colour,
                alpha=0.55,
                label=used,
            )
            down = bottom
    ax.axhline(0.0, color="k", lw=0.6)
    _time_axis(ax)
    where = site or (f"node {node}" if node else "portfolio")
    ax.set_title(f"Dispatch, {where}: sources above zero, uses below")
    ax.set_ylabel("MW")
    lo, hi = ax.get_ylim()
    ax.set_ylim(lo, hi + 0.4 * (hi - lo))  # room for the legend above the stack
    ax.legend(fontsize=7, ncol=3, loc="upper left", frameon=False)
    return fig


# ---------------------------------------------------------------------------- storage
def state_of_charge(result: Result, ax: Axes | None = None) -> Figure:
    """Batteries (``e_soc``) and chilled-water tanks (``e_cold``), share of their capacity.

    One line per unit from its initial state at the horizon's start (``soc_initial``,
    ``tes_initial``) through the state at the end of each period, divided by the unit's
    energy capacity (``storage_energy``, ``tes_capacity``): the tanks' cold (MWh of cold)
    and the batteries' charge (MWh of electricity) share one scale.

    Returns
    -------
    matplotlib.figure.Figure
        Lines labelled ``battery <name>`` and ``tank <name>``; x: the period boundaries.
    """
    fig, ax = _axes(ax)
    ds = result.ds
    if not result.has_plan:
        _no_plan(ax, f"no plan ({result.status})")
        return fig
    edges = _edges(ds["time"].values, float(ds.attrs["dt_hours"]))
    drawn = 0
    for dim, level, size, first, kind in (
        ("storage", "e_soc", "storage_energy", "soc_initial", "battery"),
        ("tes", "e_cold", "tes_capacity", "tes_initial", "tank"),
    ):
        if not ds.sizes.get(dim, 0) or level not in ds:
            continue
        for unit in ds[dim].values:
            capacity = float(ds[size].sel({dim: unit}))
            if not capacity > 0:
                continue
            start = float(ds[first].sel({dim: unit})) * capacity
            path = np.r_[start, ds[level].sel({dim: unit}).values.astype(float)] / capacity
            ax.plot(edges, 100.0 * path, label=f"{kind} {unit}", lw=1.4)
            drawn += 1
    if not drawn:
        _no_plan(ax, "no battery or tank in this plan")
        return fig
    _time_axis(ax)
    ax.set_ylim(-2, 102)
    ax.set_ylabel("% of energy capacity")
    ax.set_title("State of charge at the end of each period")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return fig


def commitment(result: Result, ax: Axes | None = None) -> Figure:
    """Cluster blocks on (``n_on``) per site and period, against the site's blocks (dashed).

    Returns
    -------
    matplotlib.figure.Figure
        One step line per site (labelled with the site), one dashed line per site at
        ``blocks``.
    """
    fig, ax = _axes(ax)
    ds = result.ds
    if not result.has_plan or "n_on" not in ds:
        _no_plan(ax, f"no plan ({result.status})")
        return fig
    edges = _edges(ds["time"].values, float(ds.attrs["dt_hours"]))
    for i, site in enumerate(ds["site"].values):
        on = ds["n_on"].sel(site=site).values.astype(float)
        colour = f"C{i % 10}"
        ax.step(edges, np.r_[on, on[-1]], where="post", color=colour, label=str(site))
        total = float(ds["blocks"].sel(site=site))
        ax.axhline(total, color=colour, ls="--", lw=0.8, label=f"{site}: blocks installed")
    _time_axis(ax)
    ax.set_ylabel("blocks on")
    ax.set_title("Block commitment")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return fig


# ---------------------------------------------------------------------------- compute
def placement_table(result: Result) -> pd.DataFrame:
    """Compute per job or workload and site, per period (the compute unit).

    Rows ``batch <job> @ <site>`` (``x_run``, dense) for every site a job may run at, and
    ``interactive <workload> @ <site>`` (``x_serve``) for every site a workload may be
    served at; columns: the period starts.
    """
    ds = result.ds
    rows: dict[str, np.ndarray] = {}
    if ds.sizes.get("job", 0):
        batch = result.batch_schedule()
        eligible = ds["run_eligible"] if "run_eligible" in ds else None
        for job in ds["job"].values:
            for site in ds["site"].values:
                values = batch.sel(job=job, site=site).values.astype(float)
                ok = eligible is None or bool(eligible.sel(job=job, site=site))
                if ok or np.abs(values).max() > 0:
                    rows[f"batch {job} @ {site}"] = values
    if ds.sizes.get("workload", 0) and "x_serve" in ds:
        eligible = ds["serve_eligible"] if "serve_eligible" in ds else None
        for w in ds["workload"].values:
            for site in ds["site"].values:
                values = ds["x_serve"].sel(workload=w, site=site).values.astype(float)
                ok = eligible is None or bool(eligible.sel(workload=w, site=site))
                if ok or np.abs(values).max() > 0:
                    rows[f"interactive {w} @ {site}"] = values
    frame = pd.DataFrame(rows, index=pd.DatetimeIndex(ds["time"].values, name="time")).T
    frame.index.name = "placement"
    return frame


def placement(result: Result, ax: Axes | None = None) -> Figure:
    """Where and when compute runs: a heat map of :func:`placement_table`.

    Returns
    -------
    matplotlib.figure.Figure
        One row per (job or workload, site), one column per period; the colour is the
        compute run there (a colour bar in the compute unit).
    """
    fig, ax = _axes(ax, (8.0, 3.5))
    ds = result.ds
    if not result.has_plan:
        _no_plan(ax, f"no plan ({result.status})")
        return fig
    table = placement_table(result)
    if table.empty:
        _no_plan(ax, "no jobs or workloads in this plan")
        return fig
    edges = _edges(table.columns, float(ds.attrs["dt_hours"]))
    mesh = ax.pcolormesh(
        edges, np.arange(len(table) + 1), table.to_numpy(), cmap="viridis", shading="flat"
    )
    ax.set_yticks(np.arange(len(table)) + 0.5)
    ax.set_yticklabels(list(table.index), fontsize=7)
    ax.invert_yaxis()
    _time_axis(ax)
    unit = str(ds.attrs.get("compute_unit", "compute"))
    fig.colorbar(mesh, ax=ax, label=unit)
    ax.set_title("Compute placement over sites and time")
    return fig


# ---------------------------------------------------------------------------- green
def hourly_table(result: Result) -> pd.DataFrame:
    """Per clock hour and site: green share of intake and hourly CFE (with the portfolio).

    ``green_share`` = green MWh / intake MWh of the hour (the ``green`` and ``intake``
    carriers, certificates excluded: they carry no hour); ``cfe`` = carbon-free MWh that
    served the load / facility MWh of the hour (:func:`suandian.results.accounting.cfe`,
    Google's 24/7 method). Columns ``(measure, scope)`` with scope the sites and
    ``portfolio``; index: the hours' starts; NaN where the hour has no intake or load.
    """
    from .results.accounting import ClockHours, cfe

    ds = result.ds
    f = _flows(result)
    dt = float(ds.attrs["dt_hours"])
    hours = ClockHours(ds["time"].values)
    intake = hours.sum(f["intake"].transpose("site", "time").values * dt)
    green = hours.sum(f["green"].transpose("site", "time").values * dt)
    c = cfe(ds, f)
    load = c["load"].transpose("site", "time").values
    served = c["cfe"].transpose("site", "time").values
    sites = [str(s) for s in ds["site"].values]

    def ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(b > 1e-12, a / np.where(b > 1e-12, b, 1.0), np.nan)

    data = {}
    for j, s in enumerate(sites):
        data[("green_share", s)] = ratio(green[j], intake[j])
        data[("cfe", s)] = ratio(served[j], load[j])
    data[("green_share", "portfolio")] = ratio(green.sum(0), intake.sum(0))
    data[("cfe", "portfolio")] = ratio(served.sum(0), load.sum(0))
    frame = pd.DataFrame(data, index=pd.DatetimeIndex(hours.labels, name="hour"))
    frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["measure", "scope"])
    return frame


def _green_targets(ds: xr.Dataset) -> dict[str, float]:
    if "green_target" not in ds or not ds.sizes.get("scope", 0):
        return {}
    return {
        str(k): float(v)
        for k, v in zip(ds["scope"].values, ds["green_target"].values, strict=True)
        if v == v
    }


def green_by_hour(result: Result, site: str | None = None, ax: Axes | None = None) -> Figure:
    """Green share of intake (solid) and hourly CFE (dashed) per clock hour, in %.

    Parameters
    ----------
    result : Result
        A plan.
    site : str, optional
        One site, or ``"portfolio"``; default: every site and the portfolio.
    ax : matplotlib.axes.Axes, optional
        Draw here; default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        Lines labelled ``green share <scope>`` and ``CFE <scope>`` (:func:`hourly_table`,
        x: the hours' starts), and a dotted line at each green-share target (a horizon
        target is judged on the horizon's energy, not hour by hour).
    """
    fig, ax = _axes(ax)
    ds = result.ds
    if not result.has_plan:
        _no_plan(ax, f"no plan ({result.status})")
        return fig
    table = hourly_table(result)
    scopes = list(dict.fromkeys(table.columns.get_level_values("scope")))
    if site is not None:
        if site not in scopes:
            raise ValueError(f"green_by_hour: site {site!r} unknown; use one of {scopes}")
        scopes = [site]
    x = _dates(table.index)
    targets = _green_targets(ds)
    for i, scope in enumerate(scopes):
        colour = "k" if scope == "portfolio" else f"C{i % 10}"
        ax.plot(x, 100 * table[("green_share", scope)], color=colour, label=f"green share {scope}")
        ax.plot(x, 100 * table[("cfe", scope)], color=colour, ls="--", label=f"CFE {scope}")
        if scope in targets:
            ax.axhline(
                100 * targets[scope], color=colour, ls=":", lw=1, label=f"target {scope} (horizon)"
            )
    _time_axis(ax)
    ax.set_ylim(-2, 102)
    ax.set_ylabel("% per clock hour")
    ax.set_title("Green share of intake and 24/7 CFE, hour by hour")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(True, alpha=0.3)
    return fig


# ---------------------------------------------------------------------------- PUE
def pue_table(result: Result) -> pd.DataFrame:
    """Per site and period: IT load (MW), facility load (MW), PUE, driving temperature (°C).

    Facility and IT are the books' ``facility`` and ``it`` carriers (the KPI's: a tank's
    shift of chiller power counts), so the energy-weighted mean of ``pue`` is the KPI.
    Periods with no IT load are left out.
    """
    ds = result.ds
    f = _flows(result)
    frames = []
    for site in ds["site"].values:
        it = f["it"].sel(site=site).values.astype(float)
        fac = f["facility"].sel(site=site).values.astype(float)
        temp = (
            ds["t_drive"].sel(site=site).values.astype(float)
            if "t_drive" in ds
            else np.full(it.shape, np.nan)
        )
        keep = it > 1e-9
        frames.append(
            pd.DataFrame(
                {
                    "site": str(site),
                    "time": pd.DatetimeIndex(ds["time"].values)[keep],
                    "it_mw": it[keep],
                    "facility_mw": fac[keep],
                    "pue": fac[keep] / it[keep],
                    "t_drive_c": temp[keep],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def pue_vs_load(result: Result, ax: Axes | None = None) -> Figure:
    """PUE of each period against its IT load, coloured by the driving temperature.

    One scatter per site (a marker shape each, :func:`pue_table`), a colour bar in °C where
    the temperature is known (NaN with a COP series), and a dashed line at each site's PUE
    cap (judged on energy over the cap's basis, not period by period).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax, (7.0, 4.5))
    ds = result.ds
    if not result.has_plan:
        _no_plan(ax, f"no plan ({result.status})")
        return fig
    table = pue_table(result)
    temps = table["t_drive_c"].to_numpy()
    known = np.isfinite(temps)
    lo, hi = (float(temps[known].min()), float(temps[known].max())) if known.any() else (0, 1)
    mappable = None
    for i, (site, part) in enumerate(table.groupby("site", sort=False)):
        marker = "osD^v<>"[i % 7]
        t = part["t_drive_c"].to_numpy()
        if np.isfinite(t).all():
            mappable = ax.scatter(
                part["it_mw"],
                part["pue"],
                c=t,
                cmap="coolwarm",
                vmin=lo,
                vmax=hi if hi > lo else lo + 1,
                marker=marker,
                label=str(site),
                edgecolors="k",
                linewidths=0.3,
            )
        else:
            ax.scatter(part["it_mw"], part["pue"], marker=marker, label=str(site))
        if "pue_cap" in ds:
            cap = float(ds["pue_cap"].sel(site=site))
            if cap == cap:
                ax.axhline(cap, color=f"C{i % 10}", ls="--", lw=0.8, label=f"cap {site}")
    if mappable is not None:
        fig.colorbar(mappable, ax=ax, label="driving temperature, °C")
    ax.set_xlabel("IT load, MW")
    ax.set_ylabel("PUE of the period")
    ax.set_title("PUE against load and temperature")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return fig


# ---------------------------------------------------------------------------- cost
def cost_waterfall(
    result: Result | dict[str, float], ax: Axes | None = None, tol: float = 0.5
) -> Figure:
    """The cost by term as a waterfall: each term a bar from the running total, then the total.

    Parameters
    ----------
    result : Result or dict
        A plan, or a cost table ``{term: CNY, "total": CNY}`` (:attr:`Result.costs`,
        a year's :attr:`YearResult.costs`).
    ax : matplotlib.axes.Axes, optional
        Draw here; default: a new figure.
    tol : float
        Terms smaller than this (CNY, absolute) are left out (their sum shows as
        ``other`` when it is not below ``tol`` itself).

    Returns
    -------
    matplotlib.figure.Figure
        One bar per term in the table's order (height = the term, signed; bottom = the
        running total before it; credits drawn green) and a last bar ``total`` from zero;
        the bars' heights thus sum to twice the total.
    """
    fig, ax = _axes(ax, (8.0, 4.0))
    costs = result if isinstance(result, dict) else result.costs
    if not costs:
        _no_plan(ax, "no costs (no plan)")
        return fig
    terms = {k: float(v) for k, v in costs.items() if k != "total"}
    shown = {k: v for k, v in terms.items() if abs(v) >= tol}
    rest = sum(v for k, v in terms.items() if k not in shown)
    if abs(rest) >= tol:
        shown["other"] = rest
    total = float(costs.get("total", sum(terms.values())))
    running = 0.0
    names = list(shown)
    for i, value in enumerate(shown.values()):
        colour = "tab:green" if value < 0 else "tab:red"
        ax.bar(i, value, bottom=running, color=colour, width=0.7)
        running += value
    ax.bar(len(names), total, bottom=0.0, color="tab:blue", width=0.7)
    ax.set_xticks(range(len(names) + 1))
    ax.set_xticklabels([*names, "total"], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("CNY")
    ax.set_title(f"Cost by term: total {total:,.0f} CNY")
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def offer(table: pd.DataFrame, ax: Axes | None = None) -> Figure:
    """A flexibility offer table (:func:`suandian.flexibility_offer`) as a chart.

    Cost per MWh held below the plan against the level (MW), one line per site and window
    length; levels without a plan (``infeasible``: the site cannot hold them) are crosses
    on the axis.

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = _axes(ax, (7.0, 4.0))
    if table.empty:
        _no_plan(ax, "no offers")
        return fig
    ok = table["cost"].notna()
    for i, ((site, hours), part) in enumerate(table.groupby(["site", "hours"], sort=False)):
        colour = f"C{i % 10}"
        good = part[part["cost"].notna()]
        ax.plot(good["mw"], good["cost_per_mwh"], "o-", color=colour, label=f"{site}, {hours:g} h")
        bad = part[part["cost"].isna()]
        if len(bad):
            ax.plot(bad["mw"], np.zeros(len(bad)), "x", color=colour, ms=8)
    if (~ok).any():
        ax.plot([], [], "x", color="0.3", label="no plan (cannot hold)")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set_xlabel("held below the plan, MW")
    ax.set_ylabel("cost of the offer, CNY per MWh held")
    ax.set_title("Flexibility offer")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return fig


# ---------------------------------------------------------------------------- studies
def sweep_kpi(
    sweep: SweepResult | xr.Dataset,
    y: str = "objective",
    x: str | None = None,
    hue: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """A KPI of every case of a sweep against a swept field.

    Parameters
    ----------
    sweep : SweepResult or xarray.Dataset
        A sweep (:func:`suandian.sweep`, :func:`suandian.read_sweep`) or its Dataset.
    y : str
        A column of :meth:`SweepResult.table`: ``objective``, ``cost.<term>``,
        ``green_share.<scope>``, ``pue.<site>``, ``cfe_hourly.portfolio``, ...
    x : str, optional
        The swept path on the x axis (default: the first).
    hue : str, optional
        A swept path whose values make one line each (default: the second path, if any).
    ax : matplotlib.axes.Axes, optional
        Draw here; default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        One line per value of ``hue`` through the certified cases (sorted by ``x``), red
        markers for plans the certifier rejected; cases without a plan are left out (their
        count is in the title).
    """
    from .results.sweep import SweepResult

    result = sweep if isinstance(sweep, SweepResult) else SweepResult(sweep)
    table = result.table()
    paths = result.paths
    x = x or (paths[0] if paths else "case")
    if hue is None and len(paths) > 1:
        hue = next(p for p in paths if p != x)
    for name, what in ((x, "x"), (y, "y"), (hue, "hue")):
        if name is not None and name not in table:
            known = [c for c in table.columns if table[c].dtype != object]
            raise ValueError(f"sweep_kpi: {what}={name!r} is not a column; use one of {known}")
    fig, ax = _axes(ax, (7.0, 4.0))
    has = table[y].notna()
    groups = [(None, table)] if hue is None else list(table.groupby(hue, sort=True))
    for i, (value, part) in enumerate(groups):
        part = part[part[y].notna()].sort_values(x)
        good = part[part["certified"].astype(bool)]
        label = y if value is None else f"{hue} = {value}"
        ax.plot(good[x], good[y], "o-", color=f"C{i % 10}", label=label)
        bad = part[~part["certified"].astype(bool)]
        if len(bad):
            ax.plot(bad[x], bad[y], "o", color="tab:red", mfc="none", ms=9)
    if (~table["certified"].astype(bool) & has).any():
        ax.plot([], [], "o", color="tab:red", mfc="none", label="not certified")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    missing = int((~has).sum())
    note = f"; {missing} case(s) without a plan" if missing else ""
    ax.set_title(f"{y} over {len(table)} cases{note}")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return fig


_FRONT_LABELS = {
    "green_share": "green share achieved",
    "pue_cap": "PUE achieved (highest capped site)",
    "emissions": "emissions, tCO2",
    "cfe_score": "24/7 CFE score achieved (lowest scope)",
}


def pareto_front(front: ParetoFront, ax: Axes | None = None) -> Figure:
    """The cost front: cost against the level achieved, one marker per certified plan.

    Points without a plan are marked on the axis at their epsilon (grey crosses); each
    point is labelled with its slope (CNY per unit of the level).

    Parameters
    ----------
    front : ParetoFront
        From :func:`suandian.pareto`.
    ax : matplotlib.axes.Axes, optional
        Draw here; default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding ``ax``.
    """
    fig, ax = _axes(ax, (6.0, 4.0))
    t = front.table
    ok = t["cost"].notna() & t["level"].notna()
    ax.plot(t.loc[ok, "level"], t.loc[ok, "cost"], "o-", color="C0", label="least-cost plan")
    bad = ok & ~t["certified"].astype(bool)
    if bad.any():
        ax.plot(t.loc[bad, "level"], t.loc[bad, "cost"], "o", color="C3", label="not certified")
    missing = ~ok
    if missing.any() and front.against != "emissions":
        bottom = float(t.loc[ok, "cost"].min()) if ok.any() else 0.0
        ax.plot(
            t.loc[missing, "epsilon"],
            [bottom] * int(missing.sum()),
            "x",
            color="0.5",
            label="no plan (infeasible)",
        )
    for _, row in t[ok].iterrows():
        if np.isfinite(row["slope"]):
            ax.annotate(
                f"{row['slope']:,.0f}",
                (row["level"], row["cost"]),
                textcoords="offset points",
                xytext=(4, -10),
                fontsize=7,
            )
    ax.set_xlabel(_FRONT_LABELS[front.against])
    carbon = " (without the carbon charge)" if front.against == "emissions" else ""
    ax.set_ylabel(f"cost, CNY{carbon}")
    ax.set_title(f"cost against {front.against} ({front.method}; labels: slope)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def year_compliance(year: YearResult, ax: Axes | None = None) -> Figure:
    """A rolling year month by month: PUE to date (left axis) and green share to date (right).

    From :meth:`YearResult.months` (``pue_to_date_<site>``, ``green_share_to_date_<site>``):
    one solid line per site for the PUE, one dashed line per site for the green share, and
    the caps and targets of :meth:`YearResult.compliance` as dotted lines of the same colour
    (the PUE cap on the left axis, the green target on the right). The green share to date
    counts certificates in the last month only (they are bought at the horizon's end).

    Returns
    -------
    matplotlib.figure.Figure
        ``ax`` holds the PUE lines, ``ax``'s twin (``fig.axes[-1]``) the green shares; x:
        the months' index (0, 1, ...) labelled with the months.
    """
    fig, ax = _axes(ax, (8.0, 4.0))
    months = year.months()
    rules = year.compliance()
    sites = [str(s) for s in year.flows["site"].values]
    x = np.arange(len(months))
    right = ax.twinx()
    for i, s in enumerate(sites):
        colour = f"C{i % 10}"
        ax.plot(x, months[f"pue_to_date_{s}"], "o-", color=colour, label=f"PUE {s}")
        right.plot(
            x,
            100 * months[f"green_share_to_date_{s}"],
            "s--",
            color=colour,
            label=f"green share {s}",
        )
        cap = rules["pue"].get(s)
        if cap is not None:
            ax.axhline(cap["cap"], color=colour, ls=":", lw=1, label=f"PUE cap {s}")
        target = rules["green_share"].get(s)
        if target is not None:
            right.axhline(
                100 * target["target"], color=colour, ls="-.", lw=1, label=f"green target {s}"
            )
    portfolio = rules["green_share"].get("portfolio")
    if portfolio is not None:
        right.axhline(
            100 * portfolio["target"], color="k", ls="-.", lw=1, label="green target portfolio"
        )
    ax.set_xticks(x)
    ax.set_xticklabels(list(months.index), rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("PUE to date")
    right.set_ylabel("green share to date, %")
    right.set_ylim(0, 100)
    handles = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(handles[0] + more[0], handles[1] + more[1], fontsize=7, loc="lower left")
    ax.set_title("Compliance to date, month by month")
    ax.grid(True, alpha=0.3)
    return fig


__all__ = [
    "FAMILY_LABELS",
    "commitment",
    "cost_waterfall",
    "dispatch",
    "dispatch_table",
    "green_by_hour",
    "hourly_table",
    "offer",
    "pareto_front",
    "placement",
    "placement_table",
    "pue_table",
    "pue_vs_load",
    "state_of_charge",
    "sweep_kpi",
    "year_compliance",
]


def cost_distribution(
    costs: dict[str, Any], alpha: float = 0.9, ax: Axes | None = None, bins: int = 20
) -> Figure:
    """Costs of plans over equally likely scenarios: a histogram each, mean and CVaR marked.

    Parameters
    ----------
    costs : dict
        Plan name -> its cost in each scenario (CNY), e.g. the out-of-sample costs of a
        two-stage and a mean-forecast first stage (:func:`suandian.evaluate_plan`). Infinite
        costs (no recourse) are left out of the bars and counted in the legend.
    alpha : float
        Level of the CVaR marked (the mean of the worst ``1 - alpha`` share).
    ax : matplotlib.axes.Axes, optional
        Draw here; default: a new figure.
    bins : int
        Histogram bins, shared by the plans.

    Returns
    -------
    matplotlib.figure.Figure
        One step histogram per plan (count of scenarios per cost bin), a solid vertical line
        at its mean and a dashed one at its CVaR (the formula of
        ``suandian.run.stochastic.cvar``), in the plan's colour.
    """
    fig, ax = _axes(ax, (8.0, 4.0))
    finite = {k: np.asarray(v, dtype=float) for k, v in costs.items()}
    values = np.concatenate([v[np.isfinite(v)] for v in finite.values()] or [np.zeros(0)])
    if not len(values):
        _no_plan(ax, "no finite costs")
        return fig
    edges = np.histogram_bin_edges(values, bins=bins)
    for i, (name, c) in enumerate(finite.items()):
        colour = f"C{i}"
        ok = c[np.isfinite(c)]
        missing = len(c) - len(ok)
        mean = float(ok.mean())
        tail = _cvar(ok, alpha)
        label = f"{name}: mean {mean:,.0f}, CVaR{alpha:g} {tail:,.0f}"
        if missing:
            label += f" ({missing} without recourse)"
        ax.hist(ok, bins=list(edges), histtype="step", color=colour, linewidth=1.5, label=label)
        ax.axvline(mean, color=colour, linewidth=1.2)
        ax.axvline(tail, color=colour, linewidth=1.2, linestyle="--")
    ax.set_xlabel("cost of the day (CNY)")
    ax.set_ylabel("scenarios")
    ax.set_title("Cost over the scenarios (solid: mean, dashed: CVaR)")
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    return fig


def _cvar(costs: np.ndarray, alpha: float) -> float:
    """CVaR at ``alpha`` of equally likely costs.

    ``min_eta eta + E[(C - eta)+] / (1 - alpha)`` (Rockafellar & Uryasev 2000; the minimum
    lies at one of the costs): the formula of ``suandian.run.stochastic.cvar``, here so that
    this module does not import the run package (which imports it).
    """
    c = np.asarray(costs, dtype=float)
    if alpha >= 1.0:
        return float(c.max())
    return float(min(eta + np.maximum(c - eta, 0.0).mean() / (1.0 - alpha) for eta in c))


def planned_vs_realised(table: pd.DataFrame, ax: Axes | None = None, tol: float = 0.5) -> Figure:
    """A replay's cost by term: planned against realised (``Replay.costs()``).

    Parameters
    ----------
    table : pandas.DataFrame
        Columns ``term``, ``planned``, ``realised`` (CNY), as
        :meth:`suandian.run.replay.Replay.costs` returns; the ``total`` row goes into the
        title.
    ax : matplotlib.axes.Axes, optional
        Draw here; default: a new figure.
    tol : float
        Terms below this in both columns (CNY, absolute) are left out.

    Returns
    -------
    matplotlib.figure.Figure
        Pairs of horizontal bars per term (planned, realised), signed (credits to the left).
    """
    fig, ax = _axes(ax, (8.0, 5.0))
    rows = table[table["term"] != "total"]
    rows = rows[(rows["planned"].abs().fillna(0) >= tol) | (rows["realised"].abs() >= tol)]
    y = np.arange(len(rows))
    ax.barh(y - 0.2, rows["planned"].fillna(0.0), height=0.4, color="tab:blue", label="planned")
    ax.barh(y + 0.2, rows["realised"], height=0.4, color="tab:orange", label="realised")
    ax.set_yticks(y)
    ax.set_yticklabels(rows["term"], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0.0, color="0.3", linewidth=0.8)
    total = table[table["term"] == "total"]
    if len(total):
        p, r = float(total["planned"].iloc[0]), float(total["realised"].iloc[0])
        ax.set_title(f"Planned {p:,.0f} CNY, realised {r:,.0f} CNY")
    ax.set_xlabel("CNY")
    ax.legend(fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    return fig
