"""The detector validation experiment runs end to end from its config (tiny Pythia sample)."""

import json

import numpy as np

from hepjax.runner import run


def test_detector_validation_tiny(tmp_path):
    out = run(
        "configs/detector_validation.yaml",
        [f"output_dir={tmp_path}", "sample.n_events=6", "smear.n_bins=4", "tracker.noise_density=0.0"],
    )
    metrics = json.loads((out / "metrics.json").read_text())
    for png in ("pulls", "resolution_tracker", "resolution_calo", "efficiency", "calo_cells", "event_display", "jets"):
        assert (out / f"{png}.png").stat().st_size > 10_000, png
    for term in ("pt", "phi", "cot_theta", "d0", "z0", "ecal", "hcal"):
        n = metrics[f"pull_n_{term}"]
        assert n > 300, term
        # the smearing follows its parameterisation: fitted pull widths are 1 within 5 standard errors
        assert abs(metrics[f"pull_width_{term}"] - 1) < 5 / np.sqrt(2 * n), (term, metrics[f"pull_width_{term}"])
        assert abs(metrics[f"pull_mean_{term}"]) < 5 / np.sqrt(n), term
    assert metrics["smear_compilations"] >= 1
    assert metrics["display_hits"] > 2 * metrics["display_charged_particles"]  # up to 10 barrel layers per track
    assert 0.8 < metrics["track_eff_plateau_barrel"] <= 1.0
