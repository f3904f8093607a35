"""Mass-sculpting figure of merit of a decorrelated tagger (NumPy, host side).

1/JSD: the inverse Jensen–Shannon divergence between the background mass histograms that pass
and fail the cut at a fixed signal efficiency, as in Kasieczka & Shih, PRL 125 (2020) 122001.
The generic pieces (R50, JSD, the signal-efficiency cut, weighted quantile) live in
:mod:`hepjax.evaluation`.
"""

from __future__ import annotations

import numpy as np

from hepjax.evaluation import cut_at_signal_efficiency, jensen_shannon


def inverse_jsd(s_sig, s_bkg, m_bkg, *, edges, eff: float = 0.5, w_sig=None, w_bkg=None) -> float:
    """1/JSD of the background mass histograms passing and failing the cut at signal efficiency ``eff``.

    Args:
      s_sig, s_bkg: tagger scores; m_bkg: background mass (GeV); edges: mass bin edges (GeV).
      w_sig, w_bkg: optional event weights of the two samples.
    Returns NaN if either histogram is empty, inf if they are identical.
    """
    t = cut_at_signal_efficiency(s_sig, eff, w_sig)
    wb = np.ones(len(s_bkg)) if w_bkg is None else np.asarray(w_bkg, float)
    passed = np.asarray(s_bkg) > t
    hp, _ = np.histogram(m_bkg[passed], edges, weights=wb[passed])
    hf, _ = np.histogram(m_bkg[~passed], edges, weights=wb[~passed])
    if hp.sum() <= 0 or hf.sum() <= 0:
        return float("nan")
    jsd = jensen_shannon(hp, hf)
    return float(np.inf if jsd == 0 else 1.0 / jsd)
