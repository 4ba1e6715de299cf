r"""Lagrangian decomposition over the blocks a MIP splits into when a few rows are dropped.

Math and measurements: ``docs/math/solver.md`` (section "Decomposition over independent
blocks"). Generic over the standard-form arrays of :func:`suandian.highs.hand_over`: a
portfolio whose sites (or site pairs sharing jobs) are tied together only by a few
portfolio-wide rows (the green share, the certificate cap) falls apart into independent
blocks once those **linking rows** are priced instead of enforced.

1. :func:`split` finds the linking rows: the densest rows are set aside, 0, 1, 2, 4, ... up
   to :data:`MAX_LINKING`, until the columns fall into at least two connected blocks
   holding integer columns (a model already apart has no linking rows); a set-aside row
   whose columns lie in one block is put back.
2. :func:`improve` evaluates the Lagrangian dual. With the linking rows oriented as
   :math:`G x \ge g` and multipliers :math:`\lambda \ge 0` (free for equality rows),

   .. math:: L(\lambda) = c_0 + \lambda^\top g + \sum_b \min_{x_b \in X_b}
             (c_b - G_b^\top \lambda)^\top x_b

   is a lower bound of the MIP for every such :math:`\lambda`; each block's minimum is a
   small MIP (solved in parallel threads), and its proven dual bound is what enters the sum,
   so the bound stays valid when a block stops at its gap or time limit. The first
   multipliers are the linking rows' duals in the MIP start's fixed-integer LP (the LP
   relaxation's only size the first box); the next ones maximise a disaggregated
   cutting-plane model of :math:`L` (:class:`_Pieces`: one cut per block and known point)
   inside a box around the best multipliers so far, which grows after an improving step
   and shrinks otherwise.
3. Every evaluation also gives a **plan**: the blocks' integer values are fixed and a repair
   LP over all columns (linking rows enforced) re-optimises the continuous ones; the few
   integer columns that are not capacity counts may also be relaxed and rounded there.

It stops when the best plan is within the target gap of the best bound, when the model of
:math:`L` promises no more, after :data:`MAX_EVALUATIONS`, or at its time budget. The caller
hands the best plan to HiGHS as a MIP start and reports the gap against the better of the two
bounds.
"""

from __future__ import annotations

import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import highspy
import numpy as np

from ..highs import HandOver, SolveOptions, highs_lp, limit_run, new_highs, relative_gap
from ..linear import CSC

log = logging.getLogger("suandian")

#: Most linking rows set aside; a model that needs more is not decomposed.
MAX_LINKING = 8
#: Most evaluations of the Lagrangian dual.
MAX_EVALUATIONS = 12
#: Growth of the multipliers' box after a step that raised the bound, shrink after one that did not.
GROW, SHRINK = 2.0, 0.5
#: Share of the target gap given to the blocks' own MIP gaps (the rest is the duality gap).
BLOCK_GAP_SHARE = 0.5


@dataclass
class Split:
    """Linking rows and the blocks they leave.

    Attributes
    ----------
    linking : numpy.ndarray
        Global indices of the linking rows.
    blocks : list of (numpy.ndarray, numpy.ndarray)
        Per block with integer columns: its columns and its rows (global indices).
    rest : tuple of (numpy.ndarray, numpy.ndarray)
        Columns and rows of every component without integer columns, solved as one LP.
    """

    linking: np.ndarray
    blocks: list[tuple[np.ndarray, np.ndarray]]
    rest: tuple[np.ndarray, np.ndarray]


