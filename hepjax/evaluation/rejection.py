"""Background rejection at a fixed signal efficiency (R50 for 50%), event-weighted.

The cut sits at the signal score quantile: events with ``score > t`` pass, with ``t`` the
:func:`~hepjax.evaluation.stats.weighted_quantile` of the signal scores at ``1 - eff``. This is
the convention of Kasieczka & Shih, PRL 125 (2020) 122001, for R50.
"""

from __future__ import annotations

import numpy as np

from hepjax.evaluation.roc import _prepare
from hepjax.evaluation.stats import weighted_quantile


def cut_at_signal_efficiency(s_sig: np.ndarray, eff: float = 0.5, w_sig: np.ndarray | None = None) -> float:
    """Score threshold ``t`` with ``P(score > t | signal) = eff`` (up to the sample's granularity); ``s_sig [n_sig]``."""
    return weighted_quantile(s_sig, 1.0 - eff, w_sig)


def rejection_at_efficiency(
    scores: np.ndarray, labels: np.ndarray, eff: float = 0.5, weights: np.ndarray | None = None
) -> float:
    """Background rejection ``1 / eps_B`` at signal efficiency ``eff``; ``inf`` if no background passes.

    Args:
      scores: ``[n]`` classifier outputs, higher = more signal-like.
      labels: ``[n]`` 0/1 or bool; 1 is signal.
      eff: signal efficiency of the cut, in (0, 1] (0.5 gives R50).
      weights: ``[n]`` non-negative event weights (default 1); zero-weight events are ignored.
    """
    if not 0.0 < eff <= 1.0:
        raise ValueError(f"rejection_at_efficiency: eff must lie in (0, 1], got {eff}")
    s, y, w = _prepare(scores, labels, weights, "rejection_at_efficiency")
    t = cut_at_signal_efficiency(s[y], eff, w[y])
    wb = w[~y]
    eps_b = wb[s[~y] > t].sum() / wb.sum()
    return float(np.inf if eps_b == 0 else 1.0 / eps_b)
