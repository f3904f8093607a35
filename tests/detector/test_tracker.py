"""Barrel tracker: hits on helices, layer order, pT = 0.3 B R, noise, efficiency, pileup, bad input."""

import dataclasses

import numpy as np
import pytest

from hepjax.data.particles import Particles
from hepjax.detector import helix as hx
from hepjax.detector.tracker import (
    Hits,
    TrackerGeometry,
    overlay_pileup,
    simulate_event_hits,
)


def make_event(n, seed=0, *, pt_min=0.5, eta_max=1.5, vz_sigma=0.0, vxy_sigma=0.0):
    rng = np.random.default_rng(seed)
    f = lambda a: np.asarray(a, np.float32)
    return Particles(
        pt=f(pt_min + rng.exponential(2.0, n)),
        eta=f(rng.uniform(-eta_max, eta_max, n)),
        phi=f(rng.uniform(-np.pi, np.pi, n)),
        mass=f(np.full(n, 0.1396)),
        pdg=np.full(n, 211, np.int32),
        charge=f(rng.choice([-1.0, 1.0], n)),
        vx=f(rng.normal(0, vxy_sigma, n)),
        vy=f(rng.normal(0, vxy_sigma, n)),
        vz=f(rng.normal(0, vz_sigma, n)),
        mask=np.ones(n, bool),
    )


def ideal(**kw):
    zero = (0.0,) * 10
    base = dict(sigma_rphi=zero, sigma_z=zero, material=zero, efficiency=1.0, noise_density=0.0)
    return dataclasses.replace(TrackerGeometry(), **{**base, **kw})


def state_of(p, i):
    f = lambda a: np.asarray([a[i]], np.float64)
    return hx.HelixState(f(p.vx), f(p.vy), f(p.vz), f(p.phi), np.sinh(f(p.eta)), f(p.pt), f(p.charge))


def rk4_lorentz(p, i, s_end, b_field, n_steps=1500):
    """Slow reference: integrate d(u)/ds = (q B c / |p|) u x z-hat with RK4 (units GeV, T, mm)."""
    pt, eta, phi, q = (float(np.asarray(a[i], np.float64)) for a in (p.pt, p.eta, p.phi, p.charge))
    pvec = np.array([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)])
    x = np.array([p.vx[i], p.vy[i], p.vz[i]], np.float64)
    ds = s_end / n_steps  # transverse arc length; dl = ds * |p| / pT
    k = q * hx.C_LIGHT * b_field * 1e-3  # GeV/mm per unit transverse length

    def f(y):
        mom = y[3:]
        v = mom / np.hypot(mom[0], mom[1])
        return np.concatenate([v, k * np.cross(v, [0.0, 0.0, 1.0])])

    y = np.concatenate([x, pvec])
    for _ in range(n_steps):
        k1 = f(y)
        k2 = f(y + ds / 2 * k1)
        k3 = f(y + ds / 2 * k2)
        k4 = f(y + ds * k3)
        y = y + ds / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y[:3]


def test_helix_matches_lorentz_force_integration():
    p = make_event(4, seed=3, pt_min=0.3, vz_sigma=20.0, vxy_sigma=1.0)
    for i in range(4):
        for s in (100.0, 700.0):
            ref = rk4_lorentz(p, i, s, 2.0)
            got = np.array([c[0] for c in hx.position(state_of(p, i), np.array([s]), 2.0)])
            np.testing.assert_allclose(got, ref, atol=1e-6)


