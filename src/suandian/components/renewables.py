"""On-site and direct-connected renewables (PV, wind): capacity x profile, curtailable.

Math: ``docs/math/renewables.md``. Block ``m.res``; ports ``power``, ``intake`` and
``green`` (MW); cost term ``renewables`` (CNY).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..checks import by_site
from ..component import Account, Component, Context, FamilyBuilder, Output


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    assets = sc.config.renewables
    R = len(assets)
    fb.coord("renewable", [r.name for r in assets])
    available = np.array([r.capacity * sc.profile(r.profile) for r in assets]).reshape(R, ctx.T)
    site = ctx.site_index([r.site for r in assets])
    cost = np.array([r.cost for r in assets])
    fb.input("renewable_site", np.array([r.site for r in assets], dtype=object))
    fb.input("renewable_kind", np.array([r.kind for r in assets], dtype=object))
    fb.input("p_renewable_available", available)
    fb.input("renewable_cost", cost)

    p = fb.var("p_renewable", ub=available)
    used = p.group(0, site, ctx.S)
    fb.port("power", used)
    fb.port("intake", used)
    fb.port("green", used)
    fb.cost("renewables", p * (ctx.dt * cost)[:, None])


def _account(ds: xr.Dataset) -> Account:
    dt = float(ds.attrs["dt_hours"])
    used = by_site(ds["p_renewable"], ds["renewable_site"], ds["site"])
    return Account(
        flows={"power": used, "intake": used, "green": used},
        cost={"renewables": float((ds["p_renewable"] * ds["renewable_cost"]).sum() * dt)},
        energy={
            "renewables_used": float(used.sum() * dt),
            "renewables_curtailed": float(
                (ds["p_renewable_available"] - ds["p_renewable"]).sum() * dt
            ),
        },
    )


COMPONENT = Component(
    name="res",
    sections=("renewables",),
    doc="on-site and direct-connected renewables",
    outputs=(
        Output(
            "p_renewable",
            ("renewable", "time"),
            "MW",
            "renewable power used",
            upper="p_renewable_available",
        ),
        Output("renewable_site", ("renewable",), "", "site", role="input"),
        Output("renewable_kind", ("renewable",), "", "kind", role="input"),
        Output(
            "p_renewable_available",
            ("renewable", "time"),
            "MW",
            "available renewable power",
            role="input",
        ),
        Output("renewable_cost", ("renewable",), "CNY/MWh", "price of energy used", role="input"),
    ),
    build=_build,
    account=_account,
)