@dataclass
class Given:
    """A split the caller knows (the scenarios of a two-stage plan) and how to use it.

    Attributes
    ----------
    parts : Split
        The linking rows and the blocks.
    free : numpy.ndarray of bool
        Integer columns the repair re-decides (relaxed, rounded, fixed): those the linking
        rows tie across blocks, whose blocks' values disagree.
    round_up : numpy.ndarray of bool
        Of ``free``, those rounded up (capacity counts).
    branch_and_bound : bool
        Whether the branch and bound of the whole model follows when the decomposition
        leaves the gap open (False: the decomposition's plan and bound are the answer).
    max_evaluations : int
        Most evaluations of the Lagrangian dual.
    held : numpy.ndarray of bool, optional
        Columns the polish holds at the best plan's values (:func:`polish`: the first stage),
        the others re-decided by HiGHS; None: no polish.
    """

    parts: Split
    free: np.ndarray
    round_up: np.ndarray
    branch_and_bound: bool = False
    max_evaluations: int = MAX_EVALUATIONS
    held: np.ndarray | None = None


@dataclass
class Outcome:
    """What :func:`improve` found.

    Attributes
    ----------
    x : numpy.ndarray or None
        Best plan (integers integral), None if no repair LP was feasible.
    objective : float
        Its objective (CNY, with the offset); ``inf`` without a plan.
    bound : float
        Best Lagrangian bound (``-inf`` if no evaluation gave one).
    evaluations : int
        Evaluations of the Lagrangian dual.
    seconds : float
        Wall time.
    blocks, linking_rows : int
        Size of the split.
    trace : list of dict
        Per evaluation: ``seconds``, ``bound`` (that evaluation's), ``objective`` (its
        repaired plan, ``inf`` if infeasible), ``best_objective`` (with the incumbent) and
        ``best_bound`` so far.
    """

    x: np.ndarray | None
    objective: float
    bound: float
    evaluations: int
    seconds: float
    blocks: int
    linking_rows: int
    trace: list[dict[str, float]] = field(default_factory=list)


# ------------------------------------------------------------------------ the split
def _rows_by_col(A) -> tuple[np.ndarray, np.ndarray]:
    """Row and column index of every entry of the CSC matrix ``A``."""
    cols = np.repeat(np.arange(A.shape[1]), np.diff(A.indptr))
    return np.asarray(A.indices, np.int64), cols


def components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Connected components of the graph on ``n`` nodes with edges ``(u[k], v[k])``.

    Returns each node's label: the smallest node of its component. Hooking to the smaller
    label and pointer jumping, with numpy alone (scipy costs 0.3 s to import).
    """
    lab = np.arange(n)
    while True:
        lu, lv = lab[u], lab[v]
        low = np.minimum(lu, lv)
        new = lab.copy()
        np.minimum.at(new, lu, low)
        np.minimum.at(new, lv, low)
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, lab):
            return lab
        lab = new


def _row_edges(
    rows: np.ndarray, cols: np.ndarray, keep_row: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Edges joining consecutive columns of every kept row (a chain per row)."""
    sel = keep_row[rows]
    r, c = rows[sel], cols[sel]
    order = np.lexsort((c, r))
    r, c = r[order], c[order]
    same = r[1:] == r[:-1]
    return c[:-1][same], c[1:][same]


def split(ho, integer: np.ndarray) -> Split | None:
    """Find the linking rows of ``ho`` and the blocks they leave, or None.

    A model that already falls apart into two or more blocks with integer columns (sites
    that share nothing, each with its own green share) splits with no linking rows. None
    when no set of at most :data:`MAX_LINKING` densest rows leaves two or more such blocks.
    """
    n_rows, n_cols = ho.A.shape
    if n_rows == 0 or integer.sum() < 2:
        return None
    rows, cols = _rows_by_col(ho.A)
    nnz = np.bincount(rows, minlength=n_rows)
    order = np.argsort(-nnz, kind="stable")
    k = 0
    while True:
        keep = np.ones(n_rows, bool)
        keep[order[:k]] = False
        lab = components(n_cols, *_row_edges(rows, cols, keep))
        with_int = np.unique(lab[integer])
        if len(with_int) >= 2:
            break
        k = 1 if k == 0 else 2 * k
        if k > min(MAX_LINKING, n_rows):
            return None
    # a set-aside row whose columns all lie in one block is not linking
    aside = order[:k]
    row_lab = np.full(n_rows, -1)
    np.maximum.at(row_lab, rows, lab[cols])  # a kept row's columns share one label
    first = np.full(n_rows, np.iinfo(np.int64).max)
    np.minimum.at(first, rows, lab[cols])
    inside = aside[first[aside] == row_lab[aside]]
    linking = np.setdiff1d(aside, inside)
    block_of_row = np.where(np.isin(np.arange(n_rows), linking), -1, row_lab)
    blocks = []
    for b in with_int:
        bc = np.flatnonzero(lab == b)
        blocks.append((bc, np.flatnonzero(block_of_row == b)))
    rest_cols = np.flatnonzero(~np.isin(lab, with_int))
    rest_rows = np.flatnonzero((block_of_row >= 0) & ~np.isin(block_of_row, with_int))
    return Split(linking, blocks, (rest_cols, rest_rows))


