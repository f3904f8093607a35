"""Figures of detector-design studies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullLocator

from hepjax.plotting import figure, savefig


def sensitivity_plot(path: Path, sens: dict[str, float], top: int = 10) -> None:
    """Bar chart of the ``top`` largest ``|∂ loss / ∂ ln p|`` (:func:`hepjax.design.sensitivities`)."""
    rows = sorted(sens.items(), key=lambda kv: -abs(kv[1]))[:top]
    fig, ax = figure(figsize=(9, 5.5))
    ax.barh([k for k, _ in rows][::-1], [v for _, v in rows][::-1])
    ax.set_xlabel(r"$\partial\,\mathrm{loss} / \partial \ln p$  (test jets, soft detector)")
    ax.set_title("tagger sensitivity to detector parameters", fontsize=13)
    ax.tick_params(axis="y", labelsize=9)
    savefig(fig, path)


def optimisation_paths(path: Path, objective: np.ndarray, params: dict[str, np.ndarray], *, grid_best=None) -> None:
    """Objective per step (with the grid optimum as a line) and one panel per parameter's path."""
    fig, axes = figure(len(params) + 1, 1, figsize=(4.2 * (len(params) + 1), 3.8))
    axes[0].plot(objective, lw=2, label="gradient path")
    if grid_best is not None:
        axes[0].axhline(grid_best, color="k", ls="--", lw=1.2, label="grid optimum")
    axes[0].set_xlabel("step")
    axes[0].set_ylabel("objective")
    axes[0].legend(fontsize=9)
    for ax, (name, values) in zip(axes[1:], params.items()):
        ax.plot(values, lw=2)
        ax.set_xlabel("step")
        ax.set_ylabel(name)
    savefig(fig, path)


def grid_contours(
    path: Path, grid: np.ndarray, axes: dict[str, np.ndarray], paths: dict[str, np.ndarray], *, log_axes=()
) -> None:
    """Grid objective in consecutive parameter pairs (maximum over the other parameters), path on top.

    Args:
      grid: ``[len(axes[n]) for n in axes]`` objective values.
      axes: grid coordinates per parameter, in the grid's order (an even number of parameters).
      paths: the gradient path per parameter (``[steps]``), drawn from its start (circle) to its end (star).
      log_axes: parameters drawn on a log scale.
    """
    names = list(axes)
    pairs = [names[i : i + 2] for i in range(0, len(names) - 1, 2)]
    fig, panels = figure(len(pairs), 1, figsize=(5.6 * len(pairs), 4.8))
    for ax, (x, y) in zip(np.atleast_1d(panels), pairs):
        other = tuple(i for i, n in enumerate(names) if n not in (x, y))
        z = grid.max(axis=other) if other else grid
        cs = ax.contourf(axes[x], axes[y], z.T, levels=20, cmap="viridis")
        fig.colorbar(cs, ax=ax, label="objective (max over the others)")
        ax.plot(paths[x], paths[y], color="w", lw=1.8)
        ax.plot(paths[x][0], paths[y][0], "o", color="w", ms=7)
        ax.plot(paths[x][-1], paths[y][-1], "*", color="r", ms=13)
        i, j = np.unravel_index(np.argmax(z), z.shape)
        ax.plot(axes[x][i], axes[y][j], "P", color="orange", ms=10, label="grid optimum")
        ax.set_xlabel(x)
        ax.set_ylabel(y)
        for name, axis, set_scale in ((x, ax.xaxis, ax.set_xscale), (y, ax.yaxis, ax.set_yscale)):
            if name in log_axes:  # a few plain-number ticks: log scales' default labels collide here
                set_scale("log")
                axis.set_major_locator(FixedLocator(np.geomspace(axes[name][0], axes[name][-1], 5)))
                axis.set_major_formatter(FormatStrFormatter("%.2g"))
                axis.set_minor_locator(NullLocator())
        ax.legend(fontsize=9, loc="upper right")
    savefig(fig, path)


def window_histograms(path: Path, masses: dict, *, xlabel: str, bins: int = 60) -> None:
    """Weighted signal and background histograms with the selected window, one panel per entry.

    ``masses[name] = ((signal_values, signal_weights), (background_values, background_weights), (lo, hi))``.
    """
    fig, axes = figure(len(masses), 1, figsize=(5.4 * len(masses), 4.4))
    for ax, (name, ((ms, ws), (mb, wb), (lo, hi))) in zip(np.atleast_1d(axes), masses.items()):
        edges = np.linspace(np.percentile(mb, 0.5), np.percentile(mb, 99.5), bins + 1)
        ax.hist(mb, edges, weights=wb, histtype="stepfilled", alpha=0.4, label="background")
        ax.hist(ms, edges, weights=ws, histtype="step", lw=2, label="signal")
        ax.hist(ms, edges, weights=ws * 10, histtype="step", lw=1.2, ls="--", label="signal × 10")
        ax.axvspan(lo, hi, color="grey", alpha=0.25, label=f"window [{lo:.1f}, {hi:.1f}]")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("events / bin")
        ax.set_title(name, fontsize=12)
        ax.legend(fontsize=9)
    savefig(fig, path)
