"""Triangular discriminator and Wasserstein-1 against hand values and scipy."""

import numpy as np
import pytest
import scipy.stats

from hepjax.evaluation import separation_power, triangular_discriminator, wasserstein_1


def test_triangular_hand_values():
    # p = (1/2, 1/2), q = (1/4, 3/4): 1/2 [ (1/4)^2 / (3/4) + (1/4)^2 / (5/4) ] = 1/2 (1/12 + 1/20) = 1/15
    assert triangular_discriminator([2.0, 2.0], [1.0, 3.0]) == pytest.approx(1.0 / 15.0, rel=1e-12)
    assert triangular_discriminator([1.0, 0.0], [0.0, 5.0]) == pytest.approx(1.0)  # disjoint
    assert triangular_discriminator([3.0, 1.0, 0.0], [6.0, 2.0, 0.0]) == pytest.approx(0.0)  # same shape


def test_triangular_is_separation_power_on_samples():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 2000), rng.normal(0.3, 1.2, 3000)
    edges = np.linspace(-3, 3, 21)
    p = np.histogram(np.clip(a, -3, 3), edges)[0]
    q = np.histogram(np.clip(b, -3, 3), edges)[0]
    # independent numpy form of the definition
    pn, qn = p / p.sum(), q / q.sum()
    ref = 0.5 * np.sum((pn - qn) ** 2 / (pn + qn))
    assert triangular_discriminator(p, q) == pytest.approx(ref, rel=1e-12)
    assert separation_power(a, b, edges) == pytest.approx(ref, rel=1e-12)


def test_triangular_bad_input():
    with pytest.raises(ValueError, match="length"):
        triangular_discriminator([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="histogram q"):
        triangular_discriminator([1, 2], [1, np.nan])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wasserstein_matches_scipy_weighted(seed):
    rng = np.random.default_rng(seed)
    u, v = rng.normal(0, 1, 300), rng.exponential(1.0, 200)
    wu, wv = rng.uniform(0.1, 2.0, 300), rng.uniform(0.0, 3.0, 200)
    ref = scipy.stats.wasserstein_distance(u, v, wu, wv)
    assert wasserstein_1(u, v, wu, wv) == pytest.approx(ref, rel=1e-10)
    assert wasserstein_1(u, v) == pytest.approx(scipy.stats.wasserstein_distance(u, v), rel=1e-10)


def test_wasserstein_ties_and_shift():
    x = np.array([0.0, 0.0, 1.0, 2.0])
    assert wasserstein_1(x, x + 0.5) == pytest.approx(0.5)
    assert wasserstein_1(x, x) == 0.0


def test_wasserstein_bad_weights():
    with pytest.raises(ValueError, match="sample v"):
        wasserstein_1([0.0, 1.0], [0.0, 1.0], None, [1.0, -1.0])
