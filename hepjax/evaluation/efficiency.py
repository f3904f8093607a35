"""Efficiency ``k / n`` with a Clopper–Pearson (exact binomial) confidence interval."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.stats


class Efficiency(NamedTuple):
    """Result of :func:`efficiency`, all with the shape of ``k`` and ``n`` broadcast.

    value: ``k / n`` (NaN where ``n == 0``); lower, upper: the interval bounds; err_low, err_high:
    ``value - lower`` and ``upper - value`` (for error bars).
    """

    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    err_low: np.ndarray
    err_high: np.ndarray


def efficiency(k, n, cl: float = 0.683) -> Efficiency:
    """Efficiency ``k / n`` and its central Clopper–Pearson interval at confidence level ``cl``.

    Each side holds ``(1 - cl) / 2`` (as ROOT's ``TEfficiency::ClopperPearson``), so the interval
    never collapses at the boundary: at ``k == n`` the lower bound is ``((1 - cl) / 2)^(1/n) < 1``
    (lower error > 0), at ``k == 0`` the upper bound is ``1 - ((1 - cl) / 2)^(1/n) > 0``.

    Args:
      k: passing counts (scalar or array, integers 0..n).
      n: totals (same shape as ``k`` or broadcastable). Bins with ``n == 0`` give value NaN and
        interval [0, 1].
      cl: confidence level in (0, 1); 0.683 is one Gaussian sigma.
    """
    if not 0.0 < cl < 1.0:
        raise ValueError(f"efficiency: cl must lie in (0, 1), got {cl}")
    k, n = np.broadcast_arrays(np.asarray(k, np.float64), np.asarray(n, np.float64))
    if np.any(k < 0) or np.any(k > n) or np.any(k != np.round(k)) or np.any(n != np.round(n)):
        raise ValueError("efficiency: k and n must be integers with 0 <= k <= n")
    alpha = 0.5 * (1.0 - cl)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.where(n > 0, k / np.where(n > 0, n, 1.0), np.nan)
        # beta.ppf is NaN at a zero shape parameter: those are the k = 0 / k = n boundaries
        lower = np.where(k > 0, scipy.stats.beta.ppf(alpha, k, n - k + 1), 0.0)
        upper = np.where(k < n, scipy.stats.beta.ppf(1.0 - alpha, k + 1, n - k), 1.0)
    if value.ndim == 0:
        value, lower, upper = float(value), float(lower), float(upper)
    return Efficiency(value, lower, upper, value - lower, upper - value)
