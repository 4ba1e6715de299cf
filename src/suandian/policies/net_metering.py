"""Net metering at each site's point of connection: never import and export in one period.

Math: ``docs/math/grid.md`` (section "Point of connection: net metering"). Component
``net_metering`` (a policy: built after every family and the ledger, it reads the ledgers
only): at a site with ``sites[].net_metering`` (the default), the MW drawn through the
public-grid meter (carrier ``metered``: grid purchases, corridor and contract deliveries) and
the MW fed back through it (carrier ``export``: renewable surplus sold) are never both
positive in one period. Without the rule a plan can buy grid energy and sell its own
renewables in the same 15 minutes through the same connection, a swap that pays where the
export price and the charges the site owes on its own renewables' self-use (``grid_charge``)
exceed what importing costs.

**Where a binary is needed.** Per (site, period), at build time: the swap pays at most
``net_swap_value`` (the best export price plus grid charge of the site's exporting assets,
plus the highest up-reserve price at the site and, under a market-based carbon price with
certificates, the certificate credit the swap frees) and costs at least
``net_import_price`` (the node's tariff plus its network charge, plus the carbon price x
the grid factor on a location basis). Only where the swap value reaches the import price
(within :data:`TIE`), or where a flow the test does not price may pass (a corridor or
contract delivery, whose marginal price is not a tariff; an export of another family), does
the rule need the binary ``u_net_export`` with the rows ``import_max`` and ``export_max``.
Elsewhere a plan that both imports and exports is never optimal: taking the same MW off the
export, using it on site instead and importing that much less lowers the cost by
(import price - swap value) per MWh and keeps every row (docs/math/grid.md derives it).

**Big-M.** The rows' bounds are physical: the export bound is the largest export (the
exporting assets' capacity x profile), the import bound the largest metered draw the rows
imply (activity-based bound propagation over the rows already built,
:meth:`~suandian.linear.LinearModel.implied_bounds`, leaving out the hard limits a diagnosis
may relax), else the node's ``import_limit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from ..checks import Rows, site_time_zeros
from ..component import Component, Context, FamilyBuilder, Output
from ..components.grid import COMPONENT as GRID
from ..components.renewables import COMPONENT as RES
from ..linear import Expr
from .bill import site_charges

if TYPE_CHECKING:
    from ..ledgers import Ledger

#: CNY/MWh: a swap worth this little less than importing costs still gets the binary (a tie
#: would leave the choice to the solver; the LP argument needs a strict loss)
TIE = 0.01
#: MW: a bound at most this is no flow (no binary)
NO_FLOW = 1e-9
#: rounds of bound propagation for the big-M of the draw, tried in turn (the rows within as
#: many steps of the draw); it stops once a round lowers no cell's bound by more than
#: SETTLED (relative): a big-M 0.1 % loose costs nothing
ROUNDS = (4, 8, 20)
SETTLED = 1e-3
#: rows of more entries are left out of the propagation (sums over the horizon)
LONGEST = 64

_ST = ("site", "time")


def swap_prices(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    """The swap's value and the import's price per (site, period), CNY/MWh.

    Returns
    -------
    value : ndarray (S, T)
        What importing 1 MWh more and exporting 1 MWh more of the site's own renewables
        (using that much less on site) can earn at most: the largest ``export_price`` +
        ``grid_charge`` of the site's exporting assets (plus, for a direct project, the
        charges its self-used energy owes under the site's connection, ``bill``), plus the
        largest up-reserve price at the site (its ``up_deliverable`` row lets the site offer
        what it draws), plus,
        under a market-based carbon price with certificates, ``carbon_price`` x the
        certificate credit factor above the period's residual factor. ``-inf``: no asset
        of the site may export.
    price : ndarray (S, T)
        What that MWh of grid import costs at least: the node's ``tariff``, plus its
        ``network_charge`` (with the policy ``bill``; all-in or in parts, without the T&D
        energy rate at a site whose connection is billed on capacity), plus
        ``carbon_price`` x its ``emission_factor`` (location basis).
    """
    sc = ctx.scenario
    c = sc.config
    S, T = ctx.S, ctx.T
    built = ctx.components
    nodes = {n.name: n for n in c.nodes}
    site_node = [nodes[s.node] for s in c.sites]

    def per_site(values) -> np.ndarray:
        return np.array([sc.profile(v) for v in values], dtype=float).reshape(S, T)

    price = per_site([n.tariff for n in site_node])
    self_use = np.zeros((S, T))
    if "bill" in built:
        draw, self_use = site_charges(sc)
        price = price + draw
    policy = c.policies
    carbon = "carbon" in built and policy.carbon_price > 0
    if carbon and policy.carbon_basis == "location":
        price = price + policy.carbon_price * per_site([n.emission_factor for n in site_node])

    value = np.full((S, T), -np.inf)
    pos = {s: i for i, s in enumerate(ctx.sites)}
    for r in c.renewables:
        if r.export_price is None:
            continue
        s = pos[r.site]
        gain = np.asarray(sc.profile(r.export_price), float) + sc.profile(r.grid_charge)
        value[s] = np.maximum(value[s], gain + (self_use[s] if r.direct else 0.0))
    extra = np.zeros((S, T))
    if "rsv" in built:
        for k in c.reserves:
            if k.direction != "up":
                continue
            at = np.array([k.sites is None or s in k.sites for s in ctx.sites])
            extra[at] = np.maximum(extra[at], np.asarray(sc.profile(k.price), float))
    if carbon and policy.carbon_basis == "market" and c.certificates is not None:
        residual = np.array([sc.residual_factor(n) for n in site_node], float).reshape(S, T)
        credit = residual.mean(axis=1, keepdims=True)  # a certificate's market-based credit
        extra = extra + policy.carbon_price * np.maximum(credit - residual, 0.0)
    return value + extra, price


def _priced_elsewhere(led: Ledger, S: int, T: int) -> np.ndarray:
    """(S, T): cells whose flows :func:`swap_prices` does not price.

    A metered delivery other than a grid purchase (a corridor or contract: blocks, minimums,
    take-or-pay) or an export of a family other than the renewables (none in the library).
    """
    out = np.zeros(S * T, bool)
    for family, ports in led.ports.items():
        if family != GRID.name and "metered" in ports:
            out[ports["metered"].row] = True
        if family != RES.name and "export" in ports:
            out[ports["export"].row] = True
    return out.reshape(S, T)


def _cells(expr) -> np.ndarray:
    """(S, T): cells of an expression that hold a column."""
    out = np.zeros(int(np.prod(expr.shape)), bool)
    out[expr.row] = True
    return out.reshape(expr.shape)


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    c = sc.config
    S, T = ctx.S, ctx.T
    on = np.array([s.net_metering for s in c.sites], bool)
    fb.input("site_net_metering", on)
    led = ctx.ledger
    export, metered = led.flow("export"), led.flow("metered")
    exporting = on[:, None] & _cells(export)
    if not exporting.any():
        return
    value, price = swap_prices(ctx)
    pays = value >= price - TIE
    candidate = exporting & _cells(metered) & (pays | _priced_elsewhere(led, S, T))
    fb.input("net_swap_value", np.where(exporting, value, np.nan))
    fb.input("net_import_price", np.where(exporting, price, np.nan))
    nan = np.full((S, T), np.nan)
    m_import, m_export = nan, nan
    need = np.zeros((S, T), bool)
    if candidate.any():
        implied = implied_draw(ctx, metered, candidate)
        lb, ub = ctx.lm.column_bounds()
        m_export = np.where(candidate, export.highest(lb, ub), np.nan)
        m_import = np.where(candidate, _import_bound(ctx, implied), np.nan)
        need = candidate & (m_import > NO_FLOW) & (m_export > NO_FLOW)
        _refuse_unbounded(ctx, need & ~np.isfinite(m_import))
    fb.input("net_binary", need)
    fb.input("net_import_bound", np.where(need, m_import, np.nan))
    fb.input("net_export_bound", np.where(need, m_export, np.nan))
    u = fb.var("u_net_export", mask=need)
    m_i, m_e = np.where(need, m_import, 0.0), np.where(need, m_export, 0.0)
    fb.constrain("import_max", metered + u * m_i, "<=", m_i, mask=need)
    fb.constrain("export_max", export - u * m_e, "<=", 0.0, mask=need)


def implied_draw(ctx: Context, metered: Expr, cells: np.ndarray) -> np.ndarray:
    """(S, T) MW: the largest metered draw the rows imply in ``cells`` (inf: none found).

    :func:`implied_draw_range` without its least draw.
    """
    return implied_draw_range(ctx, metered, cells)[1]


def implied_draw_range(
    ctx: Context, metered: Expr, cells: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(S, T) MW each: the least and the largest metered draw the rows imply in ``cells``.

    ``-inf`` / ``inf`` where none is found. The least is the tightest of the rounds' boxes
    (each is valid: every point of the rows lies in it); the rounds stop on the largest.

    Bound propagation around the draw's columns (:meth:`LinearModel.implied_bounds` with
    ``near``: the rows within as many steps as rounds), without the hard limits a diagnosis
    may relax and the sums over the horizon (rows of more than :data:`LONGEST` entries),
    until the bound is finite and a round lowers it by at most :data:`SETTLED` (3 rounds on
    the default day: the site's balance, the data center's power rows, their compute rows):
    :data:`ROUNDS` rounds, then more if they were not enough.
    """
    flat = cells.ravel()[metered.row]
    near = np.unique(metered.col[flat])
    seen = np.full(int(cells.sum()), np.inf)
    least = np.full(int(cells.sum()), -np.inf)
    settled = False

    def enough(lb: np.ndarray, ub: np.ndarray) -> bool:
        nonlocal seen, settled, least
        found = metered.highest(lb, ub)[cells]
        least = np.maximum(least, -(-metered).highest(lb, ub)[cells])
        with np.errstate(invalid="ignore"):  # inf - inf: not settled
            small = bool((seen - found <= SETTLED * (1.0 + np.abs(found))).all())
        seen = np.minimum(seen, found)
        settled = small and bool(np.isfinite(found).all())
        return settled

    for rounds in ROUNDS:
        ctx.lm.implied_bounds(
            skip=ctx.limit_rows(), rounds=rounds, near=near, longest=LONGEST, enough=enough
        )
        if settled:
            break
    out = np.full(cells.shape, np.inf)
    out[cells] = seen
    low = np.full(cells.shape, -np.inf)
    low[cells] = least
    return low, out


