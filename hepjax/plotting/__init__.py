"""Plots in one style: ``figure``, ``label``, ``savefig``, the ``style()`` context and the training curves.

A leaf of the core layer: imports matplotlib and mplhep, nothing of hepjax (``docs/ARCHITECTURE.md``).
"""

from hepjax.plotting.curves import plot_training_curves
from hepjax.plotting.style import figure, label, savefig, style

__all__ = ["figure", "label", "plot_training_curves", "savefig", "style"]
