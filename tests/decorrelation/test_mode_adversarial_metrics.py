"""MoDe flatness on a trained toy, gradient reversal, the adversary's likelihood, R50 and JSD."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import norm

from hepjax.decorrelation import (
    adversary_nll,
    efficiency_vs_mass,
    gradient_reversal,
    init_adversary,
    inverse_jsd,
    lambda_schedule,
    mode_loss,
)
from hepjax.evaluation import jensen_shannon, rejection_at_efficiency


def _toy(n, seed):
    """Background: mass m ~ U(0, 1), feature f = m + noise (sculpts); signal: m = 0.5, f shifted."""
    rng = np.random.default_rng(seed)
    nb = n // 2
    m_b = rng.uniform(0, 1, nb)
    f_b = m_b + 0.3 * rng.normal(size=nb)
    g_b = rng.normal(size=nb)
    m_s = 0.5 + 0.05 * rng.normal(size=n - nb)
    f_s = 0.5 + 0.3 * rng.normal(size=n - nb) + 0.4
    g_s = rng.normal(size=n - nb) + 1.5
    x = np.c_[np.r_[f_b, f_s], np.r_[g_b, g_s]].astype(np.float32)
    lab = np.r_[np.zeros(nb), np.ones(n - nb)].astype(np.float32)
    return x, lab, np.r_[m_b, m_s].astype(np.float32)


def _train(lam, x, lab, m, steps=300):
    key = jax.random.PRNGKey(0)
    k1, k2 = jax.random.split(key)
    params = {"w1": jax.random.normal(k1, (2, 16)) * 0.5, "b1": jnp.zeros(16), "w2": jax.random.normal(k2, (16,)) * 0.3}

    def score(p, x):
        return jnp.tanh(x @ p["w1"] + p["b1"]) @ p["w2"]

    def loss(p):
        s = score(p, x)
        bce = jnp.mean(optax.sigmoid_binary_cross_entropy(s, lab))
        return bce + lam * mode_loss(jax.nn.sigmoid(s), m, 1.0 - lab, order=0, bins=10, mass_range=(0.0, 1.0))

    opt = optax.adam(0.03)
    state = opt.init(params)

    @jax.jit
    def step(p, st):
        g = jax.grad(loss)(p)
        u, st = opt.update(g, st)
        return optax.apply_updates(p, u), st

    for _ in range(steps):
        params, state = step(params, state)
    return np.asarray(score(params, x))


def test_mode_flattens_background_efficiency_on_trained_toy():
    x, lab, m = _toy(4000, 0)
    edges = np.linspace(0, 1, 11)
    spreads = {}
    for lam in (0.0, 50.0):
        s = _train(lam, x, lab, m)
        bkg = lab == 0
        cut = np.quantile(s[bkg], 0.7)  # 30% background efficiency
        eff, err = efficiency_vs_mass(s[bkg], m[bkg], None, cut, edges)
        spreads[lam] = (np.std(eff), np.mean(err))
    # undecorrelated: efficiency rises with mass (f ~ m); MoDe: flat within statistical errors
    assert spreads[0.0][0] > 5 * spreads[0.0][1]
    assert spreads[50.0][0] < 2.5 * spreads[50.0][1]
    assert spreads[50.0][0] < 0.3 * spreads[0.0][0]


def test_mode_loss_properties():
    rng = np.random.default_rng(1)
    m = rng.uniform(50, 250, 3000).astype(np.float32)
    flat = rng.uniform(size=3000).astype(np.float32)
    linear = np.clip((m - 50) / 200 + 0.2 * rng.normal(size=3000), 0, 1).astype(np.float32)
    l_flat = float(mode_loss(flat, m, order=0, mass_range=(50.0, 250.0)))
    l_lin0 = float(mode_loss(linear, m, order=0, mass_range=(50.0, 250.0)))
    l_lin1 = float(mode_loss(linear, m, order=1, mass_range=(50.0, 250.0)))
    assert l_flat < 0.05 * l_lin0  # order 0 penalises the mass dependence
    assert l_lin1 < 0.2 * l_lin0  # order 1 absorbs the (mostly linear) trend; the smeared edges are not linear
    g = jax.grad(lambda s: mode_loss(s, m, order=2))(jnp.asarray(linear))
    assert np.all(np.isfinite(g)) and float(jnp.abs(g).sum()) > 0
    with pytest.raises(ValueError, match="order"):
        mode_loss(flat, m, order=3)
    with pytest.raises(ValueError, match="same length"):
        mode_loss(flat, m[:-1])


def test_gradient_reversal_and_schedule():
    f = lambda x, lam: jnp.sum(gradient_reversal(x, lam) ** 2)
    x = jnp.array([1.0, -2.0])
    assert float(f(x, 0.5)) == 5.0
    np.testing.assert_allclose(jax.grad(f)(x, 0.5), -0.5 * 2 * x)
    assert float(lambda_schedule(0, 3.0, 100)) == 0.0
    assert float(lambda_schedule(100, 3.0, 100)) == pytest.approx(3.0 * (2 / (1 + np.exp(-10)) - 1))


def test_adversary_nll_matches_scipy_for_one_component():
    adv = init_adversary(jax.random.PRNGKey(0), n_components=1, hidden=8)
    from hepjax.decorrelation import adversary_mixture

    inp = jnp.linspace(-1, 1, 7)
    t = jnp.linspace(-2, 2, 7)
    _, mu, sig = adversary_mixture(adv, inp)
    ref = -np.mean(norm.logpdf(np.asarray(t), np.asarray(mu[:, 0]), np.asarray(sig[:, 0])))
    assert float(adversary_nll(adv, inp, t)) == pytest.approx(ref, rel=1e-5)


def test_r50_and_jsd():
    rng = np.random.default_rng(2)
    s_sig = rng.uniform(0.5, 1.0, 1000)  # cut at 0.75
    s_bkg = np.r_[np.full(900, 0.1), np.full(100, 0.9)]  # 10% of background above the cut
    scores, labels = np.r_[s_sig, s_bkg], np.r_[np.ones(1000), np.zeros(1000)]
    assert rejection_at_efficiency(scores, labels) == pytest.approx(10.0)
    p, q = np.array([1.0, 2.0, 3.0, 0.0]), np.array([0.5, 0.5, 1.0, 2.0])
    assert jensen_shannon(p, q) == pytest.approx(jensenshannon(p, q, base=2) ** 2, rel=1e-12)
    assert jensen_shannon(p, p) == 0.0
    m_bkg = rng.uniform(50, 250, 1000)
    ij = inverse_jsd(s_sig, rng.uniform(size=1000), m_bkg, edges=np.linspace(50, 250, 21))
    assert ij > 10  # random scores: passing and failing masses agree up to statistics
    sculpt = (m_bkg - 50) / 200  # score = mass: maximal sculpting
    assert inverse_jsd(s_sig, sculpt, m_bkg, edges=np.linspace(50, 250, 21)) < 2
