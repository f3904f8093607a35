"""OmniFold on Gaussian toys: the unfolded mean moves to the data truth, agrees with IBU binned, identical
samples leave the weights at 1, the vmapped ensemble equals a replica trained alone, and bad weights raise."""

import importlib
import types

import jax
import numpy as np
import pytest

from hepjax.errors import DataError
from hepjax.evaluation import triangular_discriminator
from hepjax.train import TrainConfig
from hepjax.unfolding import bootstrap_ibu, effective_sample_size, omnifold, poisson_bootstrap_weights

# the package exports the function ``omnifold``, which shadows the submodule's attribute name
omnifold_module = importlib.import_module("hepjax.unfolding.omnifold")

CFG = TrainConfig(
    steps=200, batch_size=512, learning_rate=1e-2, optimizer="adam", checkpoint_every=0, log_every=200, progress=False
)
SHIFT, RES, CUT = 0.8, 0.3, -1.5  # data truth mean, Gaussian resolution, reco acceptance (reco > CUT)


def _gaussian_toy(seed=0, n=4000, cut=-np.inf):
    """sim truth N(0, 1), data truth N(SHIFT, 1), reco = truth + N(0, RES); reco < cut is not reconstructed."""
    rng = np.random.default_rng(seed)
    tg = rng.normal(0.0, 1.0, n)
    tr = tg + rng.normal(0.0, RES, n)
    dg = rng.normal(SHIFT, 1.0, n)
    dr = dg + rng.normal(0.0, RES, n)
    pass_sim = tr > cut
    sim_reco = np.where(pass_sim, tr, np.nan)  # the dummy of a missing level may be anything, NaN included
    return tg, tr, sim_reco, pass_sim, dg, dr[dr > cut]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    # full acceptance: 2 iterations (4 classifiers); the acceptance steps are tested on identical samples below
    tg, tr, sim_reco, pass_sim, dg, data_reco = _gaussian_toy()
    res = omnifold(
        tg, sim_reco, data_reco, key=jax.random.PRNGKey(0), train_cfg=CFG, n_iterations=2, hidden=(32, 32),
        sim_pass_reco=pass_sim, workdir=tmp_path_factory.mktemp("omnifold"),
    )  # fmt: skip
    return tg, tr, pass_sim, dg, data_reco, res


# The module's toy trains 4 classifiers through fit (~15 s of CPU on 2 cores, mostly XLA compilation): slow.
@pytest.mark.slow
def test_mean_moves_to_data_truth(toy):
    tg, _, pass_sim, dg, _, res = toy
    assert res.counts == {"both_levels": len(tg), "reco_only": 0, "gen_only": 0, "data": len(dg)}
    unfolded_mean = [np.average(tg, weights=res.push[i, 0]) for i in range(2)]
    # the prior is 0, the truth 0.8: each iteration moves towards it, the second to within 5 %
    assert 0.3 < unfolded_mean[0] < unfolded_mean[1]
    assert unfolded_mean[1] == pytest.approx(dg.mean(), rel=0.05)
    # absolute weights: the reweighted simulation has the data's number of events
    assert res.push[-1, 0].sum() == pytest.approx(len(dg), rel=0.03)
    assert res.pull[-1, 0].sum() == pytest.approx(len(dg), rel=0.03)
    # the effective sample size reported is Kish's, and reweighting costs statistics
    np.testing.assert_allclose(res.ess_push[:, 0], [effective_sample_size(w) for w in res.push[:, 0]])
    assert 0.3 * len(tg) < res.ess_push[-1, 0] < len(tg)
    assert np.all(np.isfinite(res.push)) and res.push.max() <= omnifold_module.MAX_WEIGHT


@pytest.mark.slow
def test_agrees_with_ibu_binned(toy):
    tg, tr, pass_sim, dg, data_reco, res = toy
    edges = np.linspace(-3.0, 3.0, 11)
    b = lambda v: np.clip(np.digitize(v, edges) - 1, 0, len(edges) - 2)  # under/overflow into the end bins
    k = len(edges) - 1
    migrations = np.zeros((k, k))
    np.add.at(migrations, (b(tr[pass_sim]), b(tg[pass_sim])), 1.0)
    n_truth = np.bincount(b(tg), minlength=k).astype(float)
    data = np.bincount(b(data_reco), minlength=k).astype(float)
    ibu = bootstrap_ibu(jax.random.PRNGKey(1), data, migrations, n_truth, prior=n_truth, n_iterations=2, n_replicas=64)
    of = np.bincount(b(tg), weights=res.push[-1, 0], minlength=k)
    truth = np.bincount(b(dg), minlength=k).astype(float)
    d_of_ibu = triangular_discriminator(of, np.asarray(ibu.nominal))
    d_of_truth, d_prior = triangular_discriminator(of, truth), triangular_discriminator(n_truth, truth)
    # the same iterations binned and unbinned: far closer to each other than the prior is to the truth
    assert d_of_ibu < 0.1 * d_prior, (d_of_ibu, d_prior)
    assert d_of_truth < 0.1 * d_prior, (d_of_truth, d_prior)


