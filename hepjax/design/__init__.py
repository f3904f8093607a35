"""Detector design: how a physics loss responds to the detector parameters (through the differentiable detector)."""

from hepjax.design.relaxed import kde_histogram, soft_cut, soft_window
from hepjax.design.sensitivities import elasticities, sensitivities

__all__ = ["elasticities", "kde_histogram", "sensitivities", "soft_cut", "soft_window"]
