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
