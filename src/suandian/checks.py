"""Row tests over a result Dataset: the certifier's vocabulary, shared by every component.

A component's ``check(ds, rows)`` states its rows with :meth:`Rows.le`, :meth:`Rows.ge`,
:meth:`Rows.eq` and :meth:`Rows.zero_outside`; a row is violated when it misses by more than
``tol * max(floor, |scale|)`` (see :mod:`suandian.results.certifier`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

#: order of dimensions in ``Violation.where``
DIM_ORDER = (
    "scope",
    "workload",
    "job",
    "run",
    "corridor",
    "contract",
    "renewable",
    "storage",
    "node",
    "site",
    "time",
)


@dataclass(frozen=True)
class Violation:
    """One violated row of a check.

    Attributes
    ----------
    check : str
        The constraint family, named like the model component (``ledger.balance``).
    where : str
        The index of the row, e.g. ``site=cq_dc time=2026-07-15 10:15`` (``all`` for a
        scalar row).
    value : float
        The recomputed left-hand side (for a share or PUE row: the share or PUE achieved).
    limit : float
        The right-hand side it had to meet.
    """

    check: str
    where: str
    value: float
    limit: float

    def __str__(self) -> str:
        return (
            f"{self.check} at {self.where}: {self.value:.10g} against {self.limit:.10g} "
            f"(off by {self.value - self.limit:+.3g})"
        )


def normalise(ds: xr.Dataset) -> xr.Dataset:
    """Undo netCDF round-trip effects on flags (stored as integers) so they mask as bool."""
    held = ds.variables  # not ``ds[name]``: each builds a DataArray by a pass over them all
    flags = {
        name: ds[name].astype(bool)
        for name in ds.data_vars
        if held[name].attrs.get("units") == "bool" and held[name].dtype != bool
    }
    return ds.assign(flags) if flags else ds


def _da(x) -> xr.DataArray:
    return x if isinstance(x, xr.DataArray) else xr.DataArray(x)


def _label(dim: str, value) -> str:
    if dim == "time":
        return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")
    return str(value)


def attr(ds: xr.Dataset, name: str) -> float:
    """A numeric attribute of the Dataset (NaN when absent or not a number)."""
    value = ds.attrs.get(name, float("nan"))
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


class Rows:
    """Holds the Dataset, the tolerance and the violations found so far."""

    def __init__(self, ds: xr.Dataset, tol: float):
        self.ds = ds
        self.tol = float(tol)
        self.dt = float(ds.attrs["dt_hours"])
        self.out: list[Violation] = []
        caps = ds["block_capacity"].values if "block_capacity" in ds else np.zeros(0)
        #: compute rows are measured in blocks (the model's scaling): their absolute floor
        self.cs = float(caps.max()) if caps.size else 1.0
        #: the books of :func:`suandian.results.accounting.books`, set by the certifier
        self.books: dict = {}
        #: each component's :class:`~suandian.component.Account`, set by the certifier
        self.accounts: dict = {}
        #: the checks whose signed margins are kept (``margins``): a row ``lhs <= rhs`` has the
        #: margin ``rhs - lhs``, a row ``lhs >= rhs`` ``lhs - rhs`` (negative: missed by that
        #: much), in the row's unit; set by :func:`suandian.results.certifier.row_margins`
        self.watch: frozenset[str] = frozenset()
        self.margins: dict[str, xr.DataArray] = {}

    # ------------------------------------------------------------- row tests
    def _flag(self, check: str, bad: xr.DataArray, value, limit) -> None:
        if not np.asarray(bad.values).any():  # nothing to report: skip the broadcast
            return
        bad, value, limit = xr.broadcast(bad, _da(value), _da(limit))
        order = [d for d in DIM_ORDER if d in bad.dims]
        order += [str(d) for d in bad.dims if d not in order]
        bad, value, limit = (a.transpose(*order) for a in (bad, value, limit))
        mask = np.asarray(bad.values, dtype=bool)
        values, limits = np.asarray(value.values), np.asarray(limit.values)
        labels = [self._labeller(bad, d) for d in order]
        for ix in np.argwhere(mask):
            where = " ".join(label(i) for label, i in zip(labels, ix, strict=True)) or "all"
            key = tuple(ix)
            self.out.append(Violation(check, where, float(values[key]), float(limits[key])))

    def _labeller(self, arr: xr.DataArray, dim: str):
        """A function ``i -> self._where(arr, dim, i)``, reading the coordinates only once."""
        aux = [str(c) for c in arr.coords if str(c).startswith(f"{dim}_")]
        aux = [c for c in aux if arr[c].dims == (dim,)]
        if not aux:
            own = arr[dim].values
            return lambda i: f"{dim}={_label(dim, own[i])}"
        order = str(self.ds.attrs.get(f"{dim}_key", "")).split(",")
        aux.sort(key=lambda c: order.index(c) if c in order else len(order))
        columns = [(c.removeprefix(f"{dim}_"), arr[c].values) for c in aux]
        time = self.ds["time"].values if "time" in self.ds else np.zeros(0, "datetime64[ns]")

        def label(i: int) -> str:
            parts = []
            for name, column in columns:
                v = column[i]
                if name == "period":
                    name, v = "time", time[int(v)]
                parts.append(f"{name}={_label(name, v)}")
            return " ".join(parts)

        return label

    def _where(self, arr: xr.DataArray, dim: str, i: int) -> str:
        """``dim=label``; a cell of a sparse dimension by its key (``job=.. site=.. time=..``).

        The key is the array's coordinates ``<dim>_*`` along ``dim`` (in the order of the
        Dataset's ``<dim>_key`` attribute when it has one); ``*_period`` shows as ``time``.
        """
        return self._labeller(arr, dim)(i)

    def _row(self, check, sense, lhs, rhs, scale, floor, value, limit) -> None:
        """Flag rows ``lhs <sense> rhs`` missed by more than ``tol * max(floor, |scale|)``.

        One alignment, then plain numpy; a NaN ``rhs`` means no limit, a NaN ``lhs`` fails.
        """
        lhs, rhs = _da(lhs), _da(rhs)
        if check in self.watch and sense != "==":
            self.margins[check] = rhs - lhs if sense == "<=" else lhs - rhs
        scale = _da(rhs if scale is None else scale)
        plain = _broadcast_values(lhs, rhs, scale)
        if plain is None:  # labels to align: xarray's broadcast (outer join)
            arrays = xr.broadcast(lhs, rhs, scale)
            plain = [np.asarray(a.values, dtype=float) for a in arrays]
        shape = np.broadcast_shapes(*(a.shape for a in plain))
        left, right, size = plain
        thr = self.tol * np.maximum(floor, np.abs(size))
        with np.errstate(invalid="ignore"):  # in place: a year's cells are 10^7 per row test
            miss = np.asarray(right - left if sense == ">=" else left - right)
            if sense == "==":
                miss = np.abs(miss, out=miss) if miss.ndim else np.abs(miss)
            bad = np.empty(np.broadcast_shapes(miss.shape, np.shape(thr)), dtype=bool)
            np.less_equal(miss, thr, out=bad)
            np.logical_not(bad, out=bad)
        if np.isnan(right).any():
            bad &= ~np.isnan(right)
        if bad.any():
            first = xr.broadcast(lhs, rhs, scale)[0]
            self._flag(
                check,
                first.copy(data=np.array(np.broadcast_to(bad, shape))),
                lhs if value is None else value,
                rhs if limit is None else limit,
            )

    def le(self, check, lhs, rhs, scale=None, floor=1.0, value=None, limit=None) -> None:
        """Flag ``lhs <= rhs`` rows missed by more than the tolerance (NaN rhs: no limit)."""
        self._row(check, "<=", lhs, rhs, scale, floor, value, limit)

    def ge(self, check, lhs, rhs, scale=None, floor=1.0, value=None, limit=None) -> None:
        """Flag ``lhs >= rhs`` rows missed by more than the tolerance (NaN rhs: no limit)."""
        self._row(check, ">=", lhs, rhs, scale, floor, value, limit)

    def eq(self, check, lhs, rhs, scale=None, floor=1.0) -> None:
        """Flag ``lhs == rhs`` rows missed by more than the tolerance."""
        self._row(check, "==", lhs, rhs, scale, floor, None, None)

    def zero_outside(self, check, x, allowed, floor=1.0) -> None:
        """Flag non-zero values of ``x`` where ``allowed`` is False (outside the index set)."""
        x = _da(x)
        bad = ~_da(allowed) & ~(np.abs(x) <= self.tol * floor)
        self._flag(check, bad, x, 0.0)


def _broadcast_values(*arrays: xr.DataArray) -> list[np.ndarray] | None:
    """The values of ``xarray.broadcast(*arrays)`` as float arrays, without xarray's copies.

    Dimensions in order of first appearance, each array transposed to them with a length-1
    axis for each dimension it lacks (numpy broadcasts it in arithmetic), as
    ``xarray.broadcast`` lays them out when no labels need aligning: every dimension of one
    size throughout and every index along it equal. None when that does not hold (the caller
    then aligns with xarray). xarray's broadcast rebuilds each array and deep-copies its
    coordinates, element by element for labels of object dtype (a year's 127 k batch cells,
    seconds per row test).
    """
    sizes: dict = {}
    index: dict = {}
    for a in arrays:
        for d, n in zip(a.dims, a.shape, strict=True):
            if sizes.setdefault(d, n) != n:
                return None
        for d, idx in a.xindexes.items():
            if d not in a.dims:
                return None
            seen = index.setdefault(d, idx)
            if seen is not idx and not seen.equals(idx):
                return None
    dims = list(sizes)
    out = []
    for a in arrays:
        own = [d for d in dims if d in a.dims]
        values = np.asarray(a.values, dtype=float)
        values = np.transpose(values, [a.dims.index(d) for d in own]) if a.ndim > 1 else values
        out.append(values.reshape([sizes[d] if d in a.dims else 1 for d in dims]))
    return out


# ------------------------------------------------------------ Dataset-side helpers
def node_series(ds: xr.Dataset, name: str) -> xr.DataArray:
    """A node input (node, time) mapped to each site -> (site, time)."""
    return ds[name].sel(node=ds["site_node"]).drop_vars("node")


def by_site(da: xr.DataArray, site_of: xr.DataArray, sites: xr.DataArray) -> xr.DataArray:
    """Sum an (asset, time) array over the assets of each site -> (site, time)."""
    dim = da.dims[0]
    if not da.sizes[dim]:
        rest = [d for d in da.dims if d != dim]
        shape = [len(sites)] + [da.sizes[d] for d in rest]
        coords = {"site": sites, **{d: da[d] for d in rest if d in da.coords}}
        return xr.DataArray(np.zeros(shape), dims=["site", *rest], coords=coords)
    onehot = (site_of == sites).astype(float)  # (asset, site)
    return xr.dot(da, onehot, dim=[dim]).transpose("site", ...)


def site_time_zeros(ds: xr.Dataset) -> xr.DataArray:
    """Zeros over (site, time)."""
    return xr.DataArray(
        np.zeros((ds.sizes["site"], ds.sizes["time"])),
        dims=("site", "time"),
        coords={"site": ds["site"], "time": ds["time"]},
    )


def period_weight(ds: xr.Dataset) -> xr.DataArray | float:
    """Per-period weights ``w_t`` of the Dataset (``period_weight``), or 1.0 without them.

    Horizon sums and per-period costs of the books multiply by it: ``sum_t w_t * x_t * dt``.
    A plain 1.0 (not an array of ones) when absent, so the default figures are unchanged.
    """
    return ds["period_weight"] if "period_weight" in ds else 1.0


def previous(ds: xr.Dataset, x: xr.DataArray, initial) -> xr.DataArray:
    """``x`` of the previous period (time).

    ``initial`` before the first period, or with representative periods
    (``attrs['cycle_periods']`` = L) the last period of each block of L before its first (the
    state wraps around within each block).
    """
    cycle = ds.attrs.get("cycle_periods")
    if cycle is None:
        before = x.shift(time=1)
        before[{"time": 0}] = initial
        return before
    L = int(cycle)
    n = x.sizes["time"]
    order = np.arange(n)
    source = np.where(order % L == 0, order + L - 1, order - 1)
    return x.isel(time=source).assign_coords(time=x["time"])


def carbon_free(ds: xr.Dataset, flows) -> xr.DataArray:
    """Carbon-free MW entering each site per period, (site, time), from per-carrier flows.

    Every carrier of :data:`~suandian.component.CARRIERS` that states a ``carbon_free``
    share: a number (``green`` 1), ``own`` (``remote_cfe``: the flow is carbon-free MW), or
    the name of a node input (``grid_mix`` at ``grid_cfe`` of the site's node). What the
    ``cfe`` policy's row counts (docs/math/cfe.md); certificates carry no hour.
    """
    from .component import CARRIERS

    out = xr.zeros_like(flows["intake"], dtype=float)
    for carrier in CARRIERS.values():
        share = carrier.carbon_free
        if share is None or carrier.name not in flows:
            continue
        if share == "own":
            out = out + flows[carrier.name]
        elif isinstance(share, str):
            out = out + flows[carrier.name] * (node_series(ds, share) if share in ds else 0.0)
        elif share > 0.0:
            out = out + flows[carrier.name] * float(share)
    return out


def budget_weight(ds: xr.Dataset) -> xr.DataArray | float:
    """``w_t * b_t``: the period weights times ``budget_period`` (what annual budgets count).

    ``budget_period`` is 1 where a basis-``year`` row counts the period (0 in a rolling
    window's look-ahead, ``horizon.budget_periods``); absent, this is :func:`period_weight`.
    """
    w = period_weight(ds)
    return w * ds["budget_period"] if "budget_period" in ds else w


def counted_share(ds: xr.Dataset, intake: xr.DataArray, t: int) -> xr.DataArray:
    """Per site, the share of the counted consumption in periods ``0 .. t``.

    ``sum_{t' <= t} w b intake / sum_t w b intake`` (``budget_weight``; 1 where the site
    consumed nothing counted). Certificates have no time stamp: a horizon's certificates
    are spread over the periods its budgets count, pro rata to their consumption, when a
    part of the horizon is handed over (a rolling window's state and committed cost).
    """
    counted = intake * budget_weight(ds)
    total = counted.sum("time")
    upto = counted.isel(time=slice(0, t + 1)).sum("time")
    return (upto / total.where(total > 0)).fillna(1.0).clip(0.0, 1.0)


def committed_share(ds: xr.Dataset, t: int) -> float:
    """Share of the horizon's hours in its first ``t`` periods: ``sum_{t'<t} w / sum w``.

    A horizon cost charged pro rata to the hours (a fixed charge, a capacity annuity) owes
    this share of itself for the first ``t`` periods (``Component.commit_costs``).
    """
    w = period_weight(ds)
    T = ds.sizes["time"]
    if isinstance(w, float):
        return t / T if T else 0.0
    total = float(w.sum())
    return float(w.isel(time=slice(0, t)).sum()) / total if total else 0.0


def probability(ds: xr.Dataset) -> float:
    """Probability of the scenario (``attrs['probability']``, 1 when absent)."""
    return float(ds.attrs.get("probability", 1.0))
