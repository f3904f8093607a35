"""R50, weighted quantile, JSD, separation power, chi2 and Clopper–Pearson efficiencies."""

import numpy as np
import pytest
import scipy.stats
from scipy.spatial.distance import jensenshannon

from hepjax.evaluation import (
    chi2_ndf,
    efficiency,
    jensen_shannon,
    rejection_at_efficiency,
    separation_power,
    weighted_quantile,
)


def test_r50_unweighted_and_weighted():
    rng = np.random.default_rng(2)
    s_sig = rng.uniform(0.5, 1.0, 1000)  # cut at 0.75
    s_bkg = np.r_[np.full(900, 0.1), np.full(100, 0.9)]  # 10% of the background above the cut
    s, y = np.r_[s_sig, s_bkg], np.r_[np.ones(1000), np.zeros(1000)]
    assert rejection_at_efficiency(s, y, 0.5) == pytest.approx(10.0)
    w = np.ones(2000)
    w[1900:] = 4.0  # the passing background now weighs 400 of 1300
    assert rejection_at_efficiency(s, y, 0.5, w) == pytest.approx(1300 / 400)
    assert rejection_at_efficiency(np.r_[s_sig, np.zeros(10)], np.r_[np.ones(1000), np.zeros(10)]) == np.inf


def test_weighted_quantile_is_a_sample_value():
    v = np.array([3.0, 1.0, 2.0, 4.0])
    assert weighted_quantile(v, 0.5) == 2.0
    assert weighted_quantile(v, 0.5, np.array([1.0, 1.0, 1.0, 10.0])) == 4.0
    with pytest.raises(ValueError):
        weighted_quantile(np.array([]), 0.5)


def test_jsd_and_separation_power_limits():
    p, q = np.array([1.0, 2.0, 3.0, 0.0]), np.array([0.5, 0.5, 1.0, 2.0])
    assert jensen_shannon(p, q) == pytest.approx(jensenshannon(p, q, base=2) ** 2, rel=1e-12)
    assert jensen_shannon(p, p) == 0.0
    assert jensen_shannon(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)
    a = np.random.default_rng(0).normal(size=1000)
    assert separation_power(a, a + 100.0, bins=np.linspace(-5, 105, 50)) == pytest.approx(1.0)
    assert separation_power(a, a) == 0.0


def test_chi2_ndf_p_value():
    obs, exp, err = np.array([12.0, 9.0, 15.0, 0.0]), np.array([10.0, 10.0, 10.0, 0.0]), np.array([2.0, 2.0, 2.0, 0.0])
    r = chi2_ndf(obs, exp, err)
    assert r.chi2 == pytest.approx(1.0 + 0.25 + 6.25) and r.ndf == 3  # the empty bin is left out
    assert r.p_value == pytest.approx(0.05756, abs=1e-4)  # chi2 = 7.5 for 3 dof
    assert r.p_value == pytest.approx(scipy.stats.chi2.sf(7.5, 3), rel=1e-12)
    assert chi2_ndf(obs, exp, err, n_params=1).ndf == 2
    with pytest.raises(ValueError, match="zero error"):
        chi2_ndf(np.array([1.0]), np.array([2.0]), np.array([0.0]))


def test_clopper_pearson_boundaries_and_interior():
    alpha = (1 - 0.683) / 2
    full = efficiency(10, 10)
    assert full.value == 1.0 and full.upper == 1.0
    assert full.lower == pytest.approx(alpha**0.1, rel=1e-9) and full.lower == pytest.approx(0.8318, abs=1e-4)
    assert full.err_low > 0.0
    empty = efficiency(0, 10)
    assert empty.value == 0.0 and empty.lower == 0.0 and empty.err_high > 0.0
    assert empty.upper == pytest.approx(1 - alpha**0.1, rel=1e-9)
    # interior point, 95%: the classic Clopper–Pearson 5/10 interval (0.1871, 0.8129)
    mid = efficiency(5, 10, cl=0.95)
    assert mid.lower == pytest.approx(0.18709, abs=1e-4) and mid.upper == pytest.approx(0.81291, abs=1e-4)
    arr = efficiency(np.array([0, 3, 7]), np.array([0, 10, 7]))
    assert np.isnan(arr.value[0]) and arr.lower[0] == 0.0 and arr.upper[0] == 1.0
    assert arr.value[1] == pytest.approx(0.3) and arr.err_low[2] > 0
    with pytest.raises(ValueError):
        efficiency(11, 10)
