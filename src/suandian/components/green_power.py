"""Green-power purchases: cross-province corridors, local green contracts, certificates.

Math: ``docs/math/green_power.md``. Block ``m.green``; ports ``power``, ``intake``,
``metered`` and ``green`` (MW), ``certificates`` (MWh, horizon), ``co2`` (tCO2/h: the receiving node's grid
factor applies to energy delivered through the grid), ``co2_market`` (tCO2/h: the non-green
part of corridor deliveries at the node's residual factor; horizon part: minus certificates
at that node's mean residual factor); cost terms ``corridor``, ``green_contract`` and
``certificates`` (CNY).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..checks import Rows, attr, node_series
from ..component import Account, Component, Context, FamilyBuilder, Output
from ..linear import Expr


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    c = sc.config
    S_, T, dt = ctx.S, ctx.T, ctx.dt
    cors, cons = c.corridors, c.green_contracts
    K, G = len(cors), len(cons)
    site_node = np.array([s.node for s in c.sites], dtype=object)
    fb.coord("corridor", [k.name for k in cors])
    fb.coord("contract", [g.name for g in cons])
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
    price = np.array([sc.profile(k.source_price) + k.tariff for k in cors]).reshape(K, T)
    loss = np.array([k.loss for k in cors])
    gf = np.array([k.green_fraction for k in cors])
    min_mw = np.array([k.min_mw for k in cors])
    block_mw = np.array([np.nan if k.block_mw is None else k.block_mw for k in cors])
    con_cap = np.array([sc.profile(g.capacity) for g in cons]).reshape(G, T)
    con_price = np.array([sc.profile(g.price) for g in cons]).reshape(G, T)
    fb.input("corridor_to_node", np.array([k.to_node for k in cors], dtype=object))
    fb.input("corridor_from_node", np.array([k.from_node for k in cors], dtype=object))
    fb.input("corridor_capacity", cap)
    fb.input("corridor_price", price)
    fb.input("corridor_loss", loss)
    fb.input("corridor_green_fraction", gf)
    fb.input("corridor_min", min_mw)
    fb.input("corridor_block_mw", block_mw)
    fb.input("corridor_window", windows)
    fb.input("contract_node", np.array([g.node for g in cons], dtype=object))
    fb.input("contract_capacity", con_cap)
    fb.input("contract_price", con_price)

    # --------------------------------------------------------------- corridors
    send_ok = np.array([[k.to_node == n for n in site_node] for k in cors], bool).reshape(K, S_)
    p_send = fb.var("p_send", mask=np.broadcast_to(send_ok[:, :, None], (K, S_, T)))
    sent = p_send.sum(1)
    fb.constrain("corridor_capacity", sent, "<=", cap)
    fb.constrain(
        "corridor_min",
        sent,
        ">=",
        min_mw[:, None],
        mask=np.broadcast_to((min_mw > 0)[:, None], (K, T)),
    )
    n_block = fb.var("n_block")
    if pairs:
        index = {p: i for i, p in enumerate(pairs)}
        kk, tt = np.nonzero(blocked[:, None] & (windows >= 0))
        cols = n_block.cols[
            [index[(int(k), int(windows[k, t]))] for k, t in zip(kk, tt, strict=True)]
        ]
        held = Expr.cells((K, T), (kk, tt), cols, block_mw[kk])
    else:
        held = Expr.zeros((K, T))
    fb.constrain(
        "corridor_block", sent - held, "==", 0.0, mask=np.broadcast_to(blocked[:, None], (K, T))
    )

    # --------------------------------------------------------------- contracts
    take_ok = np.array([[g.node == n for n in site_node] for g in cons], bool).reshape(G, S_)
    p_contract = fb.var("p_contract", mask=np.broadcast_to(take_ok[:, :, None], (G, S_, T)))
    fb.constrain("contract_capacity", p_contract.sum(1), "<=", con_cap)

    # ------------------------------------------------------------ certificates
    e_cert = fb.var("e_certificate", ub=np.inf if c.certificates is not None else 0.0)
    cert_price = c.certificates.price if c.certificates is not None else 0.0
    fb.attrs["certificate_price"] = np.nan if c.certificates is None else cert_price

    # -------------------------------------------------------------------- ports
    keep = (1.0 - loss)[:, None, None]
    delivered = (p_send * keep).sum(0) + p_contract.sum(0)
    green = (p_send * (keep * gf[:, None, None])).sum(0) + p_contract.sum(0)
    node_pos = {n.name: i for i, n in enumerate(c.nodes)}
    at = np.array([node_pos[n] for n in site_node], dtype=np.int64)
    factor = np.array([sc.profile(n.emission_factor) for n in c.nodes]).reshape(-1, T)[at]
    residual = np.array([sc.residual_factor(n) for n in c.nodes]).reshape(-1, T)[at]
    fb.port("power", delivered)
    fb.port("intake", delivered)
    fb.port("metered", delivered)
    fb.port("green", green)
    fb.port("certificates", e_cert.expr())
    fb.port("co2", delivered * factor)
    fb.port("co2_market", (delivered - green) * residual)
    fb.port("co2_market", e_cert * (-residual.mean(axis=1)))
    fb.cost("corridor", p_send * (dt * price)[:, None, :])
    fb.cost("green_contract", p_contract * (dt * con_price)[:, None, :])
    fb.cost("certificates", e_cert * cert_price)


def _delivered(ds: xr.Dataset):
    keep = 1.0 - ds["corridor_loss"]
    corridor = (ds["p_send"] * keep).sum("corridor")
    corridor_green = (ds["p_send"] * keep * ds["corridor_green_fraction"]).sum("corridor")
    contract = ds["p_contract"].sum("contract")
    return corridor, corridor_green, contract


def _account(ds: xr.Dataset) -> Account:
    dt = float(ds.attrs["dt_hours"])
    corridor, corridor_green, contract = _delivered(ds)
    delivered = corridor + contract
    green = corridor_green + contract
    residual = node_series(ds, "residual_emission_factor")
    cert = ds["e_certificate"]
    price = attr(ds, "certificate_price")
    return Account(
        flows={
            "power": delivered,
            "intake": delivered,
            "metered": delivered,
            "green": green,
            "co2": delivered * node_series(ds, "emission_factor"),
            "co2_market": (delivered - green) * residual,
        },
        horizon={"certificates": cert, "co2_market": -cert * residual.mean("time")},
        cost={
            "corridor": float((ds["p_send"] * ds["corridor_price"]).sum() * dt),
            "green_contract": float((ds["p_contract"] * ds["contract_price"]).sum() * dt),
            "certificates": float(cert.sum()) * (0.0 if np.isnan(price) else price),
        },
        energy={
            "corridor_sent": float(ds["p_send"].sum() * dt),
            "corridor_delivered": float(corridor.sum() * dt),
            "green_contract": float(contract.sum() * dt),
            "certificates": float(cert.sum()),
        },
    )


def _check(ds: xr.Dataset, rows: Rows) -> None:
    rows.zero_outside("green.SEND", ds["p_send"], ds["site_node"] == ds["corridor_to_node"])
    rows.zero_outside("green.TAKE", ds["p_contract"], ds["site_node"] == ds["contract_node"])
    if np.isnan(attr(ds, "certificate_price")):
        rows.le("green.e_certificate.bounds", ds["e_certificate"], 0.0)
    sent = ds["p_send"].sum("site")
    rows.le("green.corridor_capacity", sent, ds["corridor_capacity"])
    minimum = ds["corridor_min"]
    rows.ge("green.corridor_min", sent, minimum.where(minimum > 0))
    for k in ds["corridor"].values:
        block = float(ds["corridor_block_mw"].sel(corridor=k))
        if np.isnan(block):
            continue
        s = sent.sel(corridor=k)
        ids = ds["corridor_window"].sel(corridor=k).values.astype(int)
        held = np.zeros(ids.shape)
        for w in np.unique(ids[ids >= 0]):
            held[ids == w] = block * np.round(np.median(s.values[ids == w]) / block)
        held = xr.DataArray(held, dims="time", coords={"time": ds["time"]})
        rows.eq(
            "green.corridor_block",
            s.expand_dims(corridor=[k]),
            held.expand_dims(corridor=[k]),
            scale=np.maximum(held, block),
        )
    if "n_block" in ds and ds.sizes.get("block", 0):
        size = ds["corridor_block_mw"].sel(corridor=ds["block_corridor"]).drop_vars("corridor")
        for i in range(ds.sizes["block"]):
            k = str(ds["block_corridor"].values[i])
            w = int(ds["block_window"].values[i])
            ids = ds["corridor_window"].sel(corridor=k).values.astype(int)
            s = sent.sel(corridor=k).values[ids == w]
            rows.eq(
                "green.n_block",
                ds["n_block"].isel(block=[i]),
                xr.DataArray(
                    [np.median(s) / float(size[i])],
                    dims="block",
                    coords={"block": ds["block"][[i]]},
                ),
            )
    rows.le("green.contract_capacity", ds["p_contract"].sum("site"), ds["contract_capacity"])


_K = ("corridor",)
COMPONENT = Component(
    name="green",
    sections=("corridors", "green_contracts", "certificates"),
    doc="green-power purchases: corridors, contracts, certificates",
    outputs=(
        Output(
            "p_send",
            ("corridor", "site", "time"),
            "MW",
            "corridor purchase at the sending end, per receiving site",
        ),
        Output(
            "n_block",
            ("block",),
            "blocks",
            "corridor blocks held in each contract window",
            integer=True,
        ),
        Output("p_contract", ("contract", "site", "time"), "MW", "green contract delivery"),
        Output("e_certificate", ("site",), "MWh", "green certificates bought"),
        Output("corridor_to_node", _K, "", "receiving node", role="input"),
        Output("corridor_from_node", _K, "", "sending node", role="input"),
        Output(
            "corridor_capacity",
            ("corridor", "time"),
            "MW",
            "capacity available at the sending end",
            role="input",
        ),
        Output(
            "corridor_price",
            ("corridor", "time"),
            "CNY/MWh",
            "source price + transmission tariff, per MWh sent",
            role="input",
        ),
        Output("corridor_loss", _K, "1", "loss factor", role="input"),
        Output("corridor_green_fraction", _K, "1", "green share of delivered energy", role="input"),
        Output("corridor_min", _K, "MW", "minimum purchase", role="input"),
        Output("corridor_block_mw", _K, "MW", "block size (NaN: continuous)", role="input"),
        Output(
            "corridor_window",
            ("corridor", "time"),
            "1",
            "contract window id (-1: none)",
            role="input",
        ),
        Output("contract_node", ("contract",), "", "node", role="input"),
        Output("contract_capacity", ("contract", "time"), "MW", "deliverable power", role="input"),
        Output(
            "contract_price", ("contract", "time"), "CNY/MWh", "contract energy price", role="input"
        ),
    ),
    build=_build,
    account=_account,
    check=_check,
)
