"""Response functions of one particle: soft/hard steps, |η| regions, resolutions, efficiencies.

All functions are elementwise over leading ``[...]`` axes and differentiable in their float
inputs when ``hard=False``. A *soft step* is ``sigmoid(x / (width · temperature))``; the
*hard step* is ``x > 0``. As the temperature goes to 0 the soft step converges to the hard one
(everywhere except at ``x = 0``).

A per-region value is blended as the telescoping sum
``v(|η|) = v_0 + Σ_k step(|η| − e_k) · (v_{k+1} − v_k)`` — equal to ``Σ_k w_k v_k`` with the
region weights of :func:`region_weights`, but with no small trailing axis to reduce over
(XLA's CPU reductions over a size-3 axis are slow; this form is purely elementwise).
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


def edge_steps(abs_eta: jax.Array, edges: jax.Array, width: jax.Array, *, hard: bool, temperature) -> list[jax.Array]:
    """``[step(|η| − e_k)]`` for each of the ``R-1`` edges (static count), each ``[...]``."""
    return [step(abs_eta - edges[k], width, hard=hard, temperature=temperature) for k in range(edges.shape[0])]


def _select_row(values: jax.Array, row: jax.Array) -> jax.Array:
    """``values[row]`` for a small table ``[S]`` and int rows ``[...]``, as elementwise selects."""
    out = values[-1]
    for s in range(values.shape[0] - 2, -1, -1):
        out = jnp.where(row == s, values[s], out)
    return out


def blend(values: jax.Array, steps: list[jax.Array], row: jax.Array | None = None) -> jax.Array:
    """Per-region ``values`` (``[R]``, or ``[S, R]`` with per-particle ``row``) blended by ``steps``.

    Returns ``[...]`` = v_0 + Σ_k steps[k] · (v_{k+1} − v_k).
    """
    col = (lambda k: values[k]) if row is None else (lambda k: _select_row(values[:, k], row))
    out = col(0)
    prev = out
    for k, s in enumerate(steps):
        nxt = col(k + 1)
        out = out + s * (nxt - prev)
        prev = nxt
    return out


def quadrature(
    res: QuadratureResolution, x: jax.Array, steps: list[jax.Array], row: jax.Array | None = None
) -> jax.Array:
    """σ = a ⊕ b·x with a, b blended over the |η| regions (``steps`` from :func:`edge_steps`)."""
    a = blend(res.a, steps, row)
    b = blend(res.b, steps, row)
    return jnp.sqrt(a**2 + (b * x) ** 2)


def calo_relative(res: CaloResolution, energy: jax.Array, steps: list[jax.Array]) -> jax.Array:
    """σ(E)/E = S/√E ⊕ N/E ⊕ C; ``energy`` in GeV must be > 0 (callers pass a safe value)."""
    s = blend(res.stochastic, steps)
    n = blend(res.noise, steps)
    c = blend(res.constant, steps)
    return jnp.sqrt(s**2 / energy + (n / energy) ** 2 + c**2)


def efficiency(
    eff: Efficiency,
    pt: jax.Array,
    steps: list[jax.Array],
    row: jax.Array | None,
    *,
    hard: bool,
    temperature: jax.Array | float,
) -> jax.Array:
    """plateau(|η| region[, species row]) × step(pT − threshold, width); ``[...]`` in [0, 1]."""
    plateau = blend(eff.plateau, steps, row)
    thr = eff.threshold if row is None else _select_row(eff.threshold, row)
    width = eff.width if row is None else _select_row(eff.width, row)
    return plateau * step(pt - thr, width, hard=hard, temperature=temperature)
