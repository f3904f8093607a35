"""Design study (c)'s chain: equal-cost budget, detector scaling, bad input, gradient vs finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from hepjax.data.particles import Particles
from hepjax.design import budget_cost, equal_cost_scales, optimize
from hepjax.design.chain import (
    SUBSYSTEMS,
    JetSample,
    central_differences,
    chain_objective,
    fd_max_rel_err,
    make_tagger,
    scale_detector,
)
from hepjax.detector import cms_like
from hepjax.errors import ConfigError, DataError

SHARES = np.array([v[0] for v in SUBSYSTEMS.values()])
POWERS = np.array([v[1] for v in SUBSYSTEMS.values()])


def _jets(rng, n, m, prongs):
    """``n`` synthetic fat jets of ``m`` constituents (pions, photons, K0L) around 1 or 2 prong axes."""
    axis = rng.integers(0, prongs, (n, m))
    eta = 0.3 * axis + rng.normal(0, 0.05, (n, m))
    phi = 0.5 + 0.3 * axis + rng.normal(0, 0.05, (n, m))
    pt = rng.exponential(20.0, (n, m)) + 1.0
    pdg = rng.choice([211, -211, 22, 130], (n, m))
    charge = np.where(pdg == 211, 1.0, np.where(pdg == -211, -1.0, 0.0))
    mass = np.where(np.abs(pdg) == 211, 0.1396, np.where(pdg == 130, 0.4976, 0.0))
    mask = np.ones((n, m), bool)
    mask[:, -2:] = False  # some padding
    z = np.zeros((n, m))
    return Particles(pt=pt, eta=eta, phi=phi, mass=mass, pdg=pdg, charge=charge, vx=z, vy=z, vz=z, mask=mask)


def _objective(n=6, m=8, **kw):
    rng = np.random.default_rng(0)
    sig, bkg = _jets(rng, n, m, 2), _jets(rng, n, m, 1)
    model = make_tagger(4, 4)
    det = cms_like()
    params = model.init(jax.random.key(1), jnp.zeros((1, m, 6)), jnp.ones((1, m)), jnp.zeros((1, 2)))
    args = dict(edges=np.linspace(0.0, 400.0, 5), bandwidth=20.0, slope=5.0, bkg_norm=0.1, jes=0.05)
    return chain_objective(JetSample(sig, 10.0), JetSample(bkg, 100.0), model, params, det, **{**args, **kw})


def test_equal_cost_scales_hold_the_cost_and_start_at_the_reference():
    with jax.enable_x64(True):
        one = equal_cost_scales(jnp.log(jnp.asarray(SHARES)), 1.0, SHARES, POWERS)
        np.testing.assert_allclose(one, 1.0, rtol=1e-12)
        for seed in range(3):
            logits = jax.random.normal(jax.random.key(seed), (len(SHARES),)) * 2
            for target in (0.5, 1.0, 3.0):
                s = equal_cost_scales(logits, target, SHARES, POWERS)
                assert float(budget_cost(s, SHARES, POWERS)) == pytest.approx(target, rel=1e-12)
        # budget moved to a subsystem buys it resolution: its scale falls below 1, the others rise
        more = jnp.log(jnp.asarray(SHARES)).at[3].add(0.5)
        s = np.asarray(equal_cost_scales(more, 1.0, SHARES, POWERS))
        assert s[3] < 1.0 and np.all(np.delete(s, 3) > 1.0)


def test_scale_detector_scales_exactly_the_named_terms():
    det = cms_like()
    out = scale_detector(det, {"tracker_pt": 2.0, "hcal_stochastic": 0.5})
    np.testing.assert_allclose(out.tracker.pt.a, 2.0 * np.asarray(det.tracker.pt.a))
    np.testing.assert_allclose(out.tracker.pt.b, 2.0 * np.asarray(det.tracker.pt.b))
    np.testing.assert_allclose(out.hcal.resolution.stochastic, 0.5 * np.asarray(det.hcal.resolution.stochastic))
    np.testing.assert_allclose(out.hcal.resolution.constant, det.hcal.resolution.constant)
    np.testing.assert_allclose(out.ecal.resolution.stochastic, det.ecal.resolution.stochastic)
    with pytest.raises(ConfigError, match="unknown subsystem"):
        scale_detector(det, {"muon_chambers": 1.0})


def test_bad_input_gives_clear_errors():
    with pytest.raises(ConfigError, match="cost_target.*cannot be met"):
        _objective(cost_target=0.0)
    with pytest.raises(DataError, match="target must be > 0.*cannot be met"):
        equal_cost_scales(jnp.zeros(5), -1.0, SHARES, POWERS)
    with pytest.raises(ConfigError, match="jes"):
        _objective(jes=1.5)
    obj = _objective()
    p = obj.init(0.5)
    with pytest.raises(DataError, match=r"threshold.*out of its bounds \(0, 1\)"):
        obj({**p, "threshold": jnp.asarray(1.2)}, jax.random.key(0))
    with pytest.raises(DataError, match=r"budget.*shape \(5,\)"):
        obj({**p, "budget": jnp.zeros(3)}, jax.random.key(0))
    with pytest.raises(DataError, match="initial value of .*threshold.* strictly inside"):
        optimize(
            obj,
            {**p, "threshold": jnp.asarray(1.0)},
            optimizer=optax.adam(0.1),
            steps=1,
            key=jax.random.key(0),
            bounds=obj.bounds,
        )


def test_chain_gradient_agrees_with_central_differences_float64():
    """d(Z0 - cost)/d(every parameter) through smear, tagger, soft cut, KDE histograms and the profile fit."""
    # in the default suite (≈ 35 s, mostly compilation): the chain's gradient is what study (c) stands on
    with jax.enable_x64(True):
        obj = _objective()
        key = jax.random.key(3)
        p = {
            "budget": jnp.log(jnp.asarray(SHARES)) + jnp.array([0.3, -0.2, 0.1, 0.4, -0.3]),
            "threshold": jnp.asarray(0.45),
        }
        parts = obj.parts(p, key)
        assert 0.1 < float(parts["z0"]) < 50 and float(parts["cost"]) == pytest.approx(1.0, rel=1e-12)
        grad = jax.jit(jax.grad(obj))(p, key)
        f = jax.jit(obj)
        fd = central_differences(lambda q: f(q, key), p)
        g = np.concatenate([np.asarray(grad["budget"]), [float(grad["threshold"])]])
        assert np.all(np.abs(g) > 1e-6)  # every parameter matters, so the relative check means something
        assert fd_max_rel_err(grad, fd) < 1e-2
