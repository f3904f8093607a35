"""Unfolding: iterative Bayesian unfolding (with vectorised bootstrap replicas), OmniFold (with an ensemble of
replicas trained at once), the cINN and iterative cINN, and unfolding-quality metrics."""

from hepjax.unfolding.bootstrap import BootstrapUnfolding, bootstrap_ibu, response_from_migrations
from hepjax.unfolding.cinn import (
    CINN,
    Calibration,
    CINNEnsembleResult,
    CINNResult,
    IterativeCINNResult,
    cinn,
    cinn_ensemble,
    iterative_cinn,
    rank_calibration,
)
from hepjax.unfolding.ibu import iterative_unfold
from hepjax.unfolding.metrics import coverage, unfolded_chi2, unfolding_metrics
from hepjax.unfolding.observables import BINS, OBSERVABLES, omnifold_observables
from hepjax.unfolding.omnifold import (
    MAX_WEIGHT,
    OmniFoldResult,
    effective_sample_size,
    omnifold,
    poisson_bootstrap_weights,
)

__all__ = [
    "CINN",
    "CINNEnsembleResult",
    "CINNResult",
    "Calibration",
    "IterativeCINNResult",
    "cinn",
    "cinn_ensemble",
    "iterative_cinn",
    "rank_calibration",
    "BINS",
    "MAX_WEIGHT",
    "OBSERVABLES",
    "omnifold_observables",
    "OmniFoldResult",
    "BootstrapUnfolding",
    "bootstrap_ibu",
    "coverage",
    "effective_sample_size",
    "iterative_unfold",
    "omnifold",
    "poisson_bootstrap_weights",
    "response_from_migrations",
    "unfolded_chi2",
    "unfolding_metrics",
]
