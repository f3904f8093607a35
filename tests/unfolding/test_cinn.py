"""cINN and iterative cINN on Gaussian toys: the posterior matches the analytic one, the rank calibration is
uniform (and flags mis-specified posteriors), the iterated unfolding removes the prior's bias, the truth
weights are checked, clipped and counted, and bad input raises naming the array."""

import importlib
import types

import jax
import numpy as np
import pytest

from hepjax.errors import ConfigError, DataError
from hepjax.evaluation import triangular_discriminator
from hepjax.flows import FlowConfig
from hepjax.train import NonFiniteError, TrainConfig
from hepjax.unfolding import (
    cinn,
    cinn_ensemble,
    effective_sample_size,
    iterative_cinn,
    poisson_bootstrap_weights,
    rank_calibration,
    unfolded_chi2,
)

# the package exports the function ``cinn``, which shadows the submodule's attribute name
cinn_module = importlib.import_module("hepjax.unfolding.cinn")

MU, SIGMA, SMEAR = 1.0, 1.0, 0.5  # truth ~ N(MU, SIGMA), reco = truth + N(0, SMEAR)
POST_SD = np.sqrt(SIGMA**2 * SMEAR**2 / (SIGMA**2 + SMEAR**2))
FLOW = FlowConfig(kind="rqs", layers=2, hidden=(32, 32), num_bins=8)
CFG = TrainConfig(
    steps=400, batch_size=512, learning_rate=3e-3, optimizer="adam", checkpoint_every=0, log_every=100, progress=False
)


def _post_mean(reco, mu=MU, sigma=SIGMA, s=SMEAR):
    return (mu * s**2 + reco * sigma**2) / (sigma**2 + s**2)


def _toy(n, seed, mu=MU, sigma=SIGMA, s=SMEAR):
    rng = np.random.default_rng(seed)
    t = rng.normal(mu, sigma, n)
    return t, t + rng.normal(0.0, s, n)


GRID = np.array([-1.0, 0.0, 1.0, 2.0, 3.0])  # reco values at which the posterior is compared


@pytest.fixture(scope="module")
def toy_cinn(tmp_path_factory):
    t, x = _toy(8000, 0)
    # ~13 s on 2 busy cores, mostly the compilation of fit's step and of the sampler
    return cinn(t, x, GRID, key=jax.random.PRNGKey(0), train_cfg=CFG, flow_cfg=FLOW, n_samples=4000,
                workdir=tmp_path_factory.mktemp("cinn"))  # fmt: skip


def test_posterior_matches_analytic_gaussian(toy_cinn):
    r = toy_cinn
    assert r.samples.shape == (len(GRID), 4000, 1)
    assert r.unfolded.shape == (len(GRID) * 4000, 1) and r.unfolded_weights.sum() == pytest.approx(len(GRID))
    np.testing.assert_array_equal(r.unfolded[:4000], r.samples[0])  # pooled event-major
    mean, sd = r.samples[..., 0].mean(1), r.samples[..., 0].std(1)
    # analytic posterior: mean (mu s^2 + x sigma^2) / (sigma^2 + s^2) in [-0.6, 2.6], sd 0.447. A cINN that
    # ignored the reco would give the prior (mean 1, sd 1): off by up to 1.6 in the mean and x2.2 in the width
    np.testing.assert_allclose(mean, _post_mean(GRID), atol=0.06)
    np.testing.assert_allclose(sd / POST_SD, 1.0, atol=0.08)
    # the loss history is fit's log: (step, nll), falling towards the true conditional entropy
    assert r.loss.shape[1] == 2 and r.loss[-1, 0] == CFG.steps
    h_true = 0.5 * np.log(2 * np.pi * np.e * POST_SD**2)  # 0.614 nats (+ 1.419 for the auxiliary N(0, 1))
    assert r.loss[-1, 1] == pytest.approx(h_true + 0.5 * np.log(2 * np.pi * np.e), abs=0.12)


