"""Grid supply at each site's node: tariff, import limit, emission factors, spot settlement.

The node's purchase may be settled in a spot market (a day-ahead position, real-time
deviations).

Math: ``docs/math/grid.md`` and, for the spot settlement, ``docs/math/stochastic.md``.
Block ``m.grid``; ports ``power``, ``intake``, ``metered``, ``grid_mix`` (MW), ``co2`` (tCO2/h at
the node's location-based factor), ``co2_market`` (tCO2/h at its residual-mix factor); cost
terms ``grid_energy``, ``spot_day_ahead``, ``spot_real_time``, ``spot_deviation`` (CNY).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import numpy as np
import xarray as xr
from pydantic import Field

from ..checks import Rows, node_series, period_weight
from ..component import (
    Account,
    Component,
    Context,
    FamilyBuilder,
    Fraction,
    Limit,
    Name,
    NonNeg,
    Output,
    Profile,
    Range,
    ScenarioField,
    Section,
    Violation,
)
from ..errors import Problem

if TYPE_CHECKING:
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs

_PRICE = Range(low=None, what="prices")


class SpotMarket(Section):
    """A node's grid purchase settled in the spot market.

    A day-ahead position bought at the day-ahead price, the difference to the metered
    purchase at the real-time price, and the deviation beyond a tolerance band assessed
    (偏差考核).
    """

    node: Name = Field(description="node whose grid purchase (all its sites) is settled")
    day_ahead_price: Annotated[Profile, _PRICE] = Field(
        description="day-ahead price the position is bought at, CNY/MWh"
    )
    real_time_price: Annotated[Profile, _PRICE] = Field(
        description="real-time price of the purchase above the position (paid) and below it "
        "(earned), CNY/MWh"
    )
    tolerance: Fraction = Field(
        0.05,
        description="deviation band, a share of the day-ahead position: deviations within it "
        "settle at the real-time price only; default 0.05 [A]",
    )
    deviation_price: NonNeg = Field(
        description="assessment per MWh of deviation beyond the band, either direction, CNY/MWh"
    )
    position_max: NonNeg | None = Field(
        None,
        description="largest day-ahead position, MW (default: the node's import_limit; "
        "needed when neither is given and the real-time price can exceed the day-ahead price "
        "by more than deviation_price x (1 - tolerance): selling a position back would pay "
        "without bound)",
    )


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
    _build_spot(fb, ctx, imported, node_pos)


def _build_spot(fb: FamilyBuilder, ctx: Context, imported, node_pos: dict[str, int]) -> None:
    """Day-ahead position ``p_da``, real-time deviation ``p_rt`` and its assessed part."""
    sc = ctx.scenario
    markets = list(sc.section("spot_market"))
    c_nodes = sc.config.nodes
    M, T = len(markets), ctx.T
    fb.coord("market", [m.node for m in markets])
    where = np.array([node_pos[m.node] for m in markets], dtype=np.int64)
    da = np.array([sc.profile(m.day_ahead_price) for m in markets]).reshape(M, T)
    rt = np.array([sc.profile(m.real_time_price) for m in markets]).reshape(M, T)
    tol = np.array([m.tolerance for m in markets], dtype=float)
    dev = np.array([m.deviation_price for m in markets], dtype=float)
    fb.input("day_ahead_price", da)
    fb.input("real_time_price", rt)
    fb.input("deviation_tolerance", tol)
    fb.input("deviation_price", dev)
    limit = [
        m.position_max if m.position_max is not None else c_nodes[node_pos[m.node]].import_limit
        for m in markets
    ]
    cap = np.array([np.inf if v is None else v for v in limit], dtype=float)
    fb.input("position_max", cap)
    p_da = fb.var("p_da", ub=cap[:, None])
    p_dev = fb.var("p_deviation")
    label = np.full(len(node_pos), -1, dtype=np.int64)
    label[where] = np.arange(M)
    purchase = imported.group(0, label, M)  # (market, time): the node's grid import, MW
    p_rt = fb.expression("p_rt", purchase - p_da)
    band = p_da * tol[:, None]
    fb.constrain("deviation_up", p_rt - band - p_dev, "<=", 0.0)
    fb.constrain("deviation_down", -p_rt - band - p_dev, "<=", 0.0)
    fb.cost("spot_day_ahead", p_da * (ctx.dt * da), per_period=True)
    fb.cost("spot_real_time", p_rt * (ctx.dt * rt), per_period=True)
    fb.cost("spot_deviation", p_dev * (ctx.dt * dev[:, None]), per_period=True)


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
        cost={
            "grid_energy": float((p * node_series(ds, "tariff") * w).sum() * dt),
            **_spot_costs(ds, w, dt),
        },
        energy={"grid": float((p * w).sum() * dt)},
    )


def _purchase(ds: xr.Dataset) -> xr.DataArray:
    """Grid import of each market's node, (market, time) MW, from ``p_grid``."""
    at = (ds["site_node"] == ds["market"]).astype(float)  # (site, market)
    return xr.dot(ds["p_grid"], at, dim="site").transpose("market", "time")


