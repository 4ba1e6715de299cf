"""Reserve headroom offered by providers' units and IT load, consistent with the schedule.

Math: ``docs/math/reserves.md``. Component ``rsv`` (built with the policies, after the
ledgers). Scenario section ``reserves`` (:class:`ReserveProduct`): a product is up (the site
can draw less on call) or down (draw more), priced per MW and hour offered, with a duration
the headroom must last and an optional market cap. Headroom comes from the provider units of
the product's sites (any family that offers it through
:meth:`~suandian.component.FamilyBuilder.headroom`: the batteries) and must fit what each
unit's schedule leaves: power (``up_power``, ``down_power``), energy for the duration at the
start and the end of each period (``up_energy_*``, ``down_energy_*``) and, for up reserve, the
site's metered draw (a behind-the-meter battery lowers the site's import, it does not export:
``up_deliverable``).

This component reads the ledger (``metered``, ``batch_compute``, ``spare_compute``) and the
headroom the families offered (``Context.headroom``), never a family's columns by name. Cost
term ``reserve_capacity`` (a revenue: negative cost).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import xarray as xr
from pydantic import Field

from ..checks import Rows, by_site, period_weight
from ..component import (
    HEADROOM,
    Account,
    Component,
    Context,
    FamilyBuilder,
    Name,
    Output,
    Positive,
    Profile,
    Range,
)
from ..component import Section as _Model
from ..linear import Expr

#: what may offer headroom to a product
Source = Literal["battery", "it_load"]


def _batteries() -> list[Source]:
    return ["battery"]


class ReserveProduct(_Model):
    """A reserve product the sites' batteries may offer headroom to."""

    name: Name = Field(description="product name")
    direction: Literal["up", "down"] = Field(
        description="'up': the site can draw less on call (discharge more / charge less); "
        "'down': draw more (charge more / discharge less)"
    )
    price: Annotated[Profile, Range(low=None, what="prices")] = Field(
        description="CNY per MW of headroom offered, per hour"
    )
    duration: Positive = Field(1.0, description="h the headroom must be sustainable on call")
    max_mw: Annotated[Profile | None, Range(what="market caps (MW)")] = Field(
        None, description="MW the product takes at most per period, over all batteries"
    )
    sites: list[Name] | None = Field(
        None, description="sites whose batteries (or IT load) may offer (default: every site)"
    )
    sources: list[Source] = Field(
        default_factory=_batteries,
        min_length=1,
        description="what may offer headroom: 'battery' (the sites' batteries) and/or "
        "'it_load' (pausing batch work for up, running it faster for down)",
    )


def _stack(parts: list[Expr], n: int, offsets: list[int]) -> Expr:
    """Expressions of shape (U_i, T) stacked along the unit axis into (n, T) (one or more)."""
    out: Expr | None = None
    for e, at in zip(parts, offsets, strict=True):
        g = e.group(0, np.arange(e.shape[0]) + at, n)
        out = g if out is None else out + g
    assert out is not None, "nothing to stack"
    return out


