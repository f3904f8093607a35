"""Weighted squared distance correlation (DisCo), dense, memory-tiled and fast 1-D.

DisCo (Kasieczka & Shih, PRL 125 (2020) 122001) adds ``lambda * dCor^2(score, mass)`` of the
background to a classifier's loss. With normalised weights ``p_i = w_i / W``, ``W = sum_i w_i``,
pair distances ``a_ij = |x_i - x_j|`` (Euclidean for vectors) and row sums ``a_i = sum_j w_j a_ij``,
the **biased (V-statistic) squared distance covariance** is

    dCov^2(x, y) = S_ab / W^2 - 2 R_ab / W^3 + S_a S_b / W^4,
    S_ab = sum_ij w_i w_j a_ij b_ij,  R_ab = sum_i w_i a_i b_i,  S_a = sum_i w_i a_i,

which is DisCo's weighted double-centred form and, for unit weights,
``dcor.distance_covariance_sqr``. The **unbiased (U-statistic)** variant (Székely & Rizzo 2014)
treats weights as frequencies, ``n = W``:

    dCov_U^2 = [S_ab - 2 R_ab / (n - 2) + S_a S_b / ((n - 1)(n - 2))] / (n (n - 3)).

In both, a weight of 2 on an event equals duplicating it. The squared distance correlation is
``dCov^2(x, y) / sqrt(|dCov^2(x, x) dCov^2(y, y)|)``, defined as 0 when the denominator is 0
(constant ``x`` or ``y``, as ``dcor`` does), and ``power`` raises it to an integer power
(DisCo's ``power`` argument; ``power=1`` is the DisCo loss).

Three evaluations of the same sums:

* ``"sorted"`` — 1-D ``x`` and ``y`` only: O(N log N) time, O(N) memory (:mod:`sorted1d`);
  its cross term has a custom VJP (reverse mode only: ``jax.grad``, not ``jax.jvp``);
* ``"dense"`` — the ``[N, N]`` distance matrices at once: O(N^2) memory;
* ``"tiled"`` — a ``lax.scan`` over row tiles of ``tile`` rows, rematerialised in the backward
  pass: O(N * tile) memory for value and gradient.

``method="auto"`` picks ``"sorted"`` for 1-D inputs, else ``"tiled"`` (faster than ``"dense"`` at
every N: its blocks stay in cache). Both compute per row ``a_i``, ``b_i`` and ``sum_j w_j a_ij b_ij``
in one fused pass and never form the double-centred matrices; ``S_aa = sum_ij w_i w_j |x_i - x_j|^2``
has a closed form.

Gradient convention: ``d|x_i - x_j| / dx_i = 0`` at ``x_i = x_j`` (for vectors, the gradient of
the norm at zero distance is 0), so all three methods have identical gradients, ties included.

Bad input: mismatched lengths or shapes raise ``ValueError`` (also under ``jit``). With concrete
inputs, NaN/inf values, negative weights, all-zero weights (or, unbiased, total weight <= 3)
raise ``ValueError``. Under ``jit`` they cannot raise: the value is then NaN — which
:func:`hepjax.train.fit` stops on with ``NonFiniteError`` — while the gradient stays finite
(the offending events are masked out of the computation).

Example::

    import jax.numpy as jnp
    from hepjax.decorrelation import distance_correlation
    x = jnp.linspace(0.0, 1.0, 1000)
    distance_correlation(x, 3.0 * x + 1.0)        # 1.0: exact linear relation
    distance_correlation(x, jnp.cos(40.0 * x))    # small
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from hepjax.decorrelation.sorted1d import cross_abs_sum, orders, row_sums_from_order
from hepjax.errors import is_concrete

METHODS = ("auto", "sorted", "dense", "tiled")
TILE_ROWS = 128  # default rows per tile: a [128, N] block of each distance matrix


class PairSums(NamedTuple):
    """The weighted pair sums every statistic is built from (scalars)."""

    w: jax.Array  # W = sum w
    s_ab: jax.Array  # sum_ij w_i w_j a_ij b_ij
    s_aa: jax.Array
    s_bb: jax.Array
    r_ab: jax.Array  # sum_i w_i a_i b_i
    r_aa: jax.Array
    r_bb: jax.Array
    s_a: jax.Array  # sum_i w_i a_i
    s_b: jax.Array


def _dist(u: jax.Array, v: jax.Array) -> jax.Array:
    """Euclidean distances ``[T, N]`` between columns of ``u [d, T]`` and ``v [d, N]``, zero-safe gradient.

    Coordinate by coordinate (``d`` is small and static) so that XLA fuses the distances into
    the row reductions of :func:`_rows` without materialising ``[T, N, d]``.
    """
    if u.shape[0] == 1:
        d = u[0][:, None] - v[0][None, :]
        return jnp.where(d != 0, jnp.abs(d), 0.0)
    d2 = sum((u[k][:, None] - v[k][None, :]) ** 2 for k in range(u.shape[0]))
    pos = d2 > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, d2, 1.0)), 0.0)


def _rows(xt: jax.Array, yt: jax.Array, xc: jax.Array, yc: jax.Array, w: jax.Array) -> jax.Array:
    """``[3, T]``: ``a_i = sum_j w_j a_ij``, ``b_i`` and ``c_i = sum_j w_j a_ij b_ij`` for the rows ``i``
    of ``xt [dx, T]``, ``yt [dy, T]`` against all columns ``xc [dx, N]``, ``yc [dy, N]``."""
    a = _dist(xt, xc)
    b = _dist(yt, yc)
    return jnp.stack([jnp.sum(a * w, axis=1), jnp.sum(b * w, axis=1), jnp.sum(a * b * w, axis=1)])


def _square_sum(v: jax.Array, w: jax.Array, big_w: jax.Array) -> jax.Array:
    """``sum_ij w_i w_j |v_i - v_j|^2 = 2 (W sum_i w_i |v_i|^2 - |sum_i w_i v_i|^2)`` for ``v [N, d]``."""
    return 2.0 * (big_w * jnp.sum(w * jnp.sum(v * v, axis=1)) - jnp.sum((w @ v) ** 2))


def _sums_from_rows(x: jax.Array, y: jax.Array, w: jax.Array, rows: jax.Array) -> PairSums:
    ra, rb, c = rows
    big_w = jnp.sum(w)
    return PairSums(
        big_w,
        w @ c,
        _square_sum(x, w, big_w),
        _square_sum(y, w, big_w),
        w @ (ra * rb),
        w @ (ra * ra),
        w @ (rb * rb),
        w @ ra,
        w @ rb,
    )


def dense_sums(x: jax.Array, y: jax.Array, w: jax.Array) -> PairSums:
    """Pair sums from full ``[N, N]`` distance matrices. x: ``[N, dx]``, y: ``[N, dy]``, w: ``[N]``."""
    return _sums_from_rows(x, y, w, _rows(x.T, y.T, x.T, y.T, w))


def tiled_sums(x: jax.Array, y: jax.Array, w: jax.Array, *, tile: int) -> PairSums:
    """Pair sums from ``[tile, N]`` blocks in a rematerialised scan: O(N * tile) memory.

    Besides bounding memory, small tiles keep each block in cache, which makes them faster than the
    one-block dense evaluation (docs/defaults.md).
    """
    n = x.shape[0]
    n_tiles = -(-n // tile)
    pad = n_tiles * tile - n
    xc, yc = x.T, y.T
    # rows of the padding carry zero weight in _sums_from_rows.
    xt = jnp.pad(xc, ((0, 0), (0, pad))).reshape(xc.shape[0], n_tiles, tile).transpose(1, 0, 2)
    yt = jnp.pad(yc, ((0, 0), (0, pad))).reshape(yc.shape[0], n_tiles, tile).transpose(1, 0, 2)

    @jax.checkpoint
    def body(carry, t):
        return carry, _rows(t[0], t[1], xc, yc, w)

    _, rows = lax.scan(body, None, (xt, yt))  # [n_tiles, 3, tile]
    rows = rows.transpose(1, 0, 2).reshape(3, n_tiles * tile)[:, :n]
    return _sums_from_rows(x, y, w, rows)


def sorted_sums(x: jax.Array, y: jax.Array, w: jax.Array) -> PairSums:
    """Pair sums of 1-D ``x``, ``y`` (``[N]``) in O(N log N) by sorting; exact."""
    o = orders(x, y)
    a = row_sums_from_order(x, w, o.ox, o.lox, o.hix)
    b = row_sums_from_order(y, w, o.oy, o.loy, o.hiy)
    big_w = jnp.sum(w)
    return PairSums(
        big_w,
        cross_abs_sum(x, y, w, o),
        _square_sum(x[:, None], w, big_w),
        _square_sum(y[:, None], w, big_w),
        jnp.sum(w * a * b),
        jnp.sum(w * a * a),
        jnp.sum(w * b * b),
        jnp.sum(w * a),
        jnp.sum(w * b),
    )


def _cov(s_ab, r_ab, s_a, s_b, n, unbiased: bool):
    if unbiased:
        return (s_ab - 2.0 * r_ab / (n - 2.0) + s_a * s_b / ((n - 1.0) * (n - 2.0))) / (n * (n - 3.0))
    return s_ab / n**2 - 2.0 * r_ab / n**3 + s_a * s_b / n**4


def covariances(s: PairSums, *, unbiased: bool = False) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(dCov^2(x, y), dCov^2(x, x), dCov^2(y, y))`` from pair sums (V- or U-statistic)."""
    n = s.w
    return (
        _cov(s.s_ab, s.r_ab, s.s_a, s.s_b, n, unbiased),
        _cov(s.s_aa, s.r_aa, s.s_a, s.s_a, n, unbiased),
        _cov(s.s_bb, s.r_bb, s.s_b, s.s_b, n, unbiased),
    )


