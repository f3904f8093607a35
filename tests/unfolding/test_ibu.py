"""IBU against pyunfold 0.5, hand cases, gradients and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import enable_x64

from hepjax.errors import DataError
from hepjax.unfolding import iterative_unfold

pyunfold = pytest.importorskip("pyunfold")


def _problem(seed, n_effect=6, n_cause=5):
    rng = np.random.default_rng(seed)
    eff = rng.uniform(0.5, 1.0, n_cause)
    m = rng.uniform(0.0, 1.0, (n_effect, n_cause)) + 3.0 * np.eye(n_effect, n_cause)
    response = m / m.sum(0) * eff  # column sums == efficiencies (pyunfold's normalisation)
    data = rng.uniform(50.0, 500.0, n_effect)
    prior = rng.uniform(0.5, 2.0, n_cause)
    return data, response, eff, prior


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("use_prior", [False, True])
@pytest.mark.parametrize("n_iter", [1, 5])
def test_matches_pyunfold(seed, use_prior, n_iter):
    data, response, eff, prior = _problem(seed)
    ref = pyunfold.iterative_unfold(
        data=data,
        data_err=np.sqrt(data),
        response=response,
        response_err=0.01 * response,
        efficiencies=eff,
        efficiencies_err=0.01 * eff,
        prior=prior / prior.sum() if use_prior else None,
        ts_stopping=0.0,  # never stop early: exactly max_iter iterations
        max_iter=n_iter,
    )
    assert ref["num_iterations"] == n_iter
    with enable_x64(True):
        f = lambda d: iterative_unfold(d, response, eff, prior=prior if use_prior else None, n_iterations=n_iter)
        for fn in (f, jax.jit(f)):
            got = fn(jnp.asarray(data))
            assert got.dtype == jnp.float64
            np.testing.assert_allclose(np.asarray(got), ref["unfolded"], rtol=1e-6)


def test_diagonal_unit_efficiency_returns_measurement():
    data = jnp.array([3.0, 10.0, 0.0, 7.5])
    out = iterative_unfold(data, jnp.eye(4), jnp.ones(4), n_iterations=3)
    np.testing.assert_allclose(np.asarray(out), np.asarray(data), rtol=1e-6)


def test_gradient_vs_central_fd():
    data, response, eff, prior = _problem(3, 4, 4)
    with enable_x64(True):
        w = jnp.linspace(0.5, 2.0, 4)
        loss = lambda d: jnp.sum(w * iterative_unfold(d, response, eff, prior=prior, n_iterations=4) ** 2)
        d0 = jnp.asarray(data)
        g = jax.grad(loss)(d0)
        h = 1e-4
        fd = np.array([(loss(d0.at[k].add(h)) - loss(d0.at[k].add(-h))) / (2 * h) for k in range(4)])
        np.testing.assert_allclose(np.asarray(g), fd, rtol=1e-6)
        assert np.all(np.abs(fd) > 0)


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(DataError, match=r"\(5, 3\).*\(4,\)"):
        iterative_unfold(jnp.ones(4), jnp.ones((5, 3)) / 5, jnp.ones(3))


def test_negative_counts_rejected():
    with pytest.raises(DataError, match="bin 1"):
        iterative_unfold(jnp.array([1.0, -2.0]), jnp.eye(2), jnp.ones(2))


def test_zero_efficiency_truth_bin_rejected():
    r = jnp.array([[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(DataError, match="cause\\) bin 1 has efficiency 0"):
        iterative_unfold(jnp.array([1.0, 2.0]), r, jnp.array([1.0, 0.0]))
