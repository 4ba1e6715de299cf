"""Reserve headroom offered from batteries, consistent with the energy schedule.

Math: ``docs/math/reserves.md``. Component ``rsv`` (built with the policies, after the
ledgers). Scenario section ``reserves`` (:class:`ReserveProduct`): a product is up (the site
can draw less on call) or down (draw more), priced per MW and hour offered, with a duration
the headroom must last and an optional market cap. Headroom comes from the batteries of the
product's sites and must fit what the scheduled dispatch leaves: power (``up_power``,
``down_power``), energy for the duration at the start and the end of each period
(``up_energy_*``, ``down_energy_*``) and, for up reserve, the site's metered draw (a
behind-the-meter battery lowers the site's import, it does not export: ``up_deliverable``).

This component reads the ledger (``metered``) and, beyond the ledgers, the battery columns
``stor.p_charge``, ``stor.p_discharge`` and ``stor.e_soc`` by their qualified names (the
output table of :mod:`suandian.components.storage`). Cost term ``reserve_capacity`` (a
revenue: negative cost).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr
from pydantic import Field

from ..checks import Rows, by_site
from ..component import (
    Account,
    Component,
    Context,
    FamilyBuilder,
    Name,
    Output,
    Positive,
    Profile,
)
from ..component import Section as _Model
from ..linear import Expr


class ReserveProduct(_Model):
    """A reserve product the sites' batteries may offer headroom to."""

    name: Name = Field(description="product name")
    direction: Literal["up", "down"] = Field(
        description="'up': the site can draw less on call (discharge more / charge less); "
        "'down': draw more (charge more / discharge less)"
    )
    price: Profile = Field(description="CNY per MW of headroom offered, per hour")
    duration: Positive = Field(1.0, description="h the headroom must be sustainable on call")
    max_mw: Profile | None = Field(
        None, description="MW the product takes at most per period, over all batteries"
    )
    sites: list[Name] | None = Field(
        None, description="sites whose batteries (or IT load) may offer (default: every site)"
    )
    sources: list[Literal["battery", "it_load"]] = Field(
        default_factory=lambda: ["battery"],
        min_length=1,
        description="what may offer headroom: 'battery' (the sites' batteries) and/or "
        "'it_load' (pausing batch work for up, running it faster for down)",
    )


def check_products(sc) -> list:
    """Scenario checks: price and market-cap series known, caps >= 0."""
    from ..scenario.errors import Problem

    problems = []
    for i, k in enumerate(sc.config.reserves):
        for key, low in (("price", None), ("max_mw", 0.0)):
            value = getattr(k, key)
            if not isinstance(value, str):
                continue
            if value not in sc.series.columns:
                problems.append(
                    Problem(
                        f"reserves[{i}].{key}",
                        repr(value),
                        "unknown series; name a column of the series files or give a number",
                    )
                )
            elif low is not None and (sc.profile(value) < low).any():
                problems.append(Problem(f"reserves[{i}].{key}", repr(value), "values must be >= 0"))
    return problems


