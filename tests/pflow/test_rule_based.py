"""Rule-based particle flow on single particles and an overlapping pair; its hadron response vs the showers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.errors import ConfigError, DataError
from hepjax.kinematics import delta_r
from hepjax.pflow import FEATURES, PFConfig, column, hadron_response, rule_based_pf
from hepjax.pflow.elements import CH_HADRON, ECAL_CLUSTER, ELEC, GAMMA, MU, NEU_HADRON, NONE, TRACK
from tests.pflow._chain import DET, SP, chain, events

_pf = jax.jit(rule_based_pf, static_argnames=("config",))
C = {f: column(f) for f in FEATURES}
# the pion's ECAL impact: φ − asin(0.3·B·R / 2pT) for q = +1 (h = −1)
PHI_IMPACT = 0.5 - np.arcsin(0.3 * 3.8 * 1.29 / (2 * 10.0))


@pytest.fixture(scope="module")
def singles():
    rows = [
        [(211, 20.0, 0.1, 0.5)],
        [(-211, 10.0, -0.2, -1.5)],
        [(22, 15.0, 0.2, 2.0)],
        [(211, 10.0, 0.1, 0.5), (22, 30.0, 0.1, PHI_IMPACT + 0.02)],  # photon 0.02 from the track's ECAL impact
        [(2112, 20.0, -0.1, -2.5)],
    ]
    _, cells, el, truth, _ = chain(events(rows), seed=5)
    return el, cells, _pf(el, DET, SP)


@pytest.fixture(scope="module")
def more():
    rows = [[(11, 20.0, 0.1, 1.0)], [(13, 30.0, -0.1, -1.0)]] + [[(211, 20.0, 0.05 * k, 0.3 * k)] for k in range(3)]
    _, cells, el, truth, _ = chain(events(rows), seed=8)
    return el, _pf(el, DET, SP)


def _near(cand, e, eta, phi, dr=0.4):
    """Indices of the candidates of event e within dr of (eta, phi)."""
    m = np.asarray(cand.mask[e])
    d = np.asarray(delta_r(np.asarray(cand.eta[e]), np.asarray(cand.phi[e]), eta, phi))
    return np.flatnonzero(m & (d < dr))


def _track(el, e):
    f = np.asarray(el.features[e])
    s = np.flatnonzero(np.asarray(el.mask[e]) & (f[:, C["type"]] == TRACK))
    assert len(s) == 1
    return s[0], f[s[0]]


def _hadron_sigma(e):
    return 1.5 * np.sqrt(e)  # the HCAL stochastic term of cms_like (150 %/√E)


def test_isolated_charged_pions_give_one_charged_hadron_and_no_neutral(singles, more):
    for el, cand, evs in ((singles[0], singles[2], (0, 1)), (more[0], more[1], (2, 3, 4))):
        for e in evs:
            s, trk = _track(el, e)
            near = _near(cand, e, trk[C["eta"]], trk[C["phi"]])
            cls = np.asarray(cand.pf_class[e])[near]
            assert cls.tolist() == [CH_HADRON], (e, cls)
            assert near[0] == s
            np.testing.assert_allclose(np.asarray(cand.pt[e, s]), trk[C["pt"]])
            p = trk[C["pt"]] * np.cosh(trk[C["eta"]])
            np.testing.assert_allclose(np.asarray(cand.energy[e, s]), np.hypot(p, 0.13957), rtol=1e-6)


def test_isolated_photon_gives_one_photon_with_the_cluster_energy(singles):
    el, cells, cand = singles
    near = _near(cand, 2, 0.2, 2.0)
    cls = np.asarray(cand.pf_class[2])[near]
    assert (cls == GAMMA).sum() >= 1 and set(cls) == {GAMMA}
    lead = near[np.argmax(np.asarray(cand.energy[2])[near])]
    f = np.asarray(el.features[2])
    np.testing.assert_allclose(np.asarray(cand.energy[2, lead]), f[lead, C["energy"]], rtol=1e-6)
    assert f[lead, C["type"]] == ECAL_CLUSTER
    # all of the photon's ECAL deposit, up to the cell noise and the few % of its tail outside the clusters
    dep = float(cells.ecal_e[2, 0])
    assert abs(float(np.sum(np.asarray(cand.energy[2])[near])) - dep) < 0.03 * dep + 3 * 0.04 * np.sqrt(40)


def test_overlapping_pion_and_photon_give_both(singles):
    el, cells, cand = singles
    s, trk = _track(el, 3)
    near = _near(cand, 3, 0.1, 0.5)
    cls = np.asarray(cand.pf_class[3])[near]
    assert (cls == CH_HADRON).sum() == 1 and (cls == GAMMA).sum() >= 1, cls
    e_gamma = float(np.sum(np.asarray(cand.energy[3])[near][cls == GAMMA]))
    e_nh = float(np.sum(np.asarray(cand.energy[3])[near][cls == NEU_HADRON]))
    # the photon is the calorimeter excess over the pion's expected response: 30 GeV within the pion's resolution
    assert abs(e_gamma + e_nh - 30.0) < 3 * _hadron_sigma(10.0)
    assert e_gamma > 20.0
    np.testing.assert_allclose(np.asarray(cand.pt[3, s]), trk[C["pt"]])


def test_isolated_neutral_hadron_is_calibrated(singles):
    el, cells, cand = singles
    near = _near(cand, 4, -0.1, -2.5)
    cls = np.asarray(cand.pf_class[4])[near]
    assert NEU_HADRON in cls and CH_HADRON not in cls
    e = float(np.sum(np.asarray(cand.energy[4])[near]))
    f = np.asarray(el.features[4])
    m = np.asarray(el.mask[4]) & (f[:, C["type"]] != TRACK)
    raw = float(np.sum(f[m, C["energy"]]))  # the clusters: an ECAL and an HCAL one, merged
    np.testing.assert_allclose(e / raw, 1.0 / float(hadron_response(e, SP)), rtol=1e-3)  # h/e < 1 undone
    assert abs(e - 20.0) < 3 * _hadron_sigma(20.0)


def test_electron_and_muon_tracks(more):
    el, cand = more
    s, _ = _track(el, 0)
    assert int(cand.pf_class[0, s]) == ELEC
    s, _ = _track(el, 1)
    assert int(cand.pf_class[1, s]) == MU
    # nor does the muon's MIP deposit leave a neutral behind (4σ noise clusters, ≲ 0.5 GeV, may be near)
    near = _near(cand, 1, -0.1, -1.0)
    others = near[np.asarray(cand.pf_class[1])[near] != MU]
    assert np.all(np.asarray(cand.energy[1])[others] < 0.5)


def test_hadron_response_matches_the_shower_model():
    """Mean (ECAL + HCAL) visible energy of 40 neutrons of 20 GeV from the showers vs :func:`hadron_response`."""
    rows = [[(2112, 20.0, 0.0, -3.0 + 0.75 * k + 0.1 * e) for k in range(8)] for e in range(5)]
    p = events(rows)
    _, cells, _, _, _ = chain(p, seed=11)
    e = np.asarray(p.energy)
    r = (np.asarray(cells.ecal_e) + np.asarray(cells.hcal_e)) / e
    want = float(hadron_response(e[0, 0], SP))
    assert 0.7 < want < 0.95
    assert abs(r.mean() - want) < 3 * r.std() / np.sqrt(r.size)


def test_neutral_energy_is_differentiable(singles):
    """d E_neutral / d E_cluster from jax.grad agrees with a central finite difference (links held fixed)."""
    el, _, _ = singles

    def neutral(features):
        c = rule_based_pf(el._replace(features=features), DET, SP)
        return jnp.sum(jnp.where((c.pf_class == GAMMA) | (c.pf_class == NEU_HADRON), c.energy, 0.0)[3])

    f = jnp.asarray(el.features)
    g = np.asarray(jax.jit(jax.grad(neutral))(f))
    slot = int(
        np.argmax(np.where(np.asarray(el.features[3, :, C["type"]]) == ECAL_CLUSTER, el.features[3, :, C["energy"]], 0))
    )
    h = 0.05
    up = f.at[3, slot, C["energy"]].add(h)
    dn = f.at[3, slot, C["energy"]].add(-h)
    fd = (float(jax.jit(neutral)(up)) - float(jax.jit(neutral)(dn))) / (2 * h)
    np.testing.assert_allclose(g[3, slot, C["energy"]], fd, rtol=2e-2, atol=2e-3)
    assert g[3, slot, C["energy"]] > 0.5  # the photon takes the cluster's excess
    s, _ = _track(el, 3)
    assert g[3, s, C["pt"]] < 0  # a harder track leaves less excess


def test_bad_elements_are_refused(singles):
    el, _, _ = singles
    f = np.asarray(el.features).copy()
    f[1, 0, C["energy"]] = np.nan
    with pytest.raises(DataError, match=r"\(1, 0\).*'energy'"):
        rule_based_pf(el._replace(features=f), DET, SP)
    with pytest.raises(DataError, match="FEATURES"):
        rule_based_pf(el._replace(features=f[..., :5]), DET, SP)
    with pytest.raises(DataError, match="elements.mask"):
        rule_based_pf(el._replace(mask=np.asarray(el.mask)[:, :3]), DET, SP)
    # padding slots may hold anything
    f = np.asarray(el.features).copy()
    f[0, -1, :] = np.nan
    out = rule_based_pf(el._replace(features=f), DET, SP)
    assert not bool(out.mask[0, -1]) and int(out.pf_class[0, -1]) == NONE


def test_an_event_without_elements_gives_no_candidates(singles):
    el, _, _ = singles
    empty = el._replace(features=np.zeros_like(np.asarray(el.features)), mask=np.zeros(np.shape(el.mask), bool))
    out = _pf(empty, DET, SP)
    assert not np.asarray(out.mask).any()
    with pytest.raises(ConfigError, match="PFConfig.k"):
        PFConfig(k=-1.0)


def test_only_tracks_or_only_clusters_give_the_partial_result(singles):
    el, _, full = singles
    typ = np.asarray(el.features[..., C["type"]])
    m = np.asarray(el.mask)
    tracks = _pf(el._replace(mask=m & (typ == TRACK)), DET, SP)
    assert set(np.asarray(tracks.pf_class)[np.asarray(tracks.mask)]) <= {CH_HADRON, ELEC, MU}
    np.testing.assert_array_equal(np.asarray(tracks.mask), m & (typ == TRACK))
    clusters = _pf(el._replace(mask=m & (typ != TRACK)), DET, SP)
    cls = np.asarray(clusters.pf_class)[np.asarray(clusters.mask)]
    assert len(cls) > 0 and set(cls) <= {GAMMA, NEU_HADRON}
    # without its track, the pion's deposit is a neutral hadron of about the pion's energy
    e0 = float(np.sum(np.asarray(clusters.energy[0])[_near(clusters, 0, 0.1, 0.5)]))
    assert abs(e0 - 20.0) < 3 * _hadron_sigma(20.0)
