"""The morphing experiment on a tiny, easy Pythia sample: the corrected simulation is closer to the data
(slow: generates events and trains a flow and two classifiers)."""

import json

import pytest

from tests.tiny import MORPHING_TINY


@pytest.mark.slow  # ~25 s alone
def test_morphing_experiment_corrects_the_simulation(tmp_path):
    from hepjax.runner import run

    out = run("configs/morphing.yaml", [f"output_dir={tmp_path}", *MORPHING_TINY])
    m = json.loads((out / "metrics.json").read_text())
    assert set(m["chi2_ndf"]) == {"log_pt", "mass_over_pt", "n_constituents", "girth", "ptd"}
    assert m["n_sim_test"] == 749 and m["n_data_test"] == 750
    # Pinned (deterministic on CPU): 1500 jets per sample, "data" at alpha_s(FSR) = 0.10, 500 flow steps.
    assert m["auc_before"] == pytest.approx(0.569, abs=0.015)
    assert m["auc_after"] == pytest.approx(0.514, abs=0.015)
    assert m["chi2_ndf_mean_before"] == pytest.approx(1.862, rel=0.05)
    assert m["chi2_ndf_mean_after"] == pytest.approx(1.076, rel=0.05)
    assert m["flow_final_nll"] == pytest.approx(-3.454, abs=0.05)
    # the margin: the correction moves the simulation towards the data (chance: AUC 0.5, chi2/ndf 1)
    assert m["auc_before"] - m["auc_after"] > 0.03
    assert m["chi2_ndf_mean_after"] < 0.7 * m["chi2_ndf_mean_before"]
    for obs in ("mass_over_pt", "girth", "n_constituents"):  # the observables alpha_s moves most
        assert m["chi2_ndf"][obs]["after"] < 0.7 * m["chi2_ndf"][obs]["before"], obs
    assert (out / "observables.png").stat().st_size > 1000
