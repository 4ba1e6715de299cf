"""Independent certifier: re-check a plan from its result Dataset alone (no Pyomo, no model).

Every constraint family of the formulation is recomputed with xarray from the decisions and
the inputs the Dataset carries (``role`` = ``decision`` / ``input``); the shared measures
(intake, green energy, consumption, cost) come from :mod:`suandian.results.accounting`, where
they are defined once. Check names follow the model's components, e.g. ``ledger.balance``,
``stor.e_soc_balance``, ``dc.job_completion``, ``green_share.share_min``,
``pue_cap.pue_max``, ``res.p_used.bounds`` (variable bounds), ``dc.n_on.integrality``,
``dc.RUN`` (a batch cell outside its job's window or sites), ``total_cost`` (the objective)
and ``cost_period`` (each per-period cost term split over the periods sums to its total).
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

What is reported
----------------
:func:`certify_report` recomputes every KPI of ``kpis.json`` (cost by term and total, energy,
green share, PUE, emissions, CFE, CUE, shadow prices) from the Dataset and compares it with
the reported value within ``max(atol, REPORT_RTOL * |recomputed|)`` (``atol`` is
``COST_ATOL`` for CNY, ``REPORT_ATOL`` otherwise); a KPI missing from the report, or reported
but not recomputable, is a violation too. The solver report (status, objective, gap) must
match the Dataset's attributes. Check names are ``report.<kpi>`` (e.g.
``report.green_share`` at ``portfolio``) and ``report.solver.<field>``.
:func:`certify_folder` checks a saved results folder: the manifest and checksums
(:func:`suandian.results.io.verify_folder`), the plan (:func:`certify`) and the report.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..catalogue import known
from ..checks import Rows, Violation, attr, normalise
from .accounting import accounts, books, shadow_prices
from .extract import has_plan as holds_plan

#: relative tolerance of the cost check (see the module docstring)
COST_RTOL = 1e-6
#: absolute floor of the cost check, CNY
COST_ATOL = 1e-3

#: relative tolerance of a reported KPI against its recomputed value
REPORT_RTOL = 1e-6
#: absolute floor for reported KPIs other than costs (shares, PUE, MWh, tCO2)
REPORT_ATOL = 1e-9

__all__ = ["Violation", "certify", "certify_folder", "certify_report"]


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
    return _certify(ds, tol)[0]


def row_margins(
    ds: xr.Dataset, checks: Iterable[str], tol: float = 1e-5
) -> tuple[list[Violation], dict[str, xr.DataArray]]:
    """The violations, and the signed margins of the rows named in ``checks``.

    A row ``lhs <= rhs`` has the margin ``rhs - lhs``, a row ``lhs >= rhs`` the margin
    ``lhs - rhs``, both recomputed from the Dataset as :func:`certify` does (negative: the
    row is missed by that much). A check the plan has no row of is absent from the dict.
    Used to judge a row over several plans, e.g. a target held in expectation over the
    scenarios of a two-stage plan (:mod:`suandian.run.stochastic`).
    """
    return _certify(ds, tol, frozenset(checks))


def _certify(
    ds: xr.Dataset,
    tol: float,
    watch: frozenset[str] = frozenset(),
    acc: dict[str, Any] | None = None,
) -> tuple[list[Violation], dict[str, xr.DataArray]]:
    """The violations, and the margins of the checks in ``watch``.

    ``acc``: the accounts of ``ds`` (:func:`~suandian.results.accounting.accounts`), if at
    hand; used only where ``ds`` needs no normalising (else read again).
    """
    if not holds_plan(ds):
        raise ValueError("the Dataset holds no plan (no decision variables); nothing to certify")
    given = ds
    ds = normalise(ds)
    rows = Rows(ds, tol)
    rows.watch = watch
    rows.accounts = acc if acc is not None and ds is given else accounts(ds)
    rows.books = books(ds, rows.accounts)
    components = known(ds)
    for component in components:
        _bounds(ds, rows, component)
    for component in components:
        if component.check is not None:
            component.check(ds, rows)
    _cost(ds, rows)
    return rows.out, rows.margins


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
    _cost_periods(ds, rows)


def _cost_periods(ds: xr.Dataset, rows: Rows) -> None:
    """Each per-period cost term's ``cost_period`` sums to the term the books recompute.

    ``cost_period`` splits a term over the periods (the books of a rolling window's
    committed part read it); its sum over time must be the term's total.
    """
    if "cost_period" not in ds:
        return
    cost = rows.books["cost"]
    for term in ds["cost_term"].values:
        split = float(ds["cost_period"].sel(cost_term=term).sum())
        whole = float(cost.get(str(term), 0.0))
        if not abs(split - whole) <= max(COST_ATOL, COST_RTOL * abs(whole)):
            rows.out.append(Violation("cost_period", str(term), split, whole))


def recomputed_kpis(ds: xr.Dataset) -> dict:
    """The KPIs of ``kpis.json`` recomputed from the Dataset alone."""
    out = books(normalise(ds))
    out["shadow_prices"] = shadow_prices(ds)
    return out


def certify_report(ds: xr.Dataset, report: dict) -> list[Violation]:
    """Compare a report (the content of ``kpis.json``) with what the Dataset gives.

    Parameters
    ----------
    ds : xarray.Dataset
        The result Dataset the report claims to describe (with a plan).
    report : dict
        ``{"solver": {...}, "kpis": {...}}`` as written by :meth:`suandian.Result.save`.

    Returns
    -------
    list of Violation
        ``report.<kpi>`` at the key (site, term, ...) for each KPI that differs, is missing
        or is not recomputable (value the reported one, limit the recomputed one; NaN where
        absent), and ``report.solver.<field>`` for a solver report that contradicts the
        Dataset's attributes. Empty when everything reported is what the plan gives.
    """
    if not holds_plan(ds):
        raise ValueError("the Dataset holds no plan (no decision variables); nothing to check")
    out: list[Violation] = []
    reported = report.get("kpis") if isinstance(report, dict) else None
    if not isinstance(reported, dict):
        return [Violation("report.kpis", "missing", np.nan, np.nan)]
    _compare(recomputed_kpis(ds), reported, (), out)
    solver = report.get("solver", {})
    solver = solver if isinstance(solver, dict) else {}
    for field, key in (("objective", "objective"), ("mip_gap", "mip_gap"), ("bound", "best_bound")):
        expected = attr(ds, key)
        got = _number(solver.get(field))
        if not _close(got, expected, COST_ATOL if field != "mip_gap" else REPORT_ATOL):
            out.append(Violation(f"report.solver.{field}", "all", got, expected))
    if str(solver.get("status")) != str(ds.attrs.get("status")):
        out.append(
            Violation(
                "report.solver.status",
                f"reported {solver.get('status')!r}, Dataset {ds.attrs.get('status')!r}",
                np.nan,
                np.nan,
            )
        )
    return out


def _number(value) -> float:
    """A reported number as float (JSON null = NaN; anything else non-numeric = NaN)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return float("nan")
    return float(value)


