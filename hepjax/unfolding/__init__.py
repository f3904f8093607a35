"""Unfolding: iterative Bayesian unfolding (with vectorised bootstrap replicas) and unfolding-quality metrics."""

from hepjax.unfolding.bootstrap import BootstrapUnfolding, bootstrap_ibu, response_from_migrations
from hepjax.unfolding.ibu import iterative_unfold
from hepjax.unfolding.metrics import coverage, unfolded_chi2, unfolding_metrics

__all__ = [
    "BootstrapUnfolding",
    "bootstrap_ibu",
    "coverage",
    "iterative_unfold",
    "response_from_migrations",
    "unfolded_chi2",
    "unfolding_metrics",
]
