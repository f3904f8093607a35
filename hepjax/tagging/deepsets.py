"""Deep Sets / Particle Flow Network jet tagger on padded constituents (Flax linen).

Komiske, Metodiev, Thaler, "Energy flow networks: deep sets for particle jets", JHEP 01 (2019)
121: ``F(sum_i w_i Phi(p_i), jet)`` over the constituents ``p_i`` of a jet, invariant under their
permutation. The per-constituent weights ``w_i`` are the padding mask (bool: padding slots are
excluded from the sum, so the number of padding slots does not matter) or soft reconstruction
weights in [0, 1] (float: the detector's differentiable efficiencies, as the demo uses them).
Optional jet-level inputs (e.g. log pT) are concatenated to the pooled sum before ``F``.

Example::

    model = DeepSets(phi=(64, 64), f=(64, 64))
    params = model.init(key, features, mask)          # features [B, M, F], mask [B, M]
    logits = model.apply(params, features, mask)      # [B]
    # or the functional pair:
    params = init_pfn(key, n_features=4)
    logits = apply_pfn(params, features, mask)
"""

from __future__ import annotations

from collections.abc import Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp


def check_constituents(features: jax.Array, weights: jax.Array) -> None:
    """Raise ``ValueError`` unless ``features`` is ``[B, M, F]`` and ``weights`` is ``[B, M]``."""
    if features.ndim != 3 or weights.shape != features.shape[:2]:
        raise ValueError(
            f"features must be [B, M, F] and mask/weights [B, M], got {features.shape} and {weights.shape}"
        )


class DeepSets(nn.Module):
    """``Phi``: per-constituent MLP; weighted sum over constituents; ``F``: MLP to one logit.

    Attributes:
      phi: widths of Phi's layers (ReLU after each).
      f: widths of F's hidden layers (ReLU); a final Dense(1) gives the logit.
      pool_scale: the pooled sum is multiplied by this (keeps it O(1) for ~20-50 constituents).
    """

    phi: Sequence[int] = (64, 64, 64)
    f: Sequence[int] = (64, 64)
    pool_scale: float = 1.0

    @nn.compact
    def __call__(self, features: jax.Array, weights: jax.Array, jet: jax.Array | None = None) -> jax.Array:
        """Logits ``[B]``.

        Args:
          features: ``[B, M, F]`` per-constituent features.
          weights: ``[B, M]`` bool mask or float weights (0 for padding).
          jet: optional ``[B, J]`` jet-level inputs (already normalised to O(1)).
        """
        check_constituents(features, weights)
        h = features
        for i, width in enumerate(self.phi):
            h = nn.relu(nn.Dense(width, name=f"phi_{i}")(h))
        w = weights.astype(h.dtype)
        # where(), not a product alone: a padding slot's features may be anything (even inf).
        pooled = jnp.sum(jnp.where(w[..., None] != 0, h * w[..., None], 0.0), axis=1) * self.pool_scale
        if jet is not None:
            chex.assert_rank(jet, 2)
            pooled = jnp.concatenate([pooled, jet.astype(pooled.dtype)], -1)
        g = pooled
        for i, width in enumerate(self.f):
            g = nn.relu(nn.Dense(width, name=f"f_{i}")(g))
        return nn.Dense(1, name="out")(g)[:, 0]


def init_pfn(
    key: jax.Array, *, n_features: int, phi: tuple[int, ...] = (64, 64, 64), f: tuple[int, ...] = (64, 64)
) -> dict:
    """Flax variables of ``DeepSets(phi, f)`` for ``n_features`` inputs per constituent."""
    return DeepSets(phi=phi, f=f).init(key, jnp.zeros((1, 1, n_features)), jnp.ones((1, 1), bool))


def apply_pfn(params: dict, features: jax.Array, mask: jax.Array) -> jax.Array:
    """Logits ``[B]`` from constituent features ``[B, M, F]`` and mask ``[B, M]`` (bool).

    The layer widths are read from ``params`` (as made by :func:`init_pfn`).
    """
    check_constituents(features, mask)
    layers = params["params"]

    def widths(prefix: str) -> tuple[int, ...]:
        n = sum(1 for name in layers if name.startswith(prefix))
        return tuple(int(layers[f"{prefix}{i}"]["kernel"].shape[1]) for i in range(n))

    return DeepSets(phi=widths("phi_"), f=widths("f_")).apply(params, features, mask.astype(bool))
