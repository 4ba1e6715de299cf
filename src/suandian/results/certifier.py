"""Independent certifier: re-check a plan from its result Dataset alone (no Pyomo, no model).

Every constraint family of the formulation is recomputed with xarray from the decisions and
the inputs the Dataset carries (``role`` = ``decision`` / ``input``); the shared measures
(intake, green energy, consumption, cost) come from :mod:`suandian.results.accounting`, where
they are defined once. Check names follow the model's components, e.g. ``ledger.balance``,
``stor.e_soc_balance``, ``dc.job_completion``, ``green_share.share_min``,
``pue_cap.pue_max``, ``res.p_used.bounds`` (variable bounds), ``dc.n_on.integrality``,
``dc.RUN`` (a batch cell outside its job's window or sites) and ``total_cost`` (the objective).
A relaxed (diagnosis) plan certifies with its slacks: ``x_unserved`` / ``x_unfinished`` enter
``dc.demand_served`` / ``dc.job_completion`` and ``e_green_shortfall`` / ``e_pue_excess``
enter ``green_share.share_min`` / ``pue_cap.pue_max`` whenever the Dataset holds them.

Tolerance rule
--------------
A row ``lhs <= rhs`` (or ``>=``, ``==``) is violated when it misses by more than
``tol * max(floor, |scale|)``: ``scale`` is the row's natural magnitude (the limit for a
bound or capacity, the largest flow for a balance, the energy capacity for a state-of-charge
step) and ``floor`` is 1 in the row's own unit (MW, MWh, blocks), except for compute rows,
whose floor is the largest block capacity: the model holds compute in units of the largest
block (``compute_scale``), so the solver's absolute feasibility tolerance is scaled by it.
The recomputed cost must match ``attrs['objective']`` within
``max(1e-3 CNY, 1e-6 * |objective|)``: both are the same linear function of the same stored
values, so only round-off separates them, and a millionth of the bill is far below any real
missing term. Without an objective (e.g. a diagnosis Dataset) the cost is not checked.

Every violation is returned (no cap; a tampered plan can yield one per row): checks in a
fixed order, and within each row test in index order (``where`` lists the dimensions in the
order scope, workload, job, corridor, contract, renewable, storage, node, site, time).
Inputs are trusted as given: a NaN limit means "no limit" (``import_limit``, ``pue_cap``,
``soc_final_min``, ``initial_on``), a NaN decision fails its bounds.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..checks import Rows, Violation, attr, normalise
from ..components import known
from .accounting import accounts, books

#: relative tolerance of the cost check (see the module docstring)
COST_RTOL = 1e-6
#: absolute floor of the cost check, CNY
COST_ATOL = 1e-3

__all__ = ["Violation", "certify"]


def certify(ds: xr.Dataset, tol: float = 1e-5) -> list[Violation]:
    """Re-check a plan from its Dataset alone.

    Parameters
    ----------
    ds : xarray.Dataset
        A result Dataset (``Result.ds`` or ``suandian.read_result(...).ds``).
    tol : float
        Relative tolerance; see the module docstring for how it is scaled.

    Returns
    -------
    list of Violation
        Every violated row, empty when the plan satisfies the formulation.

    Raises
    ------
    ValueError
        If the Dataset holds no plan (no decisions).
    """
    if "p_grid" not in ds:
        raise ValueError("the Dataset holds no plan (no decision variables); nothing to certify")
    ds = normalise(ds)
    rows = Rows(ds, tol)
    rows.accounts = accounts(ds)
    rows.books = books(ds, rows.accounts)
    components = known(ds)
    for component in components:
        _bounds(ds, rows, component)
    for component in components:
        if component.check is not None:
            component.check(ds, rows)
    _cost(ds, rows)
    return rows.out


def _bounds(ds: xr.Dataset, rows: Rows, component) -> None:
    """Bounds and integrality of every decision in the component's output table."""
    for o in component.outputs:
        if o.role != "decision" or o.name not in ds:
            continue
        x = ds[o.name]
        floor = rows.cs if o.floor == "compute" else 1.0
        lo = ds[o.lower] if isinstance(o.lower, str) else o.lower
        hi = ds[o.upper] if isinstance(o.upper, str) else xr.DataArray(float(o.upper))
        name = f"{component.name}.{o.name}"
        rows.ge(f"{name}.bounds", x, lo, floor=floor)
        rows.le(f"{name}.bounds", x, hi.where(np.isfinite(hi)), floor=floor)
        if o.integer and not int(ds.attrs.get("relaxed", 0)):
            rows.eq(f"{name}.integrality", x, np.round(x))


def _cost(ds: xr.Dataset, rows: Rows) -> None:
    """Recomputed total cost against the objective the solver reported."""
    objective = attr(ds, "objective")
    if np.isnan(objective):
        return
    total = float(rows.books["cost"]["total"])
    if not abs(total - objective) <= max(COST_ATOL, COST_RTOL * abs(objective)):
        rows.out.append(Violation("total_cost", "all", total, objective))
