"""``SweepResult``: the cases of a sweep as one xarray Dataset with a ``case`` dimension.

Made by :func:`suandian.sweep` (``docs/sweeps.md``). Per case: the swept values (coordinates
named by their paths), how the solve ended, the objective and gap, the cost by term, every
KPI of :attr:`suandian.Result.kpis` (green share, PUE, emissions, CFE, ...), the shadow
prices, the certifier's verdict, and, without a plan, the diagnosis or the error. No
schedule: a case's plan is re-made by solving its scenario
(:meth:`SweepResult.scenario_of`).

Saved folder (:meth:`SweepResult.save`, written whole like a single result,
:func:`suandian.results.io.write_folder`)::

    sweep.nc        the Dataset
    cases.csv       the same, one row per case (SweepResult.table())
    sweep.json      design, seed, paths, and per case the status, diagnosis, error and the
                    certifier's violations in full
    manifest.json   every file with its sha256
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import xarray as xr

from .._version import __version__
from . import io

if TYPE_CHECKING:
    from ..scenario import Scenario
    from .result import Result

#: files of a saved sweep (beside the manifest)
SWEEP_FILE, TABLE_FILE, REPORT_FILE = "sweep.nc", "cases.csv", "sweep.json"
#: violations kept as text per case in the Dataset (all of them go to ``sweep.json``)
SHOWN_VIOLATIONS = 5
#: dimension of a dict KPI whose keys are none of sites, scopes, terms, shadow prices
_DIMS = {"cost": "term", "shadow_prices": "shadow", "emissions_tco2": "basis"}


@dataclass
class CaseOutcome:
    """What one case of a sweep gave (made on the worker that solved it).

    Attributes
    ----------
    index : int
        The case's number (its position in the design).
    status : str
        The solve's status (:class:`~suandian.SolveInfo`), ``error`` (an exception inside the
        case) or ``lost`` (its task was lost more often than ``retries`` allows).
    objective, bound, mip_gap : float
        As :class:`~suandian.SolveInfo` reports them (NaN without a plan).
    kpis : dict
        :attr:`suandian.Result.kpis` (empty without a plan).
    violations : list of str or None
        The certifier's violations (empty: certified); None when there was no plan to certify.
    diagnosis : dict
        :meth:`suandian.Diagnosis.as_dict` of an infeasible case (else empty).
    diagnosis_text : str
        The diagnosis as printed.
    error : str
        The exception of a case that raised, or why it was lost.
    seconds : float
        Time on the worker (solve and certification).
    cpu_seconds : float
        CPU time of the worker process over the same span (below ``seconds`` x threads when
        the machine is shared).
    worker : str
        ``host:pid`` of the worker process that solved it.
    attempts : int
        Tasks submitted for it (more than 1 when a task was lost and submitted again).
    """

    index: int
    status: str
    objective: float = math.nan
    bound: float = math.nan
    mip_gap: float = math.nan
    kpis: dict[str, Any] = field(default_factory=dict)
    violations: list[str] | None = None
    diagnosis: dict[str, Any] = field(default_factory=dict)
    diagnosis_text: str = ""
    error: str = ""
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    worker: str = ""
    attempts: int = 1

    @property
    def certified(self) -> bool:
        """Whether the case has a plan and the certifier found nothing."""
        return self.violations is not None and not self.violations

    @property
    def verdict(self) -> str:
        """``certified``, ``N violation(s)``, ``no plan`` or ``error``."""
        if self.violations is None:
            return "error" if self.error else "no plan"
        return "certified" if not self.violations else f"{len(self.violations)} violation(s)"


def outcome_of(index: int, result: Result, violations: list[str] | None) -> CaseOutcome:
    """The outcome of a solved case (KPIs, not the schedule)."""
    d = result.diagnosis
    return CaseOutcome(
        index=index,
        status=result.status,
        objective=float(result.objective),
        bound=float(result.info.bound),
        mip_gap=float(result.mip_gap),
        kpis=_plain(result.kpis),
        violations=violations,
        diagnosis={} if d is None else _plain(d.as_dict()),
        diagnosis_text="" if d is None else str(d),
    )


def _plain(value: Any) -> Any:
    """KPIs as plain Python (floats, str, dicts, lists): small to send back, JSON-able."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class SweepResult:
    """The cases of a sweep.

    Attributes
    ----------
    ds : xarray.Dataset
        Dimension ``case``; coordinates named by the swept paths; variables ``status``,
        ``objective``, ``best_bound``, ``mip_gap``, ``certified``, ``violations`` (count,
        -1 without a plan), ``certifier`` (the first violations as text), ``diagnosis``,
        ``error``, ``seconds``, ``cpu_seconds``, ``worker``, ``attempts``, and one variable
        per KPI of :attr:`suandian.Result.kpis`: a number per case, or, for a KPI by key, a second
        dimension (``term`` for ``cost``, ``site``, ``scope`` (portfolio and sites),
        ``basis`` for ``emissions_tco2``, ``shadow`` for ``shadow_prices``, else
        ``<kpi>_key``). ``attrs``: design, paths, seed, scenario, scheduler, workers,
        wall seconds.
    outcomes : list of CaseOutcome
        Per case, with the diagnosis and violations in full (empty for a result read back:
        ``sweep.json`` holds them).
    scenario : Scenario or None
        The base scenario (None for a result read back).
    """

    def __init__(
        self,
        ds: xr.Dataset,
        outcomes: list[CaseOutcome] | None = None,
        scenario: Scenario | None = None,
        report: dict[str, Any] | None = None,
    ):
        self.ds = ds
        self.outcomes = outcomes or []
        self.scenario = scenario
        self._report = report

    # ------------------------------------------------------------------ build
    @classmethod
    def build(
        cls,
        scenario: Scenario,
        design: Any,
        outcomes: list[CaseOutcome],
        attrs: dict[str, Any] | None = None,
    ) -> SweepResult:
        """The Dataset of a finished sweep (``design``: :class:`suandian.run.sweep.Design`)."""
        outcomes = sorted(outcomes, key=lambda o: o.index)
        n = len(outcomes)
        cases = np.array([o.index for o in outcomes], dtype=np.int64)
        coords: dict[str, Any] = {"case": cases}
        for path in design.paths:
            values = [design.cases[o.index][path] for o in outcomes]
            coords[path] = ("case", _column(values))
        sites = [s.name for s in scenario.config.sites]
        data: dict[str, Any] = {
            "status": ("case", np.array([o.status for o in outcomes], dtype=object)),
            "objective": ("case", np.array([o.objective for o in outcomes], dtype=float)),
            "best_bound": ("case", np.array([o.bound for o in outcomes], dtype=float)),
            "mip_gap": ("case", np.array([o.mip_gap for o in outcomes], dtype=float)),
            "certified": ("case", np.array([o.certified for o in outcomes], dtype=bool)),
            "violations": (
                "case",
                np.array(
                    [-1 if o.violations is None else len(o.violations) for o in outcomes],
                    dtype=np.int64,
                ),
            ),
            "certifier": (
                "case",
                np.array(
                    ["\n".join((o.violations or [])[:SHOWN_VIOLATIONS]) for o in outcomes],
                    dtype=object,
                ),
            ),
            "diagnosis": ("case", np.array([o.diagnosis_text for o in outcomes], dtype=object)),
            "error": ("case", np.array([o.error for o in outcomes], dtype=object)),
            "seconds": ("case", np.array([o.seconds for o in outcomes], dtype=float)),
            "cpu_seconds": ("case", np.array([o.cpu_seconds for o in outcomes], dtype=float)),
            "worker": ("case", np.array([o.worker for o in outcomes], dtype=object)),
            "attempts": ("case", np.array([o.attempts for o in outcomes], dtype=np.int64)),
        }
        data.update(_kpi_variables(outcomes, sites, n))
        ds = xr.Dataset(data, coords=coords)
        ds["objective"].attrs["units"] = "CNY"
        if "cost" in ds:
            ds["cost"].attrs["units"] = "CNY"
        ds.attrs.update(
            {
                "kind": "suandian-sweep",
                "suandian": __version__,
                "scenario": scenario.config.name,
                "design": design.kind,
                "paths": json.dumps(design.paths, ensure_ascii=False),
                "seed": -1 if design.seed is None else int(design.seed),
                "cases": n,
                "certified": int(ds["certified"].sum()),
                **(attrs or {}),
            }
        )
        return cls(ds, outcomes, scenario)

    # ---------------------------------------------------------------- queries
    def __repr__(self) -> str:
        a = self.ds.attrs
        return (
            f"SweepResult({a.get('scenario')!r}: {self.ds.sizes['case']} cases, "
            f"{a.get('design')} over {', '.join(self.paths)}; "
            f"{int(self.ds['certified'].sum())} certified)"
        )

    @property
    def paths(self) -> list[str]:
        """The swept paths, in the order given."""
        return list(json.loads(self.ds.attrs.get("paths", "[]")))

    @property
    def failed(self) -> list[int]:
        """Cases without a certified plan (infeasible, errors, violations)."""
        return [int(c) for c in self.ds["case"].values[~self.ds["certified"].values]]

    @property
    def all_certified(self) -> bool:
        """Whether every case has a plan that the certifier found clean."""
        return bool(self.ds["certified"].all())

    def values_of(self, case: int) -> dict[str, Any]:
        """The swept values of one case, ``{path: value}``."""
        row = self.ds.sel(case=case)
        return {p: _scalar(row[p].values) for p in self.paths}

    def scenario_of(self, case: int) -> Scenario:
        """The validated scenario of one case (to solve it again, with its schedule)."""
        if self.scenario is None:
            raise ValueError("no base scenario (a sweep read back): load it and use sweep cases")
        from ..scenario.load import load_scenario
        from ..scenario.paths import FieldPath, apply, parse_path, resolve
        from ..scenario.rolling import raw_config

        raw = raw_config(self.scenario)
        for path, value in self.values_of(case).items():
            parsed: FieldPath = parse_path(path)
            steps, problem = resolve(raw, parsed)
            if problem is not None:  # pragma: no cover - checked before the sweep ran
                raise ValueError(str(problem))
            apply(raw, steps, value)
        return load_scenario(raw, series=self.scenario.series, base_dir=self.scenario.base_dir)

    def table(self) -> pd.DataFrame:
        """One row per case: swept values, status, objective, verdict, cost by term, KPIs.

        KPIs by key are flattened to columns ``<kpi>.<key>`` (``cost.total``,
        ``green_share.portfolio``, ``pue.cq_dc``, ``shadow_prices.<name>``).
        """
        ds = self.ds
        frame = pd.DataFrame({"case": ds["case"].values})
        for p in self.paths:
            frame[p] = ds[p].values
        for name in (
            "status",
            "objective",
            "best_bound",
            "mip_gap",
            "certified",
            "violations",
            "seconds",
            "cpu_seconds",
            "attempts",
        ):
            frame[name] = ds[name].values
        for key, da in ds.data_vars.items():
            name = str(key)
            if name in frame or da.dtype == object:
                continue
            if da.dims == ("case",):
                frame[name] = da.values
            elif len(da.dims) == 2:
                dim = da.dims[1]
                for label in da[dim].values:
                    column = da.sel({dim: label}).values
                    if not np.isnan(column).all():
                        frame[f"{name}.{label}"] = column
        for name in ("diagnosis", "error", "worker"):
            frame[name] = ds[name].values
        return frame

    def report(self) -> dict[str, Any]:
        """The content of ``sweep.json``: attrs and, per case, status, diagnosis and errors."""
        if self._report is not None:
            return self._report
        return {
            "sweep": {k: _plain(v) for k, v in self.ds.attrs.items()},
            "cases": [
                {
                    "case": o.index,
                    "values": self.values_of(o.index),
                    **{
                        k: v
                        for k, v in asdict(o).items()
                        if k in ("status", "objective", "mip_gap", "error", "worker", "attempts")
                    },
                    "certified": o.certified,
                    "violations": o.violations,
                    "diagnosis": o.diagnosis,
                }
                for o in self.outcomes
            ],
        }

    def summary(self) -> str:
        """A plain-text table: one line per case."""
        frame = self.table()
        keep = [
            "case",
            *self.paths,
            "status",
            "objective",
            "certified",
            *[c for c in frame.columns if c.startswith("green_share.")][:1],
        ]
        return str(frame[keep].to_string(index=False))

    # ----------------------------------------------------------------- export
    def save(self, directory: str | Path) -> list[Path]:
        """Write the sweep to ``directory`` whole (``sweep.nc``, ``cases.csv``, ``sweep.json``).

        Staged beside ``directory`` and swapped in at once, with ``manifest.json``, like
        :meth:`suandian.Result.save`; returns the paths written (the manifest last).

        Raises
        ------
        suandian.results.io.OutputError
            if ``directory`` is a file, read-only, or a folder holding other files.
        """
        table = self.table()
        report = self.report()

        def write(folder: Path) -> None:
            io.write_netcdf(self.ds, folder / SWEEP_FILE)
            io.atomic_write(
                folder / TABLE_FILE,
                lambda tmp: table.to_csv(tmp, index=False, float_format="%.17g"),
            )
            io.write_json(report, folder / REPORT_FILE)

        run = {
            "suandian": __version__,
            "kind": "sweep",
            "scenario": str(self.ds.attrs.get("scenario", "")),
            "cases": int(self.ds.sizes["case"]),
        }
        return io.write_folder(directory, write, run)


