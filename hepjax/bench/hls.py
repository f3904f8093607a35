"""Bench area ``hls``: the FPGA trigger path end to end.

Measured in one run on one machine:

* ``export_s``: bridge (Flax -> Keras) + hls4ml config + project write + g++ C-simulation build +
  C-simulation of 1,000 inputs, for the 6-bit QAT jet tagger (16 -> 64-32-32-5);
  peer ``keras_native_export_s``: the same architecture written directly in Keras 3 and converted by
  hls4ml at ``ap_fixed<16,6>`` (hls4ml's usual path), compiled and run on the same inputs;
  ``ratios.export_time_vs_keras_native`` = hepjax / peer (C-sim compilation dominates both).
* ``qconv_export_s`` / ``qconv_bit_mismatches``: the same export of a small quantized 1-D CNN
  (16 inputs -> QConv1D 8x3 -> ReLU cast -> QDense 5 -> softmax) on the same 1,000 inputs: the
  hls4ml ``Conv1D`` must reproduce :class:`hepjax.hls.QConv` bit for bit.
* the two use cases, run through their experiments' pipelines (:func:`experiments.jet_tagging_l1.run`,
  :func:`experiments.l1_anomaly.run`, via :func:`hepjax.bench.harness.experiment_metrics`; ``--quick``:
  tiny samples; otherwise the configs' defaults): ``l1_anomaly_bit_mismatches``, ``l1_anomaly_tpr_at_fpr`` (mean over the
  four signals of the AE's TPR at FPR = 1 / n_background_test), ``jet_tagging_bit_mismatches``,
  ``jet_tagging_argmax_agreement``, ``jet_tagging_accuracy_qat`` and the rest of their metrics.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from hepjax.bench.harness import experiment_metrics

_QUICK = {
    "jet_tagging_l1": [
        *(f"{s}.n_events=40" for s in ("qcd", "w", "z", "top")),
        "train.steps=30",
        "train.batch_size=32",
    ],
    "l1_anomaly": [
        "background=[{process: w_lnu, n_events: 40, seed: 1000}, {process: qcd_dijet, n_events: 30, seed: 1001},"
        " {process: z_ll, n_events: 20, seed: 1002}, {process: ttbar, n_events: 10, seed: 1003}]",
        "signals=[{process: scalar_4l, n_events: 20, seed: 1004}, {process: leptoquark, n_events: 20, seed: 1005},"
        " {process: charged_higgs, n_events: 20, seed: 1006}, {process: h_tautau, n_events: 20, seed: 1007}]",
        "train.steps=30",
        "train.batch_size=16",
    ],
}


def _tagger():
    from hepjax.hls.models import TriggerMLP, qat_types

    kw = qat_types(
        4,
        input_type="ap_fixed<16,6,AP_RND,AP_SAT>",
        weight_bits=6,
        result_type="ap_fixed<16,6,AP_RND,AP_SAT>",
        activation_bits=6,
        activation_integer=3,
    )
    kw["result_types"] = kw["result_types"][:-1] + ("ap_fixed<12,5,AP_RND,AP_SAT>",)
    return TriggerMLP((64, 32, 32, 5), output_activation="softmax", **kw)


def _conv_tagger():
    import flax.linen as nn

    from hepjax.hls import Activation, FixedPoint, Flatten, QConv, QDense, Reshape

    a, w, r = "ap_fixed<16,6,AP_RND,AP_SAT>", "ap_fixed<6,1,AP_RND,AP_SAT>", "ap_ufixed<6,3,AP_RND,AP_SAT>"
    return nn.Sequential(
        [
            Reshape((16, 1)),
            QConv(8, (3,), input=a, weight=w, bias=w, output=a),
            Activation("relu"),
            FixedPoint(r),
            Flatten(),
            QDense(5, input=r, weight=w, bias=w, output="ap_fixed<12,5,AP_RND,AP_SAT>"),
            Activation("softmax"),
        ]
    )


def _export_timings(tmp: Path) -> dict:
    import hls4ml
    import jax
    import jax.numpy as jnp
    import keras

    from hepjax.hls.export import export_model

    x = np.random.default_rng(0).normal(size=(1000, 16)).astype(np.float32)
    model = _tagger()
    v = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 16)))
    t0 = time.perf_counter()
    rep = export_model(model, v, (16,), x, tmp / "hepjax_prj")
    ours = time.perf_counter() - t0

    t0 = time.perf_counter()
    inp = keras.Input((16,), name="x_in")
    h = inp
    for i, w in enumerate((64, 32, 32)):
        h = keras.layers.Dense(w, activation="relu", name=f"fc{i}")(h)
    out = keras.layers.Dense(5, activation="softmax", name="out")(h)
    km = keras.Model(inp, out)
    cfg = hls4ml.utils.config_from_keras_model(
        km, granularity="name", backend="Vitis", default_precision="ap_fixed<16,6>"
    )
    hm = hls4ml.converters.convert_from_keras_model(
        km, hls_config=cfg, output_dir=str(tmp / "keras_prj"), backend="Vitis", io_type="io_parallel"
    )
    hm.compile()
    hm.predict(x.astype(np.float64))
    peer = time.perf_counter() - t0

    cnn = _conv_tagger()
    t0 = time.perf_counter()
    crep = export_model(cnn, cnn.init(jax.random.PRNGKey(1), jnp.zeros((1, 16))), (16,), x, tmp / "qconv_prj")
    conv_s = time.perf_counter() - t0
    return {
        "export_s": ours,
        "keras_native_export_s": peer,
        "export_timing_breakdown_s": rep["timing_s"],
        "random_tagger_bit_mismatches": rep["agreement"]["bit_mismatches"],
        "qconv_export_s": conv_s,
        "qconv_bit_mismatches": crep["agreement"]["bit_mismatches"],
    }


def _experiment(name: str, tmp: Path, quick: bool) -> tuple[dict, float]:
    t0 = time.perf_counter()
    metrics = experiment_metrics(name, _QUICK[name] if quick else [], tmp / name)
    return metrics, time.perf_counter() - t0


def run(*, quick: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="hepjax_bench_hls_") as d:
        tmp = Path(d)
        timing = _export_timings(tmp)
        jt, jt_s = _experiment("jet_tagging_l1", tmp, quick)
        l1, l1_s = _experiment("l1_anomaly", tmp, quick)
    metrics = {
        "export_s": timing["export_s"],
        "export_timing_breakdown_s": timing["export_timing_breakdown_s"],
        "random_tagger_bit_mismatches": timing["random_tagger_bit_mismatches"],
        "qconv_export_s": timing["qconv_export_s"],
        "qconv_bit_mismatches": timing["qconv_bit_mismatches"],
        "jet_tagging_bit_mismatches": jt.get("jet_tagging_bit_mismatches"),
        "jet_tagging_argmax_agreement": jt.get("jet_tagging_argmax_agreement"),
        "jet_tagging_accuracy_qat": jt.get("jet_tagging_accuracy_qat"),
        "jet_tagging_accuracy_float": jt.get("accuracy_float"),
        "jet_tagging_accuracy_ptq_16_6": jt.get("accuracy_ptq_16_6"),
        "jet_tagging_float_argmax_agreement_16_6": jt.get("float_argmax_agreement"),
        "jet_tagging_n_test": jt.get("n_jets_test"),
        "l1_anomaly_bit_mismatches": l1.get("l1_anomaly_bit_mismatches"),
        "l1_anomaly_export_inputs": l1.get("l1_anomaly_export_inputs"),
        "l1_anomaly_tpr_at_fpr": l1.get("l1_anomaly_tpr_at_fpr"),
        "l1_anomaly_fpr_floor": l1.get("fpr_floor"),
        "l1_anomaly_auc": {k: v for k, v in l1.items() if "_auc_" in k},
        "jet_tagging_experiment_s": jt_s,
        "l1_anomaly_experiment_s": l1_s,
    }
    return {
        "metrics": metrics,
        "peer": {"keras_native_export_s": timing["keras_native_export_s"]},
        "ratios": {"export_time_vs_keras_native": timing["export_s"] / timing["keras_native_export_s"]},
        "notes": (
            "export_s: hepjax bridge + hls4ml write + C-sim build/run (1k inputs, with per-layer trace) of the 6-bit QAT "
            "tagger; peer: the same network written in Keras and converted by hls4ml directly. Use-case metrics from "
            + ("tiny quick runs" if quick else "the default configs")
            + "."
        ),
    }
