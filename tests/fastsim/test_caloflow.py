"""CaloFlow pieces: the layer-energy encoding inverts; a tiny model samples showers of the right
shape and energy; bad energies are caught; the experiment runs end to end on a tiny config."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.fastsim import (
    N_VOXELS,
    CaloFlowConfig,
    build_caloflow,
    decode_layers,
    encode_layers,
    layer_energies,
    make_sampler,
    simulate_showers,
)
from hepjax.fastsim.caloflow import dequantise, normalised_voxels, threshold_layer
from hepjax.fastsim.geometry import layer_slices
from hepjax.flows import FlowConfig


def test_layer_encoding_round_trip():
    rng = np.random.default_rng(0)
    e_inc = rng.uniform(1, 100, 50)
    e_layers = rng.uniform(0, 1, (50, 5)) * e_inc[:, None] / 5
    e_layers[:5, 4] = 0.0  # empty tail layers are common at low energy
    u = encode_layers(e_layers, e_inc)
    assert u.shape == (50, 5) and np.all((u >= 0) & (u <= 1))
    np.testing.assert_allclose(decode_layers(jnp.asarray(u), jnp.asarray(e_inc)), e_layers, rtol=1e-4, atol=1e-5)


def test_threshold_inverts_the_dequantisation():
    # Cascade voxels are 0 or >= 3.83 MeV (one plane crossing); dequantised empty voxels lie
    # below the threshold, so thresholding the normalised voxels with the true layer energies
    # gives back the cascade's voxels (to the float32 round-off of the normalised voxels).
    showers = simulate_showers(np.array([1.0, 3.0, 20.0]), seed=4)
    v = showers.voxels.astype(np.float64)
    assert v[v > 0].min() >= 3.8e-3
    cfg = CaloFlowConfig()
    x = normalised_voxels(v, cfg.noise, np.random.default_rng(0)).astype(np.float64)
    with jax.enable_x64(True):
        for s, e in zip(layer_slices(), layer_energies(v).T):
            back = np.asarray(threshold_layer(jnp.asarray(x[:, s]), jnp.asarray(e), cfg.threshold))
            np.testing.assert_allclose(back, v[:, s], rtol=1e-6, atol=1e-12)  # x is float32


def test_threshold_layer_keeps_energy_and_threshold():
    rng = np.random.default_rng(1)
    x = rng.exponential(1.0, (200, 30)) ** 3
    e = np.exp(rng.uniform(np.log(1e-3), np.log(2.0), 200))
    thr = 3.7e-3
    out = np.asarray(threshold_layer(jnp.asarray(x), jnp.asarray(e), thr))
    big = e >= thr
    np.testing.assert_allclose(out[big].sum(1), e[big], rtol=1e-5)  # every layer keeps its energy
    assert np.all(out[~big] == 0.0)  # a layer below threshold is empty
    assert np.all((out == 0) | (out >= thr * (1 - 1e-5)))  # no voxel below threshold
    # Kept voxels are the largest ones of their layer, in the same proportions.
    kept = out > 0
    assert np.all(np.where(kept, x, np.inf).min(1) >= np.where(kept, -np.inf, x).max(1))
    # Dequantisation only touches empty entries.
    d = dequantise(np.array([0.0, 0.5, 0.0]), 1e-3, rng)
    assert d[1] == 0.5 and 0 <= d[0] < 1e-3 and 0 <= d[2] < 1e-3


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    energies = np.exp(np.random.default_rng(1).uniform(np.log(1.0), np.log(4.0), 64))
    showers = simulate_showers(energies, seed=2)
    tiny = FlowConfig(kind="affine", layers=1, hidden=(8,))
    model, arrays = build_caloflow(energies, showers.voxels, CaloFlowConfig(), tiny, tiny, seed=0)
    assert arrays["x2"].shape == (64, N_VOXELS) and np.all((arrays["x2"] > 0) & (arrays["x2"] < 1))
    # Untrained (identity-initialised) flows: training itself is covered by the slow end-to-end test.
    p1, p2 = model.flow1.init(jax.random.PRNGKey(0)), model.flow2.init(jax.random.PRNGKey(1))
    return model, p1, p2, energies, showers, {}


def test_sampler_shapes_and_energies(tiny_model):
    model, p1, p2, energies, showers, info = tiny_model
    sample = make_sampler(model)
    e = np.array([1.5, 2.0, 3.5])
    v = sample(p1, p2, jax.random.PRNGKey(0), e)
    assert v.shape == (3, N_VOXELS) and np.all(np.isfinite(v)) and np.all(v >= 0)
    # Layer sums equal flow 1's layer energies: total below U_SCALE * incident.
    assert np.all(layer_energies(v).sum(1) <= 1.5 * e + 1e-4)
    # Same key -> same showers; a second call with the same batch shape does not recompile.
    np.testing.assert_array_equal(v, sample(p1, p2, jax.random.PRNGKey(0), e))
    assert sample.jitted._cache_size() == 1


def test_sampler_bad_energies(tiny_model):
    model, p1, p2, *_ = tiny_model
    sample = make_sampler(model)
    with pytest.warns(UserWarning, match="outside"):
        sample(p1, p2, jax.random.PRNGKey(0), np.array([2.0, 50.0]))
    with pytest.raises(ValueError, match="finite and > 0"):
        sample(p1, p2, jax.random.PRNGKey(0), np.array([2.0, -1.0]))
    with pytest.raises(ValueError, match="finite and > 0"):
        sample(p1, p2, jax.random.PRNGKey(0), np.array([np.nan]))


@pytest.mark.slow
def test_experiment_runs_end_to_end(tmp_path):
    from hepjax.runner import run

    out = run(
        "configs/calo_fastsim.yaml",
        [
            f"output_dir={tmp_path}",
            "data.n_showers=48",
            "data.e_max=5.0",
            "flow1.layers=2",
            "flow1.hidden=[16]",
            "flow2.layers=1",
            "flow2.hidden=[16]",
            "flow2.num_bins=2",
            "train1.steps=2",
            "train2.steps=2",
            "classifier.steps=2",
            "train1.batch_size=16",
            "train2.batch_size=16",
            "classifier.batch_size=8",
            "eval.validation_showers=2",
            "eval.timing_showers=1",
            "eval.timing_energies=[1.0, 5.0]",
            "eval.flow_batch=8",
            "train1.progress=false",
            "train2.progress=false",
            "classifier.progress=false",
        ],
    )
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("classifier_auc", "showers_per_s", "reference_showers_per_s", "separation_power", "validation"):
        assert key in metrics
    assert all(np.isfinite(metrics[f"flow{i}_{s}_nll"]) for i in (1, 2) for s in ("train", "test"))
    # Pinned (deterministic on CPU): two steps per flow on 36 showers are a plumbing check, not a trained
    # model; its figures must not move.
    assert (metrics["n_train"], metrics["n_test"]) == (36, 12)
    assert metrics["flow1_test_nll"] == pytest.approx(-8.161, abs=0.05)
    assert metrics["flow2_test_nll"] == pytest.approx(-1784.06, rel=1e-3)
    assert metrics["classifier_auc"] == pytest.approx(0.583, abs=0.02)
    # The reference cascade against Grindhammer-Peters (an independent parameterisation), 2 showers each:
    v = metrics["validation"]
    for e in (10, 100):
        assert v[f"response_{e}"] == pytest.approx(0.985, abs=0.01), e
        assert v[f"containment_1rm_sim_{e}"] == pytest.approx(v[f"containment_1rm_gp_{e}"], abs=0.02), e
        assert v[f"mean_depth_sim_{e}"] == pytest.approx(v[f"mean_depth_gp_{e}"], abs=0.3), e
    for png in ("features.png", "classifier_roc.png", "showers_per_second.png", "cascade_vs_grindhammer_peters.png"):
        assert (out / png).stat().st_size > 1000
