"""Statistics for counting experiments: closed-form (Asimov) significances, p-value/Z conversion, and a
differentiable binned HistFactory likelihood (pyhf-compatible) with fits and asymptotic test statistics."""

from hepjax.stats.asymptotics import asimov_z0, binned_asimov_z0, p_from_z, z_from_p
from hepjax.stats.fit import FitConvergenceError, FitConvergenceWarning, FitResult, fit
from hepjax.stats.histfactory import (
    HistFactoryModel,
    ModelInfo,
    asimov_data,
    build_model,
    expected_actualdata,
    full_data,
    logpdf,
    pad_data,
    pad_model,
    twice_nll,
    with_templates,
)
from hepjax.stats.teststats import (
    asimov_sigma_mu,
    expected_mu_interval,
    expected_z0,
    hypotest,
    q0,
    qmu,
    qmu_tilde,
    tmu,
)

__all__ = [
    "FitConvergenceError",
    "FitConvergenceWarning",
    "FitResult",
    "HistFactoryModel",
    "ModelInfo",
    "asimov_data",
    "asimov_sigma_mu",
    "asimov_z0",
    "binned_asimov_z0",
    "build_model",
    "expected_actualdata",
    "expected_mu_interval",
    "expected_z0",
    "fit",
    "full_data",
    "hypotest",
    "logpdf",
    "p_from_z",
    "pad_data",
    "pad_model",
    "q0",
    "qmu",
    "qmu_tilde",
    "tmu",
    "twice_nll",
    "with_templates",
    "z_from_p",
]
