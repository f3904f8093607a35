"""Exact weighted ROC curve / AUC against scikit-learn, ties, one-class errors and TPR at fixed FPR."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.metrics import roc_curve as sk_roc_curve

from hepjax.evaluation import roc_auc, roc_curve, tpr_at_fpr


def _sample(n, seed, ties=True):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.4
    s = rng.normal(size=n) + 0.8 * y
    if ties:
        s = np.round(s, 1)  # many tied scores, across both classes
    return s, y, rng.uniform(0.1, 3.0, n)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_auc_and_curve_match_sklearn(ties, weighted):
    s, y, w = _sample(3000, 1, ties)
    w = w if weighted else None
    assert roc_auc(s, y, w) == pytest.approx(roc_auc_score(y, s, sample_weight=w), abs=1e-9)
    fpr, tpr, thr = roc_curve(s, y, w, return_thresholds=True)
    f_ref, t_ref, thr_ref = sk_roc_curve(y, s, sample_weight=w, drop_intermediate=False)
    assert fpr.shape == f_ref.shape  # tied scores form one step, as in sklearn
    np.testing.assert_allclose(fpr, f_ref, atol=1e-9)
    np.testing.assert_allclose(tpr, t_ref, atol=1e-9)
    np.testing.assert_array_equal(thr[1:], thr_ref[1:])
    assert np.trapezoid(tpr, fpr) == pytest.approx(roc_auc(s, y, w), abs=1e-12)


def test_all_tied_scores_give_one_half_and_one_diagonal_step():
    s, y = np.full(6, 0.3), np.array([1, 0, 1, 0, 0, 1])
    assert roc_auc(s, y) == 0.5
    fpr, tpr = roc_curve(s, y)
    np.testing.assert_array_equal(fpr, [0, 1])
    np.testing.assert_array_equal(tpr, [0, 1])


def test_one_class_raises_naming_it():
    s = np.arange(5.0)
    with pytest.raises(ValueError, match="only the positive class"):
        roc_auc(s, np.ones(5))
    with pytest.raises(ValueError, match="only the negative class"):
        roc_curve(s, np.zeros(5))
    with pytest.raises(ValueError, match="only the negative class"):  # positives all weight 0
        roc_auc(s, np.array([1, 0, 0, 0, 0]), np.array([0.0, 1, 1, 1, 1]))
    with pytest.raises(ValueError, match="0/1"):
        roc_auc(s, np.array([0, 1, 2, 0, 1]))


def test_tpr_at_fpr_steps_and_resolvability():
    rng = np.random.default_rng(3)
    bg, sig = rng.normal(size=1000), rng.normal(1.5, 1.0, 400)
    s, y = np.r_[bg, sig], np.r_[np.zeros(1000), np.ones(400)]
    top = np.sort(bg)[::-1]
    r = tpr_at_fpr(s, y, 0.01)  # exactly 10 background events pass, and every signal above the 11th
    assert r.resolvable and r.fpr == pytest.approx(0.01) and top[10] < r.threshold <= top[9]
    assert r.value == pytest.approx(np.mean(sig > top[10]))
    r = tpr_at_fpr(s, y, 1e-3)  # 1 / N_background: the loosest resolvable rate, one event passes
    assert r.resolvable and r.min_resolvable_fpr == pytest.approx(1e-3) and r.fpr == pytest.approx(1e-3)
    assert r.value == pytest.approx(np.mean(sig > top[1]))
    r = tpr_at_fpr(s, y, 1e-4)  # below 1 / N_background: only the no-background cut, flagged
    assert not r.resolvable and r.fpr == 0.0 and r.value == pytest.approx(np.mean(sig > top[0]))
    # weighted: the top background event carries half the weight, so 1e-3 cannot be resolved
    w = np.ones_like(s)
    w[np.argmax(np.where(y == 0, s, -np.inf))] = 999.0
    r = tpr_at_fpr(s, y, 0.01, w)
    assert not r.resolvable and r.min_resolvable_fpr == pytest.approx(999 / 1998)
    with pytest.raises(ValueError):
        tpr_at_fpr(s, y, 1.5)
