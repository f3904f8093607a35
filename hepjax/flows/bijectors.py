"""Bijectors the flows are built from, on top of distrax.

Every bijector here acts on events of shape ``[dim]`` (``event_ndims_in = 1``) and returns
log-determinants of shape ``[...]`` (summed over the event). Convention: ``forward`` maps the
latent (base) space to data space, so sampling calls ``forward`` and ``log_prob`` calls
``inverse``.

- :func:`rqs` — an element-wise rational-quadratic spline (Durkan et al. 2019,
  arXiv:1906.04032), identity outside ``[-B, B]``; a vectorised twin of
  ``distrax.RationalQuadraticSpline`` (:func:`rqs_reference`).
- :func:`affine` — element-wise ``y = x * exp(log_scale) + shift`` (RealNVP, arXiv:1605.08803).
- :class:`Permutation` — a fixed permutation of the event (log-det 0).
- :class:`MaskedAutoregressive` — a MAF layer (Papamakarios et al. 2017, arXiv:1705.07057):
  inverse (density direction) in one pass, forward (sampling) in ``dim`` passes.
- :func:`standardize`, :func:`logit` — fixed preprocessing bijectors that are part of the
  flow, so likelihoods of the raw data stay exact.
"""

from __future__ import annotations

from collections.abc import Callable

import distrax
import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from hepjax.errors import is_concrete
from hepjax.flows.spline import RationalQuadraticSpline

Array = jax.Array

SPLINE_BOUND = 5.0  # splines act on [-5, 5] and are the identity outside (as zuko's NSF)


def rqs_param_count(num_bins: int) -> int:
    """Unconstrained parameters per dimension of an ``num_bins``-bin spline: ``3 K + 1``."""
    return 3 * num_bins + 1


def rqs(params: Array, bound: float = SPLINE_BOUND) -> distrax.Bijector:
    """Element-wise rational-quadratic spline; ``params[..., 3K+1]`` (zeros give the identity).

    The vectorised :class:`~hepjax.flows.spline.RationalQuadraticSpline`, numerically identical
    to ``distrax.RationalQuadraticSpline(params, -bound, bound, boundary_slopes="identity")``
    (see :func:`rqs_reference`) and much faster to differentiate (docs/defaults.md).
    """
    return RationalQuadraticSpline(params, bound)


def rqs_reference(params: Array, bound: float = SPLINE_BOUND) -> distrax.Bijector:
    """distrax's own spline with the same parameterisation: the reference :func:`rqs` is tested against."""
    return distrax.RationalQuadraticSpline(params, range_min=-bound, range_max=bound, boundary_slopes="identity")


def affine(params: Array) -> distrax.Bijector:
    """Element-wise affine map from ``params[..., 2] = (shift, raw_scale)``; zeros give the identity.

    The scale is ``exp(tanh(raw_scale) * 3)`` so one layer can stretch by at most ``e^3``, which
    keeps training stable.
    """
    shift, raw = params[..., 0], params[..., 1]
    return distrax.ScalarAffine(shift=shift, log_scale=3.0 * jnp.tanh(raw / 3.0))


class Permutation(distrax.Bijector):
    """``y = x[..., perm]``; volume preserving. ``perm`` is a static NumPy permutation of ``dim``."""

    def __init__(self, perm: np.ndarray):
        super().__init__(event_ndims_in=1, is_constant_jacobian=True)
        perm = np.asarray(perm)
        if sorted(perm.tolist()) != list(range(perm.size)):
            raise ValueError(f"not a permutation of 0..{perm.size - 1}: {perm}")
        self.perm = perm
        self.inv_perm = np.argsort(perm)

    def forward_and_log_det(self, x: Array) -> tuple[Array, Array]:
        return x[..., self.perm], jnp.zeros(x.shape[:-1], x.dtype)

    def inverse_and_log_det(self, y: Array) -> tuple[Array, Array]:
        return y[..., self.inv_perm], jnp.zeros(y.shape[:-1], y.dtype)


class MaskedAutoregressive(distrax.Bijector):
    """Autoregressive layer ``x_i = tau(z_i; c_i(x_<i))``.

    Args:
      conditioner: ``x[..., dim] -> params[..., dim, p]``, autoregressive (a MADE): output ``i``
        depends on inputs ``< i`` only. Any context is closed over by the caller.
      inner: ``params[..., p] -> element-wise distrax bijector`` (e.g. :func:`rqs`).
      dim: event size; sampling needs ``dim`` conditioner passes.
    """

    def __init__(self, conditioner: Callable[[Array], Array], inner: Callable[[Array], distrax.Bijector], dim: int):
        super().__init__(event_ndims_in=1)
        self.conditioner, self.inner, self.dim = conditioner, inner, dim

    def forward_and_log_det(self, z: Array) -> tuple[Array, Array]:
        def body(_, x):
            return self.inner(self.conditioner(x)).forward(z)

        x = jax.lax.fori_loop(0, self.dim, body, jnp.zeros_like(z))
        # After dim passes every x_i used the final x_<i; recompute the log-det once in the
        # inverse direction, which is exact for the converged x.
        _, ld_inv = self.inner(self.conditioner(x)).inverse_and_log_det(x)
        return x, -jnp.sum(ld_inv, axis=-1)

    def inverse_and_log_det(self, x: Array) -> tuple[Array, Array]:
        z, ld = self.inner(self.conditioner(x)).inverse_and_log_det(x)
        return z, jnp.sum(ld, axis=-1)


def standardize(mean: ArrayLike, std: ArrayLike) -> distrax.Bijector:
    """``y = (x - mean) / std`` per dimension (data -> unconstrained direction); ``std > 0``."""
    mean, std = jnp.asarray(mean), jnp.asarray(std)
    if is_concrete(std) and not bool(jnp.all(std > 0)):
        raise ValueError("standardize: every std must be > 0")
    return distrax.Block(distrax.ScalarAffine(shift=-mean / std, scale=1.0 / std), ndims=1)


def logit(alpha: float = 1e-6) -> distrax.Bijector:
    """Data in ``[0, 1]`` -> real line: ``y = logit(alpha + (1 - 2 alpha) x)`` (CaloFlow, arXiv:2106.05285).

    The squeeze by ``alpha`` keeps exact zeros and ones finite.
    """
    if not 0.0 <= alpha < 0.5:
        raise ValueError(f"logit alpha must be in [0, 0.5), got {alpha}")
    squeeze = distrax.ScalarAffine(shift=alpha, scale=1.0 - 2.0 * alpha)
    return distrax.Block(distrax.Chain([distrax.Inverse(distrax.Sigmoid()), squeeze]), ndims=1)
