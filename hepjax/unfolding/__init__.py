"""Unfolding: iterative Bayesian unfolding and unfolding-quality metrics."""

from hepjax.unfolding.ibu import iterative_unfold

__all__ = ["iterative_unfold"]
