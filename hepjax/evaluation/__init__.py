"""Figures of merit, in one place: exact weighted ROC curve and AUC, TPR at fixed FPR, rejection at
fixed signal efficiency (R50), Clopper–Pearson efficiencies, chi2, weighted quantile, Jensen–Shannon
divergence, separation power (triangular discriminator), Wasserstein-1, bootstrap intervals, and the
classifier two-sample test."""

from hepjax.evaluation.bootstrap import Interval, bootstrap_interval
from hepjax.evaluation.classifier_test import MLPClassifier, classifier_two_sample_auc
from hepjax.evaluation.efficiency import Efficiency, efficiency
from hepjax.evaluation.rejection import cut_at_signal_efficiency, rejection_at_efficiency
from hepjax.evaluation.roc import TprAtFpr, roc_auc, roc_curve, tpr_at_fpr
from hepjax.evaluation.stats import (
    Chi2,
    chi2_ndf,
    jensen_shannon,
    separation_power,
    triangular_discriminator,
    wasserstein_1,
    weighted_quantile,
)

__all__ = [
    "Chi2",
    "Efficiency",
    "Interval",
    "MLPClassifier",
    "TprAtFpr",
    "bootstrap_interval",
    "chi2_ndf",
    "classifier_two_sample_auc",
    "cut_at_signal_efficiency",
    "efficiency",
    "jensen_shannon",
    "rejection_at_efficiency",
    "roc_auc",
    "roc_curve",
    "separation_power",
    "tpr_at_fpr",
    "triangular_discriminator",
    "wasserstein_1",
    "weighted_quantile",
]
