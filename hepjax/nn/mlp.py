"""Multilayer perceptron: the one dense building block of every hepjax network.

``MLP(features=(64, 64, 1))`` is ``Dense(64) - act - Dense(64) - act - Dense(1)``: ``features`` lists
the output width of each Dense layer, the last one included. Options cover what the networks of
the repository need: LayerNorm between a hidden Dense and its activation (the Exa.TrkX MLPs of the
interaction network), an activation after the last layer too (the Phi of Deep Sets, the edge MLP
of EdgeConv), and the kernel initialiser.

Shapes: ``x [..., F] -> [..., features[-1]]``; any leading axes are kept.

Example::

    mlp = MLP(features=(32, 32, 3), activation=nn.tanh)
    variables = mlp.init(key, jnp.zeros((1, 4)))
    y = mlp.apply(variables, x)              # x [N, 4] -> y [N, 3]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

LN_EPS = 1e-5  # torch.nn.LayerNorm's default, so PyTorch peers of LayerNorm MLPs match


def fan_in_normal(scale: float = 1.0) -> Callable:
    """Kernel initialiser ``N(0, scale / fan_in)`` (not truncated): ``scale=1`` LeCun, ``scale=2`` He."""
    return nn.initializers.variance_scaling(scale, "fan_in", "normal")


class MLP(nn.Module):
    """``Dense(features[0]) - [LayerNorm] - act - ... - Dense(features[-1]) [- act]``.

    Attributes:
      features: output width of each Dense layer, the last (output) layer included.
      activation: applied after every hidden layer (and after the last if ``activate_final``).
      layer_norm: LayerNorm (eps :data:`LN_EPS`) between each hidden Dense and its activation.
      activate_final: also apply ``activation`` (never LayerNorm) after the last layer.
      kernel_init: Dense kernel initialiser (biases start at zero).

    Parameters are named ``Dense_i`` and ``LayerNorm_i`` (``i`` the layer index), so a PyTorch peer
    can copy them layer by layer.
    """

    features: Sequence[int]
    activation: Callable[[jax.Array], jax.Array] = nn.relu
    layer_norm: bool = False
    activate_final: bool = False
    kernel_init: Callable = nn.initializers.lecun_normal()

    def setup(self):
        self.layers = [
            nn.Dense(w, kernel_init=self.kernel_init, name=f"Dense_{i}") for i, w in enumerate(self.features)
        ]
        if self.layer_norm:
            # plain two-pass variance (mean of squared deviations), as torch.nn.LayerNorm computes it
            self.norms = [
                nn.LayerNorm(epsilon=LN_EPS, use_fast_variance=False, name=f"LayerNorm_{i}")
                for i in range(len(self.features) - 1)
            ]

    def hidden(self, i: int, z: jax.Array) -> jax.Array:
        """What follows the Dense product of layer ``i``: ``[LayerNorm -] act`` (hidden layers only)."""
        if self.layer_norm:
            z = self.norms[i](z)
        return self.activation(z)

    def __call__(self, x: jax.Array) -> jax.Array:
        """``x [..., F] -> [..., features[-1]]``."""
        return self.tail(self.layers[0](x), start=0)

    def tail(self, z: jax.Array, start: int = 0) -> jax.Array:
        """The network after the Dense product of layer ``start`` is known (``z`` includes its bias).

        Lets a caller compute the first product its own way (e.g. as a sum of blocks, see
        :mod:`hepjax.nn.interaction_network`) and run the rest here.
        """
        n = len(self.features)
        for i in range(start, n):
            if i > start:
                z = self.layers[i](z)
            if i < n - 1:
                z = self.hidden(i, z)
            elif self.activate_final:
                z = self.activation(z)
        return z

    def first_kernel(self, n_in: int) -> tuple[jax.Array, jax.Array]:
        """``(kernel [n_in, features[0]], bias [features[0]])`` of the first Dense layer, creating it at init."""
        if self.is_initializing():
            self.layers[0](jnp.zeros((1, n_in)))
        p = self.layers[0].variables["params"]
        return p["kernel"], p["bias"]