# ---------------------------------------------------------------- sub-problem arrays
def _sub(ho: HandOver, cols: np.ndarray, rows: np.ndarray) -> HandOver:
    """The hand-over restricted to ``cols`` and ``rows`` (whose entries lie in ``cols``)."""
    A = ho.A
    pos_row = np.full(A.shape[0], -1)
    pos_row[rows] = np.arange(len(rows))
    starts, ends = A.indptr[cols], A.indptr[cols + 1]
    lengths = ends - starts
    idx = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())
    sub_col = np.repeat(np.arange(len(cols)), lengths)
    sub_row = pos_row[A.indices[idx]]
    ok = sub_row >= 0
    M = CSC.from_coo(sub_row[ok], sub_col[ok], A.data[idx][ok], (len(rows), len(cols)))
    return HandOver(
        ho.c[cols].copy(),
        0.0,
        ho.lb[cols],
        ho.ub[cols],
        ho.integer[cols],
        M,
        ho.row_lo[rows],
        ho.row_hi[rows],
    )


@dataclass
class _Linking:
    """The linking rows oriented as ``G x >= g`` (a ranged row gives two)."""

    row: np.ndarray  # oriented row -> global row
    sign: np.ndarray  # +1 (lower bound) or -1 (upper bound)
    g: np.ndarray
    free: np.ndarray  # equality rows: multiplier of any sign
    ent_row: np.ndarray  # entries of G: oriented row, column, value
    ent_col: np.ndarray
    ent_val: np.ndarray

    def times(self, x: np.ndarray) -> np.ndarray:
        """``G x``."""
        return np.bincount(self.ent_row, self.ent_val * x[self.ent_col], minlength=len(self.g))

    def price(self, c: np.ndarray, lam: np.ndarray) -> np.ndarray:
        """``c - G^T lam``."""
        return c - np.bincount(self.ent_col, self.ent_val * lam[self.ent_row], minlength=len(c))


def _orient(ho, linking: np.ndarray) -> _Linking:
    rows, cols = _rows_by_col(ho.A)
    parts = []
    for r in linking:
        lo, hi = ho.row_lo[r], ho.row_hi[r]
        if np.isfinite(lo) and np.isfinite(hi) and lo == hi:
            parts.append((r, 1.0, lo, True))
            continue
        if np.isfinite(lo):
            parts.append((r, 1.0, lo, False))
        if np.isfinite(hi):
            parts.append((r, -1.0, -hi, False))
    row = np.array([p[0] for p in parts], np.int64)
    sign = np.array([p[1] for p in parts])
    where: dict[int, list[int]] = {}
    for i, r in enumerate(row):
        where.setdefault(int(r), []).append(i)
    sel = np.isin(rows, row)
    er, ec, ev = rows[sel], cols[sel], ho.A.data[sel]
    out_r, out_c, out_v = [], [], []
    for r in np.unique(er):
        m = er == r
        for i in where[int(r)]:
            out_r.append(np.full(int(m.sum()), i))
            out_c.append(ec[m])
            out_v.append(ev[m] * sign[i])
    cat = np.concatenate
    return _Linking(
        row,
        sign,
        np.array([p[2] for p in parts]),
        np.array([p[3] for p in parts], bool),
        cat(out_r) if out_r else np.zeros(0, np.int64),
        cat(out_c) if out_c else np.zeros(0, np.int64),
        cat(out_v) if out_v else np.zeros(0),
    )


