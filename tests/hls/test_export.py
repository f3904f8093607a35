"""A tiny QAT model trained with the hepjax trainer, exported from its checkpoint and C-simulated bit-exactly;
one layer has its own bit widths (a ``qat.layers`` override), which must reach the written hls4ml project."""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import yaml

from hepjax.hls.export import export_checkpoint, save_export_spec
from hepjax.hls.layer_config import LayerQat
from hepjax.hls.models import TriggerMLP, qat_types
from hepjax.train import ArrayDataset, TrainConfig, fit


class _HlsConfigLoader(yaml.SafeLoader):
    """hls4ml's config file tags the Keras model path (``!keras_model``); read it as plain data."""


_HlsConfigLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def test_tiny_qat_model_exports_bit_exact(tmp_path):
    override = LayerQat("dense_1", weight_bits=9, weight_integer=2, bias_bits=7, bias_integer=3)
    kw = qat_types(
        2,
        input_type="ap_fixed<12,4,AP_RND,AP_SAT>",
        weight_bits=6,
        result_type="ap_fixed<12,5,AP_RND,AP_SAT>",
        activation_bits=6,
        activation_integer=2,
        layers=(override,),
    )
    assert kw["weight_types"] == ("ap_fixed<6,1,AP_RND,AP_SAT>", "ap_fixed<9,2,AP_RND,AP_SAT>")
    model = TriggerMLP((8, 3), output_activation="softmax", **kw)
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1.5, (512, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32) + (x[:, 1] > 1).astype(np.int32)

    def loss_fn(params, batch, key):
        p = model.apply({"params": params}, batch["x"])
        return -jnp.mean(jnp.log(jnp.take_along_axis(p, batch["y"][:, None], 1) + 1e-6)), {}

    params = model.init(jax.random.PRNGKey(0), x[:1])["params"]
    cfg = TrainConfig(steps=20, batch_size=64, learning_rate=0.01, progress=False, checkpoint_every=0)
    fit(
        loss_fn,
        params,
        ArrayDataset({"x": x, "y": y}, 64),
        cfg,
        workdir=tmp_path / "run",
        key=jax.random.PRNGKey(1),
        plot_keys=(),
    )
    save_export_spec(tmp_path / "run", model, (4,), x, y_val=y)

    rep = export_checkpoint(tmp_path / "run" / "checkpoints", tmp_path / "prj", io_type="parallel")
    agree = rep["agreement"]
    assert agree["n_inputs"] == 512
    assert agree["bit_mismatches"] == 0
    assert set(agree["bit_exact_layers"]) >= {"dense_0", "act_0", "act_0_q", "dense_1"}
    assert agree["argmax_agreement"] >= 0.999
    assert (tmp_path / "prj" / "hepjax_report.json").is_file()
    assert json.loads((tmp_path / "prj" / "hepjax_report.json").read_text())["agreement"]["bit_mismatches"] == 0
    dense = {l["name"]: l for l in rep["layers"] if l["class"] == "Dense"}
    assert dense["dense_0"]["n_weights"] == 32 and dense["dense_0"]["precision"]["weight_t"].startswith("fixed<6,1")
    # size proxies: input ap_fixed<12,4> x 6-bit weights into dense_0; 6-bit activations x 9-bit weights into dense_1
    assert dense["dense_0"]["bops"] == dense["dense_0"]["multiplications"] * 12 * 6
    assert dense["dense_1"]["bops"] == dense["dense_1"]["multiplications"] * 6 * 9
    assert dense["dense_0"]["multipliers"] == dense["dense_0"]["nonzero_weights"]  # reuse factor 1
    assert rep["bops"] == sum(l["bops"] or 0 for l in rep["layers"]) > 0
    # the per-layer widths are in the written project: its config and the C++ types, for dense_1 only
    hls_cfg = yaml.load((tmp_path / "prj" / "hls4ml_config.yml").read_text(), Loader=_HlsConfigLoader)["HLSConfig"][
        "LayerName"
    ]
    assert hls_cfg["dense_1"]["Precision"]["weight"] == "ap_fixed<9,2,AP_RND,AP_SAT>"
    assert hls_cfg["dense_1"]["Precision"]["bias"] == "ap_fixed<7,3,AP_RND,AP_SAT>"
    assert hls_cfg["dense_0"]["Precision"]["weight"] == "ap_fixed<6,1,AP_RND,AP_SAT>"
    defines = (tmp_path / "prj" / "firmware" / "defines.h").read_text()
    assert "typedef ap_fixed<9,2,AP_RND,AP_SAT,0> dense_1_weight_t;" in defines
    assert "typedef ap_fixed<6,1,AP_RND,AP_SAT,0> dense_0_weight_t;" in defines
    assert "vitis_hls" in rep["synthesis_command"]


def test_export_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such run"):
        export_checkpoint(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "run").mkdir()
    with pytest.raises(FileNotFoundError, match="hls_export.json"):
        export_checkpoint(tmp_path / "run", tmp_path / "out")


def test_export_finds_the_models_inside_a_run_and_checks_the_backend(tmp_path):
    model = TriggerMLP((4, 2), output_activation="softmax")
    x = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    params = model.init(jax.random.PRNGKey(0), x[:1])["params"]
    cfg = TrainConfig(steps=2, batch_size=8, progress=False, checkpoint_every=0)
    y = np.zeros(16, np.int32)
    for name in ("ae", "vae"):  # the layout of an l1_anomaly run: one model per sub-folder
        sub = tmp_path / "run" / name
        fit(
            lambda p, b, k: (jnp.sum(p["dense_0"]["kernel"] ** 2), {}),
            params,
            ArrayDataset({"x": x, "y": y}, 8),
            cfg,
            workdir=sub,
            key=jax.random.PRNGKey(1),
            plot_keys=(),
        )
        save_export_spec(sub, model, (3,), x)
    with pytest.raises(FileNotFoundError, match=r"holds 2 exportable models \(.*run/ae, .*run/vae\); pass one"):
        export_checkpoint(tmp_path / "run", tmp_path / "out")
    with pytest.raises(ValueError, match=r"unknown hls4ml backend 'Quartus9'; hls4ml .* has: .*quartus"):
        export_checkpoint(tmp_path / "run" / "ae", tmp_path / "out", backend="Quartus9")
    import shutil

    shutil.rmtree(tmp_path / "run" / "vae")
    rep = export_checkpoint(tmp_path / "run", tmp_path / "prj")  # the one model left is found
    assert rep["checkpoint"]["run"].endswith("run/ae") and rep["agreement"]["n_inputs"] == 16
