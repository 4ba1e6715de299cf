"""Warm starts of a rolling horizon: the previous window's plan shifted by the committed part.

Math and measurements: ``docs/math/rolling.md`` ("Warm start"). Window ``k + 1`` starts
``C`` periods after window ``k``, so its first ``n - C`` periods are window ``k``'s look-ahead,
already planned. :func:`shifted` maps every column of the new window's model to the column
of the previous window's model that holds the same decision (same variable, same labels
other than time, time ``t + C``); the new tail, beyond the previous window's end, repeats
the plan one day earlier (``t + C - P`` with ``P`` the periods of a day, again while it
lies beyond the end). Decisions without a time axis (a chosen capacity, an annual slack)
are copied. The result is a hint, not a plan: :func:`suandian.run.mip_start.construct`
fixes its integer columns (rounded and clipped to the new bounds) and repairs the
continuous ones with an LP, so the start HiGHS gets is feasible whatever the hint was;
when that LP is infeasible the constructive start goes on as without a hint.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..linear import LinearModel
from ..results import io

#: A window's plan by variable: qualified name -> (dims, values over the variable's cells,
#: NaN where a cell has no column)
Plan = dict[str, tuple[tuple[str, ...], np.ndarray]]


def plan_of(lm: LinearModel) -> Plan | None:
    """The plan of a solved model by variable (None without a plan).

    Variables of unknown dims are left out (they cannot be shifted).
    """
    if lm.x is None:
        return None
    x = lm.x
    return {
        v.name: (v.dims, np.where(v.cols >= 0, x[np.maximum(v.cols, 0)], np.nan))
        for v in lm.var_order
        if v.dims is not None
    }


def write_plan(plan: Plan, path: Path) -> None:
    """Write ``plan`` as ``.npz`` (one array per variable, dims in ``__dims__``), atomically."""
    arrays = {name: values for name, (_, values) in plan.items()}
    dims = json.dumps({name: list(d) for name, (d, _) in plan.items()})

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, __dims__=np.array(dims), **arrays)  # type: ignore[arg-type]

    io.atomic_write(path, write)


def read_plan(path: Path) -> Plan | None:
    """The plan :func:`write_plan` wrote (None if there is no such file)."""
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as held:
        dims = json.loads(str(held["__dims__"]))
        return {name: (tuple(d), np.asarray(held[name])) for name, d in dims.items()}


def shifted(prev: Plan, new: LinearModel, by: int, day: int) -> np.ndarray:
    """Column values for ``new`` from the plan ``prev`` shifted by ``by`` periods.

    Parameters
    ----------
    prev : Plan
        The previous window's plan by variable (:func:`plan_of`).
    new : LinearModel
        The next window's model, built.
    by : int
        Periods between the two windows' starts (the committed part, ``C``).
    day : int
        Periods of a day: a period of the new window beyond the end of the previous one
        takes the value ``day`` periods earlier (repeatedly), i.e. the previous window's
        last planned day repeated; 0: NaN there (no hint).

    Returns
    -------
    numpy.ndarray
        One value per column of ``new``, NaN where nothing matches (a variable the previous
        window did not have, or another shape).
    """
    out = np.full(new.n_cols, np.nan)
    for var in new.var_order:
        held = prev.get(var.name)
        if held is None or var.dims is None or held[0] != var.dims:
            continue
        values = held[1]
        if "time" not in var.dims:  # its labels (a job's runs, a corridor's blocks) are the
            continue  # window's own: left to the roundings of the LP relaxation
        axis = var.dims.index("time")
        rest_old = values.shape[:axis] + values.shape[axis + 1 :]
        rest_new = var.shape[:axis] + var.shape[axis + 1 :]
        if rest_old != rest_new:
            continue
        source = _source(var.shape[axis], values.shape[axis], by, day)
        values = np.take(values, np.maximum(source, 0), axis=axis)
        if (source < 0).any():
            shape = [1] * values.ndim
            shape[axis] = len(source)
            values = np.where((source < 0).reshape(shape), np.nan, values)
        keep = var.cols >= 0
        out[var.cols[keep]] = values[keep]
    return out


def _source(n_new: int, n_old: int, by: int, day: int) -> np.ndarray:
    """For each period of the new window, its period in the previous one (-1: none)."""
    source = np.arange(n_new) + by
    if day > 0:
        while (over := source >= n_old).any():
            source[over] -= day
    source[(source < 0) | (source >= n_old)] = -1
    return source