def test_rank_calibration_uniform_and_flags_misspecified(toy_cinn):
    t, x = _toy(2000, 1)
    cal = rank_calibration(toy_cinn.model.sample(jax.random.PRNGKey(2), x, 99), t)
    assert cal.ranks.shape == (2000, 1) and cal.ranks.min() >= 0 and cal.ranks.max() <= 99
    assert cal.pvalue[0] > 0.01, cal
    # the analytic posterior passes; widths scaled by 0.7 or 1.4, or a mean shifted by 0.2 sd, fail
    rng = np.random.default_rng(3)
    z = rng.normal(size=(2000, 99))
    m = _post_mean(x)[:, None]
    assert rank_calibration(m + POST_SD * z, t).pvalue[0] > 0.01
    for scale, shift in ((0.7, 0.0), (1.4, 0.0), (1.0, 0.2)):
        p = rank_calibration(m + POST_SD * (scale * z + shift), t).pvalue[0]
        assert p < 1e-3, (scale, shift, p)
    # calibration is necessary, not sufficient: the prior itself (a posterior ignoring the reco) is calibrated
    assert rank_calibration(MU + SIGMA * z, t).pvalue[0] > 0.01


def test_rank_calibration_counts_by_hand():
    samples = np.array([[0.0, 1.0, 2.0, 3.0], [5.0, 6.0, 7.0, 8.0]])  # [n=2, S=4]
    cal = rank_calibration(samples, np.array([2.5, 4.0]))
    np.testing.assert_array_equal(cal.ranks[:, 0], [3, 0])
    two_d = rank_calibration(np.stack([samples, -samples], -1), np.array([[2.5, -2.5], [4.0, -4.0]]))
    np.testing.assert_array_equal(two_d.ranks, [[3, 1], [0, 4]])
    with pytest.raises(DataError, match="truth"):
        rank_calibration(samples, np.zeros(3))
    with pytest.raises(DataError, match="samples holds 1 NaN"):
        rank_calibration(np.where(samples == 6.0, np.nan, samples), np.zeros(2))


def test_bad_input(tmp_path):
    t, x = _toy(100, 0)
    kw = dict(key=jax.random.PRNGKey(0), train_cfg=CFG, workdir=tmp_path)
    with pytest.raises(DataError, match="sim_reco has 99 events, expected 100"):
        cinn(t, x[:99], x, **kw)
    with pytest.raises(DataError, match="sim_truth has 1 event.*NaN/Inf.*event 7"):
        cinn(np.where(np.arange(100) == 7, np.nan, t), x, x, **kw)
    with pytest.raises(DataError, match="data_reco has 1 event.*NaN/Inf"):
        cinn(t, x, np.append(x, np.inf), **kw)
    with pytest.raises(DataError, match="data_reco has 2 features, sim_reco 1"):
        cinn(t, x, np.stack([x, x], 1), **kw)
    with pytest.raises(DataError, match=r"sim_weights must be finite and > 0; 1 are not \(first: event 3: 0.0\)"):
        cinn(t, x, x, sim_weights=np.where(np.arange(100) == 3, 0.0, 1.0), **kw)
    with pytest.raises(DataError, match="data_weights must be finite and > 0"):
        iterative_cinn(t, x, x, data_weights=-np.ones(100), **kw)
    with pytest.raises(DataError, match=r"sim_weights must have shape \(100,\)"):
        cinn(t, x, x, sim_weights=np.ones(99), **kw)
    with pytest.raises(ConfigError, match="n_iterations"):
        iterative_cinn(t, x, x, n_iterations=0, **kw)


