"""Figures of the mass-decorrelation study: R50 vs 1/JSD per method, and background mass sculpting."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hepjax.decorrelation.study import showcase_lambda
from hepjax.evaluation import weighted_quantile
from hepjax.plotting import figure, label, savefig

#: display name of each decorrelation method (a :data:`hepjax.decorrelation.penalties.PENALTIES` name)
NAMES = {
    "none": "no decorrelation",
    "disco": "DisCo",
    "mode0": "MoDe[0]",
    "mode1": "MoDe[1]",
    "adversarial": "adversary",
}


def pareto_plot(path: Path, runs: dict, target: float, r50_ref: float | None) -> None:
    fig, ax = figure()
    markers = {"disco": "o", "mode0": "s", "mode1": "D", "adversarial": "^"}
    for m, rs in runs.items():
        pts = [(r["inv_jsd"], r["r50"], r["lambda"]) for r in rs if r["inv_jsd"] and r["r50"]]
        if not pts:
            continue
        if m == "none":
            ax.plot([pts[0][0]], [pts[0][1]], "*", ms=18, color="k", label="no decorrelation", zorder=5)
            continue
        x, y, lam = zip(*sorted(pts, key=lambda p: p[2]))
        ax.plot(x, y, marker=markers[m], ms=7, label=NAMES[m])
        for xi, yi, li in zip(x, y, lam):
            ax.annotate(f"{li:g}", (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.axvline(target, ls="--", color="grey", lw=1)
    if r50_ref:
        ax.axhline(0.5 * r50_ref, ls=":", color="grey", lw=1, label="½ × undecorrelated R50")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"1 / JSD  (background mass, pass vs fail at $\epsilon_S$ = 50%)")
    ax.set_ylabel(r"R50 = 1/$\epsilon_B$ at $\epsilon_S$ = 50%")
    ax.legend(fontsize=10, title="labels: λ", title_fontsize=9)
    label(ax)
    savefig(fig, path)


def sculpting_plot(path: Path, s_bkg: np.ndarray, m_bkg: np.ndarray, edges: np.ndarray, title: str) -> None:
    fig, ax = figure()
    for eps in (1.0, 0.5, 0.1, 0.02):
        cut = -np.inf if eps >= 1.0 else weighted_quantile(s_bkg, 1.0 - eps)
        sel = s_bkg > cut
        if sel.sum() == 0:
            continue
        name = "inclusive" if eps >= 1.0 else rf"$\epsilon_B$ = {eps:.0%} ({int(sel.sum())} jets)"
        ax.hist(m_bkg[sel], edges, histtype="step", density=True, lw=2, label=name)
    ax.set_xlabel("detector-level jet mass [GeV]")
    ax.set_ylabel("normalised (QCD jets)")
    ax.set_title(title, fontsize=13)
    ax.legend(fontsize=10)
    label(ax)
    savefig(fig, path)


def sculpting_plots(
    workdir: Path,
    runs: dict[str, list[dict]],
    all_scores: dict[tuple[str, float], np.ndarray],
    labels: np.ndarray,
    mass: np.ndarray,
    edges: np.ndarray,
    target: float,
) -> None:
    """``sculpting_<method>.png`` for every method of ``runs``, at its showcase λ.

    ``all_scores[(method, λ)]``: test scores ``[N]``; ``labels [N]`` (1: signal), ``mass [N]`` (GeV).
    """
    m_bkg = mass[labels < 0.5]
    for m in runs:
        lam = showcase_lambda(runs[m], target)
        sculpting_plot(
            workdir / f"sculpting_{m}.png",
            all_scores[(m, lam)][labels < 0.5],
            m_bkg,
            edges,
            f"{NAMES[m]}" + (f", λ = {lam:g}" if m != "none" else ""),
        )
