"""VPP demand response (需求响应) against a baseline, and orderly curtailment (有序用电).

Math: ``docs/math/demand_response.md``. Component ``dr`` (a policy: reads the ledgers only,
the ``metered`` carrier: the MW the sites draw through the public-grid meter).

Demand-response events (scenario section ``demand_response``, :class:`DemandResponseEvent`):
a window, the sites called (a node's sites or a list), a capacity price per committed MW, an
energy price per credited MWh of reduction, a minimum bid, a maximum reduction, a shortfall
price and the baseline: given (MW per site, a number or a series) or computed by a rule,
``no_event`` (the sites' metered draw in the plan without the event: a solve of its own,
through the ``presolve`` hook) or ``previous_days`` (the average metered draw of the N
previous like days, from a series whose rows lie before the event). The plan decides whether
to take part (``u_dr``) and the MW it commits (``p_dr_commit``). As the grid operator
settles it, the credited reduction of a period is ``min(credit_cap x commit, max(0,
measured))``, the measured reduction being the baseline minus the metered draw of the period
(``measure: period``) or its average over the event (``measure: event``); a period drawing
above the baseline is allowed and credited 0 (binary ``u_dr_above``), and a period
delivering less than the commitment pays the shortfall price on the missing MWh.

Orderly curtailment: ``nodes[].curtailment_limit`` (MW, a number or a series) caps the
metered draw of the node's sites in every period (row ``dr.curtail_max``).

Cost terms ``dr_capacity`` and ``dr_energy`` (revenues: negative costs), ``dr_penalty``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import pandas as pd
import xarray as xr
from pydantic import Discriminator, Field, Tag, field_validator, model_validator

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
    from ..scenario import Scenario
    from ..scenario.validation import SeriesRefs

#: big-M of the measurement switch where the rows imply no bound of the draw: this many times
#: the event's peak baseline (MW)
DRAW_BOUND_FACTOR = 10.0
#: MW: a big-M at most this: the sites cannot draw above their baseline (no binary)
NO_DRAW = 1e-6


class NoEventBaseline(_Model):
    """Baseline rule ``no_event``: the sites' metered draw in the plan without the event."""

    rule: Literal["no_event"] = Field(
        description="'no_event' (or write baseline: no_event): per period, the metered draw of "
        "each site called in the plan of the same scenario without the event, solved first"
    )


class PreviousDaysBaseline(_Model):
    """Baseline rule ``previous_days``: the average metered draw of the previous like days."""

    rule: Literal["previous_days"] = Field(
        description="'previous_days': per period, the average of the site's metered draw at "
        "the same clock time on the `days` like days before the event's day"
    )
    series: Name | dict[Name, Name] = Field(
        description="the site's metered draw (MW): a series name (when the event calls one "
        "site) or site -> series name; a series with a time column whose rows before the "
        "horizon hold the history (a file of history rows only is accepted)"
    )
    days: Annotated[int, Field(ge=1, le=60)] = Field(5, description="like days averaged")
    day_type: Literal["same", "any"] = Field(
        "same",
        description="'same': weekdays (Mon-Fri) for an event on a weekday, Saturdays and "
        "Sundays for one at the weekend; 'any': every day",
    )
    exclude: list[date] = Field(
        default_factory=list,
        description="days not counted (days of other events, orderly curtailment, outages, "
        "holidays): the search goes further back",
    )


def _baseline_kind(value: Any) -> str:
    """Tag of a baseline: 'given' (site -> MW), 'no_event' or 'previous_days'."""
    if isinstance(value, (NoEventBaseline, PreviousDaysBaseline)):
        return value.rule
    if isinstance(value, dict) and "rule" in value:
        return str(value["rule"])
    if isinstance(value, dict):
        return "given"
    return str(value)  # not a tag: the custom message of Baseline


