"""Figures of merit of an anomaly trigger: ROC per signal and signal efficiency at a background rate."""

from __future__ import annotations

import numpy as np

from hepjax.evaluation import roc_auc, roc_curve, tpr_at_fpr


def _joined(bg: np.ndarray, sig: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([bg, sig]), np.concatenate([np.zeros(len(bg)), np.ones(len(sig))])


def score_roc(bg: np.ndarray, sig: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """FPR, TPR (higher score = more anomalous) and the exact AUC, background ``[n_b]`` vs signal ``[n_s]``."""
    s, y = _joined(bg, sig)
    fpr, tpr = roc_curve(s, y)
    return fpr, tpr, roc_auc(s, y)


def summarise_scores(
    scores: dict[str, np.ndarray], signals: tuple[str, ...], prefix: str, *, fpr: float = 1e-3
) -> dict:
    """AUC and TPR per signal for one model's scores ``{"background": [n_b], signal: [n_s], ...}``.

    Keys (``prefix`` = the model name): ``<prefix>_auc_<s>``; ``<prefix>_tpr_<s>``, the TPR at the
    smallest FPR the background sample resolves (``1 / n_b``); ``<prefix>_tpr_<fpr>_<s>`` at ``fpr``
    when the sample resolves it. When it does not (``fpr < 1 / n_b``), that key is ``None`` and
    ``<prefix>_tpr_<fpr>_<s>_upper_limit`` holds the TPR at ``1 / n_b``, an upper limit (the TPR
    falls as the FPR falls); ``n_background_test`` says why.
    """
    bg = np.asarray(scores["background"])
    floor = 1.0 / len(bg)
    tag = f"{fpr:g}"
    out = {"n_background_test": len(bg), "fpr_floor": floor}
    for s in signals:
        x, y = _joined(bg, np.asarray(scores[s]))
        out[f"{prefix}_auc_{s}"] = roc_auc(x, y)
        at_floor = tpr_at_fpr(x, y, floor).value
        out[f"{prefix}_tpr_{s}"] = at_floor
        wanted = tpr_at_fpr(x, y, fpr)
        if wanted.resolvable:
            out[f"{prefix}_tpr_{tag}_{s}"] = wanted.value
        else:
            out[f"{prefix}_tpr_{tag}_{s}"] = None
            out[f"{prefix}_tpr_{tag}_{s}_upper_limit"] = at_floor
    return out


#: LHC revolution frequency, Hz (26.659 km ring; PDG / LHC design report).
LHC_REVOLUTION_HZ = 11245.5
#: Colliding bunch pairs at CMS in a standard 25 ns fill of Run 2/3 (of 3564 bunch slots).
COLLIDING_BUNCHES = 2544


def fpr_for_rate(rate_hz: float, *, colliding_bunches: int = COLLIDING_BUNCHES) -> float:
    """The false-positive fraction of zero-bias events a trigger may keep for an output rate ``rate_hz``.

    The trigger sees one event per colliding bunch crossing: ``f_rev × n_bunches`` (≈ 28.6 MHz for 2544 of
    the 3564 slots filled, not the 40 MHz clock), so ``FPR = rate / (f_rev × n_bunches)``; 1 kHz is 3.5e-5.
    """
    crossings = LHC_REVOLUTION_HZ * colliding_bunches
    if not 0 < rate_hz <= crossings:
        raise ValueError(f"rate_hz must lie in (0, {crossings:.4g}] Hz (the colliding-crossing rate), got {rate_hz}")
    return rate_hz / crossings


def rate_working_points(
    scores: dict[str, np.ndarray], signals: tuple[str, ...], *, rates_hz: tuple[float, ...] = (1e3, 1e4, 1e5)
) -> dict:
    """Signal efficiency at the thresholds that give each L1 rate on the background (zero-bias) sample.

    Keys per rate ``r`` (``1kHz``, ``10kHz``, ``100kHz``): ``fpr_<r>`` (:func:`fpr_for_rate`), ``threshold_<r>``
    (score cut), ``tpr_<r>_<signal>``, and ``resolved_<r>`` (False when the background sample is too small
    to reach that FPR, i.e. FPR < 1 / n_background: the TPRs are then upper limits).
    """
    bg = np.asarray(scores["background"])
    out = {}
    for rate in rates_hz:
        tag = f"{rate / 1e3:g}kHz"
        fpr = fpr_for_rate(rate)
        out[f"fpr_{tag}"] = fpr
        for s in signals:
            x, y = _joined(bg, np.asarray(scores[s]))
            r = tpr_at_fpr(x, y, fpr)
            out[f"tpr_{tag}_{s}"] = r.value
            out[f"threshold_{tag}"] = r.threshold
            out[f"resolved_{tag}"] = r.resolvable
    return out
