"""Green-power purchases: cross-province corridors, local green contracts, certificates.

Math: ``docs/math/green_power.md``. Block ``m.green``; ports ``power``, ``intake``,
``metered``, ``green``, ``grid_mix`` (MW: the non-green part of contract deliveries, the
receiving node's mix), ``remote_cfe`` (MW: the carbon-free part of the non-green corridor
deliveries at the sending node's ``grid_cfe``), ``certificates`` (MWh, horizon), ``co2``
(tCO2/h: the receiving node's grid factor applies to all energy delivered through the grid,
location-based), ``co2_market`` (tCO2/h: the non-green part of deliveries at the receiving
node's residual factor; horizon part: minus certificates at that node's mean residual
factor); cost terms ``corridor``, ``corridor_deviation``, ``green_contract`` and
``certificates`` (CNY).

A corridor's price is the sending-end price plus the transmission tariff, per MWh sent
(inputs ``corridor_source_price``, ``corridor_tariff``, their sum ``corridor_price``); the
receiving node's network charge applies to the delivered energy through the ``metered``
port. The loss is either physical (``loss_basis`` ``physical``: the sites get
``(1 - loss)`` of what is sent) or inside the tariff (``in_tariff``: ``loss`` is 0, energy is
settled as delivered). With ``green_profile`` the green part of what is sent
(``p_send_green``) is bounded by the sending end's contracted renewable output; with
deviation prices a block corridor may take energy off its blocks (``p_dev_up``,
``p_dev_down``), the blocks held being paid in full.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from ..checks import Rows, attr, committed_share, counted_share, node_series, period_weight
from ..component import (
    Account,
    Component,
    Context,
    FamilyBuilder,
    Limit,
    Output,
    Violation,
    capacity_cost,
    capacity_outputs,
    check_capacities,
)
from ..linear import Expr, Var

if TYPE_CHECKING:
    from ..errors import Problem
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs


def _optional(sc, values: list, T: int) -> np.ndarray:
    """(len(values), T) array of optional profiles, NaN where a value is None."""
    rows = [np.full(T, np.nan) if v is None else sc.profile(v) for v in values]
    return np.array(rows, dtype=float).reshape(len(values), T)


@dataclass
class _Corridors:
    """Per-corridor data of the build (corridor, time unless said), recorded as inputs.

    Attributes
    ----------
    cap, price : numpy.ndarray
        Capacity (MW sent) and price (CNY/MWh sent: source price plus tariff).
    windows : numpy.ndarray
        Block window of each period (-1: outside every window).
    loss, gf, min_mw, block_mw : numpy.ndarray
        Per corridor: loss share, green share, minimum MW sent, block size (NaN: no blocks).
    green_cap, price_up, price_down : numpy.ndarray
        Green profile (MW) and deviation prices (CNY/MWh); NaN where not given.
    profiled, up_ok, down_ok, blocked : numpy.ndarray
        Per corridor: has a green profile, a price up, a price down, blocks.
    pairs : list of (int, int)
        The (corridor, window) pairs with a block column (dimension ``block``).
    """

    cap: np.ndarray
    price: np.ndarray
    windows: np.ndarray
    loss: np.ndarray
    gf: np.ndarray
    min_mw: np.ndarray
    block_mw: np.ndarray
    green_cap: np.ndarray
    price_up: np.ndarray
    price_down: np.ndarray
    profiled: np.ndarray
    up_ok: np.ndarray
    down_ok: np.ndarray
    blocked: np.ndarray
    pairs: list[tuple[int, int]]

    @property
    def settled(self) -> np.ndarray:
        """Block corridors settled on the blocks held (those with a deviation price)."""
        return self.up_ok | self.down_ok


@dataclass
class _Sent:
    """What the corridors send: columns and expressions (``None``: not built)."""

    p_send: Var
    sent: Expr
    held: Expr
    p_dev_up: Var | None
    p_dev_down: Var | None


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    """Corridors, contracts and certificates; the green part; ports and costs."""
    c = ctx.scenario.config
    G, S_, T = len(c.green_contracts), ctx.S, ctx.T
    k = _corridor_inputs(fb, ctx)
    con_cap, con_price, con_green = _contract_inputs(fb, ctx)
    site_node = [s.node for s in c.sites]
    send_ok = _at_sites([cor.to_node for cor in c.corridors], site_node)
    s = _corridor_rows(fb, ctx, k, send_ok)
    # contracts
    take_ok = _at_sites([g.node for g in c.green_contracts], site_node)
    p_contract = fb.var("p_contract", mask=np.broadcast_to(take_ok[:, :, None], (G, S_, T)))
    fb.constrain("contract_capacity", p_contract.sum(1), "<=", con_cap)
    _contract_limit(
        fb, "contract_mw", "green_contract_mw", "contract", c.green_contracts, p_contract.sum(1)
    )
    # certificates
    e_cert = fb.var("e_certificate", ub=np.inf if c.certificates is not None else 0.0)
    cert_price = c.certificates.price if c.certificates is not None else 0.0
    fb.attrs["certificate_price"] = np.nan if c.certificates is None else cert_price

    green_sent = _green_part(fb, ctx, k, send_ok, s.p_send)
    keep = (1.0 - k.loss)[:, None, None]
    contract = p_contract.sum(0)
    contract_green = (p_contract * con_green[:, None, None]).sum(0)
    delivered = (s.p_send * keep).sum(0) + contract
    green = (green_sent * keep).sum(0) + contract_green
    # the non-green part of corridor deliveries is energy of the sending grid: its
    # carbon-free part at the sending node's grid_cfe (hourly CFE, remote_cfe)
    remote = ((s.p_send - green_sent) * (keep * _sending_cfe(ctx)[:, None, :])).sum(0)
    _ports(fb, ctx, delivered, green, contract - contract_green, remote, e_cert)
    _cost_corridors(fb, ctx, k, s)
    fb.cost("green_contract", p_contract * (ctx.dt * con_price)[:, None, :], per_period=True)
    fb.cost("certificates", e_cert * cert_price, per_period=False)


def _sending_cfe(ctx: Context) -> np.ndarray:
    """Carbon-free share of each corridor's sending node's grid mix (corridor, time)."""
    sc = ctx.scenario
    nodes = {n.name: n for n in sc.config.nodes}
    cors = sc.config.corridors
    rows = [sc.profile(nodes[k.from_node].grid_cfe) for k in cors]
    return np.array(rows, dtype=float).reshape(len(cors), ctx.T)


def _at_sites(nodes: list[str], site_node: list[str]) -> np.ndarray:
    """(item, site): whether each item (at ``nodes``) is at the node of each site."""
    at = np.array([[n == s for s in site_node] for n in nodes], bool)
    return at.reshape(len(nodes), len(site_node))


def _corridor_inputs(fb: FamilyBuilder, ctx: Context) -> _Corridors:
    """Corridor data and the block windows; declares ``corridor``, ``contract``, ``block``."""
    sc = ctx.scenario
    cors, T = sc.config.corridors, ctx.T
    K = len(cors)
    fb.coord("corridor", [k.name for k in cors])
    fb.coord("contract", [g.name for g in sc.config.green_contracts])
    windows = np.array([sc.window_ids(k.windows) for k in cors], dtype=np.int64).reshape(K, T)
    blocked = np.array([k.block_mw is not None for k in cors], dtype=bool)
    pairs = [
        (i, int(w)) for i in range(K) if blocked[i] for w in np.unique(windows[i][windows[i] >= 0])
    ]
    fb.coord(
        "block",
        range(len(pairs)),
        block_corridor=np.array([cors[i].name for i, _ in pairs], dtype=object),
        block_window=np.array([w for _, w in pairs], dtype=np.int64),
    )
    ctx.coords["block:key"] = ["block_corridor", "block_window"]

    cap = np.array([sc.profile(k.capacity) for k in cors]).reshape(K, T)
    source = np.array([sc.profile(k.source_price) for k in cors]).reshape(K, T)
    tariff = np.array([k.tariff for k in cors], dtype=float)
    price = source + tariff[:, None]
    out = _Corridors(
        cap=cap,
        price=price,
        windows=windows,
        loss=np.array([k.loss for k in cors]),
        gf=np.array([k.green_fraction for k in cors]),
        min_mw=np.array([k.min_mw for k in cors]),
        block_mw=np.array([np.nan if k.block_mw is None else k.block_mw for k in cors]),
        green_cap=_optional(sc, [k.green_profile for k in cors], T),
        price_up=_optional(sc, [k.deviation_price_up for k in cors], T),
        price_down=_optional(sc, [k.deviation_price_down for k in cors], T),
        profiled=np.array([k.green_profile is not None for k in cors], dtype=bool),
        up_ok=np.array([k.deviation_price_up is not None for k in cors], dtype=bool),
        down_ok=np.array([k.deviation_price_down is not None for k in cors], dtype=bool),
        blocked=blocked,
        pairs=pairs,
    )
    fb.input("corridor_to_node", np.array([k.to_node for k in cors], dtype=object))
    fb.input("corridor_from_node", np.array([k.from_node for k in cors], dtype=object))
    fb.input("corridor_capacity", cap)
    fb.input("corridor_source_price", source)
    fb.input("corridor_tariff", tariff)
    fb.input("corridor_price", price)
    fb.input("corridor_loss", out.loss)
    fb.input("corridor_loss_basis", np.array([k.loss_basis for k in cors], dtype=object))
    fb.input("corridor_green_fraction", out.gf)
    fb.input("corridor_green_profile", out.green_cap)
    fb.input("corridor_min", out.min_mw)
    fb.input("corridor_block_mw", out.block_mw)
    fb.input("corridor_window", windows)
    fb.input("corridor_deviation_price_up", out.price_up)
    fb.input("corridor_deviation_price_down", out.price_down)
    return out


def _contract_inputs(fb: FamilyBuilder, ctx: Context) -> tuple[np.ndarray, ...]:
    """Contract capacity and price (contract, time) and whether each is green (1/0)."""
    sc = ctx.scenario
    cons = sc.config.green_contracts
    G = len(cons)
    con_cap = np.array([sc.profile(g.capacity) for g in cons]).reshape(G, ctx.T)
    con_price = np.array([sc.profile(g.price) for g in cons]).reshape(G, ctx.T)
    fb.input("contract_node", np.array([g.node for g in cons], dtype=object))
    fb.input("contract_capacity", con_cap)
    fb.input("contract_price", con_price)
    fb.input("contract_gec", np.array([g.gec for g in cons], dtype=object))
    con_green = np.array([g.gec != "none" for g in cons], dtype=float)
    fb.input("contract_green", con_green)
    return con_cap, con_price, con_green


def _contract_limit(fb: FamilyBuilder, row: str, capacity: str, dim: str, items, flow) -> None:
    """Row ``row``: ``flow`` (items x time, MW) <= each item's ``contract_mw``.

    The contract MW is a number or chosen (``fb.capacity`` named ``capacity`` along ``dim``);
    an item without one (None) has no row.
    """
    has = np.array([it.contract_mw is not None for it in items], dtype=bool)
    mw = fb.capacity(
        capacity, [np.nan if it.contract_mw is None else it.contract_mw for it in items], dim
    )
    shape = (len(items), fb.ctx.T)
    fb.constrain(row, flow, "<=", fb.along(mw, shape), mask=np.broadcast_to(has[:, None], shape))


def _corridor_rows(fb: FamilyBuilder, ctx: Context, k: _Corridors, send_ok: np.ndarray) -> _Sent:
    """What each corridor sends: capacity, minimum, blocks held and deviations off them."""
    (K, S_), T = send_ok.shape, ctx.T
    p_send = fb.var("p_send", mask=np.broadcast_to(send_ok[:, :, None], (K, S_, T)))
    sent = p_send.sum(1)
    fb.constrain("corridor_capacity", sent, "<=", k.cap)
    cors = ctx.scenario.config.corridors
    _contract_limit(fb, "corridor_contract", "corridor_contract_mw", "corridor", cors, sent)
    fb.constrain(
        "corridor_min",
        sent,
        ">=",
        k.min_mw[:, None],
        mask=np.broadcast_to((k.min_mw > 0)[:, None], (K, T)),
    )
    n_block = fb.var("n_block")
    windows, pairs = k.windows, k.pairs
    if pairs:
        index = {p: i for i, p in enumerate(pairs)}
        kk, tt = np.nonzero(k.blocked[:, None] & (windows >= 0))
        cols = n_block.cols[
            [index[(int(i), int(windows[i, t]))] for i, t in zip(kk, tt, strict=True)]
        ]
        held = Expr.cells((K, T), (kk, tt), cols, k.block_mw[kk])
    else:
        held = Expr.zeros((K, T))
    # deviations off the blocks, only inside the windows of corridors with deviation prices
    off = sent - held
    open_ = windows >= 0
    p_dev_up = p_dev_down = None
    if k.up_ok.any():
        p_dev_up = fb.var("p_dev_up", mask=k.up_ok[:, None] & open_)
        off = off - p_dev_up
    if k.down_ok.any():
        down = k.down_ok[:, None] & open_
        p_dev_down = fb.var("p_dev_down", mask=down)
        off = off + p_dev_down
        fb.constrain("corridor_held", held, "<=", k.cap, mask=down)
        fb.constrain("corridor_dev_down", p_dev_down - held, "<=", 0.0, mask=down)
    blocked = np.broadcast_to(k.blocked[:, None], (K, T))
    fb.constrain("corridor_block", off, "==", 0.0, mask=blocked)
    return _Sent(p_send, sent, held, p_dev_up, p_dev_down)


def _green_part(
    fb: FamilyBuilder, ctx: Context, k: _Corridors, send_ok: np.ndarray, p_send: Var
) -> Expr:
    """The green part of what is sent (MW at the sending end; corridor, site, time).

    The corridor's green share, or with a green profile the column ``p_send_green``, at most
    that share and, over the sites, at most the profile.
    """
    (K, S_), T = send_ok.shape, ctx.T
    green_sent = p_send * np.where(k.profiled, 0.0, k.gf)[:, None, None]
    if k.profiled.any():
        cells = np.broadcast_to((send_ok & k.profiled[:, None])[:, :, None], (K, S_, T))
        p_send_green = fb.var("p_send_green", mask=cells)
        fb.constrain(
            "corridor_green_share",
            p_send_green - p_send * k.gf[:, None, None],
            "<=",
            0.0,
            mask=cells,
        )
        fb.constrain(
            "corridor_green_profile",
            p_send_green.sum(1),
            "<=",
            np.nan_to_num(k.green_cap),
            mask=np.broadcast_to(k.profiled[:, None], (K, T)),
        )
        green_sent = green_sent + p_send_green
    return green_sent


def _ports(
    fb: FamilyBuilder,
    ctx: Context,
    delivered: Expr,
    green: Expr,
    mix: Expr,
    remote: Expr,
    e_cert: Var,
) -> None:
    """Energy delivered to the sites, its green part, certificates and emissions.

    ``mix`` is the receiving node's grid-mix energy among the deliveries (contracts without
    GECs), ``remote`` the carbon-free MW of the non-green corridor deliveries at the sending
    node's share. Emissions stay at the receiving node's factors: location-based is the grid
    where the energy is consumed, market-based the residual mix of its market (GHG Protocol
    Scope 2; docs/math/accounting.md).
    """
    sc, T = ctx.scenario, ctx.T
    node_pos = {n.name: i for i, n in enumerate(sc.config.nodes)}
    at = np.array([node_pos[s.node] for s in sc.config.sites], dtype=np.int64)
    factor = np.array([sc.profile(n.emission_factor) for n in sc.config.nodes]).reshape(-1, T)
    residual = np.array([sc.residual_factor(n) for n in sc.config.nodes]).reshape(-1, T)[at]
    fb.port("power", delivered)
    fb.port("intake", delivered)
    fb.port("metered", delivered)
    fb.port("green", green)
    fb.port("grid_mix", mix)  # contracts without GECs: the receiving node's mix
    fb.port("remote_cfe", remote)  # corridors' non-green part: the sending node's share
    fb.port("certificates", e_cert.expr())
    fb.port("co2", delivered * factor[at])
    fb.port("co2_market", (delivered - green) * residual)
    fb.port("co2_market", e_cert * (-residual.mean(axis=1)))


def _cost_corridors(fb: FamilyBuilder, ctx: Context, k: _Corridors, s: _Sent) -> None:
    """Corridor energy per MWh sent, or per MWh held and deviated for settled corridors."""
    dt, K, T = ctx.dt, len(k.loss), ctx.T
    settled = k.settled
    if settled.any():
        price = k.price
        paid = s.sent * (dt * price * ~settled[:, None]) + s.held * (dt * price * settled[:, None])
        fb.cost("corridor", paid, per_period=True)
        deviation = Expr.zeros((K, T))
        if s.p_dev_up is not None:
            deviation = deviation + s.p_dev_up * (dt * np.nan_to_num(k.price_up))
        if s.p_dev_down is not None:
            deviation = deviation - s.p_dev_down * (dt * np.nan_to_num(k.price_down))
        fb.cost("corridor_deviation", deviation, per_period=True)
    else:
        fb.cost("corridor", s.p_send * (dt * k.price)[:, None, :], per_period=True)


# ------------------------------------------------------------------ Dataset side
def _held(ds: xr.Dataset) -> xr.DataArray:
    """Blocks held, MW at the sending end (corridor, time): B_k n_(k, w(k,t)), 0 outside."""
    held = np.zeros(ds["corridor_window"].shape)
    if "n_block" in ds and ds.sizes.get("block", 0):
        names = {str(k): i for i, k in enumerate(ds["corridor"].values)}
        win = ds["corridor_window"].values.astype(int)
        size = ds["corridor_block_mw"].values
        corridor = np.array([names[str(k)] for k in ds["block_corridor"].values], dtype=np.int64)
        window = ds["block_window"].values.astype(np.int64)
        n = ds["n_block"].values.astype(float)
        # blocks held by (corridor, window), and which (corridor, window) has a block
        shape = (len(names), max(int(win.max(initial=-1)), int(window.max())) + 1)
        table, has = np.zeros(shape), np.zeros(shape, dtype=bool)
        for i in range(n.size):  # in block order: a later block of the same window wins
            table[corridor[i], window[i]] = n[i]
            has[corridor[i], window[i]] = True
        k = np.broadcast_to(np.arange(win.shape[0])[:, None], win.shape)
        given = (win >= 0) & has[k, np.maximum(win, 0)]
        held[given] = size[k[given]] * table[k[given], win[given]]
    return ds["corridor_window"].copy(data=held).astype(float)


def _zero_if_absent(ds: xr.Dataset, name: str) -> xr.DataArray:
    """A corridor decision (corridor, time), zeros when the model has none."""
    return ds[name] if name in ds else xr.zeros_like(ds["corridor_capacity"], dtype=float)


def _settled(ds: xr.Dataset) -> xr.DataArray:
    """Corridors settled on the blocks held (a deviation price given), (corridor,) bool."""
    up = ds.get("corridor_deviation_price_up")
    down = ds.get("corridor_deviation_price_down")
    if up is None or down is None:
        return xr.zeros_like(ds["corridor_loss"], dtype=bool)
    return (up.notnull() | down.notnull()).any("time")


def _green_sent(ds: xr.Dataset) -> xr.DataArray:
    """Green part of what is sent (corridor, site, time), MW at the sending end."""
    profiled = _profiled(ds)
    green = ds["p_send"] * ds["corridor_green_fraction"].where(~profiled, 0.0)
    if "p_send_green" in ds:
        green = green + ds["p_send_green"]
    return green


def _profiled(ds: xr.Dataset) -> xr.DataArray:
    """Corridors with a green profile, (corridor,) bool."""
    if "corridor_green_profile" not in ds:
        return xr.zeros_like(ds["corridor_loss"], dtype=bool)
    return ds["corridor_green_profile"].notnull().any("time")


def _delivered(ds: xr.Dataset):
    """Corridor and contract deliveries and their green parts (site, time), MW.

    Fifth: the carbon-free MW of the non-green corridor deliveries at the sending node's
    ``grid_cfe`` (``remote_cfe``).
    """
    keep = 1.0 - ds["corridor_loss"]
    green_sent = _green_sent(ds)
    corridor = (ds["p_send"] * keep).sum("corridor")
    corridor_green = (green_sent * keep).sum("corridor")
    contract = ds["p_contract"].sum("contract")
    flag = ds["contract_green"] if "contract_green" in ds else 1.0  # before gec existed
    contract_green = (ds["p_contract"] * flag).sum("contract")
    remote = xr.zeros_like(corridor)
    if "grid_cfe" in ds and ds.sizes.get("corridor", 0):
        share = ds["grid_cfe"].sel(node=ds["corridor_from_node"]).drop_vars("node")
        remote = ((ds["p_send"] - green_sent) * keep * share).sum("corridor")
    return corridor, corridor_green, contract, contract_green, remote


def _corridor_costs(ds: xr.Dataset) -> tuple[float, float]:
    """Cost terms ``corridor`` and ``corridor_deviation`` (CNY) from the Dataset."""
    dt = float(ds.attrs["dt_hours"])
    settled = _settled(ds)
    sent = ds["p_send"].sum("site")
    price = ds["corridor_price"]
    w = period_weight(ds)
    paid = (sent * price).where(~settled, 0.0) + (_held(ds) * price).where(settled, 0.0)
    deviation = 0.0
    if "p_dev_up" in ds:
        up = ds["p_dev_up"] * ds["corridor_deviation_price_up"].fillna(0)
        deviation += float((up * w).sum())
    if "p_dev_down" in ds:
        down = ds["p_dev_down"] * ds["corridor_deviation_price_down"].fillna(0)
        deviation -= float((down * w).sum())
    return float((paid * w).sum()) * dt, deviation * dt


def _account(ds: xr.Dataset) -> Account:
    dt = float(ds.attrs["dt_hours"])
    corridor, corridor_green, contract, contract_green, remote = _delivered(ds)
    delivered = corridor + contract
    green = corridor_green + contract_green
    residual = node_series(ds, "residual_emission_factor")
    cert = ds["e_certificate"]
    price = attr(ds, "certificate_price")
    paid, deviation = _corridor_costs(ds)
    cost = {"corridor": paid}
    if bool(_settled(ds).any()):
        cost["corridor_deviation"] = deviation
    cost["green_contract"] = float(
        (ds["p_contract"] * ds["contract_price"] * period_weight(ds)).sum() * dt
    )
    cost["certificates"] = float(cert.sum()) * (0.0 if np.isnan(price) else price)
    cost.update(capacity_cost(ds, _CAPACITIES))
    w = period_weight(ds)  # the energies over the hours the horizon stands for, as the costs
    energy = {
        "corridor_sent": float((ds["p_send"] * w).sum() * dt),
        "corridor_delivered": float((corridor * w).sum() * dt),
    }
    if "p_send_green" in ds:
        energy["corridor_green_delivered"] = float((corridor_green * w).sum() * dt)
    for side in ("up", "down"):
        if f"p_dev_{side}" in ds:
            energy[f"corridor_deviation_{side}"] = float((ds[f"p_dev_{side}"] * w).sum() * dt)
    energy["green_contract"] = float((contract * w).sum() * dt)
    energy["certificates"] = float(cert.sum())
    return Account(
        flows={
            "power": delivered,
            "intake": delivered,
            "metered": delivered,
            "green": green,
            "grid_mix": contract - contract_green,
            "remote_cfe": remote,
            "co2": delivered * node_series(ds, "emission_factor"),
            "co2_market": (delivered - green) * residual,
        },
        horizon={"certificates": cert, "co2_market": -cert * residual.mean("time")},
        cost=cost,
        energy=energy,
    )


def _derive(ds: xr.Dataset) -> dict[str, np.ndarray]:
    """Green part of corridor purchases reported at its maximum (a canonical plan).

    ``p_send_green`` has no cost, so where no green rule or market-based carbon price makes
    it bind the solver may return less than the contract allows. The Dataset reports, per
    corridor and period, the largest green part ``min(phi F, green_profile)``; the difference
    is spread over the sites in proportion to their room ``phi p_send - p_send_green``. Only
    rows that ask for more green (targets, carbon) can involve it, so the plan stays feasible
    and its cost unchanged.
    """
    if "p_send_green" not in ds:
        return {}
    g = ds["p_send_green"].values.astype(float)
    send = ds["p_send"].values.astype(float)
    gf = ds["corridor_green_fraction"].values.astype(float)[:, None, None]
    cap = ds["corridor_green_profile"].values.astype(float)
    allowed = ds["site_node"].values[None, :] == ds["corridor_to_node"].values[:, None]
    cells = allowed[:, :, None] & ~np.isnan(cap)[:, None, :]
    room = np.where(cells, np.maximum(gf * send - g, 0.0), 0.0)
    most = np.minimum(gf[:, :, 0] * send.sum(1), np.nan_to_num(cap))
    extra = np.maximum(most - np.where(cells, g, 0.0).sum(1), 0.0)
    total = room.sum(1)
    share = np.divide(room, total[:, None, :], out=np.zeros_like(room), where=total[:, None, :] > 0)
    return {"p_send_green": np.where(cells, g + extra[:, None, :] * share, 0.0)}


def _check(ds: xr.Dataset, rows: Rows) -> None:
    to_site = ds["site_node"] == ds["corridor_to_node"]
    rows.zero_outside("green.SEND", ds["p_send"], to_site)
    rows.zero_outside("green.TAKE", ds["p_contract"], ds["site_node"] == ds["contract_node"])
    if np.isnan(attr(ds, "certificate_price")):
        rows.le("green.e_certificate.bounds", ds["e_certificate"], 0.0)
    if "corridor_source_price" in ds:
        rows.eq(
            "green.corridor_price",
            ds["corridor_price"],
            ds["corridor_source_price"] + ds["corridor_tariff"],
            scale=ds["corridor_price"],
        )
    if "corridor_loss_basis" in ds:
        in_tariff = ds["corridor_loss_basis"].astype(str) == "in_tariff"
        rows.zero_outside("green.corridor_loss_basis", ds["corridor_loss"], ~in_tariff, floor=1e-3)
    sent = ds["p_send"].sum("site")
    rows.le("green.corridor_capacity", sent, ds["corridor_capacity"])
    if "corridor_contract_mw" in ds:  # NaN: no contract limit
        rows.le("green.corridor_contract", sent, ds["corridor_contract_mw"])
    if "green_contract_mw" in ds:  # NaN: no contract limit
        rows.le("green.contract_mw", ds["p_contract"].sum("site"), ds["green_contract_mw"])
    check_capacities(ds, rows, "green", _CAPACITIES)
    minimum = ds["corridor_min"]
    rows.ge("green.corridor_min", sent, minimum.where(minimum > 0))
    _check_green(ds, rows, to_site)
    settled = _settled(ds)
    _check_blocks(ds, rows, sent, settled)
    _check_deviations(ds, rows, sent, settled)
    rows.le("green.contract_capacity", ds["p_contract"].sum("site"), ds["contract_capacity"])


def _check_green(ds: xr.Dataset, rows: Rows, to_site: xr.DataArray) -> None:
    """Rows of the green part bounded by the sending end's renewable profile."""
    profiled = _profiled(ds)
    if "p_send_green" not in ds:
        return
    green = ds["p_send_green"]
    rows.zero_outside("green.SEND_GREEN", green, to_site & profiled)
    rows.le(
        "green.corridor_green_share",
        green,
        (ds["p_send"] * ds["corridor_green_fraction"]).where(to_site & profiled),
        scale=ds["p_send"],
    )
    rows.le(
        "green.corridor_green_profile",
        green.sum("site"),
        ds["corridor_green_profile"].where(profiled),
    )