#: the baseline of an event: given per site (MW, a number or a series) or a rule
Baseline = Annotated[
    Annotated[dict[Name, Annotated[Profile, Range(what="baselines (MW)")]], Tag("given")]
    | Annotated[NoEventBaseline, Tag("no_event")]
    | Annotated[PreviousDaysBaseline, Tag("previous_days")],
    Discriminator(
        _baseline_kind,
        custom_error_type="baseline_rule",
        custom_error_message="give site -> MW (a number or a series name), 'no_event', or "
        "{rule: previous_days, series: <name>, days: <N>}",
    ),
]


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
    measure: Literal["period", "event"] = Field(
        "period",
        description="'period': the reduction of each period is measured and credited alone "
        "(a period above the baseline is credited 0); 'event': its average over the window "
        "is (a period above the baseline offsets the others)",
    )
    baseline: Baseline = Field(
        description="what the sites called would draw through their meters without the "
        "event: site -> MW (a number or a series; one entry per site called), 'no_event' "
        "(the plan without the event) or {rule: previous_days, ...}"
    )
    draw_bound: NonNeg | None = Field(
        None,
        description="MW, most the called sites draw above their baseline in a period of the "
        "window (big-M); default: per period, the largest draw the model's rows imply less "
        f"the baseline (where none is implied: {DRAW_BOUND_FACTOR:g} x the peak baseline, at "
        f"least {DRAW_BOUND_FACTOR:g} MW)",
    )

    @field_validator("baseline", mode="before")
    @classmethod
    def _rule_name(cls, value: Any) -> Any:
        return {"rule": "no_event"} if value == "no_event" else value

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


def baseline_rule(event: DemandResponseEvent) -> str:
    """``given``, ``no_event`` or ``previous_days``."""
    return _baseline_kind(event.baseline)


# ------------------------------------------------------------------ previous like days
def _meter_history(sc: Scenario, name: str) -> pd.Series | None:
    """A series' rows before the horizon and in it, by time (None: no such series)."""
    parts = [frame[name] for frame in (sc.history, sc.series) if name in frame.columns]
    if not parts:
        return None
    rows = pd.concat(parts).dropna()
    return rows[~rows.index.duplicated(keep="last")].sort_index()


def _event_periods(sc: Scenario, e: DemandResponseEvent) -> range:
    return range(sc.period(e.start, 0), sc.period(e.end, sc.periods))


def like_days(
    rule: PreviousDaysBaseline, event_day: pd.Timestamp, have: set, first: pd.Timestamp
) -> tuple[list[pd.Timestamp], str | None]:
    """The ``rule.days`` like days before ``event_day``, latest first, and a problem if any.

    ``have``: the days the series has rows on (midnights); ``first``: its first day.
    """
    weekend = event_day.weekday() >= 5
    skip = set(rule.exclude)
    days: list[pd.Timestamp] = []
    day = event_day - pd.Timedelta(days=1)
    while len(days) < rule.days:
        if day < first:
            return days, (
                f"the series starts on {first.date()}: {rule.days} like days before "
                f"{event_day.date()} reach further back (found {len(days)}); extend its "
                "history or lower days"
            )
        like = rule.day_type == "any" or (day.weekday() >= 5) == weekend
        if like and day.date() not in skip:
            if day not in have:
                return days, (
                    f"no rows on {day.date()}, a like day of the event; add its metered "
                    "draw or list the day in exclude"
                )
            days.append(day)
        day -= pd.Timedelta(days=1)
    return days, None


