"""The ``detector`` bench area at toy sizes: structure and sanity of the figures (no timing asserts)."""

import numpy as np
import pytest

from hepjax.bench import detector as bench


def test_bench_particles_species_mix():
    p = bench.bench_particles(3000)
    assert p.pt.shape == (3, bench.EVENT_SIZE)
    charged = np.isin(np.abs(p.pdg), (211, 321, 2212, 11, 13))
    assert np.all((p.charge != 0) == charged)
    assert np.all(p.charge[np.abs(p.pdg) == 11] == -np.sign(p.pdg[np.abs(p.pdg) == 11]))


@pytest.mark.slow  # three smear compilations (~20 s CPU)
def test_measure_toy_sizes():
    out = bench.measure((1000,), cells_size=1000, repeats=1)
    m = out["metrics"]
    for k in (
        "smear_particles_per_s_1000",
        "smear_value_and_grad_particles_per_s_1000",
        "smear_cells_particles_per_s_1000",
        "tracker_hits_per_s",
    ):
        assert np.isfinite(m[k]) and m[k] > 0, k
    assert set(out["ratios"]) == {"smear_speedup_vs_numpy", "smear_cells_speedup_vs_numpy"}
    assert m["tracker_hits_per_event"] > 100
