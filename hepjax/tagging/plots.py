"""Figures of a W vs QCD jet tagger: ROC, score distributions and jet mass at particle and detector level."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hepjax.plotting import figure, label, savefig


def tagger_plots(workdir: Path, scores, labels, eps_s, eps_b, m_reco, m_true) -> None:
    """``roc.png`` (rejection vs signal efficiency), ``scores.png`` and ``jet_mass.png`` of a W/QCD tagger.

    ``scores``, ``labels`` (1: W), ``m_reco`` and ``m_true`` (detector- and particle-level jet
    mass, GeV) are ``[N]``; ``eps_s``, ``eps_b`` the ROC curve (true and false positive rates).
    """
    sig = labels > 0.5
    fig, ax = figure()
    ax.plot(eps_s, 1 / np.maximum(eps_b, 1e-4), label="Deep Sets (detector level)")
    ax.plot(eps_s, 1 / np.maximum(eps_s, 1e-4), "--", color="grey", label="random")
    ax.set_yscale("log")
    ax.set_xlabel(r"signal efficiency $\epsilon_S$ (W jets)")
    ax.set_ylabel(r"background rejection $1/\epsilon_B$ (QCD)")
    ax.legend()
    label(ax)
    savefig(fig, workdir / "roc.png")

    fig, ax = figure()
    bins = np.linspace(0, 1, 31)
    ax.hist(scores[sig], bins, histtype="step", density=True, lw=2, label="W jets")
    ax.hist(scores[~sig], bins, histtype="step", density=True, lw=2, label="QCD jets")
    ax.set_xlabel("tagger score")
    ax.set_ylabel("normalised")
    ax.legend()
    label(ax)
    savefig(fig, workdir / "scores.png")

    fig, ax = figure()
    bins = np.linspace(0, 250, 51)
    for sel, name, color in ((sig, "W jets", "C0"), (~sig, "QCD jets", "C1")):
        ax.hist(m_true[sel], bins, histtype="step", density=True, ls="--", color=color, label=f"{name}, particle level")
        ax.hist(m_reco[sel], bins, histtype="step", density=True, lw=2, color=color, label=f"{name}, detector level")
    ax.set_xlabel("jet mass [GeV]")
    ax.set_ylabel("normalised")
    ax.legend(fontsize=11)
    label(ax)
    savefig(fig, workdir / "jet_mass.png")