def previous_days(
    sc: Scenario, e: DemandResponseEvent, name: str
) -> tuple[np.ndarray | None, list[pd.Timestamp], str | None]:
    """Baseline (T,) of rule ``previous_days`` from series ``name``: window only (0 outside).

    Each period of the window takes the average, over the like days, of the series' value at
    the same time from the start of the day (the last row at or before it on that day: a
    coarser series is held). Returns the values, the days used and a problem (or None).
    """
    rule = e.baseline
    assert isinstance(rule, PreviousDaysBaseline)
    rows = _meter_history(sc, name)
    if rows is None or rows.empty:
        return (
            None,
            [],
            (
                "unknown series (or no values); name a column of the series files (rows before "
                "the horizon are its history) or of load_scenario(history=...)"
            ),
        )
    periods = _event_periods(sc, e)
    event_day = sc.time[periods.start].normalize()
    index = rows.index
    midnights = index.normalize()
    days, problem = like_days(rule, event_day, set(midnights.unique()), midnights[0])
    if problem is not None:
        return None, days, problem
    values = rows.to_numpy(dtype=float)
    base = np.zeros(sc.periods)
    for t in periods:
        offset = sc.time[t] - event_day
        total = 0.0
        for day in days:
            at = day + offset
            k = int(index.searchsorted(at, side="right")) - 1
            if k < 0 or index[k] < day:
                return (
                    None,
                    days,
                    (
                        f"no row at or before {at} on {day.date()}; give the like days' draw "
                        "over the event's hours"
                    ),
                )
            total += values[k]
        base[t] = total / len(days)
    return base, days, None


def _series_of(rule: PreviousDaysBaseline, called: list[str]) -> dict[str, str] | str:
    """Site -> series name of rule ``previous_days``, or a problem message."""
    if isinstance(rule.series, str):
        if len(called) != 1:
            return (
                f"one series name for {len(called)} sites called ({', '.join(called)}); give "
                "site -> series"
            )
        return {called[0]: rule.series}
    missing = [s for s in called if s not in rule.series]
    extra = [s for s in rule.series if s not in called]
    if missing:
        site = missing[0]
        return f"no series for site '{site}', which the event calls; add '{site}: <series>'"
    if extra:
        return f"the event does not call site '{extra[0]}'; it calls {', '.join(called)}"
    return dict(rule.series)


def _validate(sc: Scenario, refs: SeriesRefs) -> list[Problem]:
    """Scenario checks of the events that need the horizon.

    Window on the period grid and inside the horizon; a given baseline for every site called
    and none for others; a ``previous_days`` rule's series known, with its like days. (Given
    baseline and curtailment series, known and >= 0, are checked by the shared walker.)
    """
    c = sc.config
    problems: list[Problem] = []
    for i, e in enumerate(c.demand_response):
        where = f"demand_response[{i}]"
        placed = True
        for key in ("start", "end"):
            try:
                sc.period(getattr(e, key), 0)
            except KeyError:
                placed = False
                problems.append(
                    Problem(
                        f"{where}.{key}",
                        str(getattr(e, key)),
                        f"not a period start of the horizon ({sc.time[0]} .. {sc.time[-1]}, "
                        f"every {c.horizon.resolution}) nor its end",
                    )
                )
        called = event_sites(e, c.sites)
        if not called:
            problems.append(Problem(f"{where}.node", repr(e.node), "no site is at this node"))
        rule = e.baseline
        if isinstance(rule, dict):
            for s in called:
                if s not in rule:
                    problems.append(
                        Problem(
                            f"{where}.baseline",
                            s,
                            f"no baseline for site '{s}', which the event calls; add "
                            f"'{s}: <MW>' (or use a rule: no_event, previous_days)",
                        )
                    )
            for s in rule:
                if s not in called:
                    problems.append(
                        Problem(
                            f"{where}.baseline.{s}",
                            s,
                            f"the event does not call site '{s}'; it calls {', '.join(called)}",
                        )
                    )
        elif isinstance(rule, PreviousDaysBaseline) and called and placed:
            names = _series_of(rule, called)
            if isinstance(names, str):
                problems.append(Problem(f"{where}.baseline.series", str(rule.series), names))
                continue
            for name in names.values():
                _, _, problem = previous_days(sc, e, name)
                if problem is not None:
                    problems.append(Problem(f"{where}.baseline.series", name, problem))
    return problems