@pytest.mark.slow  # 4 fit runs: ~12 s of CPU on 2 cores
def test_identical_samples_leave_weights_at_one(tmp_path):
    """Same generator for simulation and data, with inefficiencies and fakes: steps 1, 1b, 2, 2b all run."""
    rng = np.random.default_rng(2)

    def sample(n):  # truth N(0, 1) smeared, reco < CUT lost; plus 5 % fakes: reco-only, flat in [CUT, 3]
        t = rng.normal(0.0, 1.0, n)
        r = t + rng.normal(0.0, RES, n)
        fake = rng.uniform(size=n) < 0.05
        r = np.where(fake, rng.uniform(CUT, 3, n), r)  # a fake is always reconstructed
        return np.where(fake, np.nan, t), np.where(r > CUT, r, np.nan), fake, r > CUT

    tg, tr, fake, reco = sample(3000)
    _, dr, _, data_reco = sample(3000)
    res = omnifold(
        tg, tr, dr[data_reco], key=jax.random.PRNGKey(3), train_cfg=CFG, n_iterations=1, hidden=(32, 32),
        sim_pass_gen=~fake, sim_pass_reco=reco, workdir=tmp_path,
    )  # fmt: skip
    assert res.counts["reco_only"] == int(np.sum(fake & reco)) and res.counts["gen_only"] == int(np.sum(~reco))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["iter1_step1", "iter1_step1b", "iter1_step2", "iter1_step2b"]
    for w in (res.push[0, 0], res.pull[0, 0]):
        assert abs(np.mean(w) - 1.0) < 0.05 and np.std(w) < 0.15, (np.mean(w), np.std(w))
    for sel in (~reco, fake & reco):  # the one-level events too
        assert abs(np.mean(res.push[0, 0][sel]) - 1.0) < 0.15, np.mean(res.push[0, 0][sel])
    assert res.ess_push[0, 0] > 0.95 * len(tg)


@pytest.mark.slow
def test_vmapped_ensemble_equals_a_replica_trained_alone(tmp_path):
    tg, _, sim_reco, pass_sim, _, data_reco = _gaussian_toy(seed=4, n=2000, cut=CUT)
    keys = jax.random.split(jax.random.PRNGKey(5), 2)
    wd = poisson_bootstrap_weights(jax.random.PRNGKey(6), 2, len(data_reco))
    kw = dict(train_cfg=CFG, n_iterations=1, hidden=(16,), sim_pass_reco=pass_sim)
    both = omnifold(tg, sim_reco, data_reco, key=keys, data_weights=wd, n_replicas=2, workdir=tmp_path / "a", **kw)
    alone = omnifold(tg, sim_reco, data_reco, key=keys[1:], data_weights=wd[1:], workdir=tmp_path / "b", **kw)
    np.testing.assert_allclose(both.push[:, 1], alone.push[:, 0], rtol=1e-3, atol=1e-4)
    assert not np.allclose(both.push[:, 0], both.push[:, 1], rtol=1e-2)  # the replicas differ


def test_nan_weights_raise_naming_iteration_and_step(monkeypatch, tmp_path):
    calls = []

    def fake_fit(loss_fn, params, data, cfg, **kw):  # no training: the check after it is what is tested
        calls.append(kw["workdir"].name)
        return types.SimpleNamespace(state=types.SimpleNamespace(params=params))

    real_predict = omnifold_module._predict_logits

    def nan_in_iteration_2_step_1(model, params, xs):
        out = real_predict(model, params, xs)
        if calls[-1] == "iter2_step1":
            out[0, -3] = np.nan
        return out

    monkeypatch.setattr(omnifold_module, "fit", fake_fit)
    monkeypatch.setattr(omnifold_module, "_predict_logits", nan_in_iteration_2_step_1)
    tg, _, sim_reco, pass_sim, _, data_reco = _gaussian_toy(n=500, cut=CUT)
    with pytest.raises(DataError, match=r"iteration 2, step 1 \(reco-level classifier\): 1 NaN/Inf weight"):
        omnifold(tg, sim_reco, data_reco, key=jax.random.key(0), train_cfg=CFG, n_iterations=3,  # a typed key
                 sim_pass_reco=pass_sim, workdir=tmp_path)  # fmt: skip
    assert calls == ["iter1_step1", "iter1_step1b", "iter1_step2", "iter2_step1"]