def _window_medians(values: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median of ``values`` over each window of ``ids`` (periods with the same id >= 0).

    Returns the window ids (sorted) and their medians, as ``numpy.median`` of each window's
    values gives them (the middle value, or the mean of the two middle values; NaN when the
    window holds a NaN), in one sort instead of a pass per window.
    """
    inside = ids >= 0
    v, w = values[inside], ids[inside]
    if not w.size:
        return np.zeros(0, dtype=ids.dtype), np.zeros(0)
    nan = np.isnan(v)
    order = np.lexsort((np.where(nan, np.inf, v), w))
    v, w, nan = v[order], w[order], nan[order]
    starts = np.flatnonzero(np.r_[True, w[1:] != w[:-1]])
    counts = np.diff(np.r_[starts, w.size])
    lo, hi = starts + (counts - 1) // 2, starts + counts // 2
    median = np.where(lo == hi, v[lo], (v[lo] + v[hi]) / 2.0)
    median[np.add.reduceat(nan, starts) > 0] = np.nan
    return w[starts], median


def _check_blocks(ds: xr.Dataset, rows: Rows, sent: xr.DataArray, settled) -> None:
    """Whole blocks constant over each window: from the median of sent (no deviations)."""
    medians = {}  # corridor -> (window ids, median sent)
    for k in ds["corridor"].values:
        block = float(ds["corridor_block_mw"].sel(corridor=k))
        if np.isnan(block) or bool(settled.sel(corridor=k)):
            continue
        s = sent.sel(corridor=k)
        ids = ds["corridor_window"].sel(corridor=k).values.astype(int)
        windows, median = _window_medians(s.values.astype(float), ids)
        medians[k] = (windows, median)
        per_period = np.zeros(ids.shape)
        at = np.searchsorted(windows, ids[ids >= 0])
        per_period[ids >= 0] = block * np.round(median[at] / block)
        held = xr.DataArray(per_period, dims="time", coords={"time": ds["time"]})
        rows.eq(
            "green.corridor_block",
            s.expand_dims(corridor=[k]),
            held.expand_dims(corridor=[k]),
            scale=np.maximum(held, block),
        )
    if "n_block" in ds and ds.sizes.get("block", 0):
        size = ds["corridor_block_mw"].sel(corridor=ds["block_corridor"]).values.astype(float)
        corridor_of = ds["block_corridor"].values.astype(str)
        window_of = ds["block_window"].values.astype(int)
        expected = np.full(ds.sizes["block"], np.nan)  # NaN: no row (a settled corridor)
        for k in ds["corridor"].values:
            if bool(settled.sel(corridor=k)):
                continue
            mine = np.flatnonzero(corridor_of == str(k))
            if not mine.size:
                continue
            if k not in medians:  # a corridor without block size holds no blocks
                ids = ds["corridor_window"].sel(corridor=k).values.astype(int)
                medians[k] = _window_medians(sent.sel(corridor=k).values.astype(float), ids)
            windows, median = medians[k]
            if not windows.size:  # no window holds a period: the median of nothing, no row
                continue
            at = np.minimum(np.searchsorted(windows, window_of[mine]), windows.size - 1)
            found = windows[at] == window_of[mine]
            expected[mine] = np.where(found, median[at], np.nan) / size[mine]
        rows.eq(
            "green.n_block",
            ds["n_block"],
            ds["n_block"].copy(data=expected),
        )


def _check_deviations(ds: xr.Dataset, rows: Rows, sent: xr.DataArray, settled) -> None:
    """Corridors with deviation prices: sent = held + p_dev_up - p_dev_down, from n_block."""
    if not bool(settled.any()):
        return
    held = _held(ds)
    open_ = ds["corridor_window"] >= 0
    up = _zero_if_absent(ds, "p_dev_up")
    down = _zero_if_absent(ds, "p_dev_down")
    for side, x in (("up", up), ("down", down)):
        given = ds[f"corridor_deviation_price_{side}"].notnull().any("time")
        rows.zero_outside(f"green.DEV_{side.upper()}", x, given & open_)
    scale = np.maximum(held, ds["corridor_block_mw"])
    rows.eq(
        "green.corridor_block",
        (sent - held - up + down).where(settled),
        xr.zeros_like(sent).where(settled),
        scale=scale,
    )
    down_given = ds["corridor_deviation_price_down"].notnull().any("time") & open_
    rows.le("green.corridor_held", held, ds["corridor_capacity"].where(down_given))
    rows.le("green.corridor_dev_down", down, held.where(down_given), scale=scale)


#: fields naming the node a purchase is delivered to: (section, field, what)
DELIVERY_FIELDS = (("corridors", "to_node", "corridor"), ("green_contracts", "node", "contract"))


def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Scenario checks of the purchases (their series are checked by the shared walker).

    A corridor links two nodes; ``windows`` only with ``block_mw``; the deviation credit is
    not above the deviation price; every purchase is delivered to a node with a site.
    """
    from ..errors import Problem

    problems: list[Problem] = []
    for i, k in enumerate(sc.config.corridors):
        if k.from_node == k.to_node:
            problems.append(
                Problem(
                    f"corridors[{i}].to_node",
                    repr(k.to_node),
                    "a corridor must link two different nodes",
                )
            )
        if k.windows is not None and k.block_mw is None:
            problems.append(
                Problem(
                    f"corridors[{i}].windows",
                    repr(k.windows)[:60],
                    "windows only apply to block purchases and would be ignored: energy "
                    "would be bought at any time; set block_mw, or remove windows",
                )
            )
        problems += _check_deviation(sc, refs, i, k)
    return problems + _purchases_without_site(sc)


def _check_deviation(sc: Scenario, refs: SeriesRefs, i: int, k) -> list[Problem]:
    """A corridor's deviation credit must not exceed its deviation price in any period."""
    from ..errors import Problem

    up_name, down_name = k.deviation_price_up, k.deviation_price_down
    if not any(isinstance(v, str) for v in (up_name, down_name)):
        return []  # two numbers (or none): compared by the schema
    up, down = refs.values(up_name), refs.values(down_name)
    if up is None or down is None:
        return []  # not given, or an unknown series (reported by the walker)
    over = down - up
    if not (over > 0).any():
        return []
    t = int(over.argmax())
    return [
        Problem(
            f"corridors[{i}].deviation_price_down",
            f"{down[t]:g} at {sc.time[t]}",
            f"above deviation_price_up ({up[t]:g}) in {int((over > 0).sum())} "
            "periods: energy could be bought above the blocks and credited below them at a "
            "profit; lower deviation_price_down to at most deviation_price_up",
        )
    ]


def _purchases_without_site(sc: Scenario) -> list[Problem]:
    """Purchases delivered to a declared node where no site could take the energy."""
    from ..errors import Problem

    c = sc.config
    nodes = [n.name for n in c.nodes]
    served = {s.node for s in c.sites}
    if not served <= set(nodes):
        return []  # a site on an unknown node is reported; which node it meant is unknown
    with_site = [n for n in nodes if n in served]
    problems = []
    for section, field, what in DELIVERY_FIELDS:
        for i, item in enumerate(getattr(c, section)):
            node = getattr(item, field)
            if node in nodes and node not in served:
                problems.append(
                    Problem(
                        f"{section}[{i}].{field}",
                        repr(node),
                        f"{what} {item.name!r} delivers to node {node!r}, which has no site to "
                        f"take the energy; add a site at {node!r}, deliver to a node with a "
                        f"site ({', '.join(with_site) or 'none declared'}) or remove the {what}",
                    )
                )
    return problems


_K = ("corridor",)
_KT = ("corridor", "time")


def _corridor_finding(sc, v: Violation, kind: str) -> tuple[str, str, str, float]:
    """Diagnosis sentence: a corridor minimum or block the relaxed re-solve had to break."""
    k = sc.config.corridors[v.i]
    row = v.row
    total = float(row.sum() * sc.dt)
    if kind == "corridor_min":
        used = (k.min_mw - row[v.active].max()) * (1 - k.loss)
        text = (
            f"corridor '{v.element}': its minimum purchase {k.min_mw:g} MW cannot be taken in "
            f"{v.when}: the sites at node '{k.to_node}' can use or store at most "
            f"{used:,.2f} MW of it there ({row.max():,.2f} MW, {total:,.2f} MWh too much); "
            "lower min_mw"
        )
    else:
        text = (
            f"corridor '{v.element}': purchases in whole blocks of {k.block_mw:g} MW, constant "
            f"over each window, cannot fit in {v.when} (off by up to {row.max():,.2f} MW); "
            "change block_mw, the windows or min_mw"
        )
        if k.deviation_price_up is None or k.deviation_price_down is None:
            text += ", or settle energy off the blocks (deviation_price_up/_down)"
    # one key for both: a corridor is named once
    return "corridor_min", v.element, text, total


def _corridors(c) -> list[str]:
    return [k.name for k in c.corridors]


# blocks weigh more than minimums: a minimum that cannot be bought is blamed on the minimum
_LIMITS = (
    Limit(
        "corridor_min",
        "corridor_min",
        _corridors,
        lambda sc, v: _corridor_finding(sc, v, "corridor_min"),
    ),
    Limit(
        "corridor_block",
        "corridor_block",
        _corridors,
        lambda sc, v: _corridor_finding(sc, v, "corridor_block"),
        weight=2.0,
    ),
)


def _estimate(sc, options) -> int:
    """Columns of ``green``, counted from the configuration with the build's masks.

    ``p_send`` (and ``p_send_green`` of a corridor with a green profile) per (corridor, site
    at its receiving node, period), ``n_block`` per (block corridor, contract window),
    ``p_dev_up`` / ``p_dev_down`` per period inside a priced corridor's windows,
    ``p_contract`` per (contract, site at its node, period), ``e_certificate`` per site.
    """
    c = sc.config
    T = sc.periods
    at_node: dict[str, int] = {}
    for s in c.sites:
        at_node[s.node] = at_node.get(s.node, 0) + 1
    cols = len(c.sites)
    for k in c.corridors:
        cols += at_node.get(k.to_node, 0) * T * (2 if k.green_profile is not None else 1)
        priced = (k.deviation_price_up is not None) + (k.deviation_price_down is not None)
        if k.block_mw is not None or priced:
            windows = sc.window_ids(k.windows)
            cols += priced * int((windows >= 0).sum())
            if k.block_mw is not None:
                cols += len(np.unique(windows[windows >= 0]))
    return cols + sum(at_node.get(g.node, 0) for g in c.green_contracts) * T


_CAPACITIES = ("corridor_contract_mw", "green_contract_mw")


def _commit_costs(ds: xr.Dataset, t: int, flows: xr.Dataset) -> dict[str, float]:
    """The certificates of the first ``t`` periods: pro rata to their counted consumption.

    All of them at the end of a rolling window's committed periods (``budget_period``); a
    chosen contract's annuity pro rata to their hours.
    """
    out = {
        term: value * committed_share(ds, t)
        for term, value in capacity_cost(ds, _CAPACITIES).items()
    }
    price = attr(ds, "certificate_price")
    if "e_certificate" not in ds or np.isnan(price):
        return out
    share = counted_share(ds, flows["intake"], t - 1)
    return out | {"certificates": float((ds["e_certificate"] * share).sum()) * price}


COMPONENT = Component(
    name="green",
    sections=("corridors", "green_contracts", "certificates"),
    doc="green-power purchases: corridors, contracts, certificates",
    commit_costs=_commit_costs,
    stateless=(
        "corridor blocks are bought per contract window and deviations settle per period: "
        "windows cut at day boundaries keep them whole; certificates are bought per horizon"
    ),
    outputs=(
        Output(
            "p_send",
            ("corridor", "site", "time"),
            "MW",
            "corridor purchase at the sending end, per receiving site",
        ),
        Output(
            "p_send_green",
            ("corridor", "site", "time"),
            "MW",
            "green part of the corridor purchase at the sending end (corridors with "
            "green_profile; reported at its maximum)",
        ),
        Output(
            "n_block",
            ("block",),
            "blocks",
            "corridor blocks held in each contract window",
            integer=True,
            first_stage=True,
        ),
        Output("p_dev_up", _KT, "MW", "corridor energy taken above the blocks held (sending end)"),
        Output(
            "p_dev_down", _KT, "MW", "corridor energy of the blocks held not taken (sending end)"
        ),
        Output("p_contract", ("contract", "site", "time"), "MW", "green contract delivery"),
        Output(
            "green_contract_mw",
            ("contract",),
            "MW",
            "contract MW of the green contract (NaN: no contract limit)",
            role="input",
        ),
        *capacity_outputs("green_contract_mw", "contract", "MW"),
        Output("e_certificate", ("site",), "MWh", "green certificates bought"),
        Output("corridor_to_node", _K, "text", "receiving node", role="input"),
        Output("corridor_from_node", _K, "text", "sending node", role="input"),
        Output(
            "corridor_capacity",
            _KT,
            "MW",
            "capacity available at the sending end",
            role="input",
        ),
        Output(
            "corridor_contract_mw",
            ("corridor",),
            "MW",
            "contract MW at the sending end (NaN: no contract limit)",
            role="input",
        ),
        *capacity_outputs("corridor_contract_mw", "corridor", "MW"),
        Output(
            "corridor_source_price",
            _KT,
            "CNY/MWh",
            "price at the sending end, per MWh sent",
            role="input",
        ),
        Output("corridor_tariff", _K, "CNY/MWh", "transmission tariff, per MWh sent", role="input"),
        Output(
            "corridor_price",
            _KT,
            "CNY/MWh",
            "source price + transmission tariff, per MWh sent",
            role="input",
        ),
        Output("corridor_loss", _K, "1", "loss factor", role="input"),
        Output(
            "corridor_loss_basis",
            _K,
            "text",
            "'physical' (loss applied to the energy sent) or 'in_tariff' (loss 0)",
            role="input",
        ),
        Output("corridor_green_fraction", _K, "1", "green share of the energy sent", role="input"),
        Output(
            "corridor_green_profile",
            _KT,
            "MW",
            "contracted renewable output at the sending end (NaN: none)",
            role="input",
        ),
        Output("corridor_min", _K, "MW", "minimum purchase", role="input"),
        Output("corridor_block_mw", _K, "MW", "block size (NaN: continuous)", role="input"),
        Output(
            "corridor_window",
            _KT,
            "1",
            "contract window id (-1: none)",
            role="input",
        ),
        Output(
            "corridor_deviation_price_up",
            _KT,
            "CNY/MWh",
            "price of energy taken above the blocks held (NaN: none allowed)",
            role="input",
        ),
        Output(
            "corridor_deviation_price_down",
            _KT,
            "CNY/MWh",
            "credit for energy of the blocks held not taken (NaN: none allowed)",
            role="input",
        ),
        Output(
            "contract_node",
            ("contract",),
            "text",
            "node whose sites may take the deliveries",
            role="input",
        ),
        Output("contract_capacity", ("contract", "time"), "MW", "deliverable power", role="input"),
        Output(
            "contract_price", ("contract", "time"), "CNY/MWh", "contract energy price", role="input"
        ),
        Output(
            "contract_gec",
            ("contract",),
            "text",
            "certificates with the energy: bundled, non_tradable or none",
            role="input",
        ),
        Output(
            "contract_green",
            ("contract",),
            "1",
            "1 where the contract's energy counts green (gec not 'none'), else 0",
            role="input",
        ),
    ),
    build=_build,
    estimate=_estimate,
    account=_account,
    check=_check,
    validate=_validate,
    derive=_derive,
    limits=_LIMITS,
)
