"""The grid side of the Chinese bill: network charge, demand charge, capacity charge.

Math: ``docs/math/network.md``. Component ``bill`` (a policy: reads the ledgers only, the
``metered`` carrier: the MW the sites draw through the public-grid meter — grid purchases,
corridor and contract deliveries).

* **Network charge** ``nodes[].network_charge`` (CNY/MWh; a number, a series or a
  time-of-use table): transmission and distribution, system-operation charges, government
  funds and line-loss cost, on every metered MWh of the node's sites. Cost term ``network``.
* **Demand charge** ``nodes[].demand_charge`` with ``kind: demand`` (基本电费 by maximum
  demand, CNY/kW·month): the maximum metered MW per billing month (calendar month of the
  horizon's timestamps) at a node meter (the node's sites together) or per site meter,
  above the month's peak so far (``peak_to_date_mw``, first month only). Variable ``d_peak``
  (meter, bill_month), rows ``demand_peak``; cost term ``demand`` = rate x 1000 x the rise
  of the peak.
* **Capacity charge** ``kind: capacity`` (基本电费 by contracted capacity, CNY/kVA·month):
  rate x ``capacity_kva`` x the horizon's share of each calendar month, a fixed cost term
  ``capacity``; with ``power_factor`` the metered draw is capped at ``capacity_kva`` x
  ``power_factor`` / 1000 MW (rows ``capacity_max``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import Field, model_validator

from ..checks import Rows, node_series, period_weight
from ..component import (
    Account,
    Component,
    Context,
    FamilyBuilder,
    Fraction,
    Name,
    NonNeg,
    Output,
    StateField,
)
from ..component import Section as _Model
from ..errors import Problem
from ..linear import Expr

if TYPE_CHECKING:
    from ..errors import Problem
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs


class DemandCharge(_Model):
    """Two-part tariff (基本电费) of a node: demand charge or capacity charge."""

    kind: Literal["demand", "capacity"] = Field(
        description="'demand': rate per kW of the maximum metered demand per billing month; "
        "'capacity': rate per kVA of contracted (transformer) capacity, a fixed cost"
    )
    rate: NonNeg = Field(
        description="CNY/kW·month on the maximum demand (demand) or CNY/kVA·month on "
        "capacity_kva (capacity)"
    )
    meter: Literal["node", "site"] = Field(
        "node",
        description="'node': one meter for the node's sites together (their metered MW "
        "summed); 'site': one meter per site of the node",
    )
    peak_to_date_mw: NonNeg | dict[Name, NonNeg] = Field(
        0.0,
        description="demand: the first billing month's maximum demand so far (MW, carried in: "
        "only raising it costs); a number (the node meter, or every site meter) or "
        "{site: MW} for site meters (sites not named: 0)",
    )
    capacity_kva: NonNeg | dict[Name, NonNeg] | None = Field(
        None,
        description="capacity: contracted capacity, kVA; a number (the node meter, or every "
        "site meter) or {site: kVA} for site meters",
    )
    power_factor: Fraction | None = Field(
        None,
        description="capacity: cap the metered MW at capacity_kva x power_factor / 1000 in "
        "every period; none by default (no cap)",
    )

    @model_validator(mode="after")
    def _consistent(self) -> DemandCharge:
        if self.kind == "capacity":
            if self.capacity_kva is None:
                raise ValueError(
                    "demand_charge: kind 'capacity' needs capacity_kva (contracted kVA)"
                )
            if isinstance(self.peak_to_date_mw, dict) or self.peak_to_date_mw:
                raise ValueError(
                    "demand_charge: peak_to_date_mw applies to kind 'demand' only; remove it"
                )
        else:
            for key in ("capacity_kva", "power_factor"):
                if getattr(self, key) is not None:
                    raise ValueError(
                        f"demand_charge: {key} applies to kind 'capacity' only; remove it or "
                        "set kind: capacity"
                    )
        for key in ("peak_to_date_mw", "capacity_kva"):
            if isinstance(getattr(self, key), dict) and self.meter != "site":
                raise ValueError(
                    f"demand_charge: {key} per site needs meter: site (a node meter takes "
                    "one number)"
                )
        return self


def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Scenario checks of the node charges: per-site entries name sites of the node."""
    c = sc.config
    problems: list[Problem] = []
    site_names = {s.name for s in c.sites}
    for i, n in enumerate(c.nodes):
        d = n.demand_charge
        if d is None:
            continue
        at_node = [s.name for s in c.sites if s.node == n.name]
        if d.meter == "node" and n.name in site_names:
            problems.append(
                Problem(
                    f"nodes[{i}].demand_charge.meter",
                    repr(n.name),
                    "a node meter is named after its node, and a site has that name too; "
                    "rename one of them",
                )
            )
        for key in ("peak_to_date_mw", "capacity_kva"):
            value = getattr(d, key)
            for s in value if isinstance(value, dict) else ():
                if s not in at_node:
                    problems.append(
                        Problem(
                            f"nodes[{i}].demand_charge.{key}.{s}",
                            repr(s),
                            f"not a site of node '{n.name}'; its sites: "
                            f"{', '.join(at_node) or '(none)'}",
                        )
                    )
    return problems