# two fits (~9 s each on 2 busy cores, mostly the compilation of the vmapped step): ~30 s, slow
@pytest.mark.slow
def test_vmapped_ensemble_equals_replicas_trained_alone(tmp_path):
    t, x = _toy(2000, 5)
    wr = poisson_bootstrap_weights(jax.random.PRNGKey(7), 2, 2000)
    keys = jax.random.split(jax.random.PRNGKey(8), 2)
    cfg = TrainConfig(steps=60, batch_size=256, learning_rate=3e-3, optimizer="adam", checkpoint_every=0,
                      log_every=20, progress=False)  # fmt: skip
    kw = dict(key=jax.random.PRNGKey(9), train_cfg=cfg, flow_cfg=FLOW, n_samples=8)
    both = cinn_ensemble(t, x, GRID, replica_weights=wr, replica_keys=keys, workdir=tmp_path / "both", **kw)
    assert both.samples.shape == (2, len(GRID), 8, 1) and both.loss[-1, 0] == 60
    # replica 1 (Poisson weights, its own key) trained alone: the same network and the same posterior samples
    alone = cinn_ensemble(t, x, GRID, replica_weights=wr[1:], replica_keys=keys[1:], workdir=tmp_path / "alone", **kw)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a[1], b[0], rtol=1e-3, atol=1e-5), both.params, alone.params)
    np.testing.assert_allclose(both.samples[1], alone.samples[0], rtol=1e-3, atol=1e-4)
    # the replicas differ (weights and initialisation), and training moved them from the identity
    assert not np.allclose(both.samples[0], both.samples[1], atol=1e-2)
    with pytest.raises(DataError, match="replica_weights must be"):
        cinn_ensemble(t, x, GRID, replica_weights=np.ones(2000), workdir=tmp_path / "bad", **kw)


def _fake_training(monkeypatch, logits_of_iteration):
    """No training: the flow keeps its initial parameters, the classifier returns the logits given."""
    calls = []

    def fake_train(flow, t, xc, w, train_cfg, workdir, key, params, what):
        calls.append(("flow", workdir.parent.name, np.array(w)))
        p = flow.init(key) if params is None else params
        return types.SimpleNamespace(state=types.SimpleNamespace(params=p), history=[])

    def fake_classifier(model, feats, idx0, idx1, w0, w1, *, iteration, **kw):
        calls.append(("classifier", iteration, len(idx0), len(idx1), np.array(w0), np.array(w1)))
        return logits_of_iteration(iteration, len(feats))[None]

    monkeypatch.setattr(cinn_module, "_train", fake_train)
    monkeypatch.setattr(cinn_module, "_train_classifier", fake_classifier)
    return calls


def test_truth_weights_clipped_counted_and_ess(monkeypatch, tmp_path):
    n = 300
    t, x = _toy(n, 0)
    w0 = np.linspace(0.5, 1.5, n)
    wd = np.full(150, 2.0)
    # iteration 1: odds 2 for every event but event 0 (odds e^5 > max_weight 20); iteration 2: odds 1
    logits = lambda it, m: np.where(np.arange(m) == 0, 5.0, np.log(2.0)) if it == 1 else np.zeros(m)
    calls = _fake_training(monkeypatch, logits)
    res = iterative_cinn(t, x, x[:150], key=jax.random.PRNGKey(0), train_cfg=CFG, workdir=tmp_path, n_iterations=2,
                         sim_weights=w0, data_weights=wd, n_samples=4, flow_cfg=FLOW, max_weight=20.0)  # fmt: skip
    expected = np.stack([np.ones(n), np.where(np.arange(n) == 0, 20.0, 2.0), np.ones(n)])
    np.testing.assert_allclose(res.weights, expected, rtol=1e-6)
    np.testing.assert_array_equal(res.n_clipped, [0, 1, 0])
    np.testing.assert_allclose(res.ess, [effective_sample_size(w0 * w) for w in expected])
    assert len(res.iterations) == 3 and res.final is res.iterations[-1]
    # each cINN trained on w0 nu_n; each classifier: simulation (w0) vs ceil(300 / 150) = 2 samples per data event
    flows = [c for c in calls if c[0] == "flow"]
    assert [c[1] for c in flows] == ["iter0", "iter1", "iter2"]
    for c, w in zip(flows, expected):
        np.testing.assert_allclose(c[2], w0 * w, rtol=1e-6)
    cls = [c for c in calls if c[0] == "classifier"]
    assert [(c[1], c[2], c[3]) for c in cls] == [(1, n, 300), (2, n, 300)]
    np.testing.assert_allclose(cls[0][4][0], w0)
    np.testing.assert_allclose(cls[0][5][0], np.full(300, 1.0))  # w_data / 2 samples
    assert res.final.unfolded_weights.sum() == pytest.approx(wd.sum())


