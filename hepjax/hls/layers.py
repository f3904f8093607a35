"""Layer modules that the Flax -> Keras bridge can see: activations, reshapes, merges.

Flax applies activations and reshapes as bare functions (``nn.relu(x)``, ``x.reshape(...)``),
which leave no trace a converter could read. Inside :class:`flax.linen.Sequential` the bridge
recognises the bare activation functions; everywhere else write them as these modules, so that
every operation of a trigger model is a named layer (as in Keras and hls4ml).

Shapes follow Keras: a leading batch axis, channels last.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "softmax", "linear")


def apply_activation(kind: str, x: jax.Array, negative_slope: float = 0.01) -> jax.Array:
    """The activation ``kind`` (one of :data:`ACTIVATIONS`); softmax over the last axis."""
    if kind == "relu":
        return nn.relu(x)
    if kind == "leaky_relu":
        return nn.leaky_relu(x, negative_slope)
    if kind == "tanh":
        return jnp.tanh(x)
    if kind == "sigmoid":
        return nn.sigmoid(x)
    if kind == "softmax":
        return nn.softmax(x, axis=-1)
    if kind == "linear":
        return x
    raise ValueError(f"unknown activation {kind!r}; supported: {', '.join(ACTIVATIONS)}")


class Activation(nn.Module):
    """Element-wise activation (softmax: over the last axis); ``negative_slope`` for leaky_relu."""

    kind: str
    negative_slope: float = 0.01

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return apply_activation(self.kind, x, self.negative_slope)


class Flatten(nn.Module):
    """``[batch, ...] -> [batch, prod(...)]`` in row-major (channels-last) order, like Keras."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return x.reshape(x.shape[0], -1)


class Reshape(nn.Module):
    """``[batch, ...] -> [batch, *shape]`` (``shape`` excludes the batch axis)."""

    shape: tuple[int, ...]

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return x.reshape((x.shape[0], *self.shape))


class Concatenate(nn.Module):
    """Concatenate inputs along ``axis`` (not the batch axis)."""

    axis: int = -1

    @nn.compact
    def __call__(self, *xs: jax.Array) -> jax.Array:
        xs = _flat(xs)
        return jnp.concatenate(xs, axis=self.axis)


class Add(nn.Module):
    """Element-wise sum of same-shape inputs."""

    @nn.compact
    def __call__(self, *xs: jax.Array) -> jax.Array:
        xs = _flat(xs)
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


def _flat(xs: Sequence) -> list:
    if len(xs) == 1 and isinstance(xs[0], (list, tuple)):
        xs = xs[0]
    if len(xs) < 2:
        raise ValueError(f"merge layers need at least two inputs, got {len(xs)}")
    return list(xs)