# --------------------------------------------------------------------- the dual search
def improve(
    ho: HandOver,
    integer: np.ndarray,
    parts: Split,
    duals: list[np.ndarray],
    opts: SolveOptions,
    budget: float,
    target_gap: float,
    incumbent: float,
    scale: float,
    free_in_repair: np.ndarray | None = None,
    start_x: np.ndarray | None = None,
    round_up: np.ndarray | None = None,
    max_evaluations: int = MAX_EVALUATIONS,
) -> Outcome:
    """Search the Lagrangian dual of ``parts`` for a better bound and plan within ``budget``.

    Parameters
    ----------
    ho : suandian.highs.HandOver
        The standard-form arrays.
    integer : numpy.ndarray of bool
        Integer columns to decide.
    parts : Split
        From :func:`split`.
    duals : list of numpy.ndarray
        Row duals (HiGHS's sign: >= 0 at a lower bound) of the MIP start's fixed-integer LP
        and of the LP relaxation, in this order. The first one's values on the linking rows
        are the first multipliers evaluated; the spread of all of them is the first box's
        half-width.
    opts : suandian.highs.SolveOptions
        Options (threads, HiGHS options).
    budget : float
        Seconds available.
    target_gap : float
        Relative gap at which to stop.
    incumbent : float
        Objective of the best plan known (stops the search once within ``target_gap``).
    scale : float
        Magnitude of the objective (the LP bound), for the blocks' absolute gaps.
    free_in_repair : numpy.ndarray of bool, optional
        Integer columns the repair also re-decides, by relaxing and rounding them with the
        linking rows enforced: the few that are not capacity counts, such as corridor
        blocks, whose blocks' choice under a multiplier slightly off is costly.
    start_x : numpy.ndarray, optional
        A plan (the MIP start): its part in each block is a first point of the model of L.
    round_up : numpy.ndarray of bool, optional
        Of the ``free_in_repair`` columns, those the repair rounds up rather than to the
        nearest integer (capacity counts, such as the blocks a two-stage plan commits in
        every scenario: rounded up, they serve what the relaxation served); the repair then
        also tries every free column rounded to the nearest and keeps the cheaper plan.
    max_evaluations : int
        Most evaluations of the Lagrangian dual (default :data:`MAX_EVALUATIONS`).
    """
    began = time.perf_counter()
    link = _orient(ho, parts.linking)
    m = len(link.g)
    # the first candidate is evaluated first; the spread of all of them sizes the first box
    candidates = [d[link.row] * link.sign for d in duals]
    candidates = [np.where(link.free, lam, np.maximum(lam, 0.0)) for lam in candidates]
    blocks = parts.blocks
    lp_parts = [parts.rest] if len(parts.rest[0]) else []
    workers = max(1, min(len(blocks), _cores() if opts.threads is None else int(opts.threads)))
    sub_opts = SolveOptions(
        mip_rel_gap=1e-9, threads=1, log=False, highs_options=dict(opts.highs_options)
    )
    # with linking rows the blocks' gaps share the target with the duality gap; without,
    # the blocks are the whole problem and each may use the whole target (relative)
    abs_gap = BLOCK_GAP_SHARE * target_gap * abs(scale) / max(len(blocks), 1)
    rel_gap = 1e-9 if m else target_gap
    subs = [(cols, _sub(ho, cols, rows), True) for cols, rows in blocks]
    subs += [(cols, _sub(ho, cols, rows), False) for cols, rows in lp_parts]
    n = len(ho.lb)
    free = np.zeros(n, bool) if free_in_repair is None else free_in_repair & integer
    up = np.zeros(n, bool) if round_up is None else round_up & free
    # every instance here runs on one thread: HiGHS's scheduler is global to the process and
    # is set once, in this thread, before the worker threads create theirs
    repair = new_highs(sub_opts, 1.0)
    repair.passModel(highs_lp(ho, np.zeros(n, bool)))

    def left() -> float:
        return budget - (time.perf_counter() - began)

    def solve_block(item):
        cols, sub, is_mip = item
        if left() <= 0:  # out of time: this evaluation gives neither a bound nor a plan
            return cols, None, -np.inf
        h = new_highs(sub_opts, max(left(), 0.05))
        if is_mip:
            if m:
                h.setOptionValue("mip_abs_gap", float(abs_gap))
            h.setOptionValue("mip_rel_gap", float(rel_gap))
        h.passModel(highs_lp(sub, integer[cols] if is_mip else np.zeros(len(cols), bool)))
        h.run()
        status = h.getModelStatus()
        info = h.getInfo()
        if status == highspy.HighsModelStatus.kInfeasible or info.primal_solution_status != 2:
            return cols, None, -np.inf
        x = np.asarray(h.getSolution().col_value)
        if is_mip:
            bound = float(info.mip_dual_bound)
        elif status == highspy.HighsModelStatus.kOptimal:
            bound = float(info.objective_function_value)
        else:  # unbounded under these prices, or stopped: no bound from this evaluation
            bound = -np.inf
        return cols, x, bound

    def run_repair(lb: np.ndarray, ub: np.ndarray) -> tuple[np.ndarray | None, float]:
        repair.changeColsBounds(n, np.arange(n, dtype=np.int32), lb, ub)
        limit_run(repair, max(left(), 0.5))
        repair.run()
        if repair.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None, np.inf
        y = np.asarray(repair.getSolution().col_value)
        return y, float(repair.getInfo().objective_function_value)

    def repaired(x: np.ndarray) -> tuple[np.ndarray | None, float]:
        """The plan with the blocks' integers fixed, the cheaper of two repairs.

        An LP with every integer fixed; and, with ``free`` columns, those relaxed, rounded to
        the nearest integer and fixed there (two more LPs).
        """
        lb, ub = ho.lb.copy(), ho.ub.copy()
        lb[integer] = ub[integer] = np.clip(np.round(x[integer]), ho.lb[integer], ho.ub[integer])
        best = run_repair(lb, ub)
        if free.any():
            lb[free], ub[free] = ho.lb[free], ho.ub[free]
            relaxed, _ = run_repair(lb, ub)
            if relaxed is not None:
                # rounded up where asked and, if any is, also all to the nearest: the cheaper
                ups = [up[free], np.zeros(int(free.sum()), bool)] if up.any() else [up[free]]
                for u in ups:
                    rounded = np.where(u, np.ceil(relaxed[free] - 1e-6), np.round(relaxed[free]))
                    lb[free] = ub[free] = np.clip(rounded, ho.lb[free], ho.ub[free])
                    other = run_repair(lb, ub)
                    if other[1] < best[1]:
                        best = other
        y, objective = best
        if y is not None:
            y = y.copy()
            y[integer] = np.round(y[integer])
        return y, objective

    def evaluate(lam: np.ndarray) -> tuple[np.ndarray | None, float]:
        """The blocks' solutions at ``lam`` and L(lam); (None, -inf) if a block has none."""
        cost = link.price(ho.c, lam)
        for cols, sub, _ in subs:
            sub.c = cost[cols]
        x = np.zeros(n)
        total = float(ho.offset + lam @ link.g)
        with ThreadPoolExecutor(workers) as pool:
            for cols, xb, bound in pool.map(solve_block, subs):
                if xb is None:
                    return None, -np.inf
                x[cols] = xb
                total += bound
        return x, total

    pieces = _Pieces(ho.c, link, [cols for cols, _, _ in subs])
    if start_x is not None:
        pieces.add(start_x)
    best_x, best_obj, best_bound = None, np.inf, -np.inf
    lam = candidates[0]
    center, center_value, predicted = lam, -np.inf, np.inf
    radius = np.inf  # set after the first evaluation
    trace = []
    evaluations = 0
    while evaluations < max_evaluations:
        t_eval = time.perf_counter()
        x, value = evaluate(lam)
        evaluations += 1
        if x is None:  # a block without a solution (infeasible or stopped): leave it to HiGHS
            break
        t_repair = time.perf_counter()
        plan, objective = repaired(x)
        log.debug(
            "Decomposition: blocks %.2f s, repair %.2f s",
            t_repair - t_eval,
            time.perf_counter() - t_repair,
        )
        if objective < best_obj:
            best_x, best_obj = plan, objective
        best_bound = max(best_bound, value)
        trace.append(
            {
                "seconds": time.perf_counter() - began,
                "bound": value,
                "objective": objective,
                "best_objective": min(best_obj, incumbent),
                "best_bound": best_bound,
            }
        )
        gap = relative_gap(min(best_obj, incumbent), best_bound)
        log.info(
            "Decomposition: evaluation %d, bound %.6g, plan %.6g, best gap %s (%.2f s)",
            evaluations,
            value,
            objective,
            f"{gap:.3%}" if np.isfinite(gap) else "-",
            time.perf_counter() - t_eval,
        )
        log.debug("Decomposition: multipliers %s", lam)
        if gap <= target_gap or not np.isfinite(value):
            break
        if left() < 1.5 * (time.perf_counter() - t_eval):
            break
        pieces.add(x)
        if plan is not None:
            pieces.add(plan)
        if not np.isfinite(radius):
            slope = link.g - link.times(x)
            radius = _first_radius(candidates, slope, value, min(best_obj, incumbent))
            center, center_value = lam.copy(), value
        # proximal cutting planes: a step that raises L by a tenth of what the model
        # promised moves the center and widens the box; otherwise the box shrinks
        elif value >= center_value + 0.1 * (predicted - center_value):
            radius *= GROW
            center, center_value = lam.copy(), value
        else:
            radius *= SHRINK
        lam, predicted = pieces.maximise(ho.offset, center, radius, sub_opts)
        if predicted - center_value <= 1e-6 * max(abs(center_value), 1.0):
            break
    return Outcome(
        best_x,
        best_obj,
        best_bound,
        evaluations,
        time.perf_counter() - began,
        len(blocks),
        m,
        trace,
    )


