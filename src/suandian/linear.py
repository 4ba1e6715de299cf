"""A small vectorised linear-model layer: named variable and constraint arrays over numpy.

Every component family writes its variables and constraints here as whole arrays (indexed
by site x period, asset x period, ...), not one Pyomo object per index. The model is kept in
standard form — columns with bounds and integrality, rows as COO triplets with a sense and a
right-hand side — so the hand-over to HiGHS is one ``passModel`` of arrays, and results are
read straight from the solution and dual vectors by the column and row indices recorded
here. Pyomo stays the extension layer: :mod:`suandian.pyomo_bridge` exposes every variable
array as a Pyomo ``Var`` (created lazily, index by index) so users can add Pyomo constraints.

Why not Pyomo components for the families: measured on this project (docs/solver.md,
``benchmarks/``), the Pyomo build plus standard-form compile of an 8,760 h x 10-site model took
22 s against well under 1 s for the same rows assembled here; Pyomo's templatized
constraints only halve the build (``../shared/reference/pyomo-highs-performance.md`` §3).

Classes
-------
Var
    A named array of columns (``cols``: column index per cell, -1 where the cell has none).
Expr
    A linear expression per cell of an array shape: COO entries ``(row, col, val)`` plus a
    constant per cell. Arithmetic (``+``, ``-``, ``*`` by arrays), ``sum`` over an axis,
    ``shift`` along an axis and ``group`` of an axis into labels are vectorised.
LinearModel
    Columns, constraint blocks and the objective; assembles the CSC matrix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

INF = np.inf
#: rounds of :meth:`LinearModel.implied_bounds` at most
IMPLIED_ROUNDS = 20


class Expr:
    """A linear expression for every cell of an array of shape ``shape``.

    Attributes
    ----------
    shape : tuple of int
        Shape of the cell array (``()`` for a scalar).
    row : numpy.ndarray
        Flat cell index of each entry (int64).
    col : numpy.ndarray
        Column of each entry (int64).
    val : numpy.ndarray
        Coefficient of each entry (float).
    const : numpy.ndarray
        Constant term per cell, of shape ``shape``.
    """

    __slots__ = ("shape", "row", "col", "val", "const")

    def __init__(self, shape, row, col, val, const=None):
        self.shape = tuple(int(n) for n in shape)
        self.row = np.asarray(row, dtype=np.int64)
        self.col = np.asarray(col, dtype=np.int64)
        self.val = np.asarray(val, dtype=float)
        self.const = (
            np.zeros(self.shape) if const is None else np.broadcast_to(const, self.shape).copy()
        )

    # ------------------------------------------------------------ constructors
    @classmethod
    def zeros(cls, shape) -> Expr:
        """The expression 0 in every cell."""
        empty = np.empty(0, dtype=np.int64)
        return cls(shape, empty, empty, np.empty(0))

    @classmethod
    def constant(cls, value, shape) -> Expr:
        """A constant (array) expression."""
        e = cls.zeros(shape)
        e.const = np.broadcast_to(np.asarray(value, dtype=float), e.shape).copy()
        return e

    @classmethod
    def cells(cls, shape, cell, col, val=1.0) -> Expr:
        """Entries ``val * x[col]`` added to cells ``cell`` (flat or a tuple of index arrays)."""
        if isinstance(cell, tuple):
            cell = np.ravel_multi_index(cell, shape) if len(shape) else np.zeros_like(col)
        cell = np.asarray(cell, dtype=np.int64)
        col = np.asarray(col, dtype=np.int64)
        val = np.broadcast_to(np.asarray(val, dtype=float), col.shape)
        keep = col >= 0
        return cls(shape, cell[keep], col[keep], val[keep])

    # -------------------------------------------------------------- arithmetic
    def copy(self) -> Expr:
        """An independent copy."""
        return Expr(self.shape, self.row.copy(), self.col.copy(), self.val.copy(), self.const)

    def _coerce(self, other) -> Expr:
        if isinstance(other, Expr):
            return other
        if isinstance(other, Var):
            return other.expr()
        return Expr.constant(other, self.shape)

    def __add__(self, other) -> Expr:
        other = self._coerce(other)
        if other.shape != self.shape:
            if other.shape == () and not len(other.row):
                return Expr(self.shape, self.row, self.col, self.val, self.const + other.const)
            raise ValueError(f"cannot add expressions of shapes {self.shape} and {other.shape}")
        return Expr(
            self.shape,
            np.concatenate((self.row, other.row)),
            np.concatenate((self.col, other.col)),
            np.concatenate((self.val, other.val)),
            self.const + other.const,
        )

    __radd__ = __add__

    def __neg__(self) -> Expr:
        return Expr(self.shape, self.row, self.col, -self.val, -self.const)

    def __sub__(self, other) -> Expr:
        return self + (-self._coerce(other))

    def __rsub__(self, other) -> Expr:
        return (-self) + other

    def __mul__(self, factor) -> Expr:
        a = np.asarray(factor, dtype=float)
        if a.ndim == 0:
            return Expr(self.shape, self.row, self.col, self.val * float(a), self.const * float(a))
        a = np.broadcast_to(a, self.shape)
        return Expr(self.shape, self.row, self.col, self.val * a.ravel()[self.row], self.const * a)

    __rmul__ = __mul__

    def __truediv__(self, factor) -> Expr:
        return self * (1.0 / np.asarray(factor, dtype=float))

    # ----------------------------------------------------------------- reshaping
    def sum(self, axis: int | tuple[int, ...] | None = None) -> Expr:
        """Sum over one or more axes (all axes when ``None``)."""
        if axis is None:
            axis = tuple(range(len(self.shape)))
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        axes = tuple(a % len(self.shape) for a in axes)
        keep = [i for i in range(len(self.shape)) if i not in axes]
        shape = tuple(self.shape[i] for i in keep)
        if not len(self.row):
            row = self.row
        else:
            idx = np.unravel_index(self.row, self.shape)
            row = (
                np.ravel_multi_index(tuple(idx[i] for i in keep), shape)
                if keep
                else np.zeros_like(self.row)
            )
        return Expr(shape, row, self.col, self.val, self.const.sum(axis=axes))

    def shift(self, axis: int, by: int = 1) -> Expr:
        """Cell ``i`` takes the value of cell ``i - by`` along ``axis``; cells shifted in are 0.

        ``e.shift(1)`` on a (site, time) array is the previous period's expression.
        """
        n = self.shape[axis]
        idx = list(np.unravel_index(self.row, self.shape))
        idx[axis] = idx[axis] + by
        keep = (idx[axis] >= 0) & (idx[axis] < n)
        row = np.ravel_multi_index(tuple(i[keep] for i in idx), self.shape)
        const = np.roll(self.const, by, axis=axis)
        sl = [slice(None)] * len(self.shape)
        sl[axis] = slice(0, by) if by >= 0 else slice(n + by, n)
        const[tuple(sl)] = 0.0
        return Expr(self.shape, row, self.col[keep], self.val[keep], const)

    def roll_within(self, axis: int, block: int) -> Expr:
        """A cyclic shift inside each block of ``block`` cells along ``axis``.

        Cell ``i`` takes cell ``i - 1``, the first cell of each block the block's last.

        ``e.roll_within(1, 24)`` on a (unit, time) array of representative days: the previous
        period, the day's last hour before its first (each day wraps around).
        """
        n = self.shape[axis]
        idx = list(np.unravel_index(self.row, self.shape))
        t = idx[axis]
        idx[axis] = np.where(t % block == block - 1, t - (block - 1), t + 1)
        row = np.ravel_multi_index(tuple(idx), self.shape)
        moved = np.moveaxis(self.const, axis, -1)
        lead = moved.shape[:-1]
        rolled = np.roll(moved.reshape(*lead, n // block, block), 1, axis=-1).reshape(moved.shape)
        const = np.moveaxis(rolled, -1, axis)
        return Expr(self.shape, row, self.col.copy(), self.val.copy(), const)

    def group(self, axis: int, labels, size: int) -> Expr:
        """Sum the cells along ``axis`` into ``size`` groups (``labels[i]``: group of ``i``).

        A label of -1 drops the cell. Used e.g. to sum assets into their sites.
        """
        labels = np.asarray(labels, dtype=np.int64)
        dims = list(self.shape)
        dims[axis] = int(size)
        shape = tuple(dims)
        idx = list(np.unravel_index(self.row, self.shape))
        idx[axis] = labels[idx[axis]]
        keep = idx[axis] >= 0
        row = np.ravel_multi_index(tuple(i[keep] for i in idx), shape)
        const = np.zeros(shape)
        moved = np.moveaxis(self.const, axis, 0)
        target = np.moveaxis(const, axis, 0)
        ok = labels >= 0
        np.add.at(target, labels[ok], moved[ok])
        return Expr(shape, row, self.col[keep], self.val[keep], const)

    def where(self, mask) -> Expr:
        """The expression in the cells where ``mask`` holds, 0 (no entries) elsewhere.

        Unlike ``self * mask``, which keeps every entry (with a coefficient of 0 outside the
        mask), the entries outside are dropped: a sum or an :meth:`expand` of the result then
        carries only the entries of the cells kept.
        """
        m = np.broadcast_to(np.asarray(mask, dtype=bool), self.shape)
        keep = m.ravel()[self.row]
        return Expr(self.shape, self.row[keep], self.col[keep], self.val[keep], self.const * m)

    def expand(self, shape, axis: int, mask=None) -> Expr:
        """Insert a new axis at ``axis`` and broadcast to ``shape`` (repeats the entries).

        With ``mask`` (broadcast to ``shape``), the entries are repeated into the cells where
        it holds only, the other cells are 0: ``e.expand(shape, axis, mask)`` equals
        ``e.expand(shape, axis).where(mask)`` without making the entries it would drop (an
        event's window-long sum expanded to a year's periods would be events x periods x
        window entries).
        """
        shape = tuple(int(n) for n in shape)
        n = shape[axis]
        if mask is not None:
            return self._expand_into(shape, axis, np.broadcast_to(np.asarray(mask, bool), shape))
        idx = list(np.unravel_index(self.row, self.shape))
        reps = len(self.row)
        new_idx = [np.repeat(i, n) for i in idx]
        new_idx.insert(axis, np.tile(np.arange(n), reps))
        row = np.ravel_multi_index(tuple(new_idx), shape)
        const = np.broadcast_to(np.expand_dims(self.const, axis), shape)
        return Expr(shape, row, np.repeat(self.col, n), np.repeat(self.val, n), const)

    def _expand_into(self, shape: tuple[int, ...], axis: int, mask: np.ndarray) -> Expr:
        """:meth:`expand` into the cells of ``mask`` only (a ragged repeat of the entries)."""
        n = shape[axis]
        # per cell of self: the positions along the new axis where the mask holds
        per_cell = np.moveaxis(mask, axis, -1).reshape(-1, n)
        cell_of, pos_of = np.nonzero(per_cell)  # sorted by cell
        counts = per_cell.sum(1)
        first = np.cumsum(counts) - counts
        c = counts[self.row]
        base = np.repeat(first[self.row], c)
        within = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
        pos = pos_of[base + within]
        idx = [np.repeat(i, c) for i in np.unravel_index(self.row, self.shape)]
        idx.insert(axis, pos)
        row = np.ravel_multi_index(tuple(idx), shape)
        const = np.broadcast_to(np.expand_dims(self.const, axis), shape) * mask
        return Expr(shape, row, np.repeat(self.col, c), np.repeat(self.val, c), const)

    def value(self, x: np.ndarray) -> np.ndarray:
        """Evaluate at the column values ``x``; returns an array of shape ``shape``."""
        size = int(np.prod(self.shape, dtype=np.int64))
        out = np.bincount(self.row, weights=self.val * x[self.col], minlength=size)
        return out.reshape(self.shape) + self.const

    def highest(self, lb: np.ndarray, ub: np.ndarray) -> np.ndarray:
        """The largest value of every cell over the column box ``lb <= x <= ub``.

        Coefficients of one column in one cell are summed first (``x - x`` is 0, whatever
        its bounds); ``inf`` where a column the cell grows with has no bound.
        """
        size = int(np.prod(self.shape, dtype=np.int64))
        n = int(max(len(lb), 1))
        key, inverse = np.unique(self.row * n + self.col, return_inverse=True)
        coef = np.bincount(inverse, weights=self.val, minlength=len(key))
        cell, col = key // n, key % n
        with np.errstate(invalid="ignore"):  # 0 x inf: no entry
            top = np.where(coef > 0, coef * ub[col], coef * lb[col])
        top = np.where(coef == 0.0, 0.0, top)
        out = np.bincount(cell, weights=top, minlength=size)
        return out.reshape(self.shape) + self.const


@dataclass
class CSC:
    """A compressed-sparse-column matrix built with numpy alone (scipy costs 0.3 s to import).

    Attributes
    ----------
    data, indices, indptr : numpy.ndarray
        The usual CSC arrays (duplicates summed, rows sorted within a column).
    shape : tuple of int
    """

    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    shape: tuple[int, int]

    @property
    def nnz(self) -> int:
        """Number of stored entries."""
        return len(self.data)

    @classmethod
    def from_coo(cls, row, col, val, shape) -> CSC:
        """Sum duplicate (row, col) entries, drop those that are zero, compress by column.

        Zeros are dropped because a row block written over a dense mask stores them (a
        per-site green share row held every site's grid and renewable columns with factor
        0): HiGHS would carry them, and they would tie columns together that no row links,
        hiding the blocks the decomposition looks for (:mod:`suandian.run.decompose`).
        """
        n_rows, n_cols = shape
        key = np.asarray(col, np.int64) * max(n_rows, 1) + np.asarray(row, np.int64)
        uniq, inverse = np.unique(key, return_inverse=True)
        data = np.bincount(inverse, weights=val, minlength=len(uniq))
        nonzero = data != 0.0
        uniq, data = uniq[nonzero], data[nonzero]
        cols = uniq // max(n_rows, 1)
        indices = uniq - cols * max(n_rows, 1)
        indptr = np.zeros(n_cols + 1, dtype=np.int64)
        np.cumsum(np.bincount(cols, minlength=n_cols), out=indptr[1:])
        return cls(data, indices, indptr, (int(n_rows), int(n_cols)))


@dataclass
class Var:
    """A named array of columns.

    Attributes
    ----------
    name : str
        Qualified name, ``block.var`` (e.g. ``grid.p_grid``).
    cols : numpy.ndarray
        Column of each cell, -1 where the cell has no column (outside the index set).
    integer : bool
        Whether the columns are integer.
    rounding : str
        Hint for the constructive MIP start (:mod:`suandian.run.mip_start`): ``up`` (a
        capacity: rounding up keeps its rows feasible), ``down`` or ``nearest``.
    dims : tuple of str, optional
        The names of the cell array's axes (the output table's dims, e.g. ``('site',
        'time')``), None when unknown: what lets a plan be shifted in time
        (:func:`suandian.run.warm.shifted`).
    """

    name: str
    cols: np.ndarray
    integer: bool = False
    rounding: str = "nearest"
    dims: tuple[str, ...] | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the cell array."""
        return self.cols.shape

    def expr(self) -> Expr:
        """The expression ``1 * x`` in every cell that has a column (0 elsewhere)."""
        flat = self.cols.ravel()
        cell = np.flatnonzero(flat >= 0)
        return Expr(self.shape, cell, flat[cell], np.ones(len(cell)))

    def __add__(self, other) -> Expr:
        return self.expr() + other

    __radd__ = __add__

    def __sub__(self, other) -> Expr:
        return self.expr() - other

    def __rsub__(self, other) -> Expr:
        return other - self.expr()

    def __neg__(self) -> Expr:
        return -self.expr()

    def __mul__(self, factor) -> Expr:
        return self.expr() * factor

    __rmul__ = __mul__

    def __truediv__(self, factor) -> Expr:
        return self.expr() / factor

    def sum(self, axis=None) -> Expr:
        """Sum over axes (see :meth:`Expr.sum`)."""
        return self.expr().sum(axis)

    def shift(self, axis: int, by: int = 1) -> Expr:
        """Previous cells along an axis (see :meth:`Expr.shift`)."""
        return self.expr().shift(axis, by)

    def roll_within(self, axis: int, block: int) -> Expr:
        """Previous cells, cyclic within blocks (see :meth:`Expr.roll_within`)."""
        return self.expr().roll_within(axis, block)

    def group(self, axis: int, labels, size: int) -> Expr:
        """Sum cells into groups (see :meth:`Expr.group`)."""
        return self.expr().group(axis, labels, size)


