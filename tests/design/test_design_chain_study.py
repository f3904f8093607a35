"""Design study (c) end to end on a tiny config: Pythia W and QCD jets -> detector -> tagger -> Z0, optimised."""

import json

import pytest

from hepjax.runner import run
from tests.tiny import DESIGN_CHAIN_TINY


@pytest.mark.slow  # ~2 min of CPU (compiling the chain's profile fits several times), more on a loaded machine
def test_design_chain_tiny_run_pins_its_metrics(tmp_path):
    out = run("configs/design_chain.yaml", [f"output_dir={tmp_path / 'dc'}", *DESIGN_CHAIN_TINY])
    m = json.loads((out / "metrics.json").read_text())
    # the generated samples and the selection (fixed seeds): W-matched and QCD jets per split
    assert m["n_jets"] == {"signal": [48, 36, 35], "background": [34, 26, 25]}
    # the soft objective at cms_like() with the tagger trained there (deterministic on CPU)
    assert m["start"]["z0"] == pytest.approx(0.7501, rel=2e-2)
    # equal cost: the budget is only redistributed
    assert m["cost_start"] == pytest.approx(1.0, abs=1e-9) and m["cost_opt"] == pytest.approx(1.0, abs=1e-9)
    assert m["optimum"]["objective"] > m["start"]["objective"] + 0.1  # 6 Adam steps already gain
    assert m["chain_fd_max_rel_err"] < 1e-2
    assert m["n_evals"] == 6
    assert m["compilations"] == {"optimize": 1, "hard_scan": 1, "hard_test": 1}
    assert m["chain_z0_start"] > 0 and m["chain_z0_opt"] > 0
    for png in ("paths.png", "mass.png"):
        assert (out / png).stat().st_size > 5000, png