def billing_months(time: pd.DatetimeIndex) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Billing months of the horizon (calendar months of the period starts).

    Returns
    -------
    labels : list of str
        ``'YYYY-MM'`` per billing month, in order.
    month_of : numpy.ndarray
        Billing month (position in ``labels``) of each period, shape (T,).
    days : numpy.ndarray
        Days of each calendar month (for the pro-rata share of a capacity charge).
    """
    months = pd.DatetimeIndex(time).to_period("M")
    uniq = months.unique()
    month_of = pd.Index(uniq).get_indexer(months)
    return [str(m) for m in uniq], month_of, np.array([m.days_in_month for m in uniq], float)


def _per_meter(value, members: list[str]) -> float:
    """A number, or the sum of a {site: value} mapping over the meter's sites (one site)."""
    if isinstance(value, dict):
        return float(sum(value.get(s, 0.0) for s in members))
    return float(value or 0.0)


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    c = sc.config
    T, S, dt = ctx.T, ctx.S, ctx.dt
    N = len(c.nodes)
    charge = np.array([sc.profile(n.network_charge) for n in c.nodes], float).reshape(N, T)
    charged = [n for n in c.nodes if n.demand_charge is not None]
    if not charge.any() and not charged:
        return
    led = ctx.ledger
    metered = fb.expression("p_metered", led.flow("metered"))
    fb.input("network_charge", charge)
    node_pos = {n.name: i for i, n in enumerate(c.nodes)}
    site_node = np.array([node_pos[s.node] for s in c.sites], dtype=np.int64)
    fb.cost("network", metered * (dt * charge[site_node]), per_period=True)

    # ------------------------------------------------------------ meters and months
    names: list[str] = []
    kind: list[str] = []
    rate: list[float] = []
    p2d: list[float] = []
    kva: list[float] = []
    pf: list[float] = []
    meter_of_site = np.full(S, -1, dtype=np.int64)
    for n in charged:
        d = n.demand_charge
        assert d is not None  # charged: the nodes with a demand charge
        at_node = [s.name for s in c.sites if s.node == n.name]
        groups = [(n.name, at_node)] if d.meter == "node" else [(s, [s]) for s in at_node]
        for label, members in groups:
            for s in members:
                meter_of_site[ctx.sites.index(s)] = len(names)
            names.append(label)
            kind.append(d.kind)
            rate.append(d.rate)
            p2d.append(_per_meter(d.peak_to_date_mw, members))
            kva.append(np.nan if d.capacity_kva is None else _per_meter(d.capacity_kva, members))
            pf.append(np.nan if d.power_factor is None else d.power_factor)
    M = len(names)
    labels, month_of, days = billing_months(sc.time)
    K = len(labels)
    # share of each month the horizon stands for (its periods weighted: representative days)
    weight = np.broadcast_to(ctx.w, (T,))
    share = np.bincount(month_of, weights=weight, minlength=K) * dt / (24.0 * days)
    fb.coord("meter", names)
    fb.coord("bill_month", labels)
    demand = np.array([k == "demand" for k in kind], dtype=bool)
    rate_a, kva_a, pf_a = np.array(rate, float), np.array(kva, float), np.array(pf, float)
    peak_to_date = np.zeros((M, K))
    if K:
        peak_to_date[:, 0] = p2d
    peak_to_date[~demand] = np.nan
    member = meter_of_site[None, :] == np.arange(M)[:, None]
    fb.input("meter_kind", np.array(kind, dtype=object))
    fb.input("meter_site", member)
    fb.input("meter_rate", rate_a)
    fb.input("peak_to_date", peak_to_date)
    fb.input("capacity_kva", kva_a)
    fb.input("power_factor", pf_a)
    fb.input("bill_month_share", share)
    if not M:
        return
    drawn = metered.group(0, meter_of_site, M)  # (meter, time), MW

    # ------------------------------------------------------------ demand charge
    if demand.any():
        mask = np.repeat(demand[:, None], K, 1)
        d_peak = fb.var("d_peak", lb=np.nan_to_num(peak_to_date), mask=mask)
        mm, tt = np.meshgrid(np.arange(M), np.arange(T), indexing="ij")
        at_t = Expr.cells((M, T), (mm.ravel(), tt.ravel()), d_peak.cols[mm, month_of[tt]].ravel())
        fb.constrain(
            "demand_peak",
            at_t - drawn,
            ">=",
            0.0,
            mask=np.repeat(demand[:, None], T, 1),
            dual="demand_peak_price",
        )
        kw = 1000.0 * np.where(demand, rate_a, 0.0)
        raised = d_peak * kw[:, None] - kw[:, None] * np.nan_to_num(peak_to_date)  # (M, K)
        fb.cost("demand", raised, per_period=False)  # a monthly maximum: not weighted

    # ------------------------------------------------------------ capacity charge
    if (~demand).any():
        fixed = float((np.where(demand, 0.0, rate_a * kva_a)).sum() * share.sum())
        fb.cost("capacity", Expr.constant(fixed, ()))
        capped = ~demand & ~np.isnan(pf_a)
        if capped.any():
            limit = np.nan_to_num(kva_a * pf_a / 1000.0)
            fb.constrain(
                "capacity_max",
                drawn,
                "<=",
                np.repeat(limit[:, None], T, 1),
                mask=np.repeat(capped[:, None], T, 1),
            )


