"""Physics checks of the trigger inputs: jet substructure features and the 57-number L1 summaries."""

import numpy as np
import pytest

from hepjax.data.particles import empty
from hepjax.trigger.jet_features import FEATURE_NAMES, jet_features
from hepjax.trigger.l1_inputs import N_FEATURES, event_summary, preprocess


def _jets(prongs_list, n_const=12, seed=0):
    """Jets made of 1, 2 or 3 tight prongs of equal pT at eta = 0."""
    rng = np.random.default_rng(seed)
    p = empty((len(prongs_list), n_const))
    for j, prongs in enumerate(prongs_list):
        centres = (
            [(0.25 * np.cos(2 * np.pi * k / prongs), 0.25 * np.sin(2 * np.pi * k / prongs)) for k in range(prongs)]
            if prongs > 1
            else [(0.0, 0.0)]
        )
        for i in range(n_const):
            ce, cp = centres[i % prongs]
            p.pt[j, i] = 50.0
            p.eta[j, i] = ce + rng.normal(0, 0.005)
            p.phi[j, i] = cp + rng.normal(0, 0.005)
            p.mask[j, i] = True
    return p


def test_nsubjettiness_counts_prongs():
    p = _jets([1, 2, 3])
    f = jet_features(p, np.full(3, 600.0), np.full(3, 80.0))
    assert f.shape == (3, 16) and len(FEATURE_NAMES) == 16
    tau = {n: f[:, FEATURE_NAMES.index(n)] for n in ("tau1", "tau2", "tau21", "tau32")}
    assert tau["tau1"][0] < 0.02 < tau["tau1"][1]  # one prong: tau1 ~ 0
    assert tau["tau21"][1] < 0.1 < tau["tau21"][0] or tau["tau2"][1] < 0.02  # two prongs: tau2 ~ 0
    assert tau["tau32"][2] < 0.2  # three prongs: tau3 ~ 0
    assert f[0, FEATURE_NAMES.index("multiplicity")] == 12
    np.testing.assert_allclose(f[:, FEATURE_NAMES.index("ptd")], np.sqrt(12 * 50.0**2) / 600.0, rtol=1e-5)
    np.testing.assert_allclose(f[:, FEATURE_NAMES.index("zlogz")], np.log(1 / 12), rtol=1e-5)


def test_jet_features_reject_empty_jets():
    p = _jets([1])
    p.mask[:] = False
    with pytest.raises(ValueError, match="no constituents"):
        jet_features(p, np.ones(1), np.ones(1))


def test_event_summary_layout_and_met():
    p = empty((2, 6))
    # event 0: two electrons, a muon and a hard 'jet' of two hadrons; event 1: nothing
    rows = [
        (11, 40.0, 0.5, 0.1),
        (11, 25.0, -1.0, 2.0),
        (13, 30.0, 0.2, -1.0),
        (211, 60.0, 1.0, 3.0),
        (211, 20.0, 1.05, 3.05),
        (22, 5.0, 0.0, 0.0),
    ]
    for i, (pdg, pt, eta, phi) in enumerate(rows):
        p.pdg[0, i], p.pt[0, i], p.eta[0, i], p.phi[0, i], p.mask[0, i] = pdg, pt, eta, phi, True
    x = event_summary(p)
    assert x.shape == (2, N_FEATURES) == (2, 57)
    px = sum(pt * np.cos(phi) for _, pt, _, phi in rows)
    py = sum(pt * np.sin(phi) for _, pt, _, phi in rows)
    np.testing.assert_allclose(x[0, 0], np.hypot(px, py), rtol=1e-5)
    np.testing.assert_allclose(x[0, 2], np.arctan2(-py, -px), rtol=1e-5)
    np.testing.assert_allclose(
        x[0, 3:9], [40.0, 0.5, 0.1, 25.0, -1.0, 2.0], rtol=1e-6
    )  # e/gamma, pT-ordered; 5 GeV photon cut
    assert x[0, 9] == 0.0  # only two e/gamma
    np.testing.assert_allclose(x[0, 15:18], [30.0, 0.2, -1.0], rtol=1e-6)  # leading muon
    assert x[0, 27] > 70.0  # leading jet holds the hadrons
    np.testing.assert_array_equal(x[1], 0.0)
    np.testing.assert_allclose(preprocess(x)[0, 3], np.log1p(40.0), rtol=1e-6)
