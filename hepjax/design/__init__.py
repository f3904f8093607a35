"""Detector design: how a physics loss responds to the detector parameters (through the differentiable detector)."""

from hepjax.design.costs import budget_cost, calorimeter_cost, equal_cost_scales, power_law_cost
from hepjax.design.optimize import OptimizeResult, optimize
from hepjax.design.relaxed import kde_histogram, soft_cut, soft_window
from hepjax.design.sensitivities import elasticities, sensitivities

__all__ = [
    "OptimizeResult",
    "optimize",
    "budget_cost",
    "calorimeter_cost",
    "equal_cost_scales",
    "elasticities",
    "power_law_cost",
    "kde_histogram",
    "sensitivities",
    "soft_cut",
    "soft_window",
]
