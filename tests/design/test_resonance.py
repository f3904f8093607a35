"""The diphoton-resonance pieces of design study (a): selection, ECAL scaling, soft-window yields, grid."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.data.particles import pad_events
from hepjax.design.resonance import (
    DESIGN_PARAMS,
    grid_search,
    isolation,
    resonance_objective,
    scale_ecal,
    select_diphotons,
    window_yield,
)
from hepjax.detector import cms_like, draw_noise
from hepjax.errors import DataError


def _event(pt, eta, phi, pdg):
    n = len(pt)
    return dict(
        pt=pt, eta=eta, phi=phi, mass=[0.0] * n, pdg=pdg, charge=[0.0] * n, vx=[0.0] * n, vy=[0.0] * n, vz=[0.0] * n
    )


def _events():
    return pad_events(
        [
            # two isolated photons, a far-away pion and a neutrino next to a photon (invisible: not counted)
            _event([60.0, 40.0, 5.0, 30.0], [0.1, -0.8, 2.0, 0.15], [0.2, 2.9, -1.5, 0.25], [22, 22, 211, 12]),
            # the leading photon sits in a jet (10 GeV of pion within 0.3): the next isolated photon is too soft
            _event([70.0, 10.0, 30.0, 20.0], [0.5, 0.6, -1.0, 1.0], [1.0, 1.1, -2.0, 0.0], [22, 211, 22, 22]),
            # the subleading photon fails pT > 25 GeV
            _event([80.0, 20.0], [0.0, 1.0], [0.0, 3.0], [22, 22]),
            # three isolated photons: the two leading are taken
            _event([50.0, 45.0, 30.0], [0.0, 1.2, -1.2], [0.0, 2.0, -2.0], [22, 22, 22]),
        ]
    )


def test_isolation_matches_a_loop():
    rng = np.random.default_rng(0)
    events = [
        _event(
            list(rng.uniform(1, 50, 12)),
            list(rng.uniform(-1, 1, 12)),
            list(rng.uniform(-np.pi, np.pi, 12)),
            list(rng.choice([22, 211, 12, 130], 12)),
        )
        for _ in range(5)
    ]
    p = pad_events(events)
    index = np.tile(np.arange(3), (5, 1))
    got = isolation(p, index, 0.4)
    for e in range(5):
        for k in range(3):
            want = 0.0
            for j in range(12):
                dphi = (p.phi[e, j] - p.phi[e, k] + np.pi) % (2 * np.pi) - np.pi
                near = np.hypot(p.eta[e, j] - p.eta[e, k], dphi) < 0.4
                if j != k and near and abs(p.pdg[e, j]) not in (12, 14, 16):
                    want += p.pt[e, j]
            assert got[e, k] == pytest.approx(want, rel=1e-5)


def test_select_diphotons_keeps_the_two_leading_isolated_photons():
    d = select_diphotons(_events(), cross_section_fb=2.0, luminosity_fb=100.0)
    assert d.n_generated == 4
    np.testing.assert_allclose(d.photons.pt, [[60.0, 40.0], [50.0, 45.0]])
    assert (d.photons.pdg == 22).all()
    np.testing.assert_allclose(d.weight, 2.0 * 100.0 / 4)  # σ L / N_generated per selected event


def test_select_diphotons_refuses_an_empty_selection_and_bad_normalisation():
    with pytest.raises(DataError, match="no event"):
        select_diphotons(_events(), 1.0, 1.0, pt_min=(500.0, 400.0))
    with pytest.raises(DataError, match="cross-section"):
        select_diphotons(_events(), 0.0, 1.0)


def test_scale_ecal_scales_only_the_ecal_terms():
    det = cms_like()
    out = scale_ecal(det, 0.5, 2.0)
    np.testing.assert_allclose(out.ecal.resolution.stochastic, 0.5 * det.ecal.resolution.stochastic)
    np.testing.assert_allclose(out.ecal.resolution.constant, 2.0 * det.ecal.resolution.constant)
    np.testing.assert_allclose(out.ecal.resolution.noise, det.ecal.resolution.noise)
    np.testing.assert_allclose(out.hcal.resolution.stochastic, det.hcal.resolution.stochastic)


def _toy_sample(n, mass, width, seed):
    """Back-to-back photon pairs at η = 0 with invariant mass ~ N(mass, width) (GeV)."""
    m = np.random.default_rng(seed).normal(mass, width, n)
    events = [_event([x / 2, x / 2], [0.0, 0.0], [0.0, -np.pi + 1e-6], [22, 22]) for x in m]
    from hepjax.design.resonance import Diphotons

    return Diphotons(pad_events(events), np.full(n, 2.0), n)


def test_window_yield_gradients_match_finite_differences():
    with jax.enable_x64(True):
        sig = _toy_sample(64, 125.0, 0.5, 0)
        sig = sig._replace(photons=type(sig.photons)(*(jnp.asarray(x) for x in sig.photons)))
        det = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), cms_like())
        noise = draw_noise(jax.random.key(1), sig.photons.pt.shape, jnp.float64)

        @jax.jit
        def f(a, lo):
            return window_yield(sig, scale_ecal(det, a, 1.0), noise, lo, 126.0, 3.0)

        ga, glo = (float(g) for g in jax.jit(jax.grad(f, argnums=(0, 1)))(1.0, 124.0))
        h = 1e-5
        assert ga == pytest.approx(float(f(1 + h, 124.0) - f(1 - h, 124.0)) / (2 * h), rel=1e-5)
        assert glo == pytest.approx(float(f(1.0, 124.0 + h) - f(1.0, 124.0 - h)) / (2 * h), rel=1e-5)
        assert ga < 0  # a worse stochastic term moves signal out of the window


def test_grid_search_equals_the_objective_point_by_point():
    sig, bkg = _toy_sample(40, 125.0, 1.0, 0), _toy_sample(200, 125.0, 15.0, 1)
    obj = resonance_objective(sig, bkg, cms_like(), bkg_uncertainty=0.01, cost_weight=1.0, slope=4.0)
    axes = {"stochastic_scale": [0.5, 1.0], "constant_scale": [1.0, 2.0], "centre": [125.0], "half_width": [1.0, 3.0]}
    key = jax.random.key(2)
    res = grid_search(obj, axes, key, batch=3, progress=False)  # 8 points: batches of 3, the last padded
    assert res.values.shape == (2, 2, 1, 2) and res.compilations == 1
    one = jax.jit(obj)
    for idx in np.ndindex(res.values.shape):
        p = {n: jnp.float32(axes[n][i]) for n, i in zip(DESIGN_PARAMS, idx)}
        assert res.values[idx] == pytest.approx(float(one(p, key)), rel=1e-5)
    start = {n: jnp.float32(v) for n, v in zip(DESIGN_PARAMS, (1.0, 1.0, 125.0, 2.0))}
    parts = jax.jit(obj.parts)(start, key)
    assert float(parts["cost"]) == pytest.approx(1.0)  # cms_like() costs 1
    assert float(parts["objective"]) == pytest.approx(float(parts["z0"]) - 1.0, rel=1e-6)