@dataclass
class RowBlock:
    """A named block of rows ``lower <= A x <= upper``.

    Attributes
    ----------
    name : str
        Qualified name, ``block.constraint``.
    shape : tuple of int
        Shape of the cell array the rows are indexed by.
    rows : numpy.ndarray
        Global row index per cell (-1 where the cell has no row).
    """

    name: str
    shape: tuple[int, ...]
    rows: np.ndarray


@dataclass
class LinearModel:
    """Columns, rows and objective of a linear (mixed-integer) model in standard form."""

    n_cols: int = 0
    n_rows: int = 0
    _lb: list[np.ndarray] = field(default_factory=list)
    _ub: list[np.ndarray] = field(default_factory=list)
    _int: list[np.ndarray] = field(default_factory=list)
    _A: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    _rlo: list[np.ndarray] = field(default_factory=list)
    _rhi: list[np.ndarray] = field(default_factory=list)
    _cost: list[Expr] = field(default_factory=list)
    vars: dict[str, Var] = field(default_factory=dict)
    var_start: list[int] = field(default_factory=list)
    var_order: list[Var] = field(default_factory=list)
    rowblocks: dict[str, RowBlock] = field(default_factory=dict)
    #: column values of the last solve (None before), row duals (None if unavailable)
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    #: whether the last solve relaxed the integer columns
    relaxed: bool = False
    #: the user's Pyomo objective terms at the last solve (CNY; None without them)
    user_objective: float | None = None
    #: a plan to start the MIP from (column values, NaN where unknown), e.g. the previous
    #: window's plan shifted (:mod:`suandian.run.warm`); None: the constructive start alone
    start: np.ndarray | None = None
    #: lower bounds valid for integer solutions only (columns, bounds), see add_mip_lower
    _mip_lb: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)

    # --------------------------------------------------------------- columns
    def add_var(
        self,
        name: str,
        shape,
        lb=0.0,
        ub=INF,
        integer: bool = False,
        mask=None,
    ) -> Var:
        """Add a column per cell of ``shape`` (only where ``mask`` is true).

        Parameters
        ----------
        name : str
            Qualified name, ``block.var``.
        shape : tuple of int
            Cell array shape.
        lb, ub : float or array
            Bounds, broadcast to ``shape`` (``numpy.inf`` for none).
        integer : bool
            Integer columns.
        mask : array of bool, optional
            Cells that get a column.
        """
        if name in self.vars:
            raise ValueError(f"variable {name!r} is declared twice")
        shape = tuple(int(n) for n in shape)
        keep = np.ones(shape, bool) if mask is None else np.broadcast_to(mask, shape)
        n = int(keep.sum())
        cols = np.full(shape, -1, dtype=np.int64)
        cols[keep] = np.arange(self.n_cols, self.n_cols + n)
        self._lb.append(np.broadcast_to(np.asarray(lb, float), shape)[keep].astype(float))
        self._ub.append(np.broadcast_to(np.asarray(ub, float), shape)[keep].astype(float))
        self._int.append(np.full(n, bool(integer)))
        var = Var(name, cols, integer)
        self.vars[name] = var
        self.var_start.append(self.n_cols)
        self.var_order.append(var)
        self.n_cols += n
        return var

    # ------------------------------------------------------------------ rows
    def add_rows(self, name: str, lhs: Expr, sense: str, rhs=0.0, mask=None) -> RowBlock:
        """Add ``lhs <sense> rhs`` for every cell (only where ``mask`` is true).

        ``sense`` is ``"<="``, ``">="`` or ``"=="``; ``rhs`` may be an array or an
        :class:`Expr` (moved to the left). The constant of ``lhs`` moves to the right.
        """
        if name in self.rowblocks:
            raise ValueError(f"constraint {name!r} is declared twice")
        if isinstance(rhs, Expr | Var):
            lhs = lhs - rhs
            rhs = 0.0
        if isinstance(lhs, Var):
            lhs = lhs.expr()
        shape = lhs.shape
        bound = np.broadcast_to(np.asarray(rhs, float), shape) - lhs.const
        keep = np.ones(shape, bool) if mask is None else np.broadcast_to(mask, shape)
        flat_keep = keep.ravel()
        n = int(flat_keep.sum())
        rows = np.full(shape, -1, dtype=np.int64)
        rows[keep] = np.arange(self.n_rows, self.n_rows + n)
        flat_rows = rows.ravel()
        sel = flat_keep[lhs.row] if len(lhs.row) else np.zeros(0, bool)
        self._A.append((flat_rows[lhs.row[sel]], lhs.col[sel], lhs.val[sel]))
        b = bound[keep].astype(float)
        if sense == "<=":
            lo, hi = np.full(n, -INF), b
        elif sense == ">=":
            lo, hi = b, np.full(n, INF)
        elif sense == "==":
            lo, hi = b, b.copy()
        else:
            raise ValueError(f"sense must be '<=', '>=' or '==', not {sense!r}")
        self._rlo.append(lo)
        self._rhi.append(hi)
        block = RowBlock(name, shape, rows)
        self.rowblocks[name] = block
        self.n_rows += n
        return block

    def add_entries(self, rows, cols, vals) -> None:
        """Add coefficients ``vals`` at (global ``rows``, ``cols``) of existing rows.

        Used to make rows elastic (a slack column in each) after they were built.
        """
        self._A.append(
            (np.asarray(rows, np.int64), np.asarray(cols, np.int64), np.asarray(vals, float))
        )

    def row_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of every row, in row order."""
        cat = np.concatenate
        return (cat(self._rlo) if self._rlo else np.zeros(0)), (
            cat(self._rhi) if self._rhi else np.zeros(0)
        )

    def column_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of every column, in column order (copies)."""
        cat = np.concatenate
        return (cat(self._lb) if self._lb else np.zeros(0)), (
            cat(self._ub) if self._ub else np.zeros(0)
        )

    def implied_bounds(
        self,
        skip: set[str] | frozenset[str] = frozenset(),
        rounds: int = IMPLIED_ROUNDS,
        near: np.ndarray | None = None,
        longest: int | None = None,
        enough: Callable[[np.ndarray, np.ndarray], bool] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Column bounds tightened by the rows: activity-based bound propagation.

        Each round, every row ``lo <= sum_j a_j x_j <= hi`` bounds each of its columns by
        the row's bounds less the least (or largest) activity of its other columns over the
        current box, e.g. ``a_k x_k <= hi - sum_{j != k} min(a_j lb_j, a_j ub_j)`` for
        ``a_k > 0``; a column takes the tightest bound of its rows. ``rounds`` rounds at most
        (fewer when nothing tightens). Every point that satisfies the rows (integrality
        aside) lies in the box returned, so a bound read from it is a valid big-M; the
        model is not changed. Row blocks named in ``skip`` (qualified names) are left out:
        rows a diagnosis may relax later must not make a big-M.

        A column bound moves by at most ``1e-9`` relative (plus ``1e-9``) outwards per round
        so that rounding never makes the box too tight.

        ``near`` (column indices): only the bounds of these columns are wanted. After ``k``
        rounds a column's bound depends only on the rows within ``k`` steps of it (a row,
        its columns, their rows, ...), so only those rows are propagated: the bounds of
        ``near`` are those of the whole model's propagation, the others are looser (still
        valid). A model of a year then costs what the rows around ``near`` cost.
        ``longest``: rows with more entries are left out too (sums over the horizon: they
        would tie every period to every other and bound little). ``enough(lb, ub)``, called
        after each round: stop when it returns true (the bounds wanted have settled).
        """
        lb, ub = self.column_bounds()
        n = self.n_cols
        if not self._A or not n:
            return lb, ub
        lo, hi = self.row_bounds()
        cat = np.concatenate
        r = cat([a[0] for a in self._A])
        c = cat([a[1] for a in self._A])
        v = cat([a[2] for a in self._A])
        if skip:
            dropped = np.zeros(self.n_rows, bool)
            for name in skip:
                block = self.rowblocks.get(name)
                if block is not None:
                    dropped[block.rows[block.rows >= 0]] = True
            keep = ~dropped[r]
            r, c, v = r[keep], c[keep], v[keep]
        if longest is not None:
            keep = (np.bincount(r, minlength=self.n_rows) <= longest)[r]
            r, c, v = r[keep], c[keep], v[keep]
        if near is not None:
            cols = np.zeros(n, bool)
            cols[np.asarray(near, np.int64)] = True
            rows = np.zeros(self.n_rows, bool)
            reached = 0
            for _ in range(rounds):  # the rows within `rounds` steps of `near`
                rows[r[cols[c]]] = True
                if rows.sum() == reached:
                    break  # nothing new: every row connected to `near` is in
                reached = int(rows.sum())
                cols[c[rows[r]]] = True
            keep = rows[r]
            r, c, v = r[keep], c[keep], v[keep]
        A = CSC.from_coo(r, c, v, (self.n_rows, n))  # duplicates summed, by column
        a, row = A.data, A.indices
        col = np.repeat(np.arange(n), np.diff(A.indptr))
        starts = A.indptr[:-1][np.diff(A.indptr) > 0]
        has = np.diff(A.indptr) > 0
        m = self.n_rows
        for _ in range(rounds):
            with np.errstate(invalid="ignore", over="ignore"):
                least = np.where(a > 0, a * lb[col], a * ub[col])  # a_j x_j over the box
                most = np.where(a > 0, a * ub[col], a * lb[col])
            open_lo, open_hi = ~np.isfinite(least), ~np.isfinite(most)
            act_lo = np.bincount(row, weights=np.where(open_lo, 0.0, least), minlength=m)
            act_hi = np.bincount(row, weights=np.where(open_hi, 0.0, most), minlength=m)
            n_lo = np.bincount(row, weights=open_lo, minlength=m)
            n_hi = np.bincount(row, weights=open_hi, minlength=m)
            # the other columns' least and largest activity (finite only if all are bounded)
            rest_lo = np.where(
                open_lo,
                np.where(n_lo[row] == 1, act_lo[row], -INF),
                np.where(n_lo[row] == 0, act_lo[row] - np.where(open_lo, 0.0, least), -INF),
            )
            rest_hi = np.where(
                open_hi,
                np.where(n_hi[row] == 1, act_hi[row], INF),
                np.where(n_hi[row] == 0, act_hi[row] - np.where(open_hi, 0.0, most), INF),
            )
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                top = hi[row] - rest_lo  # a_k x_k <= top
                bottom = lo[row] - rest_hi  # a_k x_k >= bottom
                new_ub = np.where(a > 0, top / a, bottom / a)
                new_lb = np.where(a > 0, bottom / a, top / a)
            new_ub = np.where(np.isnan(new_ub), INF, new_ub)
            new_lb = np.where(np.isnan(new_lb), -INF, new_lb)
            tight_ub = np.full(n, INF)
            tight_lb = np.full(n, -INF)
            tight_ub[has] = np.minimum.reduceat(new_ub, starts)
            tight_lb[has] = np.maximum.reduceat(new_lb, starts)
            with np.errstate(invalid="ignore", over="ignore"):
                tight_ub = tight_ub + 1e-9 * np.abs(tight_ub) + 1e-9
                tight_lb = tight_lb - 1e-9 * np.abs(tight_lb) - 1e-9
            with np.errstate(invalid="ignore"):  # inf - inf: no gain
                gain_ub = tight_ub < ub - 1e-6 * (1.0 + np.abs(tight_ub))
                gain_lb = tight_lb > lb + 1e-6 * (1.0 + np.abs(tight_lb))
            if not (gain_ub.any() or gain_lb.any()):
                break
            ub = np.where(gain_ub, tight_ub, ub)
            lb = np.where(gain_lb, tight_lb, lb)
            if enough is not None and enough(lb, ub):
                break
        return lb, ub

    def row_activity(
        self, rows: np.ndarray, lb: np.ndarray, ub: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The least and the largest ``sum_j a_j x_j`` of ``rows`` over the box ``lb..ub``.

        ``-inf`` / ``inf`` where a column the row falls (grows) with is unbounded that way.
        """
        rows = np.asarray(rows, np.int64)
        where = np.full(self.n_rows, -1, np.int64)
        where[rows] = np.arange(len(rows))
        least, most = np.zeros(len(rows)), np.zeros(len(rows))
        for r, c, v in self._A:
            k = where[r]
            keep = k >= 0
            if not keep.any():
                continue
            k, c, v = k[keep], c[keep], v[keep]
            with np.errstate(invalid="ignore"):  # 0 x inf: no entry
                low = np.where(v > 0, v * lb[c], v * ub[c])
                high = np.where(v > 0, v * ub[c], v * lb[c])
            np.add.at(least, k, np.where(v == 0.0, 0.0, low))
            np.add.at(most, k, np.where(v == 0.0, 0.0, high))
        return least, most

    def set_upper(self, var: Var, ub) -> None:
        """Replace the upper bounds of a variable's columns (broadcast over its cells)."""
        i = next(k for k, v in enumerate(self.var_order) if v is var)
        keep = var.cols >= 0
        self._ub[i] = np.broadcast_to(np.asarray(ub, float), var.shape)[keep].astype(float)

    # ------------------------------------------------------------- objective
    def add_cost(self, expr: Expr) -> None:
        """Add a term (any shape; all cells are summed) to the objective to minimise."""
        self._cost.append(expr)

    def clear_costs(self) -> None:
        """Remove every objective term (to minimise something else, e.g. violations)."""
        self._cost.clear()

    # -------------------------------------------------------------- assembly
    def arrays(self):
        """Standard-form arrays: ``(c, offset, lb, ub, integer, A_csc, row_lo, row_hi)``."""
        n = self.n_cols
        cat = np.concatenate
        lb = cat(self._lb) if self._lb else np.zeros(0)
        ub = cat(self._ub) if self._ub else np.zeros(0)
        integer = cat(self._int) if self._int else np.zeros(0, bool)
        c = np.zeros(n)
        offset = 0.0
        for e in self._cost:
            if len(e.col):
                c += np.bincount(e.col, weights=e.val, minlength=n)
            offset += float(e.const.sum())
        if self._A:
            r = cat([a[0] for a in self._A])
            k = cat([a[1] for a in self._A])
            v = cat([a[2] for a in self._A])
        else:
            r = k = np.zeros(0, np.int64)
            v = np.zeros(0)
        A = CSC.from_coo(r, k, v, (self.n_rows, n))
        lo = cat(self._rlo) if self._rlo else np.zeros(0)
        hi = cat(self._rhi) if self._rhi else np.zeros(0)
        return c, offset, lb, ub, integer, A, lo, hi

    def add_mip_lower(self, cols: np.ndarray, lb: np.ndarray) -> None:
        """Record lower bounds that hold for every integer solution (not for the relaxation).

        Applied at hand-over to a MIP only, so ``relax_integers`` still solves the plain LP
        relaxation. ``cols`` and ``lb`` broadcast together; cells without a column (-1) are
        skipped.
        """
        cols, lb = np.broadcast_arrays(np.asarray(cols), np.asarray(lb, float))
        keep = cols >= 0
        self._mip_lb.append((cols[keep].astype(np.int64), lb[keep].astype(float)))

    def mip_lower(self) -> np.ndarray:
        """Lower bounds of :meth:`add_mip_lower` per column (``-inf`` where none)."""
        out = np.full(self.n_cols, -np.inf)
        for cols, lb in self._mip_lb:
            np.maximum.at(out, cols, lb)
        return out

    def rounding(self) -> np.ndarray:
        """Rounding hint per column: +1 ``up``, -1 ``down``, 0 ``nearest`` (int8)."""
        code = {"up": 1, "down": -1, "nearest": 0}
        parts = [
            np.full(int((v.cols >= 0).sum()), code[v.rounding], np.int8) for v in self.var_order
        ]
        return np.concatenate(parts) if parts else np.zeros(0, np.int8)

    def var_of_column(self, col: int) -> tuple[Var, int]:
        """The variable array holding column ``col`` and the flat cell index in it."""
        i = int(np.searchsorted(self.var_start, col, side="right")) - 1
        var = self.var_order[i]
        flat = var.cols.ravel()
        cell = int(np.searchsorted(flat[flat >= 0], col))
        return var, int(np.flatnonzero(flat >= 0)[cell])