def correlation_from_sums(s: PairSums, *, unbiased: bool = False) -> jax.Array:
    """Squared distance correlation from pair sums; 0 where ``dCov^2(x,x) dCov^2(y,y) = 0``."""
    cxy, cxx, cyy = covariances(s, unbiased=unbiased)
    den2 = jnp.abs(cxx * cyy)
    ok = den2 > 0
    den = jnp.sqrt(jnp.where(ok, den2, 1.0))
    return jnp.where(ok, cxy / den, 0.0)


def _as_2d(v: jax.Array, name: str) -> jax.Array:
    if v.ndim == 1:
        return v[:, None]
    if v.ndim == 2:
        return v
    raise ValueError(f"{name} must have shape [N] or [N, d], got {v.shape}")


def _standardise(v: jax.Array, w: jax.Array, big_w: jax.Array) -> jax.Array:
    """Shift by the weighted mean and divide by the RMS distance to it (no gradient through either).

    dCor^2 is invariant under ``v -> c v + s`` for scalar ``c > 0`` and vector ``s``, so this only
    improves the conditioning of the sums (mass in GeV next to scores in [0, 1]).
    """
    v0 = lax.stop_gradient(v)
    mean = (w @ v0) / big_w
    scale = jnp.sqrt((w @ jnp.sum((v0 - mean) ** 2, axis=-1)) / big_w)
    scale = jnp.where(scale > 0, scale, 1.0)
    return (v - mean) / scale


