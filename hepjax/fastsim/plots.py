"""Figures of the calorimeter fast-simulation study: generation speed and the two-sample classifier ROC."""

from __future__ import annotations

from pathlib import Path

from hepjax.evaluation import roc_curve
from hepjax.plotting import figure, label, savefig


def plot_timing(timing: dict, path: Path) -> None:
    """Showers per second vs incident energy (GeV) of the reference cascade and the flow.

    ``timing[f"{E:g}"]`` holds ``reference_showers_per_s`` and ``flow_showers_per_s``.
    """
    fig, ax = figure()
    es = [float(k) for k in timing]
    ax.loglog(es, [v["reference_showers_per_s"] for v in timing.values()], "o-", label="reference cascade")
    ax.loglog(es, [v["flow_showers_per_s"] for v in timing.values()], "s-", label="CaloFlow (jit, batched)")
    ax.set_xlabel("incident photon energy [GeV]")
    ax.set_ylabel("showers per second")
    ax.legend()
    label(ax)
    savefig(fig, path)


def plot_roc(scores, labels, auc, path: Path) -> None:
    """ROC of the classifier separating flow showers (label 1) from cascade showers, with its AUC."""
    fpr, tpr = roc_curve(scores, labels)
    fig, ax = figure()
    ax.plot(fpr, tpr, label=f"flow vs cascade, AUC = {auc:.3f}")
    ax.plot([0, 1], [0, 1], "k:", label="indistinguishable")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend()
    label(ax)
    savefig(fig, path)
