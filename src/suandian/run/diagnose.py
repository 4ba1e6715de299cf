"""Diagnosis of an infeasible scenario: what cannot be met, by how much, and whose fault it is.

Rules (``docs/math/diagnosis.md``):

0. **Data checks** (no solve): hard limits that contradict each other on the data alone — a
   corridor minimum in periods its block windows forbid or above its capacity, a battery end
   state that charging at full power cannot reach, a node import limit below what the sites'
   ``min_on`` blocks draw at the least, a PUE cap below what the site's plant reaches on any
   schedule. Each is a proof of infeasibility.
1. **Policies** priced (``POLICY_PENALTY`` CNY/MWh), all compute mandatory.
2. **Batch work** priced too (``COMPUTE_PENALTY`` CNY per unit·h), interactive demand still
   mandatory: if this has a plan, only the batch jobs left unfinished are blamed.
3. **Interactive demand** priced too, at ``INTERACTIVE_WEIGHT`` times the batch price, so that
   a job is given up before latency-bound demand.
4. **Hard limits** (only when 3 has no plan, or a data check fired): node import limits,
   corridor minimums and blocks, battery end rules, 绿电直连 self-consumption, facility ramp
   limits and orderly-curtailment caps get slack columns; the re-solve
   minimises the total violation (MWh) with every target and all compute free. The elements
   whose slack stays non-zero are the culprits.

Stages run in this order and stop at the first that has a plan; they share the caller's
time budget.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..component import Capacity
from ..results.accounting import books
from ..results.diagnosis import Diagnosis

#: CNY per MWh of green-share shortfall or PUE excess in the diagnosis re-solve.
POLICY_PENALTY = 1.0e5
#: CNY per compute unit x hour of batch work not done (stages 2 and 3).
COMPUTE_PENALTY = 1.0e4
#: Unserved interactive demand costs this many times unfinished batch work (stage 3).
INTERACTIVE_WEIGHT = 10.0
TOL = 1e-6
#: ``Diagnosis.status`` when no stage found a cause within the budget (nothing is proven).
NO_CAUSE = "no cause found within the budget"

if TYPE_CHECKING:
    from ..highs import SolveInfo, SolveOptions
    from ..model import Model
    from ..scenario import Scenario

#: A hard limit found violated: (kind, element, sentence, amount).
Found = tuple[str, str, str, float]


def diagnose(scenario: Scenario, opts: SolveOptions, budget: float | None = None) -> Diagnosis:
    """Re-solve with priced slacks and report which targets or limits bind and by how much.

    ``budget`` (seconds, default ``opts.time_limit``) is the total time all stages may use.
    """
    began = time.perf_counter()
    budget = opts.time_limit if budget is None else max(budget, 1.0)
    relaxed_opts = type(opts)(**{**opts.__dict__, "duals": False, "diagnose": False})
    out = Diagnosis()

    def left() -> float:
        return max(budget - (time.perf_counter() - began), 1.0)

    checks = _data_checks(scenario)
    if not checks:
        events = _events(scenario, relaxed_opts, left())
        if events is not None:
            return _finish(out, began, *events)
    stages: list[tuple[str, float | None, bool]] = []
    if not checks:
        c = scenario.config
        stages = [("policies", None, False)]
        if c.batch:
            stages.append(("batch work", COMPUTE_PENALTY, True))
        if c.interactive:
            stages.append(("interactive demand", COMPUTE_PENALTY, False))
        for stage, penalty, interactive_fixed in stages:
            model, info = _relaxed_solve(scenario, relaxed_opts, left(), penalty, interactive_fixed)
            if info.has_solution:
                out.stage = stage
                _report_targets(out, model, info)
                out.seconds = time.perf_counter() - began
                return out
    # stage 4: the hard limits themselves
    out.stage = "hard limits"
    for kind, element, text, amount in checks:
        out.findings.append(text)
        out.shortfalls[f"{kind}_{element}"] = amount
    covered = {(k, e) for k, e, _, _ in checks}
    covered |= {("corridor_block", e) for k, e, _, _ in checks if k == "corridor_min"}
    elastic, found = _elastic(scenario, relaxed_opts, left())
    assert elastic is not None  # only the event stage (0b) can end without a solve
    info = elastic
    out.status = info.status
    extra = [(k, e, t, a) for k, e, t, a in found if (k, e) not in covered]
    for kind, element, text, amount in extra:
        out.findings.append(text)
        out.shortfalls[f"{kind}_{element}"] = amount
    # data findings are proofs; figures from the relaxed solve are proven when it is optimal.
    # No finding proves nothing: stages 1-3 then ran out of time (stage 4 relaxes more than
    # they do, so a plan of stage 4 without violation means stage 3 had one too)
    out.proven = bool(out.findings) and (not extra or info.status == "optimal")
    if not info.has_solution:
        relaxed = "every target, all compute, node import limits, corridor minimums and blocks, "
        relaxed += "battery end rules, ramp limits and curtailment caps relaxed"
        if checks:
            out.findings.append(
                f"fixing the above may not be enough: even with {relaxed} HiGHS finds no plan "
                f"({info.highs_status})"
            )
        else:
            out.findings.append(
                f"even with {relaxed} HiGHS finds no plan ({info.highs_status}); the data "
                "contradict themselves elsewhere (bounds of a user constraint or a series)"
            )
    elif extra and info.status != "optimal":
        out.findings.append(
            f"the relaxed re-solve stopped at its time budget ({info.status}): the figures "
            "above are the best found, not proven minimal violations; give more time"
        )
    if out.findings and info.has_solution:
        out.findings.append(
            "targets and workloads are assessed once these limits are fixed (re-run then)"
        )
    if not out.findings:
        out.status = NO_CAUSE
        out.note = (
            f"stage(s) {', '.join(s for s, _, _ in stages)} found no plan within the budget "
            f"and the hard limits alone admit one (stage 4: {info.status}), so a target or a "
            "workload is the likely cause; give more time (time_limit) to find it"
        )
    out.seconds = time.perf_counter() - began
    return out


# --------------------------------------------------------------------------- stages 1-3
def _relaxed_solve(
    scenario: Scenario,
    opts: SolveOptions,
    budget: float,
    compute_penalty: float | None,
    interactive_fixed: bool,
) -> tuple[Model, SolveInfo]:
    """Build with the policy (and compute) slacks priced and solve within ``budget``."""
    from ..model import build_model
    from .strategy import solve_model

    model = build_model(
        scenario,
        shortfall_penalty=POLICY_PENALTY,
        compute_shortfall_penalty=compute_penalty,
        pyomo=False,
    )
    lm = model.built.lm
    unserved = lm.vars.get("dc.x_unserved")
    if unserved is not None and compute_penalty is not None:
        if interactive_fixed:
            lm.set_upper(unserved, 0.0)
        else:  # the model prices it like batch work; add the rest of its weight
            scale = max(s.block_capacity for s in scenario.config.sites)  # compute_scale
            extra = (INTERACTIVE_WEIGHT - 1.0) * compute_penalty * scale * scenario.dt
            lm.add_cost(unserved.sum() * extra)
    return model, solve_model(model, opts, {}, budget=budget)


def _report_targets(out: Diagnosis, model: Model, info: SolveInfo) -> None:
    """Findings of a relaxed plan: unserved demand, unfinished work, policy shortfalls."""
    from ..results.extract import build_dataset

    out.status = info.status
    ds = build_dataset(model)
    k = books(ds)
    out.achievable = {"green_share": k["green_share"], "pue": k["pue"]}
    unit = ds.attrs["compute_unit"]
    dt = float(ds.attrs["dt_hours"])
    sc = model.built.scenario
    for w in ds["workload"].values if "x_unserved" in ds else ():
        missing = ds["x_unserved"].sel(workload=w)
        if float(missing.max()) > TOL:
            t = int(missing.argmax("time"))
            total = float(missing.sum() * dt)
            sites = [
                str(s)
                for s in ds["site"].values
                if bool(ds["serve_eligible"].sel(workload=w, site=s))
            ]
            out.shortfalls[f"unserved_{w}"] = total
            out.findings.append(
                f"interactive workload '{w}': {total:,.1f} {unit}·h of demand cannot be served "
                f"in {_spans(sc, missing.values > TOL)} (worst at {_stamp(sc, t)}, "
                f"{float(missing.max()):,.1f} of {float(ds['demand'].sel(workload=w)[t]):,.1f} "
                f"{unit}); binding: {_binding(ds, sites, [t])}"
            )
    for j in ds["job"].values if "x_unfinished" in ds else ():
        unfinished = float(ds["x_unfinished"].sel(job=j))
        if unfinished > TOL:
            out.shortfalls[f"unfinished_{j}"] = unfinished
            out.findings.append(_job_finding(ds, sc, str(j), unfinished, unit))
    target = ds.attrs.get("green_share_target")
    slack = next((v for v in ("e_green_shortfall", "e_green_match_shortfall") if v in ds), None)
    for g in ds["scope"].values if slack else ():
        gap = float(ds[slack].sel(scope=g).sum())
        if gap > TOL and slack == "e_green_match_shortfall":
            per = ds[slack].sel(scope=g)
            short = per.values > TOL
            worst = int(per.values.argmax())
            out.shortfalls[f"green_share_{g}"] = gap
            out.findings.append(
                f"green share ({g}, {ds.attrs.get('green_matching')} matching): "
                f"{gap:,.1f} MWh of green supply missing for the target {target:.0%} in "
                f"{int(short.sum())} of {short.size} buckets (worst "
                f"{per['match'].values[worst]}: {float(per.values[worst]):,.1f} MWh); binding: "
                "the green supply available in those periods (renewables, corridor and "
                "contract capacity; certificates do not count)"
            )
        elif gap > TOL:
            best = k["green_share"].get(str(g), float("nan"))
            out.shortfalls[f"green_share_{g}"] = gap
            out.findings.append(
                f"green share ({g}): at most {best:.1%} reachable against the target "
                f"{target:.0%} ({gap:,.1f} MWh of green energy missing); binding: the green "
                "supply available (renewables, corridor and contract capacity, certificate "
                "cap)"
            )
    for g in ds["cfe_scope"].values if "e_cfe_shortfall" in ds else ():
        gap = float(ds["e_cfe_shortfall"].sel(cfe_scope=g))
        if gap > TOL:
            score = (
                float(ds["cfe_target"].sel(cfe_scope=g))
                if "cfe_target" in ds
                else float(ds.attrs["cfe_score_target"])
            )
            best = k.get("cfe_score", {}).get(str(g), float("nan"))
            out.shortfalls[f"cfe_{g}"] = gap
            out.findings.append(
                f"24/7 CFE score ({g}): at most {best:.1%} reachable against the target "
                f"{score:.0%} ({gap:,.1f} MWh of carbon-free energy missing); binding: the "
                "carbon-free supply in the hours of use (renewable and storage capacity, their "
                "bounds, the grid's carbon-free share); lower policies.cfe.score or raise them"
            )
    for s in ds["site"].values if "e_direct_shortfall" in ds else ():
        gap = float(ds["e_direct_shortfall"].sel(site=s))
        if gap > TOL:
            share = float(ds["direct_supply_share_min"].sel(site=s))
            out.shortfalls[f"direct_supply_{s}"] = gap
            out.findings.append(
                f"绿电直连 supply share ({s}): the direct project falls {gap:,.1f} MWh short of "
                f"min_supply_share {share:.0%} of the site's consumption; binding: the direct "
                "output available; lower min_supply_share or add direct capacity"
            )
    for s in ds["site"].values:
        excess = float(ds["e_pue_excess"].sel(site=s))
        if excess > TOL:
            best = k["pue"][str(s)]
            cap = float(ds["pue_cap"].sel(site=s))
            out.shortfalls[f"pue_{s}"] = excess
            out.findings.append(
                f"PUE at site '{s}': best achievable {best:.3f} against the cap {cap:.3f} "
                f"({excess:,.1f} MWh above it); binding: cooling COP and losses over the "
                "hours the load must run"
            )
    excess = float(ds["e_co2_cap_excess"]) if "e_co2_cap_excess" in ds else 0.0
    if excess > TOL:
        cap = float(ds["co2_cap"])
        ledger = ds.attrs.get("co2_cap_emissions", "market")
        out.shortfalls["co2_cap"] = excess
        out.findings.append(
            f"emissions cap ({ledger}-based): at least {cap + excess:,.2f} tCO2 against the cap "
            f"{cap:,.2f} ({excess:,.2f} tCO2 over); binding: the clean supply available "
            "(renewables, green contracts and certificates on the market ledger, the grid "
            "factor on the location ledger); raise policies.carbon_cap.tco2 or add clean supply"
        )
    # a plan without any shortfall proves nothing (the relaxation found no cause)
    out.proven = info.status == "optimal" and bool(out.findings)
    if not out.findings:
        out.status, out.note = NO_CAUSE, f"the relaxed plan ({info.status}) shows no shortfall"
    elif not out.proven:
        out.findings.append(
            f"the relaxed re-solve stopped at its time budget ({info.status}): the figures "
            "above are the best found, not proven bounds; give more time to prove them"
        )


def _job_finding(ds, sc, job: str, unfinished: float, unit: str) -> str:
    """Needed vs possible for a batch job left unfinished, and what binds in its window."""
    from ..components.datacenter import batch_dense

    dt = float(ds.attrs["dt_hours"])
    work = float(ds["job_work"].sel(job=job))
    r0, r1 = int(ds["job_release"].sel(job=job)), int(ds["job_deadline"].sel(job=job))
    hours = (r1 - r0) * dt
    rate = float(ds["job_max_rate"].sel(job=job))
    sites = [str(s) for s in ds["site"].values if bool(ds["run_eligible"].sel(job=job, site=s))]
    blocks = ds["blocks"].sel(site=sites) * ds["block_capacity"].sel(site=sites)
    capacity = float(blocks.sum()) * hours
    window = slice(r0, r1)
    inter = float(ds["x_serve"].sel(site=sites).isel(time=window).sum()) * dt
    ran = batch_dense(ds).sel(job=job).sum("site").values
    mask = np.zeros(ds.sizes["time"], bool)
    mask[r0:r1] = True
    slow = [t for t in range(r0, r1) if ran[t] < rate - 1e-6 * max(rate, 1.0)]
    why = _binding(ds, sites, slow) if slow else f"its max_rate {rate:,.1f} in every period"
    return (
        f"batch job '{job}': needs {work:,.1f} {unit}·h in its window {_spans(sc, mask)} "
        f"({hours:g} h) but at most {work - unfinished:,.1f} can be done ({unfinished:,.1f} "
        f"{unit}·h unfinished): its max_rate {rate:,.1f} allows {rate * hours:,.1f}, the blocks "
        f"of its sites ({', '.join(sites)}) {capacity:,.1f}, of which interactive demand takes "
        f"{inter:,.1f}; binding: {why}"
    )


def _binding(ds, sites, periods) -> str:
    """Name what limits compute at ``sites`` in ``periods``: blocks or a node import limit."""
    names: list[str] = []
    for s in sites:
        node = str(ds["site_node"].sel(site=s).values)
        limit = float(ds["import_limit"].sel(node=node))
        at_node = ds["site_node"] == node
        for t in periods:
            imported = float((ds["p_grid"].isel(time=t) * at_node).sum())
            n_on = float(ds["n_on"].sel(site=s).isel(time=t))
            if not np.isnan(limit) and imported >= limit - 1e-6 * max(1.0, limit):
                text = (
                    f"the import limit of node '{node}' ({limit:,.1f} MW, all used) for site "
                    f"'{s}'; raise it or add on-site supply"
                )
            elif n_on >= float(ds["blocks"].sel(site=s)) - 1e-6:
                text = f"all {int(round(n_on))} blocks of site '{s}' are on; add blocks there"
            else:
                continue
            if text not in names:
                names.append(text)
    if not names:
        return "the capacity of the eligible sites; make more sites eligible"
    return "; ".join(names)


# --------------------------------------------------------------------------- stage 4
def _events(
    scenario: Scenario, opts: SolveOptions, budget: float
) -> tuple[SolveInfo, list[Found]] | None:
    """Stage 0b: relax only the event limits (an outage), every workload and target kept.

    Returns ``None`` when no event limit has rows or the relaxed model has no plan either (the
    usual stages then look further), else ``(info, findings)``.
    """
    from ..catalogue import every

    if not any(limit.event for c in every() for limit in c.limits):
        return None
    info, found = _elastic(scenario, opts, budget, events=True)
    if info is None or not info.has_solution or not found:
        return None
    return info, found


def _finish(out: Diagnosis, began: float, info: SolveInfo, found: list[Found]) -> Diagnosis:
    """A diagnosis ending at stage 0b: the events the plan cannot survive."""
    out.stage = "hard limits"
    out.status = info.status
    for kind, element, text, amount in found:
        out.findings.append(text)
        out.shortfalls[f"{kind}_{element}"] = amount
    out.proven = info.status == "optimal"
    if not out.proven:
        out.findings.append(
            f"the relaxed re-solve stopped at its time budget ({info.status}): the figures "
            "above are the best found, not proven minimal violations; give more time"
        )
    out.seconds = time.perf_counter() - began
    return out


def _elastic(
    scenario: Scenario, opts: SolveOptions, budget: float, events: bool = False
) -> tuple[SolveInfo | None, list[Found]]:
    """Slack every hard-limit row, minimise the total violation, name the rows that give.

    The hard limits are those the components declare (``Component.limits``), with the
    sentence each prints. With ``events``, only the event limits (``Limit.event``) get
    slacks and every workload and target stays as the scenario states it (returns
    ``(None, [])`` when no event limit has rows).
    """
    from ..component import Violation
    from ..model import build_model
    from .strategy import solve_model

    model = build_model(
        scenario,
        shortfall_penalty=None if events else POLICY_PENALTY,
        compute_shortfall_penalty=None if events else COMPUTE_PENALTY,
        pyomo=False,
    )
    lm = model.built.lm
    lm.clear_costs()  # targets and compute are free: only violations of hard limits count
    lo, hi = lm.row_bounds()
    dt = scenario.dt
    slacks = []
    for fb in model.built.builders.values():
        for limit in fb.component.limits:
            if events and not limit.event:
                continue
            block = lm.rowblocks.get(fb.qual(limit.row))
            if block is None or not (block.rows >= 0).any():
                continue
            flat = block.rows.ravel()
            cells = np.flatnonzero(flat >= 0)
            rows = flat[cells]
            for sign, bounded in ((-1.0, np.isfinite(hi[rows])), (1.0, np.isfinite(lo[rows]))):
                if not bounded.any():
                    continue
                n = int(bounded.sum())
                kind = limit.kind
                var = lm.add_var(f"diagnosis.{kind}_{'over' if sign < 0 else 'under'}", (n,))
                lm.add_entries(rows[bounded], var.cols, np.full(n, sign))
                lm.add_cost(var.sum() * (limit.weight * (dt if limit.per_period else 1.0)))
                slacks.append((limit, block.shape, cells[bounded], var))
    if events and not slacks:
        return None, []
    info = solve_model(model, opts, {}, budget=budget)
    if not info.has_solution or lm.x is None:
        return info, []
    amounts: dict[str, tuple] = {}
    for limit, shape, cells, var in slacks:
        _, grid = amounts.setdefault(limit.kind, (limit, np.zeros(shape)))
        np.add.at(grid.reshape(-1), cells, lm.x[var.cols])
    found, seen = [], set()
    for limit, grid in amounts.values():
        for i, element in enumerate(limit.elements(scenario.config)):
            row = grid[i]
            if row.max() <= TOL * 10:
                continue
            active = row > TOL * 10
            v = Violation(i, element, row, active, _spans(scenario, active))
            finding = limit.finding(scenario, v)
            if finding[:2] not in seen:
                seen.add(finding[:2])
                found.append(finding)
    return info, found


# --------------------------------------------------------------------------- data checks
def _chosen(value) -> bool:
    """Whether a capacity field is chosen by the model (an extendable :class:`Capacity`)."""
    return isinstance(value, Capacity) and value.extendable


def _most(value) -> float:
    """A capacity field's largest value: the number, or existing + max when chosen."""
    if isinstance(value, Capacity):
        return value.existing + (value.max if value.extendable else 0.0)
    return float(value)


