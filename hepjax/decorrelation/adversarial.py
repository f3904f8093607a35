"""Adversarial decorrelation: a Gaussian-mixture adversary predicts mass from the tagger output.

Louppe, Kagan, Cranmer, "Learning to pivot with adversarial networks", NeurIPS 2017
(arXiv:1611.01046); trained here by gradient reversal (Ganin & Lempitsky, ICML 2015): one
loss ``L_clf + NLL_adv(reverse(score, lambda))`` is minimised by a single optimiser; the
adversary lowers its negative log-likelihood while the classifier, seeing the gradient
multiplied by ``-lambda``, raises it. ``lambda`` follows :func:`lambda_schedule`.

Example::

    adv = init_adversary(key, n_components=5, hidden=32)
    nll = adversary_nll(adv, gradient_reversal(score, lam), (mass - 150.) / 50., w_bkg)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from hepjax.nn import MLP, fan_in_normal


@jax.custom_vjp
def gradient_reversal(x: jax.Array, lam: jax.Array) -> jax.Array:
    """Identity forward; the backward multiplies the cotangent by ``-lam`` (no gradient to ``lam``)."""
    return x


def _gr_fwd(x, lam):
    return x, lam


def _gr_bwd(lam, g):
    return -lam * g, jnp.zeros_like(lam)


gradient_reversal.defvjp(_gr_fwd, _gr_bwd)


def lambda_schedule(step: jax.Array, lam: float, ramp_steps: int) -> jax.Array:
    """``lam * (2 / (1 + exp(-10 p)) - 1)``, ``p = step / ramp_steps`` (Ganin & Lempitsky's ramp)."""
    p = jnp.clip(step / max(ramp_steps, 1), 0.0, 1.0)
    return lam * (2.0 / (1.0 + jnp.exp(-10.0 * p)) - 1.0)


def adversary_network(n_components: int, hidden: int) -> MLP:
    """The adversary's :class:`hepjax.nn.MLP`: ``-> hidden -> hidden -> 3 * n_components``, tanh, He-normal weights."""
    return MLP((hidden, hidden, 3 * n_components), activation=jnp.tanh, kernel_init=fan_in_normal(2.0))


def init_adversary(key: jax.Array, *, n_components: int = 5, hidden: int = 32, n_inputs: int = 1) -> dict[str, Any]:
    """Flax variables of the MLP ``[n_inputs] -> hidden -> hidden -> 3 * n_components`` (logits, means, log sigmas)."""
    return adversary_network(n_components, hidden).init(key, jnp.zeros((1, n_inputs), jnp.float32))


def adversary_mixture(params: dict, inputs: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """Mixture ``(log_weights, means, sigmas)``, each ``[N, K]``, from inputs ``[N]`` or ``[N, d]``.

    The sizes are read from ``params`` (as made by :func:`init_adversary`).
    """
    h = inputs[:, None] if inputs.ndim == 1 else inputs
    p = params["params"]
    hidden = int(p["Dense_0"]["kernel"].shape[1])
    out = adversary_network(int(p["Dense_2"]["kernel"].shape[1]) // 3, hidden).apply(params, h)
    logits, means, log_sig = jnp.split(out, 3, axis=-1)
    sig = jax.nn.softplus(log_sig) + 1e-3
    return jax.nn.log_softmax(logits, axis=-1), means, sig


def adversary_nll(params: dict, inputs: jax.Array, target: jax.Array, weights: jax.Array | None = None) -> jax.Array:
    """Weighted mean negative log-likelihood of ``target [N]`` (standardised mass) under the mixture."""
    logw, mu, sig = adversary_mixture(params, inputs)
    z = (target[:, None] - mu) / sig
    logp = jax.nn.logsumexp(logw - 0.5 * z**2 - jnp.log(sig) - 0.5 * jnp.log(2 * jnp.pi), axis=-1)
    w = jnp.ones_like(logp) if weights is None else weights
    return -jnp.sum(w * logp) / jnp.maximum(jnp.sum(w), 1e-12)
