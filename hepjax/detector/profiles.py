"""Lateral shower profiles integrated over calorimeter cells: sums of 2-D Gaussians in (η, φ).

A radial profile is a mixture of circular Gaussians, ``f(r) = Σ_k w_k G(r; σ_k)``. A Gaussian is
separable in η and φ, so its integral over a cell is a product of two differences of ``erf``: exact,
cheap and smooth in the shower position, the widths and the weights. A core + tail pair is the usual
two-component description of electromagnetic showers (Grindhammer & Peters, hep-ex/0001020, fit the
same core/tail split with a different radial function).

Containment of one circular Gaussian within radius ``r`` is ``1 − exp(−r² / 2σ²)``; :func:`core_weight`
solves the core weight that puts a given fraction of the energy inside one Molière radius.

Each particle's shower is integrated over a static window of ``(2K + 1) × (2K + 1)`` cells centred on
the cell it hits and renormalised to 1 over the window, so the deposit conserves energy exactly (the
tail beyond ``K`` cells is folded back into the window); cells of the window beyond the grid's η range
are dropped (energy outside the acceptance). φ wraps around.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from hepjax.detector.params import CaloGrid
from hepjax.kinematics import wrap_phi


def containment(radius: jax.Array, widths: jax.Array, weights: jax.Array) -> jax.Array:
    """Fraction of a circular-Gaussian mixture inside ``radius``: ``Σ_k w_k (1 − exp(−r²/2σ_k²))``.

    Args:
      radius: ``[...]`` in the units of ``widths``.
      widths, weights: ``[..., K]`` component σ and weights (summing to 1).
    """
    r = jnp.asarray(radius)[..., None]
    return jnp.sum(weights * (1.0 - jnp.exp(-(r**2) / (2.0 * widths**2))), -1)


def core_weight(core: jax.Array, tail: jax.Array, contained: jax.Array) -> jax.Array:
    """Core weight ``p`` of a core (σ = ``core``) + tail (σ = ``tail``) mixture, widths in units of the
    Molière radius, such that a fraction ``contained`` lies within one Molière radius."""
    c_core = 1.0 - jnp.exp(-1.0 / (2.0 * core**2))
    c_tail = 1.0 - jnp.exp(-1.0 / (2.0 * tail**2))
    return (contained - c_tail) / (c_core - c_tail)


def _axis_masses(t: jax.Array, sigma: jax.Array, k: int) -> jax.Array:
    """Mass of each component in each of the ``2k+1`` cells along one axis.

    Args:
      t: ``[m]`` position inside the centre cell, in cell units (0 at its lower edge).
      sigma: ``[m, C]`` widths in cell units.
    Returns:
      ``[m, C, 2k+1]``.
    """
    edges = jnp.arange(-k, k + 2, dtype=t.dtype)[None, :] - t[:, None]  # [m, 2k+2], relative to the shower
    cdf = 0.5 * (1.0 + jax.scipy.special.erf(edges[:, None, :] / (math.sqrt(2.0) * sigma[:, :, None])))
    return cdf[..., 1:] - cdf[..., :-1]


def window_deposit(
    energy: jax.Array,
    eta: jax.Array,
    phi: jax.Array,
    sigma_eta: jax.Array,
    sigma_phi: jax.Array,
    weights: jax.Array,
    grid: CaloGrid,
    window: int,
) -> tuple[jax.Array, jax.Array]:
    """Per-particle cell contributions of Gaussian-mixture showers.

    Args:
      energy: ``[m]`` GeV deposited by each shower.
      eta, phi: ``[m]`` shower axis at the front face.
      sigma_eta, sigma_phi: ``[m, C]`` component widths in η and in rad (> 0).
      weights: ``[m, C]`` component weights summing to 1.
      grid: static cell geometry.
      window: half-width ``K`` of the window in cells (static).
    Returns:
      ``(index [m, W], energy [m, W])`` with ``W = (2K+1)²``: flat cell index ``i_eta · n_phi + i_phi``
      (−1 for window cells beyond the grid's η range, whose energy is then not deposited) and GeV.
    """
    ue = (eta + grid.eta_max) / grid.d_eta
    up = (wrap_phi(jnp.asarray(phi)) + math.pi) / grid.d_phi
    i0f, j0f = jnp.floor(ue), jnp.floor(up)
    me = _axis_masses(ue - i0f, sigma_eta / grid.d_eta, window)  # [m, C, 2K+1]
    mp = _axis_masses(up - j0f, sigma_phi / grid.d_phi, window)
    frac = jnp.einsum("mc,mca,mcb->mab", weights, me, mp)
    frac = frac / jnp.sum(frac, axis=(1, 2), keepdims=True)  # the window holds the whole shower
    d = jnp.arange(-window, window + 1)
    i = i0f.astype(jnp.int32)[:, None] + d[None, :]  # [m, 2K+1]
    j = jnp.mod(j0f.astype(jnp.int32)[:, None] + d[None, :], grid.n_phi)
    ok = (i >= 0) & (i < grid.n_eta)
    idx = jnp.where(ok[:, :, None], i[:, :, None] * grid.n_phi + j[:, None, :], -1)
    m = energy.shape[0]
    return idx.reshape(m, -1), (energy[:, None, None] * frac).reshape(m, -1)


def scatter_cells(index: jax.Array, energy: jax.Array, grid: CaloGrid) -> jax.Array:
    """Sum per-particle contributions (``[B, m, W]`` flat indices, −1 dropped) into ``[B, n_eta, n_phi]`` cells."""
    b = index.shape[0]
    size = grid.n_eta * grid.n_phi
    base = (jnp.arange(b, dtype=jnp.int32) * size)[:, None, None]
    flat = jnp.where(index >= 0, index + base, b * size)  # out of range: dropped
    cells = jnp.zeros((b * size,), energy.dtype).at[flat.reshape(-1)].add(energy.reshape(-1), mode="drop")
    return cells.reshape(b, grid.n_eta, grid.n_phi)
