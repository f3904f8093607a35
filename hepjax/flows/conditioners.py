"""Flax conditioner networks: map (masked inputs, context) to bijector parameters.

- :class:`CouplingMLP` — for split coupling layers: the passed-through part ``[..., n_in]``
  (+ context ``[..., c]``) -> ``[..., n_out, n_params]`` for the transformed part. The last layer
  starts at zero, so every layer starts as the identity.
- :class:`MADE` — a masked autoencoder (Germain et al. 2015, arXiv:1502.03509) whose output for
  dimension ``i`` depends only on inputs ``< i`` and on the whole context (every ``i``, also the
  first: see :class:`MADE`).
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array


def _join(x: Array, context: Array | None) -> Array:
    if context is None:
        return x
    context = jnp.broadcast_to(context, x.shape[:-1] + context.shape[-1:])
    return jnp.concatenate([x, context], axis=-1)


class CouplingMLP(nn.Module):
    """``(x_cond [..., n_in], context [..., c] | None) -> params [..., n_out, n_params]``.

    For split coupling layers: it reads only the passed-through part of the event and computes
    parameters only for the transformed part (no gather or scatter of the full event).
    """

    n_out: int
    n_params: int
    hidden: Sequence[int] = (128, 128)

    @nn.compact
    def __call__(self, x: Array, context: Array | None = None) -> Array:
        h = _join(x, context)
        for width in self.hidden:
            h = nn.relu(nn.Dense(width)(h))
        out = nn.Dense(self.n_out * self.n_params, kernel_init=nn.initializers.zeros)(h)
        return out.reshape(x.shape[:-1] + (self.n_out, self.n_params))


def made_masks(dim: int, hidden: Sequence[int]) -> list[np.ndarray]:
    """Connectivity masks ``[n_in, n_out]`` of a MADE with degrees ``1..dim`` on the inputs.

    Hidden unit degrees cycle over ``1..dim-1``; output ``i`` (degree ``i+1``) sees hidden units
    of degree ``<= i``, hence inputs ``< i`` only.
    """
    deg_in = np.arange(1, dim + 1)
    degs = [deg_in]
    for width in hidden:
        degs.append(np.arange(width) % max(dim - 1, 1) + 1)
    masks = [(d_out[None, :] >= d_in[:, None]).astype(np.float32) for d_in, d_out in zip(degs[:-1], degs[1:])]
    masks.append((deg_in[None, :] > degs[-1][:, None]).astype(np.float32))  # strict for outputs
    return masks


class MaskedDense(nn.Module):
    features: int
    mask: np.ndarray  # [n_in, features]
    zero_init: bool = False

    @nn.compact
    def __call__(self, x: Array) -> Array:
        init = nn.initializers.zeros if self.zero_init else nn.initializers.lecun_normal()
        kernel = self.param("kernel", init, (x.shape[-1], self.features))
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        return x @ (kernel * jnp.asarray(self.mask)) + bias


class MADE(nn.Module):
    """Autoregressive ``(x [..., dim], context [..., c] | None) -> params [..., dim, n_params]``.

    Output ``i`` depends on ``x[..., :i]`` only (the masks) and, with a context, on all of it.
    The context enters twice: unmasked into the first hidden layer (``Dense_0``, so outputs of
    degree ``> 1`` get context features mixed with ``x_<i``) and by a direct unmasked linear map
    into the outputs (``ContextOut``, zero-initialised like the output layer). The direct map is
    what reaches output 0: its mask connects it to no hidden unit, so without it the first
    coordinate of every layer (all of a one-dimensional flow) would ignore the context.
    Unconditional, neither exists and the parameters are ``MaskedDense_0..len(hidden)``.
    """

    dim: int
    n_params: int
    hidden: Sequence[int] = (128, 128)

    @nn.compact
    def __call__(self, x: Array, context: Array | None = None) -> Array:
        masks = made_masks(self.dim, self.hidden)
        c = None if context is None else jnp.broadcast_to(context, x.shape[:-1] + context.shape[-1:])
        h = x
        for i, width in enumerate(self.hidden):
            h = MaskedDense(width, masks[i])(h)
            if i == 0 and c is not None:
                h = h + nn.Dense(width, use_bias=False)(c)
            h = nn.relu(h)
        out_mask = np.repeat(masks[-1], self.n_params, axis=1)  # output column j -> dim j // n_params
        out = MaskedDense(self.dim * self.n_params, out_mask, zero_init=True)(h)
        if c is not None:
            # zero start keeps every layer the identity at init; named, so the other names are unchanged
            direct = nn.Dense(
                self.dim * self.n_params, use_bias=False, kernel_init=nn.initializers.zeros, name="ContextOut"
            )
            out = out + direct(c)
        return out.reshape(x.shape[:-1] + (self.dim, self.n_params))
