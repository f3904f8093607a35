"""End-to-end tiny runs of both trigger experiments and of ``hepjax export-hls`` (Pythia + C simulation: slow)."""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import pytest

from hepjax.runner import run
from tests.tiny import L1_ANOMALY_SAMPLES


@pytest.mark.slow
def test_jet_tagging_l1_tiny_and_cli_export(tmp_path, capsys):
    wd = run(
        "configs/jet_tagging_l1.yaml",
        [
            f"output_dir={tmp_path / 'jt'}",
            *(f"{s}.n_events=40" for s in ("qcd", "w", "z", "top")),
            "train.steps=20",
            "train.batch_size=32",
            "qat.layers=[{name: dense_1, weight_bits: 8, weight_integer: 2}]",
        ],
    )
    m = json.loads((wd / "metrics.json").read_text())
    assert m["jet_tagging_bit_mismatches"] == 0
    assert m["qat_weight_types"][:2] == ["ap_fixed<6,1,AP_RND,AP_SAT>", "ap_fixed<8,2,AP_RND,AP_SAT>"]
    assert (
        "ap_fixed<8,2,AP_RND,AP_SAT,0> dense_1_weight_t;"
        in (wd / "qat" / "hls4ml_prj" / "firmware" / "defines.h").read_text()
    )
    assert m["jet_tagging_argmax_agreement"] >= 0.999
    assert m["compilations_qat"] == 1 and (m["n_jets_train"], m["n_jets_test"]) == (75, 50)
    # Pinned (deterministic on CPU; 50 test jets: one jet is 0.02): float 0.54, 6-bit QAT 0.48. Five
    # balanced classes: chance is 0.2 (its statistical spread on 50 jets: 0.06).
    assert m["accuracy_float"] == pytest.approx(0.54, abs=0.021)
    assert m["jet_tagging_accuracy_qat"] == pytest.approx(0.48, abs=0.021)
    assert m["accuracy_ptq_16_6"] == pytest.approx(m["accuracy_float"], abs=0.021)
    assert min(m["accuracy_float"], m["jet_tagging_accuracy_qat"]) > 0.35
    assert (wd / "roc.png").is_file()

    from hepjax.cli import main

    assert main(["export-hls", str(wd / "qat"), "--out", str(tmp_path / "prj"), "--io", "stream"]) == 0
    # hls4ml prints its own progress first; the CLI's JSON block is the last one before "project:".
    text = capsys.readouterr().out.split("project:")[0]
    printed = json.loads(text[text.rindex("\n{") + 1 :] if "\n{" in text else text)
    assert printed["bit_mismatches"] == 0 and printed["n_inputs"] == m["n_jets_test"]


@pytest.mark.slow
def test_l1_anomaly_tiny(tmp_path):
    wd = run(
        "configs/l1_anomaly.yaml",
        [
            f"output_dir={tmp_path / 'l1'}",
            *L1_ANOMALY_SAMPLES,
            "train.steps=10",
            "train.batch_size=16",
            "qat.layers=[{name: vae/encoder/dense_0, weight_bits: 6, weight_integer: 1}]",
        ],
    )
    m = json.loads((wd / "metrics.json").read_text())
    assert m["l1_anomaly_bit_mismatches"] == 0
    defines = (wd / "vae" / "hls4ml_prj" / "firmware" / "defines.h").read_text()
    assert "ap_fixed<6,1,AP_RND,AP_SAT,0> dense_0_weight_t;" in defines  # the override reached the VAE encoder only
    assert (
        "ap_fixed<6,1,AP_RND,AP_SAT,0> dense_0_weight_t;"
        not in (wd / "ae" / "hls4ml_prj" / "firmware" / "defines.h").read_text()
    )
    assert m["l1_anomaly_export_inputs"] == 50 + 4 * 20
    assert m["fpr_floor"] == pytest.approx(1 / 50)
    # Pinned (deterministic on CPU): 10 steps on 50 training events; AUCs on 50 background and 20
    # signal events (statistical error ~0.07). Only the four-lepton signal stands out this early.
    pinned = {"scalar_4l": (0.728, 0.676), "leptoquark": (0.564, 0.531), "charged_higgs": (0.221, 0.274)}
    pinned["h_tautau"] = (0.331, 0.401)
    for s, (ae, vae) in pinned.items():
        assert m[f"ae_auc_{s}"] == pytest.approx(ae, abs=0.02), s
        assert m[f"vae_auc_{s}"] == pytest.approx(vae, abs=0.02), s
    assert m["vae_tpr_scalar_4l"] == pytest.approx(0.3, abs=0.051)  # 6 of 20 at the FPR floor
    assert m["ae_auc_scalar_4l"] > 0.6 and m["vae_auc_scalar_4l"] > 0.6  # over chance (0.5)
    assert (wd / "ae" / "hls_export.json").is_file() and (wd / "vae" / "validation.npz").is_file()
