"""Moment decorrelation (MoDe): keep the background selection efficiency a low-order polynomial in mass.

Kitouni, Nachman, Weisser, Williams, "Enhancing searches for resonances with machine learning
and moment decorrelation", JHEP 03 (2021) 070, arXiv:2010.09745. For background events,
the efficiency of the cut ``score > t`` in mass bin ``b`` is ``eps(t | m_b)``. MoDe^n penalises
the part of ``eps(t | m)`` that a weighted least-squares polynomial of degree ``n`` in ``m``
(Legendre basis on the mass range) cannot describe, averaged over thresholds ``t`` at fixed
background-efficiency quantiles: order 0 demands flat efficiencies, 1 allows a linear and 2 a
quadratic dependence. This is a smooth version: the cut is ``sigmoid((score - t) / tau)``
with ``tau = temperature * std(score)``, so the loss is differentiable in the scores.

Example::

    loss = mode_loss(scores, mass, weights * (labels == 0), order=0, bins=16, mass_range=(50., 250.))
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax


def _weighted_quantiles(v: jax.Array, w: jax.Array, q: jax.Array) -> jax.Array:
    order = jnp.argsort(v)
    vs, cw = v[order], jnp.cumsum(w[order])
    idx = jnp.searchsorted(cw, q * cw[-1], side="left")
    return vs[jnp.clip(idx, 0, v.shape[0] - 1)]


def mode_loss(
    scores: jax.Array,
    mass: jax.Array,
    weights: jax.Array | None = None,
    *,
    order: int = 0,
    bins: int = 16,
    mass_range: tuple[float, float] | None = None,
    thresholds: int = 16,
    temperature: float = 0.05,
) -> jax.Array:
    """MoDe penalty: mean squared deviation of bin efficiencies from a degree-``order`` polynomial.

    Args:
      scores: ``[N]`` tagger outputs (higher = more signal-like).
      mass: ``[N]`` jet mass, GeV (no gradient is taken through it).
      weights: ``[N]`` event weights; give signal events weight 0 (MoDe acts on background).
      order: 0 (flat), 1 (linear) or 2 (quadratic) allowed dependence on mass.
      bins: number of equal-width mass bins over ``mass_range``.
      mass_range: ``(lo, hi)`` GeV; events outside are ignored. Default: the weighted events'
        min and max.
      thresholds: number of cuts, at background efficiencies ``(k + 0.5) / thresholds``.
      temperature: sigmoid width in units of the weighted std of the scores.

    Returns:
      scalar, >= 0: ``sum_k sum_b W_b r_bk^2 / (K sum_b W_b)`` with ``r`` the residual of the
      weighted polynomial fit of ``eps(t_k | m_b)`` and ``W_b`` the bin's background weight.

    Raises:
      ValueError: bad ``order``, ``bins``, shapes or mismatched lengths.
    """
    if order not in (0, 1, 2):
        raise ValueError(f"order must be 0, 1 or 2, got {order!r}")
    if bins < order + 2:
        raise ValueError(f"bins must be >= order + 2 = {order + 2}, got {bins}")
    scores, mass = jnp.asarray(scores), jnp.asarray(mass)
    if scores.ndim != 1 or mass.shape != scores.shape:
        raise ValueError(f"scores and mass must be [N] arrays of the same length, got {scores.shape} and {mass.shape}")
    dtype = jnp.result_type(scores.dtype, jnp.float32)
    w = jnp.ones_like(scores, dtype) if weights is None else jnp.asarray(weights, dtype)
    if w.shape != scores.shape:
        raise ValueError(f"weights must have shape {scores.shape}, got {w.shape}")
    m = lax.stop_gradient(mass.astype(dtype))
    if mass_range is None:
        big = jnp.finfo(dtype).max
        lo = jnp.min(jnp.where(w > 0, m, big))
        hi = jnp.max(jnp.where(w > 0, m, -big))
    else:
        lo, hi = (jnp.asarray(v, dtype) for v in mass_range)
        if not mass_range[1] > mass_range[0]:
            raise ValueError(f"mass_range must be (lo, hi) with hi > lo, got {mass_range}")
    width = jnp.where(hi > lo, hi - lo, 1.0)
    u = (m - lo) / width  # in [0, 1]
    inside = (u >= 0) & (u <= 1)
    w = jnp.where(inside, w, 0.0)
    b = jnp.clip(jnp.floor(u * bins).astype(jnp.int32), 0, bins - 1)
    onehot = jax.nn.one_hot(b, bins, dtype=dtype) * w[:, None]  # [N, B]
    w_bin = onehot.sum(0)  # [B]

    s0 = lax.stop_gradient(scores.astype(dtype))
    w_tot = jnp.maximum(w.sum(), jnp.finfo(dtype).tiny)
    mean = (w @ s0) / w_tot
    std = jnp.sqrt((w @ (s0 - mean) ** 2) / w_tot)
    tau = temperature * jnp.where(std > 0, std, 1.0)
    q = 1.0 - (jnp.arange(thresholds, dtype=dtype) + 0.5) / thresholds  # cut quantiles
    cuts = _weighted_quantiles(s0, w, q)  # [K]
    passed = jax.nn.sigmoid((scores.astype(dtype)[:, None] - cuts[None, :]) / tau)  # [N, K]
    eff = (onehot.T @ passed) / jnp.where(w_bin > 0, w_bin, 1.0)[:, None]  # [B, K]

    centres = 2.0 * (np.arange(bins) + 0.5) / bins - 1.0  # Legendre variable in [-1, 1]
    basis = np.polynomial.legendre.legvander(centres, order)  # [B, order + 1]
    basis = jnp.asarray(basis, dtype)
    omega = w_bin / jnp.maximum(w_bin.sum(), jnp.finfo(dtype).tiny)
    gram = basis.T @ (omega[:, None] * basis) + 1e-9 * jnp.eye(order + 1, dtype=dtype)
    coef = jnp.linalg.solve(gram, basis.T @ (omega[:, None] * eff))  # [order + 1, K]
    resid = eff - basis @ coef
    return jnp.sum(omega[:, None] * resid**2) / thresholds


def efficiency_vs_mass(
    scores: np.ndarray, mass: np.ndarray, weights: np.ndarray | None, cut: float, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Hard-cut efficiency ``P(score > cut | mass bin)`` and its binomial error per bin (NumPy).

    Args:
      scores, mass, weights: ``[N]``; edges: ``[B + 1]`` mass bin edges (GeV).

    Returns:
      ``(eff [B], err [B])``; empty bins give NaN.
    """
    scores, mass = np.asarray(scores), np.asarray(mass)
    w = np.ones_like(scores, float) if weights is None else np.asarray(weights, float)
    tot, _ = np.histogram(mass, edges, weights=w)
    sel, _ = np.histogram(mass, edges, weights=w * (scores > cut))
    n_eff, _ = np.histogram(mass, edges)
    with np.errstate(invalid="ignore", divide="ignore"):
        eff = sel / tot
        err = np.sqrt(eff * (1 - eff) / n_eff)
    return eff, err
