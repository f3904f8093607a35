"""Particle-flow elements: track extrapolation vs the NumPy helix, truth targets, packing, bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.detector import helix as hx
from hepjax.errors import DataError
from hepjax.pflow.elements import (
    CH_HADRON,
    ECAL_CLUSTER,
    ELEC,
    ELEMENT_QUANTUM,
    FEATURES,
    GAMMA,
    HCAL_CLUSTER,
    NEU_HADRON,
    TRACK,
    build_elements,
    column,
    element_features,
)
from tests.pflow._chain import DET, LAYOUT, SP, chain, events

C = {f: column(f) for f in FEATURES}


@pytest.fixture(scope="module")
def mixed():
    """Isolated π±, γ, n, e and an overlapping π⁺ + γ pair, spread over 5 events (|η| < 0.35)."""
    rows = [
        [(211, 5.0, 0.1, -2.0), (-211, 12.0, -0.2, 1.0), (22, 8.0, 0.3, 2.5)],
        [(2112, 15.0, 0.0, 0.0), (11, 20.0, -0.1, -1.0), (211, 2.0, 0.25, 2.0)],
        [(211, 10.0, 0.1, 0.5), (22, 30.0, 0.1, 0.47)],
        [(-211, 40.0, -0.3, -2.8), (22, 3.0, 0.2, 1.5)],
        [(211, 1.5, 0.05, 0.0), (2112, 6.0, -0.25, 2.0)],
    ]
    p = events(rows)
    return p, chain(p, seed=3)


def test_tracks_extrapolate_to_the_helix_impact(mixed):
    p, (reco, cells, el, truth, _) = mixed
    f, m = np.asarray(el.features), np.asarray(el.mask)
    trk = m & (f[..., C["type"]] == TRACK)
    assert trk.sum() == 7  # every charged particle has its track (this key)
    x = f[trk]
    pt, eta, phi, q, z0 = (x[:, C[k]].astype(np.float64) for k in ("pt", "eta", "phi", "charge", "z0"))
    state = hx.HelixState(np.zeros(len(pt)), np.zeros(len(pt)), z0, phi, np.sinh(eta), pt, q)
    rho = hx.radius_mm(pt, q, LAYOUT.b_field)
    for radius, ce, cp in ((LAYOUT.ecal_radius, "eta_ecal", "phi_ecal"), (LAYOUT.hcal_radius, "eta_hcal", "phi_hcal")):
        r_mm = radius * 1e3
        s = 2 * rho * np.arcsin(r_mm / (2 * rho))  # all central: the barrel
        hx_x, hx_y, hx_z = hx.position(state, s, LAYOUT.b_field)
        np.testing.assert_allclose(x[:, C[cp]], np.arctan2(hx_y, hx_x), atol=2e-5)
        np.testing.assert_allclose(x[:, C[ce]], np.arcsinh(hx_z / np.hypot(hx_x, hx_y)), atol=2e-5)
    # and close to where the generator particle met the ECAL (the showers' impact), within the track resolution
    part = truth.particle[trk]
    ev = np.nonzero(trk)[0]
    true_phi = np.asarray(cells.ecal_front.phi)[ev, part]
    assert np.all(
        np.abs(np.angle(np.exp(1j * (x[:, C["phi_ecal"]] - true_phi)))) < 0.02
    )  # 2 GeV tracks: mrad-level σ_φ, bend × σ(pT)/pT
    # the 1.5 GeV pion curls far more than the 40 GeV one: the extrapolation is not a straight line
    bend = np.abs(np.angle(np.exp(1j * (x[:, C["phi_ecal"]] - phi))))
    assert bend[np.argmin(pt)] > 0.3 and bend[np.argmax(pt)] < 0.03


def test_element_packing_types_and_padding(mixed):
    _, (reco, cells, el, truth, lay) = mixed
    f, m = np.asarray(el.features), np.asarray(el.mask)
    assert f.shape[-1] == len(FEATURES) and f.shape[1] % ELEMENT_QUANTUM == 0
    typ = f[..., C["type"]]
    for e in range(5):
        t = typ[e][m[e]]
        assert np.all(np.diff(t) >= 0)  # tracks, then ECAL, then HCAL clusters
        assert m[e][: m[e].sum()].all() and np.all(f[e][~m[e]] == 0)
    ecal = m & (typ == ECAL_CLUSTER)
    hcal = m & (typ == HCAL_CLUSTER)
    np.testing.assert_allclose(f[ecal][:, C["ecal_e"]], f[ecal][:, C["energy"]])
    assert np.all(f[ecal][:, C["hcal_e"]] == 0) and np.all(f[hcal][:, C["depth"]] == 1)
    np.testing.assert_allclose(f[hcal][:, C["pt"]] * np.cosh(f[hcal][:, C["eta"]]), f[hcal][:, C["energy"]], rtol=1e-5)
    # the cluster energies are the sums of the member cells of the measured grids
    for e in range(5):
        labels = lay.ecal.labels[e]
        cl = np.asarray(cells.ecal[e])
        got = np.sort(f[e][ecal[e]][:, C["energy"]])
        want = np.sort([cl[labels == k].sum() for k in range(labels.max() + 1)])
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_truth_targets(mixed):
    p, (reco, cells, el, truth, lay) = mixed
    f, m = np.asarray(el.features), np.asarray(el.mask)
    typ = f[..., C["type"]]
    assert np.all((truth.fraction >= 0) & (truth.fraction <= 1 + 1e-12))
    assert np.all(truth.particle[~m] == -1) and np.all(truth.fraction[~m] == 0)
    trk = m & (typ == TRACK)
    np.testing.assert_array_equal(truth.fraction[trk], 1.0)
    pdg = np.abs(np.asarray(p.pdg))[np.nonzero(trk)[0], truth.particle[trk]]
    np.testing.assert_array_equal(truth.pf_class[trk], np.where(pdg == 11, ELEC, CH_HADRON))
    # an independent reference for the fractions: the per-particle window contributions scattered by hand
    for e in range(5):
        for kind, idx, con, mem in (
            (ECAL_CLUSTER, cells.ecal_index, cells.ecal_contrib, lay.ecal),
            (HCAL_CLUSTER, cells.hcal_index, cells.hcal_contrib, lay.hcal),
        ):
            lab = mem.labels[e].reshape(-1)
            idx_e, con_e = np.asarray(idx[e]), np.asarray(con[e], np.float64)
            k = lab.max() + 1
            table = np.zeros((k, idx_e.shape[0]))
            for i in range(idx_e.shape[0]):
                for c, v in zip(idx_e[i], con_e[i]):
                    if c >= 0 and lab[c] >= 0:
                        table[lab[c], i] += v
            slots = np.flatnonzero(m[e] & (typ[e] == kind))
            # slots hold the clusters in membership order (by decreasing energy)
            for cl, s in enumerate(slots):
                if table[cl].sum() == 0:
                    assert truth.particle[e, s] == -1
                    continue
                assert truth.particle[e, s] == np.argmax(table[cl])
                np.testing.assert_allclose(truth.fraction[e, s], table[cl].max() / table[cl].sum(), rtol=1e-5)

    # isolated particles: their main cluster is theirs alone
    def main_cluster(e, i, kind):
        sel = m[e] & (typ[e] == kind) & (truth.particle[e] == i)
        s = np.flatnonzero(sel)[np.argmax(f[e][sel][:, C["energy"]])]
        return truth.fraction[e, s], truth.pf_class[e, s]

    assert main_cluster(0, 2, ECAL_CLUSTER)[0] > 0.99 and main_cluster(0, 2, ECAL_CLUSTER)[1] == GAMMA
    assert main_cluster(1, 0, HCAL_CLUSTER)[0] > 0.99 and main_cluster(1, 0, HCAL_CLUSTER)[1] == NEU_HADRON
    assert main_cluster(3, 0, HCAL_CLUSTER)[0] > 0.99 and main_cluster(3, 0, HCAL_CLUSTER)[1] == CH_HADRON
    # the overlapping pair: the 30 GeV photon dominates the ECAL cluster it shares with the pion's deposit
    frac, cls = main_cluster(2, 1, ECAL_CLUSTER)
    assert cls == GAMMA and 0.5 < frac <= 1.0


def test_features_are_differentiable_in_the_cells(mixed):
    _, (reco, cells, el, truth, lay) = mixed

    def total(ecal):
        out = element_features(reco, ecal, cells.hcal, lay, DET, LAYOUT)
        return jnp.sum(out.features[..., C["energy"]] * (out.features[..., C["type"]] == ECAL_CLUSTER))

    g = np.asarray(jax.jit(jax.grad(total))(jnp.asarray(cells.ecal)))
    np.testing.assert_array_equal(g, (lay.ecal.labels >= 0).astype(g.dtype))


def test_bad_input_is_refused(mixed):
    _, (reco, cells, el, truth, lay) = mixed
    bad = np.asarray(cells.ecal).copy()
    bad[2, 10, 10] = np.nan
    with pytest.raises(DataError, match="cells.ecal of event 2"):
        build_elements(reco, cells._replace(ecal=bad), DET, SP, LAYOUT)
    with pytest.raises(DataError, match="cells.hcal"):
        build_elements(reco, cells._replace(hcal=np.asarray(cells.hcal)[:3]), DET, SP, LAYOUT)
    pt = np.asarray(reco.pt).copy()
    pt[1, 0] = np.inf
    with pytest.raises(DataError, match=r"reco.pt of event 1, particle 0"):
        build_elements(reco._replace(pt=pt), cells, DET, SP, LAYOUT)
    with pytest.raises(DataError, match="reco.eta"):
        build_elements(reco._replace(eta=np.asarray(reco.eta)[:, :3]), cells, DET, SP, LAYOUT)
    # a batch larger than every bucket gets a new bucket, with a warning
    with pytest.warns(UserWarning, match="exceeds every bucket"):
        el2, _, _, buckets = build_elements(reco, cells, DET, SP, LAYOUT, buckets=[1])
    assert el2.features.shape[1] in buckets
