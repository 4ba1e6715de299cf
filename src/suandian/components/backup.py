"""Backup power and grid outages: gensets, outage windows, critical load and lost load.

Math: ``docs/math/backup.md``. Block ``m.backup``. Scenario sections ``gensets`` (diesel or gas
generators at sites) and ``grid_outages`` (windows in which a node's public grid delivers and
takes nothing), both declared here.

A genset runs between its minimum load and its capacity when on (binary ``u_genset``), pays its
fuel per MWh and a cost per start, and may have a cap on its running hours; by default it runs
only during an outage at its site's node (``emergency_only``: the usual permit for diesel
backup). During an outage, nothing enters or leaves a site at the node through the public
grid (``outage_import``, ``outage_export``); direct-connected and on-site renewables stop too
unless the outage says they can island (``outage_island``); a critical share of each site's
facility load must be served from batteries and gensets, the rest may be shed (``p_shed``) at
the outage's value of lost load (``shed_max``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import Field

from ..checks import Rows, by_site, committed_share, period_weight, site_time_zeros
from ..component import (
    Account,
    Capacity,
    CapacityExpr,
    Component,
    Context,
    Cut,
    FamilyBuilder,
    Fraction,
    Limit,
    Name,
    NonNeg,
    Output,
    Positive,
    Profile,
    ScenarioField,
    Section,
    StateField,
    Totals,
    Violation,
    capacity_cost,
    capacity_outputs,
    check_capacities,
    hold_capacity,
)
from ..errors import Problem
from ..linear import Expr

if TYPE_CHECKING:
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs


# ------------------------------------------------------------------ scenario sections
class Genset(Section):
    """A diesel or gas generator at a site."""

    name: Name = Field(description="genset name")
    site: Name = Field(description="site it supplies")
    capacity: Positive | Capacity = Field(
        description="MW, electrical output at full load; or a Capacity: chosen by the model "
        "(its annuity paid against the lost load it saves)"
    )
    fuel_price: Profile = Field(
        description="CNY per MWh generated (fuel price / electrical efficiency); a number or "
        "a series"
    )
    emission_factor: NonNeg = Field(
        description="tCO2 per MWh generated, location-based (diesel at 35 % efficiency: "
        "74.1 t/TJ x 0.0036 TJ/MWh / 0.35 = 0.76)"
    )
    emission_factor_market: NonNeg | None = Field(
        None, description="tCO2 per MWh, market-based (default: the location-based factor)"
    )
    min_load: Fraction = Field(0.3, description="fraction of capacity, least output when on")
    start_cost: NonNeg = Field(0.0, description="CNY per start")
    max_hours: NonNeg | None = Field(
        None, description="h, most running hours in the horizon (null: no cap)"
    )
    hours_to_date: NonNeg = Field(
        0.0, description="h already run against max_hours (the permit's year to date)"
    )
    emergency_only: bool = Field(
        True, description="runs only during an outage at its node (the usual diesel permit)"
    )
    initial_on: bool = Field(False, description="running in the period before the horizon")


class GridOutage(Section):
    """A window in which a node's public grid delivers and takes nothing."""

    name: Name = Field(description="outage name")
    node: Name = Field(description="grid node out: every site at the node is islanded")
    start: datetime = Field(description="first period of the outage (a period start)")
    end: datetime = Field(
        description="end of the outage, exclusive: the start of the first period after it "
        "(or the end of the horizon)"
    )
    critical_share: Fraction = Field(
        1.0, description="share of each site's facility load that must be served"
    )
    value_of_lost_load: NonNeg = Field(
        description="CNY per MWh of the non-critical load shed during the outage"
    )
    island_renewables: bool = Field(
        False,
        description="direct-connected and on-site renewables keep supplying the site "
        "(grid-forming inverters or a microgrid controller); false by default: they trip "
        "with the grid",
    )


