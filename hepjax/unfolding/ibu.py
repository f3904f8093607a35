"""Iterative Bayesian unfolding (D'Agostini, NIM A 362 (1995) 487), jit-able with a fixed iteration count.

Conventions follow ``pyunfold.iterative_unfold`` (0.5): ``response[j, i]`` is P(effect bin j | cause bin i),
its column sums are the efficiencies ``efficiencies[i]`` (P(observed | cause i)), the prior is normalised
to unit sum (flat when not given), and the result is unfolded *counts* in the cause bins. Unlike
pyunfold there is no data-dependent stopping rule: the number of iterations is static, so the loop is a
``jax.lax.scan`` and the whole function is differentiable in the measured counts, response and prior.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from hepjax.errors import DataError, is_concrete


def _check_inputs(data, response, efficiencies, prior) -> None:
    """Eager shape/sign checks; skipped for traced values (under jit the caller checked already)."""
    if data.ndim != 1 or response.ndim != 2 or response.shape[0] != data.shape[0]:
        raise DataError(
            f"response shape {tuple(response.shape)} does not match data shape {tuple(data.shape)}: "
            "response must be [n_effect_bins, n_cause_bins] with n_effect_bins == len(data)"
        )
    n_cause = response.shape[1]
    if efficiencies.shape != (n_cause,):
        raise DataError(f"efficiencies shape {tuple(efficiencies.shape)} != (n_cause_bins,) = ({n_cause},)")
    if prior is not None and prior.shape != (n_cause,):
        raise DataError(f"prior shape {tuple(prior.shape)} != (n_cause_bins,) = ({n_cause},)")
    if not is_concrete(data, efficiencies):
        return
    d = np.asarray(data)
    if np.any(~np.isfinite(d)) or np.any(d < 0):
        bad = int(np.flatnonzero(~(np.isfinite(d) & (d >= 0)))[0])
        raise DataError(f"data must be finite non-negative counts; bin {bad} holds {d[bad]}")
    eff = np.asarray(efficiencies)
    if np.any(~(eff > 0)):
        bad = int(np.flatnonzero(~(eff > 0))[0])
        raise DataError(f"truth (cause) bin {bad} has efficiency {eff[bad]}: it cannot be unfolded (needs > 0)")
    if is_concrete(response) and np.any(np.asarray(response) < 0):
        raise DataError("response matrix has negative entries")


def iterative_unfold(
    data: ArrayLike,
    response: ArrayLike,
    efficiencies: ArrayLike,
    *,
    prior: ArrayLike | None = None,
    n_iterations: int = 4,
) -> jax.Array:
    """Unfold measured counts with ``n_iterations`` D'Agostini iterations.

    Args:
      data: measured counts per effect (reco) bin, shape ``[n_effect]``, non-negative.
      response: ``[n_effect, n_cause]``, ``response[j, i] = P(effect j | cause i)``; column sums are
        the efficiencies (pyunfold's normalisation).
      efficiencies: ``[n_cause]``, P(event of cause bin i is observed at all); must be > 0.
      prior: ``[n_cause]`` initial cause distribution (normalised internally); flat if None.
      n_iterations: static number of iterations (>= 1).

    Returns:
      Unfolded counts per cause (truth) bin, shape ``[n_cause]``, same float dtype as the inputs.

    Example:
      >>> import jax.numpy as jnp
      >>> r = jnp.array([[0.9, 0.1], [0.1, 0.9]])
      >>> iterative_unfold(jnp.array([100.0, 150.0]), r, jnp.ones(2), n_iterations=4).round(2)
      Array([ 94.32, 155.68], dtype=float32)
    """
    if int(n_iterations) < 1:
        raise DataError(f"n_iterations must be >= 1, got {n_iterations}")
    data = jnp.asarray(data)
    dtype = jnp.result_type(data, response, efficiencies, jnp.float32)
    data = data.astype(dtype)
    response = jnp.asarray(response, dtype)
    efficiencies = jnp.asarray(efficiencies, dtype)
    prior = None if prior is None else jnp.asarray(prior, dtype)
    _check_inputs(data, response, efficiencies, prior)
    n_cause = response.shape[1]
    p0 = jnp.full((n_cause,), 1.0 / n_cause, dtype) if prior is None else prior / jnp.sum(prior)

    def step(p, _):
        # Bayes: P(cause i | effect j) = R[j, i] p[i] / sum_k R[j, k] p[k].
        folded = response @ p  # [n_effect]
        # An effect bin no cause can populate (folded == 0) carries no information: weight 0, not NaN.
        safe = jnp.where(folded > 0, folded, 1.0)
        w = jnp.where(folded > 0, data / safe, 0.0)  # [n_effect]
        unfolded = p * (response.T @ w) / efficiencies  # [n_cause] counts
        return unfolded / jnp.sum(unfolded), unfolded

    _, history = jax.lax.scan(step, p0, None, length=int(n_iterations))
    return history[-1]


__all__ = ["iterative_unfold"]