def _close(got: float, expected: float, atol: float) -> bool:
    if np.isnan(expected) or np.isnan(got):
        return bool(np.isnan(expected) and np.isnan(got))
    return abs(got - expected) <= max(atol, REPORT_RTOL * abs(expected))


def _compare(expected, got, path: tuple[str, ...], out: list[Violation]) -> None:
    """Walk the recomputed KPIs and the reported ones side by side."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            out.append(_violation(path, _number(got), np.nan))
            return
        for key, value in expected.items():
            if key in got:
                _compare(value, got[key], (*path, key), out)
            else:  # missing from the report
                limit = np.nan if isinstance(value, dict) else float(value)
                out.append(_violation((*path, key), np.nan, limit))
        for key in got:
            if key not in expected:  # reported, but nothing the plan gives
                out.append(_violation((*path, key), _number(got[key]), np.nan))
        return
    value = _number(got)
    atol = COST_ATOL if path and path[0] == "cost" else REPORT_ATOL
    if not _close(value, float(expected), atol):
        out.append(_violation(path, value, float(expected)))


def _violation(path: tuple[str, ...], value: float, limit: float) -> Violation:
    """``report.<kpi>`` at ``<key>`` (nested keys joined by dots)."""
    check = "report." + (path[0] if path else "kpis")
    return Violation(check, ".".join(path[1:]) or "all", value, limit)


def certify_folder(
    directory: str | Path, tol: float = 1e-5, ds: xr.Dataset | None = None
) -> list[str]:
    """Check a saved results folder; returns the problems (empty when clean).

    Checks the manifest and every file's size and sha256, then (with a plan) the plan
    itself (:func:`certify` on ``result.nc``) and the reported KPIs against the recomputed
    ones (:func:`certify_report`); without a plan, that ``kpis.json`` says so. ``ds``: the
    Dataset of the folder's ``result.nc``, if already read (its file is still checked
    against the manifest).
    """
    from . import io

    folder = Path(directory)
    problems = io.verify_folder(folder)
    report_path = folder / "kpis.json"
    try:
        report = json.loads(report_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [*problems, "kpis.json missing"]
    except (OSError, ValueError) as exc:
        return [*problems, f"kpis.json unreadable ({type(exc).__name__})"]
    if not isinstance(report, dict):
        return [*problems, "kpis.json is not a JSON object"]
    has_plan = bool(report.get("solver", {}).get("has_solution")) or bool(report.get("kpis"))
    nc = folder / "result.nc"
    if not nc.is_file():
        if has_plan:
            manifest = io.read_manifest(folder) if (folder / io.MANIFEST).is_file() else {}
            if "netcdf" in manifest.get("formats", ["netcdf"]):
                problems.append("result.nc missing: kpis.json reports a plan")
            else:
                problems.append(
                    "result.nc not written (--formats without netcdf): the plan and KPIs "
                    "cannot be re-checked"
                )
        return problems
    try:
        ds = io.read_netcdf(nc) if ds is None else ds
    except Exception as exc:  # a corrupt file: name it, do not crash
        return [*problems, f"result.nc unreadable ({type(exc).__name__})"]
    if not holds_plan(ds):
        if has_plan:
            problems.append("result.nc holds no plan but kpis.json reports one")
        return problems
    if not has_plan:
        problems.append("kpis.json reports no plan but result.nc holds one")
    problems += [f"plan: {v}" for v in certify(ds, tol=tol)]
    problems += [f"report: {v}" for v in certify_report(ds, report)]
    return problems
