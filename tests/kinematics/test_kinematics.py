"""Four-vectors, Δφ/ΔR and jet substructure of hand-made jets, on NumPy and JAX inputs."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax import kinematics as kin

RNG = np.random.default_rng(0)


def test_cylindrical_cartesian_round_trip():
    pt, eta, phi, m = (
        RNG.uniform(1, 500, 50),
        RNG.uniform(-4, 4, 50),
        RNG.uniform(-np.pi, np.pi, 50),
        RNG.uniform(0, 90, 50),
    )
    back = kin.to_cylindrical(*kin.to_cartesian(pt, eta, phi, m))
    for a, b in zip((pt, eta, phi, m), back, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-5)
    px, py, pz, e = RNG.normal(0, 50, (4, 30))
    e = np.sqrt(px**2 + py**2 + pz**2 + 10.0**2)
    for a, b in zip((px, py, pz, e), kin.to_cartesian(*kin.to_cylindrical(px, py, pz, e)), strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9)
    jback = kin.to_cylindrical(*kin.to_cartesian(*(jnp.asarray(a, jnp.float32) for a in (pt, eta, phi, m))))
    assert isinstance(jback[0], jax.Array)
    np.testing.assert_allclose(np.asarray(jback[0]), pt, rtol=1e-5)


def test_delta_phi_wraps_into_half_open_interval():
    assert kin.delta_phi(np.pi, 0.0) == pytest.approx(-np.pi)  # +π maps to -π: [-π, π)
    assert kin.delta_phi(-np.pi, 0.0) == pytest.approx(-np.pi)
    assert kin.delta_phi(np.pi - 0.1, -np.pi + 0.1) == pytest.approx(-0.2)
    assert kin.delta_phi(-np.pi + 0.1, np.pi - 0.1) == pytest.approx(0.2)
    d = kin.delta_phi(RNG.uniform(-10, 10, 1000), RNG.uniform(-10, 10, 1000))
    assert d.min() >= -np.pi and d.max() < np.pi
    np.testing.assert_allclose(
        np.asarray(kin.delta_phi(jnp.float32(3.0), jnp.float32(-3.0))), 6.0 - 2 * np.pi, rtol=1e-5
    )
    assert kin.delta_r(0.0, np.pi - 0.1, 0.3, -np.pi + 0.3) == pytest.approx(0.5)
    np.testing.assert_allclose(kin.wrap_phi(np.array([3 * np.pi, -3 * np.pi + 0.5])), [-np.pi, -np.pi + 0.5])


def test_invariant_masses_of_known_systems():
    # Z -> two massless leptons back to back in the transverse plane, each 45.6 GeV at eta = 0
    assert kin.invariant_mass(
        np.array([45.6, 45.6]), np.zeros(2), np.array([0.0, np.pi]), np.zeros(2)
    ) == pytest.approx(91.2)
    # two photons at opening angle ΔR in the small-angle limit: m² ≈ pT1 pT2 ΔR²
    m = kin.invariant_mass(np.array([100.0, 100.0]), np.array([0.0, 0.01]), np.zeros(2), np.zeros(2))
    assert m == pytest.approx(100.0 * 0.01, rel=1e-4)
    # one massive particle (masked padding ignored), and the jnp path under jit
    pt, eta, phi, mass = (np.array([80.0, 999.0]), np.array([1.3, 0.0]), np.array([2.0, 0.0]), np.array([80.4, 5.0]))
    mask = np.array([True, False])
    assert kin.invariant_mass(pt, eta, phi, mass, mask) == pytest.approx(80.4, rel=1e-6)
    jm = jax.jit(kin.invariant_mass)(*(jnp.asarray(a) for a in (pt, eta, phi, mass, mask)))
    assert float(jm) == pytest.approx(80.4, rel=1e-4)
    assert kin.log_rho(80.0, 400.0) == pytest.approx(np.log(0.04))


def _jet(prongs, n_soft=20, seed=1):
    """Constituents ``[n]`` of a jet at (0, 0): ``prongs`` = [(pT, eta, phi), ...] cores of 3 tight
    particles each, plus ``n_soft`` soft wide-angle particles."""
    rng = np.random.default_rng(seed)
    pt, eta, phi = [], [], []
    for p, e, f in prongs:
        for _ in range(3):
            pt.append(p / 3), eta.append(e + rng.normal(0, 0.01)), phi.append(f + rng.normal(0, 0.01))
    for _ in range(n_soft):
        r, a = rng.uniform(0.05, 0.7), rng.uniform(0, 2 * np.pi)
        pt.append(rng.uniform(0.5, 2.0)), eta.append(r * np.cos(a)), phi.append(r * np.sin(a))
    order = np.argsort(pt)[::-1]
    return tuple(np.array(v)[order] for v in (pt, eta, phi))


def _padded(jets, n=40):
    out = np.zeros((4, len(jets), n))
    for j, (pt, eta, phi) in enumerate(jets):
        k = len(pt)
        out[0, j, :k], out[1, j, :k], out[2, j, :k], out[3, j, :k] = pt, eta, phi, 1.0
    pt, eta, phi, mask = out
    # padding holds junk angles: the masks must keep it out
    eta = np.where(mask > 0, eta, 3.0)
    return pt, eta, phi, np.zeros_like(pt), mask > 0


ONE = _jet([(400.0, 0.0, 0.0)])
TWO = _jet([(240.0, -0.2, 0.1), (160.0, 0.2, -0.1)])


def test_nsubjettiness_and_ecf_ratios_separate_prongs():
    pt, eta, phi, mass, mask = _padded([ONE, TWO])
    tau1, tau2 = (kin.nsubjettiness(pt, eta, phi, mass, mask, n) for n in (1, 2))
    tau21 = tau2 / tau1
    assert tau21[1] < 0.3 < tau21[0]  # two prongs: the second axis removes most of τ1
    assert tau1[0] < tau1[1]
    for f in (kin.c2, kin.d2):
        v = f(pt, eta, phi, mask)
        assert v[1] < v[0]  # both ratios are small for two-prong jets
    assert kin.multiplicity(mask).tolist() == [23, 26]


def _brute_force_ecf(pt, eta, phi, beta):
    """Independent O(n³) loops over distinct pairs/triplets (fjcontrib's EnergyCorrelator is not exposed
    by the ``fastjet`` Python package)."""
    z = pt / pt.sum()

    def dr(i, j):
        d = (phi[i] - phi[j] + np.pi) % (2 * np.pi) - np.pi
        return np.sqrt((eta[i] - eta[j]) ** 2 + d**2)

    n = len(pt)
    e2 = sum(z[i] * z[j] * dr(i, j) ** beta for i, j in itertools.combinations(range(n), 2))
    e3 = sum(
        z[i] * z[j] * z[k] * (dr(i, j) * dr(i, k) * dr(j, k)) ** beta for i, j, k in itertools.combinations(range(n), 3)
    )
    return e2, e3


@pytest.mark.parametrize("beta", [1.0, 2.0])
def test_c2_d2_match_brute_force(beta):
    pt, eta, phi, _, mask = _padded([ONE, TWO])
    c2, d2 = kin.c2(pt, eta, phi, mask, beta=beta), kin.d2(pt, eta, phi, mask, beta=beta)
    for j, (p, e, f) in enumerate([ONE, TWO]):
        e2, e3 = _brute_force_ecf(p, e, f, beta)
        np.testing.assert_allclose([c2[j], d2[j]], [e3 / e2**2, e3 / e2**3], rtol=1e-10)


def test_closed_form_observables_jit_equals_numpy():
    pt, eta, phi, _, mask = _padded([ONE, TWO])
    jargs = tuple(jnp.asarray(a) for a in (pt, eta, phi, mask))
    for f in (kin.c2, kin.d2, kin.girth):
        eager, jitted = f(*jargs), jax.jit(f)(*jargs)
        np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), rtol=1e-5)
        np.testing.assert_allclose(np.asarray(eager), f(pt, eta, phi, mask), rtol=1e-4)
    np.testing.assert_allclose(np.asarray(jax.jit(kin.ptd)(jargs[0], jargs[3])), kin.ptd(pt, mask), rtol=1e-5)


def test_ptd_girth_on_hand_values():
    pt = np.array([[30.0, 10.0, 0.0]])
    eta = np.array([[0.0, 0.4, 9.0]])
    phi = np.zeros((1, 3))
    mask = np.array([[True, True, False]])
    assert kin.ptd(pt, mask)[0] == pytest.approx(np.sqrt(1000.0) / 40.0)
    # pT-weighted axis at eta = 0.1: girth = (30 * 0.1 + 10 * 0.3) / 40
    assert kin.girth(pt, eta, phi, mask)[0] == pytest.approx(0.15)
    assert kin.girth(pt, eta, phi, mask, axis=(np.zeros(1), np.zeros(1)), pt_jet=np.array([50.0]))[0] == pytest.approx(
        0.08
    )


def test_soft_drop_zg():
    # two hard prongs with pT fractions 0.3 / 0.7 and a soft wide-angle particle (z < 0.1, groomed away)
    pt = np.array([[70.0, 30.0, 3.0, 0.0]])
    eta = np.array([[0.0, 0.3, -0.6, 0.0]])
    phi = np.array([[0.0, 0.0, 0.4, 0.0]])
    mask = np.array([[True, True, True, False]])
    zg = kin.soft_drop_zg(pt, eta, phi, np.zeros_like(pt), mask)
    assert zg[0] == pytest.approx(0.3, rel=1e-3)
    # z_cut above both splittings: nothing passes
    assert kin.soft_drop_zg(pt, eta, phi, np.zeros_like(pt), mask, z_cut=0.4)[0] == 0.0
    # a single constituent has no splitting
    one = np.array([[True, False, False, False]])
    assert kin.soft_drop_zg(pt, eta, phi, np.zeros_like(pt), one)[0] == 0.0
