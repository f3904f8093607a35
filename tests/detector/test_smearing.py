"""``smear``: agreement with the NumPy reference, gradients vs finite differences, soft -> hard,
with/without jit, shapes, recompilation, conversion to Particles, bad input."""

import itertools

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.data.particles import DTYPES, FIELDS, Particles
from hepjax.detector import (
    CaloGrid,
    Reco,
    cms_like,
    draw_noise,
    smear,
    smear_checked,
    smear_jit,
    to_particles,
    validate_params,
)
from hepjax.detector.reference import smear_numpy
from hepjax.detector.smearing import _smear_jit
from hepjax.detector.species import INVISIBLE
from tests.detector._samples import make, mixed


@pytest.fixture(scope="module")
def params():
    return cms_like(ecal_grid=CaloGrid(60, 36, 3.0), hcal_grid=CaloGrid(40, 18, 5.0))


@pytest.fixture(scope="module")
def batch():
    return mixed(n_events=3, n=64, seed=0)


@pytest.mark.parametrize("hard", [False, True])
def test_matches_numpy_reference(params, batch, hard):
    key = jax.random.key(3)
    got = smear_jit(key, batch, params, hard=hard, temperature=0.7)
    noise = draw_noise(key, batch.pt.shape)  # the random numbers smear(key, ...) uses
    ref = smear_numpy(jax.tree_util.tree_map(np.asarray, noise), batch, params, hard=hard, temperature=0.7)
    for f in Reco._fields:
        a, b = np.asarray(getattr(got, f)), np.asarray(getattr(ref, f))
        assert a.shape == b.shape and a.dtype == b.dtype, f
        if a.dtype == bool or np.issubdtype(a.dtype, np.integer):
            np.testing.assert_array_equal(a, b, err_msg=f)
        else:
            np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4 * max(1.0, np.abs(b).max()), err_msg=f)


def test_shapes_and_species(params, batch):
    r = smear_jit(jax.random.key(0), batch, params)
    n_ev, n = batch.pt.shape
    for f in Reco._fields[:-2]:
        chex.assert_shape(getattr(r, f), (n_ev, n))
    chex.assert_shape(r.ecal_cells, (n_ev, 60, 36))
    chex.assert_shape(r.hcal_cells, (n_ev, 40, 18))
    chex.assert_type([r.pt, r.weight, r.ecal_cells], jnp.float32)
    chex.assert_type([r.mask], bool)
    chex.assert_tree_all_finite((r.pt, r.eta, r.phi, r.energy, r.d0, r.z0, r.weight, r.ecal_cells, r.hcal_cells))
    invisible = np.asarray(r.species) == INVISIBLE
    assert np.all(np.asarray(r.weight)[invisible] == 0) and not np.asarray(r.mask)[invisible].any()
    assert not np.asarray(r.mask)[~batch.mask].any()
    w = np.asarray(r.weight)
    assert np.all((w >= 0) & (w <= 1))


