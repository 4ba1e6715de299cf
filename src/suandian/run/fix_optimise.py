r"""Fix-and-optimise over time windows: small sub-MIPs that improve a plan in turn.

Math and measurements: ``docs/math/solver.md`` (section "Portfolios tied across sites").
Generic over the standard-form arrays of :func:`suandian.highs.hand_over`: it knows which
columns are integer and, for the neighbourhoods, the period of each integer column
(:func:`windows`, from the last axis of every integer variable array of a
:class:`~suandian.linear.LinearModel`).

Given a plan :math:`\bar x` (the MIP start's), each **neighbourhood** :math:`W` (the integer
columns of a few consecutive periods, every site) gives the sub-MIP

.. math:: \min\; c^\top x \quad\text{s.t.}\quad x \in X,\;
          x_j = \bar x_j \;\; (j \text{ integer},\ j \notin W),

whose continuous columns stay free over the whole horizon (storage, jobs and the green
share reach across windows). :math:`\bar x` is feasible for it and is handed to HiGHS as
its start, so its answer is never dearer; a cheaper one becomes :math:`\bar x`, and the next
window starts from it. The windows are visited in order, then again while a pass improved
the plan and time is left. Nothing here is a bound: the bound stays the LP relaxation's
(or HiGHS's, when the branch and bound runs after).

Why not HiGHS's own search: on the tied portfolios (``benchmarks/portfolio_tied.py``) the
branch and bound spends its time in root cut separation over every block count and finds
no plan better than the start (10 sites, 15 min: 1.31 % after 60 s); a sub-MIP with one
window's block counts free has a root HiGHS closes in seconds.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import highspy
import numpy as np

from ..deadline import Deadline
from ..highs import HandOver, SolveOptions, highs_lp, new_highs, run_until

log = logging.getLogger("suandian")

#: Most integer columns free in one sub-MIP: a window is as many periods as keep it at
#: most this many (one period at least).
FREE_MAX = 48
#: Share of the time left that one sub-MIP may take at most.
SUB_SHARE = 0.25
#: Relative gap of a sub-MIP (its own, against its own bound).
SUB_GAP = 1e-4
#: Most passes over the windows.
MAX_PASSES = 3


@dataclass
class Outcome:
    """What :func:`improve` found.

    Attributes
    ----------
    x : numpy.ndarray
        Best plan (the one given if no sub-MIP improved it).
    objective : float
        Its objective (CNY, with the offset).
    improved : bool
        Whether a sub-MIP found a cheaper plan.
    subs : int
        Sub-MIPs solved.
    seconds : float
        Wall time.
    trace : list of dict
        Per improvement: ``seconds`` (since the start of :func:`improve`) and ``objective``.
    """

    x: np.ndarray
    objective: float
    improved: bool = False
    subs: int = 0
    seconds: float = 0.0
    trace: list[dict[str, float]] = field(default_factory=list)


def windows(periods: np.ndarray, integer: np.ndarray, free_max: int = FREE_MAX) -> list[np.ndarray]:
    """Neighbourhoods: the integer columns of consecutive periods, at most ``free_max`` each.

    Parameters
    ----------
    periods : numpy.ndarray of int
        Period of each column (-1 for a column with no period: never free).
    integer : numpy.ndarray of bool
        Integer columns to decide.
    free_max : int
        Most integer columns per neighbourhood (a window holds one period at least).

    Returns
    -------
    list of numpy.ndarray
        Column indices of each window, in time order.
    """
    cand = integer & (periods >= 0)
    if not cand.any():
        return []
    per = np.bincount(periods[cand], minlength=int(periods.max()) + 1)
    width = max(1, int(free_max // max(int(per.max()), 1)))
    T = len(per)
    out = []
    for t0 in range(0, T, width):
        cols = np.flatnonzero(cand & (periods >= t0) & (periods < t0 + width))
        if len(cols):
            out.append(cols)
    return out


def periods_of(lm, n_cols: int, horizon: int) -> np.ndarray:
    """Period of each column of ``lm`` (-1 where none).

    The period is the last axis of every integer variable array whose last axis has
    ``horizon`` cells (``dc.n_on``: site x period); other columns get -1.
    """
    out = np.full(n_cols, -1, np.int64)
    for var in lm.var_order:
        if not var.integer or len(var.shape) < 1 or var.shape[-1] != horizon:
            continue
        t = np.broadcast_to(np.arange(horizon), var.shape)
        keep = var.cols >= 0
        out[var.cols[keep]] = t[keep]
    return out


def improve(
    ho: HandOver,
    integer: np.ndarray,
    x: np.ndarray,
    objective: float,
    neighbourhoods: list[np.ndarray],
    opts: SolveOptions,
    deadline: Deadline,
    node_limit: int | None = None,
) -> Outcome:
    """Improve the plan ``x`` by sub-MIPs over ``neighbourhoods`` until ``deadline``.

    Parameters
    ----------
    ho : suandian.highs.HandOver
        The standard-form arrays.
    integer : numpy.ndarray of bool
        Integer columns to decide (the others integer are fixed by their bounds).
    x, objective : numpy.ndarray, float
        A plan (integers integral, every row held) and its objective.
    neighbourhoods : list of numpy.ndarray
        Integer columns free in each sub-MIP (:func:`windows`).
    opts : suandian.highs.SolveOptions
        Options (threads, log, HiGHS options).
    deadline : suandian.deadline.Deadline
        When to stop; a sub-MIP gets at most :data:`SUB_SHARE` of what is left (and is
        left behind at the deadline, :func:`suandian.highs.run_until`).
    node_limit : int, optional
        HiGHS's ``mip_max_nodes`` of each sub-MIP (tests: a bound on the work that is not
        wall time).

    Returns
    -------
    Outcome
        The best plan (``x`` itself if nothing better was found).
    """
    began = time.perf_counter()
    n = len(ho.lb)
    best_x, best = np.asarray(x, float).copy(), float(objective)
    out = Outcome(best_x, best)
    if not neighbourhoods:
        return out
    for _ in range(MAX_PASSES):
        better_in_pass = False
        for free in neighbourhoods:
            if deadline.expired():
                break
            lb, ub = ho.lb.copy(), ho.ub.copy()
            fix = integer.copy()
            fix[free] = False
            lb[fix] = ub[fix] = np.round(best_x[fix])
            sub = deadline.share(SUB_SHARE)
            h = new_highs(opts, sub.limit())
            h.setOptionValue("mip_rel_gap", SUB_GAP)
            if node_limit is not None:
                h.setOptionValue("mip_max_nodes", int(node_limit))
            h.passModel(highs_lp(ho, integer, lb, ub))
            start = highspy.HighsSolution()
            start.col_value = best_x
            start.value_valid = True
            h.setSolution(start)
            ran = run_until(h, sub, n)
            out.subs += 1
            if ran.x is None:
                continue
            value = float(ho.c @ ran.x + ho.offset)
            consistent = abs(value - ran.objective) <= 1e-6 * max(1.0, abs(value))
            if consistent and value < best - 1e-9 * max(1.0, abs(best)):
                best_x, best = np.asarray(ran.x, float).copy(), value
                best_x[integer] = np.round(best_x[integer])
                better_in_pass = True
                out.trace.append({"seconds": time.perf_counter() - began, "objective": best})
                log.info(
                    "Fix-and-optimise: window %d of %d (%d integers free) gives %.6g",
                    out.subs,
                    len(neighbourhoods),
                    len(free),
                    best,
                )
        if not better_in_pass or deadline.expired():
            break
    out.x, out.objective, out.improved = best_x, best, best < objective
    out.seconds = time.perf_counter() - began
    return out
