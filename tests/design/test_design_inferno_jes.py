"""Design study (b), JES variant, end to end on a tiny config: both observables measured with the JES histosys."""

import json

import pytest

from hepjax.runner import run

TINY = (
    "signal.n_events=300",
    "background.n_events=300",
    "signal.workers=1",
    "background.workers=1",
    "model.hidden=[16,16]",
    "training.inferno_steps=40",
    "training.bce_steps=40",
    "training.batch=128",
    "training.learning_rate=0.01",
)


def test_design_inferno_jes_tiny_run_pins_its_metrics(tmp_path):
    out = run("configs/design_inferno_jes.yaml", [f"output_dir={tmp_path / 'dj'}", *TINY])
    m = json.loads((out / "metrics.json").read_text())
    for tag in ("ours", "bce"):
        # the systematics widen the interval; the profile scan and the Hessian agree on the Asimov data
        assert m[f"jes_width_{tag}"] > m[f"jes_width_{tag}_stat"]
        assert m[f"jes_width_{tag}"] == pytest.approx(m[f"jes_width_{tag}_hessian"], rel=0.02)
        # better than counting all jets in one bin (σ_s = sqrt(s0 + b0) with the 10 % background uncertainty
        # and no shape: sqrt(1100 + 100²) ≈ 105)
        assert m[f"jes_width_{tag}"] < 60.0
    assert m["jes_width_ours"] == pytest.approx(PIN_OURS, rel=2e-3)
    assert m["jes_width_bce"] == pytest.approx(PIN_BCE, rel=2e-3)
    for png in ("losses.png", "histograms.png"):
        assert (out / png).stat().st_size > 5000, png


PIN_OURS, PIN_BCE = 21.5069, 21.9359  # seed 0, 2-core CPU
