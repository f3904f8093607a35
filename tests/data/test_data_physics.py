"""Physics sanity of generated samples: Z peak, W jet mass, charges, conservation laws, vertices."""

import numpy as np
import pytest

from hepjax.data import beam_spot_settings, cluster_jets, generate, match_jets_to_partons

M_Z, M_W = 91.19, 80.37


def four_momenta(p):
    """[..., 4] (E, px, py, pz) in float64 from a Particles record (padding -> 0)."""
    pt, eta, phi, m = (np.asarray(getattr(p, f), np.float64) for f in ("pt", "eta", "phi", "mass"))
    pz = pt * np.sinh(eta)
    e = np.sqrt(m**2 + pt**2 + pz**2)
    return np.stack([e, pt * np.cos(phi), pt * np.sin(phi), pz], -1) * np.asarray(p.mask)[..., None]


def inv_mass(v):
    return np.sqrt(np.maximum(v[..., 0] ** 2 - (v[..., 1:] ** 2).sum(-1), 0))


def test_dilepton_mass_peaks_at_mz(z_sample):
    p = z_sample.particles
    v = four_momenta(p)
    masses = []
    for i in range(p.pt.shape[0]):
        best = None
        for flavour in (11, 13):
            neg = np.flatnonzero(p.mask[i] & (p.pdg[i] == flavour))[:1]  # leading l-
            pos = np.flatnonzero(p.mask[i] & (p.pdg[i] == -flavour))[:1]  # leading l+
            if len(neg) and len(pos):
                m = inv_mass(v[i, neg[0]] + v[i, pos[0]])
                best = m if best is None or abs(m - M_Z) < abs(best - M_Z) else best
        if best is not None:
            masses.append(best)
    masses = np.array(masses)
    assert len(masses) >= 0.9 * p.pt.shape[0]
    assert abs(np.median(masses) - M_Z) < 3.0, np.median(masses)
    assert np.mean(np.abs(masses - M_Z) < 10) > 0.7


def test_z_partons(z_sample):
    q = z_sample.partons
    assert (q.pdg[:, 0] == 23).all()  # the resonance first, then its decay leptons
    assert np.isin(np.abs(q.pdg[:, 1:3]), (11, 13)).all()
    assert (q.pdg[:, 1] == -q.pdg[:, 2]).all()
    assert (q.charge[:, 1] == -q.charge[:, 2]).all() and (q.charge[:, 0] == 0).all()
    assert 60 <= q.mass[:, 0].min() and q.mass[:, 0].max() <= 120  # m-hat window of the process
    assert abs(np.median(q.mass[:, 0]) - M_Z) < 3


def test_charges_match_pdg_and_are_conserved(z_sample):
    p = z_sample.particles
    known = {
        211: 1,
        -211: -1,
        321: 1,
        -321: -1,
        2212: 1,
        -2212: -1,
        11: -1,
        -11: 1,
        13: -1,
        -13: 1,
        22: 0,
        130: 0,
        310: 0,
        2112: 0,
        -2112: 0,
        3122: 0,
    }
    seen = 0
    for pid, q in known.items():
        sel = p.mask & (p.pdg == pid)
        seen += sel.sum()
        np.testing.assert_array_equal(p.charge[sel], q, err_msg=f"pdg {pid}")
    assert seen > 0.9 * p.mask.sum()
    # two incoming protons: every event's final state carries charge +2
    np.testing.assert_allclose((p.charge * p.mask).sum(1), 2.0, atol=1e-4)
    # no quarks or gluons in the final state
    assert not np.isin(np.abs(p.pdg[p.mask]), (1, 2, 3, 4, 5, 6, 21)).any()


def test_four_momentum_is_conserved(z_sample):
    tot = four_momenta(z_sample.particles).sum(1)  # [n, 4]
    np.testing.assert_allclose(tot[:, 0], 13600.0, rtol=1e-4)
    np.testing.assert_allclose(tot[:, 1:3], 0.0, atol=0.05)  # GeV; float32 storage rounding
    np.testing.assert_allclose(tot[:, 3], 0.0, atol=13600.0 * 1e-4)


