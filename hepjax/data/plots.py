"""Validation plots of a generated sample (PNG, hepjax plotting style).

``plot_sample(sample, path)`` draws four panels a physicist checks first: the final-state pT
spectrum (charged / neutral), the η distribution, the charged multiplicity per event, and the
jet-mass (if ``jets`` are given) or hard-parton mass distribution, all weighted by the event
weights. matplotlib is imported only when plotting, so generation workers stay light. The
hepjax corner label goes on the first panel only (mplhep draws the canvas for each label).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .jets import Jets
from .sample import EventSample


def plot_sample(sample: EventSample, path: str | Path, *, jets: Jets | None = None, title: str | None = None) -> Path:
    """Write a 2x2 overview of ``sample`` to ``path`` (PNG); returns the path.

    Args:
      sample: an :class:`EventSample` from :func:`hepjax.data.generate`.
      path: output PNG file.
      jets: optional :class:`Jets` of the sample (e.g. ``cluster_jets(sample.particles, R=0.8)``);
        the last panel then shows the leading-jet mass (GeV), else the parton/resonance masses.
      title: label text (default: the process name and the number of events).
    """
    from hepjax.plotting import figure, label, savefig

    p, q = sample.particles, sample.partons
    n = p.pt.shape[0]
    w_evt = np.asarray(sample.weights, np.float64)
    w = np.broadcast_to(w_evt[:, None], p.pt.shape)
    charged = p.mask & (p.charge != 0)
    neutral = p.mask & (p.charge == 0)
    text = title if title is not None else f"{sample.info.get('process', '')}, {n} events"
    fig, axes = figure(2, 2)
    ax = axes[0, 0]
    bins = np.logspace(-2, 3.5, 45)
    for sel, name in ((charged, "charged"), (neutral, "neutral")):
        ax.hist(p.pt[sel], bins=bins, weights=w[sel] / n, histtype="step", lw=2, label=name)
    ax.set(xscale="log", yscale="log", xlabel="particle $p_T$ [GeV]", ylabel="particles / event / bin")
    ax.legend()
    label(ax, text)
    ax = axes[0, 1]
    bins = np.linspace(-8, 8, 65)
    for sel, name in ((charged, "charged"), (neutral, "neutral")):
        ax.hist(p.eta[sel], bins=bins, weights=w[sel] / n, histtype="step", lw=2, label=name)
    ax.set(xlabel=r"particle $\eta$", ylabel="particles / event / bin")
    ax.legend()
    ax = axes[1, 0]
    mult = charged.sum(1)
    ax.hist(mult, bins=min(50, max(5, int(mult.max()) + 1)), weights=w_evt, histtype="step", lw=2)
    ax.set(xlabel="charged particles per event", ylabel="events")
    ax = axes[1, 1]
    if jets is not None and np.asarray(jets.mask)[:, 0].any():
        lead = np.asarray(jets.mask)[:, 0]
        ax.hist(
            np.asarray(jets.mass)[lead, 0], bins=np.linspace(0, 250, 51), weights=w_evt[lead], histtype="step", lw=2
        )
        ax.set(xlabel="leading-jet mass [GeV]", ylabel="events")
    else:
        ids = np.unique(np.abs(q.pdg[q.mask]))
        for pid in ids[:6]:
            sel = q.mask & (np.abs(q.pdg) == pid)
            ax.hist(q.mass[sel], bins=np.linspace(0, 200, 81), histtype="step", lw=2, label=f"|PDG| {pid}")
        ax.set(xlabel="hard-process particle mass [GeV]", ylabel="entries")
        if len(ids):
            ax.legend(fontsize=10)
    return savefig(fig, path)
