"""Relaxed cuts / KDE histogram: hard limits vs NumPy, weight conservation, gradients vs central differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.design import kde_histogram, soft_cut, soft_window

EDGES = np.array([0.0, 0.5, 1.2, 2.0, 3.0])


def _events(n=200, seed=0):
    return np.random.default_rng(seed).uniform(-0.5, 3.5, n)


@pytest.mark.parametrize("jit", [False, True])
def test_kde_histogram_tends_to_np_histogram(jit):
    x = _events()
    w = np.random.default_rng(1).uniform(0.5, 2.0, x.size)
    f = jax.jit(kde_histogram) if jit else kde_histogram
    with jax.enable_x64(True):
        got = np.asarray(f(jnp.asarray(x), jnp.asarray(EDGES), 1e-6, jnp.asarray(w)))
    want, _ = np.histogram(x, EDGES, weights=w)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    # a broad kernel must differ from the hard histogram, or the comparison above proves nothing
    with jax.enable_x64(True):
        assert np.max(np.abs(np.asarray(kde_histogram(x, EDGES, 0.3, w)) - want)) > 1.0


def test_kde_histogram_conserves_interior_weight():
    x = np.random.default_rng(2).uniform(1.0, 2.0, 50)  # >= 10 bandwidths from the outer edges
    w = np.random.default_rng(3).uniform(0.1, 1.0, 50)
    with jax.enable_x64(True):
        got = float(jnp.sum(kde_histogram(x, EDGES, 0.1, w)))
    np.testing.assert_allclose(got, w.sum(), rtol=1e-12)


def test_kde_histogram_gradients_vs_central_differences():
    rng = np.random.default_rng(4)
    x, w, h = rng.uniform(0.2, 2.8, 7), rng.uniform(0.5, 1.5, 7), 0.25
    proj = rng.normal(size=EDGES.size - 1)  # scalarise the histogram with a fixed random projection
    with jax.enable_x64(True):

        def loss(x, h, w):
            return jnp.dot(kde_histogram(x, jnp.asarray(EDGES), h, w), proj)

        gx, gh, gw = jax.grad(loss, argnums=(0, 1, 2))(jnp.asarray(x), jnp.asarray(h), jnp.asarray(w))
        eps = 1e-6

        def fd(arg, i=None):
            args = [np.array(x), np.array(h), np.array(w)]
            up, dn = [a.copy() for a in args], [a.copy() for a in args]
            if i is None:
                up[arg], dn[arg] = args[arg] + eps, args[arg] - eps
            else:
                up[arg][i] += eps
                dn[arg][i] -= eps
            return (float(loss(*map(jnp.asarray, up))) - float(loss(*map(jnp.asarray, dn)))) / (2 * eps)

        np.testing.assert_allclose(np.asarray(gx), [fd(0, i) for i in range(x.size)], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(float(gh), fd(1), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(np.asarray(gw), [fd(2, i) for i in range(w.size)], rtol=1e-6, atol=1e-8)
        assert np.all(np.abs(np.asarray(gx)) > 1e-6)  # non-trivial gradient


def test_soft_cut_tends_to_step():
    x = jnp.array([-1.0, -0.01, 0.02, 1.0])
    np.testing.assert_allclose(soft_cut(x, 0.0, 1e5), [0, 0, 1, 1], atol=1e-6)
    np.testing.assert_allclose(soft_cut(x, 0.0, 1e5, side="below"), [1, 1, 0, 0], atol=1e-6)
    assert float(soft_cut(0.0, 0.0, 3.0)) == 0.5
    np.testing.assert_allclose(jax.jit(soft_window, static_argnums=())(x, -0.5, 0.5, 1e5), [0, 1, 1, 0], atol=1e-6)
    assert 0.1 < float(soft_cut(0.5, 0.0, 1.0)) < 0.9  # finite slope is soft


@pytest.mark.parametrize(
    ("edges", "h", "word"),
    [(np.array([0.0, 1.0, 1.0, 2.0]), 0.1, "bins_edges"), (EDGES, 0.0, "bandwidth"), (EDGES, -1.0, "bandwidth")],
)
def test_bad_input_raises_naming_it(edges, h, word):
    with pytest.raises(ValueError, match=word):
        kde_histogram(jnp.ones(3), edges, h)


def test_soft_cut_bad_side():
    with pytest.raises(ValueError, match="side"):
        soft_cut(1.0, 0.0, 1.0, side="left")
