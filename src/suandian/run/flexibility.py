"""``flexibility_offer``: what each site can offer the grid tomorrow, MW x duration x cost.

A VPP aggregator or the grid asks a data center, the day before: *how many MW below your plan
can you hold, for how long, starting when, and at what cost?* This module answers by
re-planning: for each site, window and level it adds the user rows

    p_metered[s, t] <= base_metered[s, t] - R        for every period t of the window

to the model (through the Pyomo extension layer, as a user would) and solves again; the cost
of the offer is the change of the day's optimal cost. Every lever the scenario declares (job
deferral and migration, batteries, thermal storage, power capping, corridor blocks) may be
used to deliver it, and every rule (green share, PUE, deadlines) still holds. Math:
``docs/math/flexibility.md``.
"""

from __future__ import annotations

import logging
import time as _time
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pandas as pd

from ..highs import SolveOptions
from ..model import build_model
from ..results.result import Result
from ..scenario import Scenario
from .solve import solve

log = logging.getLogger("suandian")

#: Columns of the table :func:`flexibility_offer` returns.
OFFER_COLUMNS = (
    "site",
    "start",
    "hours",
    "mw",
    "mwh",
    "status",
    "cost",
    "cost_per_mwh",
    "gap",
    "seconds",
    "reason",
)


def metered_draw(result: Result) -> tuple[str, pd.DataFrame]:
    """The draw the grid measures per site and period (MW) and its Dataset name.

    ``p_metered`` (the public-grid meter of [](../math/network.md)) when the scenario has a
    bill section, else ``p_grid`` (grid purchases).
    """
    name = "p_metered" if "p_metered" in result.ds else "p_grid"
    return name, result.ds[name].transpose("time", "site").to_pandas()


def _window(scenario: Scenario, start: int | datetime | str, hours: float) -> np.ndarray:
    """Periods of a window of ``hours`` from ``start`` (a period index or a timestamp)."""
    first = (
        int(start)
        if isinstance(start, (int, np.integer))
        else int(scenario.time.get_indexer([pd.Timestamp(start)])[0])
    )
    if first < 0:
        raise ValueError(
            f"flexibility_offer: start {start!r} is not a period start of the horizon "
            f"({scenario.time[0]} .. {scenario.time[-1]}, every {scenario.dt:g} h); give a "
            "period index or one of those timestamps"
        )
    n = int(np.ceil(hours / scenario.dt - 1e-9))
    if hours <= 0 or first + n > len(scenario.time):
        raise ValueError(
            f"flexibility_offer: a {hours:g}-h window from {scenario.time[first]} does not fit "
            f"in the horizon (ends {scenario.time[-1]} + {scenario.dt:g} h); shorten it"
        )
    return np.arange(first, first + n)


