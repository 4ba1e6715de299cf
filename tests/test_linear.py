"""The vectorised linear layer: expression algebra and the CSC assembly, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from suandian.linear import CSC, Expr, LinearModel


def dense(lm: LinearModel) -> np.ndarray:
    _, _, _, _, _, A, _, _ = lm.arrays()
    out = np.zeros(A.shape)
    for j in range(A.shape[1]):
        for k in range(A.indptr[j], A.indptr[j + 1]):
            out[A.indices[k], j] += A.data[k]
    return out


def test_var_columns_follow_the_mask_in_declaration_order():
    lm = LinearModel()
    a = lm.add_var("b.a", (2, 3))
    b = lm.add_var("b.b", (2, 2), mask=np.array([[True, False], [False, True]]))
    assert a.cols.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert b.cols.tolist() == [[6, -1], [-1, 7]]
    assert lm.var_of_column(7) == (b, 3)  # flat cell 3 = (1, 1)


def test_sum_shift_group_and_value_by_hand():
    lm = LinearModel()
    x = lm.add_var("b.x", (2, 3))  # columns 0..5, x[s, t]
    vals = np.arange(6.0)  # x = [[0, 1, 2], [3, 4, 5]]
    assert x.sum(1).value(vals).tolist() == [3.0, 12.0]
    assert x.sum().value(vals).tolist() == 15.0
    # previous period: x[s, t-1], zero at t = 0
    assert x.shift(1, 1).value(vals).tolist() == [[0, 0, 1], [0, 3, 4]]
    # both sites into one group, the second dropped into none
    assert x.group(0, [0, 0], 1).value(vals).tolist() == [[3, 5, 7]]
    assert x.group(0, [-1, 0], 1).value(vals).tolist() == [[3, 4, 5]]
    e = (x * np.array([[1.0], [2.0]]) + 10.0) - x.shift(1, 1)
    # site 0: x - x_prev + 10 ; site 1: 2x - x_prev + 10
    assert e.value(vals).tolist() == [[10, 11, 11], [16, 15, 16]]
    assert (e / 2.0).value(vals).tolist() == [[5, 5.5, 5.5], [8, 7.5, 8]]


def test_expand_repeats_entries_along_a_new_axis():
    lm = LinearModel()
    x = lm.add_var("b.x", (2,))
    e = x.expr().expand((3, 2), 0)
    assert e.value(np.array([1.0, 2.0])).tolist() == [[1, 2], [1, 2], [1, 2]]


def test_where_and_a_masked_expand_carry_the_kept_cells_entries_only():
    """An event's window sum expanded into its window: entries of the kept cells only.

    x[e, t] on 2 events x 4 periods, x = [[1, 2, 3, 4], [5, 6, 7, 8]]; windows t1-t2 and t3.
    ``x.where(w).sum(1)`` is 2 + 3 = 5 and 8, with 3 entries (``(x * w).sum(1)`` has all 8,
    five of them 0). Expanded into the windows: [[0, 5, 5, 0], [0, 0, 0, 8]] with 2 + 1 = 3
    entries, against 3 x 4 = 12 for ``expand`` then ``* w``; the constant 1 is kept in the
    window cells only.
    """
    lm = LinearModel()
    x = lm.add_var("b.x", (2, 4))
    vals = np.arange(1.0, 9.0)
    w = np.array([[False, True, True, False], [False, False, False, True]])
    s = x.expr().where(w).sum(1)
    assert s.value(vals).tolist() == [5.0, 8.0]
    assert len(s.row) == 3 and len((x * w).sum(1).row) == 8
    e = (s + 1.0).expand((2, 4), 1, mask=w)
    assert e.value(vals).tolist() == [[0, 6, 6, 0], [0, 0, 0, 9]]
    assert len(e.row) == 2 * 2 + 1 * 1
    assert len(((s + 1.0).expand((2, 4), 1) * w).row) == 3 * 4


def test_rows_with_mask_constant_and_sense():
    lm = LinearModel()
    x = lm.add_var("b.x", (3,), lb=0.0, ub=5.0)
    # x_i + 1 <= 4 on cells 0 and 2 only; x_0 - x_1 == 0
    block = lm.add_rows("b.cap", x + 1.0, "<=", 4.0, mask=np.array([True, False, True]))
    lm.add_rows("b.same", Expr.cells((), np.array([0, 0]), x.cols[:2], [1.0, -1.0]), "==", 0.0)
    c, offset, lb, ub, integer, A, lo, hi = lm.arrays()
    assert block.rows.tolist() == [0, -1, 1]
    assert dense(lm).tolist() == [[1, 0, 0], [0, 0, 1], [1, -1, 0]]
    assert hi.tolist() == [3.0, 3.0, 0.0] and lo[:2].tolist() == [-np.inf, -np.inf]
    assert lo[2] == 0.0
    assert ub.tolist() == [5.0, 5.0, 5.0] and not integer.any()


def test_duplicate_entries_are_summed_and_costs_collected():
    lm = LinearModel()
    x = lm.add_var("b.x", (2,))
    lm.add_rows("b.r", x.sum() + x.sum(), ">=", 1.0)  # 2 x0 + 2 x1 >= 1
    lm.add_cost((x * np.array([3.0, 4.0])).sum() + 7.0)
    lm.add_cost(x.sum())
    c, offset, *_ = lm.arrays()
    assert dense(lm).tolist() == [[2.0, 2.0]]
    assert c.tolist() == [4.0, 5.0] and offset == 7.0


def test_csc_from_coo_matches_a_dense_matrix():
    rng = np.random.default_rng(1)
    r = rng.integers(0, 5, 40)
    k = rng.integers(0, 7, 40)
    v = rng.normal(size=40)
    want = np.zeros((5, 7))
    np.add.at(want, (r, k), v)
    A = CSC.from_coo(r, k, v, (5, 7))
    got = np.zeros((5, 7))
    for j in range(7):
        for p in range(A.indptr[j], A.indptr[j + 1]):
            got[A.indices[p], j] += A.data[p]
    assert got == pytest.approx(want)
    assert all(np.all(np.diff(A.indices[A.indptr[j] : A.indptr[j + 1]]) > 0) for j in range(7))


def test_csc_from_coo_stores_no_zero_entries():
    # an explicit zero and a pair that cancels (+2 - 2) are not stored; the rest is
    r = [0, 1, 1, 2, 0]
    k = [0, 1, 1, 2, 2]
    v = [0.0, 2.0, -2.0, 3.0, 1.5]
    A = CSC.from_coo(r, k, v, (3, 3))
    assert A.nnz == 2
    assert A.indptr.tolist() == [0, 0, 0, 2]
    assert A.indices.tolist() == [0, 2] and A.data.tolist() == [1.5, 3.0]


def test_declaring_a_name_twice_is_an_error():
    lm = LinearModel()
    lm.add_var("b.x", (1,))
    with pytest.raises(ValueError, match="b.x"):
        lm.add_var("b.x", (1,))
    with pytest.raises(ValueError, match="sense"):
        lm.add_rows("b.r", Expr.zeros((1,)), "<")
