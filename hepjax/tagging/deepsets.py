"""Particle Flow Network (DeepSets) jet tagger on padded constituents.

Komiske, Metodiev, Thaler, "Energy flow networks: deep sets for particle jets", JHEP 01 (2019)
121: ``F(sum_i Phi(p_i))`` over the constituents ``p_i`` of a jet, invariant under their
permutation. Padding constituents (``mask = False``) are excluded from the sum, so the output
does not depend on how many padding slots a jet has.

Example::

    params = init_pfn(jax.random.PRNGKey(0), n_features=4)
    logits = apply_pfn(params, features, mask)   # features [B, M, 4], mask [B, M] -> [B]
"""
from __future__ import annotations

import jax
import jax.numpy as jnp


def _init_mlp(key: jax.Array, sizes: tuple[int, ...]) -> list[dict]:
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        {"w": jax.random.normal(k, (a, b)) * jnp.sqrt(2.0 / a), "b": jnp.zeros(b)}
        for k, a, b in zip(keys, sizes[:-1], sizes[1:])
    ]


def _mlp(layers: list[dict], h: jax.Array, *, final_act: bool) -> jax.Array:
    for i, layer in enumerate(layers):
        h = h @ layer["w"] + layer["b"]
        if final_act or i < len(layers) - 1:
            h = jax.nn.relu(h)
    return h


def init_pfn(key: jax.Array, *, n_features: int, phi: tuple[int, ...] = (64, 64, 64), f: tuple[int, ...] = (64, 64)) -> dict:
    """Parameters of Phi: ``n_features -> phi...`` and F: ``phi[-1] -> f... -> 1``."""
    k1, k2 = jax.random.split(key)
    return {"phi": _init_mlp(k1, (n_features, *phi)), "f": _init_mlp(k2, (phi[-1], *f, 1))}


def apply_pfn(params: dict, features: jax.Array, mask: jax.Array) -> jax.Array:
    """Logits ``[B]`` from constituent features ``[B, M, F]`` and mask ``[B, M]`` (bool)."""
    if features.ndim != 3 or mask.shape != features.shape[:2]:
        raise ValueError(f"features must be [B, M, F] and mask [B, M], got {features.shape} and {mask.shape}")
    h = _mlp(params["phi"], features, final_act=True)
    pooled = jnp.sum(jnp.where(mask[..., None], h, 0.0), axis=1)
    return _mlp(params["f"], pooled, final_act=False)[:, 0]