def _account(ds: xr.Dataset) -> Account:
    if "p_metered" not in ds:
        return Account()
    dt = float(ds.attrs["dt_hours"])
    p = ds["p_metered"]
    w = period_weight(ds)
    cost = {"network": float((node_series(ds, "network_charge") * p * w).sum() * dt)}
    if ds.sizes.get("meter", 0):
        demand = ds["meter_kind"] == "demand"
        if "d_peak" in ds:
            rise = (ds["d_peak"] - ds["peak_to_date"].fillna(0.0)).where(demand, 0.0)
            cost["demand"] = float((1000.0 * ds["meter_rate"] * rise).sum())
        if (~demand).any():
            fixed = (ds["meter_rate"] * ds["capacity_kva"]).where(~demand, 0.0)
            cost["capacity"] = float(fixed.sum() * ds["bill_month_share"].sum())
    return Account(cost=cost, energy={"metered": float((p * w).sum() * dt)})


def _metered(rows: Rows) -> xr.DataArray | None:
    flows = [
        a.flows["metered"]
        for name, a in rows.accounts.items()
        if name != "bill" and "metered" in a.flows
    ]
    return sum(flows[1:], flows[0]) if flows else None


def _check(ds: xr.Dataset, rows: Rows) -> None:
    """The metered draw from the other components' accounts; the peak and capacity rows."""
    if "p_metered" not in ds:
        return
    metered = _metered(rows)
    if metered is None:
        return
    scale = np.abs(metered).max()
    rows.eq("bill.p_metered_def", ds["p_metered"], metered, scale=scale)
    if not ds.sizes.get("meter", 0):
        return
    member = ds["meter_site"].astype(bool)
    drawn = (metered * member).sum("site")  # (meter, time)
    demand = ds["meter_kind"] == "demand"
    if "d_peak" in ds:
        months, month_of, _ = billing_months(pd.DatetimeIndex(ds["time"].values))
        labels = [str(m) for m in ds["bill_month"].values]
        index = pd.Index(labels).get_indexer(months)[month_of]
        peak = ds["d_peak"].isel(bill_month=xr.DataArray(index, dims="time"))
        peak = peak.drop_vars("bill_month", errors="ignore")
        rows.ge(
            "bill.demand_peak",
            peak,
            drawn.where(demand),
            scale=drawn.max("time"),
        )
    pf = ds["power_factor"]
    capped = (~demand) & pf.notnull()
    if capped.any():
        limit = ds["capacity_kva"] * pf / 1000.0
        rows.le("bill.capacity_max", drawn, limit.where(capped), scale=limit)


