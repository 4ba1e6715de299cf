"""Pyomo as the extension layer over the vectorised model.

Every variable array of a family appears on its Pyomo Block as ``Var(Any, dense=False)``:
no Pyomo object exists until an index is used, so a year-long model costs nothing here,
while ``m.grid.p_grid["s1", t]`` in a user's constraint is an ordinary Pyomo variable. Index
keys are the Dataset labels, with periods as integers ``0..T-1`` (``m.TIME``); a sparse array
(``dc.x_run``) is indexed by its key coordinates (job, site, period). Expression outputs
(``dc.p_facility``) are offered as a read-only mapping that returns a Pyomo expression.

At hand-over (:mod:`suandian.highs`), the user's active Pyomo constraints are compiled with
Pyomo's ``LinearStandardFormCompiler`` and their variables mapped back to columns with
:func:`column_of`; variables the user adds on their own become extra columns. Values are
loaded back into every Pyomo variable that exists, and the duals of user constraints go to
the model's ``dual`` Suffix.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pyomo.environ as pyo

from .linear import Expr, LinearModel, Var

if TYPE_CHECKING:
    from .component import Context

_REGISTRY_ATTR = "_suandian_vars"


class _Keys:
    """Maps a Pyomo index to the flat cell of a variable array, built on first use."""

    def __init__(self, var: Var, dims: tuple[str, ...], ctx: Context):
        self.var = var
        self.dims = dims
        self.ctx = ctx
        self._maps: list[dict] | None = None
        self._sparse: dict | None = None

    def _labels(self, dim: str) -> list:
        if dim == "time":
            return list(range(self.ctx.T))
        return [str(v) for v in self.ctx.coords[dim]]

    def key_coords(self) -> list[str] | None:
        """Auxiliary coordinates forming the key of a sparse (one-dimension) array."""
        if len(self.dims) == 1:
            return self.ctx.coords.get(f"{self.dims[0]}:key")
        return None

    def cell(self, index: Any) -> int:
        """Flat cell of a Pyomo index; raises KeyError with the valid form if unknown."""
        index = index if isinstance(index, tuple) else (index,)
        aux = self.key_coords()
        try:
            if aux is not None:
                if self._sparse is None:
                    cols = [self.ctx.coords[a][1] for a in aux]
                    self._sparse = {
                        tuple(_plain(c[i]) for c in cols): i for i in range(len(cols[0]))
                    }
                return self._sparse[tuple(_plain(v) for v in index)]
            if self._maps is None:
                self._maps = [{v: i for i, v in enumerate(self._labels(d))} for d in self.dims]
            pos = tuple(m[_plain(v)] for m, v in zip(self._maps, index, strict=True))
            return int(np.ravel_multi_index(pos, self.var.shape)) if pos else 0
        except (KeyError, ValueError) as err:
            form = aux if aux is not None else list(self.dims)
            raise KeyError(
                f"{self.var.name}{list(index)} is not an index of this variable; its index "
                f"is ({', '.join(form)}) with periods as integers 0..T-1"
            ) from err

    def label(self, cell: int) -> tuple:
        """Pyomo index of a flat cell."""
        aux = self.key_coords()
        if aux is not None:
            return tuple(_plain(self.ctx.coords[a][1][cell]) for a in aux)
        pos = np.unravel_index(cell, self.var.shape)
        return tuple(self._labels(d)[p] for d, p in zip(self.dims, pos, strict=True))


def _plain(v: Any) -> Any:
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.str_):
        return str(v)
    return v


def attach_var(block: pyo.Block, name: str, var: Var, dims: tuple[str, ...], ctx: Context) -> None:
    """Put a lazily indexed Pyomo ``Var`` called ``name`` on ``block`` for ``var``."""
    pvar = pyo.Var(pyo.Any, dense=False, domain=pyo.Integers if var.integer else pyo.Reals)
    block.add_component(name, pvar)
    model = block.model()
    registry = model.__dict__.setdefault(_REGISTRY_ATTR, {})
    registry[id(pvar)] = (pvar, var, _Keys(var, dims, ctx))


class ExpressionView:
    """Read-only mapping ``index -> Pyomo expression`` of an expression output."""

    def __init__(
        self, block: pyo.Block, name: str, expr: Expr, ctx: Context, dims: tuple[str, ...]
    ):
        self._block = block
        self.name = name
        self.expr = expr
        self.ctx = ctx
        self.dims = dims
        self._order: np.ndarray | None = None
        self._keys: _Keys | None = None

    def __getitem__(self, index: Any) -> Any:
        model = self._block.model()
        if self._keys is None:  # index -> cell, built on first use
            shape_only = Var(self.name, np.zeros(self.expr.shape, np.int64))
            self._keys = _Keys(shape_only, self.dims, self.ctx)
        cell = self._keys.cell(index)
        e = self.expr
        if self._order is None:
            self._order = np.argsort(e.row, kind="stable")
        rows = e.row[self._order]
        lo, hi = np.searchsorted(rows, cell), np.searchsorted(rows, cell, side="right")
        lm = self.ctx.lm
        terms = [float(e.val[k]) * pyomo_var(model, lm, int(e.col[k])) for k in self._order[lo:hi]]
        return sum(terms) + float(e.const.ravel()[cell])


def attach_expression(
    block: pyo.Block, name: str, expr: Expr, ctx: Context, dims: tuple[str, ...]
) -> None:
    """Offer an expression output as ``block.<name>[index]`` (a Pyomo expression)."""
    setattr(block, name, ExpressionView(block, name, expr, ctx, dims))


def pyomo_var(model: pyo.Block, lm: LinearModel, col: int) -> Any:
    """The Pyomo variable of column ``col`` of ``lm`` on ``model`` (created on first use)."""
    var, cell = lm.var_of_column(col)
    for pvar, v, keys in model.__dict__[_REGISTRY_ATTR].values():
        if v is var:
            return pvar[keys.label(cell)]
    raise KeyError(col)


def column_of(model: pyo.Block, vardata: Any) -> int | None:
    """Column of a Pyomo variable of a family, or ``None`` for a user's own variable."""
    registry: dict[int, Any] = model.__dict__.get(_REGISTRY_ATTR, {})
    entry = registry.get(id(vardata.parent_component()))
    if entry is None:
        return None
    _, var, keys = entry
    col = int(var.cols.ravel()[keys.cell(vardata.index())])
    if col < 0:
        raise KeyError(f"{var.name}[{vardata.index()}] has no column (outside its index set)")
    return col


def family_vardata(model: pyo.Block) -> Iterator[tuple[Any, int]]:
    """Every Pyomo variable of a family that exists (was used), with its column."""
    for pvar, var, keys in model.__dict__.get(_REGISTRY_ATTR, {}).values():
        for index, vardata in pvar.items():
            col = int(var.cols.ravel()[keys.cell(index)])
            yield vardata, col
