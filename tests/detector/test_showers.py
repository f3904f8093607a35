"""Calorimeter showers: front-face impact vs the NumPy helix, EM containment, energy bookkeeping,
truth fractions, gradients vs finite differences, the pT threshold, reproducibility."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.data.particles import pad_events
from hepjax.detector import CaloGrid, cms_like
from hepjax.detector import helix as hx
from hepjax.detector.impact import front_point, min_pt_to_reach
from hepjax.detector.params import CaloResolution
from hepjax.detector.profiles import containment, core_weight
from hepjax.detector.showers import CaloLayout, cms_showers, showers, showers_checked, truth_table
from hepjax.errors import ConfigError

LAYOUT = CaloLayout()
# CMS cell sizes on a region of interest |η| ≲ 0.5 (full φ): small and fast
ECAL_ROI = CaloGrid(n_eta=58, n_phi=360, eta_max=29 * 0.0174)
HCAL_ROI = CaloGrid(n_eta=14, n_phi=72, eta_max=7 * 0.087)
MASSES = {22: 0.0, 11: 0.000511, 13: 0.1057, 211: 0.1396, 2112: 0.9396, 130: 0.4976}

_showers = jax.jit(showers, static_argnames=("layout", "hard", "particle_noise_term"))
_front = jax.jit(front_point, static_argnames=("radius", "b_field"))


def _event(rows, n=8):
    """rows: (pdg, charge, pt, eta, phi); padded to n particles."""
    cols = list(zip(*rows))
    pdg = np.array(cols[0])
    ev = dict(
        pdg=pdg,
        charge=np.array(cols[1], float),
        pt=np.array(cols[2], float),
        eta=np.array(cols[3], float),
        phi=np.array(cols[4], float),
        mass=np.array([MASSES[abs(int(x))] for x in pdg]),
    )
    ev |= {k: np.zeros(len(pdg)) for k in ("vx", "vy", "vz")}
    return pad_events([ev], n)


def _det():
    return cms_like(ecal_grid=ECAL_ROI, hcal_grid=HCAL_ROI)


def _with_resolution(det, ecal: CaloResolution, hcal: CaloResolution):
    return dataclasses.replace(
        det, ecal=dataclasses.replace(det.ecal, resolution=ecal), hcal=dataclasses.replace(det.hcal, resolution=hcal)
    )


def _no_smearing(res: CaloResolution) -> CaloResolution:
    z = jnp.zeros_like(res.stochastic)
    return CaloResolution(res.eta_edges, z, z, z)


MIXED = [
    (22, 0, 15.0, 0.10, 0.5),
    (11, -1, 8.0, -0.20, -2.0),
    (211, 1, 12.0, 0.25, 1.5),
    (-211, -1, 4.0, -0.05, 3.0),
    (2112, 0, 20.0, 0.15, -0.7),
    (13, -1, 25.0, -0.25, 2.4),
]


def test_front_point_matches_numpy_helix():
    rng = np.random.default_rng(0)
    n = 200
    pt = rng.uniform(0.8, 20.0, n)
    eta = rng.uniform(-2.5, 2.5, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    q = rng.choice([-1.0, 1.0], n)
    vz = rng.normal(0.0, 30.0, n)
    with jax.enable_x64(True):
        fp = _front(pt, eta, phi, q, vz, radius=1.29, z_front=3.154, b_field=3.8)
        fe, ff, fr, fa = (np.asarray(x) for x in fp)
    assert fa.all()
    # the helix of hepjax.detector.helix (mm), walked to the arc length where it meets the front
    state = hx.HelixState(np.zeros(n), np.zeros(n), vz, phi, np.sinh(eta), pt, q)
    rho = hx.radius_mm(pt, q, 3.8)
    s_barrel = 2 * rho * np.arcsin(1290.0 / (2 * rho))
    s_disk = (3154.0 - np.sign(eta) * vz) / np.abs(np.sinh(eta))
    s = np.minimum(s_barrel, s_disk)
    x, y, z = hx.position(state, s, 3.8)
    r = np.hypot(x, y)
    np.testing.assert_allclose(fr, r / 1000.0, rtol=1e-9)
    np.testing.assert_allclose(ff, np.arctan2(y, x), atol=1e-9)
    np.testing.assert_allclose(fe, np.arcsinh(z / r), atol=1e-9)
    barrel = s_barrel < s_disk
    np.testing.assert_allclose(r[barrel], 1290.0, rtol=1e-9)
    np.testing.assert_allclose(np.abs(z[~barrel]), 3154.0, rtol=1e-9)


def test_below_pt_threshold_never_arrives():
    thr = min_pt_to_reach(1.29, 3.8)
    assert thr == pytest.approx(0.2998 * 3.8 * 1.29 / 2, rel=1e-3)
    fp = _front(
        np.array([0.9 * thr, 1.1 * thr, 0.5]), np.array([0.0, 0.0, 0.0]), np.zeros(3), np.array([1.0, -1.0, 0.0]),
        np.zeros(3), radius=1.29, z_front=3.154, b_field=3.8,
    )  # fmt: skip
    assert np.asarray(fp.arrives).tolist() == [False, True, True]  # a neutral always arrives


def test_charged_below_threshold_deposits_nothing():
    thr_e, thr_h = min_pt_to_reach(LAYOUT.ecal_radius, 3.8), min_pt_to_reach(LAYOUT.hcal_radius, 3.8)
    ev = _event([(211, 1, 0.9 * thr_e, 0.1, 0.3), (-211, -1, 0.5 * (thr_e + thr_h), -0.1, -1.0)])
    c = _showers(jax.random.key(1), ev, _det(), cms_showers())
    e_dep, h_dep = np.asarray(c.ecal_e)[0], np.asarray(c.hcal_e)[0]
    assert e_dep[0] == 0 and h_dep[0] == 0  # never reaches the ECAL
    assert e_dep[1] > 0 and h_dep[1] == 0  # reaches the ECAL, curls up before the HCAL
    assert np.asarray(c.ecal_true).sum() == pytest.approx(e_dep[1], rel=1e-5)
    assert np.asarray(c.hcal_true).sum() == 0


def test_em_core_weight_gives_the_containment():
    w = core_weight(jnp.array(0.3), jnp.array(1.0), jnp.array(0.9))
    assert 0 < float(w) < 1
    frac = containment(jnp.array(1.0), jnp.array([0.3, 1.0]), jnp.array([w, 1 - w]))
    assert float(frac) == pytest.approx(0.9, abs=1e-6)


def test_photon_holds_90_percent_within_one_moliere_radius():
    """Cells integrated on a grid 6× finer than the Molière radius; the ring of one R_M, converted at
    the impact's distance from the beam (barrel: R; endcap: Z / sinh η), holds ~90 % of the shower."""
    sp = cms_showers()
    etas, phis = (0.0, 2.2), (0.2, -1.0)
    rings = [float(sp.moliere_radius) / (LAYOUT.ecal_radius if e == 0 else LAYOUT.ecal_z / math.sinh(e)) for e in etas]
    d = rings[0] / 6.0
    n_phi = int(round(2 * math.pi / d))
    n_eta = 2 * int(math.ceil((etas[1] + 5 * rings[1]) / d))
    grid = CaloGrid(n_eta=n_eta, n_phi=n_phi, eta_max=n_eta * d / 2)
    det = cms_like(ecal_grid=grid, hcal_grid=HCAL_ROI)
    ev = _event([(22, 0, 50.0 / math.cosh(e), e, p) for e, p in zip(etas, phis)], n=2)
    layout = dataclasses.replace(LAYOUT, ecal_window=int(5 * rings[1] / d))
    c = jax.jit(showers, static_argnames=("layout",))(jax.random.key(0), ev, det, sp, layout)
    idx, con = np.asarray(c.ecal_index)[0], np.asarray(c.ecal_contrib)[0]
    ce = -grid.eta_max + (idx // n_phi + 0.5) * grid.d_eta
    cp = -np.pi + (idx % n_phi + 0.5) * grid.d_phi
    for k, (eta, phi, ring) in enumerate(zip(etas, phis, rings)):
        assert (idx[k] >= 0).all()  # the whole window on the grid
        dr2 = (ce[k] - eta) ** 2 + (np.mod(cp[k] - phi + np.pi, 2 * np.pi) - np.pi) ** 2
        total = con[k].sum()
        assert total == pytest.approx(float(c.ecal_e[0, k]), rel=1e-5)
        assert con[k][dr2 < ring**2].sum() / total == pytest.approx(0.90, abs=0.015), eta
        assert con[k][dr2 < (3.5 * ring) ** 2].sum() / total > 0.99
    np.testing.assert_allclose(np.asarray(c.ecal_true).sum(), con.sum(), rtol=1e-5)


def test_energy_bookkeeping_before_noise():
    """Σ cells (noise-free) = Σ particle deposits; with h/e = 1, no MIP term and no resolution
    smearing a hadron's ECAL + HCAL energy is E·(1 − leak); a photon's is E."""
    det = _det()
    det = _with_resolution(det, _no_smearing(det.ecal.resolution), _no_smearing(det.hcal.resolution))
    sp = cms_showers(h_over_e_ecal=1.0, h_over_e_hcal=1.0, mip_ecal=0.0, mip_hcal=0.0, hcal_depth=1.5)
    ev = _event(MIXED[:5])
    c = _showers(jax.random.key(3), ev, det, sp)
    e_dep, h_dep, leak = (np.asarray(x)[0] for x in (c.ecal_e, c.hcal_e, c.leak))
    np.testing.assert_allclose(np.asarray(c.ecal_true).sum(), e_dep.sum(), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(c.hcal_true).sum(), h_dep.sum(), rtol=1e-5)
    energy = np.asarray(ev.energy)[0]
    had = np.isin(np.abs(ev.pdg[0]), [211, 2112])
    np.testing.assert_allclose((e_dep + h_dep)[had], (energy * (1 - leak))[had], rtol=1e-5)
    assert (leak[had] > 0).all() and (leak[had] < 0.5).all()  # a 2.6 λ_I deep stack leaks
    np.testing.assert_allclose(e_dep[:2], energy[:2], rtol=1e-5)
    assert (h_dep[:2] == 0).all()


def test_truth_table_sums_to_cells_and_deposits():
    ev = _event(MIXED)
    c = _showers(jax.random.key(4), ev, _det(), cms_showers())
    for calo in ("ecal", "hcal"):
        t = truth_table(getattr(c, f"{calo}_index"), getattr(c, f"{calo}_contrib"))
        cells = np.asarray(getattr(c, f"{calo}_true"), np.float64).reshape(-1)
        rebuilt = np.bincount(t.cell, weights=t.energy, minlength=cells.size)
        np.testing.assert_allclose(rebuilt, cells, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(np.bincount(t.cell, weights=t.fraction)[np.unique(t.cell)], 1.0, rtol=1e-9)
        per_particle = np.bincount(t.particle, weights=t.energy, minlength=8)
        np.testing.assert_allclose(per_particle, np.asarray(getattr(c, f"{calo}_e"))[0], rtol=1e-4, atol=1e-6)


def test_same_key_same_cells_other_key_other_cells():
    ev, det, sp = _event(MIXED), _det(), cms_showers()
    a = _showers(jax.random.key(7), ev, det, sp)
    b = _showers(jax.random.key(7), ev, det, sp)
    o = _showers(jax.random.key(8), ev, det, sp)
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert not np.allclose(np.asarray(a.ecal), np.asarray(o.ecal))
    # threshold 0 (the default) is no threshold: the noise stays symmetric around the true energies
    noise = (np.asarray(a.ecal) - np.asarray(a.ecal_true)) / float(sp.ecal_noise)
    assert abs(noise.mean()) < 0.05 and noise.std() == pytest.approx(1.0, abs=0.05)


def test_gradient_matches_finite_differences():
    """d(Σ w·cells)/d(particle pT, η) and /d(stochastic terms), fixed key, float64, soft threshold."""
    with jax.enable_x64(True):
        ev = _event(MIXED)
        ev = type(ev)(*(np.asarray(x, np.float64) if x.dtype == np.float32 else x for x in ev))
        det = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), _det())
        sp = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), cms_showers(ecal_threshold=0.05, hcal_threshold=0.3))
        rng = np.random.default_rng(5)
        we = jnp.asarray(rng.uniform(0, 1, (ECAL_ROI.n_eta, ECAL_ROI.n_phi)))
        wh = jnp.asarray(rng.uniform(0, 1, (HCAL_ROI.n_eta, HCAL_ROI.n_phi)))
        key = jax.random.key(11)

        def f(pt, eta, s_e, s_h):
            d = _with_resolution(
                det,
                dataclasses.replace(det.ecal.resolution, stochastic=s_e),
                dataclasses.replace(det.hcal.resolution, stochastic=s_h),
            )
            c = showers(key, ev._replace(pt=pt, eta=eta), d, sp)
            return jnp.sum(we * c.ecal[0]) + jnp.sum(wh * c.hcal[0])

        args = (jnp.asarray(ev.pt), jnp.asarray(ev.eta), det.ecal.resolution.stochastic, det.hcal.resolution.stochastic)
        vg = jax.jit(jax.value_and_grad(f, argnums=(0, 1, 2, 3)))  # one compilation for values and gradients
        grads = vg(*args)[1]
        h = 1e-5
        # pT (so E) of the photon, π⁺ and neutron; η of the π⁻ (on its helix) and the photon; S of ECAL, HCAL
        for argnum, slot in ((0, (0, 0)), (0, (0, 2)), (0, (0, 4)), (1, (0, 3)), (1, (0, 0)), (2, (0,)), (3, (0,))):
            e = np.zeros(args[argnum].shape)
            e[slot] = h
            up, dn = list(args), list(args)
            up[argnum] = args[argnum] + e
            dn[argnum] = args[argnum] - e
            fd = (vg(*up)[0] - vg(*dn)[0]) / (2 * h)
            g = float(grads[argnum][slot])
            assert g == pytest.approx(float(fd), rel=1e-5, abs=1e-7), (argnum, slot)
            assert g != 0.0


def test_bad_input_is_refused_with_the_field_named():
    with pytest.raises(ConfigError, match="unknown ShowerParams field"):
        cms_showers(moliere=0.02)
    with pytest.raises(ConfigError, match="ShowerParams.ecal_noise must be > 0"):
        showers_checked(jax.random.key(0), _event(MIXED), _det(), cms_showers(ecal_noise=0.0))
    with pytest.raises(ConfigError, match="em_containment"):
        showers_checked(jax.random.key(0), _event(MIXED), _det(), cms_showers(em_containment=0.999))
    with pytest.raises(ConfigError, match="ecal_window"):
        CaloLayout(ecal_window=-1)
    bad = _event(MIXED)
    bad.eta[0, 2] = np.nan
    with pytest.raises(ValueError, match=r"Particles.eta is not finite .* index \(0, 2\)"):
        showers_checked(jax.random.key(0), bad, _det(), cms_showers())
