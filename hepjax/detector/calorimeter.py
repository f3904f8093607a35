"""Calorimeter cells: deposit particle energies into an (η, φ) grid by a differentiable scatter-add.

Two deposition rules:

* ``hard=True``: each energy goes into the one cell that contains (η, φ) — a histogram.
* ``hard=False``: cloud-in-cell (bilinear) sharing between the four cells whose centres
  surround (η, φ), so the cell energies are differentiable (piecewise linearly) in the
  particle direction as well as in the energy. φ wraps around; beyond the outermost η cell
  centre the share goes to the edge cell. Both rules conserve the deposited energy.

Then :func:`threshold_cells` applies the cell energy threshold (soft or hard step).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from hepjax.detector.params import CaloGrid
from hepjax.detector.response import step


def _flatten_events(x: jax.Array) -> tuple[jax.Array, tuple[int, ...]]:
    lead = x.shape[:-1]
    return x.reshape((math.prod(lead), x.shape[-1])), lead  # not -1: an event with no particles has size 0


def deposit(energy: jax.Array, eta: jax.Array, phi: jax.Array, grid: CaloGrid, *, hard: bool) -> jax.Array:
    """Sum energies into cells.

    Args:
      energy: ``[..., n]`` GeV per particle (0 deposits nothing).
      eta, phi: ``[..., n]`` direction (phi in rad, any range; wrapped).
      grid: static cell geometry.
      hard: nearest-cell histogram (True) or bilinear cloud-in-cell (False).
    Returns:
      ``[..., n_eta, n_phi]`` cell energies in GeV; the leading axes are the events.
    """
    e, lead = _flatten_events(jnp.asarray(energy))
    eta = jnp.asarray(eta).reshape(e.shape)
    phi = jnp.asarray(phi).reshape(e.shape)
    n_ev = e.shape[0]
    ne, nphi = grid.n_eta, grid.n_phi
    base = (jnp.arange(n_ev, dtype=jnp.int32) * (ne * nphi))[:, None]
    ue = (eta + grid.eta_max) / grid.d_eta
    up = (phi + math.pi) / grid.d_phi
    if hard:
        i = jnp.clip(jnp.floor(ue).astype(jnp.int32), 0, ne - 1)
        j = jnp.mod(jnp.floor(up).astype(jnp.int32), nphi)
        idx, val = base + i * nphi + j, e
    else:
        ue, up = ue - 0.5, up - 0.5  # cell-centre coordinates
        i0f, j0f = jnp.floor(ue), jnp.floor(up)
        fe, fp = ue - i0f, up - j0f
        i0 = i0f.astype(jnp.int32)
        j0 = j0f.astype(jnp.int32)
        i_lo, i_hi = jnp.clip(i0, 0, ne - 1), jnp.clip(i0 + 1, 0, ne - 1)
        j_lo, j_hi = jnp.mod(j0, nphi), jnp.mod(j0 + 1, nphi)
        idx = jnp.concatenate(
            [
                base + i_lo * nphi + j_lo,
                base + i_lo * nphi + j_hi,
                base + i_hi * nphi + j_lo,
                base + i_hi * nphi + j_hi,
            ],
            axis=-1,
        )
        val = jnp.concatenate([e * (1 - fe) * (1 - fp), e * (1 - fe) * fp, e * fe * (1 - fp), e * fe * fp], axis=-1)
    cells = jnp.zeros((n_ev * ne * nphi,), e.dtype).at[idx.reshape(-1)].add(val.reshape(-1), mode="drop")
    return cells.reshape(lead + (ne, nphi))


def threshold_cells(
    cells: jax.Array, e_min: jax.Array, width: jax.Array, *, hard: bool, temperature: jax.Array | float
) -> jax.Array:
    """Cells below ``e_min`` (GeV) are zeroed (hard) or suppressed by a sigmoid (soft)."""
    return cells * step(cells - e_min, width, hard=hard, temperature=temperature)


def cell_centres(grid: CaloGrid) -> tuple[jax.Array, jax.Array]:
    """``([n_eta], [n_phi])`` cell-centre coordinates (η, rad)."""
    eta = -grid.eta_max + (jnp.arange(grid.n_eta) + 0.5) * grid.d_eta
    phi = -math.pi + (jnp.arange(grid.n_phi) + 0.5) * grid.d_phi
    return eta, phi
