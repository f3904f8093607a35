"""Design study (a) end to end on a tiny config: Pythia H -> γγ and γγ -> detector -> gradient and grid."""

import json

import pytest

from hepjax.runner import run
from tests.tiny import DESIGN_RESONANCE_TINY


def test_design_resonance_tiny_run_pins_its_metrics(tmp_path):
    out = run("configs/design_resonance.yaml", [f"output_dir={tmp_path / 'dr'}", *DESIGN_RESONANCE_TINY])
    m = json.loads((out / "metrics.json").read_text())
    # the generated samples and the selection (fixed seeds): events with two isolated photons
    assert (m["n_signal_selected"], m["n_background_selected"]) == (87, 116)
    assert m["signal_cross_section_fb"] == pytest.approx(67.7, rel=0.05)  # Pythia LO gg -> H x BR(γγ)
    # the objective at cms_like() with the seed's fixed detector noise
    assert m["start"]["objective"] == pytest.approx(5.0139, rel=1e-3)
    assert m["start"]["cost"] == pytest.approx(1.0)
    assert m["optimum"]["objective"] > m["start"]["objective"] + 1.0  # 10 Adam steps already gain
    assert m["gradient_evals"] == 10 and m["grid_evals"] == 54 and m["evals_ratio"] == pytest.approx(5.4)
    assert m["compilations"] == {"optimize": 1, "grid": 1, "evaluation": 2}
    assert m["fresh_noise"]["start_hard_cost_mean"] == pytest.approx(1.0)
    for png in ("paths.png", "grid_contours.png", "mass.png"):
        assert (out / png).stat().st_size > 5000, png
