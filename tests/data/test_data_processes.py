"""Every named process: conservation laws and the hard process it claims (slow: ~13 Pythia inits)."""

import numpy as np
import pytest

from hepjax.data import PROCESSES, generate

# |PDG| ids that must appear among the hard-process partons of every event, and resonance masses (GeV)
EXPECTED = {
    "qcd_dijet": ((), {}),
    "ttbar": ((6, 24, 5), {6: 172.5, 24: 80.4}),
    "z_ll": ((23,), {23: 91.19}),
    "w_lnu": ((24,), {24: 80.4}),
    "boosted_w": ((24,), {24: 80.4}),
    "boosted_z": ((23,), {23: 91.19}),
    "boosted_top": ((6, 24, 5), {6: 172.5}),
    "minbias": ((), {}),
    "scalar_4l": ((25, 23), {25: 50.0}),
    "leptoquark": ((42, 5, 15), {42: 80.0}),
    "charged_higgs": ((37, 15, 16), {37: 60.0}),
    "h_tautau": ((25, 15), {25: 60.0}),
    "h_gammagamma": ((25, 22), {25: 125.0}),
    "diphoton": ((22,), {}),
    "z_jet": ((23, 13), {23: 91.19}),
}


def test_expected_table_covers_all_processes():
    assert set(EXPECTED) == set(PROCESSES)


@pytest.mark.slow
@pytest.mark.parametrize("process", sorted(PROCESSES))
def test_process_physics(process, cache_root):
    s = generate(process, 6, 1, cache_dir=cache_root, progress=False)
    p, q = s.particles, s.partons
    np.testing.assert_allclose((p.charge * p.mask).sum(1), 2.0, atol=1e-4)  # pp initial state
    pt, eta, phi, m = (np.asarray(getattr(p, f), np.float64) for f in ("pt", "eta", "phi", "mass"))
    pz = pt * np.sinh(eta)
    e = np.where(p.mask, np.sqrt(m**2 + pt**2 + pz**2), 0).sum(1)
    np.testing.assert_allclose(e, 13600.0, rtol=1e-4)
    np.testing.assert_allclose(np.where(p.mask, pt * np.cos(phi), 0).sum(1), 0, atol=0.05)
    assert not np.isin(np.abs(p.pdg[p.mask]), (1, 2, 3, 4, 5, 6, 21, 23, 24, 25)).any()
    required, masses = EXPECTED[process]
    for pid in required:
        assert (q.mask & (np.abs(q.pdg) == pid)).any(1).all(), f"|pdg| {pid} missing in some event"
    for pid, mass in masses.items():
        sel = q.mask & (np.abs(q.pdg) == pid)
        assert abs(np.median(q.mass[sel]) - mass) < 0.1 * mass, (pid, q.mass[sel])
    if process == "scalar_4l":  # H -> Z Z* -> 4 charged leptons
        leptons = q.mask & np.isin(np.abs(q.pdg), (11, 13))
        assert (leptons.sum(1) == 4).all()
    sigma = s.info["cross_section_mb"]
    assert np.isfinite(sigma) and sigma > 0
    if process == "minbias":  # sigma_inel(13 TeV) = 78.1 +- 2.9 mb measured (ATLAS, PRL 117 (2016) 182002)
        assert 70 < sigma < 86
    if process == "ttbar":  # Pythia LO gg/qq -> tt at 13.6 TeV: ~0.55 nb (NNLO+NNLL: 0.92 nb)
        assert 3e-7 < sigma < 9e-7