def read_sweep(path: str | Path) -> SweepResult:
    """Read a saved sweep (its folder or ``sweep.nc``) as a :class:`SweepResult`.

    ``sweep.json`` beside it (if there) gives :meth:`SweepResult.report`; ``outcomes`` and
    ``scenario`` are empty.
    """
    path = Path(path)
    file = path / SWEEP_FILE if path.is_dir() else path
    ds = io.read_netcdf(file)
    report_file = file.parent / REPORT_FILE
    report = None
    if report_file.is_file():
        report = json.loads(report_file.read_text(encoding="utf-8"))
    return SweepResult(ds, report=report)


def _column(values: list[Any]) -> np.ndarray:
    """A coordinate of swept values: numbers as numbers, anything else as text (JSON)."""
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64)
    if all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=float)
    return np.array(
        [v if isinstance(v, str) else json.dumps(_plain(v), default=str) for v in values],
        dtype=object,
    )


def _scalar(value: np.ndarray) -> Any:
    item = value.item() if hasattr(value, "item") else value
    if isinstance(item, str) and item[:1] in "[{":
        try:
            return json.loads(item)
        except ValueError:
            return item
    return item


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return None
    return float(value)


def _kpi_variables(outcomes: list[CaseOutcome], sites: list[str], n: int) -> dict[str, Any]:
    """One variable per KPI over the cases (dims as :class:`SweepResult` says), NaN if absent."""
    names: list[str] = []
    for o in outcomes:
        names += [k for k in o.kpis if k not in names]
    labels: dict[str, list[str]] = {}  # dimension -> its labels, first seen first
    shape: dict[str, str] = {}  # KPI -> its second dimension ("" for a number)
    for name in names:
        values = [o.kpis[name] for o in outcomes if name in o.kpis]
        if all(_number(v) is not None for v in values):
            shape[name] = ""
            continue
        if not all(isinstance(v, dict) for v in values):
            continue  # neither numbers nor a mapping of numbers: not a per-case figure
        keys: list[str] = []
        for v in values:
            keys += [k for k, x in v.items() if k not in keys and _number(x) is not None]
        if not keys:
            continue
        if name in _DIMS:
            dim = _DIMS[name]
        elif set(keys) <= set(sites):
            dim = "site"
        elif set(keys) <= {"portfolio", *sites}:
            dim = "scope"
        else:
            dim = f"{name}_key"
        shape[name] = dim
        labels.setdefault(dim, [])
        labels[dim] += [k for k in keys if k not in labels[dim]]
    if "site" in labels:  # sites in the scenario's order, scopes with the portfolio first
        labels["site"] = [s for s in sites if s in labels["site"]]
    if "scope" in labels:
        labels["scope"] = [s for s in ["portfolio", *sites] if s in labels["scope"]]
    out: dict[str, Any] = {}
    for name, dim in shape.items():
        if not dim:
            column = np.full(n, np.nan)
            for i, o in enumerate(outcomes):
                if name in o.kpis:
                    column[i] = float(o.kpis[name])
            out[name] = ("case", column)
            continue
        table = np.full((n, len(labels[dim])), np.nan)
        for i, o in enumerate(outcomes):
            for j, key in enumerate(labels[dim]):
                value = _number(o.kpis.get(name, {}).get(key))
                if value is not None:
                    table[i, j] = value
        out[name] = xr.DataArray(
            table, dims=("case", dim), coords={dim: np.array(labels[dim], dtype=object)}
        )
    return out


__all__ = ["CaseOutcome", "SweepResult", "outcome_of", "read_sweep"]
