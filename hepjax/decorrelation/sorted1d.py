"""Exact O(N log N) pair sums of 1-D samples by sorting and prefix sums.

The squared distance correlation of 1-D ``x`` and ``y`` needs, besides O(N) moments,

* the weighted row sums ``a_i = sum_j w_j |x_i - x_j|`` (and ``b_i`` for ``y``), and
* the cross term ``C = sum_ij w_i w_j |x_i - x_j| |y_i - y_j|``.

Row sums come from one sort and prefix sums of ``w`` and ``w x`` (Huo & Székely 2016,
Technometrics 58, 435). For the cross term every event ``i`` needs the sums of
``f_j = w_j (1, x_j, y_j, x_j y_j)`` over its concordant minus its discordant partners; these
follow from the sums over its strictly lower-left quadrant (a weighted 2-D dominance sum),
one-dimensional prefix sums and the sums over its tie groups (:func:`cross_row_terms`).
The dominance sums need no sequential tree: elements are placed once in ``(y, -x position)``
order, then a top-down stable partition over the levels of a merge sort run backwards gives, at
every level and for every element of a right half-block, the prefix sum of the left
half-block's rows below it in y. Each level is a prefix sum and a gather: O(N) work, no
data-dependent shapes, so it runs under ``jit`` on any backend. The last ``log2 DENSE_BLOCK``
levels are one dense ``[B, B]`` mask per block.

The per-event sums give the value ``C = sum_i w_i R_i`` and, in the same pass, its gradient
(``dC/dx_i = 2 w_i G_i`` and so on): :func:`cross_abs_sum` has a custom VJP, so reverse mode
never differentiates through the partition levels.

Ties: pairs tied in ``x`` or in ``y`` contribute zero to every sum and are excluded (strict
inequalities), so the gradient equals that of the dense path, whose ``|x_i - x_j|`` has
derivative 0 at ``x_i = x_j``. The sort order is piecewise constant and carries no gradient.
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

    In x order (``ox``: ascending ``x``, ties by descending ``y``), for the element at sorted
    position ``k``: ``[lox, hix)`` is the range of its ``x`` tie group and ``[sxy, exy)`` that of
    its ``(x, y)`` duplicates. In y order (``oy``: ascending ``y``, ties by descending ``x``):
    ``[loy, hiy)`` its ``y`` tie group, ``eyx`` the end of its ``(y, x)`` duplicates.
    ``arr``: ``oy`` padded with the ids ``N .. S-1`` to ``S`` (a power of two); ``pos``: the
    position of every id in ``ox``, padding ids after the ``N`` real ones.
    """

    ox: jax.Array
    lox: jax.Array
    hix: jax.Array
    sxy: jax.Array
    exy: jax.Array
    oy: jax.Array
    loy: jax.Array
    hiy: jax.Array
    eyx: jax.Array
    arr: jax.Array
    pos: jax.Array


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


