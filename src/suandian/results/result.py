"""``Result``: schedule (xarray), KPIs, books, solver report, certification and export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from .._version import __version__
from ..catalogue import known
from . import io
from .accounting import books, flows, shadow_prices
from .extract import build_dataset, empty_dataset, has_plan

if TYPE_CHECKING:
    from ..checks import Violation
    from ..highs import SolveInfo
    from ..model import Model
    from ..scenario import Scenario
    from .diagnosis import Diagnosis


class Result:
    """The outcome of a solve.

    Attributes
    ----------
    ds : xarray.Dataset
        Decisions, inputs and duals (``role`` and ``units`` in each variable's attrs).
    info : SolveInfo
        Status, objective, bound, gap, timings and problem size.
    diagnosis : Diagnosis or None
        For an infeasible scenario: how far the targets can be met and what binds.
    """

    def __init__(self, ds: xr.Dataset, info: SolveInfo, diagnosis: Diagnosis | None = None):
        self.ds = ds
        self.info = info
        self.diagnosis = diagnosis

    @classmethod
    def from_model(cls, model: Model, info: SolveInfo) -> Result:
        """Build a Result from a solved model.

        A block of a shared model (``build_model(..., lm=shared)``) reports its own objective
        (its cost terms at the solution, probability included) rather than the joint one,
        so its Result certifies on its own; its ``bound`` is then NaN (the joint bound
        bounds no single block) and ``mip_gap`` is the joint solve's.
        """
        built = model.built
        x = built.lm.x
        if built.shared and x is not None:
            from dataclasses import replace

            own = sum(float(e.value(x).sum()) for e in built.objective_terms)
            info = replace(info, objective=own, bound=float("nan"))
        ds = build_dataset(model)
        ds.attrs.update(_info_attrs(info))
        return cls(ds, info)

    @classmethod
    def empty(cls, scenario: Scenario, info: SolveInfo) -> Result:
        """A Result without a plan (infeasible, error)."""
        ds = empty_dataset(scenario)
        ds.attrs.update(_info_attrs(info))
        return cls(ds, info)

    def __repr__(self) -> str:
        return (
            f"Result(status={self.status!r}, objective={self.objective:,.0f} CNY, "
            f"gap={self.info.mip_gap:.2e})"
        )

    # ---------------------------------------------------------------- status
    @property
    def status(self) -> str:
        """How the solve ended (see :class:`~suandian.SolveInfo`)."""
        return self.info.status

    @property
    def has_plan(self) -> bool:
        """Whether the result holds a schedule."""
        return self.info.has_solution

    @property
    def objective(self) -> float:
        """Total cost of the plan (CNY), as reported by the solver."""
        return self.info.objective

    @property
    def mip_gap(self) -> float:
        """Relative gap between the plan and the best bound."""
        return self.info.mip_gap

    # ------------------------------------------------------------------ books
    @cached_property
    def kpis(self) -> dict:
        """KPIs computed from the Dataset alone (see :mod:`suandian.results.accounting`)."""
        if not self.has_plan:
            return {}
        out = books(self.ds)
        out["shadow_prices"] = shadow_prices(self.ds)
        return out

    def kpi_frame(self) -> pd.DataFrame:
        """The KPIs as a tidy table: columns ``kpi``, ``key`` (site, term, ...) and ``value``."""
        rows = []
        for kpi, value in self.kpis.items():
            if isinstance(value, dict):
                rows += [(kpi, str(k), float(v)) for k, v in value.items()]
            else:
                rows.append((kpi, "", float(value)))
        return pd.DataFrame(rows, columns=["kpi", "key", "value"])

    @property
    def costs(self) -> dict[str, float]:
        """Cost by term (CNY) and the total."""
        return self.kpis.get("cost", {})

    def schedule(self, name: str) -> xr.DataArray:
        """One schedule variable, e.g. ``result.schedule('p_grid')``."""
        return self.ds[name]

    def batch_schedule(self) -> xr.DataArray:
        """Batch compute run as a dense (job, site, time) array (``x_run`` is stored sparse)."""
        from ..components.datacenter import batch_dense

        return batch_dense(self.ds)

    def final_state(self, period: int | None = None) -> dict:
        """The state at the end of ``period`` (default: the last), by family.

        A plain, JSON-able dict ``{component name: entry}`` read from the Dataset alone by
        each family's ``state_out`` (battery charge, tank charge, blocks on and hours in that
        state, batch work done, meter peaks of the billing month, year-to-date energies);
        hand it to :meth:`Scenario.with_state` of the scenario that follows. Fields and units:
        ``docs/scenario-format.md``, "State and windows".

        Raises
        ------
        ValueError
            if the result holds no plan, or ``period`` is outside the horizon.
        """
        if not self.has_plan:
            raise ValueError(f"no plan to read a state from (status {self.status!r})")
        T = self.ds.sizes["time"]
        t = T - 1 if period is None else int(period)
        if not -T <= t < T:
            raise ValueError(f"period {period} is outside the horizon's {T} periods")
        return state_at(self.ds, t % T)

    def certify(self, tol: float = 1e-5) -> list[Violation]:
        """Re-check the plan from the Dataset alone; returns the violations (empty if none).

        Raises
        ------
        ValueError
            if the result holds no plan (infeasible, error).
        """
        from .certifier import certify

        if not self.has_plan:
            raise ValueError(f"no plan to certify (status {self.status!r})")
        return certify(self.ds, tol=tol)

    # ----------------------------------------------------------------- export
    def save(
        self,
        directory: str | Path,
        formats: tuple[str, ...] = io.FORMATS,
        extra: Callable[[Path], None] | None = None,
    ) -> list[Path]:
        """Write the result to ``directory`` as one whole folder (see :mod:`suandian.results.io`).

        With a plan: ``result.nc``, ``parquet/``, ``csv/`` (the chosen ``formats``),
        ``kpis.json`` and ``manifest.json``; without one (infeasible, error): ``kpis.json``
        (solver report and diagnosis) and ``manifest.json``. Everything is staged beside
        ``directory`` and swapped in whole, so no file of an earlier run remains and a reader
        never sees two runs mixed.

        ``extra(folder)`` writes further files into the staging folder (a replay's tables:
        their names must be among :data:`suandian.results.io.RESULT_ENTRIES`).

        Returns the paths written (the manifest last).

        Raises
        ------
        ValueError
            for an unknown format.
        suandian.results.io.OutputError
            if ``directory`` is a file, read-only, or a folder holding other files.
        """
        unknown = set(formats) - set(io.FORMATS)
        if unknown:
            raise ValueError(f"unknown format(s) {sorted(unknown)}; use some of {io.FORMATS}")
        chosen = [f for f in io.FORMATS if f in formats] if self.has_plan else []

        def write(folder: Path) -> None:
            if "netcdf" in chosen:
                io.write_netcdf(self.ds, folder / "result.nc")
            frames: dict = {}  # the long tables, built once for both formats
            for fmt in ("parquet", "csv"):
                if fmt in chosen:
                    io.write_tables(self.ds, folder / fmt, fmt, frames)
            io.write_json(self.report(), folder / "kpis.json")
            if extra is not None:
                extra(folder)

        run = {
            "suandian": __version__,
            "scenario": str(self.ds.attrs.get("scenario", "")),
            "status": self.status,
            "formats": chosen,
        }
        return io.write_folder(directory, write, run)

    def report(self) -> dict:
        """The content of ``kpis.json``: solver report, KPIs and (if any) the diagnosis."""
        report = {"solver": asdict(self.info), "kpis": self.kpis}
        if self.diagnosis is not None:
            report["diagnosis"] = self.diagnosis.as_dict()
        return report

    def summary(self) -> str:
        """A plain-text KPI table."""
        from .report import summary

        return summary(self)


def state_at(ds: xr.Dataset, t: int, f: xr.Dataset | None = None) -> dict:
    """The state at the end of period ``t`` of the plan in ``ds`` (``Result.final_state``).

    ``f``: the plan's per-site flows (:func:`~suandian.results.accounting.flows`), if at hand.
    """
    f = flows(ds) if f is None else f
    state = {}
    for c in known(ds):
        if c.state_out is not None:
            entry = c.state_out(ds, t, f)
            if entry:
                state[c.name] = entry
    return state


def read_result(path: str | Path) -> Result:
    """Read a saved result (``result.nc`` or the directory holding it) as a :class:`Result`.

    The solver report is rebuilt from the Dataset's attributes (timings and size come from
    ``kpis.json`` when it sits beside the file); a re-read Result certifies identically.
    """
    import json

    from ..highs import SolveInfo

    path = Path(path)
    file = path / "result.nc" if path.is_dir() else path
    ds = io.read_netcdf(file)
    report = file.parent / "kpis.json"
    solver = {}
    if report.is_file():
        solver = json.loads(report.read_text(encoding="utf-8")).get("solver", {})
    a = ds.attrs
    info = SolveInfo(
        status=str(a.get("status", "")),
        highs_status=str(a.get("highs_status", "")),
        objective=float(a.get("objective", np.nan)),
        bound=float(a.get("best_bound", np.nan)),
        mip_gap=float(a.get("mip_gap", np.nan)),
        has_solution=has_plan(ds),
        timings=solver.get("timings", {}),
        size=solver.get("size", {}),
    )
    return Result(ds, info)


def _info_attrs(info: SolveInfo) -> dict:
    return {
        "status": info.status,
        "highs_status": info.highs_status,
        "objective": info.objective,
        "best_bound": info.bound,
        "mip_gap": info.mip_gap,
    }
