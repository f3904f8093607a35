"""Tracking plots in the hepjax style: ROC, efficiency vs pT and eta, event display with tracks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hepjax.detector.tracker import Hits, TrackerGeometry
from hepjax.evaluation import roc_curve
from hepjax.plotting import figure, label, savefig
from hepjax.tracking.graph import EventGraph
from hepjax.tracking.metrics import binned_efficiency


def plot_roc(scores, y, auc: float, path: str | Path, *, threshold: float = 0.5) -> Path:
    fpr, tpr = roc_curve(scores, y)
    fig, ax = figure()
    ax.plot(fpr, tpr, label=f"interaction network (AUC = {auc:.4f})")
    ax.plot([0, 1], [0, 1], ls=":", color="grey", label="random")
    y = np.asarray(y) > 0.5
    sel = np.asarray(scores) > threshold
    ax.plot(
        [(sel & ~y).sum() / max((~y).sum(), 1)],
        [(sel & y).sum() / max(y.sum(), 1)],
        "o",
        label=f"threshold {threshold}",
    )
    ax.set_xscale("log")
    ax.set_xlim(1e-4, 1)
    ax.set_xlabel("false positive rate (edges)")
    ax.set_ylabel("true positive rate (edges)")
    ax.legend(loc="lower right")
    label(ax)
    return savefig(fig, path)


def plot_threshold_scan(rows: list[dict], chosen: float, path: str | Path) -> Path:
    """Edge and track figures of merit vs the edge-score threshold (validation events), the chosen
    working point marked; ``rows`` from :func:`hepjax.tracking.pipeline.choose_threshold`."""
    t = [r["threshold"] for r in rows]
    fig, axes = figure(2)
    for key, name in (
        ("edge_efficiency", "edge efficiency"),
        ("edge_purity", "edge purity"),
        ("track_efficiency", "track efficiency"),
    ):
        axes[0].plot(t, [r[key] for r in rows], "o-", label=name)
    axes[1].plot(t, [r["fake_rate"] for r in rows], "o-", label="fake rate")
    axes[1].plot(t, [r["duplicate_rate"] for r in rows], "s-", label="duplicate rate")
    for ax in axes:
        ax.axvline(chosen, ls="--", color="grey", label=f"working point {chosen:g}")
        ax.set_xlabel("edge score threshold")
        ax.legend()
        label(ax)
    axes[0].set_ylabel("efficiency, purity (validation events)")
    axes[1].set_ylabel("rate (validation events)")
    return savefig(fig, path)


def plot_efficiency(target_pt, target_eta, found, path: str | Path, *, pt_min: float = 1.0) -> Path:
    fig, axes = figure(2)
    for ax, values, bins, xl in (
        (axes[0], target_pt, np.geomspace(pt_min, 100.0, 12), r"particle $p_T$ [GeV]"),
        (axes[1], target_eta, np.linspace(-2.5, 2.5, 11), r"particle $\eta$"),
    ):
        c, eff, err = binned_efficiency(values, found, bins)
        ax.errorbar(c, eff, yerr=err, xerr=np.diff(bins) / 2, fmt="o")
        ax.axhline(0.95, ls="--", color="grey", label="goal 0.95")
        ax.set_xlabel(xl)
        ax.set_ylabel("track efficiency")
        ax.set_ylim(0.5, 1.05)
        ax.legend(loc="lower right")
        label(ax)
    axes[0].set_xscale("log")
    return savefig(fig, path)


def plot_event_display(
    hits: Hits, graph: EventGraph, candidates: list[np.ndarray], geometry: TrackerGeometry, path: str | Path
) -> Path:
    """x-y and r-z views: all hits in grey, each track candidate in its own colour."""
    fig, (axy, arz) = figure(2)
    x, y, z, r = (np.asarray(getattr(hits, f))[graph.hit_index] for f in ("x", "y", "z", "r"))
    for ax, (u, v) in ((axy, (x, y)), (arz, (z, r))):
        ax.scatter(u, v, s=1, color="lightgrey", rasterized=True)
    cmap = __import__("matplotlib").colormaps["tab20"]
    for k, cand in enumerate(candidates):
        col = cmap(k % 20)
        axy.plot(x[cand], y[cand], "-", lw=0.8, color=col)
        arz.plot(z[cand], r[cand], "-", lw=0.8, color=col)
    for R in geometry.barrel_radii:
        axy.add_patch(__import__("matplotlib").patches.Circle((0, 0), R, fill=False, lw=0.3, color="k"))
    axy.set_aspect("equal")
    axy.set_xlabel("x [mm]")
    axy.set_ylabel("y [mm]")
    arz.set_xlabel("z [mm]")
    arz.set_ylabel("r [mm]")
    axy.text(0.02, 0.02, f"{len(candidates)} track candidates", transform=axy.transAxes, fontsize=11)
    label(axy)
    return savefig(fig, path)