def test_hits_lie_on_helix_to_resolution():
    g = dataclasses.replace(TrackerGeometry(), material=(0.0,) * 10, efficiency=1.0, noise_density=0.0)
    p = make_event(300, seed=1, vz_sigma=30.0, vxy_sigma=0.05)
    h = simulate_event_hits(p, g, 7, multiple_scattering=False)
    assert h.n > 2000 and (h.particle_id >= 0).all()
    i, lay = h.particle_id.astype(int), h.layer.astype(int)
    R = np.asarray(g.barrel_radii)[lay]
    f = lambda a: np.asarray(a, np.float64)[i]
    st = hx.HelixState(f(p.vx), f(p.vy), f(p.vz), f(p.phi), np.sinh(f(p.eta)), f(p.pt), f(p.charge))
    # the helix point at radius R on the outgoing branch, by bisection on s (r grows with s there)
    lo, hi = np.zeros(h.n), np.pi * hx.radius_mm(st.pt, st.charge, g.b_field)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        x, y, _ = hx.position(st, mid, g.b_field)
        inside = np.hypot(x, y) < R
        lo, hi = np.where(inside, mid, lo), np.where(inside, hi, mid)
    x, y, z = hx.position(st, lo, g.b_field)
    dphi = np.angle(np.exp(1j * (np.arctan2(h.y, h.x) - np.arctan2(y, x))))
    pulls_rphi = R * dphi / np.asarray(g.sigma_rphi)[lay]
    pulls_z = (h.z - z) / np.asarray(g.sigma_z)[lay]
    np.testing.assert_allclose(h.r, R, atol=1e-3)  # measured on the layer surface
    for pulls in (np.array(pulls_rphi), np.array(pulls_z)):
        assert np.abs(pulls).max() < 6.0
        assert abs(pulls.mean()) < 0.1 and 0.9 < pulls.std() < 1.1


@pytest.mark.parametrize("ms", [False, True])
def test_layers_ordered_in_r_for_outgoing_particles(ms):
    p = make_event(400, seed=2, vz_sigma=50.0)
    h = simulate_event_hits(p, TrackerGeometry(), 3, multiple_scattering=ms, noise=False)
    for i in np.unique(h.particle_id):
        sel = h.particle_id == i
        assert np.all(np.diff(h.order[sel]) == 1)
        assert np.all(np.diff(h.r[sel]) > 0) and np.all(np.diff(h.layer[sel]) > 0)


def test_helix_radius_matches_pt():
    g = ideal()
    p = make_event(200, seed=4, pt_min=0.3)
    h = simulate_event_hits(p, g, 0, multiple_scattering=False)
    n_checked = 0
    for i in np.unique(h.particle_id):
        sel = h.particle_id == i
        if sel.sum() < 3:
            continue
        x, y = h.true_x[sel].astype(np.float64), h.true_y[sel].astype(np.float64)
        # algebraic circle fit: x^2 + y^2 + D x + E y + F = 0 (vertex at the origin is on the circle)
        A = np.c_[np.r_[x, 0.0], np.r_[y, 0.0], np.ones(x.size + 1)]
        D, E, F = np.linalg.lstsq(A, -np.r_[x**2 + y**2, 0.0], rcond=None)[0]
        R = np.sqrt(D**2 / 4 + E**2 / 4 - F)
        expected_m = p.pt[i] / (0.3 * 2.0) * (0.3 / hx.C_LIGHT)
        assert R / 1000.0 == pytest.approx(expected_m, rel=2e-4)  # float32 hit positions
        n_checked += 1
    assert n_checked > 100


def test_efficiency_noise_and_determinism():
    g = TrackerGeometry()
    p = make_event(500, seed=5)
    full = simulate_event_hits(p, g, 11, efficiency=False, noise=False)
    eff = simulate_event_hits(p, g, 11, noise=False)
    frac = eff.n / full.n
    assert abs(frac - g.efficiency) < 4 * np.sqrt(g.efficiency * (1 - g.efficiency) / full.n) + 1e-3
    noisy = simulate_event_hits(p, dataclasses.replace(g, noise_density=1e-4), 11, efficiency=False)
    n_noise = int((noisy.particle_id == -1).sum())
    area = sum(2 * np.pi * r * 2 * hl for r, hl in zip(g.barrel_radii, g.barrel_half_lengths))
    assert abs(n_noise - 1e-4 * area) < 5 * np.sqrt(1e-4 * area)
    noise = noisy.particle_id == -1
    np.testing.assert_allclose(noisy.r[noise], np.asarray(g.barrel_radii)[noisy.layer[noise]], rtol=1e-5)
    again = simulate_event_hits(p, g, 11)
    other = simulate_event_hits(p, g, 12)
    assert all(np.array_equal(a, b) for a, b in zip(simulate_event_hits(p, g, 11), again))
    assert not np.array_equal(again.x[: min(again.n, other.n)], other.x[: min(again.n, other.n)])