def _providers(ctx: Context):
    """Every unit's headroom stacked over the providers: labels, sites, families, exprs."""
    offers = ctx.headroom
    labels = [u for h in offers for u in h.units]
    if len(set(labels)) != len(labels):
        raise ValueError(f"reserve providers' unit labels must be unique: {labels}")
    sizes = [len(h.units) for h in offers]
    offsets = list(np.cumsum([0, *sizes])[:-1])
    n, T = len(labels), ctx.T
    exprs = {}
    for carrier in HEADROOM:
        pair = carrier.startswith("reserve_energy")
        for i in range(2 if pair else 1):
            parts = []
            for h, size in zip(offers, sizes, strict=True):
                e = h.exprs.get(carrier)
                # none offered: 0 MW, 0 MWh
                parts.append(Expr.zeros((size, T)) if e is None else (e[i] if pair else e))
            exprs[(carrier, i)] = _stack(parts, n, offsets) if parts else None
    site = np.concatenate([h.site for h in offers]) if offers else np.zeros(0, np.int64)
    family = [h.family for h, size in zip(offers, sizes, strict=True) for _ in range(size)]
    return labels, site, family, exprs


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    c = sc.config
    products = c.reserves
    K, T, dt = len(products), ctx.T, ctx.dt
    fb.coord("reserve", [k.name for k in products])
    labels, site, family, headroom = _providers(ctx)
    U = len(labels)
    fb.coord("provider", labels)
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
            [bool(b) and (k.sites is None or ctx.sites[i] in k.sites) for i in site]
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
    fb.input("provider_site", np.array([ctx.sites[i] for i in site], dtype=object))
    fb.input("provider_family", np.array(family, dtype=object))
    r = fb.var("p_reserve", mask=np.broadcast_to(eligible[:, :, None], (K, U, T)))
    upf = up.astype(float)
    # MW of up / down headroom per site and period, providers and IT load together
    offered_up = (r * upf[:, None, None]).sum(0).group(0, site, ctx.S)
    has_up = np.zeros(ctx.S, bool)
    has_up[site[(eligible & up[:, None]).any(0)]] = True
    if U:
        _unit_rows(fb, headroom, r, eligible, up, duration)
    r_it = _it_load(fb, ctx, it_ok, up, duration)
    if r_it is not None:
        offered_up = offered_up + (r_it * upf[:, None, None]).sum(0)
        has_up |= (it_ok & up[:, None]).any(0)
        fb.cost("reserve_capacity_it", r_it * (-dt * price)[:, None, :], per_period=True)
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
    fb.cost("reserve_capacity", r * (-dt * price)[:, None, :], per_period=True)


def _unit_rows(fb, headroom, r, eligible, up, duration) -> None:
    """Offers within each unit's headroom: power and energy rows (docs: variables and rows)."""
    U, T = r.shape[1], r.shape[2]
    upf, dnf = up.astype(float), (~up).astype(float)
    r_up = (r * upf[:, None, None]).sum(0)  # MW, (provider, time)
    r_dn = (r * dnf[:, None, None]).sum(0)
    need_up = (r * (upf * duration)[:, None, None]).sum(0)  # MWh delivered on call
    need_dn = (r * (dnf * duration)[:, None, None]).sum(0)
    has_up = np.broadcast_to((eligible & up[:, None]).any(0)[:, None], (U, T))
    has_dn = np.broadcast_to((eligible & ~up[:, None]).any(0)[:, None], (U, T))
    h = headroom
    fb.constrain("up_power", r_up - h[("reserve_up", 0)], "<=", 0.0, mask=has_up)
    fb.constrain("down_power", r_dn - h[("reserve_down", 0)], "<=", 0.0, mask=has_dn)
    for name, need, carrier, i, mask in (
        ("up_energy_start", need_up, "reserve_energy_up", 0, has_up),
        ("up_energy_end", need_up, "reserve_energy_up", 1, has_up),
        ("down_energy_start", need_dn, "reserve_energy_down", 0, has_dn),
        ("down_energy_end", need_dn, "reserve_energy_down", 1, has_dn),
    ):
        fb.constrain(name, need - h[(carrier, i)], "<=", 0.0, mask=mask)


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
    w = period_weight(ds)
    r = ds["p_reserve"] * w
    revenue = float((r * ds["reserve_price"]).sum() * dt)
    up = ds["reserve_up"].astype(bool)
    cost = {"reserve_capacity": -revenue}
    energy = {
        "reserve_offered_up": float(r.where(up, 0.0).sum() * dt),
        "reserve_offered_down": float(r.where(~up, 0.0).sum() * dt),
    }
    if "p_reserve_it" in ds and bool(ds["reserve_it_eligible"].any()):
        r_it = ds["p_reserve_it"] * w
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
    """Headroom against the providers' schedules, the batch schedule and the metered draw."""
    if not ds.sizes.get("reserve", 0) or "p_reserve" not in ds:
        return
    r = ds["p_reserve"]
    up = ds["reserve_up"].astype(bool)
    offered = _check_it(ds, rows, up)
    has_it = (
        None if offered is None else (ds["reserve_it_eligible"].astype(bool) & up).any("reserve")
    )
    if ds.sizes.get("provider"):
        eligible = ds["reserve_eligible"].astype(bool)
        rows.zero_outside("rsv.p_reserve.eligible", r, eligible)
        has_up = (eligible & up).any("reserve")
        _check_units(ds, rows, r, up, eligible, has_up)
        unit_up = by_site(r.where(up, 0.0).sum("reserve"), ds["provider_site"], ds["site"])
        at = by_site(has_up.astype(float), ds["provider_site"], ds["site"]) > 0
        offered = unit_up if offered is None else offered + unit_up
        has_it = at if has_it is None else has_it | at
    flows = [a.flows["metered"] for a in rows.accounts.values() if "metered" in a.flows]
    if flows and offered is not None:
        metered = sum(flows[1:], flows[0])
        rows.le("rsv.up_deliverable", offered, metered.where(has_it), scale=metered)
    cap = ds["reserve_max"]
    total = r.sum("provider")
    if "p_reserve_it" in ds:
        total = total + ds["p_reserve_it"].sum("site")
    rows.le("rsv.market_max", total, cap, scale=cap)


