"""A flow fitted to a known density reaches its true held-out log-likelihood; shapes; bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import logsumexp

from hepjax.flows import fit_flow, logit, make_flow, mean_log_prob, standardize
from hepjax.train import TrainConfig

MEANS = np.array([[-1.5, 0.0], [1.5, 0.5]])
SIGMA = 0.5


def _mixture(n, seed):
    rng = np.random.default_rng(seed)
    comp = rng.integers(0, 2, n)
    return (MEANS[comp] + SIGMA * rng.normal(size=(n, 2))).astype(np.float32)


def _mixture_logpdf(x):
    d = x[:, None, :] - MEANS[None]
    lp = -0.5 * np.sum(d**2, -1) / SIGMA**2 - np.log(2 * np.pi * SIGMA**2) + np.log(0.5)
    return logsumexp(lp, axis=1)


def test_gaussian_mixture_fit_reaches_true_likelihood(tmp_path):
    x, x_val = _mixture(8192, 0), _mixture(4096, 1)
    flow = make_flow(2, layers=4, kind="rqs", hidden=(32, 32), preprocess=(standardize(x.mean(0), x.std(0)),))
    cfg = TrainConfig(steps=500, batch_size=256, learning_rate=5e-3, checkpoint_every=0, log_every=100, progress=False)
    res = fit_flow(flow, x, None, cfg, workdir=tmp_path, key=jax.random.PRNGKey(0), x_val=x_val)
    ll_flow = mean_log_prob(flow, res.state.params, x_val)
    ll_true = float(np.mean(_mixture_logpdf(x_val.astype(np.float64))))
    ll_gauss = float(np.mean(jax.scipy.stats.multivariate_normal.logpdf(x_val, x.mean(0), np.cov(x.T))))
    assert ll_flow > ll_gauss + 0.2  # the flow learned the two modes, not just the covariance
    assert abs(ll_flow - ll_true) < 0.05, (ll_flow, ll_true)
    assert res.compilations == 1


def test_conditional_samples_follow_context(tmp_path):
    rng = np.random.default_rng(0)
    c = rng.uniform(-2, 2, size=(8192, 1)).astype(np.float32)
    x = np.concatenate([c + 0.1 * rng.normal(size=c.shape), -c + 0.1 * rng.normal(size=c.shape)], 1).astype(np.float32)
    flow = make_flow(2, context_dim=1, layers=3, kind="affine", hidden=(32, 32))
    cfg = TrainConfig(steps=400, batch_size=256, learning_rate=3e-3, checkpoint_every=0, log_every=100, progress=False)
    params = fit_flow(flow, x, c, cfg, workdir=tmp_path, key=jax.random.PRNGKey(1)).state.params
    sample = jax.jit(flow.sample, static_argnums=3)
    for value in (-1.0, 1.5):
        s = np.asarray(sample(params, jax.random.PRNGKey(2), jnp.array([value]), 2000))
        assert s.shape == (2000, 2)
        np.testing.assert_allclose(s.mean(0), [value, -value], atol=0.05)
        assert 0.07 < s[:, 0].std() < 0.14
    per_row = sample(params, jax.random.PRNGKey(3), jnp.linspace(-1, 1, 50)[:, None], 50)
    assert per_row.shape == (50, 2)
    np.testing.assert_allclose(per_row[:, 0], np.linspace(-1, 1, 50), atol=0.5)


def test_logit_preprocessing_keeps_samples_in_unit_interval():
    flow = make_flow(3, layers=2, preprocess=(logit(1e-4),))
    params = flow.init(jax.random.PRNGKey(0))
    s = jax.jit(flow.sample, static_argnums=3)(params, jax.random.PRNGKey(1), None, 500)
    assert s.shape == (500, 3) and bool(jnp.all((s > 0) & (s < 1)))


def test_bad_input_gives_clear_errors():
    flow = make_flow(3, context_dim=2, layers=2, hidden=(8,))
    params = flow.init(jax.random.PRNGKey(0))
    x = jnp.zeros((4, 3))
    with pytest.raises(ValueError, match=r"context must have shape \[\.\.\., 2\]"):
        flow.log_prob(params, x, jnp.zeros((4, 3)))
    with pytest.raises(ValueError, match="needs a context"):
        flow.log_prob(params, x, None)
    with pytest.raises(ValueError, match="NaN"):
        flow.log_prob(params, x.at[1, 2].set(jnp.nan), jnp.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        flow.sample(params, jax.random.PRNGKey(0), jnp.array([0.0, jnp.nan]), 3)
    with pytest.raises(ValueError, match="x must have shape"):
        flow.log_prob(params, jnp.zeros((4, 5)), jnp.zeros((4, 2)))
    with pytest.raises(ValueError, match="rows but n = 5"):
        flow.sample(params, jax.random.PRNGKey(0), jnp.zeros((4, 2)), 5)
    with pytest.raises(ValueError, match="unconditional"):
        make_flow(3, layers=1).log_prob(make_flow(3, layers=1).init(jax.random.PRNGKey(0)), x, jnp.zeros((4, 2)))
    with pytest.raises(ValueError, match="kind"):
        make_flow(3, kind="glow")
    with pytest.raises(ValueError, match="NaN"):
        fit_flow(
            flow,
            np.full((8, 3), np.nan),
            np.zeros((8, 2)),
            TrainConfig(steps=1, batch_size=4),
            workdir="/tmp/unused",
            key=jax.random.PRNGKey(0),
        )


def test_data_closed_over_in_jit_is_checked_not_traced():
    """Concrete data captured by a jitted loss is checked with NumPy (a jnp check there would be traced)."""
    flow = make_flow(3, context_dim=2, layers=2, hidden=(8,))
    params = flow.init(jax.random.PRNGKey(0))
    x, c = jnp.full((4, 3), 0.3), jnp.zeros((4, 2))
    loss, grads = jax.jit(jax.value_and_grad(lambda p: -flow.log_prob(p, x, c).mean()))(params)
    assert np.isfinite(loss) and all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))
    x_bad = x.at[0, 0].set(jnp.nan)
    with pytest.raises(ValueError, match="NaN"):
        jax.jit(lambda p: flow.log_prob(p, x_bad, c))(params)


def test_augment_makes_the_fit_symmetric(tmp_path):
    # Data with one mode at (+1.5, -1.5): trained through an augmentation that swaps the two
    # coordinates of a random half of each batch, the flow must learn both mirror modes equally.
    rng = np.random.default_rng(0)
    x = (np.array([1.5, -1.5]) + 0.3 * rng.normal(size=(4096, 2))).astype(np.float32)

    def swap(key, xb):
        flip = jax.random.bernoulli(key, 0.5, (xb.shape[0], 1))
        return jnp.where(flip, xb[:, ::-1], xb)

    flow = make_flow(2, layers=4, kind="rqs", hidden=(32, 32))
    cfg = TrainConfig(steps=600, batch_size=256, learning_rate=5e-3, checkpoint_every=0, log_every=100, progress=False)
    p_aug = fit_flow(flow, x, None, cfg, workdir=tmp_path / "aug", key=jax.random.PRNGKey(0), augment=swap).state.params
    p_raw = fit_flow(flow, x, None, cfg, workdir=tmp_path / "raw", key=jax.random.PRNGKey(0)).state.params
    mode, mirror = jnp.array([[1.5, -1.5]]), jnp.array([[-1.5, 1.5]])
    lp = lambda p, z: float(flow.log_prob(p, z)[0])
    assert abs(lp(p_aug, mode) - lp(p_aug, mirror)) < 0.5  # both modes, equal weight
    true_peak = np.log(0.5 / (2 * np.pi * 0.3**2))  # half the mass in each mode
    assert abs(lp(p_aug, mode) - true_peak) < 0.5
    assert lp(p_raw, mode) - lp(p_raw, mirror) > 5.0  # without it, the mirror mode is absent


def test_weights_equal_duplicated_events(tmp_path):
    # full-batch SGD: integer weights give the same loss and step as repeating the events that many times
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype(np.float32)
    c = rng.normal(size=(64, 1)).astype(np.float32)
    w = rng.integers(1, 4, 64)
    flow = make_flow(2, context_dim=1, layers=2, kind="affine", hidden=(8,))
    p0 = flow.init(jax.random.PRNGKey(1))
    p0 = jax.tree.map(lambda a: a + 0.1 * jax.random.normal(jax.random.PRNGKey(2), a.shape), p0)  # not the identity

    def run(xs, cs, n, weights, sub):
        cfg = TrainConfig(steps=1, batch_size=n, optimizer="sgd", learning_rate=0.1, schedule="constant",
                          checkpoint_every=0, log_every=1, progress=False)  # fmt: skip
        res = fit_flow(flow, xs, cs, cfg, workdir=tmp_path / sub, key=jax.random.PRNGKey(0), params=p0, weights=weights)
        return res.state.params, res.history[0]["nll"]

    pw, nll_w = run(x, c, 64, w.astype(np.float32), "weighted")
    pd, nll_d = run(np.repeat(x, w, 0), np.repeat(c, w, 0), int(w.sum()), None, "duplicated")
    assert nll_w == pytest.approx(nll_d, rel=1e-5)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6), pw, pd)
    with pytest.raises(ValueError, match="weights must be"):
        run(x, c, 64, -np.ones(64), "bad")