def _battery(ctx: Context, name: str) -> Expr:
    return ctx.lm.vars[f"{ctx.prefix}stor.{name}"].expr()


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    c = sc.config
    products, units = c.reserves, c.storage
    K, U, T, dt = len(products), len(units), ctx.T, ctx.dt
    fb.coord("reserve", [k.name for k in products])
    if not K:
        return
    up = np.array([k.direction == "up" for k in products])
    price = np.array([sc.profile(k.price) for k in products], dtype=float).reshape(K, T)
    cap = np.array(
        [np.full(T, np.nan) if k.max_mw is None else sc.profile(k.max_mw) for k in products],
        dtype=float,
    ).reshape(K, T)
    duration = np.array([k.duration for k in products], dtype=float)
    battery = np.array(["battery" in k.sources for k in products])
    eligible = np.array(
        [
            [bool(b) and (k.sites is None or u.site in k.sites) for u in units]
            for k, b in zip(products, battery, strict=True)
        ],
        dtype=bool,
    ).reshape(K, U)
    it_ok = np.array(
        [
            ["it_load" in k.sources and (k.sites is None or s in k.sites) for s in ctx.sites]
            for k in products
        ],
        dtype=bool,
    ).reshape(K, ctx.S)
    fb.input("reserve_up", up)
    fb.input("reserve_price", price)
    fb.input("reserve_max", cap)
    fb.input("reserve_duration", duration)
    fb.input("reserve_eligible", eligible)
    fb.input("reserve_it_eligible", it_ok)
    r = fb.var("p_reserve", mask=np.broadcast_to(eligible[:, :, None], (K, U, T)))
    upf = up.astype(float)
    site = ctx.site_index([u.site for u in units])
    # MW of up / down headroom per site and period, batteries and IT load together
    offered_up = (r * upf[:, None, None]).sum(0).group(0, site, ctx.S)
    has_up = np.zeros(ctx.S, bool)
    has_up[site[(eligible & up[:, None]).any(0)]] = True
    if U:
        _battery_rows(fb, ctx, units, r, eligible, up, duration)
    r_it = _it_load(fb, ctx, it_ok, up, duration)
    if r_it is not None:
        offered_up = offered_up + (r_it * upf[:, None, None]).sum(0)
        has_up |= (it_ok & up[:, None]).any(0)
        fb.cost("reserve_capacity_it", r_it * (-dt * price)[:, None, :])
    fb.constrain(
        "up_deliverable",
        offered_up - ctx.ledger.flow("metered"),
        "<=",
        0.0,
        mask=np.broadcast_to(has_up[:, None], (ctx.S, T)),
    )
    limited = ~np.isnan(cap)
    total = r.sum(1) if r_it is None else r.sum(1) + r_it.sum(1)
    fb.constrain("market_max", total, "<=", np.nan_to_num(cap), mask=limited)
    fb.cost("reserve_capacity", r * (-dt * price)[:, None, :])


def _battery_rows(fb, ctx, units, r, eligible, up, duration) -> None:
    """Battery headroom within its schedule: power and energy rows (docs: variables and rows)."""
    T = ctx.T
    P = np.array([u.power for u in units], dtype=float)[:, None]
    E = np.array([u.energy for u in units], dtype=float)[:, None]
    eta_ch = np.array([u.eta_charge for u in units], dtype=float)[:, None]
    eta_dis = np.array([u.eta_discharge for u in units], dtype=float)[:, None]
    e0 = np.array([u.soc_initial * u.energy for u in units], dtype=float)
    p_ch, p_dis, e_soc = (_battery(ctx, n) for n in ("p_charge", "p_discharge", "e_soc"))
    e_start = e_soc.shift(1, 1) + np.pad(e0[:, None], ((0, 0), (0, T - 1)))
    U = len(units)
    upf, dnf = up.astype(float), (~up).astype(float)
    r_up = (r * upf[:, None, None]).sum(0)  # MW, (storage, time)
    r_dn = (r * dnf[:, None, None]).sum(0)
    need_up = (r * (upf * duration)[:, None, None]).sum(0)  # MWh at the terminals
    need_dn = (r * (dnf * duration)[:, None, None]).sum(0)
    has_up = np.broadcast_to((eligible & up[:, None]).any(0)[:, None], (U, T))
    has_dn = np.broadcast_to((eligible & ~up[:, None]).any(0)[:, None], (U, T))
    fb.constrain("up_power", r_up + p_dis - p_ch, "<=", P, mask=has_up)
    fb.constrain("down_power", r_dn + p_ch - p_dis, "<=", P, mask=has_dn)
    fb.constrain("up_energy_start", need_up / eta_dis - e_start, "<=", 0.0, mask=has_up)
    fb.constrain("up_energy_end", need_up / eta_dis - e_soc, "<=", 0.0, mask=has_up)
    fb.constrain("down_energy_start", need_dn * eta_ch + e_start, "<=", E, mask=has_dn)
    fb.constrain("down_energy_end", need_dn * eta_ch + e_soc, "<=", E, mask=has_dn)


