"""The default demo end to end on a tiny config: Pythia -> detector -> tagger -> results folder."""

import json

import pytest
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
    assert (metrics["n_train_jets"], metrics["n_test_jets"]) == (115, 49)
    # Pinned (deterministic on CPU). Six steps are a plumbing check, not a trained tagger (AUC 0.28):
    # test_demo_learns below shows the margin over chance; these figures must not move either.
    assert metrics["test_auc"] == pytest.approx(0.279, abs=0.01)
    assert metrics["test_loss"] == pytest.approx(0.7029, abs=0.002)
    assert metrics["final_train_loss"] == pytest.approx(0.6994, abs=0.002)
    lo, hi = metrics["test_auc_interval"]  # bootstrap 68.3 %: ~±0.1 on a few dozen test jets
    assert lo < metrics["test_auc"] < hi and 0.0 < hi - lo < 0.5
    assert metrics["train_compilations"] == 1
    sens = metrics["detector_sensitivity_dloss_dlogp"]
    assert len(sens) >= 10 and any(abs(v) > 0 for v in sens.values())
    assert next(iter(sens)) == "tracker.efficiency.plateau"  # the largest |dloss/dlog p|, pinned
    assert sens["tracker.efficiency.plateau"] == pytest.approx(0.0153, rel=0.05)
    for png in ("roc.png", "scores.png", "jet_mass.png", "detector_sensitivity.png", "loss.png"):
        assert (out / png).stat().st_size > 5000, png
    cfg = yaml.safe_load((out / "config.yaml").read_text())
    assert cfg["experiment"] == "demo" and cfg["train"]["steps"] == 6 and cfg["seed"] == 0
    versions = json.loads((out / "versions.json").read_text())
    assert versions["jax"] and versions["pythia8mc"]
    assert versions["installed"]["jax"] == versions["jax"] and len(versions["installed"]) > 20  # a full freeze
    assert json.loads((out / "run.json").read_text())["seed"] == 0
    assert sorted(p.name for p in (out / "checkpoints").iterdir() if p.name.isdigit()) == ["3", "6"]


@pytest.mark.slow  # 60 steps: ~45 s alone
def test_demo_learns(tmp_path):
    steps = ("train.steps=60", "train.learning_rate=0.01", "train.log_every=30", "train.checkpoint_every=30")
    keys = {s.split("=")[0] for s in steps}
    overrides = [o for o in DEMO_TINY if o.split("=")[0] not in keys] + list(steps)
    m = json.loads((run("configs/demo.yaml", [f"output_dir={tmp_path}", *overrides]) / "metrics.json").read_text())
    # Pinned (deterministic on CPU): 115 training and 49 test jets.
    assert m["test_auc"] == pytest.approx(0.702, abs=0.02)
    assert m["final_train_loss"] == pytest.approx(0.6841, abs=0.003)
    assert m["test_r50"] == pytest.approx(4.0, rel=0.2)
    assert m["test_auc_interval"][0] > 0.6  # a margin over chance (0.5) beyond the bootstrap's 68.3 % interval