def _check_concrete(x, y, w, unbiased: bool) -> None:
    """Raise ``ValueError`` for bad values when the inputs are concrete (not traced)."""
    if not is_concrete(x, y, w):
        return
    for name, v in (("x", x), ("y", y), ("weights", w)):
        bad = ~np.isfinite(np.asarray(v))
        if bad.any():
            rows = np.nonzero(bad.reshape(bad.shape[0], -1).any(axis=1))[0]
            raise ValueError(f"{name} has {rows.size} events with NaN or inf values (first at index {rows[0]})")
    w = np.asarray(w)
    if (w < 0).any():
        raise ValueError(f"weights must be >= 0; {int((w < 0).sum())} are negative (first at index {np.argmax(w < 0)})")
    total = float(w.sum())
    if total <= 0:
        raise ValueError("weights sum to zero: the distance correlation is undefined")
    if unbiased and total <= 3:
        raise ValueError(f"the unbiased statistic needs a total (frequency) weight > 3, got {total}")


@functools.partial(jax.jit, static_argnames=("power", "unbiased", "method", "tile"))
def _distance_correlation(x, y, w, *, power: int, unbiased: bool, method: str, tile: int):
    ok = jnp.all(jnp.isfinite(x), axis=1) & jnp.all(jnp.isfinite(y), axis=1) & jnp.isfinite(w) & (w >= 0)
    x = jnp.where(ok[:, None], x, 0.0)
    y = jnp.where(ok[:, None], y, 0.0)
    w = jnp.where(ok, w, 0.0)
    big_w = jnp.sum(w)
    valid = jnp.all(ok) & (big_w > (3.0 if unbiased else 0.0))
    w = jnp.where(big_w > 0, w, 1.0)  # all-zero weights: keep the (discarded) computation finite
    x = _standardise(x, w, jnp.sum(w))
    y = _standardise(y, w, jnp.sum(w))
    if method == "sorted":
        s = sorted_sums(x[:, 0], y[:, 0], w)
    elif method == "dense":
        s = dense_sums(x, y, w)
    else:
        s = tiled_sums(x, y, w, tile=tile)
    if unbiased:  # keep n (n - 3) > 0 inside the masked branch
        s = s._replace(w=jnp.where(valid, s.w, 4.0))
    value = correlation_from_sums(s, unbiased=unbiased) ** power
    return jnp.where(valid, value, jnp.nan)


