"""Maximum-likelihood training of a :class:`~hepjax.flows.Flow` through :func:`hepjax.train.fit`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.flows.flow import Flow
from hepjax.train import ArrayDataset, FitResult, TrainConfig, fit


def _finite(name: str, a: np.ndarray | None) -> None:
    if a is not None and not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains {int(np.sum(~np.isfinite(a)))} NaN/Inf entries; clean the data first")


def mean_log_prob(
    flow: Flow, params: Any, x: np.ndarray, context: np.ndarray | None = None, *, batch: int = 4096
) -> float:
    """Mean ``log p(x | context)`` (nats per event) over ``x [n, dim]`` in jitted chunks of ``batch``."""
    lp = jax.jit(flow.log_prob)
    total, n = 0.0, x.shape[0]
    for a in range(0, n, batch):
        c = None if context is None else jnp.asarray(context[a : a + batch])
        total += float(jnp.sum(lp(params, jnp.asarray(x[a : a + batch]), c)))
    return total / n


def fit_flow(
    flow: Flow,
    x: np.ndarray,
    context: np.ndarray | None,
    cfg: TrainConfig,
    *,
    workdir: str | Path,
    key: jax.Array,
    x_val: np.ndarray | None = None,
    context_val: np.ndarray | None = None,
    params: Any = None,
    eval_every: int = 0,
    augment: Callable[[jax.Array, jax.Array], jax.Array] | None = None,
    weights: np.ndarray | None = None,
) -> FitResult:
    """Minimise the mean negative log-likelihood of ``x [n, dim]`` given ``context [n, c]``.

    Logs ``nll`` (nats/event) per step and, with ``x_val``, ``val_nll`` every ``eval_every``
    steps and at the end. Raises ``ValueError`` on NaN/Inf in the data or context.

    ``augment(key, x) -> x'`` (optional, pure, jit-traceable) maps each training batch to an
    equally likely batch, e.g. by a symmetry of the data's distribution; the step's key drives
    it, so a resumed run sees the same batches. The context is passed unchanged, so ``augment``
    must leave ``p(context)`` and ``p(x | context)`` invariant.

    ``weights [n]`` (optional, finite, >= 0; e.g. generator weights): the loss is then the weighted mean
    NLL of each batch, ``sum w (-log p) / sum w``, so the flow learns the weighted density.
    """
    x = np.asarray(x, np.float32)
    _finite("x", x)
    _finite("context", context)
    _finite("x_val", x_val)
    arrays = {"x": x} if context is None else {"x": x, "c": np.asarray(context, np.float32)}
    if weights is not None:
        w = np.asarray(weights, np.float32)
        if w.shape != (len(x),) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ValueError(f"weights must be [{len(x)}] finite and >= 0, got shape {w.shape}")
        arrays["w"] = w
    data = ArrayDataset(arrays, cfg.batch_size, seed=int(jax.random.randint(key, (), 0, 2**30)))
    k_init, k_fit = jax.random.split(key)
    if params is None:
        params = flow.init(k_init)

    def loss_fn(p, batch, key):
        xb = batch["x"] if augment is None else augment(key, batch["x"])
        lp = flow.log_prob(p, xb, batch.get("c"))
        if "w" in batch:  # weighted mean: a batch's weights need not sum to its size
            nll = -jnp.sum(batch["w"] * lp) / jnp.maximum(jnp.sum(batch["w"]), 1e-30)
        else:
            nll = -jnp.mean(lp)
        return nll, {"nll": nll}

    eval_fn = None
    if x_val is not None:
        eval_fn = lambda p: {"nll": -mean_log_prob(flow, p, x_val, context_val)}
    return fit(
        loss_fn,
        params,
        data,
        cfg,
        workdir=workdir,
        key=k_fit,
        eval_fn=eval_fn,
        eval_every=eval_every or (cfg.steps if x_val is not None else 0),
    )
