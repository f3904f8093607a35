import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import enable_x64

from hepjax.errors import DataError
from hepjax.stats import asimov_z0, binned_asimov_z0, p_from_z, z_from_p


def _z_unc_ref(s, b, sig):
    # The 1007.1727 form written as in the paper (no log1p rewrite), in plain Python floats.
    sb2 = sig**2
    a = (s + b) * math.log((s + b) * (b + sb2) / (b**2 + (s + b) * sb2))
    c = (b**2 / sb2) * math.log(1 + sb2 * s / (b * (b + sb2)))
    return math.sqrt(2 * (a - c))


def test_values_vs_hand_computed():
    with enable_x64(True):
        # s=10, b=100: sqrt(2 (110 ln 1.1 - 10)) = 0.98399164...
        assert float(asimov_z0(10.0, 100.0)) == pytest.approx(math.sqrt(2 * (110 * math.log(1.1) - 10)), rel=1e-12)
        assert float(asimov_z0(10.0, 100.0)) == pytest.approx(0.9839916447569484, rel=1e-12)
        assert float(asimov_z0(10.0, 100.0, 10.0)) == pytest.approx(_z_unc_ref(10.0, 100.0, 10.0), rel=1e-10)
        assert float(asimov_z0(10.0, 100.0, 10.0)) == pytest.approx(0.6901960632965309, rel=1e-10)
        # an uncertainty always lowers the significance
        assert float(asimov_z0(10.0, 100.0, 10.0)) < float(asimov_z0(10.0, 100.0))


def test_small_signal_limit_and_sigma_to_zero():
    with enable_x64(True):
        b = jnp.array([50.0, 1e3, 1e5])
        s = 1e-3 * jnp.sqrt(b)
        np.testing.assert_allclose(asimov_z0(s, b), s / jnp.sqrt(b), rtol=1e-3)
        s = jnp.array([1.0, 20.0, 300.0])
        np.testing.assert_allclose(asimov_z0(s, b, 1e-6), asimov_z0(s, b), rtol=1e-6)
        np.testing.assert_array_equal(asimov_z0(s, b, 0.0), asimov_z0(s, b))
        # large uncertainty: Z -> s / sqrt(b + sigma_b^2) in the s << b limit
        s = 1e-3 * jnp.ones(3)
        np.testing.assert_allclose(asimov_z0(s, b, 0.3 * b), s / jnp.sqrt(b + (0.3 * b) ** 2), rtol=1e-3)


def test_binned_combination():
    with enable_x64(True):
        s, b = jnp.array([3.0, 5.0, 8.0]), jnp.array([10.0, 40.0, 90.0])
        z = asimov_z0(s, b)
        assert float(binned_asimov_z0(s, b)) == pytest.approx(float(jnp.sqrt(jnp.sum(z**2))), rel=1e-12)
        s2, b2 = jnp.stack([s, 2 * s]), jnp.stack([b, b])
        out = binned_asimov_z0(s2, b2)
        assert out.shape == (2,)
        assert float(out[0]) == pytest.approx(float(binned_asimov_z0(s, b)), rel=1e-12)


@pytest.mark.parametrize("sigma", [None, 7.0])
def test_gradient_vs_central_fd(sigma):
    with enable_x64(True):

        def f(x):
            return asimov_z0(x[0], x[1], sigma)

        x0 = jnp.array([12.0, 80.0])
        g = jax.grad(f)(x0)
        h = 1e-5
        fd = [(f(x0 + h * e) - f(x0 - h * e)) / (2 * h) for e in jnp.eye(2)]
        np.testing.assert_allclose(g, jnp.array(fd), rtol=1e-7)
        np.testing.assert_allclose(jax.jit(jax.grad(f))(x0), g, rtol=1e-12)


def test_no_nan_gradient_at_zero_signal():
    with enable_x64(True):
        for sigma in (None, 5.0, 0.0):
            g = jax.grad(lambda s, sg=sigma: asimov_z0(s, 100.0, sg))(0.0)
            assert np.isfinite(g)
            gs = jax.grad(lambda s, sg=sigma: binned_asimov_z0(s, jnp.array([10.0, 20.0]), sg))(jnp.zeros(2))
            assert np.all(np.isfinite(gs))
        assert float(asimov_z0(0.0, 100.0)) == 0.0
        # sigma_b -> 0: the gradient with respect to sigma_b is finite too
        assert np.isfinite(jax.grad(lambda sg: asimov_z0(5.0, 100.0, sg))(0.0))


def test_jit_matches_eager():
    s, b = jnp.array([1.0, 4.0]), jnp.array([9.0, 16.0])
    np.testing.assert_allclose(jax.jit(asimov_z0)(s, b, 2.0), asimov_z0(s, b, 2.0), rtol=1e-6)


def test_bad_input_errors():
    with pytest.raises(DataError, match="b \\(background\\)"):
        asimov_z0(1.0, 0.0)
    with pytest.raises(ValueError, match="b \\(background\\)"):
        asimov_z0(jnp.array([1.0, 1.0]), jnp.array([5.0, -1.0]))
    with pytest.raises(DataError, match="s \\(signal\\)"):
        asimov_z0(-1.0, 10.0)
    with pytest.raises(DataError, match="sigma_b"):
        asimov_z0(1.0, 10.0, -2.0)


def test_p_z_conversion():
    with enable_x64(True):
        assert float(p_from_z(5.0)) == pytest.approx(2.866515718791939e-07, rel=1e-9)
        assert float(z_from_p(0.05)) == pytest.approx(1.6448536269514722, rel=1e-12)
        z = jnp.linspace(-2.0, 6.0, 9)
        np.testing.assert_allclose(z_from_p(p_from_z(z)), z, rtol=1e-9, atol=1e-9)
