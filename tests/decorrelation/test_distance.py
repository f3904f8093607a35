"""distance_correlation: values vs hand computation, a NumPy reference and dcor; invariances; gradients."""

import chex
import dcor
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import enable_x64

from hepjax.decorrelation import distance_correlation
from hepjax.decorrelation.sorted1d import cross_abs_sum, row_abs_sums


def numpy_dcor2(x, y, w=None, unbiased=False):
    """Slow reference from the definition: double-centred (or U-centred) distance matrices."""
    x = np.asarray(x, float).reshape(len(x), -1)
    y = np.asarray(y, float).reshape(len(y), -1)
    if w is not None:  # integer frequency weights: duplicate events
        rep = np.asarray(w).astype(int)
        x, y = np.repeat(x, rep, axis=0), np.repeat(y, rep, axis=0)
    a = np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1))
    b = np.sqrt(((y[:, None] - y[None]) ** 2).sum(-1))
    n = len(x)

    def centre(m):
        if not unbiased:
            return m - m.mean(0) - m.mean(1)[:, None] + m.mean()
        c = m - m.sum(0) / (n - 2) - m.sum(1)[:, None] / (n - 2) + m.sum() / ((n - 1) * (n - 2))
        np.fill_diagonal(c, 0.0)
        return c

    A, B = centre(a), centre(b)
    norm = n * n if not unbiased else n * (n - 3)
    cov, vx, vy = (A * B).sum() / norm, (A * A).sum() / norm, (B * B).sum() / norm
    return 0.0 if vx * vy == 0 else cov / np.sqrt(abs(vx * vy))


METHODS_1D = ("sorted", "dense", "tiled")


def _dc(x, y, w=None, **kw):
    return float(distance_correlation(x, y, w, tile=kw.pop("tile", 5), **kw))


def test_hand_computed_three_points():
    # x = (0, 1, 2), y = (0, 1, 0): a = [[0,1,2],[1,0,1],[2,1,0]], b = [[0,1,0],[1,0,1],[0,1,0]].
    # S_ab = 4, row sums a = (3,2,3), b = (1,2,1): R_ab = 10, S_a = 8, S_b = 4
    # dCov^2 = 4/9 - 20/27 + 32/81 = 8/81; dVar^2(x) = 12/9 - 44/27 + 64/81 = 40/81;
    # dVar^2(y) = 4/9 - 12/27 + 16/81 = 16/81  ->  dCor^2 = 8 / sqrt(40 * 16) = 1/sqrt(10).
    with enable_x64():
        for m in METHODS_1D:
            assert _dc([0.0, 1.0, 2.0], [0.0, 1.0, 0.0], method=m) == pytest.approx(1 / np.sqrt(10), rel=1e-12)
        # Two points: any non-constant pair is perfectly dependent: dCor^2 = 1.
        for m in METHODS_1D:
            assert _dc([0.0, 3.0], [5.0, -1.0], method=m) == pytest.approx(1.0, rel=1e-12)
        # x = (0, 1, 2, 3), y = x^2: dCov^2 = S_ab/n^2 - 2 R_ab/n^3 + S_a S_b/n^4 with
        # S_ab = 2*(1*1 + 2*4 + 3*9 + 1*3 + 2*8 + 1*5) = 120, row sums a = (6,4,4,6), b = (14,12,12,22),
        # R_ab = 84+48+48+132 = 312, S_a = 20, S_b = 60 -> dCov^2 = 7.5 - 9.75 + 4.6875 = 2.4375;
        # dVar^2(x) = 40/16 - 208/64 + 400/256 = 0.8125; dVar^2(y) = 392/16 - 1936/64 + 3600/256 = 8.3125
        expected = 2.4375 / np.sqrt(0.8125 * 8.3125)
        for m in METHODS_1D:
            assert _dc([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 4.0, 9.0], method=m) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("unbiased", [False, True])
@pytest.mark.parametrize("method", METHODS_1D)
def test_matches_numpy_reference_and_dcor_1d_with_ties(method, unbiased):
    rng = np.random.default_rng(1)
    n = 67
    x = rng.normal(size=n)
    y = x**2 + 0.5 * rng.normal(size=n)
    x[:20] = np.round(x[:20])  # ties in x
    y[10:40] = np.round(y[10:40])  # ties in y
    with enable_x64():
        got = _dc(x, y, unbiased=unbiased, method=method)
    ref = numpy_dcor2(x, y, unbiased=unbiased)
    peer = dcor.u_distance_correlation_sqr(x, y) if unbiased else dcor.distance_correlation_sqr(x, y)
    assert got == pytest.approx(ref, rel=1e-6)
    assert got == pytest.approx(peer, rel=1e-6)