def distance_correlation(
    x: jax.typing.ArrayLike,
    y: jax.typing.ArrayLike,
    weights: jax.typing.ArrayLike | None = None,
    *,
    power: int = 1,
    unbiased: bool = False,
    method: str = "auto",
    tile: int | None = None,
) -> jax.Array:
    """Weighted squared distance correlation ``dCor^2(x, y) ** power`` (DisCo's loss term).

    Args:
      x: ``[N]`` or ``[N, dx]`` (e.g. tagger score), any units.
      y: ``[N]`` or ``[N, dy]`` (e.g. jet mass in GeV).
      weights: ``[N]`` non-negative event weights (default 1). The V-statistic depends only on
        their ratios; the U-statistic reads them as frequencies (``n = sum w``).
      power: integer >= 1; the result is ``(dCor^2) ** power``.
      unbiased: the U-statistic (``dcor.u_distance_correlation_sqr``) instead of the V-statistic
        (``dcor.distance_correlation_sqr``, DisCo's choice).
      method: ``"auto"``, ``"sorted"`` (1-D only), ``"dense"`` or ``"tiled"``.
      tile: rows per tile for ``"tiled"`` (default ``min(N, 128)``).

    Returns:
      scalar of the promoted float dtype of ``x`` and ``y``; ``jit``- and ``grad``-able.

    Raises:
      ValueError: mismatched lengths, bad shapes, ``"sorted"`` on multi-dimensional input,
        and (concrete inputs) NaN/inf values or invalid weights; see the module docstring.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if not isinstance(power, (int, np.integer)) or isinstance(power, bool) or power < 1:
        raise ValueError(f"power must be an integer >= 1, got {power!r}")
    x, y = jnp.asarray(x), jnp.asarray(y)
    dtype = jnp.result_type(x.dtype, y.dtype, jnp.float32)
    x2, y2 = _as_2d(x.astype(dtype), "x"), _as_2d(y.astype(dtype), "y")
    n = x2.shape[0]
    if y2.shape[0] != n:
        raise ValueError(f"x and y must have the same number of events, got {n} and {y2.shape[0]}")
    if n < 2:
        raise ValueError(f"need at least 2 events, got {n}")
    w = jnp.ones((n,), dtype) if weights is None else jnp.asarray(weights).astype(dtype)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape [{n}] like x, got {w.shape}")
    one_d = x2.shape[1] == 1 and y2.shape[1] == 1
    if method == "auto":
        method = "sorted" if one_d else "tiled"
    if method == "sorted" and not one_d:
        raise ValueError(f"method='sorted' needs 1-D x and y, got shapes {x.shape} and {y.shape}")
    if tile is None:
        tile = max(1, min(n, TILE_ROWS))
    elif tile < 1:
        raise ValueError(f"tile must be >= 1, got {tile}")
    _check_concrete(x2, y2, w, unbiased)
    return _distance_correlation(x2, y2, w, power=int(power), unbiased=bool(unbiased), method=method, tile=int(tile))


def distance_correlation_u(x, y, weights=None, **kw) -> jax.Array:
    """The unbiased (U-statistic) squared distance correlation; see :func:`distance_correlation`."""
    return distance_correlation(x, y, weights, unbiased=True, **kw)