def test_ranges_padding_and_ordering(z_sample):
    p = z_sample.particles
    m = p.mask
    assert ((np.arange(m.shape[1]) < m.sum(1)[:, None]) == m).all()  # real entries first
    assert (p.pt[m] > 0).all() and np.isfinite(p.eta[m]).all()
    assert (np.abs(p.phi[m]) <= np.pi + 1e-6).all() and (p.mass[m] >= 0).all()
    for f in p._fields:
        assert not np.asarray(getattr(p, f))[~m].any(), f"padding of {f} not zero"
    assert (np.diff(np.where(m, p.pt, -1), axis=1) <= 0).all()  # pT-ordered
    assert p.pt.dtype == np.float32 and p.pdg.dtype == np.int32 and m.dtype == bool


def test_vertices_in_mm(z_sample):
    p = z_sample.particles
    r = np.sqrt(p.vx**2 + p.vy**2 + p.vz**2)[p.mask]
    # no beam spot: prompt particles at the origin (or moved by strong decays, ct ~ 1e-13 mm);
    # photons from pi0 -> gg (ct = 25 nm, boosted) at the um scale; b/c-hadron and tau decay
    # products (ct < 10 mm, boosted) at the mm scale; hadrons with ct > 10 mm are left undecayed
    assert np.mean(r < 1e-3) > 0.7
    displaced = r[r > 1e-3]
    assert len(displaced) > 0 and 1e-3 < np.median(displaced) < 1.0 and displaced.max() < 2000.0
    assert not np.isin(np.abs(p.pdg[p.mask]), (111,)).any()  # pi0 (ct = 25 nm) decays
    assert np.isin(np.abs(p.pdg[p.mask]), (310, 3122, 130)).any()  # K0S, Lambda, K0L kept


def test_beam_spot_settings_spread_primary_vertices(tmp_path):
    s = generate(
        "h_tautau", 40, 4, settings=beam_spot_settings(sigma_z=35.0, sigma_xy=0.01), cache_dir=tmp_path, progress=False
    )
    p = s.particles
    vz = np.array([np.median(p.vz[i][p.mask[i]]) for i in range(40)])  # per-event primary vertex z
    vx = np.array([np.median(p.vx[i][p.mask[i]]) for i in range(40)])
    assert 22 < vz.std() < 50, vz.std()  # 35 mm, +-3 sigma for 40 events
    assert vx.std() < 0.05
    with pytest.raises(ValueError, match="sigma_z"):
        beam_spot_settings(sigma_z=-1.0)


def test_boosted_w_fat_jet_mass(w_jets_sample):
    s = w_jets_sample
    assert (np.abs(s.partons.pdg) == 24).any(1).all()  # a W in every event
    w_pt = s.partons.pt[np.abs(s.partons.pdg) == 24]
    assert np.median(w_pt) > 250
    jets = cluster_jets(s.particles, R=0.8, ptmin=200.0, max_jets=2)
    labels = match_jets_to_partons(jets, s.partons, dr=0.8)
    w_mass = jets.mass[np.abs(labels) == 24]
    assert len(w_mass) >= 0.7 * len(s.weights)
    assert 70 < np.median(w_mass) < 95, np.median(w_mass)
    other = jets.mass[jets.mask & (np.abs(labels) != 24)]  # recoiling q/g jets: lighter on average
    assert np.median(other) < np.median(w_mass)


def test_plot_sample_writes_png(w_jets_sample, tmp_path):
    from hepjax.data import plot_sample

    jets = cluster_jets(w_jets_sample.particles, R=0.8, ptmin=200.0, max_jets=2)
    out = plot_sample(w_jets_sample, tmp_path / "w.png", jets=jets)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