@pytest.mark.parametrize("unbiased", [False, True])
def test_multidimensional_dense_tiled_match_dcor(unbiased):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 3))
    y = np.c_[x[:, 0] * x[:, 1] + 0.3 * rng.normal(size=50), rng.normal(size=50)]
    peer = dcor.u_distance_correlation_sqr(x, y) if unbiased else dcor.distance_correlation_sqr(x, y)
    with enable_x64():
        for m in ("dense", "tiled"):
            assert _dc(x, y, unbiased=unbiased, method=m, tile=7) == pytest.approx(peer, rel=1e-6)
        with pytest.raises(ValueError, match="1-D"):
            distance_correlation(x, y[:, 0], method="sorted")
        # tiled (fused row sums, remat) and dense: same gradients w.r.t. x, y and the weights
        w = jnp.asarray(rng.uniform(0.5, 2.0, size=50))
        grads = [
            jax.jit(
                jax.grad(
                    lambda a, b, c: distance_correlation(a, b, c, unbiased=unbiased, method=m, tile=7),
                    argnums=(0, 1, 2),
                )
            )(jnp.asarray(x), jnp.asarray(y), w)
            for m in ("dense", "tiled")
        ]
        for a, b in zip(*grads):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-13)


def test_weights_two_equal_duplicating_and_numpy_weighted_reference():
    rng = np.random.default_rng(3)
    n = 30
    x, y = rng.normal(size=n), rng.normal(size=n) + rng.normal(size=n)
    w = rng.integers(1, 4, size=n).astype(float)
    with enable_x64():
        for unbiased in (False, True):
            ref = numpy_dcor2(x, y, w, unbiased=unbiased)
            xd, yd = np.repeat(x, w.astype(int)), np.repeat(y, w.astype(int))
            for m in ("sorted", "dense"):  # tiled == dense is checked separately
                got = _dc(x, y, w, unbiased=unbiased, method=m)
                assert got == pytest.approx(ref, rel=1e-9)
                assert got == pytest.approx(_dc(xd, yd, unbiased=unbiased, method=m), rel=1e-9)
        # V-statistic depends only on weight ratios
        assert _dc(x, y, 3.7 * w) == pytest.approx(_dc(x, y, w), rel=1e-12)


def test_linear_is_one_and_invariances():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=200), rng.exponential(size=200)
    with enable_x64():
        for m in METHODS_1D:
            assert _dc(x, -2.5 * x + 7.0, method=m) == pytest.approx(1.0, rel=1e-10)
            base = _dc(x, y, method=m)
            assert _dc(3.0 * x - 100.0, 0.01 * y + 91.0, method=m) == pytest.approx(base, rel=1e-9)


@pytest.mark.slow
def test_independent_large_sample_is_zero_within_error():
    # For independent samples n * dCor^2 (V) is O(1): E[dCov^2_V] = E|X-X'| E|Y-Y'| / n.
    rng = np.random.default_rng(5)
    n = 20000
    x, y = rng.normal(size=n), rng.uniform(size=n)
    v = _dc(x.astype(np.float32), y.astype(np.float32))
    assert 0.0 <= v < 10.0 / n
    u = _dc(x.astype(np.float32), y.astype(np.float32), unbiased=True)
    assert abs(u) < 10.0 / n
    # and a strong dependence is far from zero
    assert _dc(x.astype(np.float32), (x**2).astype(np.float32)) > 0.1


@pytest.mark.parametrize("unbiased", [False, True])
def test_sorted_equals_dense_values_and_gradients_with_ties(unbiased):
    rng = np.random.default_rng(6)
    n = 41
    x = np.round(rng.normal(size=n) * 2) / 2  # many ties
    y = np.round(x**2 + rng.normal(size=n), 1)
    y[:5] = y[5]
    w = rng.uniform(0.5, 2.0, size=n)
    with enable_x64():
        f = lambda m: jax.value_and_grad(
            lambda a, b, c: distance_correlation(a, b, c, unbiased=unbiased, method=m, tile=6), argnums=(0, 1, 2)
        )(jnp.asarray(x), jnp.asarray(y), jnp.asarray(w))
        (vs, gs), (vd, gd), (vt, gt) = f("sorted"), f("dense"), f("tiled")
    assert float(vs) == pytest.approx(float(vd), rel=1e-10)
    assert float(vt) == pytest.approx(float(vd), rel=1e-10)
    for a, b, c in zip(gs, gd, gt):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(c, b, rtol=1e-8, atol=1e-12)


