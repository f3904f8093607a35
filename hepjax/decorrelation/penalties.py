"""Mass-decorrelation penalties as small protocol objects, looked up by name.

A :class:`Penalty` (in the manner of optax's ``GradientTransformation``) is a pair of pure
functions and a name:

* ``init(key) -> params``: the penalty's own trainable parameters (``None`` when it has none);
* ``loss(params, scores, mass, background, step) -> (term, value)``: ``term`` is what is added to
  the classification loss, ``value`` the penalty logged as ``penalty``. ``scores [B]`` are the tagger
  outputs in [0, 1], ``mass [B]`` the jet masses (GeV), ``background [B]`` the weights of the jets
  to decorrelate on (1 for background, 0 for signal) and ``step`` the optimiser step (a scalar;
  only the adversary's λ ramp reads it).

:data:`PENALTIES` maps each name to its factory; :func:`get_penalty` builds one::

    pen = get_penalty("disco", strength=1.0)
    term, value = pen.loss(None, jax.nn.sigmoid(logits), mass, 1.0 - labels, step)
    total = bce + term

The penalties: ``none``; ``disco``, squared distance correlation of score and mass (Kasieczka & Shih,
PRL 125 (2020) 122001); ``mode0`` / ``mode1``, MoDe with the efficiency flat / linear in mass
(Kitouni et al., JHEP 03 (2021) 070); ``adversarial``, a Gaussian-mixture adversary predicting the mass
from the score through gradient reversal, λ ramped up (Louppe, Kagan & Cranmer, NeurIPS 2017).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from hepjax.decorrelation.adversarial import adversary_nll, gradient_reversal, init_adversary, lambda_schedule
from hepjax.decorrelation.distance import distance_correlation
from hepjax.decorrelation.mode import mode_loss


class Penalty(NamedTuple):
    """A decorrelation penalty: ``init(key) -> params | None`` and ``loss(params, scores, mass, background, step)``.

    ``loss`` returns ``(term, value)``: the term added to the classification loss and the penalty
    itself (both scalars; for the strength-weighted penalties ``term = strength * value``).
    """

    name: str
    init: Callable[[jax.Array], Any]
    loss: Callable[[Any, jax.Array, jax.Array, jax.Array, jax.Array], tuple[jax.Array, jax.Array]]


def _no_params(key: jax.Array) -> None:
    del key
    return None


def no_penalty(*, strength: float = 0.0) -> Penalty:
    """``none``: no penalty (the undecorrelated tagger); ``strength`` is ignored."""
    del strength

    def loss(params, scores, mass, background, step):
        del params, scores, mass, background, step
        zero = jnp.zeros(())
        return zero, zero

    return Penalty("none", _no_params, loss)


def disco(*, strength: float) -> Penalty:
    """``disco``: ``strength`` × squared distance correlation of score and mass on the background.

    Kasieczka & Shih, PRL 125 (2020) 122001; :func:`hepjax.decorrelation.distance_correlation`.
    """

    def loss(params, scores, mass, background, step):
        del params, step
        pen = distance_correlation(scores, mass, background)
        return strength * pen, pen

    return Penalty("disco", _no_params, loss)


def mode(*, strength: float, order: int, bins: int, mass_range: tuple[float, float]) -> Penalty:
    """``mode<order>``: ``strength`` × MoDe, background efficiency flat (order 0) or linear (1) in mass.

    Kitouni et al., JHEP 03 (2021) 070; :func:`hepjax.decorrelation.mode_loss` with ``bins`` mass
    bins over ``mass_range`` (GeV).
    """

    def loss(params, scores, mass, background, step):
        del params, step
        pen = mode_loss(scores, mass, background, order=order, bins=bins, mass_range=mass_range)
        return strength * pen, pen

    return Penalty(f"mode{order}", _no_params, loss)


def adversarial(
    *,
    strength: float,
    ramp_steps: int,
    mass_scale: tuple[float, float],
    n_components: int = 5,
    hidden: int = 32,
) -> Penalty:
    """``adversarial``: a Gaussian-mixture adversary predicts the standardised mass from the score.

    Louppe, Kagan & Cranmer, NeurIPS 2017. The adversary's NLL enters the loss once (``term =
    value``); the tagger sees its gradient reversed and scaled by λ, which ramps from 0 to
    ``strength`` over ``ramp_steps`` optimiser steps (:func:`hepjax.decorrelation.lambda_schedule`).
    ``mass_scale = (mean, std)`` (GeV) standardises the mass the adversary predicts.
    """

    def init(key):
        return init_adversary(key, n_components=n_components, hidden=hidden)

    def loss(params, scores, mass, background, step):
        lam_t = lambda_schedule(step, strength, ramp_steps)
        target = (mass - mass_scale[0]) / mass_scale[1]
        pen = adversary_nll(params, gradient_reversal(scores, lam_t), target, background)
        return pen, pen

    return Penalty("adversarial", init, loss)


def _mode0(**kw) -> Penalty:
    return mode(order=0, **kw)


def _mode1(**kw) -> Penalty:
    return mode(order=1, **kw)


#: name -> factory(**options) -> :class:`Penalty`
PENALTIES: dict[str, Callable[..., Penalty]] = {
    "none": no_penalty,
    "disco": disco,
    "mode0": _mode0,
    "mode1": _mode1,
    "adversarial": adversarial,
}


def get_penalty(name: str, **options: Any) -> Penalty:
    """The penalty registered as ``name``, built with ``options`` (its factory's keyword arguments).

    Raises:
      ValueError: ``name`` is not in :data:`PENALTIES` (the message lists the known names).
    """
    if name not in PENALTIES:
        raise ValueError(f"unknown decorrelation penalty {name!r}; known: {sorted(PENALTIES)}")
    return PENALTIES[name](**options)


def penalised_bce(apply_fn: Callable, penalty: Penalty) -> Callable:
    """``loss(params, batch, key) -> (loss, metrics)``: class-weighted BCE of the tagger plus ``penalty``.

    ``params`` is ``{"tagger": ...}`` (plus ``"adversary"`` for a penalty with parameters); ``batch`` holds
    the tagger inputs and ``label`` ``[B]`` (1 = signal), ``weight`` ``[B]``, ``mass`` ``[B]`` (GeV) and
    ``step`` ``[B]`` (the training step, for ramped penalties). Inputs are fixed (smeared once, up
    front), so the step key is unused.
    """

    def loss_fn(params, batch, key):
        del key
        logits = apply_fn(params["tagger"], batch)
        w = batch["weight"]
        bce = jnp.sum(w * optax.sigmoid_binary_cross_entropy(logits, batch["label"])) / jnp.sum(w)
        score = jax.nn.sigmoid(logits)
        term, pen = penalty.loss(params.get("adversary"), score, batch["mass"], 1.0 - batch["label"], batch["step"][0])
        return bce + term, {"bce": bce, "penalty": pen}

    return loss_fn
