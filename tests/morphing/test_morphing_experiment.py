"""The morphing experiment runs end to end on a tiny Pythia sample (slow: generates events)."""

import json

import pytest


@pytest.mark.slow
def test_morphing_experiment_end_to_end(tmp_path):
    from hepjax.runner import run

    out = run(
        "configs/morphing.yaml",
        [
            f"output_dir={tmp_path}",
            "data.n_events=120",
            f"data.cache_dir={tmp_path / 'cache'}",
            "flow.layers=2",
            "flow.hidden=[8]",
            "train.steps=3",
            "train.batch_size=32",
            "classifier.steps=3",
            "classifier.batch_size=16",
            "train.progress=false",
            "classifier.progress=false",
        ],
    )
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["chi2_ndf"]) == {"log_pt", "mass_over_pt", "n_constituents", "girth", "ptd"}
    assert 0.0 <= m["auc_before"] <= 1.0 and 0.0 <= m["auc_after"] <= 1.0
    assert (out / "observables.png").stat().st_size > 1000
