"""Classifier two-sample test (CaloChallenge, arXiv:2410.21611; Lopez-Paz & Oquab 2017), ROC AUC and
separation power.

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

from hepjax.train import ArrayDataset, Standardizer, TrainConfig, fit


def roc_auc(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Area under the ROC curve: P(score_pos > score_neg) + P(tie) / 2, optionally event-weighted.

    Args:
      scores: ``[n]`` classifier outputs (any monotone scale).
      labels: ``[n]`` 0/1 (or bool); 1 is the positive class.
      weights: ``[n]`` non-negative event weights (default 1).
    """
    s = np.asarray(scores, np.float64).ravel()
    y = np.asarray(labels).ravel().astype(bool)
    w = np.ones_like(s) if weights is None else np.asarray(weights, np.float64).ravel()
    if not (s.shape == y.shape == w.shape):
        raise ValueError(f"scores, labels and weights must have the same length: {s.shape}, {y.shape}, {w.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores contain NaN/Inf")
    if np.any(w < 0):
        raise ValueError("weights must be non-negative")
    w_pos, w_neg = np.sum(w[y]), np.sum(w[~y])
    if w_pos <= 0 or w_neg <= 0:
        raise ValueError("roc_auc needs both classes with positive total weight")
    order = np.argsort(s, kind="mergesort")
    s, y, w = s[order], y[order], w[order]
    uniq, start = np.unique(s, return_index=True)
    neg_per = np.add.reduceat(np.where(y, 0.0, w), start)
    pos_per = np.add.reduceat(np.where(y, w, 0.0), start)
    neg_below = np.cumsum(neg_per) - neg_per
    return float(np.sum(pos_per * (neg_below + 0.5 * neg_per)) / (w_pos * w_neg))


def roc_curve(
    scores: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """False- and true-positive rates ``(fpr, tpr)`` for every threshold, from (0, 0) to (1, 1)."""
    s = np.asarray(scores, np.float64).ravel()
    y = np.asarray(labels).ravel().astype(bool)
    w = np.ones_like(s) if weights is None else np.asarray(weights, np.float64).ravel()
    order = np.argsort(-s, kind="mergesort")
    tp = np.concatenate([[0.0], np.cumsum(np.where(y[order], w[order], 0.0))])
    fp = np.concatenate([[0.0], np.cumsum(np.where(y[order], 0.0, w[order]))])
    return fp / fp[-1], tp / tp[-1]


def separation_power(a: np.ndarray, b: np.ndarray, bins: int | np.ndarray = 30) -> float:
    """CaloChallenge separation power ``1/2 sum_i (p_i - q_i)^2 / (p_i + q_i)`` of two samples.

    ``a``, ``b``: 1-D samples histogrammed on common ``bins`` (edges, or a count spanning the
    1st–99th percentiles of both). 0: identical histograms, 1: disjoint.
    """
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        raise ValueError("separation_power needs two non-empty samples")
    if np.isscalar(bins):
        both = np.concatenate([a, b])
        lo, hi = np.percentile(both, [1, 99])
        if hi <= lo:
            lo, hi = both.min(), both.max() + 1e-12
        bins = np.linspace(lo, hi, int(bins) + 1)
    p = np.histogram(np.clip(a, bins[0], bins[-1]), bins)[0] / a.size
    q = np.histogram(np.clip(b, bins[0], bins[-1]), bins)[0] / b.size
    both = p + q
    return float(0.5 * np.sum(np.where(both > 0, (p - q) ** 2 / np.where(both > 0, both, 1.0), 0.0)))


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