def it_factors(sites) -> tuple[np.ndarray, np.ndarray]:
    """MW per compute unit of IT headroom: pausing batch work (up) and adding it (down).

    Up: the dynamic power per unit of batch work (``dynamic_power``); at a site with a
    ``power_cap_curve`` the least the site saves per unit paused, the curve's first segment
    (power share / throughput share of its first point) times the full dynamic power per
    unit. Down: ``dynamic_power`` (extra work can always run uncapped).
    """
    beta = np.array([s.dynamic_power for s in sites], dtype=float)
    full = np.array(
        [max(s.dynamic_power, s.dynamic_power_interactive or 0.0) for s in sites], dtype=float
    )
    first = np.array(
        [
            s.power_cap_curve[0][0] / s.power_cap_curve[0][1] if s.power_cap_curve else np.nan
            for s in sites
        ],
        dtype=float,
    )
    return np.where(np.isnan(first), beta, first * full), beta


def lead_periods(duration: np.ndarray, dt: float) -> np.ndarray:
    """Periods a call lasts, ``ceil(D / dt)``: catch-up (or work pulled ahead) starts after."""
    return np.ceil(duration / dt - 1e-9).astype(np.int64)


def _it_load(fb, ctx, it_ok, up, duration):
    """Headroom from IT load: ``p_reserve_it``, ``z_spare``, ``z_batch`` and their rows."""
    K, S_, T, dt = len(up), ctx.S, ctx.T, ctx.dt
    r_it = fb.var("p_reserve_it", mask=np.broadcast_to(it_ok[:, :, None], (K, S_, T)))
    f_up, f_dn = it_factors(ctx.scenario.config.sites)
    fb.input("it_up_factor", f_up)
    fb.input("it_down_factor", f_dn)
    if not it_ok.any():
        return None
    lead = lead_periods(duration, dt)
    batch = ctx.ledger.flow("batch_compute")
    spare = ctx.ledger.flow("spare_compute")
    for name, kind, sources, factor, power_row, after_row, cover_row, stock in (
        ("z_spare", up, spare, f_up, "it_up_power", "spare_after", "it_up_catchup", batch),
        ("z_batch", ~up, batch, f_dn, "it_down_power", "batch_after", "it_down_ahead", spare),
    ):
        sites = (it_ok & kind[:, None]).any(0)
        mask = np.broadcast_to(sites[:, None], (S_, T))
        z = fb.var(name, mask=mask)
        if not sites.any():
            continue
        sel = kind.astype(float)
        offered = (r_it * sel[:, None, None]).sum(0)  # MW, (site, time)
        # headroom: up <= what pausing the batch work run saves; down <= what the blocks on
        # could still add
        fb.constrain(power_row, offered - stock * factor[:, None], "<=", 0.0, mask=mask)
        # z[s, t] = sum_{t' >= t} sources[s, t'] dt (compute-hours from t to the horizon end)
        fb.constrain(after_row, z - z.shift(1, -1) - sources * dt, "==", 0.0, mask=mask)
        # the work paused (or pulled ahead) over the longest call must fit after the call
        L = int(lead[kind & it_ok.any(1)].max())
        energy = (r_it * (sel * duration)[:, None, None]).sum(0) * (
            1.0 / np.where(factor > 0, factor, 1.0)
        )[:, None]
        fb.constrain(cover_row, energy - z.shift(1, -L), "<=", 0.0, mask=mask)
    return r_it


def _account(ds: xr.Dataset) -> Account:
    if not ds.sizes.get("reserve", 0) or "p_reserve" not in ds:
        return Account(flows={})
    dt = float(ds.attrs["dt_hours"])
    r = ds["p_reserve"]
    revenue = float((r * ds["reserve_price"]).sum() * dt)
    up = ds["reserve_up"].astype(bool)
    cost = {"reserve_capacity": -revenue}
    energy = {
        "reserve_offered_up": float(r.where(up, 0.0).sum() * dt),
        "reserve_offered_down": float(r.where(~up, 0.0).sum() * dt),
    }
    if "p_reserve_it" in ds and bool(ds["reserve_it_eligible"].any()):
        r_it = ds["p_reserve_it"]
        cost["reserve_capacity_it"] = -float((r_it * ds["reserve_price"]).sum() * dt)
        energy["reserve_it_offered_up"] = float(r_it.where(up, 0.0).sum() * dt)
        energy["reserve_it_offered_down"] = float(r_it.where(~up, 0.0).sum() * dt)
    return Account(flows={}, cost=cost, energy=energy)