def _import_bound(ctx: Context, implied: np.ndarray) -> np.ndarray:
    """(S, T) MW: the implied bound of the metered draw, else the node's import limit."""
    nodes = {n.name: n for n in ctx.scenario.config.nodes}
    limit = np.array(
        [
            np.inf if nodes[s.node].import_limit is None else nodes[s.node].import_limit
            for s in ctx.scenario.config.sites
        ],
        float,
    )
    return np.where(np.isfinite(implied), implied, limit[:, None])


def _refuse_unbounded(ctx: Context, cells: np.ndarray) -> None:
    """A clear error where no bound of the metered draw exists for the big-M."""
    if not cells.any():
        return
    s = int(np.argwhere(cells)[0][0])
    site = ctx.scenario.config.sites[s]
    i = [n.name for n in ctx.scenario.config.nodes].index(site.node)
    raise ValueError(
        f"nodes[{i}].import_limit: missing; site {site.name!r} may export and import in one "
        "period where the swap pays, and its metered draw has no bound the rows imply (the "
        "big-M of net_metering.import_max); set the node's import_limit (MW), or "
        f"sites[].net_metering: false for {site.name!r} if its exports leave through a "
        "separate connection"
    )


def _flows(rows: Rows, carrier: str) -> xr.DataArray | None:
    found = [
        a.flows[carrier]
        for name, a in rows.accounts.items()
        if name != COMPONENT.name and carrier in a.flows
    ]
    return sum(found[1:], found[0]) if found else None


