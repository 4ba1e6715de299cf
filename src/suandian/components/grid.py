"""Grid supply at each site's node: time-of-use tariff, import limit, emission factors.

Math: ``docs/math/grid.md``. Block ``m.grid``; ports ``power``, ``intake``, ``metered``,
``grid_mix`` (MW), ``co2`` (tCO2/h at the node's location-based factor), ``co2_market``
(tCO2/h at its residual-mix factor); cost term ``grid_energy`` (CNY).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..checks import Rows, node_series, period_weight
from ..component import Account, Component, Context, FamilyBuilder, Limit, Output, Violation


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    c = sc.config
    nodes = [n.name for n in c.nodes]
    node_pos = {n: i for i, n in enumerate(nodes)}
    site_node = np.array([node_pos[s.node] for s in c.sites], dtype=np.int64)
    tariff = np.array([sc.profile(n.tariff) for n in c.nodes]).reshape(len(nodes), ctx.T)
    factor = np.array([sc.profile(n.emission_factor) for n in c.nodes]).reshape(len(nodes), ctx.T)
    residual = np.array([sc.residual_factor(n) for n in c.nodes]).reshape(len(nodes), ctx.T)
    limit = np.array([np.nan if n.import_limit is None else n.import_limit for n in c.nodes])

    fb.input("site_node", np.array([s.node for s in c.sites], dtype=object))
    fb.input("tariff", tariff)
    fb.input(
        "tariff_band",
        np.array(
            [
                np.full(ctx.T, "")
                if isinstance(n.tariff, int | float | str)  # a Profile; else a TimeOfUse
                else sc.tou_bands(n.tariff)
                for n in c.nodes
            ],
            dtype=object,
        ).reshape(len(nodes), ctx.T),
    )
    fb.input("emission_factor", factor)
    fb.input("residual_emission_factor", residual)
    fb.input("import_limit", limit)
    fb.input(
        "grid_cfe", np.array([sc.profile(n.grid_cfe) for n in c.nodes]).reshape(len(nodes), ctx.T)
    )

    p = fb.var("p_grid")
    has_site = np.bincount(site_node, minlength=len(nodes)) > 0
    limited = ~np.isnan(limit) & has_site
    imported = p.group(0, site_node, len(nodes))
    fb.constrain(
        "import_limit", imported, "<=", np.nan_to_num(limit)[:, None], mask=limited[:, None]
    )
    fb.port("power", p.expr())
    fb.port("intake", p.expr())
    fb.port("metered", p.expr())
    fb.port("grid_mix", p.expr())
    fb.port("co2", p * factor[site_node])
    fb.port("co2_market", p * residual[site_node])
    fb.cost("grid_energy", p * (ctx.dt * tariff[site_node]), per_period=True)


def _account(ds: xr.Dataset) -> Account:
    dt = float(ds.attrs["dt_hours"])
    p = ds["p_grid"]
    w = period_weight(ds)
    return Account(
        flows={
            "power": p,
            "intake": p,
            "metered": p,
            "grid_mix": p,
            "co2": p * node_series(ds, "emission_factor"),
            "co2_market": p * node_series(ds, "residual_emission_factor"),
        },
        cost={"grid_energy": float((p * node_series(ds, "tariff") * w).sum() * dt)},
        energy={"grid": float((p * w).sum() * dt)},
    )


def _check(ds: xr.Dataset, rows: Rows) -> None:
    at_node = ds["site_node"] == ds["node"]
    imported = (ds["p_grid"] * at_node).sum("site")
    rows.le("grid.import_limit", imported, ds["import_limit"])


def _import_limit_finding(sc, v: Violation) -> tuple[str, str, str, float]:
    """Diagnosis sentence: a node import limit the relaxed re-solve had to exceed."""
    node = sc.config.nodes[v.i]
    total = float(v.row.sum() * sc.dt)
    text = (
        f"node '{v.element}': its import limit {node.import_limit:g} MW must be exceeded by up "
        f"to {v.row.max():,.2f} MW ({total:,.2f} MWh) in {v.when} even with all compute given "
        f"up: sites {', '.join(sc.sites_at(v.element))} cannot draw less there (min_on "
        "blocks, battery end rules); raise the limit or add on-site supply"
    )
    return "import_limit", v.element, text, total


_LIMITS = (
    Limit(
        "import_limit", "import_limit", lambda c: [n.name for n in c.nodes], _import_limit_finding
    ),
)


def _estimate(sc, options) -> int:
    """Columns of ``grid``: ``p_grid`` per (site, period)."""
    return len(sc.config.sites) * sc.periods


COMPONENT = Component(
    name="grid",
    sections=("nodes",),
    doc="grid import at each site's node",
    stateless="each period's purchase and import limit stand alone",
    outputs=(
        Output("p_grid", ("site", "time"), "MW", "grid import"),
        Output("site_node", ("site",), "text", "grid node of the site", role="input"),
        Output("tariff", ("node", "time"), "CNY/MWh", "grid energy price", role="input"),
        Output(
            "tariff_band",
            ("node", "time"),
            "text",
            "time-of-use band of the tariff in the period ('critical_peak' where it applies; "
            "'' for a number or series)",
            role="input",
        ),
        Output(
            "emission_factor", ("node", "time"), "tCO2/MWh", "location-based factor", role="input"
        ),
        Output(
            "residual_emission_factor",
            ("node", "time"),
            "tCO2/MWh",
            "market-based residual-mix factor",
            role="input",
        ),
        Output("import_limit", ("node",), "MW", "import limit (NaN: none)", role="input"),
        Output(
            "grid_cfe",
            ("node", "time"),
            "1",
            "carbon-free share of the grid mix (hourly CFE score)",
            role="input",
        ),
    ),
    build=_build,
    estimate=_estimate,
    account=_account,
    check=_check,
    limits=_LIMITS,
)