def _reverse_cumsum(flow: xr.DataArray, dt: float) -> xr.DataArray:
    """``sum_{t' >= t} flow[s, t'] dt`` per site and period."""
    return (
        flow.isel(time=slice(None, None, -1)).cumsum("time").isel(time=slice(None, None, -1)) * dt
    )


def _check_it(ds: xr.Dataset, rows: Rows, up: xr.DataArray) -> xr.DataArray | None:
    """IT-load headroom against the batch schedule and the blocks on; returns up MW by site."""
    if "p_reserve_it" not in ds or not bool(ds["reserve_it_eligible"].any()):
        return None
    r_it = ds["p_reserve_it"]
    ok = ds["reserve_it_eligible"].astype(bool)
    rows.zero_outside("rsv.p_reserve_it.eligible", r_it, ok)
    dt = rows.dt
    flows = {
        c: sum(a.flows[c] for a in rows.accounts.values() if c in a.flows)
        for c in ("batch_compute", "spare_compute")
    }
    lead = lead_periods(ds["reserve_duration"].values, dt)
    T = ds.sizes["time"]
    for kind, factor, stock, source, power, column, after, cover in (
        (
            up,
            ds["it_up_factor"],
            "batch_compute",
            "spare_compute",
            "it_up_power",
            "z_spare",
            "spare_after",
            "it_up_catchup",
        ),
        (
            ~up,
            ds["it_down_factor"],
            "spare_compute",
            "batch_compute",
            "it_down_power",
            "z_batch",
            "batch_after",
            "it_down_ahead",
        ),
    ):
        sites = (ok & kind).any("reserve")
        if not bool(sites.any()):
            continue
        offered = r_it.where(kind, 0.0).sum("reserve")
        limit = (factor * flows[stock]).where(sites)
        rows.le(f"rsv.{power}", offered, limit, scale=limit)
        z = _reverse_cumsum(flows[source], dt)
        rows.eq(f"rsv.{after}", ds[column].where(sites), z.where(sites), scale=z)
        L = int(lead[(kind & ok.any("site")).values].max())
        ahead = z.shift(time=-L).fillna(0.0) if L < T else xr.zeros_like(z)
        need = (r_it * ds["reserve_duration"]).where(kind, 0.0).sum("reserve") / factor.where(
            factor > 0, 1.0
        )
        rows.le(f"rsv.{cover}", need, ahead.where(sites), scale=ahead)
    return r_it.where(up, 0.0).sum("reserve")


def _check(ds: xr.Dataset, rows: Rows) -> None:
    """Headroom against the battery schedule, the batch schedule and the metered draw."""
    if not ds.sizes.get("reserve", 0) or "p_reserve" not in ds:
        return
    r = ds["p_reserve"]
    up = ds["reserve_up"].astype(bool)
    offered = _check_it(ds, rows, up)
    has_it = (
        None if offered is None else (ds["reserve_it_eligible"].astype(bool) & up).any("reserve")
    )
    if ds.sizes.get("storage"):
        eligible = ds["reserve_eligible"].astype(bool)
        rows.zero_outside("rsv.p_reserve.eligible", r, eligible)
        has_up = (eligible & up).any("reserve")
        _check_battery(ds, rows, r, up, eligible, has_up)
        battery_up = by_site(r.where(up, 0.0).sum("reserve"), ds["storage_site"], ds["site"])
        at = by_site(has_up.astype(float), ds["storage_site"], ds["site"]) > 0
        offered = battery_up if offered is None else offered + battery_up
        has_it = at if has_it is None else has_it | at
    flows = [a.flows["metered"] for a in rows.accounts.values() if "metered" in a.flows]
    if flows and offered is not None:
        metered = sum(flows[1:], flows[0])
        rows.le("rsv.up_deliverable", offered, metered.where(has_it), scale=metered)
    cap = ds["reserve_max"]
    total = r.sum("storage")
    if "p_reserve_it" in ds:
        total = total + ds["p_reserve_it"].sum("site")
    rows.le("rsv.market_max", total, cap, scale=cap)