def _spot_costs(ds: xr.Dataset, w, dt: float) -> dict[str, float]:
    """Cost terms of the spot settlement (none without a market)."""
    if not ds.sizes.get("market", 0):
        return {}
    p_rt = _purchase(ds) - ds["p_da"]
    return {
        "spot_day_ahead": float((ds["p_da"] * ds["day_ahead_price"] * w).sum() * dt),
        "spot_real_time": float((p_rt * ds["real_time_price"] * w).sum() * dt),
        "spot_deviation": float((ds["p_deviation"] * ds["deviation_price"] * w).sum() * dt),
    }


def _check(ds: xr.Dataset, rows: Rows) -> None:
    at_node = ds["site_node"] == ds["node"]
    imported = (ds["p_grid"] * at_node).sum("site")
    rows.le("grid.import_limit", imported, ds["import_limit"])
    if ds.sizes.get("market", 0):
        p_rt = _purchase(ds) - ds["p_da"]
        band = ds["p_da"] * ds["deviation_tolerance"]
        rows.le("grid.p_rt", p_rt, ds["p_rt"])  # the recorded expression is the purchase's
        rows.le("grid.p_rt", ds["p_rt"], p_rt)
        rows.le("grid.deviation_up", p_rt - band, ds["p_deviation"])
        rows.le("grid.deviation_down", -p_rt - band, ds["p_deviation"])


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
    """Columns of ``grid``: ``p_grid`` per (site, period), ``p_da``, ``p_deviation`` per market."""
    return (len(sc.config.sites) + 2 * len(sc.section("spot_market"))) * sc.periods


def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """One spot market per node; a position without bound must not pay to be sold back."""
    seen: dict[str, int] = {}
    problems = []
    limits = {n.name: n.import_limit for n in sc.config.nodes}
    for i, m in enumerate(sc.section("spot_market")):
        da, rt = refs.values(m.day_ahead_price), refs.values(m.real_time_price)
        unbounded = m.position_max is None and limits.get(m.node) is None
        if unbounded and da is not None and rt is not None:
            gain = rt - da - m.deviation_price * (1.0 - m.tolerance)
            if (gain > 0).any():
                t = int(np.argmax(gain))
                problems.append(
                    Problem(
                        f"spot_market[{i}].position_max",
                        "null",
                        f"in period {t} the real-time price {rt[t]:g} exceeds the day-ahead "
                        f"price {da[t]:g} by more than deviation_price x (1 - tolerance) = "
                        f"{m.deviation_price * (1.0 - m.tolerance):g} CNY/MWh: a position "
                        "sold back would pay without bound; give position_max (MW) or the "
                        "node's import_limit",
                    )
                )
        if m.node in seen:
            problems.append(
                Problem(
                    f"spot_market[{i}].node",
                    m.node,
                    f"node already settled by spot_market[{seen[m.node]}]: one market per node",
                )
            )
        seen.setdefault(m.node, i)
    return problems


COMPONENT = Component(
    name="grid",
    sections=("nodes", "spot_market"),
    doc="grid import at each site's node; its spot settlement (day-ahead position, deviations)",
    stateless="each period's purchase, import limit and spot settlement stand alone",
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
            "p_da",
            ("market", "time"),
            "MW",
            "day-ahead purchase position of the market's node",
            upper="position_max",
            first_stage=True,
        ),
        Output("position_max", ("market",), "MW", "largest position (inf: none)", role="input"),
        Output(
            "p_rt",
            ("market", "time"),
            "MW",
            "real-time deviation: the node's grid import minus its day-ahead position "
            "(negative: sold back)",
            role="expression",
            lower=-np.inf,
        ),
        Output(
            "p_deviation",
            ("market", "time"),
            "MW",
            "deviation beyond the tolerance band, assessed at deviation_price",
        ),
        Output("day_ahead_price", ("market", "time"), "CNY/MWh", "day-ahead price", role="input"),
        Output("real_time_price", ("market", "time"), "CNY/MWh", "real-time price", role="input"),
        Output(
            "deviation_tolerance", ("market",), "1", "band, share of the position", role="input"
        ),
        Output(
            "deviation_price", ("market",), "CNY/MWh", "assessment beyond the band", role="input"
        ),
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
    validate=_validate,
    limits=_LIMITS,
    scenario_fields=(
        ScenarioField(
            "spot_market",
            list[SpotMarket],
            Field(
                default_factory=list,
                description="nodes whose grid purchase is settled in the spot market",
            ),
        ),
    ),
)
