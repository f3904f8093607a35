"""Percentile bootstrap confidence interval of any event-level metric (AUC, R50, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np


class Interval(NamedTuple):
    """Result of :func:`bootstrap_interval`: the metric on the full sample (``value``), the
    percentile interval ``[lower, upper]`` and the standard deviation of the replicas (``std``)."""

    value: float
    lower: float
    upper: float
    std: float


def bootstrap_interval(
    metric_fn: Callable[..., float],
    *arrays: np.ndarray,
    n: int = 200,
    seed: int | np.random.Generator = 0,
    key=None,
    cl: float = 0.683,
    stratify: np.ndarray | None = None,
) -> Interval:
    """Central percentile interval of ``metric_fn(*arrays)`` from ``n`` bootstrap replicas.

    Every replica draws the same event indices, with replacement, for all ``arrays`` (each
    ``[N, ...]``), so scores, labels and weights stay paired. With ``stratify`` (``[N]`` class
    labels, usually the 0/1 labels) the draw is made within each class and keeps the class counts,
    so no replica of an AUC or R50 loses a class.

    Args:
      metric_fn: ``f(*arrays) -> float``, e.g. :func:`~hepjax.evaluation.roc_auc`.
      arrays: event arrays with a common first dimension ``N``.
      n: number of replicas.
      seed: NumPy seed or Generator; ignored when ``key`` is given.
      key: optional JAX PRNG key; the NumPy seed is drawn from it.
      cl: confidence level of the central interval.
      stratify: optional ``[N]`` group labels to resample within.
    """
    if not arrays:
        raise ValueError("bootstrap_interval needs at least one array")
    arrays = tuple(np.asarray(a) for a in arrays)
    size = len(arrays[0])
    if any(len(a) != size for a in arrays) or size == 0:
        raise ValueError(
            f"bootstrap_interval: arrays must share a non-zero first dimension, got {[len(a) for a in arrays]}"
        )
    if n < 2 or not 0.0 < cl < 1.0:
        raise ValueError(f"bootstrap_interval: need n >= 2 and 0 < cl < 1, got n={n}, cl={cl}")
    if key is not None:
        import jax

        seed = int(jax.random.randint(key, (), 0, 2**30))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    groups = [np.arange(size)] if stratify is None else [np.flatnonzero(stratify == g) for g in np.unique(stratify)]
    reps = np.empty(n)
    for r in range(n):
        # one draw per group, each of the group's own size: class counts stay fixed
        idx = np.concatenate([g[rng.integers(0, len(g), len(g))] for g in groups])
        reps[r] = metric_fn(*(a[idx] for a in arrays))
    alpha = 0.5 * (1.0 - cl)
    lo, hi = np.quantile(reps, [alpha, 1.0 - alpha])
    return Interval(float(metric_fn(*arrays)), float(lo), float(hi), float(np.std(reps, ddof=1)))
