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
        None, description="sites whose batteries may offer (default: every site)"
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
    eligible = np.array(
        [[k.sites is None or u.site in k.sites for u in units] for k in products], dtype=bool
    ).reshape(K, U)
    fb.input("reserve_up", up)
    fb.input("reserve_price", price)
    fb.input("reserve_max", cap)
    fb.input("reserve_duration", duration)
    fb.input("reserve_eligible", eligible)
    r = fb.var("p_reserve", mask=np.broadcast_to(eligible[:, :, None], (K, U, T)))
    if not U:
        return

    P = np.array([u.power for u in units], dtype=float)[:, None]
    E = np.array([u.energy for u in units], dtype=float)[:, None]
    eta_ch = np.array([u.eta_charge for u in units], dtype=float)[:, None]
    eta_dis = np.array([u.eta_discharge for u in units], dtype=float)[:, None]
    e0 = np.array([u.soc_initial * u.energy for u in units], dtype=float)
    p_ch, p_dis, e_soc = (_battery(ctx, n) for n in ("p_charge", "p_discharge", "e_soc"))
    e_start = e_soc.shift(1, 1) + np.pad(e0[:, None], ((0, 0), (0, T - 1)))

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
    site = ctx.site_index([u.site for u in units])
    fb.constrain(
        "up_deliverable",
        r_up.group(0, site, ctx.S) - ctx.ledger.flow("metered"),
        "<=",
        0.0,
        mask=np.broadcast_to(
            np.bincount(site[has_up[:, 0]], minlength=ctx.S)[:, None] > 0, (ctx.S, T)
        ),
    )
    limited = ~np.isnan(cap)
    fb.constrain("market_max", r.sum(1), "<=", np.nan_to_num(cap), mask=limited)
    fb.cost("reserve_capacity", r * (-dt * price)[:, None, :])


def _account(ds: xr.Dataset) -> Account:
    if not ds.sizes.get("reserve", 0) or "p_reserve" not in ds:
        return Account(flows={})
    dt = float(ds.attrs["dt_hours"])
    r = ds["p_reserve"]
    revenue = float((r * ds["reserve_price"]).sum() * dt)
    up = ds["reserve_up"].astype(bool)
    return Account(
        flows={},
        cost={"reserve_capacity": -revenue},
        energy={
            "reserve_offered_up": float(r.where(up, 0.0).sum() * dt),
            "reserve_offered_down": float(r.where(~up, 0.0).sum() * dt),
        },
    )


def _check(ds: xr.Dataset, rows: Rows) -> None:
    """Headroom against the battery schedule and the site's metered draw, from the Dataset."""
    if not ds.sizes.get("reserve", 0) or "p_reserve" not in ds or not ds.sizes.get("storage"):
        return
    r = ds["p_reserve"]
    up = ds["reserve_up"].astype(bool)
    eligible = ds["reserve_eligible"].astype(bool)
    rows.zero_outside("rsv.p_reserve.eligible", r, eligible)
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
    has_up = (eligible & up).any("reserve")
    has_dn = (eligible & ~up).any("reserve")
    nan = np.nan
    rows.le("rsv.up_power", r_up + p_dis - p_ch, P.where(has_up, nan), scale=P)
    rows.le("rsv.down_power", r_dn + p_ch - p_dis, P.where(has_dn, nan), scale=P)
    rows.le("rsv.up_energy_start", need_up / ds["eta_discharge"], start.where(has_up), scale=E)
    rows.le("rsv.up_energy_end", need_up / ds["eta_discharge"], soc.where(has_up), scale=E)
    rows.le("rsv.down_energy_start", need_dn * ds["eta_charge"], (E - start).where(has_dn), scale=E)
    rows.le("rsv.down_energy_end", need_dn * ds["eta_charge"], (E - soc).where(has_dn), scale=E)
    flows = [a.flows["metered"] for a in rows.accounts.values() if "metered" in a.flows]
    if flows:
        metered = sum(flows[1:], flows[0])
        offered = by_site(r_up, ds["storage_site"], ds["site"])
        at = by_site(has_up.astype(float), ds["storage_site"], ds["site"]) > 0
        rows.le("rsv.up_deliverable", offered, metered.where(at), scale=metered)
    cap = ds["reserve_max"]
    rows.le("rsv.market_max", r.sum("storage"), cap, scale=cap)


_K = ("reserve",)
COMPONENT = Component(
    name="rsv",
    sections=("reserves",),
    doc="reserve headroom from batteries, within the energy schedule",
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
    ),
    build=_build,
    account=_account,
    check=_check,
    kind="policy",
)