def _presolve(sc: Scenario) -> Scenario | None:
    """The scenario without its ``no_event`` events, whose plan gives their baselines."""
    if not any(baseline_rule(e) == "no_event" for e in sc.config.demand_response):
        return None

    def drop(raw: dict[str, Any]) -> None:
        raw["demand_response"] = [
            e
            for e in raw.get("demand_response") or []
            if _baseline_kind(e.get("baseline")) != "no_event"
        ]

    return sc.edited(drop)


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
    rules: list[str] = []
    offered = np.ones(E, dtype=bool)
    for i, e in enumerate(events):
        periods = _event_periods(sc, e)
        window[i, periods.start : periods.stop] = True
        rule = e.baseline
        called = event_sites(e, c.sites)
        for s in called:
            member[i, ctx.sites.index(s)] = True
        if isinstance(rule, dict):
            for s in called:
                baseline[i, ctx.sites.index(s)] = sc.profile(rule[s])
            rules.append(f"{e.name}: given")
        elif isinstance(rule, NoEventBaseline):
            plan = ctx.presolved.get("dr")
            if plan is not None and plan.status == "infeasible":
                # no plan without the event: neither is there one with it (not taking part is
                # that plan); the event is not offered (no commitment, no measurement row), so
                # the solve reports the scenario infeasible and its diagnosis says why, as
                # without the event
                offered[i] = False
                rules.append(f"{e.name}: no_event (plan without it infeasible: not offered)")
                continue
            if plan is None or plan.flows.get("metered") is None:
                how = "not solved" if plan is None else plan.status
                raise ValueError(
                    f"demand_response event '{e.name}': baseline no_event: the plan without "
                    f"the event has no metered draw ({how}); solve the scenario without the "
                    "event to see why, or give the baseline in MW"
                )
            drawn = np.asarray(plan.flows["metered"], dtype=float)
            for s in called:
                j = ctx.sites.index(s)
                baseline[i, j, window[i]] = drawn[j, window[i]]
            whose = f"of {plan.of} " if plan.of and plan.of != sc.config.name else ""
            rules.append(
                f"{e.name}: no_event (plan {whose}without it: {plan.status}, "
                f"{plan.objective:.6g} CNY, gap {plan.mip_gap:.2g})"
            )
        else:
            names = _series_of(rule, called)
            assert isinstance(names, dict)  # checked at load
            used: list[pd.Timestamp] = []
            for s, name in names.items():
                values, used, problem = previous_days(sc, e, name)
                if values is None:  # checked at load
                    raise ValueError(f"demand_response event '{e.name}': {problem}")
                baseline[i, ctx.sites.index(s)] = values
            rules.append(f"{e.name}: previous_days ({', '.join(str(d.date()) for d in used)})")
    fb.attrs["dr_baseline_rules"] = "; ".join(rules)
    plan = ctx.presolved.get("dr")
    if plan is not None:
        fb.attrs["dr_no_event_objective"] = float(plan.objective)

    def per_event(key: str) -> np.ndarray:
        return np.array([getattr(e, key) for e in events], dtype=float)

    cap_price, energy_price = per_event("capacity_price"), per_event("energy_price")
    min_bid, max_red = per_event("min_bid"), per_event("max_reduction")
    short_price, credit_cap = per_event("shortfall_price"), per_event("credit_cap")
    average = np.array([e.measure == "event" for e in events])
    bound, need, reach = _draw_bounds(ctx, events, member, window, baseline, offered)
    fb.input("dr_member", member)
    fb.input("dr_window", window)
    fb.input("dr_baseline", baseline)
    fb.input("dr_event_average", average)
    fb.input("dr_capacity_price", cap_price)
    fb.input("dr_energy_price", energy_price)
    fb.input("dr_min_bid", min_bid)
    fb.input("dr_max_reduction", max_red)
    fb.input("dr_shortfall_price", short_price)
    fb.input("dr_credit_cap", credit_cap)
    fb.input("dr_draw_bound", bound)
    fb.input("dr_reduction_bound", np.where(need & np.isfinite(reach), reach, np.nan))

    u = fb.var("u_dr")
    commit = fb.var("p_dr_commit", ub=max_red * offered)
    credit = fb.var("p_dr_credit", mask=window)
    short = fb.var("p_dr_shortfall", mask=window)
    above = fb.var("u_dr_above", mask=need)
    reduction = fb.expression(
        "p_dr_reduction", Expr.constant(baseline.sum(1), (E, T)) - _select(metered, member)
    )
    # measured: the period's own reduction, or the event's average reduction in every period
    length = np.maximum(window.sum(1), 1)
    # (``where``, not ``* window``: the sum and its expansion carry the window's entries only,
    # not events x periods x periods of zeros, which a year of dated events made into GBs)
    mean = reduction.where(window).sum(1) * (1.0 / length)
    measured = fb.expression(
        "p_dr_measured",
        reduction.where(~average[:, None]) + mean.expand((E, T), 1, mask=average[:, None] & window),
    )
    fb.constrain("commit_min", commit - u * min_bid, ">=", 0.0)
    fb.constrain("commit_max", commit - u * max_red, "<=", 0.0)
    c_t = commit.expr().expand((E, T), 1)
    fb.constrain("credit_max", credit - c_t * credit_cap[:, None], "<=", 0.0, mask=window)
    fb.constrain(
        "credit_measured",
        credit - measured - above * np.where(need, bound, 0.0),
        "<=",
        0.0,
        mask=window & offered[:, None],
    )
    most = np.repeat((credit_cap * max_red)[:, None], T, 1)
    fb.constrain("credit_above", credit + above * most, "<=", most, mask=need)
    # z = 1 only where the period is measured at or above the baseline (q <= 0): without
    # this row a plan could settle a period that reduces as "above" and book it credited 0
    # while the grid operator credits min(kappa c, q) (docs/math/demand_response.md)
    bounded = need & np.isfinite(reach)
    q_top = np.where(bounded, reach, 0.0)
    fb.constrain("above_measured", measured + above * q_top, "<=", q_top, mask=bounded)
    fb.constrain("shortfall_min", short + credit - c_t, ">=", 0.0, mask=window)
    fb.cost("dr_capacity", commit * (-cap_price), per_period=False)  # per event
    fb.cost("dr_energy", credit * (-dt * energy_price)[:, None], per_period=True)
    fb.cost("dr_penalty", short * (dt * short_price)[:, None], per_period=True)