def test_nan_classifier_weights_raise_naming_iteration(monkeypatch, tmp_path):
    t, x = _toy(200, 0)
    logits = lambda it, m: np.where(np.arange(m) == 17, np.nan, 0.0) if it == 2 else np.zeros(m)
    calls = _fake_training(monkeypatch, logits)
    with pytest.raises(DataError, match=r"iterative_cinn iteration 2 \(truth-level classifier\): 1 NaN/Inf weight"):
        iterative_cinn(t, x, x, key=jax.random.PRNGKey(0), train_cfg=CFG, workdir=tmp_path, n_iterations=3,
                       n_samples=2, flow_cfg=FLOW)  # fmt: skip
    assert [c[:2] for c in calls] == [("flow", "iter0"), ("classifier", 1), ("flow", "iter1"), ("classifier", 2)]


def test_diverging_flow_training_raises_naming_the_iteration(monkeypatch, tmp_path):
    def diverging(flow, t, xc, cfg, *, workdir, **kw):
        if workdir.parent.name == "iter1":
            raise NonFiniteError("non-finite loss at step 3")
        return types.SimpleNamespace(state=types.SimpleNamespace(params=flow.init(kw["key"])), history=[])

    monkeypatch.setattr(cinn_module, "fit_flow", diverging)
    monkeypatch.setattr(cinn_module, "_train_classifier", lambda *a, **kw: np.zeros((1, len(a[1]))))
    t, x = _toy(200, 0)
    with pytest.raises(DataError, match="iterative_cinn iteration 1: the flow's training diverged: non-finite loss"):
        iterative_cinn(t, x, x, key=jax.random.PRNGKey(0), train_cfg=CFG, workdir=tmp_path, n_iterations=2,
                       n_samples=2, flow_cfg=FLOW)  # fmt: skip


@pytest.mark.slow
def test_generator_weights_set_the_prior(tmp_path):
    # simulation truth N(0, 1) weighted by exp(0.8 t - 0.32) is N(0.8, 1): the posterior must carry that prior
    t, x = _toy(8000, 4, mu=0.0)
    w = np.exp(0.8 * t - 0.32)
    r = cinn(t, x, GRID, key=jax.random.PRNGKey(1), train_cfg=CFG, flow_cfg=FLOW, sim_weights=w, n_samples=4000,
             workdir=tmp_path)  # fmt: skip
    # at reco = 3 the weighted simulation is sparse (weights e^{0.8 t}: ESS ~ n / 2); compare up to reco = 2.
    # Ignoring the weights would shift every posterior mean by -0.16
    np.testing.assert_allclose(r.samples[:4, :, 0].mean(1), _post_mean(GRID[:4], mu=0.8), atol=0.06)


