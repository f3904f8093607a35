"""AE / VAE of the L1 anomaly trigger: shapes, losses, scores and the network list."""

import types
from functools import partial

import jax
import numpy as np
import pytest

from hepjax.anomaly import anomaly_score, build_model, networks, trigger_mlp
from hepjax.config import ConfigError
from hepjax.hls.layer_config import LayerQat

Q = types.SimpleNamespace(
    input_type="ap_fixed<16,6,AP_RND,AP_SAT>",
    weight_bits=8,
    weight_integer=2,
    activation_bits=8,
    activation_integer=4,
    result_type="ap_fixed<16,6,AP_RND,AP_SAT>",
    layers=(LayerQat("vae/encoder/dense_0", weight_bits=5),),
)
M = types.SimpleNamespace(hidden=(8, 4), latent=2, beta=0.1, kinds=("ae", "vae"))


def test_networks_name_every_dense_block():
    assert networks(M) == [("ae", 6, "ae/"), ("vae", 3, "vae/encoder/"), ("vae", 3, "vae/decoder/")]
    with pytest.raises(ConfigError, match="unknown kind 'gan'"):
        networks(types.SimpleNamespace(hidden=(8,), kinds=("gan",)), "cfg.yaml")


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_models_train_and_score(kind):
    x = np.random.default_rng(0).normal(size=(16, 10)).astype(np.float32)
    mlp = partial(trigger_mlp, Q)
    key = jax.random.PRNGKey(0)
    model, loss_fn, params, fw_model, fw_path = build_model(kind, M, mlp, 10, x[:1], key, key)
    loss, aux = loss_fn(params, {"x": x}, key)
    assert np.isfinite(float(loss)) and float(loss) > 0
    assert set(aux) == (set() if kind == "ae" else {"kl", "rec"})
    fw_params = params
    for k in fw_path:
        fw_params = fw_params[k]
    out = np.asarray(fw_model.apply({"params": fw_params}, x))
    assert out.shape == ((16, 10) if kind == "ae" else (16, 2 * M.latent))
    score = anomaly_score(kind, out, x, M.latent)
    assert score.shape == (16,) and np.all(score >= 0)
    if kind == "ae":
        np.testing.assert_allclose(score, np.mean((out - x) ** 2, axis=1), rtol=1e-6)
    else:
        np.testing.assert_allclose(score, np.sum(out[:, :2] ** 2, axis=1), rtol=1e-6)
        assert fw_model.weight_types[0].startswith("ap_fixed<5,")  # the per-layer override reached the encoder