class TestJitVariants(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_same_result_one_event(self):
        """One event (1-D fields ``[n]``), with and without jit, against the NumPy reference."""
        params = cms_like(ecal_grid=CaloGrid(20, 12, 3.0), hcal_grid=CaloGrid(10, 6, 5.0))
        event = Particles(*(x[1] for x in mixed(n_events=2, n=16, seed=4)))
        key = jax.random.key(1)
        fn = self.variant(lambda k, p, d: smear(k, p, d, hard=False, temperature=0.5))
        r = fn(key, event, params)
        ref = smear_numpy(jax.tree_util.tree_map(np.asarray, draw_noise(key, (16,))), event, params, temperature=0.5)
        chex.assert_shape(r.pt, (16,))
        chex.assert_shape(r.ecal_cells, (20, 12))
        for f in ("pt", "eta", "phi", "energy", "weight", "ecal_cells", "hcal_cells"):
            np.testing.assert_allclose(np.asarray(getattr(r, f)), getattr(ref, f), rtol=2e-4, atol=1e-4, err_msg=f)


def test_same_key_same_result_and_no_recompile(params, batch):
    before = _smear_jit._cache_size()
    a = smear_jit(jax.random.key(5), batch, params, temperature=1.0)
    after_first = _smear_jit._cache_size()
    b = smear_jit(jax.random.key(5), batch, params, temperature=1.0)
    c = smear_jit(jax.random.key(5), batch, jax.tree_util.tree_map(lambda x: x * 1.1, params), temperature=0.3)
    chex.assert_trees_all_equal(a, b)
    assert _smear_jit._cache_size() == after_first <= before + 1
    assert not np.allclose(np.asarray(a.pt), np.asarray(c.pt))


def _scalar(params, particles, key, hard=False, temperature=1.0):
    r = smear(key, particles, params, hard=hard, temperature=temperature)
    track = jnp.sum(r.weight * (r.pt + 0.3 * r.energy + 5.0 * r.d0**2 + r.z0**2 + r.eta + r.phi))
    calo = jnp.sum(r.ecal_cells * 1.3) + jnp.sum(r.hcal_cells) + jnp.sum(r.weight * (r.ecal_e + r.hcal_e))
    return track + calo


@pytest.fixture(scope="module")
def x64_problem(params):
    """(value_and_grad in float64 w.r.t. (det_params, pt, eta, phi), inputs) for a small event."""
    rng = np.random.default_rng(8)
    ids = np.array([211, 11, 13, 22, 2112, 130, 321, 12] * 3)
    part = make(ids, 0.3 + rng.exponential(10.0, ids.size), rng.uniform(-3.2, 3.2, ids.size), vxy=0.1, vz=20.0, seed=8)
    key = jax.random.key(2)

    def scalar(d, pt, eta, phi):
        p = part._replace(
            pt=pt,
            eta=eta,
            phi=phi,
            mass=part.mass.astype(pt.dtype),
            charge=part.charge.astype(pt.dtype),
            vx=part.vx.astype(pt.dtype),
            vy=part.vy.astype(pt.dtype),
            vz=part.vz.astype(pt.dtype),
        )
        return _scalar(d, p, key)

    with jax.enable_x64(True):
        fn = jax.jit(jax.value_and_grad(scalar, argnums=(0, 1, 2, 3)))
        args = (
            jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.float64), params),
            *(jnp.asarray(np.asarray(x, np.float64)) for x in (part.pt, part.eta, part.phi)),
        )
        yield fn, args


def _fd_check(fn, args, argnum, name):
    """Central differences of every element of ``args[argnum]`` (a pytree) vs the autodiff gradient."""
    f0, grads = fn(*args)
    leaves, treedef = jax.tree_util.tree_flatten(args[argnum])
    g_leaves = treedef.flatten_up_to(grads[argnum])
    n_nonzero = 0
    for i, (leaf, g) in enumerate(zip(leaves, g_leaves)):
        flat = np.asarray(leaf, np.float64).ravel()
        fd = np.zeros_like(flat)
        noise = 0.0
        for j in range(flat.size):
            eps = 1e-5 * max(1.0, abs(flat[j]))
            noise = max(noise, 1e-13 * abs(float(f0)) / eps)  # float64 round-off of the quotient
            vals = []
            for sgn in (1, -1):
                new = flat.copy()
                new[j] += sgn * eps
                ls = list(leaves)
                ls[i] = jnp.asarray(new.reshape(np.shape(leaf)))
                a = list(args)
                a[argnum] = jax.tree_util.tree_unflatten(treedef, ls)
                vals.append(float(fn(*a)[0]))
            fd[j] = (vals[0] - vals[1]) / (2 * eps)
        g = np.asarray(g).ravel()
        np.testing.assert_allclose(g, fd, rtol=1e-3, atol=1e-3 * np.abs(fd).max() + noise, err_msg=f"{name} leaf {i}")
        n_nonzero += int(np.sum(np.abs(fd) > max(noise, 1e-9)))
    return n_nonzero


def test_grad_wrt_det_params_matches_finite_differences(x64_problem):
    fn, args = x64_problem
    with jax.enable_x64(True):
        assert _fd_check(fn, args, 0, "det_params") > 40  # most parameters matter for this event


