"""Magnitude pruning to a target sparsity, as an optax transformation.

Zhu & Gupta, "To prune, or not to prune" (arXiv:1710.01878): the sparsity of every pruned
kernel rises from 0 at ``begin_step`` to ``target`` at ``end_step`` along
``s(t) = target * (1 - (1 - (t - begin) / (end - begin))**3)``; after each optimiser update the
smallest-magnitude fraction ``s(t)`` of each kernel is set to exactly zero. The transform
returns the updates that land the parameters on their pruned values, so it composes with any
optimiser: ``optax.chain(optax.adam(1e-3), magnitude_pruning(0.5, end_step=800))``.

Pruned weights are exact zeros, which hls4ml drops from the firmware (no multiplier).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax


class PruneState(NamedTuple):
    count: jax.Array  # int32 scalar: updates seen


def is_kernel(path: tuple, leaf: Any) -> bool:
    """Default filter: leaves named ``kernel`` (Dense/Conv/QDense weights), never biases."""
    last = path[-1]
    name = getattr(last, "key", getattr(last, "name", last))
    return str(name) == "kernel" and getattr(leaf, "ndim", 0) >= 2


def sparsity_at(step: jax.Array, target: float, begin_step: int, end_step: int) -> jax.Array:
    """The polynomial sparsity schedule (float32 scalar)."""
    span = max(end_step - begin_step, 1)
    frac = jnp.clip((step - begin_step) / span, 0.0, 1.0)
    return jnp.float32(target) * (1.0 - (1.0 - frac) ** 3)


def prune_to(w: jax.Array, sparsity: jax.Array) -> jax.Array:
    """Zero the ``round(sparsity * w.size)`` smallest-magnitude entries of ``w`` (ties by index)."""
    flat = jnp.abs(w).ravel()
    k = jnp.round(sparsity * flat.size).astype(jnp.int32)
    order = jnp.argsort(flat, stable=True)
    rank = jnp.zeros_like(order).at[order].set(jnp.arange(flat.size, dtype=order.dtype))
    keep = (rank >= k).reshape(w.shape)
    return jnp.where(keep, w, jnp.zeros_like(w))


def magnitude_pruning(
    target: float, *, begin_step: int = 0, end_step: int = 1000, filter_fn=is_kernel
) -> optax.GradientTransformation:
    """Optax transformation (apply after the optimiser) pruning kernels to ``target`` sparsity."""
    if not 0.0 <= target < 1.0:
        raise ValueError(f"pruning target sparsity {target} must be in [0, 1)")
    if end_step < begin_step:
        raise ValueError(f"pruning end_step {end_step} < begin_step {begin_step}")

    def init_fn(params):
        return PruneState(jnp.zeros((), jnp.int32))

    def update_fn(updates, state, params=None):
        if params is None:
            raise ValueError("magnitude_pruning needs params: call update(updates, state, params)")
        s = sparsity_at(state.count + 1, target, begin_step, end_step)

        def one(path, u, p):
            if not filter_fn(path, p):
                return u
            return prune_to(p + u, s) - p

        new = jax.tree_util.tree_map_with_path(one, updates, params)
        return new, PruneState(state.count + 1)

    return optax.GradientTransformation(init_fn, update_fn)


def sparsity_report(params: Any, filter_fn=is_kernel) -> dict[str, float]:
    """Fraction of exact zeros per pruned kernel, keyed by its '/'-joined path."""
    out = {}
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        if filter_fn(path, leaf):
            name = "/".join(str(getattr(k, "key", getattr(k, "name", k))) for k in path)
            out[name] = float(np.mean(np.asarray(leaf) == 0))
    return out
