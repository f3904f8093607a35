"""Detector design: how a physics loss responds to the detector parameters (through the differentiable detector)."""

from hepjax.design.sensitivities import elasticities, sensitivities

__all__ = ["elasticities", "sensitivities"]