def _data_checks(sc) -> list[tuple[str, str, str, float]]:
    """Hard limits that contradict each other on the data alone: (kind, element, text, MWh)."""
    found = []
    c, dt, T = sc.config, sc.dt, sc.periods
    for k in c.corridors:
        if k.min_mw <= 0:
            continue
        cap = sc.profile(k.capacity)
        if k.block_mw is not None:
            ids = sc.window_ids(k.windows)
            closed = ids < 0
            if closed.any():
                windows = ", ".join(k.windows or ["00:00-24:00"])
                found.append(
                    (
                        "corridor_min",
                        k.name,
                        f"corridor '{k.name}': min_mw {k.min_mw:g} MW is required in every "
                        f"period but purchases are only possible in its windows {windows} "
                        f"(block_mw {k.block_mw:g}); none can be made in {_spans(sc, closed)}; "
                        "set min_mw to 0 or widen the windows",
                        float(k.min_mw * closed.sum() * dt),
                    )
                )
                continue
            most = np.zeros(T)
            for w in np.unique(ids):
                inside = ids == w
                most[inside] = math.floor(cap[inside].min() / k.block_mw + 1e-9) * k.block_mw
            why = f"whole blocks of {k.block_mw:g} MW held over each window reach at most"
            if k.deviation_price_up is not None:  # energy above the blocks, up to the capacity
                most, why = cap, "its capacity is"
            short = most < k.min_mw - TOL
        else:
            most = cap
            short = cap < k.min_mw - TOL
            why = "its capacity is"
        if short.any():
            found.append(
                (
                    "corridor_min",
                    k.name,
                    f"corridor '{k.name}': min_mw {k.min_mw:g} MW is required in every period "
                    f"but in {_spans(sc, short)} {why} {most[short].min():g} MW; lower min_mw "
                    "or raise the capacity",
                    float(((k.min_mw - most) * short).sum() * dt),
                )
            )
    for u in c.storage:
        # a chosen energy (Capacity) moves the end state with it: the re-solve judges it
        if u.soc_final in ("cyclic", "free") or _chosen(u.energy):
            continue
        energy, power = _most(u.energy), _most(u.power)  # a chosen power at its largest
        keep = (1.0 - u.self_discharge) ** dt
        e = u.soc_initial * energy
        for _ in range(T):
            e = min(energy, keep * e + power * u.eta_charge * dt)
        need = float(u.soc_final) * energy
        if e < need - TOL * max(1.0, need):
            loss = f", self-discharge {u.self_discharge:g}/h" if u.self_discharge else ""
            found.append(
                (
                    "soc_final",
                    u.name,
                    f"battery '{u.name}': soc_final {float(u.soc_final):g} ({need:g} MWh) cannot "
                    f"be reached: from soc_initial {u.soc_initial:g} ({u.soc_initial * energy:g}"
                    f" MWh), charging at its full {power:g} MW for all {T * dt:g} h (eta_charge "
                    f"{u.eta_charge:g}{loss}) gives at most {e:,.2f} MWh; lower soc_final or "
                    "raise the power",
                    need - e,
                )
            )
    for n in c.nodes:
        if n.import_limit is None:
            continue
        sites = [s for s in c.sites if s.node == n.name]
        held = [s for s in sites if s.min_on > 0]
        if not held:
            continue
        load = np.zeros(T)
        for s in held:
            load += s.min_on * s.idle_power * (1 + s.loss_fraction) * (1 + 1 / sc.cop(s))
        names = {s.name for s in sites}
        supply = np.zeros(T)
        for r in c.renewables:
            if r.site in names:
                supply += _most(r.capacity) * sc.profile(r.profile)
        for b in c.storage:
            if b.site in names:
                supply += _most(b.power)
        for g in c.green_contracts:
            if g.node == n.name:
                supply += sc.profile(g.capacity)
        for k in c.corridors:
            if k.to_node == n.name:
                supply += sc.profile(k.capacity) * (1 - k.loss)
        over = load - supply - n.import_limit
        bad = over > TOL * max(1.0, n.import_limit)
        if not bad.any():
            continue
        who = ", ".join(
            f"'{s.name}' (min_on {s.min_on} blocks x idle {s.idle_power:g} MW)" for s in held
        )
        other = f"; other supply there at most {supply[bad].max():g} MW" if supply.any() else ""
        found.append(
            (
                "import_limit",
                n.name,
                f"node '{n.name}': import limit {n.import_limit:g} MW is below the "
                f"{load[bad].min():,.2f} MW that site(s) {who} draw at the least, with "
                f"cooling and losses, in {_spans(sc, bad)}{other}; raise the limit or lower "
                "min_on",
                float((over * bad).sum() * dt),
            )
        )
    found += _pue_checks(sc)
    return found


