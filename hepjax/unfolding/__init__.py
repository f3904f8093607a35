"""Unfolding: iterative Bayesian unfolding and unfolding-quality metrics."""

from hepjax.unfolding.ibu import iterative_unfold
from hepjax.unfolding.metrics import coverage, unfolded_chi2, unfolding_metrics

__all__ = ["coverage", "iterative_unfold", "unfolded_chi2", "unfolding_metrics"]