def _hours_left(units: list[Genset]) -> np.ndarray:
    """Running hours left of each genset's permit (NaN: no cap; 0 once it is used up)."""
    return np.array(
        [np.nan if u.max_hours is None else max(u.max_hours - u.hours_to_date, 0.0) for u in units]
    )


def _outage_cells(sc: Scenario, events: list[GridOutage]) -> tuple[np.ndarray, ...]:
    """Per (site, period): out, critical share, value of lost load, renewables islanded."""
    S, T = len(sc.config.sites), sc.periods
    out = np.zeros((S, T), bool)
    critical = np.zeros((S, T))
    voll = np.zeros((S, T))
    island = np.ones((S, T), bool)
    for e in events:
        start, end = sc.period(e.start, 0), sc.period(e.end, T)
        for i, s in enumerate(sc.config.sites):
            if s.node != e.node:
                continue
            window = slice(start, end)
            out[i, window] = True
            critical[i, window] = np.maximum(critical[i, window], e.critical_share)
            voll[i, window] = np.maximum(voll[i, window], e.value_of_lost_load)
            island[i, window] &= e.island_renewables
    return out, critical, voll, island & out


# ------------------------------------------------------------------ build
def _genset_inputs(fb: FamilyBuilder, sc: Scenario, units: list[Genset]) -> dict[str, np.ndarray]:
    """The gensets' data as arrays, recorded as inputs of the result Dataset."""
    G, T = len(units), sc.periods
    a = {
        "site": np.array([u.site for u in units], dtype=object),
        "fuel_price": np.array([sc.profile(u.fuel_price) for u in units], float).reshape(G, T),
        "emission_factor": np.array([u.emission_factor for u in units], dtype=float),
        "emission_factor_market": np.array(
            [
                u.emission_factor if u.emission_factor_market is None else u.emission_factor_market
                for u in units
            ],
            dtype=float,
        ),
        "min_load": np.array([u.min_load for u in units], dtype=float),
        "start_cost": np.array([u.start_cost for u in units], dtype=float),
        "hours_left": _hours_left(units),
        "emergency_only": np.array([u.emergency_only for u in units], dtype=bool),
        "initial_on": np.array([u.initial_on for u in units], dtype=float),
    }
    for name, values in a.items():
        fb.input(f"genset_{name}", values)
    return a


def _gensets(fb: FamilyBuilder, ctx: Context, a: dict, size, site: np.ndarray, out: np.ndarray):
    """Output, running and start columns with their rows; returns (p, u, s).

    ``size`` is the capacity ``K`` (numbers, or chosen: :meth:`FamilyBuilder.capacity`).
    A chosen ``K`` times the binary ``u`` is linearised exactly with the largest capacity
    ``Kmax`` (docs/math/backup.md): ``p <= Kmax u`` (``gen_max``), ``p <= K`` (``gen_cap``),
    ``p >= min_load K - min_load Kmax (1 - u)`` (``gen_min``). A fixed ``K`` is ``Kmax``:
    the rows are then ``p <= K u`` and ``p >= min_load K u``.
    """
    G, T = len(site), ctx.T
    big, min_load, start_cost = fb.largest(size).astype(float), a["min_load"], a["start_cost"]
    allowed = ~a["emergency_only"][:, None] | out[site]  # (G, T)
    p = fb.var("p_genset", ub=np.broadcast_to(big[:, None], (G, T)), mask=allowed)
    u = fb.var("u_genset", mask=allowed)
    starts = allowed & (start_cost > 0)[:, None]
    s = fb.var("s_genset", mask=starts)
    fb.constrain("gen_max", p - u * big[:, None], "<=", 0.0, mask=allowed)
    least = allowed & (min_load > 0)[:, None]
    if isinstance(size, CapacityExpr):
        chosen = ~np.isnan(a["chosen_max"])
        cap = fb.along(size, (G, T))
        fb.constrain("gen_cap", p - cap, "<=", 0.0, mask=allowed & chosen[:, None])
        low = (min_load * big)[:, None]
        fb.constrain("gen_min", p - cap * min_load[:, None] - u * low, ">=", -low, mask=least)
    else:  # K = Kmax: p <= K is the column bound (the block declared empty)
        fb.constrain("gen_cap", p - big[:, None], "<=", 0.0, mask=np.zeros((G, T), bool))
        fb.constrain("gen_min", p - u * (big * min_load)[:, None], ">=", 0.0, mask=least)
    first = np.zeros((G, T))
    first[:, 0] = a["initial_on"]
    fb.constrain("gen_start", s - u + u.shift(1, 1), ">=", -first, mask=starts)
    left = a["hours_left"]
    capped = ~np.isnan(left) & allowed.any(1)
    hours = (u * (ctx.dt * ctx.w)).sum(1)  # the hours the periods stand for
    fb.constrain("gen_hours", hours, "<=", np.nan_to_num(left), mask=capped)
    return p, u, s


