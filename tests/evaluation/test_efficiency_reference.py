"""Clopper–Pearson efficiencies against SciPy's exact binomial interval (an independent implementation)."""

import numpy as np
import pytest
from scipy.stats import beta, binomtest

from hepjax.evaluation import efficiency


@pytest.mark.parametrize("cl", [0.683, 0.95])
def test_matches_scipy_exact_binomial_interval(cl):
    for n in (1, 7, 10, 595):
        for k in sorted({0, 1, n // 3, n - 1, n}):
            ref = binomtest(k, n).proportion_ci(confidence_level=cl, method="exact")
            e = efficiency(k, n, cl=cl)
            assert e.lower == pytest.approx(ref.low, abs=1e-12) and e.upper == pytest.approx(ref.high, abs=1e-12)


def test_ten_of_ten_lower_bound_is_the_beta_quantile():
    alpha = (1 - 0.683) / 2
    e = efficiency(10, 10)
    # at k = n the Beta(k, 1) quantile has the closed form alpha^(1/n)
    assert e.lower == pytest.approx(beta.ppf(alpha, 10, 1), rel=1e-12)
    assert e.lower == pytest.approx(alpha ** (1 / 10), rel=1e-12)
    assert e.upper == 1.0 and e.err_low > 0
    arr = efficiency(np.array([10, 0]), np.array([10, 10]))
    assert arr.upper[1] == pytest.approx(1 - alpha ** (1 / 10), rel=1e-12)
