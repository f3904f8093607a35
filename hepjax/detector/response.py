"""Response functions of one particle: soft/hard steps, |η| regions, resolutions, efficiencies.

All functions are elementwise over leading ``[...]`` axes and differentiable in their float
inputs when ``hard=False``. A *soft step* is ``sigmoid(x / (width · temperature))``; the
*hard step* is ``x > 0``. As the temperature goes to 0 the soft step converges to the hard one
(everywhere except at ``x = 0``).
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from hepjax.detector.params import CaloResolution, Efficiency, QuadratureResolution


def step(x: jax.Array, width: jax.Array, *, hard: bool, temperature: jax.Array | float) -> jax.Array:
    """Soft (sigmoid of ``x / (width·temperature)``) or hard (``x > 0``) step, same shape as ``x``."""
    x = jnp.asarray(x)
    if hard:
        return (x > 0).astype(x.dtype)
    return jax.nn.sigmoid(x / (width * temperature))


def region_weights(
    abs_eta: jax.Array, edges: jax.Array, width: jax.Array, *, hard: bool, temperature: jax.Array | float
) -> jax.Array:
    """Membership of ``|η|`` in the regions bounded by ``edges``: ``[..., R]`` weights summing to 1.

    Args:
      abs_eta: ``[...]`` |η|.
      edges: ``[R-1]`` increasing region boundaries in |η|.
      width: blending width in η (soft mode).
    Returns:
      ``[..., R]``; one-hot when ``hard`` (region k is ``edges[k-1] < |η| <= edges[k]``).
    """
    above = step(abs_eta[..., None] - edges, width, hard=hard, temperature=temperature)  # P(|η| > e_k)
    one = jnp.ones_like(above[..., :1])
    return jnp.concatenate([one, above], -1) - jnp.concatenate([above, 0 * one], -1)


def in_region(values: jax.Array, weights: jax.Array, row: jax.Array | None = None) -> jax.Array:
    """Blend per-region ``values`` (``[R]``, or ``[S, R]`` with a per-particle ``row`` in [0, S)).

    Returns ``[...]`` = Σ_k weights[..., k] · values[(row,) k].
    """
    v = values if row is None else jnp.take(values, row, axis=0)
    return jnp.sum(weights * v, axis=-1)


def quadrature(res: QuadratureResolution, x: jax.Array, w: jax.Array, row: jax.Array | None = None) -> jax.Array:
    """σ = a ⊕ b·x with a, b blended over the |η| region weights ``w`` (``[..., R]``)."""
    a = in_region(res.a, w, row)
    b = in_region(res.b, w, row)
    return jnp.sqrt(a**2 + (b * x) ** 2)


def calo_relative(res: CaloResolution, energy: jax.Array, w: jax.Array) -> jax.Array:
    """σ(E)/E = S/√E ⊕ N/E ⊕ C; ``energy`` in GeV must be > 0 (callers pass a safe value)."""
    s = in_region(res.stochastic, w)
    n = in_region(res.noise, w)
    c = in_region(res.constant, w)
    return jnp.sqrt(s**2 / energy + (n / energy) ** 2 + c**2)


def efficiency(
    eff: Efficiency,
    pt: jax.Array,
    w: jax.Array,
    row: jax.Array | None,
    *,
    hard: bool,
    temperature: jax.Array | float,
) -> jax.Array:
    """plateau(|η| region[, species row]) × step(pT − threshold, width); ``[...]`` in [0, 1]."""
    plateau = in_region(eff.plateau, w, row)
    thr = eff.threshold if row is None else jnp.take(eff.threshold, row)
    width = eff.width if row is None else jnp.take(eff.width, row)
    return plateau * step(pt - thr, width, hard=hard, temperature=temperature)