def _pue_checks(sc) -> list[tuple[str, str, str, float]]:
    """PUE caps below what the site's power chain and cooling can reach on any schedule.

    The facility energy less cap x IT energy, minimised over every IT power
    ``0 <= p_t <= P_max`` (``P_max``: every block on at full load, the largest dynamic power)
    and every use of the site's chilled-water tanks, must not exceed the cap's allowance
    (docs/math/diagnosis.md, "PUE cap vs the plant"). Per period the facility power is
    ``(1 + l)(1 + k_t) p_t + c_t`` with ``c_t = (a P (1 + k_t) + P_fix)``, linear in ``p_t``,
    so the minimum is ``c_t + P_max min(0, (1 + l)(1 + k_t) - cap)``; a tank saves at most
    what it can discharge at the dearest chilled-water ``k`` less what it charges at the
    cheapest.
    """
    from ..policies.pue_cap import _year_inputs

    c, dt = sc.config, sc.dt
    caps = np.array([np.nan if sc.pue_cap(s) is None else sc.pue_cap(s) for s in c.sites])
    allowance = _year_inputs(sc, caps)[0]
    found = []
    for i, s in enumerate(c.sites):
        cap = caps[i]
        if np.isnan(cap):
            continue
        k = 1.0 / sc.cop(s)
        p_max = s.always_on_it + s.blocks_max * s.full_block_it
        per_mw = (1 + s.loss_fraction) * (1 + k)
        # the least rated IT: a chosen number of blocks at its fewest (existing + min)
        rated = s.design_it or s.always_on_it + s.blocks_min * s.full_block_it
        fixed = s.no_load_loss * rated * (1 + k) + s.fixed_load
        least = fixed + p_max * np.minimum(0.0, per_mw - cap)  # MW, facility - cap x IT
        saving = sum(_tank_saving(sc, s, u) for u in c.thermal_storage if u.site == s.name)
        over = float(least.sum() * dt - saving - allowance[i])
        if over <= TOL * max(1.0, float(fixed.sum() * dt)):
            continue
        pue = per_mw + fixed / p_max if p_max > 0 else np.full(sc.periods, np.inf)
        t = int(pue.argmin())
        tank = f" (after the at most {saving:,.2f} MWh its tanks could save)" if saving else ""
        year = f" above its year allowance {allowance[i]:,.2f} MWh" if allowance[i] else ""
        found.append(
            (
                "pue",
                s.name,
                f"PUE at site '{s.name}': the cap {cap:.3f} cannot be met on any schedule: "
                f"with every block at full load ({p_max:,.2f} MW IT) its PUE is at least "
                f"{pue[t]:.4f} (at {_stamp(sc, t)}, cooling k {k[t]:.4f}), and the facility "
                f"energy exceeds cap x IT energy by at least "
                f"{over:,.2f} MWh{year}{tank}; binding: cooling COP, losses and fixed load; "
                "raise the cap",
                over,
            )
        )
    return found