def _check(ds: xr.Dataset, rows: Rows) -> None:
    """Import and export at one connection, recomputed from the families' accounts."""
    if "site_net_metering" not in ds:
        return
    export = _flows(rows, "export")
    if export is None:
        return
    metered = _flows(rows, "metered")
    if metered is None:
        metered = site_time_zeros(ds)
    on = ds["site_net_metering"].astype(bool)
    both = xr.where(metered < export, metered, export)
    larger = xr.where(metered > export, metered, export)
    zero = xr.zeros_like(both)
    rows.le("net_metering.exclusive", both, zero.where(on), scale=larger)
    if "u_net_export" not in ds:
        return
    binary = ds["net_binary"].astype(bool)
    u = ds["u_net_export"]
    m_import, m_export = ds["net_import_bound"], ds["net_export_bound"]
    rows.le(
        "net_metering.import_max",
        metered,
        (m_import * (1.0 - u)).where(binary),
        scale=m_import,
    )
    rows.le("net_metering.export_max", export, (m_export * u).where(binary), scale=m_export)


def _estimate(sc, options) -> int:
    """Columns of ``net_metering``: at most ``u_net_export`` per period and exporting site.

    A net-metered site with an asset that may export counts every period: the periods where
    the swap pays are known only once the prices are read.
    """
    c = sc.config
    exporting = {r.site for r in c.renewables if r.export_price is not None}
    return sum(s.net_metering and s.name in exporting for s in c.sites) * sc.periods


COMPONENT = Component(
    name="net_metering",
    sections=("sites.net_metering",),
    doc="one point of connection per site: never import and export in the same period",
    stateless="each period's rule stands alone",
    outputs=(
        Output(
            "u_net_export",
            _ST,
            "1",
            "1: the site's connection may export in the period (its metered draw is 0), 0: "
            "may import (its export is 0); only where the swap could pay (net_binary)",
            upper=1.0,
            integer=True,
            rounding="down",
        ),
        Output(
            "site_net_metering",
            ("site",),
            "bool",
            "sites[].net_metering: import and export at one connection, never both",
            role="input",
        ),
        Output(
            "net_swap_value",
            _ST,
            "CNY/MWh",
            "most a MWh imported and exported more (used less on site) earns: export price + "
            "grid charge, + up-reserve price, + freed certificate credit (NaN: no export)",
            role="input",
        ),
        Output(
            "net_import_price",
            _ST,
            "CNY/MWh",
            "least a MWh of grid import costs: tariff + network charge (+ carbon, location "
            "basis) (NaN: no export)",
            role="input",
        ),
        Output(
            "net_binary",
            _ST,
            "bool",
            "cells with u_net_export and its rows (the swap could pay there)",
            role="input",
        ),
        Output(
            "net_import_bound",
            _ST,
            "MW",
            "big-M of import_max: the largest metered draw the rows imply (NaN: no binary)",
            role="input",
        ),
        Output(
            "net_export_bound",
            _ST,
            "MW",
            "big-M of export_max: the largest export (NaN: no binary)",
            role="input",
        ),
    ),
    build=_build,
    estimate=_estimate,
    check=_check,
    kind="policy",
)
