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

import flax.linen as nn
import jax
import jax.numpy as jnp

import hepjax.nn as nets


def check_constituents(features: jax.Array, weights: jax.Array) -> None:
    """Raise ``ValueError`` unless ``features`` is ``[B, M, F]`` and ``weights`` is ``[B, M]``."""
    if features.ndim != 3 or weights.shape != features.shape[:2]:
        raise ValueError(
            f"features must be [B, M, F] and mask/weights [B, M], got {features.shape} and {weights.shape}"
        )


class DeepSets(nn.Module):
    """The tagger: :class:`hepjax.nn.DeepSets` with one output, the logit.

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
        net = nets.DeepSets(
            phi=tuple(self.phi), rho=tuple(self.f), out_features=1, pool_scale=self.pool_scale, name="net"
        )
        return net(features, weights, jet)[:, 0]


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
    net = params["params"]["net"]

    def widths(mlp: dict) -> tuple[int, ...]:
        return tuple(int(mlp[f"Dense_{i}"]["kernel"].shape[1]) for i in range(len(mlp)))

    f = widths(net["rho"])[:-1]  # rho's last Dense is the logit
    return DeepSets(phi=widths(net["phi"]), f=f).apply(params, features, mask.astype(bool))