@pytest.mark.slow
def test_iterative_cinn_removes_the_prior_bias(tmp_path):
    # wide smearing (s = 0.8): the plain cINN's unfolded mean is pulled 39 % of the way to the prior's (0)
    s, shift, n = 0.8, 1.0, 8000
    t_sim, x_sim = _toy(n, 10, mu=0.0, s=s)
    t_dat, x_dat = _toy(n, 11, mu=shift, s=s)  # N(0, 1) reweighted by exp(shift t - shift^2 / 2)
    cls_cfg = TrainConfig(steps=300, batch_size=512, learning_rate=3e-3, optimizer="adam", checkpoint_every=0,
                          log_every=100, progress=False)  # fmt: skip
    res = iterative_cinn(t_sim, x_sim, x_dat, key=jax.random.PRNGKey(0), train_cfg=CFG, workdir=tmp_path,
                         n_iterations=3, n_samples=4, flow_cfg=FLOW, classifier_cfg=cls_cfg, hidden=(32, 32))  # fmt: skip
    edges = np.linspace(-3.0, 4.0, 15)
    truth = np.histogram(t_dat, edges)[0].astype(float)

    def figures(r):
        h = np.histogram(r.unfolded[:, 0], edges, weights=r.unfolded_weights)[0]
        # the data's Poisson uncertainty of the unfolded counts and the truth's (no bootstrap here)
        c = unfolded_chi2(h, truth, np.sqrt(h), sigma_truth=np.sqrt(truth))
        return (
            np.average(r.unfolded[:, 0], weights=r.unfolded_weights),
            c.chi2 / c.ndf,
            triangular_discriminator(h, truth),
        )

    (m0, c0, d0), (m3, c3, d3) = figures(res.iterations[0]), figures(res.final)
    print("mean, chi2/ndf, delta per iteration:", [figures(r) for r in res.iterations], "ess", res.ess)
    assert m0 < shift - 0.25  # the plain cINN stays biased to the prior
    assert abs(m3 - shift) < 0.1 and abs(m3 - shift) < 0.4 * abs(m0 - shift)
    assert c3 < 0.3 * c0 and d3 < 0.3 * d0
    assert res.n_clipped.sum() == 0 and 0.3 * n < res.ess[-1] < n


def test_two_observables_at_once_match_analytic_posterior(tmp_path):
    # truth ~ N(m, P) in 2 dimensions (correlated), reco = truth + N(0, R): posterior N(C (P^-1 m + R^-1 x), C),
    # C = (P^-1 + R^-1)^-1. The coupling flow runs on both observables at once (no auxiliary coordinate)
    m, p_cov, r_cov = np.array([0.0, 1.0]), np.array([[1.0, 0.6], [0.6, 1.0]]), np.diag([0.5**2, 0.7**2])
    rng = np.random.default_rng(6)
    t = rng.multivariate_normal(m, p_cov, 8000)
    x = t + rng.multivariate_normal(np.zeros(2), r_cov, 8000)
    reco = np.array([[-1.0, 0.0], [0.5, 1.5], [1.5, 2.5]])
    r = cinn(t, x, reco, key=jax.random.PRNGKey(3), train_cfg=CFG, flow_cfg=FLOW, n_samples=4000, workdir=tmp_path)
    assert r.samples.shape == (3, 4000, 2) and r.unfolded.shape == (12000, 2)
    c = np.linalg.inv(np.linalg.inv(p_cov) + np.linalg.inv(r_cov))  # sd (0.43, 0.54), correlation 0.21
    mean = (c @ ((np.linalg.inv(p_cov) @ m)[:, None] + np.linalg.inv(r_cov) @ reco.T)).T
    np.testing.assert_allclose(r.samples.mean(1), mean, atol=0.07)
    for j in range(3):
        cov = np.cov(r.samples[j].T)
        np.testing.assert_allclose(np.sqrt(np.diag(cov)) / np.sqrt(np.diag(c)), 1.0, atol=0.1)
        corr = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
        assert corr == pytest.approx(c[0, 1] / np.sqrt(c[0, 0] * c[1, 1]), abs=0.1)


@pytest.mark.slow
def test_maf_cinn_sees_the_reco(tmp_path):
    # a MAF conditioner once ignored the context in its first coordinate (the posterior was the prior)
    t, x = _toy(8000, 0)
    maf = FlowConfig(kind="maf", layers=2, hidden=(32, 32))
    r = cinn(t, x, GRID, key=jax.random.PRNGKey(0), train_cfg=CFG, flow_cfg=maf, n_samples=4000, workdir=tmp_path)
    np.testing.assert_allclose(r.samples[..., 0].mean(1), _post_mean(GRID), atol=0.08)
    np.testing.assert_allclose(r.samples[..., 0].std(1) / POST_SD, 1.0, atol=0.12)
