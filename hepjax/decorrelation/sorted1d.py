"""Exact O(N log N) pair sums of 1-D samples by sorting and cumulative sums.

The squared distance correlation of 1-D ``x`` and ``y`` needs, besides O(N) moments,

* the weighted row sums ``a_i = sum_j w_j |x_i - x_j|`` (and ``b_i`` for ``y``), and
* the cross term ``C = sum_ij w_i w_j |x_i - x_j| |y_i - y_j|``.

Row sums come from one sort and prefix sums of ``w`` and ``w x`` (Huo & Székely 2016,
Technometrics 58, 435). The cross term splits into concordant and discordant pairs,

    C = 2 D(x, y) + 2 D(x, -y),  D(x, y) = sum_i sum_{j: x_j < x_i, y_j < y_i} w_i w_j (x_i - x_j)(y_i - y_j),

and ``D`` is a weighted 2-D dominance sum. It is computed here without a sequential tree:
elements are placed once in ``(y, -x position)`` order, then a top-down stable partition over
``log2 N`` levels (a merge sort run backwards) gives, at every level and for every element of a
right half-block, the prefix sums of the left half-block's ``[w, w y, w x, w x y]`` over
elements with strictly smaller ``y``. Each level is a cumulative sum and a scatter: O(N) work,
O(N log N) in all, no data-dependent shapes, so it runs under ``jit`` on any backend.

Ties: pairs tied in ``x`` or in ``y`` contribute zero to every sum and are excluded from the
prefix sums (strict inequalities), so the gradient equals that of the dense path, whose
``|x_i - x_j|`` has derivative 0 at ``x_i = x_j``. The sort order is piecewise constant, so
gradients with respect to ``x``, ``y`` and ``w`` flow through the gathered sums only.
"""
from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def tie_ranks(x: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Sort order and tie-aware ranks of a 1-D array.

    Args:
      x: ``[N]`` values.

    Returns:
      ``(order, lo, hi)``, int32 ``[N]`` each: ``order`` sorts ``x`` ascending (stable);
      ``lo[k]`` = number of elements strictly smaller than ``x[order[k]]`` and ``hi[k]`` = number
      of elements smaller or equal, both indexed in sorted position ``k``.
    """
    n = x.shape[0]
    order = jnp.argsort(x, stable=True).astype(jnp.int32)
    xs = lax.stop_gradient(x)[order]
    k = jnp.arange(n, dtype=jnp.int32)
    first = jnp.concatenate([jnp.array([True]), xs[1:] != xs[:-1]])
    last = jnp.concatenate([xs[1:] != xs[:-1], jnp.array([True])])
    lo = lax.cummax(jnp.where(first, k, 0))
    hi = lax.cummin(jnp.where(last, k + 1, n), reverse=True)
    return order, lo, hi


def _exclusive_cumsum(v: jax.Array, axis: int = 0) -> jax.Array:
    return jnp.cumsum(v, axis=axis) - v


def row_abs_sums(x: jax.Array, w: jax.Array) -> jax.Array:
    """``a_i = sum_j w_j |x_i - x_j|`` for all ``i`` in O(N log N).

    Args:
      x: ``[N]`` values; w: ``[N]`` non-negative weights.

    Returns:
      ``[N]`` row sums, in the order of ``x``.
    """
    # strictly below: weight cw[lo], moment cwx[lo]; strictly above: totals minus cw[hi].
    return row_sums_from_order(x, w, *tie_ranks(x))


class Orders(NamedTuple):
    """Integer sort information of 1-D ``x`` and ``y`` (no gradients), see :func:`orders`.

    ``ox, lox, hix``: :func:`tie_ranks` of ``x``; ``oy, loy, hiy`` of ``y``; ``arr_c, pos_c``
    and ``arr_d, pos_d``: the arrangement and padded x positions of the dominance sums of
    ``(x, y)`` (concordant pairs) and ``(x, -y)`` (discordant pairs).
    """

    ox: jax.Array
    lox: jax.Array
    hix: jax.Array
    oy: jax.Array
    loy: jax.Array
    hiy: jax.Array
    arr_c: jax.Array
    pos_c: jax.Array
    arr_d: jax.Array
    pos_d: jax.Array


def _pow2(n: int) -> int:
    return 1 << max(1, (n - 1).bit_length())


def _argsort_np(v: np.ndarray) -> np.ndarray:
    """Ascending order of a float or int array; ties in arbitrary order (callers need none)."""
    n = v.shape[0]
    if v.dtype == np.float32 and n < (1 << 31):
        u = v.view(np.uint32).astype(np.uint64)
        u = np.where(u >> 31, ~u & 0xFFFFFFFF, u | 0x80000000)  # order-preserving float -> uint
        return (np.sort((u << 32) | np.arange(n, dtype=np.uint64)) & 0xFFFFFFFF).astype(np.int32)
    return np.argsort(v, kind="stable").astype(np.int32)


def _tie_ranks_np(v: np.ndarray):
    n = v.shape[0]
    order = _argsort_np(v)
    vs = v[order]
    k = np.arange(n, dtype=np.int32)
    first = np.r_[True, vs[1:] != vs[:-1]]
    last = np.r_[vs[1:] != vs[:-1], True]
    lo = np.maximum.accumulate(np.where(first, k, 0)).astype(np.int32)
    hi = np.minimum.accumulate(np.where(last, k + 1, n)[::-1])[::-1].astype(np.int32)
    return order, lo, hi


def _sort_keys_np(k1: np.ndarray, k2: np.ndarray, bits: int) -> np.ndarray:
    """Indices sorting by ``(k1, k2)`` ascending (non-negative ints < 2**bits)."""
    n = k1.shape[0]
    if 3 * bits <= 63:
        key = (k1.astype(np.int64) << (2 * bits)) | (k2.astype(np.int64) << bits) | np.arange(n, dtype=np.int64)
        return (np.sort(key) & ((1 << bits) - 1)).astype(np.int32)
    return np.lexsort((k2, k1)).astype(np.int32)


def _pass_np(rx: np.ndarray, ry: np.ndarray):
    n = rx.shape[0]
    size = _pow2(n)
    bits = max(1, size.bit_length())
    by_x = _sort_keys_np(rx, n - 1 - ry, bits)  # ascending x, ties by descending y
    pos = np.empty(n, np.int32)
    pos[by_x] = np.arange(n, dtype=np.int32)
    pos_p = np.r_[pos, np.arange(n, size, dtype=np.int32)]
    ry_p = np.r_[ry, np.full(size - n, n, np.int32)]
    arr = _sort_keys_np(ry_p, size - 1 - pos_p, bits)  # ascending y, ties by descending position
    return arr, pos_p


def _orders_np(x: np.ndarray, y: np.ndarray):
    ox, lox, hix = _tie_ranks_np(x)
    oy, loy, hiy = _tie_ranks_np(y)
    n = x.shape[0]
    rx = np.empty(n, np.int32)
    rx[ox] = lox
    ry = np.empty(n, np.int32)
    ry[oy] = loy
    ry_gt = np.empty(n, np.int32)  # rank of -y: the number of strictly larger y
    ry_gt[oy] = n - hiy
    return (ox, lox, hix, oy, loy, hiy, *_pass_np(rx, ry), *_pass_np(rx, ry_gt))


def _pass_xla(rx: jax.Array, ry: jax.Array):
    n = rx.shape[0]
    size = _pow2(n)
    idx = jnp.arange(n, dtype=jnp.int32)
    _, _, by_x = lax.sort((rx, -ry, idx), num_keys=2)
    pos = jnp.zeros(n, jnp.int32).at[by_x].set(idx)
    pos_p = jnp.concatenate([pos, jnp.arange(n, size, dtype=jnp.int32)])
    ry_p = jnp.concatenate([ry, jnp.full((size - n,), n, jnp.int32)])
    _, _, arr = lax.sort((ry_p, -pos_p, jnp.arange(size, dtype=jnp.int32)), num_keys=2)
    return arr, pos_p


def _orders_xla(x: jax.Array, y: jax.Array):
    ox, lox, hix = tie_ranks(x)
    oy, loy, hiy = tie_ranks(y)
    n = x.shape[0]
    rx = jnp.zeros(n, jnp.int32).at[ox].set(lox)
    ry = jnp.zeros(n, jnp.int32).at[oy].set(loy)
    ry_gt = jnp.zeros(n, jnp.int32).at[oy].set(n - hiy)
    return (ox, lox, hix, oy, loy, hiy, *_pass_xla(rx, ry), *_pass_xla(rx, ry_gt))


def orders(x: jax.Array, y: jax.Array) -> Orders:
    """All sort orders the sorted path needs, for ``[N]`` arrays ``x`` and ``y``.

    On CPU the integer orders come from NumPy through :func:`jax.pure_callback` (XLA:CPU's
    comparator sort is ~10x slower than NumPy's vectorised sort of packed 64-bit keys); on
    other backends from ``lax.sort``. Both give identical sums: only the order of tied
    elements may differ, and ties contribute nothing.
    """
    x, y = lax.stop_gradient(x), lax.stop_gradient(y)
    n = x.shape[0]
    size = _pow2(n)
    shapes = tuple(jax.ShapeDtypeStruct((m,), jnp.int32) for m in (n,) * 6 + (size,) * 4)

    def on_cpu(x, y):
        return jax.pure_callback(lambda a, b: tuple(_orders_np(np.asarray(a), np.asarray(b))), shapes, x, y)

    return Orders(*lax.platform_dependent(x, y, cpu=on_cpu, default=_orders_xla))


def row_sums_from_order(v: jax.Array, w: jax.Array, order: jax.Array, lo: jax.Array, hi: jax.Array) -> jax.Array:
    """:func:`row_abs_sums` given the output of :func:`tie_ranks`."""
    vs, ws = v[order], w[order]
    zero = jnp.zeros((1,), v.dtype)
    cw = jnp.concatenate([zero, jnp.cumsum(ws)])
    cwv = jnp.concatenate([zero, jnp.cumsum(ws * vs)])
    a_sorted = vs * (cw[lo] - (cw[-1] - cw[hi])) - cwv[lo] + (cwv[-1] - cwv[hi])
    return jnp.zeros_like(v).at[order].set(a_sorted, unique_indices=True)


def _inverse(perm: jax.Array) -> jax.Array:
    return jnp.zeros_like(perm).at[perm].set(jnp.arange(perm.shape[0], dtype=perm.dtype), unique_indices=True)


def dominance_from_order(x: jax.Array, y: jax.Array, w: jax.Array, arr: jax.Array, pos_p: jax.Array) -> jax.Array:
    """``D = sum_i sum_{j: x_j < x_i, y_j < y_i} w_i w_j (x_i - x_j)(y_i - y_j)`` (strict).

    Args:
      x, y, w: ``[N]``.
      arr: ``[S]`` (``S`` = power of two >= N) element ids in ascending-y order (ties by
        descending position); ids >= N are padding.
      pos_p: ``[S]`` x position of every id (ascending x, ties by descending y; padding last).

    Returns:
      scalar; ``log2 S`` levels of O(S) work. The arranged per-element data travel through the
      levels by gathers with the inverse of a stable partition of every block (monotone within
      each half block, so cache-friendly), computed by one int32 scatter per level.
    """
    n = x.shape[0]
    size = arr.shape[0]
    zpad = jnp.zeros((size - n,), x.dtype)
    xp_, yp_, wp_ = (jnp.concatenate([v, zpad]) for v in (x, y, w))
    data = jnp.stack(
        [wp_, wp_ * yp_, wp_ * xp_, wp_ * xp_ * yp_,  # summed over j (left, below)
         wp_ * xp_ * yp_, -wp_ * xp_, -wp_ * yp_, wp_],  # times the sum, for i (right)
        axis=-1,
    )
    data = data[arr]
    pos = pos_p[arr]
    total = jnp.zeros((), x.dtype)
    block = size
    while block >= 2:
        half = block // 2
        nblk = size // block
        left = (pos & half) == 0  # block-relative position < half (blocks are aligned)
        lf = left.astype(x.dtype)[:, None]
        v = jnp.concatenate([data[:, :4] * lf, lf], axis=1).reshape(nblk, block, 5)
        prefix = _exclusive_cumsum(v, axis=1).reshape(size, 5)
        total = total + jnp.sum(data[:, 4:] * (1.0 - lf) * prefix[:, :4])
        if half >= 2:  # stable partition of every block: left-half elements, then right-half ones.
            n_left_before = prefix[:, 4].astype(jnp.int32)
            k_in_block = jnp.arange(size, dtype=jnp.int32) & (block - 1)
            slot = jnp.where(left, n_left_before, half + k_in_block - n_left_before)
            dest = (jnp.arange(size, dtype=jnp.int32) & ~(block - 1)) + slot
            src = _inverse(dest)
            data = data[src]
            pos = pos[src]
        block = half
    return total


def dominance_cross_sum(x: jax.Array, y: jax.Array, w: jax.Array) -> jax.Array:
    """:func:`dominance_from_order` computing its own orders (for tests and one-off use)."""
    o = orders(x, y)
    return dominance_from_order(x, y, w, o.arr_c, o.pos_c)


def cross_abs_sum(x: jax.Array, y: jax.Array, w: jax.Array, o: Orders | None = None) -> jax.Array:
    """``C = sum_ij w_i w_j |x_i - x_j| |y_i - y_j|`` in O(N log N), exact, ties allowed."""
    o = orders(x, y) if o is None else o
    return 2.0 * (dominance_from_order(x, y, w, o.arr_c, o.pos_c) + dominance_from_order(x, -y, w, o.arr_d, o.pos_d))
