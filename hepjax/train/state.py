"""The training state pytree and the pure train step."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

# loss_fn(params, batch, key) -> (scalar loss, dict of scalar metrics)
LossFn = Callable[[Any, Any, jax.Array], tuple[jax.Array, dict]]


class TrainState(NamedTuple):
    """Everything a run needs to continue bit for bit.

    Attributes:
      step: int32 scalar, number of optimiser steps applied (= batches consumed).
      params: model parameters (any pytree).
      opt_state: optax state.
      key: uint32[2] base PRNG key; step ``s`` uses ``fold_in(key, s)``.
    """

    step: jax.Array
    params: Any
    opt_state: Any
    key: jax.Array


def init_state(params: Any, optimizer: optax.GradientTransformation, key: jax.Array) -> TrainState:
    """Fresh state at step 0. ``key`` must be a raw ``uint32[2]`` key (``jax.random.PRNGKey``)."""
    if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        key = jax.random.key_data(key)
    return TrainState(jnp.zeros((), jnp.int32), params, optimizer.init(params), key)


def step_key(state: TrainState) -> jax.Array:
    """The key of the step about to be taken: a pure function of the base key and the step."""
    return jax.random.fold_in(state.key, state.step)


def tree_all_finite(tree: Any) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.inexact)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


def make_train_step(loss_fn: LossFn, optimizer: optax.GradientTransformation):
    """Return the pure step ``(state, batch, key) -> (state, metrics)``.

    A non-finite loss or gradient leaves ``state`` unchanged (so the last good parameters
    survive) and reports ``metrics["finite"] = False``; :func:`hepjax.train.fit` stops the run.
    """

    def train_step(state: TrainState, batch: Any, key: jax.Array) -> tuple[TrainState, dict]:
        (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params, batch, key)
        finite = jnp.isfinite(loss) & tree_all_finite(grads)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        keep = lambda new, old: jnp.where(finite, new, old)
        new = TrainState(
            state.step + finite.astype(jnp.int32),
            jax.tree.map(keep, params, state.params),
            jax.tree.map(keep, opt_state, state.opt_state),
            state.key,
        )
        metrics = {"loss": loss, "grad_norm": optax.tree.norm(grads), "finite": finite, **aux}
        return new, metrics

    return train_step