def flexibility_offer(
    scenario: Scenario,
    *,
    start: int | datetime | str,
    hours: Sequence[float] = (1.0, 2.0, 4.0),
    levels_mw: Sequence[float] = (5.0, 10.0, 20.0),
    sites: Sequence[str] | None = None,
    base: Result | None = None,
    options: SolveOptions | None = None,
) -> pd.DataFrame:
    """Price a reduction of each site's metered draw below its plan, by window and level.

    Parameters
    ----------
    scenario : Scenario
        The day to plan.
    start : int, datetime or str
        First period of every window (a period index or a timestamp of the horizon).
    hours : sequence of float
        Window lengths, h (rounded up to whole periods).
    levels_mw : sequence of float
        Reductions R, MW below the plan in every period of the window.
    sites : sequence of str, optional
        Sites to ask (default: every site).
    base : Result, optional
        The plan the reductions are measured from (default: solved here with ``options``).
    options : SolveOptions, optional
        Solver options for every solve (default: :class:`SolveOptions` with ``duals`` and
        ``diagnose`` off).

    Returns
    -------
    pandas.DataFrame
        One row per (site, window, level), columns :data:`OFFER_COLUMNS`: ``mwh`` = R x hours
        actually covered, ``status`` of the re-plan (``infeasible``: the site cannot hold R
        for that long; larger levels are then not tried and reported ``infeasible`` too),
        ``cost`` the change of the day's cost (CNY; NaN without a plan), ``cost_per_mwh``
        (CNY/MWh), ``gap`` the MIP gap of the re-plan, ``seconds`` its wall time and
        ``reason`` why an offer has no cost (empty for one that has): no plan keeps every rule
        with the draw that far below the plan (with the largest level that held, and the
        plan's least draw in the window where it is below the level), not re-planned after a
        smaller level failed, or no plan within the time limit. Costs are differences of two
        plans each within its MIP gap: read them to about ``gap x cost of the day``.

    Each re-plan is reported through the ``suandian`` logger (INFO) as it ends, so a long
    series shows its progress where logging is set up (``suandian offer`` prints it).
    """
    import pyomo.environ as pyo

    opts = options or SolveOptions(duals=False, diagnose=False)
    if base is None:
        base = solve(scenario, opts)
    if not base.has_plan:
        raise ValueError(f"flexibility_offer: the base plan has no solution ({base.status})")
    name, draw = metered_draw(base)
    names = [s.name for s in scenario.config.sites]
    asked = list(names if sites is None else sites)
    unknown = [s for s in asked if s not in names]
    if unknown:
        raise ValueError(f"flexibility_offer: sites {unknown} are not in the scenario {names}")
    block = "bill" if name == "p_metered" else "grid"
    rows = []
    for site in asked:
        for h in hours:
            window = _window(scenario, start, h)
            along = draw[site].to_numpy()[window]
            low = int(np.argmin(along))
            least = (float(along[low]), scenario.time[window[low]])
            held: float | None = None
            failed: float | None = None
            for level in sorted(levels_mw):
                row = {
                    "site": site,
                    "start": scenario.time[window[0]],
                    "hours": len(window) * scenario.dt,
                    "mw": float(level),
                    "mwh": float(level) * len(window) * scenario.dt,
                }
                if failed is not None:
                    why = f"not re-planned: {failed:g} MW below the plan already failed"
                    rows.append(
                        {
                            **row,
                            "status": "infeasible",
                            "cost": np.nan,
                            "gap": np.nan,
                            "reason": why + _below(least, level),
                        }
                    )
                    continue
                model = build_model(scenario)
                var = getattr(getattr(model, block), name)
                cap = draw[site].to_numpy() - float(level)
                model.add_component(
                    "flex_offer",
                    pyo.Constraint(
                        [int(t) for t in window],
                        rule=lambda m, t, v=var, s=site, c=cap: v[s, t] <= float(c[t]),
                    ),
                )
                began = _time.perf_counter()
                r = solve(model, opts)
                seconds = _time.perf_counter() - began
                cost = r.objective - base.objective if r.has_plan else np.nan
                reason = ""
                if r.status == "infeasible":
                    failed = float(level)
                    reason = (
                        f"no plan keeps every rule with the draw {level:g} MW below the plan "
                        f"for {row['hours']:g} h"
                        + _below(least, level)
                        + (
                            f"; {held:g} MW held"
                            if held is not None
                            else "; no smaller level was asked"
                        )
                    )
                elif r.has_plan:
                    held = float(level)
                else:
                    reason = f"no plan: {r.status} ({r.info.highs_status})"
                rows.append(
                    {
                        **row,
                        "status": r.status,
                        "cost": cost,
                        "gap": r.mip_gap,
                        "seconds": seconds,
                        "reason": reason,
                    }
                )
                log.info(
                    "offer %s, %g h from %s, %g MW: %s%s (%.1f s)",
                    site,
                    row["hours"],
                    row["start"],
                    level,
                    r.status,
                    f", {cost:+,.0f} CNY" if r.has_plan else "",
                    seconds,
                )
    table = pd.DataFrame(rows, columns=[c for c in OFFER_COLUMNS if c != "cost_per_mwh"])
    table.insert(7, "cost_per_mwh", table["cost"] / table["mwh"])
    table["reason"] = table["reason"].fillna("")
    return table[list(OFFER_COLUMNS)]


def _below(least: tuple[float, pd.Timestamp], level: float) -> str:
    """A note when the plan's own draw in the window is below the level asked."""
    mw, when = least
    if mw >= level:
        return ""
    return f" (the plan draws only {mw:.3g} MW at {when:%H:%M})"
