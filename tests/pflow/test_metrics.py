"""MET and jet-response helpers on hand-made events; rule-based PF jets on a few Pythia tt̄ events."""

import jax
import numpy as np
import pytest

from hepjax.data import generate
from hepjax.data.particles import pad_events
from hepjax.detector import cms_like, smear
from hepjax.detector.showers import cms_showers, showers
from hepjax.errors import DataError
from hepjax.pflow import build_elements, column, rule_based_pf
from hepjax.pflow import metrics as M
from hepjax.pflow.elements import ECAL_CLUSTER, HCAL_CLUSTER


def _jets_event(rng, n_jets=3):
    """Back-to-back-ish sprays of 10 pions around a few axes (pT 40–150 GeV each)."""
    rows = []
    for _ in range(n_jets):
        eta0, phi0, ptj = rng.uniform(-2, 2), rng.uniform(-np.pi, np.pi), rng.uniform(40, 150)
        z = rng.dirichlet(np.ones(10))
        for zi in z:
            rows.append((ptj * zi, eta0 + rng.normal(0, 0.05), phi0 + rng.normal(0, 0.05)))
    pt, eta, phi = (np.array(c) for c in zip(*rows))
    n = len(pt)
    return dict(pt=pt, eta=eta, phi=np.angle(np.exp(1j * phi)), mass=np.full(n, 0.13957), pdg=np.full(n, 211),
                charge=np.ones(n), vx=np.zeros(n), vy=np.zeros(n), vz=np.zeros(n))  # fmt: skip


def test_met_is_minus_the_vector_sum():
    pt = np.array([[10.0, 10.0, 5.0], [30.0, 0.0, 0.0]])
    phi = np.array([[0.0, np.pi, np.pi / 2], [np.pi / 4, 0.0, 0.0]])
    mask = np.array([[True, True, True], [True, False, False]])
    got = M.met(pt, phi, mask)
    np.testing.assert_allclose(got[0], [0.0, -5.0, 5.0], atol=1e-9)
    np.testing.assert_allclose(got[1], [-30 / np.sqrt(2), -30 / np.sqrt(2), 30.0], atol=1e-9)
    res = M.met_resolution(got + [[1.0, -1.0, 0.0], [1.0, -1.0, 0.0]], got, min_gen_met=1.0)
    assert res["met_response_median"] == pytest.approx(1.0) and res["n_events_response"] == 2
    assert res["met_xy_resolution_gev"] == pytest.approx(2.0 / 1.349)  # x off by +1, y by −1: pooled IQR 2
    assert M.met_resolution(got, got)["n_events_response"] == 1  # |MET_gen| = 5 GeV is below 20
    with pytest.raises(DataError, match="met_resolution"):
        M.met_resolution(got, got[:1])


def test_scaled_particles_give_the_scale_as_jet_response():
    rng = np.random.default_rng(0)
    gen = pad_events([_jets_event(rng) for _ in range(6)])
    reco = gen._replace(pt=gen.pt * 0.9)
    match = M.match_jets(reco, gen)
    assert len(match.gen_pt) >= 12
    out = M.binned_response(match, bins=((30.0, 1000.0),))["30-1000"]
    assert out["median"] == pytest.approx(0.9, rel=1e-5) and out["iqr_over_median"] < 1e-5
    # a reco collection shifted beyond ΔR = 0.1 matches nothing
    far = gen._replace(eta=gen.eta + 0.3)
    assert len(M.match_jets(far, gen).gen_pt) == 0
    with pytest.raises(DataError, match="events"):
        M.match_jets(jax.tree.map(lambda x: x[:2], reco), gen)


def test_visible_drops_neutrinos():
    p = pad_events([dict(pt=[5.0, 7.0], eta=[0.0, 0.0], phi=[0.0, 1.0], mass=[0.0, 0.0], pdg=[12, 22],
                         charge=[0.0, 0.0], vx=[0.0, 0.0], vy=[0.0, 0.0], vz=[0.0, 0.0])])  # fmt: skip
    assert M.visible(p).mask.tolist() == [[False, True]]
    assert M.visible(p._replace(eta=p.eta + 5.5)).mask.tolist() == [[False, False]]


def test_rule_based_pf_jets_on_pythia_ttbar_respond_close_to_one():
    """8 tt̄ events on the full CMS-like grids: PF jets (30–300 GeV) have a median response within 10 % of 1
    (the calorimeter-only jets ~0.8: h/e < 1) and a narrower response than the calorimeter-only jets."""
    parts = generate("ttbar", 8, 2, progress=False).particles
    det, sp = cms_like(), cms_showers()
    k1, k2 = jax.random.split(jax.random.key(0))
    reco = jax.jit(smear, static_argnames=("hard", "with_cells"))(k1, parts, det, hard=True, with_cells=False)
    cells = jax.jit(showers, static_argnames=("layout", "hard", "particle_noise_term"))(k2, parts, det, sp, hard=True)
    el, _, _, _ = build_elements(reco, cells, det, sp, buckets=[1024, 2048])
    c = jax.jit(rule_based_pf)(el, det, sp)
    gen = M.visible(parts)
    pf = M.match_jets(M.as_particles(c.pt, c.eta, c.phi, c.mask), gen)
    f = np.asarray(el.features)
    typ = f[..., column("type")]
    clu = np.asarray(el.mask) & ((typ == ECAL_CLUSTER) | (typ == HCAL_CLUSTER))
    calo = M.match_jets(M.as_particles(f[..., column("pt")], f[..., column("eta")], f[..., column("phi")], clu), gen)
    r_pf = M.binned_response(pf, bins=((30.0, 300.0),))["30-300"]
    r_calo = M.binned_response(calo, bins=((30.0, 300.0),))["30-300"]
    assert r_pf["n"] >= 15
    assert abs(r_pf["median"] - 1.0) < 0.1
    assert r_calo["median"] < r_pf["median"]
    assert r_pf["iqr_over_median"] < r_calo["iqr_over_median"]
