"""Generic evaluation tools: classifier two-sample test, ROC AUC and separation power."""

from hepjax.evaluation.classifier_test import (
    MLPClassifier,
    classifier_two_sample_auc,
    roc_auc,
    roc_curve,
    separation_power,
)

__all__ = ["MLPClassifier", "classifier_two_sample_auc", "roc_auc", "roc_curve", "separation_power"]