def test_gradient_vs_finite_differences():
    rng = np.random.default_rng(7)
    x, y = rng.normal(size=25), rng.normal(size=25)
    y = y + np.sin(2 * x)
    w = rng.uniform(0.5, 1.5, size=25)
    with enable_x64():
        for m in METHODS_1D:
            fn = lambda a, b, c: distance_correlation(a, b, c, method=m, tile=4)
            jax.test_util.check_grads(
                fn, (jnp.asarray(x), jnp.asarray(y), jnp.asarray(w)), order=1, modes=["rev"], eps=1e-6
            )
        x3 = jnp.asarray(rng.normal(size=(12, 3)))
        fn3 = lambda a: distance_correlation(a, jnp.asarray(y[:12]), method="tiled", tile=5)
        jax.test_util.check_grads(fn3, (x3,), order=1, modes=["rev"], eps=1e-6)


def test_primitives_match_brute_force():
    rng = np.random.default_rng(8)
    with enable_x64():
        for n in (2, 17, 100):
            x = rng.integers(0, 5, n).astype(float)
            y = rng.normal(size=n)
            y[: n // 2] = np.round(y[: n // 2])
            w = rng.uniform(0, 2, n)
            a, b = np.abs(x[:, None] - x[None]), np.abs(y[:, None] - y[None])
            np.testing.assert_allclose(row_abs_sums(jnp.asarray(x), jnp.asarray(w)), a @ w, rtol=1e-12, atol=1e-12)
            c = float(cross_abs_sum(jnp.asarray(x), jnp.asarray(y), jnp.asarray(w)))
            assert c == pytest.approx((w[:, None] * w[None] * a * b).sum(), rel=1e-12, abs=1e-12)


class TestJitVariants(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_jit_and_no_jit_agree(self):
        rng = np.random.default_rng(9)
        x, y = rng.normal(size=64).astype(np.float32), rng.normal(size=64).astype(np.float32)
        y = y + x
        fn = self.variant(lambda a, b: distance_correlation(a, b))
        v = fn(jnp.asarray(x), jnp.asarray(y))
        chex.assert_shape(v, ())
        chex.assert_type(v, jnp.float32)
        assert float(v) == pytest.approx(dcor.distance_correlation_sqr(x.astype(float), y.astype(float)), rel=1e-4)


def test_no_recompilation_on_second_call():
    f = jax.jit(jax.grad(lambda a, b: distance_correlation(a, b)))
    x = jnp.linspace(0.0, 1.0, 32)
    f(x, x**2).block_until_ready()
    n0 = f._cache_size()
    f(x + 1.0, x**3).block_until_ready()
    assert f._cache_size() == n0


def test_bad_input():
    x = np.linspace(0.0, 1.0, 20)
    with pytest.raises(ValueError, match="same number of events"):
        distance_correlation(x, x[:-1])
    with pytest.raises(ValueError, match="weights must have shape"):
        distance_correlation(x, x, np.ones(19))
    with pytest.raises(ValueError, match="NaN"):
        distance_correlation(np.r_[x[:-1], np.nan], x)
    with pytest.raises(ValueError, match="sum to zero"):
        distance_correlation(x, x, np.zeros(20))
    with pytest.raises(ValueError, match="negative"):
        distance_correlation(x, x, -np.ones(20))
    with pytest.raises(ValueError, match="power"):
        distance_correlation(x, x, power=0)
    # constant x: defined value 0 with a finite (zero) gradient, for every method
    for m in METHODS_1D:
        v, g = jax.value_and_grad(lambda a: distance_correlation(a, jnp.asarray(x), method=m, tile=7))(jnp.ones(20))
        assert float(v) == 0.0 and np.all(np.isfinite(g))
    # under jit nothing can raise: NaN value (the trainer stops on it), never a NaN gradient
    vg = jax.jit(jax.value_and_grad(lambda a, w: distance_correlation(a, jnp.asarray(x), w)))
    v, g = vg(jnp.asarray(np.r_[x[:-1], np.nan]), jnp.ones(20))
    assert np.isnan(float(v)) and np.all(np.isfinite(g))
    v, g = vg(jnp.asarray(x), jnp.zeros(20))
    assert np.isnan(float(v)) and np.all(np.isfinite(g))
