"""Sensitivities of a loss to detector parameters: ``∂L / ∂ ln θ`` per parameter leaf.

For a leaf ``θ`` (a scalar or an array of the detector-parameter pytree) the sensitivity is

    S(θ) = Σ_i θ_i ∂L/∂θ_i = ∂L(θ · (1 + ε)) / ∂ε  at ε = 0,

the change of the loss per unit *relative* change of every entry of that leaf together: in the
loss's units (e.g. nats per jet for a mean cross entropy) per e-fold of the parameter, and
independent of the parameter's own units (GeV, mm, a fraction). With ``relative=True`` it is divided
by ``L``: the dimensionless elasticity ``∂ ln L / ∂ ln θ``. A ``+0.01`` sensitivity means that
scaling the leaf by 1 % raises the loss by about ``1e-4`` (loss units).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def elasticities(params: Any, grads: Any) -> dict[str, float]:
    """{parameter path: sum over its entries of p * dL/dp} for every float leaf.

    ``params`` and ``grads`` are pytrees of one structure (``grads = jax.grad(L)(params)``); a path is
    the leaf's key path with dots (``"tracker.resolution"``).

    Raises:
      FloatingPointError: a sensitivity is NaN or infinite.
    """
    out = {}
    for (path, p), g in zip(jax.tree_util.tree_flatten_with_path(params)[0], jax.tree.leaves(grads)):
        name = jax.tree_util.keystr(path).replace("['", ".").replace("']", "").strip(".")
        value = float(jnp.sum(p * g))
        if not np.isfinite(value):
            raise FloatingPointError(f"non-finite detector gradient for {name}")
        out[name] = value
    return out


def sensitivities(
    loss_fn: Callable[[Any], jax.Array], detector_params: Any, *, relative: bool = False
) -> dict[str, float]:
    """``∂L/∂ln θ`` (``relative=True``: ``∂ln L/∂ln θ``) of ``loss_fn(detector_params) -> scalar`` per leaf.

    ``loss_fn`` must be differentiable in ``detector_params`` (use the soft detector); it is
    differentiated once under ``jit``. Returns ``{leaf path: sensitivity}`` (see
    :func:`elasticities`), in the loss's units per e-fold of the parameter (dimensionless when
    ``relative``).
    """
    if relative:
        loss, grads = jax.jit(jax.value_and_grad(loss_fn))(detector_params)
        return {k: v / float(loss) for k, v in elasticities(detector_params, grads).items()}
    grads = jax.jit(jax.grad(loss_fn))(detector_params)
    return elasticities(detector_params, grads)
