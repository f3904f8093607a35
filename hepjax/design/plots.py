"""Figures of detector-design studies."""

from __future__ import annotations

from pathlib import Path

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