def _tank_saving(sc, site, u) -> float:
    """Most facility energy (MWh) a chilled-water tank can save over the horizon.

    Discharged cold ``D <= min(e0 + Q, q_dis_max T dt)`` saves at most ``k_max D``; charging
    ``Q`` costs at least ``charge_factor k_min Q`` (``k``: the chilled-water plant's, as in
    ``components/thermal.py``), so the saving is at most ``k_max e0 + (k_max - f k_min)^+ Q``
    with ``Q`` as large as the discharge allows.
    """
    T, dt = sc.periods, sc.dt
    fan = 0.0 if site.cooling.cop is not None else site.cooling.air_fan
    k = sc.cooling(site).k_air - fan
    e0 = u.soc_initial * u.capacity
    d_max = u.discharge_max * T * dt
    q = max(0.0, min(u.charge_max * T * dt, d_max - e0))
    gain = max(0.0, float(k.max()) - u.charge_factor * float(k.min()))
    return float(k.max()) * min(e0, d_max) + gain * q


# --------------------------------------------------------------------------- time text
def _stamp(sc, t: int) -> str:
    return str(sc.time[t])[:16]


def _spans(sc, mask: np.ndarray, most: int = 3) -> str:
    """Clock ranges of the periods in ``mask``, e.g. ``00:00-16:00`` (dated over several days).

    A range ends at midnight (``24:00``); the next day starts a new range.
    """
    time = sc.time
    step = pd.Timedelta(hours=sc.dt)
    days = time.normalize()
    several = days[0] != (time[-1] + step - pd.Timedelta(seconds=1)).normalize()
    runs: list[list[int]] = []
    for t in map(int, np.flatnonzero(mask)):
        if runs and runs[-1][1] == t and days[t] == days[runs[-1][0]]:
            runs[-1][1] = t + 1
        else:
            runs.append([t, t + 1])
    texts = []
    for a, b in runs:
        begin, end = time[a], time[b - 1] + step
        end_text = "24:00" if end.normalize() != begin.normalize() else end.strftime("%H:%M")
        day = begin.strftime("%Y-%m-%d ") if several else ""
        texts.append(f"{day}{begin.strftime('%H:%M')}-{end_text}")
    if len(texts) > most:
        return ", ".join(texts[:most]) + f" and {len(texts) - most} more"
    return ", ".join(texts) if texts else "no period"
