"""The JES-systematic inference-aware observable: features, the likelihood, the loss and its gradient."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.design import jes
from hepjax.design.inferno import network
from hepjax.errors import DataError
from hepjax.stats import expected_mu_interval
from hepjax.train import Standardizer


def _jets(scale=1.0):
    """Two jets of three massless constituents (one jet with a padded slot)."""
    pt = np.array([[200.0, 120.0, 30.0], [300.0, 80.0, 0.0]]) * scale
    eta = np.array([[0.10, 0.25, -0.05], [1.0, 1.2, 0.0]])
    phi = np.array([[0.0, 0.2, -0.3], [2.0, 2.3, 0.0]])
    mask = np.array([[True, True, True], [True, True, False]])
    return SimpleNamespace(pt=pt, eta=eta, phi=phi, energy=pt * np.cosh(eta), mask=mask, weight=mask * 1.0)


def test_features_are_the_jet_mass_and_pt_and_scale_free_shapes():
    f = jes.jet_features(_jets())
    j = _jets()
    px, py = (np.sum(j.pt * fn(j.phi) * j.mask, 1) for fn in (np.cos, np.sin))
    pz, e = np.sum(j.pt * np.sinh(j.eta) * j.mask, 1), np.sum(j.energy * j.mask, 1)
    np.testing.assert_allclose(f[:, 0], np.sqrt(e**2 - px**2 - py**2 - pz**2), rtol=1e-4)
    np.testing.assert_allclose(f[:, 1], np.hypot(px, py), rtol=1e-5)
    # a uniform energy scale moves mass and pT only, exactly as scale_jes models it
    scaled = jes.jet_features(_jets(1.05))
    np.testing.assert_allclose(scaled, np.asarray(jes.scale_jes(jnp.asarray(f), 0.05)), rtol=2e-4, atol=1e-6)
    assert np.all((f[:, 2] >= 0) & (f[:, 2] <= 1))


def test_mu_variance_is_the_counting_fisher_bound_without_systematics():
    s = np.array([5.0, 20.0, 40.0])
    b = np.array([300.0, 100.0, 20.0])
    m = jes.JesModel(s0=65.0, b0=420.0, jes_sigma=1e-6, bkg_sigma=1e-6)
    fr = {("signal", a): jnp.asarray(s / s.sum()) for a in (0, 1, -1)}
    fr |= {("background", a): jnp.asarray(b / b.sum()) for a in (0, 1, -1)}
    with jax.enable_x64(True):
        var = float(jax.jit(jes.mu_variance)(jes.templated(jes.likelihood_model(3, m), fr, m)))
    assert var == pytest.approx(1.0 / np.sum(s**2 / (s + b)), rel=1e-6)


def _toy_features(key, n, signal):
    k1, k2 = jax.random.split(key)
    mass = jnp.where(signal, 80.0, 60.0) + jnp.where(signal, 8.0, 30.0) * jax.random.normal(k1, (n,))
    rest = jax.random.uniform(k2, (n, 3)) * jnp.array([300.0, 1.0, 3.0]) + jnp.array([300.0, 0.0, 0.0])
    return jnp.concatenate([mass[:, None], rest], axis=1)


def test_hard_model_hessian_width_matches_the_profile_interval():
    x_s, x_b = _toy_features(jax.random.key(0), 4000, True), _toy_features(jax.random.key(1), 4000, False)

    def bins(x):  # a mass histogram of 8 bins from 40 to 120 GeV (JES moves jets across bin edges)
        return jnp.clip(jnp.floor((x[:, 0] - 40.0) / 10.0), 0, 7).astype(jnp.int32)

    with jax.enable_x64(True):
        m = jes.JesModel(jes_sigma=0.05)
        model = jes.hard_model(bins, x_s, x_b, 8, m)
        mu_variance = jax.jit(jes.mu_variance)
        sigma = float(jnp.sqrt(mu_variance(model)))
        lo, hi = expected_mu_interval(model, mu_range=(0.0, 3.0))
        stat = float(jnp.sqrt(mu_variance(jes.hard_model(bins, x_s, x_b, 8, jes.JesModel(jes_sigma=1e-6)))))
    assert (hi - lo) / 2 == pytest.approx(sigma, rel=0.03)
    assert sigma > 1.005 * stat  # the JES systematic costs precision on a mass histogram


def test_inference_loss_gradient_matches_finite_differences():
    x_s, x_b = _toy_features(jax.random.key(2), 64, True), _toy_features(jax.random.key(3), 64, False)
    std = Standardizer.fit(np.concatenate([x_s, x_b]))
    net = network((8,), 4)
    with jax.enable_x64(True):
        params = jax.tree.map(lambda a: a.astype(jnp.float64), net.init(jax.random.key(4), jnp.zeros((1, 4))))
        lik = jes.likelihood_model(4)
        mean, sd = jnp.asarray(std.mean), jnp.asarray(std.std)

        def loss(p):
            return jes.inference_loss(lambda x: net.apply(p, (x - mean) / sd), x_s, x_b, lik, 0.5)

        loss = jax.jit(loss)
        g = jax.jit(jax.grad(loss))(params)
        direction = jax.tree.map(lambda a: jax.random.normal(jax.random.key(5), a.shape, a.dtype), params)
        eps = 1e-5
        plus = loss(jax.tree.map(lambda a, d: a + eps * d, params, direction))
        minus = loss(jax.tree.map(lambda a, d: a - eps * d, params, direction))
        analytic = sum(jnp.vdot(a, d) for a, d in zip(jax.tree.leaves(g), jax.tree.leaves(direction)))
    assert float(analytic) == pytest.approx(float((plus - minus) / (2 * eps)), rel=1e-4)


def test_batch_loss_rejects_an_unknown_kind():
    std = Standardizer.fit(np.ones((3, 4)), eps=1.0)
    with pytest.raises(DataError, match="kind must be"):
        jes.batch_loss("mse", None, std, np.ones((3, 4)), np.ones((3, 4)), bins=4, batch=2, temperature=0.1)
