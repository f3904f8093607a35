"""The default demo end to end on a tiny config: Pythia -> detector -> tagger -> results folder."""

import json

import yaml

from hepjax.runner import run
from tests.tiny import DEMO_TINY


def test_demo_end_to_end(tmp_path):
    out = tmp_path / "demo"
    overrides = [
        f"output_dir={out}",
        *DEMO_TINY,
    ]
    workdir = run("configs/demo.yaml", overrides)
    assert workdir == out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_train_jets"] > 10 and metrics["n_test_jets"] > 5
    assert 0.0 <= metrics["test_auc"] <= 1.0
    lo, hi = metrics["test_auc_interval"]  # bootstrap 68.3 %: ~±0.1 on a few dozen test jets
    assert lo < metrics["test_auc"] < hi and 0.0 < hi - lo < 0.5
    assert metrics["train_compilations"] == 1
    sens = metrics["detector_sensitivity_dloss_dlogp"]
    assert len(sens) >= 10 and any(abs(v) > 0 for v in sens.values())
    for png in ("roc.png", "scores.png", "jet_mass.png", "detector_sensitivity.png", "loss.png"):
        assert (out / png).stat().st_size > 5000, png
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["experiment"] == "demo" and cfg["train"]["steps"] == 6 and cfg["seed"] == 0
    versions = json.loads((out / "versions.json").read_text())
    assert versions["jax"] and versions["pythia8mc"]
    assert versions["installed"]["jax"] == versions["jax"] and len(versions["installed"]) > 20  # a full freeze
    assert json.loads((out / "run.json").read_text())["seed"] == 0
    assert sorted(p.name for p in (out / "checkpoints").iterdir() if p.name.isdigit()) == ["3", "6"]