@pytest.mark.parametrize("argnum,name", [(1, "pt"), (2, "eta"), (3, "phi")])
def test_grad_wrt_momenta_matches_finite_differences(x64_problem, argnum, name):
    fn, args = x64_problem
    with jax.enable_x64(True):
        assert _fd_check(fn, args, argnum, name) >= 15


def test_soft_converges_to_hard(params, batch):
    key = jax.random.key(9)
    hard = smear_jit(key, batch, params, hard=True)
    gaps = []
    for t in (1.0, 1e-1, 1e-2, 1e-4):
        soft = smear_jit(key, batch, params, hard=False, temperature=t)
        gaps.append(float(np.abs(np.asarray(soft.weight) - np.asarray(hard.weight)).max()))
        if t == 1e-4:
            for f in ("pt", "eta", "phi", "energy", "d0", "z0", "ecal_e", "hcal_e", "sigma_pt_rel", "sigma_ecal"):
                np.testing.assert_allclose(
                    np.asarray(getattr(soft, f)), np.asarray(getattr(hard, f)), rtol=1e-5, atol=1e-6, err_msg=f
                )
            np.testing.assert_array_equal(np.asarray(soft.mask), np.asarray(hard.mask))
    assert gaps[0] > 0.05  # soft is really soft at T = 1 ...
    assert gaps[-1] < 1e-3  # ... and the exact cut at T -> 0
    assert all(b <= a + 1e-7 for a, b in itertools.pairwise(gaps))


def test_to_particles(params, batch):
    r = smear_jit(jax.random.key(1), batch, params, hard=True)
    out = to_particles(r)
    assert isinstance(out, Particles)
    for f in FIELDS:
        assert getattr(out, f).dtype == DTYPES[f] and getattr(out, f).shape == batch.pt.shape
    m = out.mask
    assert m.sum() > 0 and np.array_equal(m, np.asarray(r.mask) & (np.asarray(r.pt) > 0))
    assert np.all(out.pt[~m] == 0) and np.all(out.pt[m] > 0)
    np.testing.assert_array_equal(out.pdg[m], batch.pdg[m])


def _bad(batch, field, value, index=(0, 2)):
    arr = np.array(getattr(batch, field))
    arr[index] = value
    return batch._replace(**{field: arr})


@pytest.mark.parametrize(
    "field,value,match",
    [
        ("pt", np.nan, r"pt is not finite.*\(0, 2\)"),
        ("eta", np.inf, r"eta is not finite"),
        ("pt", -3.0, r"pt is negative"),
        ("mass", -0.1, r"mass is negative.*energies"),
        ("pdg", 999999, r"unknown PDG id 999999"),
    ],
)
def test_bad_particles_raise(params, batch, field, value, match):
    with pytest.raises(ValueError, match=match):
        smear_checked(jax.random.key(0), _bad(batch, field, value), params)


def test_nan_in_padding_is_refused_when_checked_and_harmless_unchecked(params, batch):
    bad_pad = _bad(batch, "pt", np.nan, index=(0, 63))  # a padding slot
    with pytest.raises(ValueError, match=r"a padding slot"):
        smear_checked(jax.random.key(0), bad_pad, params)
    r = smear(jax.random.key(0), bad_pad, params)
    assert np.isfinite(np.asarray(r.weight)).all() and np.isfinite(np.asarray(r.pt)).all()


def test_bad_shapes_params_temperature(params, batch):
    with pytest.raises(ValueError, match="different shapes"):
        smear_checked(jax.random.key(0), batch._replace(eta=batch.eta[:, :3]), params)
    neg = jax.tree_util.tree_map(lambda x: x, params)
    neg = neg.__class__(
        tracker=neg.tracker.__class__(**{**neg.tracker.__dict__, "eta_max": jnp.asarray(-1.0)}),
        ecal=neg.ecal,
        hcal=neg.hcal,
        edge_width=neg.edge_width,
    )
    with pytest.raises(ValueError, match=r"tracker.*eta_max.*>= 0"):
        validate_params(neg)
    with pytest.raises(ValueError, match="temperature"):
        smear_checked(jax.random.key(0), batch, params, temperature=0.0)
    with pytest.raises(ValueError, match="temperature"):
        smear(jax.random.key(0), batch, params, temperature=-1.0)