def _outages(fb: FamilyBuilder, ctx: Context, out, critical, island) -> Expr:
    """The site islanded in its outage periods; returns the shed load ``p_shed``.

    Without an outage the row blocks are declared empty: the other families' flows are not
    summed (a year of ports on the build's hot path for rows that are all masked out).
    """
    if out.any():
        flow = ctx.flow
    else:

        def flow(carrier: str) -> Expr:
            return Expr.zeros((ctx.S, ctx.T))

    metered = flow("metered")
    fb.constrain("outage_import", metered, "<=", 0.0, mask=out)
    fb.constrain("outage_export", flow("export"), "<=", 0.0, mask=out)
    local = flow("intake") - metered  # renewables behind the meter
    fb.constrain("outage_island", local, "<=", 0.0, mask=out & ~island)
    shed = fb.var("p_shed", mask=out)
    fb.constrain("shed_max", shed - flow("facility") * (1.0 - critical), "<=", 0.0, mask=out)
    return shed.expr()


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    units: list[Genset] = sc.section("gensets")
    G, S, T, dt = len(units), ctx.S, ctx.T, ctx.dt
    fb.coord("genset", [u.name for u in units])
    site = ctx.site_index([u.site for u in units])
    a = _genset_inputs(fb, sc, units)
    # a number, or chosen (fb.capacity): the rows gen_max, gen_cap, gen_min take either
    size = fb.capacity("genset_rated_power", [u.capacity for u in units], "genset")
    a["chosen_max"] = np.array(
        [
            u.capacity.max if isinstance(u.capacity, Capacity) and u.capacity.extendable else np.nan
            for u in units
        ],
        dtype=float,
    )
    out, critical, voll, island = _outage_cells(sc, sc.section("grid_outages"))
    fb.input("outage", out)
    fb.input("outage_critical_share", critical)
    fb.input("outage_value_of_lost_load", voll)
    fb.input("outage_island", island)
    p, u, s = _gensets(fb, ctx, a, size, site, out)
    shed = _outages(fb, ctx, out, critical, island)

    def at_sites(x: Expr) -> Expr:
        return x.group(0, site, S) if G else Expr.zeros((S, T))

    min_load = a["min_load"][:, None]
    on = fb.switched("u_genset_power", size, u)  # u x K, exact for the binary u
    fb.port("power", at_sites(p.expr()) + shed)
    fb.port("intake", at_sites(p.expr()))
    fb.port("co2", at_sites(p * a["emission_factor"][:, None]))
    fb.port("co2_market", at_sites(p * a["emission_factor_market"][:, None]))
    fb.headroom(
        [x.name for x in units],
        site,
        reserve_up=on - p,
        reserve_down=p - on * min_load,
        reserve_energy_up=(_fuel_stock(fb.largest(size).astype(float), ctx.hours, T),) * 2,
    )
    fb.cost("backup_fuel", p * (dt * a["fuel_price"]), per_period=True)
    start = np.broadcast_to(a["start_cost"][:, None], (G, T))
    fb.cost("backup_start", s * start, per_period=True)
    fb.cost("lost_load", shed * (dt * voll), per_period=True)