def _check_battery(ds, rows, r, up, eligible, has_up) -> None:
    """The battery rows, from the Dataset."""
    dur = ds["reserve_duration"]
    P, E = ds["storage_power"], ds["storage_energy"]
    soc = ds["e_soc"]
    start = soc.shift(time=1)
    start[{"time": 0}] = ds["soc_initial"] * E
    p_ch, p_dis = ds["p_charge"], ds["p_discharge"]
    r_up = r.where(up, 0.0).sum("reserve")
    r_dn = r.where(~up, 0.0).sum("reserve")
    need_up = (r * dur).where(up, 0.0).sum("reserve")
    need_dn = (r * dur).where(~up, 0.0).sum("reserve")
    has_dn = (eligible & ~up).any("reserve")
    nan = np.nan
    rows.le("rsv.up_power", r_up + p_dis - p_ch, P.where(has_up, nan), scale=P)
    rows.le("rsv.down_power", r_dn + p_ch - p_dis, P.where(has_dn, nan), scale=P)
    rows.le("rsv.up_energy_start", need_up / ds["eta_discharge"], start.where(has_up), scale=E)
    rows.le("rsv.up_energy_end", need_up / ds["eta_discharge"], soc.where(has_up), scale=E)
    rows.le("rsv.down_energy_start", need_dn * ds["eta_charge"], (E - start).where(has_dn), scale=E)
    rows.le("rsv.down_energy_end", need_dn * ds["eta_charge"], (E - soc).where(has_dn), scale=E)


_K = ("reserve",)


def _estimate(sc, options) -> int:
    """Columns of ``reserves``, counted with the build's eligibility masks.

    ``p_reserve`` per (product, eligible battery, period), ``p_reserve_it`` per (product,
    eligible site, period), ``z_spare`` / ``z_batch`` per (site offering up / down IT
    headroom, period).
    """
    c = sc.config
    units, sites = c.storage, [s.name for s in c.sites]
    cells = 0
    up_sites: set[str] = set()
    down_sites: set[str] = set()
    for k in c.reserves:
        ok = [s for s in sites if k.sites is None or s in k.sites]
        if "battery" in k.sources:
            cells += sum(k.sites is None or u.site in k.sites for u in units)
        if "it_load" in k.sources:
            cells += len(ok)
            (up_sites if k.direction == "up" else down_sites).update(ok)
    return (cells + len(up_sites) + len(down_sites)) * sc.periods


COMPONENT = Component(
    name="rsv",
    sections=("reserves",),
    doc="reserve headroom from batteries and IT load, within the energy schedule",
    outputs=(
        Output("p_reserve", ("reserve", "storage", "time"), "MW", "headroom offered"),
        Output("reserve_up", _K, "bool", "up product (false: down)", role="input"),
        Output("reserve_price", ("reserve", "time"), "CNY/MW/h", "price offered", role="input"),
        Output("reserve_max", ("reserve", "time"), "MW", "market cap (NaN: none)", role="input"),
        Output("reserve_duration", _K, "h", "headroom sustained on call", role="input"),
        Output(
            "reserve_eligible",
            ("reserve", "storage"),
            "bool",
            "battery may offer to the product",
            role="input",
        ),
        Output(
            "p_reserve_it",
            ("reserve", "site", "time"),
            "MW",
            "headroom offered from the site's IT load (batch work)",
        ),
        Output(
            "z_spare",
            ("site", "time"),
            "{compute} h",
            "spare compute-hours on the blocks on from the period to the horizon end",
        ),
        Output(
            "z_batch",
            ("site", "time"),
            "{compute} h",
            "batch compute-hours run from the period to the horizon end",
        ),
        Output(
            "reserve_it_eligible",
            ("reserve", "site"),
            "bool",
            "the site's IT load may offer to the product",
            role="input",
        ),
        Output(
            "it_up_factor",
            ("site",),
            "MW/{compute}",
            "least IT power saved per compute unit of batch work paused",
            role="input",
        ),
        Output(
            "it_down_factor",
            ("site",),
            "MW/{compute}",
            "IT power added per compute unit of batch work run faster",
            role="input",
        ),
    ),
    build=_build,
    estimate=_estimate,
    account=_account,
    check=_check,
    kind="policy",
)
