"""CaloChallenge high-level shower features, their separation powers and plots.

Features per shower (``voxels [n, 368]`` GeV, incident ``energies [n]`` GeV): layer energies,
total / incident energy, shower centres and widths in x and y (mm) for the two segmented
layers (1, 2), and sparsity (fraction of non-zero voxels) per layer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hepjax.evaluation import separation_power
from hepjax.fastsim.geometry import N_LAYERS, layer_slices, voxel_centres
from hepjax.plotting import figure, label, savefig

SEGMENTED_LAYERS = (1, 2)


def high_level_features(voxels: np.ndarray, energies: np.ndarray) -> dict[str, np.ndarray]:
    """Name -> ``[n]`` feature array (see module docstring)."""
    _, r, a = voxel_centres()
    vx, vy = r * np.cos(a), r * np.sin(a)
    feats: dict[str, np.ndarray] = {}
    slices = layer_slices()
    for li in range(N_LAYERS):
        feats[f"E_layer{li}"] = voxels[:, slices[li]].sum(1)
    feats["E_total/E_inc"] = voxels.sum(1) / energies
    for li in SEGMENTED_LAYERS:
        v, s = voxels[:, slices[li]], slices[li]
        e = np.maximum(v.sum(1), 1e-12)
        for axis, coord in (("x", vx[s]), ("y", vy[s])):
            c = v @ coord / e
            feats[f"centre_{axis}_layer{li}"] = c
            feats[f"width_{axis}_layer{li}"] = np.sqrt(np.maximum(v @ coord**2 / e - c**2, 0.0))
    for li in range(N_LAYERS):
        feats[f"sparsity_layer{li}"] = (voxels[:, slices[li]] > 0).mean(1)
    return feats


def separation_powers(gen: dict[str, np.ndarray], ref: dict[str, np.ndarray], bins: int = 30) -> dict[str, float]:
    """Separation power of every feature (0: identical, 1: disjoint); log-binned for energies."""
    out = {}
    for k in ref:
        a, b = gen[k], ref[k]
        if k.startswith("E_layer"):
            a, b = np.log10(a + 1e-3), np.log10(b + 1e-3)
        out[k] = separation_power(a, b, bins)
    return out


def plot_features(gen: dict, ref: dict, seps: dict, path: str | Path, bins: int = 30) -> Path:
    """Grid of feature histograms, reference (filled) vs generated (line), separation power in titles."""
    names = list(ref)
    ncols = 5
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = figure(ncols, nrows, figsize=(4.2 * ncols, 3.6 * nrows))
    for ax, k in zip(axes.ravel(), names):
        a, b = gen[k], ref[k]
        xlabel = k
        if k.startswith("E_layer"):
            a, b, xlabel = np.log10(a + 1e-3), np.log10(b + 1e-3), f"log10({k}/GeV + 1e-3)"
        lo, hi = np.percentile(np.concatenate([a, b]), [0.5, 99.5])
        edges = np.linspace(lo, hi + 1e-9, bins + 1)
        ax.hist(np.clip(b, lo, hi), edges, density=True, alpha=0.4, label="cascade")
        ax.hist(np.clip(a, lo, hi), edges, density=True, histtype="step", lw=2, label="flow")
        ax.set_xlabel(xlabel, fontsize=10)
        ax.set_title(f"sep. power {seps[k]:.3f}", fontsize=10)
        ax.tick_params(labelsize=8)
    axes.ravel()[0].legend(fontsize=9)
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    return savefig(fig, path)


def plot_mean_profiles(gen: np.ndarray, ref: np.ndarray, path: str | Path) -> Path:
    """Mean energy per voxel (log) for both samples, and the mean layer energies."""
    fig, (ax1, ax2) = figure(2, 1)
    ax1.semilogy(ref.mean(0) + 1e-6, label="cascade")
    ax1.semilogy(gen.mean(0) + 1e-6, label="flow", ls="--")
    ax1.set_xlabel("voxel index")
    ax1.set_ylabel("mean energy [GeV]")
    ax1.legend()
    label(ax1)
    edges = np.arange(N_LAYERS + 1) - 0.5
    ax2.stairs([ref[:, s].sum(1).mean() for s in layer_slices()], edges, label="cascade")
    ax2.stairs([gen[:, s].sum(1).mean() for s in layer_slices()], edges, label="flow", ls="--")
    ax2.set_xlabel("layer")
    ax2.set_ylabel("mean layer energy [GeV]")
    ax2.legend()
    return savefig(fig, path)
