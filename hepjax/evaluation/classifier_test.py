"""Classifier two-sample test (CaloChallenge, arXiv:2410.21611; Lopez-Paz & Oquab 2017).

A small Flax MLP is trained through :func:`hepjax.train.fit` to tell sample A from sample B; its
ROC AUC on held-out events measures how different the samples are (0.5: indistinguishable,
1.0: fully separable).

Example::

    out = classifier_two_sample_auc(x_gen, x_ref, key=jax.random.PRNGKey(0),
                                    train_cfg=TrainConfig(steps=500, batch_size=256), workdir="runs/cls")
    out["auc"]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from hepjax.evaluation.roc import roc_auc
from hepjax.train import ArrayDataset, Standardizer, TrainConfig, fit


class MLPClassifier(nn.Module):
    """``[..., n_features] -> logit [...]``."""

    hidden: Sequence[int] = (64, 64)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        for width in self.hidden:
            x = nn.leaky_relu(nn.Dense(width)(x), 0.1)
        return nn.Dense(1)(x)[..., 0]


def classifier_two_sample_auc(
    x_a: np.ndarray,
    x_b: np.ndarray,
    *,
    key: jax.Array,
    train_cfg: TrainConfig,
    workdir: str | Path,
    hidden: Sequence[int] = (64, 64),
    test_fraction: float = 0.3,
    weights_a: np.ndarray | None = None,
    weights_b: np.ndarray | None = None,
) -> dict:
    """Train an MLP to separate ``x_a [n_a, f]`` (label 1) from ``x_b [n_b, f]`` (label 0).

    Features are standardised with the training split's mean and std. The classes are
    re-weighted to equal total weight. Returns ``auc`` and ``auc_train`` (ROC AUC on the
    held-out ``test_fraction`` and on the training split), ``n_train``, ``n_test``, and the
    held-out ``scores``/``labels`` for plots.
    """
    x_a, x_b = np.asarray(x_a, np.float32), np.asarray(x_b, np.float32)
    if x_a.ndim != 2 or x_b.ndim != 2 or x_a.shape[1] != x_b.shape[1]:
        raise ValueError(f"x_a and x_b must be [n, n_features] with equal n_features, got {x_a.shape} and {x_b.shape}")
    for name, x in (("x_a", x_a), ("x_b", x_b)):
        if not np.all(np.isfinite(x)):
            raise ValueError(f"{name} contains {int(np.sum(~np.isfinite(x)))} NaN/Inf entries")
    wa = np.ones(len(x_a)) if weights_a is None else np.asarray(weights_a, np.float64)
    wb = np.ones(len(x_b)) if weights_b is None else np.asarray(weights_b, np.float64)
    x = np.concatenate([x_a, x_b])
    y = np.concatenate([np.ones(len(x_a)), np.zeros(len(x_b))]).astype(np.float32)
    w = np.concatenate([wa / wa.sum(), wb / wb.sum()]) * len(x) / 2.0
    seed = int(jax.random.randint(key, (), 0, 2**30))
    perm = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    test, train = perm[:n_test], perm[n_test:]
    xs = Standardizer.fit(x[train], eps=1e-6).apply(x, np.float32)
    model = MLPClassifier(tuple(hidden))
    k_init, k_fit = jax.random.split(key)
    params = model.init(k_init, xs[:1])

    def loss_fn(p, batch, _key):
        logits = model.apply(p, batch["x"])
        loss = jnp.sum(batch["w"] * optax.sigmoid_binary_cross_entropy(logits, batch["y"])) / jnp.sum(batch["w"])
        return loss, {}

    data = ArrayDataset(
        {"x": xs[train], "y": y[train], "w": w[train].astype(np.float32)}, train_cfg.batch_size, seed=seed
    )
    res = fit(loss_fn, params, data, train_cfg, workdir=workdir, key=k_fit)
    predict = jax.jit(model.apply)
    score = lambda idx: np.concatenate(
        [np.asarray(predict(res.state.params, xs[idx][i : i + 8192])) for i in range(0, len(idx), 8192)]
    )
    s_test, s_train = score(test), score(train)
    return {
        "auc": roc_auc(s_test, y[test], w[test]),
        "auc_train": roc_auc(s_train, y[train], w[train]),
        "n_train": int(len(train)),
        "n_test": int(n_test),
        "scores": s_test,
        "labels": y[test],
    }
