"""Energy-weighted PUE cap per site over the horizon.

Math: ``docs/math/pue_cap.md``. Component ``pue_cap`` (a policy: reads the ledgers only).
A site's own ``pue_cap`` always applies; otherwise the policy's cap, if any.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..checks import Rows
from ..component import Component, Context, FamilyBuilder, Output


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    caps = np.array(
        [np.nan if sc.pue_cap(s) is None else sc.pue_cap(s) for s in sc.config.sites], float
    )
    fb.input("pue_cap", caps)
    led = ctx.ledger
    e_fac = led.total("facility")
    e_it = led.total("it")
    lhs = e_fac - e_it * np.nan_to_num(caps)
    penalty = ctx.options.get("shortfall_penalty")
    capped = ~np.isnan(caps)
    if penalty is not None:
        excess = fb.var("e_pue_excess", ub=np.where(capped, np.inf, 0.0))
        lhs = lhs - excess
        fb.cost("shortfall_pue", excess * penalty)
    fb.constrain(
        "pue_max",
        lhs,
        "<=",
        0.0,
        mask=capped,
        dual="shadow_pue",
        dual_factor=lambda x: -0.01 * e_it.value(x),
    )


def _check(ds: xr.Dataset, rows: Rows) -> None:
    dt = rows.dt
    e_it = ds["p_it"].sum("time") * dt
    e_fac = ds["p_facility"].sum("time") * dt
    if "e_pue_excess" in ds:
        e_fac = e_fac - ds["e_pue_excess"]
    cap = ds["pue_cap"]
    pue = (e_fac / e_it.where(e_it > 0)).fillna(np.inf).where(e_fac > 0, 0.0)
    rows.le("pue_cap.pue_max", e_fac, cap * e_it, value=pue, limit=cap)
    if "e_pue_excess" in ds:
        rows.le(
            "pue_cap.e_pue_excess.bounds", ds["e_pue_excess"], xr.where(cap.notnull(), np.nan, 0.0)
        )


COMPONENT = Component(
    name="pue_cap",
    sections=("policies.pue", "sites.pue_cap"),
    doc="energy-weighted PUE cap per site",
    outputs=(
        Output("pue_cap", ("site",), "1", "PUE cap (NaN: none)", role="input"),
        Output("e_pue_excess", ("site",), "MWh", "facility energy above the cap (diagnosis)"),
        Output(
            "shadow_pue",
            ("site",),
            "CNY/0.01",
            "saving from a cap 0.01 higher (dual of pue_max times -0.01 x IT energy)",
            role="dual",
        ),
    ),
    build=_build,
    check=_check,
    kind="policy",
)