def _bounds_np(*keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``[lo, hi)`` of the run of equal key tuples that each position of sorted ``keys`` is in."""
    n = keys[0].shape[0]
    k = np.arange(n, dtype=np.int32)
    change = np.zeros(max(n - 1, 0), bool)
    for key in keys:
        change |= key[1:] != key[:-1]
    lo = np.maximum.accumulate(np.where(np.r_[True, change], k, 0)).astype(np.int32)
    hi = np.minimum.accumulate(np.where(np.r_[change, True], k + 1, n)[::-1])[::-1].astype(np.int32)
    return lo, hi


def _tie_ranks_np(v: np.ndarray):
    order = _argsort_np(v)
    return (order, *_bounds_np(v[order]))


def _sort_keys_np(k1: np.ndarray, k2: np.ndarray, bits: int) -> np.ndarray:
    """Indices sorting by ``(k1, k2)`` ascending (non-negative ints < 2**bits)."""
    n = k1.shape[0]
    if 3 * bits <= 63:
        key = (k1.astype(np.int64) << (2 * bits)) | (k2.astype(np.int64) << bits) | np.arange(n, dtype=np.int64)
        return (np.sort(key) & ((1 << bits) - 1)).astype(np.int32)
    return np.lexsort((k2, k1)).astype(np.int32)


def _orders_np(x: np.ndarray, y: np.ndarray):
    n = x.shape[0]
    size = _pow2(n)
    bits = max(1, size.bit_length())
    rx, ry = np.empty(n, np.int32), np.empty(n, np.int32)  # ranks: number of strictly smaller values
    o, lo, _ = _tie_ranks_np(x)
    rx[o] = lo
    o, lo, _ = _tie_ranks_np(y)
    ry[o] = lo
    ox = _sort_keys_np(rx, n - 1 - ry, bits)  # ascending x, ties by descending y
    lox, hix = _bounds_np(rx[ox])
    sxy, exy = _bounds_np(rx[ox], ry[ox])
    pos = np.empty(size, np.int32)
    pos[ox] = np.arange(n, dtype=np.int32)
    pos[n:] = np.arange(n, size, dtype=np.int32)
    ry_p = np.r_[ry, np.full(size - n, n, np.int32)]
    arr = _sort_keys_np(ry_p, size - 1 - pos, bits)  # ascending y, ties by descending position
    oy = arr[:n]
    loy, hiy = _bounds_np(ry[oy])
    _, eyx = _bounds_np(ry[oy], rx[oy])
    return ox, lox, hix, sxy, exy, oy, loy, hiy, eyx, arr, pos


def _bounds_xla(*keys: jax.Array) -> tuple[jax.Array, jax.Array]:
    n = keys[0].shape[0]
    k = jnp.arange(n, dtype=jnp.int32)
    change = jnp.zeros((n - 1,), bool)
    for key in keys:
        change = change | (key[1:] != key[:-1])
    lo = lax.cummax(jnp.where(jnp.concatenate([jnp.array([True]), change]), k, 0))
    hi = lax.cummin(jnp.where(jnp.concatenate([change, jnp.array([True])]), k + 1, n), reverse=True)
    return lo, hi


def _orders_xla(x: jax.Array, y: jax.Array):
    n = x.shape[0]
    size = _pow2(n)
    idx = jnp.arange(n, dtype=jnp.int32)
    ox0, lox0, _ = tie_ranks(x)
    oy0, loy0, _ = tie_ranks(y)
    rx = jnp.zeros(n, jnp.int32).at[ox0].set(lox0)
    ry = jnp.zeros(n, jnp.int32).at[oy0].set(loy0)
    _, _, ox = lax.sort((rx, -ry, idx), num_keys=2)
    lox, hix = _bounds_xla(rx[ox])
    sxy, exy = _bounds_xla(rx[ox], ry[ox])
    pos = jnp.concatenate([jnp.zeros(n, jnp.int32).at[ox].set(idx), jnp.arange(n, size, dtype=jnp.int32)])
    ry_p = jnp.concatenate([ry, jnp.full((size - n,), n, jnp.int32)])
    _, _, arr = lax.sort((ry_p, -pos, jnp.arange(size, dtype=jnp.int32)), num_keys=2)
    oy = arr[:n]
    loy, hiy = _bounds_xla(ry[oy])
    _, eyx = _bounds_xla(ry[oy], rx[oy])
    return ox, lox, hix, sxy, exy, oy, loy, hiy, eyx, arr, pos


def orders(x: jax.Array, y: jax.Array) -> Orders:
    """All sort orders the sorted path needs, for ``[N]`` arrays ``x`` and ``y``.

    On CPU the integer orders come from NumPy through :func:`jax.pure_callback` (XLA:CPU's
    comparator sort is much slower than NumPy's vectorised sort of packed 64-bit keys); on
    other backends from ``lax.sort``. Both give the same orders.
    """
    x, y = lax.stop_gradient(x), lax.stop_gradient(y)
    n = x.shape[0]
    size = _pow2(n)
    shapes = tuple(jax.ShapeDtypeStruct((m,), jnp.int32) for m in (n,) * 9 + (size,) * 2)

    def on_cpu(x, y):
        return jax.pure_callback(lambda a, b: tuple(_orders_np(np.asarray(a), np.asarray(b))), shapes, x, y)

    return Orders(*lax.platform_dependent(x, y, cpu=on_cpu, default=_orders_xla))


def row_sums_from_order(v: jax.Array, w: jax.Array, order: jax.Array, lo: jax.Array, hi: jax.Array) -> jax.Array:
    """:func:`row_abs_sums` given the output of :func:`tie_ranks`."""
    vs, ws = v[order], w[order]
    zero = jnp.zeros((1,), v.dtype)
    cw = jnp.concatenate([zero, lax.associative_scan(jnp.add, ws)])
    cwv = jnp.concatenate([zero, lax.associative_scan(jnp.add, ws * vs)])
    a_sorted = vs * (cw[lo] - (cw[-1] - cw[hi])) - cwv[lo] + (cwv[-1] - cwv[hi])
    return jnp.zeros_like(v).at[order].set(a_sorted, unique_indices=True)


def _inverse(perm: jax.Array) -> jax.Array:
    return jnp.zeros_like(perm).at[perm].set(jnp.arange(perm.shape[0], dtype=perm.dtype), unique_indices=True)


def _block_cumsum(v: jax.Array) -> jax.Array:
    """Inclusive prefix sums along axis 1 of ``[n_blocks, block, c]``.

    ``lax.associative_scan`` rather than ``jnp.cumsum``: XLA:CPU lowers the latter to a
    ``reduce_window``, which is slower here (docs/defaults.md).
    """
    return lax.associative_scan(jnp.add, v, axis=1)


# Position blocks of at most this many elements are finished with one dense [B, B] mask per
# block (S * B multiply-adds) instead of log2(B) more partition levels of gathers and scatters.
DENSE_BLOCK = 32


def lower_left_sums(x: jax.Array, y: jax.Array, w: jax.Array, arr: jax.Array, pos_p: jax.Array) -> jax.Array:
    """``LL_i = sum_{j: x_j < x_i, y_j < y_i} w_j (1, x_j, y_j, x_j y_j)`` for every ``i`` (strict).

    Args:
      x, y, w: ``[N]``.
      arr, pos_p: ``Orders.arr`` and ``Orders.pos`` of :func:`orders` (``[S]``).

    Returns:
      ``[N, 4]``, in the order of ``x``. Work: ``log2(S / DENSE_BLOCK)`` partition levels of
      O(S) each -- a prefix sum, and a gather of the arranged rows through the inverse of a
      stable partition of every block (monotone within each half block) -- and one dense level
      of O(S * DENSE_BLOCK). At every level each element of a right half-block adds the prefix
      sum of the rows of the left half that lie below it in y.
    """
    n = x.shape[0]
    size = arr.shape[0]
    zpad = jnp.zeros((size - n,), x.dtype)
    xp_, yp_, wp_ = (jnp.concatenate([v, zpad]) for v in (x, y, w))
    rows = jnp.stack([wp_, wp_ * xp_, wp_ * yp_, wp_ * xp_ * yp_], axis=-1)
    state = jnp.concatenate([rows, jnp.zeros_like(rows)], axis=1)[arr]  # [rows | accumulated sums]
    pos = pos_p[arr]
    k = jnp.arange(size, dtype=jnp.int32)
    block = size
    while block > DENSE_BLOCK:
        half = block // 2
        nblk = size // block
        left = (pos & half) == 0  # block-relative position < half (blocks are aligned)
        lf = left.astype(x.dtype)[:, None]
        prefix = _block_cumsum(jnp.concatenate([state[:, :4] * lf, lf], axis=1).reshape(nblk, block, 5))
        prefix = prefix.reshape(size, 5)
        # a right element's own (left-masked) row is 0: the inclusive prefix is the sum below it.
        state = state.at[:, 4:].add(jnp.where(left[:, None], 0.0, prefix[:, :4]))
        # stable partition of every block: left-half elements, then right-half ones.
        n_left_before = prefix[:, 4].astype(jnp.int32) - left.astype(jnp.int32)
        slot = jnp.where(left, n_left_before, half + (k & (block - 1)) - n_left_before)
        src = _inverse((k & ~(block - 1)) + slot)
        state = state[src]
        pos = pos[src]
        block = half
    # Blocks of `block` positions, each sorted by y (ties by descending position): j is strictly
    # lower-left of i iff it comes earlier in y and in position.
    nblk = size // block
    pb = pos.reshape(nblk, block)
    kb = jnp.arange(block)
    below = (kb[None, :, None] > kb[None, None, :]) & (pb[:, :, None] > pb[:, None, :])  # [b, i, j]
    data = state[:, :4].reshape(nblk, block, 4)
    acc = state[:, 4:] + jnp.einsum("bij,bjc->bic", below.astype(x.dtype), data).reshape(size, 4)
    by_pos = jnp.zeros_like(acc).at[pos].set(acc, unique_indices=True)
    return by_pos[pos_p[:n]]


def _exclusive_prefix(v: jax.Array) -> jax.Array:
    """``[N + 1, c]`` sums of the first ``k`` rows of ``v [N, c]``."""
    return jnp.concatenate([jnp.zeros_like(v[:1]), _block_cumsum(v[None])[0]], axis=0)


def cross_row_terms(x: jax.Array, y: jax.Array, w: jax.Array, o: Orders) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Per-element cross sums, ``[N]`` each, exact with ties:

    * ``R_i = sum_j w_j |x_i - x_j| |y_i - y_j|``,
    * ``G_i = sum_j w_j sign(x_i - x_j) |y_i - y_j|``,
    * ``H_i = sum_j w_j sign(y_i - y_j) |x_i - x_j|``.

    With ``s_ij = +1`` for concordant pairs, ``-1`` for discordant ones and 0 for ties, each is
    ``sum_j w_j s_ij (...)`` of a polynomial in ``x_j, y_j``, i.e. linear in
    ``D_i = sum_j s_ij f_j`` with ``f_j = w_j (1, x_j, y_j, x_j y_j)``. Counting the quadrants
    around ``i`` from the strictly lower-left one (:func:`lower_left_sums`) and one-dimensional
    prefix sums gives

        D = 4 LL + (Y> - Y<) - 2 X< + 2 T[y=, x<] + T[x=, y<] - T[x=, y>],

    ``X<``: sum of ``f`` over ``x_j < x_i``; ``Y<, Y>`` likewise in y; ``T[y=, x<]``: over the
    ``y`` ties of ``i`` with smaller ``x``, and so on.
    """
    f = jnp.stack([w, w * x, w * y, w * x * y], axis=-1)
    cx = _exclusive_prefix(f[o.ox])  # x order, x ties by descending y
    t_x = cx[o.hix] - cx[o.exy] - (cx[o.sxy] - cx[o.lox])  # T[x=, y<] - T[x=, y>]
    part_x = t_x - 2.0 * cx[o.lox]
    cy = _exclusive_prefix(f[o.oy])  # y order, y ties by descending x
    part_y = (cy[-1] - cy[o.hiy]) - cy[o.loy] + 2.0 * (cy[o.hiy] - cy[o.eyx])
    d = 4.0 * lower_left_sums(x, y, w, o.arr, o.pos)
    d = d.at[o.ox].add(part_x, unique_indices=True).at[o.oy].add(part_y, unique_indices=True)
    c, sx, sy, sxy = d[:, 0], d[:, 1], d[:, 2], d[:, 3]
    g = y * c - sy
    h = x * c - sx
    r = x * g - y * sx + sxy
    return r, g, h


@jax.custom_vjp
def _cross_abs_sum(x: jax.Array, y: jax.Array, w: jax.Array, o: Orders) -> jax.Array:
    r, _, _ = cross_row_terms(x, y, w, o)
    return jnp.sum(w * r)


def _cross_fwd(x, y, w, o):
    r, g, h = cross_row_terms(x, y, w, o)
    return jnp.sum(w * r), (w, r, g, h)


def _cross_bwd(res, ct):
    # C = sum_ij w_i w_j |dx_ij| |dy_ij|: every event enters as i and as j, hence the 2.
    w, r, g, h = res
    return 2.0 * ct * w * g, 2.0 * ct * w * h, 2.0 * ct * r, None


_cross_abs_sum.defvjp(_cross_fwd, _cross_bwd)


def cross_abs_sum(x: jax.Array, y: jax.Array, w: jax.Array, o: Orders | None = None) -> jax.Array:
    """``C = sum_ij w_i w_j |x_i - x_j| |y_i - y_j|`` in O(N log N), exact, ties allowed.

    Reverse-mode differentiable by a custom VJP (``dC/dx_i = 2 w_i G_i``, ``dC/dy_i = 2 w_i H_i``,
    ``dC/dw_i = 2 R_i`` from :func:`cross_row_terms`, computed in the same pass as the value),
    so no derivative is taken through the partition levels; forward mode is not supported.
    The derivative of ``|t|`` at ``t = 0`` is taken as 0, as in the dense path.
    """
    o = orders(x, y) if o is None else o
    return _cross_abs_sum(x, y, w, o)
