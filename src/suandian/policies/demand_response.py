"""VPP demand response (需求响应) against a baseline, and orderly curtailment (有序用电).

Math: ``docs/math/demand_response.md``. Component ``dr`` (a policy: reads the ledgers only,
the ``metered`` carrier: the MW the sites draw through the public-grid meter).

Demand-response events (scenario section ``demand_response``, :class:`DemandResponseEvent`):
a window, the sites called (a node's sites or a list), a capacity price per committed MW, an
energy price per credited MWh of reduction, a minimum bid, a maximum reduction, a shortfall
price and a per-site baseline (MW). The plan decides whether to take part (``u_dr``) and
the MW it commits (``p_dr_commit``); the reduction is the baseline minus the metered draw,
credited per period up to ``credit_cap`` x the commitment, and a period delivering less than
the commitment pays the shortfall price on the missing MWh.

Orderly curtailment: ``nodes[].curtailment_limit`` (MW, a number or a series) caps the
metered draw of the node's sites in every period (row ``dr.curtail_max``).

Cost terms ``dr_capacity`` and ``dr_energy`` (revenues: negative costs), ``dr_penalty``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import numpy as np
import xarray as xr
from pydantic import Field, model_validator

from ..checks import Rows, period_weight
from ..component import (
    Account,
    Component,
    Context,
    Cut,
    FamilyBuilder,
    Limit,
    Name,
    NonNeg,
    Output,
    Profile,
    Range,
    Violation,
)
from ..component import Section as _Model
from ..errors import Problem
from ..linear import Expr

if TYPE_CHECKING:
    from ..errors import Problem
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs

#: default big-M of the measurement switch: this many times the event's peak baseline (MW)
DRAW_BOUND_FACTOR = 10.0


class DemandResponseEvent(_Model):
    """A demand-response event called by the grid (through a VPP / load aggregator)."""

    name: Name = Field(description="event name")
    node: Name | None = Field(
        None, description="grid node called: every site at the node takes part (or give sites)"
    )
    sites: list[Name] | None = Field(
        None, description="sites called, measured together (or give node)"
    )
    start: datetime = Field(description="first period of the event (a period start)")
    end: datetime = Field(
        description="end of the event, exclusive: the start of the first period after it "
        "(or the end of the horizon)"
    )
    capacity_price: NonNeg = Field(0.0, description="CNY per MW committed, for the event")
    energy_price: NonNeg = Field(0.0, description="CNY per MWh of credited reduction")
    min_bid: NonNeg = Field(0.0, description="MW, smallest commitment accepted")
    max_reduction: NonNeg = Field(description="MW, largest commitment accepted")
    shortfall_price: NonNeg = Field(
        0.0, description="CNY per MWh of committed reduction not delivered (per period)"
    )
    credit_cap: Annotated[float, Field(ge=1.0)] = Field(
        1.0,
        description="reduction credited per period at most credit_cap x the commitment "
        "(1: nothing above the commitment is paid; some rules pay up to 1.2)",
    )
    baseline: dict[Name, Annotated[Profile, Range(what="baselines (MW)")]] = Field(
        description="site -> baseline draw, MW (a number or a series): what the site would "
        "draw through its meter without the event; one entry per site called"
    )
    draw_bound: NonNeg | None = Field(
        None,
        description="MW, most the called sites draw above their baseline in a period while "
        f"not taking part (big-M); default: {DRAW_BOUND_FACTOR:g} x the peak baseline",
    )

    @model_validator(mode="after")
    def _consistent(self) -> DemandResponseEvent:
        if (self.node is None) == (self.sites is None):
            raise ValueError(
                f"event '{self.name}': give either node (all its sites) or sites, not both "
                "and not neither"
            )
        if self.sites is not None and not self.sites:
            raise ValueError(f"event '{self.name}': sites is empty; name at least one site")
        if self.min_bid > self.max_reduction:
            raise ValueError(
                f"event '{self.name}': min_bid {self.min_bid:g} MW is above max_reduction "
                f"{self.max_reduction:g} MW; lower min_bid or raise max_reduction"
            )
        if self.end <= self.start:
            raise ValueError(
                f"event '{self.name}': end {self.end} must be after start {self.start}"
            )
        return self


def event_sites(event: DemandResponseEvent, sites) -> list[str]:
    """Names of the sites an event calls (``sites``: the scenario's Site models)."""
    if event.sites is not None:
        return list(event.sites)
    return [s.name for s in sites if s.node == event.node]


def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Scenario checks of the events that need the horizon.

    Window on the period grid and inside the horizon; a baseline for every site called and
    none for others. (Baseline and curtailment series, known and >= 0, are checked by the
    shared walker.)
    """
    c = sc.config
    problems: list[Problem] = []
    for i, e in enumerate(c.demand_response):
        for key in ("start", "end"):
            try:
                sc.period(getattr(e, key), 0)
            except KeyError:
                problems.append(
                    Problem(
                        f"demand_response[{i}].{key}",
                        str(getattr(e, key)),
                        f"not a period start of the horizon ({sc.time[0]} .. {sc.time[-1]}, "
                        f"every {c.horizon.resolution}) nor its end",
                    )
                )
        called = event_sites(e, c.sites)
        if not called:
            problems.append(
                Problem(f"demand_response[{i}].node", repr(e.node), "no site is at this node")
            )
        for s in called:
            if s not in e.baseline:
                problems.append(
                    Problem(
                        f"demand_response[{i}].baseline",
                        s,
                        f"no baseline for site '{s}', which the event calls; add '{s}: <MW>'",
                    )
                )
        for s in e.baseline:
            if s not in called:
                problems.append(
                    Problem(
                        f"demand_response[{i}].baseline.{s}",
                        s,
                        f"the event does not call site '{s}'; it calls {', '.join(called)}",
                    )
                )
    return problems


def _select(flow: Expr, member: np.ndarray) -> Expr:
    """Sum a (site, time) expression over each event's sites -> (event, time)."""
    S, T = flow.shape
    site, t = flow.row // T, flow.row % T
    rows, cols, vals = [], [], []
    for e in range(member.shape[0]):  # events are few; no loop over periods
        keep = member[e, site]
        rows.append(e * T + t[keep])
        cols.append(flow.col[keep])
        vals.append(flow.val[keep])
    return Expr(
        (member.shape[0], T),
        np.concatenate([np.zeros(0, np.int64), *rows]),
        np.concatenate([np.zeros(0, np.int64), *cols]),
        np.concatenate([np.zeros(0), *vals]),
        member.astype(float) @ flow.const,
    )


def _build(fb: FamilyBuilder, ctx: Context) -> None:
    sc = ctx.scenario
    c = sc.config
    T, S, dt = ctx.T, ctx.S, ctx.dt
    led = ctx.ledger
    metered = led.flow("metered")

    # ------------------------------------------------------------ orderly curtailment
    limit = np.array(
        [
            np.full(T, np.nan) if n.curtailment_limit is None else sc.profile(n.curtailment_limit)
            for n in c.nodes
        ],
        dtype=float,
    ).reshape(len(c.nodes), T)
    fb.input("curtailment_limit", limit)
    node_pos = {n.name: i for i, n in enumerate(c.nodes)}
    site_node = np.array([node_pos[s.node] for s in c.sites], dtype=np.int64)
    has_site = np.bincount(site_node, minlength=len(c.nodes)) > 0
    capped = ~np.isnan(limit) & has_site[:, None]
    if capped.any():
        fb.constrain(
            "curtail_max",
            metered.group(0, site_node, len(c.nodes)),
            "<=",
            np.nan_to_num(limit),
            mask=capped,
        )

    # ------------------------------------------------------------ demand response
    events = c.demand_response
    E = len(events)
    fb.coord("dr_event", [e.name for e in events])
    if not E:
        return
    member = np.zeros((E, S), dtype=bool)
    baseline = np.zeros((E, S, T))
    window = np.zeros((E, T), dtype=bool)
    for i, e in enumerate(events):
        for s in event_sites(e, c.sites):
            j = ctx.sites.index(s)
            member[i, j] = True
            baseline[i, j] = sc.profile(e.baseline[s])
        window[i, sc.period(e.start, 0) : sc.period(e.end, T)] = True

    def per_event(key: str) -> np.ndarray:
        return np.array([getattr(e, key) for e in events], dtype=float)

    cap_price, energy_price = per_event("capacity_price"), per_event("energy_price")
    min_bid, max_red = per_event("min_bid"), per_event("max_reduction")
    short_price, credit_cap = per_event("shortfall_price"), per_event("credit_cap")
    peak = (baseline.sum(1) * window).max(1)
    bound = np.array(
        [
            DRAW_BOUND_FACTOR * max(peak[i], 1.0) if e.draw_bound is None else e.draw_bound
            for i, e in enumerate(events)
        ]
    )
    fb.input("dr_member", member)
    fb.input("dr_window", window)
    fb.input("dr_baseline", baseline)
    fb.input("dr_capacity_price", cap_price)
    fb.input("dr_energy_price", energy_price)
    fb.input("dr_min_bid", min_bid)
    fb.input("dr_max_reduction", max_red)
    fb.input("dr_shortfall_price", short_price)
    fb.input("dr_credit_cap", credit_cap)
    fb.input("dr_draw_bound", bound)

    u = fb.var("u_dr")
    commit = fb.var("p_dr_commit", ub=max_red)
    credit = fb.var("p_dr_credit", mask=window)
    short = fb.var("p_dr_shortfall", mask=window)
    free = fb.var("p_dr_unmeasured", mask=window)
    reduction = fb.expression(
        "p_dr_reduction", Expr.constant(baseline.sum(1), (E, T)) - _select(metered, member)
    )
    fb.constrain("commit_min", commit - u * min_bid, ">=", 0.0)
    fb.constrain("commit_max", commit - u * max_red, "<=", 0.0)
    c_t = commit.expr().expand((E, T), 1)
    u_t = u.expr().expand((E, T), 1)
    fb.constrain("credit_max", credit - c_t * credit_cap[:, None], "<=", 0.0, mask=window)
    fb.constrain("credit_measured", credit - free - reduction, "<=", 0.0, mask=window)
    fb.constrain(
        "unmeasured_max",
        free + u_t * bound[:, None],
        "<=",
        np.repeat(bound[:, None], T, 1),
        mask=window,
    )
    fb.constrain("shortfall_min", short + credit - c_t, ">=", 0.0, mask=window)
    fb.cost("dr_capacity", commit * (-cap_price), per_period=False)  # per event
    fb.cost("dr_energy", credit * (-dt * energy_price)[:, None], per_period=True)
    fb.cost("dr_penalty", short * (dt * short_price)[:, None], per_period=True)


def settlement(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    """The grid operator's settlement of each event, from the Dataset alone.

    Credited reduction per period: ``min(credit_cap x commit, max(0, reduction))`` inside the
    window; shortfall: ``max(0, commit - credited)``; both MW, dims (dr_event, time).
    """
    window = ds["dr_window"].astype(bool)
    commit = ds["p_dr_commit"]
    credited = xr.apply_ufunc(
        np.minimum, ds["dr_credit_cap"] * commit, ds["p_dr_reduction"].clip(min=0.0)
    )
    credited = credited.where(window, 0.0)
    short = (commit - credited).clip(min=0.0).where(window, 0.0)
    return {"credited": credited, "shortfall": short}


def _account(ds: xr.Dataset) -> Account:
    if not ds.sizes.get("dr_event", 0) or "p_dr_commit" not in ds:
        return Account(flows={})
    dt = float(ds.attrs["dt_hours"])
    settled = settlement(ds)
    w = period_weight(ds)
    credited, shortfall = settled["credited"] * w, settled["shortfall"] * w
    return Account(
        flows={},
        cost={
            "dr_capacity": -float((ds["dr_capacity_price"] * ds["p_dr_commit"]).sum()),
            "dr_energy": -float((ds["dr_energy_price"] * credited).sum() * dt),
            "dr_penalty": float((ds["dr_shortfall_price"] * shortfall).sum() * dt),
        },
        energy={"dr_credited": float(credited.sum() * dt)},
    )


def _metered(rows: Rows) -> xr.DataArray | None:
    flows = [a.flows["metered"] for a in rows.accounts.values() if "metered" in a.flows]
    return sum(flows[1:], flows[0]) if flows else None


def _check(ds: xr.Dataset, rows: Rows) -> None:
    """The rows again, from the Dataset and the other components' metered flows."""
    metered = _metered(rows)
    if metered is None:
        return
    if "curtailment_limit" in ds:
        at_node = ds["site_node"] == ds["node"]
        drawn = (metered * at_node).sum("site")
        rows.le("dr.curtail_max", drawn, ds["curtailment_limit"], scale=ds["curtailment_limit"])
    if not ds.sizes.get("dr_event", 0) or "p_dr_commit" not in ds:
        return
    member = ds["dr_member"].astype(bool)
    window = ds["dr_window"].astype(bool)
    base = (ds["dr_baseline"] * member).sum("site")
    scale = base.max("time")
    reduction = base - (metered * member).sum("site")
    rows.eq("dr.p_dr_reduction_def", ds["p_dr_reduction"], reduction, scale=scale)
    u, commit = ds["u_dr"], ds["p_dr_commit"]
    credit, short, free = ds["p_dr_credit"], ds["p_dr_shortfall"], ds["p_dr_unmeasured"]
    cap = ds["dr_max_reduction"]
    rows.ge("dr.commit_min", commit, u * ds["dr_min_bid"], scale=cap)
    rows.le("dr.commit_max", commit, u * cap, scale=cap)
    off = np.nan  # no row outside the window
    rows.le(
        "dr.credit_max",
        credit,
        (ds["dr_credit_cap"] * commit).where(window, off),
        scale=cap,
    )
    rows.le("dr.credit_measured", credit - free, reduction.where(window, off), scale=scale)
    bound = ds["dr_draw_bound"]
    rows.le("dr.unmeasured_max", free, (bound * (1 - u)).where(window, off), scale=bound)
    rows.ge("dr.shortfall_min", short, (commit - credit).where(window, off), scale=cap)
    for name in ("p_dr_credit", "p_dr_shortfall", "p_dr_unmeasured"):
        rows.zero_outside(f"dr.{name}.window", ds[name], window)


def _cut(raw: dict, cut: Cut) -> None:
    """Events in a window: those outside it dropped, those across its bounds cut to it.

    The events carry no state: an event across a window boundary is decided again in each
    window (its commitment is not handed over), and its capacity payment counts in the
    window holding its start only (``capacity_price`` 0 in the later part).
    """
    if "demand_response" not in raw:
        return
    kept = cut.clip(raw["demand_response"] or [])
    for event, earlier in kept:
        if earlier:
            event["capacity_price"] = 0.0
    raw["demand_response"] = [event for event, _ in kept]


_E = ("dr_event",)
_ET = ("dr_event", "time")


def _curtailment_finding(sc, v: Violation) -> tuple[str, str, str, float]:
    """Diagnosis sentence: an orderly-curtailment cap the relaxed re-solve had to exceed."""
    node = sc.config.nodes[v.i]
    total = float(v.row.sum() * sc.dt)
    text = (
        f"node '{v.element}': its orderly-curtailment cap (curtailment_limit) must be "
        f"exceeded by up to {v.row.max():,.2f} MW ({total:,.2f} MWh) in {v.when} even with all "
        f"compute given up: sites {', '.join(sc.sites_at(node.name))} cannot draw less "
        "through the meter there (min_on blocks, fixed loads, battery end rules); lower "
        "min_on or add on-site supply behind the meter"
    )
    return "curtailment", v.element, text, total


_LIMITS = (
    Limit("curtail_max", "curtailment", lambda c: [n.name for n in c.nodes], _curtailment_finding),
)


def _estimate(sc, options) -> int:
    """Columns of ``dr``: ``u_dr`` and ``p_dr_commit`` per event.

    Plus credit, shortfall and unmeasured reduction per period of each event's window.
    """
    T = sc.periods
    cols = 0
    for e in sc.config.demand_response:
        start, end = max(sc.period(e.start, 0), 0), min(sc.period(e.end, T), T)
        cols += 2 + 3 * max(end - start, 0)
    return cols


def _commit_costs(ds: xr.Dataset, t: int, flows: xr.Dataset) -> dict[str, float]:
    """The capacity payment of the events that start in the first ``t`` periods."""
    if not ds.sizes.get("dr_event", 0) or "p_dr_commit" not in ds:
        return {}
    window = ds["dr_window"].values.astype(bool)  # (dr_event, time)
    started = window.any(axis=1) & (window.argmax(axis=1) < t)
    pay = (ds["dr_capacity_price"] * ds["p_dr_commit"]).values
    return {"dr_capacity": -float(pay[started].sum())}


COMPONENT = Component(
    name="dr",
    sections=("demand_response", "nodes.curtailment_limit"),
    doc="VPP demand-response events against a baseline; orderly curtailment of metered draw",
    commit_costs=_commit_costs,
    stateless=(
        "events are called at stated times with no count to carry; a window cuts them (its "
        "cut hook)"
    ),
    outputs=(
        Output("u_dr", _E, "1", "takes part in the event", upper=1.0, integer=True),
        Output("p_dr_commit", _E, "MW", "reduction committed", upper="dr_max_reduction"),
        Output("p_dr_credit", _ET, "MW", "reduction credited in the period (0 outside)"),
        Output("p_dr_shortfall", _ET, "MW", "committed reduction not delivered (0 outside)"),
        Output(
            "p_dr_unmeasured",
            _ET,
            "MW",
            "draw above the baseline left unmeasured while not taking part (0 outside)",
        ),
        Output(
            "p_dr_reduction",
            _ET,
            "MW",
            "baseline minus metered draw of the event's sites",
            role="expression",
        ),
        Output("dr_member", ("dr_event", "site"), "bool", "site called by the event", role="input"),
        Output("dr_window", _ET, "bool", "period inside the event's window", role="input"),
        Output(
            "dr_baseline",
            ("dr_event", "site", "time"),
            "MW",
            "baseline (0: not called)",
            role="input",
        ),
        Output("dr_capacity_price", _E, "CNY/MW", "per MW committed", role="input"),
        Output("dr_energy_price", _E, "CNY/MWh", "per MWh credited", role="input"),
        Output("dr_min_bid", _E, "MW", "smallest commitment", role="input"),
        Output("dr_max_reduction", _E, "MW", "largest commitment", role="input"),
        Output("dr_shortfall_price", _E, "CNY/MWh", "per MWh not delivered", role="input"),
        Output("dr_credit_cap", _E, "1", "credit at most this x the commitment", role="input"),
        Output("dr_draw_bound", _E, "MW", "big-M of the measurement switch", role="input"),
        Output(
            "curtailment_limit",
            ("node", "time"),
            "MW",
            "orderly-curtailment cap on the metered draw of the node's sites (NaN: none)",
            role="input",
        ),
    ),
    build=_build,
    estimate=_estimate,
    account=_account,
    check=_check,
    validate=_validate,
    kind="policy",
    limits=_LIMITS,
    cut=_cut,
)
