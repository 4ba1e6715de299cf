"""Batteries at sites: power and energy limits, efficiencies, self-discharge, end rule.

Math: ``docs/math/storage.md``. Block ``m.stor``; port ``power`` (MW); cost term
``storage_wear`` (CNY, throughput).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..checks import Rows, by_site
from ..component import Account, Component, Context, FamilyBuilder, Output


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    units = ctx.scenario.config.storage
    U, T, dt = len(units), ctx.T, ctx.dt
    fb.coord("storage", [u.name for u in units])
    site = ctx.site_index([u.site for u in units])
    a = {f: np.array([float(getattr(u, f)) for u in units]) for f in _FIELDS}
    final = np.array(
        [
            np.nan
            if u.soc_final == "free"
            else (u.soc_initial if u.soc_final == "cyclic" else float(u.soc_final))
            for u in units
        ]
    )
    exclusive = np.array([u.no_simultaneous for u in units], dtype=bool)
    fb.input("storage_site", np.array([u.site for u in units], dtype=object))
    for f, name in _FIELDS.items():
        fb.input(name, a[f])
    fb.input("soc_final_min", final)
    fb.input("storage_exclusive", exclusive)

    power, energy = a["power"][:, None], a["energy"][:, None]
    p_ch = fb.var("p_charge", ub=power)
    p_dis = fb.var("p_discharge", ub=power)
    e_soc = fb.var("e_soc", ub=energy)
    u_ch = fb.var("u_charge", ub=1.0, mask=np.broadcast_to(exclusive[:, None], (U, T)))

    keep = ((1.0 - a["self_discharge"]) ** dt)[:, None]
    e0 = a["soc_initial"] * a["energy"]
    rhs = np.zeros((U, T))
    rhs[:, 0] = keep[:, 0] * e0
    fb.constrain(
        "e_soc_balance",
        e_soc
        - e_soc.shift(1, 1) * keep
        - p_ch * (dt * a["eta_charge"])[:, None]
        + p_dis * (dt / a["eta_discharge"])[:, None],
        "==",
        rhs,
    )
    last = np.zeros((U, T), bool)
    last[:, -1] = True
    fb.constrain(
        "e_soc_final",
        e_soc.expr(),
        ">=",
        (np.nan_to_num(final) * a["energy"])[:, None],
        mask=last & ~np.isnan(final)[:, None],
    )
    ex = np.broadcast_to(exclusive[:, None], (U, T))
    fb.constrain("charge_mode", p_ch - u_ch * power, "<=", 0.0, mask=ex)
    fb.constrain("discharge_mode", p_dis + u_ch * power, "<=", power, mask=ex)

    fb.port("power", (p_dis - p_ch).group(0, site, ctx.S))
    fb.cost("storage_wear", (p_ch + p_dis) * (dt * a["throughput_cost"])[:, None])


_FIELDS = {
    "power": "storage_power",
    "energy": "storage_energy",
    "eta_charge": "eta_charge",
    "eta_discharge": "eta_discharge",
    "self_discharge": "self_discharge",
    "soc_initial": "soc_initial",
    "throughput_cost": "throughput_cost",
}


def _derive(ds: xr.Dataset) -> dict:
    """Charge mode of a battery without exclusivity: 1 when it charges more than it discharges."""
    mode = ds["u_charge"].values.copy()
    free = ~ds["storage_exclusive"].values.astype(bool)
    mode[free] = (ds["p_charge"].values > ds["p_discharge"].values)[free]
    return {"u_charge": mode}


def _account(ds: xr.Dataset) -> Account:
    dt = float(ds.attrs["dt_hours"])
    charge = by_site(ds["p_charge"], ds["storage_site"], ds["site"])
    discharge = by_site(ds["p_discharge"], ds["storage_site"], ds["site"])
    wear = ((ds["p_charge"] + ds["p_discharge"]) * ds["throughput_cost"]).sum() * dt
    return Account(
        flows={"power": discharge - charge},
        cost={"storage_wear": float(wear)},
        energy={
            "storage_charge": float(charge.sum() * dt),
            "storage_discharge": float(discharge.sum() * dt),
        },
    )


def _check(ds: xr.Dataset, rows: Rows) -> None:
    dt = rows.dt
    if not ds.sizes.get("storage", 0):
        return
    energy = ds["storage_energy"]
    soc = ds["e_soc"]
    before = soc.shift(time=1)
    before[{"time": 0}] = ds["soc_initial"] * energy
    keep = (1.0 - ds["self_discharge"]) ** dt
    expected = keep * before + dt * (
        ds["eta_charge"] * ds["p_charge"] - ds["p_discharge"] / ds["eta_discharge"]
    )
    rows.eq("stor.e_soc_balance", soc, expected, scale=energy)
    rows.ge("stor.e_soc_final", soc.isel(time=-1), ds["soc_final_min"] * energy, scale=energy)
    both = np.minimum(ds["p_charge"], ds["p_discharge"])
    rows.le(
        "stor.charge_mode",
        both,
        xr.zeros_like(both).where(ds["storage_exclusive"]),
        scale=ds["storage_power"],
    )


_ST = ("storage",)


def _estimate(sc, options) -> int:
    """Columns of ``stor``: charge, discharge and stock per (unit, period).

    Plus ``u_charge`` per period at the units that may not charge and discharge at once.
    """
    units = sc.config.storage
    return (3 * len(units) + sum(u.no_simultaneous for u in units)) * sc.periods


COMPONENT = Component(
    name="stor",
    sections=("storage",),
    doc="batteries at sites",
    outputs=(
        Output("p_charge", ("storage", "time"), "MW", "battery charging", upper="storage_power"),
        Output(
            "p_discharge", ("storage", "time"), "MW", "battery discharging", upper="storage_power"
        ),
        Output(
            "e_soc",
            ("storage", "time"),
            "MWh",
            "state of charge at the end of the period",
            upper="storage_energy",
        ),
        Output(
            "u_charge",
            ("storage", "time"),
            "1",
            "charge mode (1: may charge, 0: may discharge)",
            upper=1.0,
            integer=True,
        ),
        Output("storage_site", _ST, "", "site", role="input"),
        Output("storage_power", _ST, "MW", "charge/discharge limit", role="input"),
        Output("storage_energy", _ST, "MWh", "energy capacity", role="input"),
        Output("eta_charge", _ST, "1", "charge efficiency", role="input"),
        Output("eta_discharge", _ST, "1", "discharge efficiency", role="input"),
        Output("self_discharge", _ST, "1/h", "self-discharge per hour", role="input"),
        Output("soc_initial", _ST, "1", "initial state of charge (fraction)", role="input"),
        Output("throughput_cost", _ST, "CNY/MWh", "wear cost per MWh in or out", role="input"),
        Output(
            "soc_final_min",
            _ST,
            "1",
            "minimum final state of charge (fraction; NaN: free)",
            role="input",
        ),
        Output("storage_exclusive", _ST, "bool", "charge and discharge exclusive", role="input"),
    ),
    build=_build,
    estimate=_estimate,
    account=_account,
    check=_check,
    derive=_derive,
)
