"""Vectorised bootstrap replicas of IBU: vs a Python loop, vs the analytic Poisson error, and coverage."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.errors import DataError
from hepjax.unfolding import bootstrap_ibu, coverage, iterative_unfold, response_from_migrations


def _toy(seed=0, k=6, n_truth_per_bin=20000.0):
    """Smooth truth, a band-diagonal smearing with efficiency 0.8-0.95, MC migration counts (~0.8 % MC error)."""
    rng = np.random.default_rng(seed)
    eff = rng.uniform(0.8, 0.95, k)
    smear = np.eye(k) * 0.7 + np.eye(k, k=1) * 0.15 + np.eye(k, k=-1) * 0.15
    smear /= smear.sum(0)
    n_truth = np.full(k, n_truth_per_bin)
    migrations = np.round(smear * eff * n_truth)
    truth = 1000.0 * np.exp(-0.3 * np.arange(k))
    return truth, migrations, n_truth


# One shape, replica count, iteration count and fluctuate_response throughout: the vmapped Poisson sampler
# is compiled once for the whole file (a few seconds of CPU each time otherwise).
N_REP, N_ITER = 256, 4


@pytest.mark.slow  # compiles the Poisson sampler twice more (vmapped and looped): ~12 s of CPU on 2 cores
@pytest.mark.parametrize("fluctuate", [True])
def test_covariance_matches_loop_over_replicas(fluctuate):
    truth, migrations, n_truth = _toy()
    resp, eff = response_from_migrations(migrations, n_truth)
    data = np.asarray(resp @ truth)
    key = jax.random.PRNGKey(3)
    out = bootstrap_ibu(
        key, data, migrations, n_truth, n_iterations=N_ITER, n_replicas=N_REP, fluctuate_response=fluctuate
    )

    @jax.jit
    def replica(k):  # one replica, no vmap: jitted so the loop does not retrace IBU's scan every time
        kd, km = jax.random.split(k)
        d = jax.random.poisson(kd, jnp.asarray(data, jnp.float32), data.shape).astype(jnp.float32)
        m = jnp.asarray(migrations, jnp.float32)
        if fluctuate:
            m = jax.random.poisson(km, m, m.shape).astype(jnp.float32)
        r, e = response_from_migrations(m, n_truth)
        return iterative_unfold(d, r, e, n_iterations=N_ITER)

    reps = [np.asarray(replica(k)) for k in jax.random.split(key, N_REP)]  # the documented per-replica keys
    reps = np.array(reps)
    np.testing.assert_allclose(out.replicas, reps, rtol=1e-5)
    np.testing.assert_allclose(out.mean, reps.mean(0), rtol=1e-5)
    np.testing.assert_allclose(out.cov, np.cov(reps, rowvar=False), rtol=1e-3, atol=1e-3 * np.abs(out.cov).max())
    np.testing.assert_allclose(out.sigma, np.sqrt(np.diag(np.cov(reps, rowvar=False))), rtol=1e-4)
    np.testing.assert_allclose(out.nominal, iterative_unfold(data, resp, eff, n_iterations=N_ITER), rtol=1e-6)


def test_diagonal_response_gives_poisson_error():
    # identity smearing, efficiency 0.5: unfolded = data / 0.5, so sigma = sqrt(data) / 0.5; the MC counts are
    # so large (5e7 per bin) that their fluctuation (1.4e-4) is negligible
    data = np.array([400.0, 900.0, 2500.0, 100.0, 1600.0, 3600.0])
    out = bootstrap_ibu(
        jax.random.PRNGKey(0), data, np.diag(np.full(6, 5e7)), np.full(6, 1e8),
        n_iterations=N_ITER, n_replicas=N_REP, fluctuate_response=True,
    )  # fmt: skip
    # 256 replicas: the sigma estimate has ~4.4 % sampling error, the mean sqrt(n)/16
    np.testing.assert_allclose(out.sigma, np.sqrt(data) / 0.5, rtol=0.15)
    np.testing.assert_allclose(out.mean, data / 0.5, atol=4 * np.sqrt(data).max() / 0.5 / 16)
    np.testing.assert_allclose(np.corrcoef(np.asarray(out.replicas), rowvar=False), np.eye(6), atol=0.25)


def test_coverage_of_truth_near_68_percent():
    truth, migrations, n_truth = _toy(seed=1)
    resp, _ = response_from_migrations(migrations, n_truth)
    expected = np.asarray(resp @ truth)
    rng = np.random.default_rng(5)
    unfolded, sigma = [], []
    for i in range(100):  # pseudo-experiments: Poisson data around the folded known truth
        out = bootstrap_ibu(
            jax.random.PRNGKey(i), rng.poisson(expected).astype(float), migrations, n_truth,
            n_iterations=N_ITER, n_replicas=N_REP, fluctuate_response=True,
        )  # fmt: skip
        unfolded.append(np.asarray(out.nominal))
        sigma.append(np.asarray(out.sigma))
    cov = coverage(np.array(unfolded), np.array(sigma), truth)
    assert cov == pytest.approx(0.683, abs=0.06), cov


def test_bad_input():
    with pytest.raises(DataError, match="truth bin 1"):
        bootstrap_ibu(jax.random.PRNGKey(0), [1.0, 2.0], np.eye(2) * 10, [10.0, 5.0])
    with pytest.raises(DataError, match="n_replicas"):
        bootstrap_ibu(jax.random.PRNGKey(0), [1.0, 2.0], np.eye(2), [1.0, 1.0], n_replicas=1)
    with pytest.raises(DataError, match="bin 0"):
        bootstrap_ibu(jax.random.PRNGKey(0), [np.nan, 2.0], np.eye(2), [1.0, 1.0])