def _state_out(ds: xr.Dataset, t: int, flows) -> dict:
    """Each demand meter's peak so far in the billing month of period ``t``, MW.

    The maximum metered draw from the month's first period in the horizon to ``t``, and the
    peak carried in where that month is the horizon's first (``peak_to_date``).
    """
    if "p_metered" not in ds or not ds.sizes.get("meter", 0):
        return {}
    time = pd.DatetimeIndex(ds["time"].values)
    labels, month_of, _ = billing_months(time)
    k = int(month_of[t])
    in_month = (month_of == k) & (np.arange(len(time)) <= t)
    member = ds["meter_site"].values.astype(float)  # (meter, site)
    drawn = member @ ds["p_metered"].values  # (meter, time)
    out = {}
    for m, name in enumerate(ds["meter"].values):
        if str(ds["meter_kind"].values[m]) != "demand":
            continue
        carried = float(np.nan_to_num(ds["peak_to_date"].values[m, k]))
        peak = max(float(drawn[m, in_month].max()), carried)
        out[str(name)] = {"month": labels[k], "peak_mw": peak}
    return out


def _state_in(entry: dict, raw: dict) -> None:
    """Set ``peak_to_date_mw`` of each demand meter whose billing month goes on.

    The peak counts only if the scenario's first period lies in the state's billing month;
    a new month starts at 0 MW.
    """
    start = raw.get("horizon", {}).get("start")
    month = str(pd.Timestamp(start).to_period("M")) if start is not None else ""
    site_nodes = {s.get("name"): s.get("node") for s in raw.get("sites") or []}

    def peak(label: str) -> float:
        state = entry.get(label)
        return float(state["peak_mw"]) if state and state.get("month") == month else 0.0

    for node in raw.get("nodes") or []:
        d = node.get("demand_charge")
        if not isinstance(d, dict) or d.get("kind") != "demand":
            continue
        if d.get("meter", "node") == "node":
            d["peak_to_date_mw"] = peak(node["name"])
        else:
            d["peak_to_date_mw"] = {
                s: peak(s) for s, n in site_nodes.items() if n == node.get("name")
            }


_M = ("meter",)


def _estimate(sc, options) -> int:
    """Columns of ``bill``: ``d_peak`` per (demand-charged meter, billing month)."""
    c = sc.config
    meters = 0
    for n in c.nodes:
        d = n.demand_charge
        if d is None or d.kind != "demand":
            continue
        meters += 1 if d.meter == "node" else sum(s.node == n.name for s in c.sites)
    return meters * len(billing_months(sc.time)[0]) if meters else 0


COMPONENT = Component(
    name="bill",
    sections=("nodes.network_charge", "nodes.demand_charge"),
    doc="network charge on metered energy; demand or capacity charge per billing month",
    outputs=(
        Output(
            "p_metered",
            ("site", "time"),
            "MW",
            "draw through the public-grid meter (grid, corridor and contract deliveries)",
            role="expression",
        ),
        Output(
            "network_charge",
            ("node", "time"),
            "CNY/MWh",
            "network charge on metered energy (T&D, system operation, funds, line loss)",
            role="input",
        ),
        Output(
            "d_peak",
            ("meter", "bill_month"),
            "MW",
            "maximum metered demand of the billing month (demand meters; 0 elsewhere)",
            lower="peak_to_date",
        ),
        Output(
            "demand_peak_price",
            ("meter", "time"),
            "CNY/MW",
            "demand charge of one more MW metered in the period (dual of demand_peak; NaN: "
            "capacity meter)",
            role="dual",
        ),
        Output("meter_kind", _M, "", "'demand' or 'capacity'", role="input"),
        Output("meter_site", ("meter", "site"), "bool", "site measured by the meter", role="input"),
        Output(
            "meter_rate", _M, "CNY/kW/month", "demand (per kW) or capacity (per kVA)", role="input"
        ),
        Output(
            "peak_to_date",
            ("meter", "bill_month"),
            "MW",
            "peak so far carried in (first month; 0 later; NaN for capacity meters)",
            role="input",
        ),
        Output("capacity_kva", _M, "kVA", "contracted capacity (NaN: demand meter)", role="input"),
        Output("power_factor", _M, "1", "capacity cap power factor (NaN: no cap)", role="input"),
        Output(
            "bill_month_share",
            ("bill_month",),
            "1",
            "share of the calendar month the horizon covers",
            role="input",
        ),
    ),
    build=_build,
    estimate=_estimate,
    account=_account,
    check=_check,
    validate=_validate,
    kind="policy",
    state_out=_state_out,
    state_in=_state_in,
    state_fields=(
        StateField(
            "<meter>.peak_mw",
            "MW",
            "peak metered so far in the billing month; sets nodes[].demand_charge."
            "peak_to_date_mw (a node meter) or its {site: MW} (site meters)",
        ),
        StateField("<meter>.month", "YYYY-MM", "the billing month of that peak"),
    ),
)