def polish(
    ho: HandOver,
    integer: np.ndarray,
    held: np.ndarray,
    x: np.ndarray,
    opts: SolveOptions,
    seconds: float,
) -> tuple[np.ndarray | None, float]:
    """The plan ``x`` with the columns ``held`` kept and the others re-decided by HiGHS.

    With a two-stage plan's first stage held, the model falls apart into its scenarios'
    recourse MIPs (and the rows that still tie them, such as the green share held in
    expectation): ``x`` is their first incumbent, the repair having fixed their integer
    columns where each scenario's own MIP put them. Returns the better plan found and its
    objective (``None, inf`` if HiGHS found none better in ``seconds``).
    """
    lb, ub = ho.lb.copy(), ho.ub.copy()
    lb[held] = ub[held] = x[held]
    h = new_highs(opts, max(seconds, 0.5))
    h.passModel(highs_lp(ho, integer, lb, ub))
    start = highspy.HighsSolution()
    start.col_value = x
    start.value_valid = True
    h.setSolution(start)
    h.run()
    info = h.getInfo()
    if info.primal_solution_status != 2:
        return None, np.inf
    y = np.asarray(h.getSolution().col_value).copy()
    y[integer] = np.round(y[integer])
    return y, float(ho.c @ y + ho.offset)