def _draw_bounds(
    ctx: Context,
    events: list[DemandResponseEvent],
    member: np.ndarray,
    window: np.ndarray,
    baseline: np.ndarray,
    offered: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Big-Ms per (event, period): ``dr_draw_bound``, where ``u_dr_above`` is, and ``Q``.

    ``Q`` is ``dr_reduction_bound``, the big-M of ``above_measured``.

    The row ``credit_measured`` must let the settled reduction fall to its least value while
    ``u_dr_above`` = 1, so its big-M is that least value negated: ``V_{e,t} = max(0,
    -min q_{e,t})``, ``min q`` = the baseline less the largest metered draw of the called
    sites the rows imply (:func:`~suandian.policies.net_metering.implied_draw`), averaged
    over the window under ``measure: event``. With that V the two rows ``credit_measured``
    and ``credit_above`` are the convex hull of the settlement's two cases (docs/math/
    demand_response.md). Where V is 0 (the sites cannot draw above their baseline) the
    period needs no binary. An event's ``draw_bound`` (MW) replaces the implied bound; where
    no finite bound is implied, :data:`DRAW_BOUND_FACTOR` x the event's peak baseline.

    The big-M of ``above_measured`` is the largest settled reduction, ``Q_{e,t} = max(0,
    max q_{e,t})``: the baseline less the least metered draw the rows imply (its mean over
    the window under ``measure: event``); ``inf`` where no finite least draw is implied
    (the row is then not built).
    """
    E, S, T = baseline.shape
    bound = np.zeros((E, T))
    reach = np.zeros((E, T))
    cells = (member[:, :, None] & window[:, None, :]).any(0)
    top = np.full((S, T), np.inf)
    low = np.full((S, T), -np.inf)
    if cells.any():
        from .net_metering import implied_draw_range

        low, top = implied_draw_range(ctx, ctx.ledger.flow("metered"), cells)
    for i, e in enumerate(events):
        w = window[i]
        least = low[member[i]].sum(0)  # the called sites' least draw together, MW
        base_i = baseline[i].sum(0)
        if not np.isfinite(least[w]).all():
            reach[i, w] = np.inf  # no bound: no row (a guessed one could cut a plan)
        elif e.measure == "event":
            reach[i, w] = max(0.0, float((base_i[w] - least[w]).mean()))
        else:
            reach[i, w] = np.maximum(0.0, base_i[w] - least[w])
        if e.draw_bound is not None:
            bound[i, w] = e.draw_bound
            continue
        drawn = top[member[i]].sum(0)  # the called sites' largest draw together, MW
        base = baseline[i].sum(0)
        if not np.isfinite(drawn[w]).all():
            peak = float((base * w).max())
            bound[i, w] = DRAW_BOUND_FACTOR * max(peak, 1.0)
        elif e.measure == "event":
            bound[i, w] = max(0.0, float((drawn[w] - base[w]).mean()))
        else:
            bound[i, w] = np.maximum(0.0, drawn[w] - base[w])
    need = window & offered[:, None] & (bound > NO_DRAW)
    return bound, need, reach


def measured_reduction(ds: xr.Dataset) -> xr.DataArray:
    """The reduction the settlement measures (MW), from the Dataset alone.

    ``p_dr_reduction`` in each period (``measure: period``), or its plain average over the
    window in every period of the window (``measure: event``; 0 outside the window).
    """
    window = ds["dr_window"].astype(bool)
    reduction = ds["p_dr_reduction"]
    length = window.sum("time").clip(min=1)
    mean = reduction.where(window, 0.0).sum("time") / length
    average = ds["dr_event_average"].astype(bool) if "dr_event_average" in ds else False
    return xr.where(average, mean.where(window, 0.0), reduction)


def settlement(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    """The grid operator's settlement of each event, from the Dataset alone.

    Credited reduction per period of the window: ``min(credit_cap x commit, max(0,
    measured))`` (:func:`measured_reduction`): a period measured above the baseline is
    credited 0; shortfall: ``max(0, commit - credited)``; both MW, dims (dr_event, time).
    """
    window = ds["dr_window"].astype(bool)
    commit = ds["p_dr_commit"]
    credited = xr.apply_ufunc(
        np.minimum, ds["dr_credit_cap"] * commit, measured_reduction(ds).clip(min=0.0)
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
    measured = measured_reduction(ds.assign(p_dr_reduction=reduction))
    rows.eq("dr.p_dr_measured_def", ds["p_dr_measured"], measured, scale=scale)
    u, commit = ds["u_dr"], ds["p_dr_commit"]
    credit, short, above = ds["p_dr_credit"], ds["p_dr_shortfall"], ds["u_dr_above"]
    cap = ds["dr_max_reduction"]
    bound = ds["dr_draw_bound"]
    most = ds["dr_credit_cap"] * cap
    rows.ge("dr.commit_min", commit, u * ds["dr_min_bid"], scale=cap)
    rows.le("dr.commit_max", commit, u * cap, scale=cap)
    off = np.nan  # no row outside the window
    rows.le(
        "dr.credit_max",
        credit,
        (ds["dr_credit_cap"] * commit).where(window, off),
        scale=cap,
    )
    rows.le(
        "dr.credit_measured",
        credit - above * bound,
        measured.where(window, off),
        scale=np.maximum(scale, bound),
    )
    rows.le("dr.credit_above", credit, (most * (1 - above)).where(window, off), scale=most)
    if "dr_reduction_bound" in ds:  # results before 2026-12 have no such row
        reach = ds["dr_reduction_bound"]  # NaN where the row is not built
        rows.le(
            "dr.above_measured",
            measured + above * reach.fillna(0.0),
            reach.where(window),
            scale=np.maximum(scale, reach.fillna(0.0)),
        )
    rows.ge("dr.shortfall_min", short, (commit - credit).where(window, off), scale=cap)
    for name in ("p_dr_credit", "p_dr_shortfall", "u_dr_above"):
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

    Plus credit, shortfall and the above-baseline switch per period of each event's window.
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
        Output(
            "u_dr", _E, "1", "takes part in the event", upper=1.0, integer=True, first_stage=True
        ),
        Output(
            "p_dr_commit",
            _E,
            "MW",
            "reduction committed",
            upper="dr_max_reduction",
            first_stage=True,
        ),
        Output("p_dr_credit", _ET, "MW", "reduction credited in the period (0 outside)"),
        Output("p_dr_shortfall", _ET, "MW", "committed reduction not delivered (0 outside)"),
        Output(
            "u_dr_above",
            _ET,
            "1",
            "1: the period is settled as drawing above the baseline, credited 0 (0 outside)",
            upper=1.0,
            integer=True,
            # not 'up': z = 1 asks the draw to reach the baseline (above_measured), so
            # rounding up can break a row; nearest follows the relaxation's sign of q
            rounding="nearest",
        ),
        Output(
            "p_dr_reduction",
            _ET,
            "MW",
            "baseline minus metered draw of the event's sites",
            role="expression",
        ),
        Output(
            "p_dr_measured",
            _ET,
            "MW",
            "reduction the settlement measures: the period's, or the event's average "
            "(measure: event; 0 outside the window)",
            role="expression",
        ),
        Output("dr_member", ("dr_event", "site"), "bool", "site called by the event", role="input"),
        Output("dr_window", _ET, "bool", "period inside the event's window", role="input"),
        Output(
            "dr_baseline",
            ("dr_event", "site", "time"),
            "MW",
            "baseline used (0: site not called; a rule's baseline: 0 outside the window)",
            role="input",
        ),
        Output(
            "dr_event_average",
            _E,
            "bool",
            "measure: event (the window's average reduction is settled)",
            role="input",
        ),
        Output("dr_capacity_price", _E, "CNY/MW", "per MW committed", role="input"),
        Output("dr_energy_price", _E, "CNY/MWh", "per MWh credited", role="input"),
        Output("dr_min_bid", _E, "MW", "smallest commitment", role="input"),
        Output("dr_max_reduction", _E, "MW", "largest commitment", role="input"),
        Output("dr_shortfall_price", _E, "CNY/MWh", "per MWh not delivered", role="input"),
        Output("dr_credit_cap", _E, "1", "credit at most this x the commitment", role="input"),
        Output(
            "dr_draw_bound",
            _ET,
            "MW",
            "big-M of the measurement switch: most the called sites draw above their baseline "
            "(0 outside the window, and where they cannot: no u_dr_above)",
            role="input",
        ),
        Output(
            "dr_reduction_bound",
            _ET,
            "MW",
            "big-M of above_measured: the largest reduction the settlement can measure "
            "(NaN where the row is not built: no u_dr_above, or no least draw implied)",
            role="input",
        ),
        Output(
            "curtailment_limit",
            ("node", "time"),
            "MW",
            "orderly-curtailment cap on the metered draw of the node's sites (NaN: none)",
            role="input",
        ),
    ),
    build=_build,
    presolve=_presolve,
    estimate=_estimate,
    account=_account,
    check=_check,
    validate=_validate,
    kind="policy",
    limits=_LIMITS,
    cut=_cut,
)
