"""Relaxed (differentiable) cuts and histograms for optimising an analysis through the detector.

A hard selection ``x > t`` and a hard histogram have zero gradient almost everywhere. Here the step
is replaced by a sigmoid of width ``1/slope`` and each event's unit weight is smeared by a Gaussian
kernel of width ``bandwidth`` whose mass falling in each bin (a difference of normal CDFs) is that
event's contribution. Both tend to the hard versions as ``slope -> inf`` / ``bandwidth -> 0`` (for
points not on a threshold or a bin edge). All functions are pure and jit-able; input checks that
need concrete values (edge ordering, bandwidth sign) run only when the values are concrete.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import ndtr
from jax.typing import ArrayLike

from hepjax.errors import DataError, is_concrete


def soft_cut(x: ArrayLike, threshold: ArrayLike, slope: ArrayLike, *, side: str = "above") -> jax.Array:
    """Soft pass probability ``sigmoid(slope * (x - threshold))`` (``side="below"``: of ``threshold - x``).

    Args:
      x: observable, any shape, in the observable's units (e.g. GeV).
      threshold: cut value, same units, broadcastable against ``x``.
      slope: sharpness in 1 / (units of x); the transition is ~``4/slope`` wide. ``slope -> inf`` gives the
        hard step (0.5 exactly at the threshold).
      side: ``"above"`` keeps ``x > threshold``, ``"below"`` keeps ``x < threshold``.

    Returns:
      weights in [0, 1], shape ``broadcast(x, threshold, slope)``.
    """
    if side not in ("above", "below"):
        raise DataError(f"soft_cut: side must be 'above' or 'below', got {side!r}")
    z = jnp.asarray(slope) * (jnp.asarray(x) - jnp.asarray(threshold))
    return jax.nn.sigmoid(z if side == "above" else -z)


def soft_window(x: ArrayLike, lo: ArrayLike, hi: ArrayLike, slope: ArrayLike) -> jax.Array:
    """Soft ``lo < x < hi``: product of an ``above lo`` and a ``below hi`` :func:`soft_cut` (same units, shapes)."""
    return soft_cut(x, lo, slope, side="above") * soft_cut(x, hi, slope, side="below")


def kde_histogram(
    x: ArrayLike, bins_edges: ArrayLike, bandwidth: ArrayLike, weights: ArrayLike | None = None
) -> jax.Array:
    """Differentiable histogram: each event's Gaussian kernel integrated over each bin.

    ``counts[j] = sum_i w_i [Phi((e_{j+1} - x_i)/h) - Phi((e_j - x_i)/h)]`` with ``Phi`` the standard normal
    CDF. Kernel mass falling outside the outermost edges is dropped (as ``np.histogram`` drops those events), so
    the total is conserved only for events a few ``h`` inside the range. ``h -> 0`` reproduces
    ``np.histogram(x, bins_edges, weights=weights)`` for events not on an edge.

    Args:
      x: events, shape ``[n_events]``, units of the observable.
      bins_edges: shape ``[n_bins + 1]``, strictly increasing, same units.
      bandwidth: kernel standard deviation ``h > 0``, same units (scalar).
      weights: per-event weights, shape ``[n_events]``; default 1.

    Returns:
      ``[n_bins]`` (weighted) counts.

    Raises:
      DataError (a ValueError): edges not 1-d with >= 2 strictly increasing entries, or bandwidth <= 0
        (checked when the values are concrete, i.e. outside ``jit``).
    """
    x = jnp.asarray(x)
    edges = jnp.asarray(bins_edges)
    if x.ndim != 1:
        raise DataError(f"kde_histogram: x must be 1-d [n_events], got shape {x.shape}")
    if edges.ndim != 1 or edges.shape[0] < 2:
        raise DataError(f"kde_histogram: bins_edges must be 1-d with >= 2 entries, got shape {edges.shape}")
    if is_concrete(bins_edges) and not np.all(np.diff(np.asarray(bins_edges)) > 0):
        raise DataError("kde_histogram: bins_edges must be strictly increasing")
    if is_concrete(bandwidth) and not np.all(np.asarray(bandwidth) > 0):
        raise DataError(f"kde_histogram: bandwidth must be > 0, got {np.asarray(bandwidth)}")
    if weights is None:
        weights = jnp.ones_like(x)
    weights = jnp.asarray(weights)
    if weights.shape != x.shape:
        raise DataError(f"kde_histogram: weights shape {weights.shape} != x shape {x.shape}")
    cdf = ndtr((edges[None, :] - x[:, None]) / bandwidth)  # [n_events, n_bins + 1]
    return jnp.sum(weights[:, None] * (cdf[:, 1:] - cdf[:, :-1]), axis=0)


__all__ = ["kde_histogram", "soft_cut", "soft_window"]
