"""The ROC figure of the anomaly trigger."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hepjax.anomaly.metrics import score_roc


def roc_plot(scores: dict[str, dict[str, np.ndarray]], signals: tuple[str, ...], path: str | Path) -> Path:
    """Signal vs background efficiency (log x) for every model (``scores[model][sample]``) and signal."""
    from hepjax.plotting import figure, label, savefig

    fig, ax = figure()
    for kind, sc in scores.items():
        for s in signals:
            fpr, tpr, auc = score_roc(sc["background"], sc[s])
            ax.plot(fpr[1:], tpr[1:], "-" if kind == "ae" else "--", label=f"{s} {kind.upper()} (AUC {auc:.2f})")
    ax.set_xscale("log")
    ax.set_xlabel("background efficiency (FPR)")
    ax.set_ylabel("signal efficiency (TPR)")
    ax.legend(fontsize=8)
    label(ax)
    return savefig(fig, path)
