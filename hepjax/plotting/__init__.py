"""Plots in one style: ``figure``, ``label``, ``savefig`` and the training curves."""

from hepjax.plotting.curves import plot_training_curves
from hepjax.plotting.style import figure, label, savefig, use_style

__all__ = ["figure", "label", "plot_training_curves", "savefig", "use_style"]
