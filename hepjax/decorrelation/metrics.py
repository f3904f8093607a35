"""Figures of merit of a mass-decorrelated tagger (NumPy, host side).

R50 (background rejection at 50% signal efficiency) and 1/JSD, the Jensen–Shannon divergence
between the background mass histograms that pass and fail the 50%-signal-efficiency cut, as in
Kasieczka & Shih, PRL 125 (2020) 122001. JSD uses log base 2 (so JSD is in [0, 1]).
"""

from __future__ import annotations

import numpy as np


def _weights(v: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    return np.ones(len(v)) if w is None else np.asarray(w, float)


def weighted_quantile(v: np.ndarray, q: float, w: np.ndarray | None = None) -> float:
    """The value below which a fraction ``q`` of the weight of ``v`` lies."""
    v = np.asarray(v, float)
    w = _weights(v, w)
    if v.size == 0 or w.sum() <= 0:
        raise ValueError("weighted_quantile needs a non-empty sample with positive total weight")
    o = np.argsort(v)
    cw = np.cumsum(w[o])
    return float(v[o][min(np.searchsorted(cw, q * cw[-1]), len(v) - 1)])


def cut_at_signal_efficiency(s_sig: np.ndarray, eff: float = 0.5, w_sig: np.ndarray | None = None) -> float:
    """Score threshold ``t`` with ``P(score > t | signal) = eff``."""
    return weighted_quantile(s_sig, 1.0 - eff, w_sig)


def rejection(s_sig, s_bkg, *, eff: float = 0.5, w_sig=None, w_bkg=None) -> float:
    """Background rejection ``1 / eps_B`` at signal efficiency ``eff`` (R50 for 0.5); inf if no background passes."""
    t = cut_at_signal_efficiency(s_sig, eff, w_sig)
    wb = _weights(s_bkg, w_bkg)
    eps_b = wb[np.asarray(s_bkg) > t].sum() / wb.sum()
    return float(np.inf if eps_b == 0 else 1.0 / eps_b)


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """JSD (base 2) of two histograms (normalised here); 0 for identical, 1 for disjoint."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    if p.shape != q.shape or p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("jensen_shannon needs two same-shape histograms with positive totals")
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)

    def kl(a):
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return 0.5 * kl(p) + 0.5 * kl(q)


def inverse_jsd(s_sig, s_bkg, m_bkg, *, edges, eff: float = 0.5, w_sig=None, w_bkg=None) -> float:
    """1/JSD of the background mass histograms passing and failing the cut at signal efficiency ``eff``.

    Args:
      s_sig, s_bkg: tagger scores; m_bkg: background mass (GeV); edges: mass bin edges (GeV).
    """
    t = cut_at_signal_efficiency(s_sig, eff, w_sig)
    wb = _weights(s_bkg, w_bkg)
    passed = np.asarray(s_bkg) > t
    hp, _ = np.histogram(m_bkg[passed], edges, weights=wb[passed])
    hf, _ = np.histogram(m_bkg[~passed], edges, weights=wb[~passed])
    if hp.sum() <= 0 or hf.sum() <= 0:
        return float("nan")
    jsd = jensen_shannon(hp, hf)
    return float(np.inf if jsd == 0 else 1.0 / jsd)
