"""Deep Sets on padded sets (Zaheer et al., NeurIPS 2017): ``rho(sum_i w_i phi(x_i), g)``.

Invariant under a permutation of the elements ``x_i``. The per-element weights ``w_i`` are a
padding mask (bool: padding slots are excluded from the sum, so their number and content do not
matter) or soft weights (float, e.g. reconstruction efficiencies in [0, 1]). Optional set-level
inputs ``g`` are concatenated to the pooled sum before ``rho``.

Shapes: elements ``[B, M, F]``, weights ``[B, M]``, set-level inputs ``[B, J]`` -> ``[B, out_features]``.

Example::

    net = DeepSets(phi=(64, 64), rho=(64,), out_features=1)
    variables = net.init(key, x, mask)
    out = net.apply(variables, x, mask)          # [B, 1]
"""

from __future__ import annotations

from collections.abc import Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp

from hepjax.nn.mlp import MLP


class DeepSets(nn.Module):
    """``phi``: per-element MLP (ReLU after each layer); weighted sum; ``rho``: MLP to ``out_features``.

    Attributes:
      phi: widths of phi's layers (ReLU after each, the last included).
      rho: widths of rho's hidden layers (ReLU); a final Dense(out_features) follows.
      out_features: outputs per set.
      pool_scale: the pooled sum is multiplied by this (keeps it O(1) for a few tens of elements).

    Parameters: ``phi`` and ``rho``, each an :class:`hepjax.nn.MLP` (``Dense_i``).
    """

    phi: Sequence[int] = (64, 64, 64)
    rho: Sequence[int] = (64, 64)
    out_features: int = 1
    pool_scale: float = 1.0

    @nn.compact
    def __call__(self, x: jax.Array, weights: jax.Array, globals_: jax.Array | None = None) -> jax.Array:
        """``[B, out_features]`` from elements ``x [B, M, F]``, weights ``[B, M]`` (0 / False for padding)
        and optional set-level inputs ``globals_ [B, J]``."""
        if x.ndim != 3 or weights.shape != x.shape[:2]:
            raise ValueError(f"elements must be [B, M, F] and mask/weights [B, M], got {x.shape} and {weights.shape}")
        h = MLP(tuple(self.phi), activate_final=True, name="phi")(x)
        w = weights.astype(h.dtype)
        # where(), not a product alone: a padding slot's features may be anything (even inf).
        pooled = jnp.sum(jnp.where(w[..., None] != 0, h * w[..., None], 0.0), axis=1) * self.pool_scale
        if globals_ is not None:
            chex.assert_rank(globals_, 2)
            pooled = jnp.concatenate([pooled, globals_.astype(pooled.dtype)], -1)
        return MLP((*self.rho, self.out_features), name="rho")(pooled)
