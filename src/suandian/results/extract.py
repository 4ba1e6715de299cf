"""Solved model -> ``xarray.Dataset``, generic over the components' output tables.

Each output is filled straight from the solution vector (decisions: by the columns
recorded at build; expressions: evaluated from their entries), the dual vector (by the rows
recorded at build) or the data the component recorded (inputs). The Dataset is
self-contained: it carries every input the certifier and the books need, so a saved result
can be re-checked without the scenario (``role`` and ``units`` in every variable's attrs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from ..component import Recorded

if TYPE_CHECKING:
    from ..model import Model
    from ..scenario import Scenario

NAN = float("nan")

#: variables the model itself adds to the Dataset (beside the components' output tables):
#: name -> (dimensions, attributes); the data dictionary of the docs lists them too
MODEL_OUTPUTS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "period_weight": (
        ("time",),
        {
            "units": "1",
            "role": "input",
            "description": "hours a period stands for",
            "component": "model",
        },
    ),
    "cost_period": (
        ("cost_term", "time"),
        {
            "units": "CNY",
            "role": "expression",
            "description": "cost owed in each period by the per-period cost terms "
            "(weights and probability in)",
            "component": "model",
        },
    ),
}


def _value(rec: Recorded, x: np.ndarray, y: np.ndarray | None, relaxed: bool) -> np.ndarray:
    """The values of one recorded output at the solution ``x`` (and duals ``y``)."""
    o = rec.output
    if o.role == "decision" and rec.var is not None:
        cols = rec.var.cols
        out = np.where(cols >= 0, x[np.maximum(cols, 0)] if len(x) else 0.0, 0.0) * rec.scale
        if o.integer and not relaxed:
            out = np.round(out).astype(np.int64)
        return out
    if o.role == "expression" and rec.expr is not None:
        return rec.expr.value(x) * rec.scale
    if o.role == "dual":
        rows = rec.rows.rows
        factor = rec.dual_factor(x) if callable(rec.dual_factor) else rec.dual_factor
        if y is None:
            return np.full(rows.shape, NAN)
        return np.where(rows >= 0, y[np.maximum(rows, 0)] if len(y) else NAN, NAN) * factor
    if rec.data is None:
        raise ValueError(f"output {o.name!r} ({o.role}) recorded no columns, expression or data")
    return rec.data


def build_dataset(m: Model) -> xr.Dataset:
    """Return the schedule, inputs and duals of a solved model as a Dataset."""
    built = m.built
    sc = built.scenario
    x, y, relaxed = built.lm.x, built.lm.y, built.lm.relaxed
    if x is None:
        raise ValueError("build_dataset: the model holds no solution (solve it first)")
    unit = sc.config.compute_unit
    ctx = built.ctx
    coords: dict[str, Any] = {}
    keys = {}
    for name, value in ctx.coords.items():
        if name.endswith(":key"):  # the labels of a sparse dimension's cells
            keys[f"{name[:-4]}_key"] = ",".join(value)
            continue
        coords[name] = value
    # variables as (dims, values, attrs): the Dataset is built once, without aligning ~250
    # DataArrays (measured: the window's extraction in a rolling horizon)
    data: dict[str, tuple[tuple[str, ...], Any, dict[str, Any]]] = {}
    attrs = {
        "scenario": sc.config.name,
        "compute_unit": unit,
        "dt_hours": sc.dt,
        "resolution": sc.config.horizon.resolution,
        "components": ",".join(built.builders),
        "relaxed": int(relaxed),
        "has_plan": 1,
        **keys,
    }
    for fb in built.builders.values():
        for name, rec in fb.recorded.items():
            o = rec.output
            values = _value(rec, x, y, relaxed)
            data[name] = (
                tuple(o.dims),
                values,
                {
                    "units": o.unit.replace("{compute}", unit),
                    "role": o.role,
                    "description": o.doc,
                    "component": fb.component.name,
                },
            )
        attrs.update(fb.attrs)
    if ctx.weighted:  # representative periods: the books recompute with the same weights
        dims, attrs_ = MODEL_OUTPUTS["period_weight"]
        data["period_weight"] = (dims, np.asarray(ctx.weights, dtype=float), dict(attrs_))
    if ctx.probability != 1.0:
        attrs["probability"] = ctx.probability
    if built.lm.user_objective is not None:  # a user's Pyomo objective terms, at the plan
        attrs["user_objective"] = float(built.lm.user_objective)
    if ctx.cycle is not None:  # representative periods: stored energy wraps around in each
        attrs["cycle_periods"] = int(ctx.cycle)
    series = {k: e for fb in built.builders.values() for k, e in fb.cost_series.items()}
    if series:
        coords["cost_term"] = np.array(list(series), dtype=object)
        dims, attrs_ = MODEL_OUTPUTS["cost_period"]
        values = np.array([e.value(x) for e in series.values()], dtype=float)
        data["cost_period"] = (dims, values.reshape(len(series), ctx.T), dict(attrs_))
    horizon = [k for fb in built.builders.values() for k in fb.horizon_terms]
    attrs["horizon_cost_terms"] = ",".join(horizon)
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    for fb in built.builders.values():
        derive = fb.component.derive
        if derive is not None:
            for name, values in derive(ds).items():
                # in place (same dims, attrs and dtype): ``ds[name] = ...`` would merge the
                # whole Dataset again
                held = ds.variables[name]
                held.values = np.asarray(values).astype(held.dtype)
    return ds


def empty_dataset(sc: Scenario) -> xr.Dataset:
    """Dataset with only the time and site coordinates (no plan was found)."""
    return xr.Dataset(
        coords={
            "time": sc.time.values,
            "site": np.array([s.name for s in sc.config.sites], dtype=object),
        },
        attrs={"scenario": sc.config.name, "dt_hours": sc.dt, "has_plan": 0},
    )


def has_plan(ds: xr.Dataset) -> bool:
    """Whether a result Dataset holds a plan (attribute ``has_plan``).

    A Dataset saved before the attribute existed holds a plan if it has the grid's decisions.
    """
    if "has_plan" in ds.attrs:
        return bool(int(ds.attrs["has_plan"]))
    return "p_grid" in ds