def test_bad_input(tmp_path):
    tg, tr, sim_reco, pass_sim, _, data_reco = _gaussian_toy(n=200, cut=CUT)
    kw = dict(key=jax.random.PRNGKey(0), train_cfg=CFG, workdir=tmp_path)
    with pytest.raises(DataError, match="sim_reco has 1 event"):
        omnifold(tg, np.where(np.arange(200) == 7, np.nan, tr), data_reco, **kw)
    with pytest.raises(DataError, match="sim_weights must be finite"):
        omnifold(tg, tr, data_reco, sim_weights=np.full(200, -1.0), **kw)
    with pytest.raises(DataError, match="sim_weights must have shape"):
        omnifold(tg, tr, data_reco, sim_weights=np.ones(199), **kw)
    with pytest.raises(DataError, match="pass neither level"):
        omnifold(tg, sim_reco, data_reco, sim_pass_reco=pass_sim, sim_pass_gen=pass_sim, **kw)


def test_generator_weights_reach_both_classifiers(monkeypatch, tmp_path):
    seen = {}

    def fake_fit(loss_fn, params, data, cfg, **kw):  # records each step's training set instead of training
        seen[kw["workdir"].name] = jax.tree.map(np.asarray, data.arrays)
        return types.SimpleNamespace(state=types.SimpleNamespace(params=params))

    monkeypatch.setattr(omnifold_module, "fit", fake_fit)
    tg, tr, _, _, _, data_reco = _gaussian_toy(n=600)
    w0 = np.random.default_rng(1).uniform(0.5, 2.0, len(tg))
    res = omnifold(tg, tr, data_reco, key=jax.random.PRNGKey(0), train_cfg=CFG, n_iterations=1, sim_weights=w0,
                   workdir=tmp_path)  # fmt: skip
    s1, s2 = seen["iter1_step1"], seen["iter1_step2"]
    sim = s1["y"] == 0  # step 1: the simulation class carries w0 (nu_0 = 1), normalised to the class total
    np.testing.assert_allclose(s1["w"][sim, 0] / s1["w"][sim, 0].sum(), w0 / w0.sum(), rtol=1e-5)
    # step 2: label 0 is w0, label 1 is w0 * omega_1, on the same events
    np.testing.assert_allclose(s2["w"][s2["y"] == 0, 0] / s2["w"][s2["y"] == 0, 0].sum(), w0 / w0.sum(), rtol=1e-5)
    pulled = w0 * res.pull[0, 0]
    np.testing.assert_allclose(
        s2["w"][s2["y"] == 1, 0] / s2["w"][s2["y"] == 1, 0].sum(), pulled / pulled.sum(), rtol=1e-4
    )
    np.testing.assert_allclose(res.ess_push[0, 0], effective_sample_size(w0 * res.push[0, 0]))


@pytest.mark.slow
def test_generator_weights_make_the_simulation_the_data(tmp_path):
    """sim truth N(0, 1) with generator weights N(SHIFT, 1) / N(0, 1): it already is the data, nu stays 1."""
    tg, tr, _, _, dg, data_reco = _gaussian_toy(seed=7)
    w0 = np.exp(SHIFT * tg - 0.5 * SHIFT**2)
    res = omnifold(tg, tr, data_reco, key=jax.random.PRNGKey(8), train_cfg=CFG, n_iterations=1, hidden=(32, 32),
                   sim_weights=w0, workdir=tmp_path)  # fmt: skip
    nu = res.push[0, 0]
    assert np.average(nu, weights=w0) == pytest.approx(1.0, abs=0.05)
    assert np.average(tg, weights=w0 * nu) == pytest.approx(dg.mean(), abs=0.05)
    # ignoring w0 (the complaint about other tools) would move the unfolded mean by ~SHIFT / 2 or more
    assert np.average(tg, weights=nu) < dg.mean() - 0.2
