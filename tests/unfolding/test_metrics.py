"""Unfolding metrics against independent numpy formulas and hand-made histograms."""

import numpy as np
import pytest
import scipy.stats

from hepjax.errors import DataError
from hepjax.unfolding import coverage, unfolded_chi2, unfolding_metrics


def test_chi2_against_numpy():
    rng = np.random.default_rng(1)
    truth = rng.uniform(50, 100, 8)
    sigma, st = rng.uniform(2, 5, 8), np.sqrt(truth)
    unfolded = truth + rng.normal(0, 4, 8)
    ref = np.sum((unfolded - truth) ** 2 / (sigma**2 + truth))
    c = unfolded_chi2(unfolded, truth, sigma, sigma_truth=st)
    assert c.chi2 == pytest.approx(ref, rel=1e-12)
    assert c.ndf == 8
    assert c.p_value == pytest.approx(scipy.stats.chi2.sf(ref, 8))


def test_coverage_hand_values():
    unfolded = np.array([10.0, 10.0, 10.0, 10.0])
    sigma = np.array([1.0, 1.0, 2.0, 0.5])
    truth = np.array([10.5, 12.0, 11.9, 9.0])  # inside, outside, inside, outside
    assert coverage(unfolded, sigma, truth) == 0.5
    assert coverage(unfolded, sigma, truth, n_sigma=2.0) == 1.0
    # pseudo-experiments [n_pe, k] with a broadcast truth: fraction over everything
    pe = np.stack([unfolded, unfolded + 5.0])  # the second covers no bin
    assert coverage(pe, np.stack([sigma, sigma]), truth) == pytest.approx(2 / 8)


def test_coverage_gaussian_toy_near_68_percent():
    rng = np.random.default_rng(0)
    truth = np.full((2000, 5), 100.0)
    sigma = np.full_like(truth, 3.0)
    assert coverage(truth + rng.normal(0, 3.0, truth.shape), sigma, truth) == pytest.approx(0.683, abs=0.015)


def test_unfolding_metrics_dict_and_errors():
    m = unfolding_metrics([2.0, 2.0], [1.0, 1.0], [1.0, 3.0])
    assert m["delta_x1e3"] == pytest.approx(1e3 / 15.0)
    assert m["chi2"] == pytest.approx(1.0 + 1.0) and m["ndf"] == 2 and m["chi2ndf"] == pytest.approx(1.0)
    assert m["coverage"] == 1.0
    with pytest.raises(DataError, match="shape"):
        unfolded_chi2([1.0, 2.0], [1.0], [1.0, 1.0])
    with pytest.raises(DataError, match="sigma holds 1 NaN"):
        coverage([1.0, 2.0], [1.0, np.nan], [1.0, 2.0])