def headroom_of(ds: xr.Dataset, accounts: dict) -> dict:
    """Each provider unit's headroom recomputed by its family's account, dims (provider, time).

    Keys ``(carrier, i)`` as in the build (``i``: 0, or 1 for the end-of-period energy); a
    carrier a family does not offer is 0.
    """
    family = ds["provider_family"].values
    zeros = xr.zeros_like(ds["p_reserve"].isel(reserve=0, drop=True), dtype=float)
    out = {}
    for carrier in HEADROOM:
        for i in (0, 1) if carrier.startswith("reserve_energy") else (0,):
            total = zeros.copy()
            for name in dict.fromkeys(family):
                values = accounts[name].headroom.get(carrier) if name in accounts else None
                if values is None:
                    continue
                part = values[i] if carrier.startswith("reserve_energy") else values
                at = family == name
                total.values[at] = part.transpose(..., "time").values
            out[(carrier, i)] = total
    return out


def _check_units(ds, rows, r, up, eligible, has_up) -> None:
    """The per-unit rows, against the headroom each provider's account recomputes."""
    h = headroom_of(ds, rows.accounts)
    dur = ds["reserve_duration"]
    r_up = r.where(up, 0.0).sum("reserve")
    r_dn = r.where(~up, 0.0).sum("reserve")
    need_up = (r * dur).where(up, 0.0).sum("reserve")
    need_dn = (r * dur).where(~up, 0.0).sum("reserve")
    has_dn = (eligible & ~up).any("reserve")
    for name, lhs, carrier, i, at in (
        ("up_power", r_up, "reserve_up", 0, has_up),
        ("down_power", r_dn, "reserve_down", 0, has_dn),
        ("up_energy_start", need_up, "reserve_energy_up", 0, has_up),
        ("up_energy_end", need_up, "reserve_energy_up", 1, has_up),
        ("down_energy_start", need_dn, "reserve_energy_down", 0, has_dn),
        ("down_energy_end", need_dn, "reserve_energy_down", 1, has_dn),
    ):
        limit = h[(carrier, i)]
        rows.le(f"rsv.{name}", lhs, limit.where(at), scale=limit)


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
    stateless="offers are per period and their energy rows within the period",
    outputs=(
        Output(
            "p_reserve",
            ("reserve", "provider", "time"),
            "MW",
            "headroom offered by a unit",
            first_stage=True,
        ),
        Output("reserve_up", _K, "bool", "up product (false: down)", role="input"),
        Output("reserve_price", ("reserve", "time"), "CNY/MW/h", "price offered", role="input"),
        Output("reserve_max", ("reserve", "time"), "MW", "market cap (NaN: none)", role="input"),
        Output("reserve_duration", _K, "h", "headroom sustained on call", role="input"),
        Output(
            "reserve_eligible",
            ("reserve", "provider"),
            "bool",
            "the provider unit may offer to the product",
            role="input",
        ),
        Output("provider_site", ("provider",), "text", "site of the provider unit", role="input"),
        Output(
            "provider_family",
            ("provider",),
            "text",
            "component offering the unit's headroom",
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
