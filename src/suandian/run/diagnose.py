"""Diagnosis of an infeasible scenario: how far each target can be met, and what binds.

The scenario is re-solved with priced slacks, in two stages so that compute is never given
up to meet a policy:

1. the green-share shortfall and the PUE excess are priced (``POLICY_PENALTY`` CNY/MWh, far
   above any energy price) while all compute stays mandatory;
2. only if that is still infeasible, unserved interactive demand and unfinished batch work
   are priced too (``COMPUTE_PENALTY`` CNY per compute unit x hour).

Slacks that stay non-zero name the targets that cannot be met and by how much.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import numpy as np

from ..results.accounting import books
from ..results.diagnosis import Diagnosis

#: CNY per MWh of green-share shortfall or PUE excess in the diagnosis re-solve.
POLICY_PENALTY = 1.0e5
#: CNY per compute unit x hour not served in the second diagnosis stage.
COMPUTE_PENALTY = 1.0e4

if TYPE_CHECKING:
    from ..highs import SolveOptions
    from ..scenario import Scenario


def diagnose(scenario: Scenario, opts: SolveOptions, budget: float | None = None) -> Diagnosis:
    """Re-solve with priced slacks and report which targets bind and by how much.

    ``budget`` (seconds, default ``opts.time_limit``) is the total time both stages may use.
    """
    from ..highs import solve_model
    from ..model import build_model

    began = time.perf_counter()
    budget = opts.time_limit if budget is None else max(budget, 1.0)
    relaxed_opts = type(opts)(**{**opts.__dict__, "duals": False, "diagnose": False})
    out = Diagnosis()
    for compute_penalty in (None, COMPUTE_PENALTY):
        model = build_model(
            scenario,
            shortfall_penalty=POLICY_PENALTY,
            compute_shortfall_penalty=compute_penalty,
            pyomo=False,
        )
        left = budget - (time.perf_counter() - began)
        info = solve_model(model, relaxed_opts, {}, budget=max(left, 1.0))
        if info.has_solution:
            break
    out.status = info.status
    out.proven = info.status == "optimal"
    out.seconds = time.perf_counter() - began
    if not info.has_solution:
        out.findings.append(
            f"even with every target relaxed HiGHS finds no plan ({info.highs_status}); "
            "check import limits and battery end-of-day rules against the load"
        )
        return out
    from ..results.extract import build_dataset

    ds = build_dataset(model)
    k = books(ds)
    out.achievable = {"green_share": k["green_share"], "pue": k["pue"]}
    unit = ds.attrs["compute_unit"]
    dt = float(ds.attrs["dt_hours"])
    tol = 1e-6
    for w in ds["workload"].values if "x_unserved" in ds else ():
        missing = ds["x_unserved"].sel(workload=w)
        if float(missing.max()) > tol:
            worst = missing.idxmax("time").values
            out.shortfalls[f"unserved_{w}"] = float(missing.sum() * dt)
            out.findings.append(
                f"interactive workload '{w}': {float(missing.sum() * dt):,.1f} {unit}·h of "
                f"demand cannot be served (worst at {str(worst)[:16]}, "
                f"{float(missing.max()):,.1f} {unit}); binding: {_binding(ds, w, worst)}"
            )
    for j in ds["job"].values if "x_unfinished" in ds else ():
        left = float(ds["x_unfinished"].sel(job=j))
        if left > tol:
            out.shortfalls[f"unfinished_{j}"] = left
            out.findings.append(
                f"batch job '{j}': {left:,.1f} {unit}·h of its work cannot be done by its "
                "deadline with the capacity available; widen its window, raise max_rate or "
                "add capacity (or raise the node import limits that bind)"
            )
    target = ds.attrs.get("green_share_target")
    for g in ds["scope"].values if "e_green_shortfall" in ds else ():
        gap = float(ds["e_green_shortfall"].sel(scope=g))
        if gap > tol:
            best = k["green_share"].get(str(g), float("nan"))
            out.shortfalls[f"green_share_{g}"] = gap
            out.findings.append(
                f"green share ({g}): at most {best:.1%} reachable against the target "
                f"{target:.0%} ({gap:,.1f} MWh of green energy missing); binding: the green "
                "supply available (renewables, corridor and contract capacity, certificate "
                "cap)"
            )
    for s in ds["site"].values:
        excess = float(ds["e_pue_excess"].sel(site=s))
        if excess > tol:
            best = k["pue"][str(s)]
            cap = float(ds["pue_cap"].sel(site=s))
            out.shortfalls[f"pue_{s}"] = excess
            out.findings.append(
                f"PUE at site '{s}': best achievable {best:.3f} against the cap {cap:.3f} "
                f"({excess:,.1f} MWh above it); binding: cooling COP and losses over the "
                "hours the load must run"
            )
    if not out.proven and out.findings:
        out.findings.append(
            f"the relaxed re-solve stopped at its time budget ({info.status}): the figures "
            "above are the best found, not proven bounds; give more time to prove them"
        )
    return out


def _binding(ds, workload: str, when) -> str:
    """Name what limits service of a workload at its worst period: blocks or an import limit."""
    t = int(np.flatnonzero(ds["time"].values == when)[0])
    eligible = [
        str(s)
        for s in ds["site"].values
        if bool(ds["serve_eligible"].sel(workload=workload, site=s))
    ]
    names = []
    for s in eligible:
        node = str(ds["site_node"].sel(site=s).values)
        limit = float(ds["import_limit"].sel(node=node))
        at_node = ds["site_node"] == node
        imported = float((ds["p_grid"].isel(time=t) * at_node).sum())
        n_on = float(ds["n_on"].sel(site=s).isel(time=t))
        if not np.isnan(limit) and imported >= limit - 1e-6 * max(1.0, limit):
            names.append(
                f"the import limit of node '{node}' ({limit:,.1f} MW, all used) for site '{s}';"
                " raise it or add on-site supply"
            )
        elif n_on >= float(ds["blocks"].sel(site=s)) - 1e-6:
            names.append(f"all {int(n_on)} blocks of site '{s}' are on; add blocks there")
    if not names:
        return "the capacity of the eligible sites; make more sites eligible"
    return "; ".join(names)
