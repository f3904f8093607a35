"""INFERNO benchmark pieces against closed forms: sampler moments, the Fisher variance, the profile width."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.design import inferno as inf


def test_sampler_moments_and_reparameterised_gradients():
    n = 200_000
    with jax.enable_x64(True):
        xb = np.asarray(inf.sample_background(jax.random.key(0), n, r=0.5, lam=2.5))
        xs = np.asarray(inf.sample_signal(jax.random.key(1), n))
        for x, mean, var in ((xb, (2.5, 0.0, 1 / 2.5), (5.0, 9.0, 1 / 2.5**2)), (xs, (0, 0, 0.5), (1, 1, 0.25))):
            assert np.all(np.abs(x.mean(0) - mean) < 5 * np.sqrt(np.array(var) / n))
            np.testing.assert_allclose(x.var(0), var, rtol=0.02)
        noise = inf.draw_noise(jax.random.key(2), 1000)
        # E[x0] = 2 + r, E[x2] = E[Exp(1)]/λ: d/dr = 1, d/dλ of the sample mean = -mean(E)/λ²
        g_r = jax.grad(lambda r: inf.background_from_noise(noise, r, 3.0)[:, 0].mean())(0.0)
        g_l = jax.grad(lambda lam: inf.background_from_noise(noise, 0.0, lam)[:, 2].mean())(3.0)
        assert g_r == pytest.approx(1.0)
        assert g_l == pytest.approx(-float(noise[:, 2].mean()) / 9.0, rel=1e-10)


def test_density_ratio_weights_give_the_shifted_moments():
    with jax.enable_x64(True):
        x = inf.sample_background(jax.random.key(3), 400_000)
        w = np.exp(np.asarray(inf.background_logpdf(x, 0.3, 3.4) - inf.background_logpdf(x, 0.0, 3.0)))
        x = np.asarray(x)
        assert np.mean(w) == pytest.approx(1.0, abs=0.01)
        assert np.average(x[:, 0], weights=w) == pytest.approx(2.3, abs=0.02)
        assert np.average(x[:, 2], weights=w) == pytest.approx(1 / 3.4, rel=0.01)


def test_one_bin_counting_variance_is_s_plus_b_plus_sigma_b_squared():
    bench = inf.Benchmark(s=50.0, b=1000.0, b_sigma=100.0)
    with jax.enable_x64(True):
        var = inf.hessian_variance(lambda th: jnp.array([th[0] + th[3]]), bench)
    assert float(var) == pytest.approx(50.0 + 1000.0 + 100.0**2, rel=1e-10)


def test_hessian_variance_equals_fisher_from_finite_difference_jacobian():
    bench = inf.BENCHMARK4
    net = inf.network(hidden=(8,), outputs=5)
    with jax.enable_x64(True):
        params = net.init(jax.random.key(0), jnp.zeros((1, 3)))
        ns, nb = inf.draw_noise(jax.random.key(1), 100), inf.draw_noise(jax.random.key(2), 100)
        counts = jax.jit(inf.soft_counts_fn(net.apply, params, ns, nb, temperature=0.5))
        th0 = np.asarray(bench.theta0)
        h = np.array([1e-3, 1e-5, 1e-5, 1e-3])
        jac = np.stack(
            [(counts(th0 + h[i] * e) - counts(th0 - h[i] * e)) / (2 * h[i]) for i, e in enumerate(np.eye(4))]
        )
        fisher = jac @ np.diag(1 / np.asarray(counts(th0))) @ jac.T + np.diag(np.asarray(bench.inv_var))
        assert float(inf.hessian_variance(counts, bench)) == pytest.approx(np.linalg.inv(fisher)[0, 0], rel=1e-5)


def test_profile_width_equals_hessian_width_on_a_linear_high_count_toy():
    # three bins, ν linear in θ; with 1e6-scale counts the Poisson profile is quadratic to ~1e-3
    bench = inf.Benchmark(s=5e4, b=1e6, r_sigma=0.4, lam_sigma=1.0, b_sigma=2e4)
    a = jnp.array([[0.6, 0.3, 0.1], [0.1, 0.3, 0.6]])
    d = jnp.array([[2e3, 0.0, -2e3], [0.0, 3e3, -1e3]])

    def counts(th):
        return th[0] * a[0] + th[3] * a[1] + th[1] * d[0] + (th[2] - 3.0) * d[1]

    with jax.enable_x64(True):
        w = inf.widths(counts, bench, points=31)
    assert w["width_profile"] == pytest.approx(w["width_hessian"], rel=2e-3)
    assert 0.5 * (w["lo"] + w["hi"]) == pytest.approx(bench.s, rel=1e-3)


def test_interval_needs_a_scan_that_reaches_one():
    with pytest.raises(Exception, match="does not reach"):
        inf.interval_width(np.linspace(-0.5, 0.5, 5), np.linspace(-0.5, 0.5, 5) ** 2)


def test_interval_drops_failed_scan_points_but_not_silently():
    s = np.linspace(20.0, 80.0, 13)
    q = ((s - 50.0) / 10.0) ** 2
    q_failed = q.copy()
    q_failed[0] = np.nan  # a profile fit that failed at the lowest s
    assert inf.interval_width(s, q_failed) == pytest.approx(inf.interval_width(s, q))
    assert inf.interval_width(s, q_failed) == pytest.approx((40.0, 60.0), abs=0.5)
    q_failed[2:] = np.nan
    with pytest.raises(Exception, match="finite fit"):
        inf.interval_width(s, q_failed)


@pytest.mark.parametrize(
    "fixed, paper",
    [
        # paper Table 2, "Analytical likelihood": benchmark 0 (r, λ, b fixed) and benchmark 4 (all constrained)
        (dict(r_sigma=1e-9, lam_sigma=1e-9, b_sigma=1e-9), 14.71),
        ({}, 16.89),
    ],
)
def test_unbinned_bound_reproduces_the_papers_analytic_likelihood_column(fixed, paper):
    with jax.enable_x64(True):
        bound = inf.unbinned_sigma_bound(jax.random.key(0), inf.Benchmark(**fixed), n=200_000)
    assert bound == pytest.approx(paper, rel=0.01)