def _fuel_stock(cap: np.ndarray, hours: float, T: int) -> Expr:
    """Energy behind a genset's up-reserve, MWh: a full horizon at capacity (fuel not modelled).

    A genset's fuel tank is refilled by contract; the energy rows of a reserve product then
    never bind, and its power headroom (``reserve_up``) is what it can offer. ``cap`` is the
    largest capacity (a chosen one's ``existing + max``).
    """
    return Expr.constant((cap * hours)[:, None], (len(cap), T))


# ------------------------------------------------------------------ books and checks
def _flows(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    site_of, sites = ds["genset_site"], ds["site"]
    p = ds["p_genset"]
    return {
        "gen": by_site(p, site_of, sites),
        "co2": by_site(p * ds["genset_emission_factor"], site_of, sites),
        "co2_market": by_site(p * ds["genset_emission_factor_market"], site_of, sites),
        "shed": ds["p_shed"],
    }


def _idle(ds: xr.Dataset) -> bool:
    """No genset and no outage: the family adds nothing to the books and has nothing to check."""
    return not ds.sizes.get("genset", 0) and not bool(ds["outage"].any())


def _account(ds: xr.Dataset) -> Account:
    if _idle(ds):
        return Account()
    dt = float(ds.attrs["dt_hours"])
    w = period_weight(ds)
    f = _flows(ds)
    p = ds["p_genset"]
    return Account(
        flows={
            "power": f["gen"] + f["shed"],
            "intake": f["gen"],
            "co2": f["co2"],
            "co2_market": f["co2_market"],
        },
        cost={
            "backup_fuel": float((p * ds["genset_fuel_price"] * w).sum() * dt),
            "backup_start": float((ds["s_genset"] * ds["genset_start_cost"] * w).sum()),
            "lost_load": float((f["shed"] * ds["outage_value_of_lost_load"] * w).sum() * dt),
            **capacity_cost(ds, _CAPACITIES),
        },
        energy={
            "backup_generation": float((p * w).sum() * dt),
            "lost_load": float((f["shed"] * w).sum() * dt),
        },
        headroom=_headroom_of(ds),
    )


def _largest(ds: xr.Dataset) -> xr.DataArray:
    """Each genset's largest capacity ``Kmax``: its number, or ``existing + max`` if chosen."""
    cap = ds["genset_rated_power"]
    if "genset_rated_power_built" not in ds:
        return cap
    top = ds["genset_rated_power_existing"] + ds["genset_rated_power_max"]
    return top.where(ds["genset_rated_power_max"].notnull(), cap)


def _headroom_of(ds: xr.Dataset) -> dict:
    """The reserve headroom of :func:`_build`, from the Dataset (genset, time).

    ``cap * u`` is the product the build linearises (``u_genset_power``), exact for a binary
    ``u``; the fuel stock stands on the largest capacity.
    """
    p, u, cap = ds["p_genset"], ds["u_genset"].astype(float), ds["genset_rated_power"]
    hours = float(ds.attrs["dt_hours"]) * ds.sizes["time"]
    stock = xr.zeros_like(p) + _largest(ds) * hours
    return {
        "reserve_up": cap * u - p,
        "reserve_down": p - cap * ds["genset_min_load"] * u,
        "reserve_energy_up": (stock, stock),
    }


def _carrier(rows: Rows, carrier: str) -> xr.DataArray:
    total = site_time_zeros(rows.ds)
    for name, account in rows.accounts.items():
        if name != "backup" and carrier in account.flows:
            total = total + account.flows[carrier]
    return total


def _check(ds: xr.Dataset, rows: Rows) -> None:
    if _idle(ds):
        return
    dt = rows.dt
    p, u, s = ds["p_genset"], ds["u_genset"].astype(float), ds["s_genset"]
    cap = ds["genset_rated_power"]
    out = ds["outage"].astype(bool)
    allowed = ~ds["genset_emergency_only"].astype(bool) | out.sel(site=ds["genset_site"]).drop_vars(
        "site"
    )
    rows.zero_outside("backup.emergency_only", p, allowed)
    big, least = _largest(ds), ds["genset_min_load"]
    rows.le("backup.gen_max", p, big * u, scale=big)
    # p >= min_load K - min_load Kmax (1 - u): min_load K u where K is a number (K = Kmax)
    rows.ge("backup.gen_min", p, least * cap - least * big * (1.0 - u), scale=big)
    if "genset_rated_power_built" in ds:
        chosen = ds["genset_rated_power_max"].notnull()
        rows.le("backup.gen_cap", p.where(chosen), cap.where(chosen), scale=big)
        check_capacities(ds, rows, "backup", _CAPACITIES)
    before = u.shift(time=1)
    before[{"time": 0}] = ds["genset_initial_on"]
    costly = ds["genset_start_cost"] > 0
    rows.ge("backup.gen_start", s.where(costly), (u - before).where(costly))
    rows.le("backup.gen_hours", (u * dt * period_weight(ds)).sum("time"), ds["genset_hours_left"])
    shed = ds["p_shed"]
    zero = xr.zeros_like(shed)
    rows.zero_outside("backup.p_shed", shed, out)
    rows.le("backup.outage_import", _carrier(rows, "metered").where(out), zero.where(out))
    rows.le("backup.outage_export", _carrier(rows, "export").where(out), zero.where(out))
    local = _carrier(rows, "intake") - _carrier(rows, "metered")
    tripped = out & ~ds["outage_island"].astype(bool)
    rows.le("backup.outage_island", local.where(tripped), zero.where(tripped))
    facility = _carrier(rows, "facility")
    bound = facility * (1.0 - ds["outage_critical_share"])
    rows.le("backup.shed_max", shed.where(out), bound.where(out), scale=facility)


# ------------------------------------------------------------------ the rest of the contract
def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Outage windows on the horizon, at nodes with sites; no genset of no capacity."""
    problems = []
    nodes_with_sites = {s.node for s in sc.config.sites}
    for i, e in enumerate(sc.section("grid_outages")):
        try:
            start, end = sc.period(e.start, 0), sc.period(e.end, sc.periods)
        except KeyError as missing:
            field = "start" if pd.Timestamp(missing.args[0]) == pd.Timestamp(e.start) else "end"
            problems.append(
                Problem(
                    f"grid_outages[{i}].{field}",
                    str(getattr(e, field)),
                    f"not a period start of the horizon ({sc.time[0]} .. {sc.time[-1]}, every "
                    f"{sc.config.horizon.resolution}); use a period boundary",
                )
            )
            continue
        if start >= end:
            problems.append(
                Problem(
                    f"grid_outages[{i}].end",
                    str(e.end),
                    "the outage ends before it starts; give an end after its start",
                )
            )
        if e.node not in nodes_with_sites:
            problems.append(
                Problem(
                    f"grid_outages[{i}].node",
                    e.node,
                    "would be ignored: no site is connected to this node; name a node with sites",
                )
            )
    for i, g in enumerate(sc.section("gensets")):
        cap = g.capacity
        if isinstance(cap, Capacity) and cap.existing + (cap.max if cap.extendable else 0.0) <= 0:
            problems.append(
                Problem(
                    f"gensets[{i}].capacity",
                    f"existing {cap.existing:g}, max {cap.max:g}"
                    + ("" if cap.extendable else ", extendable false"),
                    "a genset of no capacity (existing + max is 0): it could never run and "
                    "its least load has nothing to stand on; give max > 0 (or existing > 0) "
                    "or remove the genset",
                )
            )
    return problems


def _estimate(sc, options) -> int:
    """Columns per (genset, allowed period) and per (site, outage period).

    ``p_genset`` and ``u_genset`` where the genset may run, ``s_genset`` there too where a
    start costs, ``p_shed`` in every outage period of a site; a chosen capacity adds
    ``u_genset_power`` there and its build.
    """
    units, events = sc.section("gensets"), sc.section("grid_outages")
    out = _outage_cells(sc, events)[0]
    cells = 0
    for u in units:
        site = next(i for i, s in enumerate(sc.config.sites) if s.name == u.site)
        allowed = sc.periods if not u.emergency_only else int(out[site].sum())
        cells += allowed * (3 if u.start_cost > 0 else 2)
        if isinstance(u.capacity, Capacity) and u.capacity.extendable:
            cells += allowed + 2  # u_genset_power (u x K), the build and its lumps
    return cells + int(out.sum())


def _ride_through_finding(sc: Scenario, v: Violation) -> tuple[str, str, str, float]:
    """Diagnosis sentence: a site that cannot serve its critical load through an outage."""
    total = float(v.row.sum() * sc.dt)
    node = next(s.node for s in sc.config.sites if s.name == v.element)
    names = [e.name for e in sc.section("grid_outages") if e.node == node]
    text = (
        f"site '{v.element}': grid outage {', '.join(repr(n) for n in names)} at node "
        f"'{node}' cannot be ridden through: {total:,.2f} MWh of its critical load "
        f"(up to {v.row.max():,.2f} MW) cannot be served in {v.when} by its batteries and "
        "gensets; add genset capacity or battery energy at the site, or lower critical_share"
    )
    return "outage", v.element, text, total


_LIMITS = (
    Limit(
        "shed_max",
        "outage",
        lambda c: [s.name for s in c.sites],
        _ride_through_finding,
        event=True,
    ),
)


def _state_out(ds: xr.Dataset, t: int, flows) -> dict:
    """Each genset's running state at the end of period ``t`` and its hours run up to then."""
    if not ds.sizes.get("genset", 0):
        return {}
    dt = float(ds.attrs["dt_hours"])
    u = ds["u_genset"].isel(time=slice(0, t + 1)).astype(float)
    hours = ((u * period_weight(ds)).sum("time") * dt).values
    on = u.isel(time=-1).values > 0.5
    out = {
        str(g): {"on": bool(o), "hours_run": float(h)}
        for g, o, h in zip(ds["genset"].values, on, hours, strict=True)
    }
    if "genset_rated_power_built" in ds:  # a chosen capacity: the choice, held in the next window
        chosen = ~np.isnan(ds["genset_rated_power_max"].values)
        for i in np.nonzero(chosen)[0]:
            out[str(ds["genset"].values[i])]["capacity_mw"] = float(
                ds["genset_rated_power"].values[i]
            )
    return out


def _state_in(entry: dict, raw: dict) -> None:
    """``initial_on`` from the state; the hours run add to ``hours_to_date``.

    A chosen capacity (:class:`Capacity`) is held at the choice the state carries
    (``min = max`` = its built part: the annuity is still charged for the window's hours).
    """
    for unit in raw.get("gensets") or []:
        if isinstance(unit, dict) and unit.get("name") in entry:
            state = entry[unit["name"]]
            if "capacity_mw" in state:
                hold_capacity(unit, "capacity", state["capacity_mw"])
            unit["initial_on"] = bool(state["on"])
            unit["hours_to_date"] = float(unit.get("hours_to_date", 0.0)) + float(
                state["hours_run"]
            )


_CAPACITIES = ("genset_rated_power",)


def _commit_costs(ds: xr.Dataset, t: int, flows: xr.Dataset) -> dict[str, float]:
    """The gensets' capacity annuity of the first ``t`` periods: pro rata to their hours."""
    if "genset_rated_power_built" not in ds:
        return {}
    share = committed_share(ds, t)
    return {term: value * share for term, value in capacity_cost(ds, _CAPACITIES).items()}


def _cut(raw: dict, cut: Cut) -> None:
    """Outages in a window: those outside it dropped, those across its bounds cut to it."""
    if "grid_outages" in raw:
        raw["grid_outages"] = [event for event, _ in cut.clip(raw["grid_outages"] or [])]


def _kpis(ds: xr.Dataset, t: Totals) -> dict:
    """Running hours per genset and lost load per site (MWh), where the family has data."""
    if _idle(ds):
        return {}
    dt, w = float(ds.attrs["dt_hours"]), period_weight(ds)
    hours = (ds["u_genset"] * w).sum("time").values * dt
    shed = (ds["p_shed"] * w).sum("time").values * dt
    return {
        "genset_hours": {str(g): float(h) for g, h in zip(ds["genset"].values, hours, strict=True)},
        "lost_load_mwh": {str(s): float(e) for s, e in zip(ds["site"].values, shed, strict=True)},
    }


# ------------------------------------------------------------------ declaration
_G = ("genset",)
_GT = ("genset", "time")
_ST = ("site", "time")
COMPONENT = Component(
    name="backup",
    sections=("gensets", "grid_outages"),
    doc="backup gensets and grid outages (critical load, lost load)",
    outputs=(
        Output("p_genset", _GT, "MW", "genset output", upper="genset_rated_power"),
        Output("u_genset", _GT, "1", "genset running", upper=1.0, integer=True, rounding="up"),
        Output("s_genset", _GT, "1", "genset start", upper=1.0),
        Output("p_shed", _ST, "MW", "facility load shed during an outage"),
        Output("genset_site", _G, "text", "site whose bus the genset feeds", role="input"),
        Output("genset_rated_power", _G, "MW", "rated power of the genset", role="input"),
        *capacity_outputs("genset_rated_power", "genset", "MW"),
        Output("genset_fuel_price", _GT, "CNY/MWh", "fuel cost per MWh generated", role="input"),
        Output("genset_emission_factor", _G, "tCO2/MWh", "location-based factor", role="input"),
        Output(
            "genset_emission_factor_market", _G, "tCO2/MWh", "market-based factor", role="input"
        ),
        Output("genset_min_load", _G, "1", "least output when on (fraction)", role="input"),
        Output("genset_start_cost", _G, "CNY", "cost per start", role="input"),
        Output(
            "genset_hours_left",
            _G,
            "h",
            "running hours left in the horizon (NaN: no cap)",
            role="input",
        ),
        Output("genset_emergency_only", _G, "bool", "runs only during outages", role="input"),
        Output("genset_initial_on", _G, "1", "running before the horizon", role="input"),
        Output("outage", _ST, "bool", "the site's node is out", role="input"),
        Output(
            "outage_critical_share", _ST, "1", "facility load that must be served", role="input"
        ),
        Output("outage_value_of_lost_load", _ST, "CNY/MWh", "price of load shed", role="input"),
        Output(
            "outage_island",
            _ST,
            "bool",
            "renewables keep supplying during the outage",
            role="input",
        ),
    ),
    build=_build,
    account=_account,
    check=_check,
    validate=_validate,
    estimate=_estimate,
    limits=_LIMITS,
    kpis=_kpis,
    state_out=_state_out,
    state_in=_state_in,
    cut=_cut,
    commit_costs=_commit_costs,
    state_fields=(
        StateField("<genset>.on", "1", "running at the end; sets gensets[].initial_on"),
        StateField(
            "<genset>.hours_run",
            "h",
            "hours run in the horizon; added to gensets[].hours_to_date",
        ),
        StateField(
            "<genset>.capacity_mw",
            "MW",
            "a chosen capacity (Capacity only): holds gensets[].capacity at the choice",
        ),
    ),
    scenario_fields=(
        ScenarioField(
            "gensets",
            list[Genset],
            Field(default_factory=list, description="backup gensets (diesel or gas)"),
        ),
        ScenarioField(
            "grid_outages",
            list[GridOutage],
            Field(default_factory=list, description="windows without the public grid"),
        ),
    ),
)
