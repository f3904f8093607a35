"""Exact, event-weighted ROC curve, ROC AUC and true-positive rate at a fixed false-positive rate.

Conventions (as scikit-learn's ``roc_curve`` / ``roc_auc_score``): labels are 0/1 (or bool), 1 is
the positive (signal) class, a higher score is more signal-like, an event is selected when
``score >= threshold``. Events with equal scores cannot be separated by any threshold, so tied
scores form one step of the curve (one diagonal segment, a trapezoid in the area). Events of zero
weight are dropped (they move no rate).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def _prepare(scores, labels, weights, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated float64 ``scores [n]``, bool ``labels [n]``, float64 ``weights [n]`` (zero weights dropped)."""
    s = np.asarray(scores, np.float64).ravel()
    y_raw = np.asarray(labels).ravel()
    w = np.ones_like(s) if weights is None else np.asarray(weights, np.float64).ravel()
    if not (s.shape == y_raw.shape == w.shape):
        raise ValueError(
            f"{name}: scores, labels and weights must have the same length, got {s.shape}, {y_raw.shape}, {w.shape}"
        )
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name}: scores contain {int(np.sum(~np.isfinite(s)))} NaN/Inf entries")
    if y_raw.dtype != bool and not np.all((y_raw == 0) | (y_raw == 1)):
        raise ValueError(f"{name}: labels must be 0/1 or bool")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError(f"{name}: weights must be finite and non-negative")
    y = y_raw.astype(bool)
    keep = w > 0
    s, y, w = s[keep], y[keep], w[keep]
    w_pos, w_neg = w[y].sum(), w[~y].sum()
    if w_pos <= 0 or w_neg <= 0:
        present = "only the positive class (label 1)" if w_pos > 0 else "only the negative class (label 0)"
        if w_pos <= 0 and w_neg <= 0:
            present = "no event with positive weight"
        raise ValueError(f"{name} needs both classes with positive total weight; the sample holds {present}")
    return s, y, w


def _steps(s: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct score, from the highest down: ``(score [k], positive weight [k], negative weight [k])``."""
    order = np.argsort(-s, kind="mergesort")
    s, y, w = s[order], y[order], w[order]
    start = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    pos = np.add.reduceat(np.where(y, w, 0.0), start)
    neg = np.add.reduceat(np.where(y, 0.0, w), start)
    return s[start], pos, neg


def roc_curve(
    scores: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    return_thresholds: bool = False,
) -> tuple[np.ndarray, ...]:
    """Exact ROC curve: false- and true-positive rates ``(fpr [k+1], tpr [k+1])`` from (0, 0) to (1, 1).

    One point per distinct score ``k`` (scikit-learn's ``roc_curve(..., drop_intermediate=False)``),
    in order of decreasing threshold; point ``i > 0`` selects ``score >= thresholds[i]``, point 0
    selects nothing (threshold ``+inf``).

    Args:
      scores: ``[n]`` classifier outputs (any monotone scale).
      labels: ``[n]`` 0/1 or bool; 1 is the positive class.
      weights: ``[n]`` non-negative event weights (default 1).
      return_thresholds: also return ``thresholds [k+1]``.

    Raises:
      ValueError: on mismatched lengths, NaN scores, negative weights, or if one class is missing.
    """
    s, y, w = _prepare(scores, labels, weights, "roc_curve")
    thr, pos, neg = _steps(s, y, w)
    tp, fp = np.r_[0.0, np.cumsum(pos)], np.r_[0.0, np.cumsum(neg)]
    fpr, tpr = fp / fp[-1], tp / tp[-1]
    if return_thresholds:
        return fpr, tpr, np.r_[np.inf, thr]
    return fpr, tpr


def roc_auc(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Area under the exact ROC curve: ``P(score_pos > score_neg) + P(tie) / 2``, event-weighted.

    Equal to the trapezoid area under :func:`roc_curve` (and to scikit-learn's ``roc_auc_score``
    with ``sample_weight``). Arguments as :func:`roc_curve`; 0.5 for a random score, 1 for a
    perfect one.
    """
    s, y, w = _prepare(scores, labels, weights, "roc_auc")
    _, pos, neg = _steps(s, y, w)
    neg_above = np.cumsum(neg) - neg  # negative weight at strictly higher scores
    # a positive beats the negatives below it and ties half of the negatives at its own score
    beaten = neg.sum() - neg_above - 0.5 * neg
    return float(np.sum(pos * beaten) / (pos.sum() * neg.sum()))


class TprAtFpr(NamedTuple):
    """Result of :func:`tpr_at_fpr`.

    value: true-positive rate of the chosen cut; fpr: its false-positive rate (<= the one asked
    for); threshold: the cut, events with ``score >= threshold`` pass (``+inf``: none);
    resolvable: whether the asked FPR is at least ``min_resolvable_fpr``; min_resolvable_fpr:
    the smallest non-zero FPR any cut reaches (``1 / N_background`` unweighted without ties).
    """

    value: float
    fpr: float
    threshold: float
    resolvable: bool
    min_resolvable_fpr: float


def tpr_at_fpr(scores: np.ndarray, labels: np.ndarray, fpr: float, weights: np.ndarray | None = None) -> TprAtFpr:
    """True-positive rate of the loosest cut whose false-positive rate does not exceed ``fpr``.

    The ROC curve of a finite sample is a staircase; this takes its highest point with
    ``FPR <= fpr`` (no interpolation). When ``fpr`` is below the smallest non-zero FPR the
    background sample resolves (``min_resolvable_fpr``, ``1 / N_background`` for unit weights
    and no ties among the highest background scores), the only admissible cut passes no
    background: ``value`` is then the TPR at FPR = 0 and ``resolvable`` is False, so the caller
    can report it as a bound rather than a measurement. Nothing is raised in that case.

    Args:
      scores, labels, weights: as :func:`roc_curve`.
      fpr: target false-positive rate in [0, 1].
    """
    if not 0.0 <= fpr <= 1.0:
        raise ValueError(f"tpr_at_fpr: fpr must lie in [0, 1], got {fpr}")
    f, t, thr = roc_curve(scores, labels, weights, return_thresholds=True)
    # cumulative sums may land an ulp above an exactly reachable rate such as 20 / 20000
    i = int(np.searchsorted(f, fpr * (1.0 + 1e-12), side="right")) - 1
    min_fpr = float(f[np.argmax(f > 0)])
    return TprAtFpr(float(t[i]), float(f[i]), float(thr[i]), bool(fpr >= min_fpr * (1.0 - 1e-12)), min_fpr)
