"""Bootstrap intervals: coverage on a toy with a known AUC, reproducibility and stratification."""

import numpy as np
import pytest
from scipy.stats import norm

from hepjax.evaluation import bootstrap_interval, rejection_at_efficiency, roc_auc


def test_auc_interval_covers_the_true_value_about_cl_of_the_time():
    # two unit Gaussians one sigma apart: AUC = Phi(1 / sqrt 2)
    true_auc, trials, hits = norm.cdf(1 / np.sqrt(2)), 60, 0
    y = np.r_[np.ones(150), np.zeros(150)]
    for t in range(trials):
        rng = np.random.default_rng(100 + t)
        s = np.r_[rng.normal(1.0, 1.0, 150), rng.normal(0.0, 1.0, 150)]
        iv = bootstrap_interval(roc_auc, s, y, n=150, seed=t, stratify=y)
        hits += iv.lower <= true_auc <= iv.upper
        assert iv.lower <= iv.value <= iv.upper
    # nominal 68.3%; binomial 3-sigma band for 60 trials is about +-18%
    assert 0.48 <= hits / trials <= 0.88


def test_reproducible_stratified_and_r50():
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(200), np.zeros(200)]
    s = np.r_[rng.normal(1.0, 1.0, 200), rng.normal(0.0, 1.0, 200)]
    a = bootstrap_interval(rejection_at_efficiency, s, y, n=50, seed=4, stratify=y)
    b = bootstrap_interval(rejection_at_efficiency, s, y, n=50, seed=4, stratify=y)
    assert a == b and a.std > 0 and a.value == rejection_at_efficiency(s, y)
    c = bootstrap_interval(rejection_at_efficiency, s, y, n=50, seed=5, stratify=y)
    assert c != a
    with pytest.raises(ValueError):
        bootstrap_interval(roc_auc, s, y[:-1])