def _first_radius(candidates, slope, value: float, incumbent: float) -> float:
    """Half-width of the first box.

    The spread of the candidate multipliers or, if they coincide, the Polyak step from the
    first evaluation (the one that would close the gap if L were linear).
    """
    lams = np.array(candidates)
    spread = float((lams.max(axis=0) - lams.min(axis=0)).max(initial=0.0))
    if spread > 0:
        return spread
    step = (incumbent - value) / max(float(slope @ slope), 1e-12)
    return max(step * float(np.abs(slope).max(initial=0.0)), 1e-6)


class _Pieces:
    r"""The disaggregated cutting-plane model of L: points of every block's feasible set.

    Each point :math:`x^k` that satisfies a block's rows (a block's solution at some
    multipliers, or a plan's part in the block) gives the block the cut
    :math:`\theta_b \le c_b^\top x^k_b - \lambda^\top G_b x^k_b`, and the model is
    :math:`c_0 + \lambda^\top g + \sum_b \theta_b`. With one cut per block and point, not
    one per evaluation, a plan that balances the linking rows tells the model as much as
    the blocks' own answers (Dantzig-Wolfe's restricted master, seen from its dual).
    """

    def __init__(self, c: np.ndarray, link: _Linking, blocks: list[np.ndarray]):
        self.c, self.link, self.n_blocks = c, link, len(blocks)
        self.block_of = np.full(len(c), -1, np.int64)
        for b, cols in enumerate(blocks):
            self.block_of[cols] = b
        self.costs: list[np.ndarray] = []  # per point: c_b x_b per block
        self.uses: list[np.ndarray] = []  # per point: G_b x_b, blocks x linking rows

    def add(self, x: np.ndarray) -> None:
        """Add the point ``x`` (all columns) to every block's model."""
        B, m = self.n_blocks, len(self.link.g)
        inside = self.block_of >= 0
        cost = np.bincount(self.block_of[inside], (self.c * x)[inside], minlength=B)
        where = self.block_of[self.link.ent_col]
        ok = where >= 0
        key = where[ok] * m + self.link.ent_row[ok]
        val = (self.link.ent_val * x[self.link.ent_col])[ok]
        self.costs.append(cost)
        self.uses.append(np.bincount(key, val, minlength=B * m).reshape(B, m))

    def maximise(
        self, offset: float, center: np.ndarray, radius: float, opts: SolveOptions
    ) -> tuple[np.ndarray, float]:
        """Maximise the model in the box of half-width ``radius`` about ``center``.

        Returns the multipliers and the model's value there (``-inf`` if that LP fails).
        """
        link, B, m = self.link, self.n_blocks, len(center)
        K = len(self.costs)
        inf = highspy.kHighsInf
        lo = np.where(link.free, center - radius, np.maximum(center - radius, 0.0))
        hi = center + radius
        h = new_highs(opts, 5.0)
        # columns: lambda (m), theta (B); maximise g lambda + sum theta
        h.addVars(
            m + B, np.concatenate((lo, np.full(B, -inf))), np.concatenate((hi, np.full(B, inf)))
        )
        h.changeColsCost(
            m + B, np.arange(m + B, dtype=np.int32), np.concatenate((-link.g, -np.ones(B)))
        )
        # theta_b + (G_b x_b^k) lambda <= c_b x_b^k, for every point k and block b
        uses = np.stack(self.uses).reshape(K * B, m)
        rhs = np.stack(self.costs).reshape(K * B)
        index = np.concatenate(
            (np.tile(np.arange(m), (K * B, 1)), (m + np.tile(np.arange(B), K))[:, None]), axis=1
        )
        values = np.concatenate((uses, np.ones((K * B, 1))), axis=1)
        starts = np.arange(0, K * B * (m + 1), m + 1, dtype=np.int32)
        h.addRows(
            K * B,
            np.full(K * B, -inf),
            rhs,
            K * B * (m + 1),
            starts,
            index.reshape(-1).astype(np.int32),
            values.reshape(-1),
        )
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return center, -np.inf
        sol = np.asarray(h.getSolution().col_value)
        return sol[:m], float(offset + link.g @ sol[:m] + sol[m:].sum())


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