def test_highland_and_scatter_spread():
    # PDG: 1 GeV/c, beta ~ 1, x/X0 = 0.01: 13.6 MeV / 1 GeV * 0.1 * (1 + 0.038 ln 0.01)
    got = hx.highland_theta0(np.array([1.0]), np.array([1e-6]), np.array([1.0]), np.array([0.01]))[0]
    assert got == pytest.approx(0.0136 * 0.1 * (1 + 0.038 * np.log(0.01)), rel=1e-6)
    rng = np.random.default_rng(0)
    n = 200_000
    phi0, cot0 = np.zeros(n), np.zeros(n)  # direction +x
    phi, cot = hx.scatter(phi0, cot0, np.full(n, 1e-3), rng)
    assert np.std(phi) == pytest.approx(1e-3, rel=0.02) and np.std(np.arctan(cot)) == pytest.approx(1e-3, rel=0.02)


def test_multiple_scattering_spreads_low_pt_tracks():
    p = make_event(1, seed=0)
    one = Particles(*(np.repeat(f, 400) for f in p))._replace(
        pt=np.full(400, 0.5, np.float32), eta=np.zeros(400, np.float32)
    )
    g = dataclasses.replace(
        TrackerGeometry(), efficiency=1.0, noise_density=0.0, sigma_rphi=(0.0,) * 10, sigma_z=(0.0,) * 10
    )
    h0 = simulate_event_hits(one, g, 0, multiple_scattering=False)
    h1 = simulate_event_hits(one, g, 0, multiple_scattering=True)
    last = lambda h: h.phi[h.layer == 8]
    assert np.ptp(last(h0)) < 1e-5 and np.std(last(h1)) > 1e-3


def test_endcap_disks_record_forward_particles():
    g = ideal(endcap_z=(1200.0, 1500.0), endcap_r_min=30.0, endcap_r_max=1000.0)
    p = make_event(50, seed=6, eta_max=0.1)._replace(eta=np.full(50, 2.2, np.float32), pt=np.full(50, 5.0, np.float32))
    h = simulate_event_hits(p, g, 0)
    disk = h.layer >= g.n_barrel
    assert disk.sum() == 100  # two +z disks each
    np.testing.assert_allclose(np.sort(np.unique(h.z[disk])), [1200.0, 1500.0])
    assert set(np.unique(h.layer[disk])) == {g.n_barrel + 2, g.n_barrel + 3}  # +z disks follow the -z ones


def test_bad_input_is_named():
    p = make_event(5)
    with pytest.raises(ValueError, match="pt"):
        simulate_event_hits(p._replace(pt=np.array([1, np.nan, 1, 1, 1], np.float32)), TrackerGeometry(), 0)
    with pytest.raises(ValueError, match="eta"):
        simulate_event_hits(p._replace(eta=np.array([1, np.inf, 1, 1, 1], np.float32)), TrackerGeometry(), 0)
    with pytest.raises(ValueError, match="ONE event"):
        simulate_event_hits(Particles(*(f[None] for f in p)), TrackerGeometry(), 0)
    with pytest.raises(ValueError, match="sigma_z"):
        TrackerGeometry(sigma_z=(0.1,))
    h = simulate_event_hits(p._replace(mask=np.zeros(5, bool)), TrackerGeometry(), 0, noise=False)
    assert isinstance(h, Hits) and h.n == 0


def test_overlay_pileup():
    hard = make_event(30, seed=7)
    pool_events = [make_event(20, seed=100 + k) for k in range(50)]
    pool = Particles(*(np.stack(f) for f in zip(*pool_events)))
    pool = pool._replace(mask=pool.mask.copy())
    pool.mask[:, 15:] = False  # padding in the pool is dropped
    rng = np.random.default_rng(0)
    counts, vz = [], []
    for _ in range(40):
        ev, origin = overlay_pileup(hard, pool, 20.0, rng, return_origin=True)
        assert (origin[:30] == 0).all() and (origin[30:] > 0).all()
        np.testing.assert_array_equal(ev.pt[:30], hard.pt)
        n_pu = origin.max()
        counts.append(n_pu)
        assert ev.pt.size == 30 + 15 * n_pu
        vz += [ev.vz[origin == k][0] for k in range(n_pu + 1)]
    assert abs(np.mean(counts) - 20.0) < 4 * np.sqrt(20.0 / 40)
    assert 40.0 < np.std(vz) < 60.0
    with pytest.raises(ValueError, match="mu"):
        overlay_pileup(hard, pool, -1.0, rng)
