"""hepjax.evaluation: ROC AUC vs a brute-force reference, separation power, classifier test."""

import jax
import numpy as np
import pytest

from hepjax.evaluation import classifier_two_sample_auc, roc_auc, roc_curve, separation_power
from hepjax.train import TrainConfig


def _auc_brute_force(s, y, w):
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    num = 0.0
    for i in pos:
        num += w[i] * np.sum(w[neg] * ((s[i] > s[neg]) + 0.5 * (s[i] == s[neg])))
    return num / (w[pos].sum() * w[neg].sum())


def test_roc_auc_matches_brute_force_with_ties_and_weights():
    rng = np.random.default_rng(0)
    s = np.round(rng.normal(size=300), 1)  # many ties
    y = rng.integers(0, 2, 300)
    w = rng.uniform(0.1, 2.0, 300)
    assert roc_auc(s, y, w) == pytest.approx(_auc_brute_force(s, y, w), rel=1e-12)
    assert roc_auc(s, y) == pytest.approx(_auc_brute_force(s, y, np.ones(300)), rel=1e-12)
    fpr, tpr = roc_curve(s, y)
    assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc(s, y), abs=0.02)
    with pytest.raises(ValueError, match="both classes"):
        roc_auc(s, np.ones(300))


def test_separation_power_limits():
    rng = np.random.default_rng(1)
    a = rng.normal(size=20000)
    assert separation_power(a, rng.normal(size=20000)) < 0.005
    assert separation_power(a, a + 100.0, bins=np.linspace(-5, 105, 50)) == pytest.approx(1.0)


def test_classifier_two_sample_auc(tmp_path):
    rng = np.random.default_rng(2)
    cfg = TrainConfig(steps=120, batch_size=128, learning_rate=3e-3, checkpoint_every=0, log_every=50, progress=False)
    same = classifier_two_sample_auc(
        rng.normal(size=(3000, 3)),
        rng.normal(size=(3000, 3)),
        key=jax.random.PRNGKey(0),
        train_cfg=cfg,
        workdir=tmp_path / "same",
        hidden=(16,),
    )
    shifted = classifier_two_sample_auc(
        rng.normal(size=(3000, 3)),
        rng.normal(size=(3000, 3)) + [1.0, 0, 0],
        key=jax.random.PRNGKey(0),
        train_cfg=cfg,
        workdir=tmp_path / "shift",
        hidden=(16,),
    )
    assert abs(same["auc"] - 0.5) < 0.04
    # Two unit Gaussians 1 sigma apart: the optimal AUC is Phi(1/sqrt(2)) = 0.760.
    assert shifted["auc"] == pytest.approx(0.760, abs=0.03)
    with pytest.raises(ValueError, match="NaN"):
        classifier_two_sample_auc(
            np.full((10, 3), np.nan), np.zeros((10, 3)), key=jax.random.PRNGKey(0), train_cfg=cfg, workdir=tmp_path
        )
