"""``smear``: agreement with the NumPy reference, gradients vs finite differences, soft -> hard,
with/without jit, shapes, recompilation, conversion to Particles, bad input."""
import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.data.particles import DTYPES, FIELDS, Particles
from hepjax.detector import (
    Reco,
    cms_like,
    draw_noise,
    smear,
    smear_checked,
    smear_jit,
    smear_with_noise,
    to_particles,
    validate_params,
)
from hepjax.detector.reference import smear_numpy
from hepjax.detector.species import INVISIBLE
from tests.detector._samples import make, mixed



@pytest.fixture(scope="module")
def params():
    from hepjax.detector import CaloGrid

    return cms_like(ecal_grid=CaloGrid(60, 36, 3.0), hcal_grid=CaloGrid(40, 18, 5.0))


@pytest.fixture(scope="module")
def batch():
    return mixed(n_events=3, n=64, seed=0)


_smear_noise_jit = jax.jit(smear_with_noise, static_argnames=("hard", "with_cells"))


@pytest.mark.parametrize("hard", [False, True])
def test_matches_numpy_reference(params, batch, hard):
    noise = draw_noise(jax.random.key(3), batch.pt.shape)
    got = _smear_noise_jit(noise, batch, params, hard=hard, temperature=0.7)
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
    one = smear_jit(jax.random.key(0), Particles(*(x[0] for x in batch)), params)  # a single event
    chex.assert_shape(one.ecal_cells, (60, 36))


class TestJitVariants(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_same_result(self):
        params = cms_like(ecal_grid=cms_like().ecal.grid.__class__(20, 12, 3.0),
                          hcal_grid=cms_like().hcal.grid.__class__(10, 6, 5.0))
        batch = mixed(n_events=2, n=16, seed=4)
        fn = self.variant(lambda k, p, d: smear(k, p, d, hard=False, temperature=0.5))
        r = fn(jax.random.key(1), batch, params)
        ref = jax.jit(smear, static_argnames=("hard", "with_cells"))(jax.random.key(1), batch, params, temperature=0.5)
        chex.assert_trees_all_close(r, ref, rtol=1e-5, atol=1e-5)
        chex.assert_shape(r.pt, (2, 16))


def test_same_key_same_result_and_no_recompile(params, batch):
    before = smear_jit._cache_size()
    a = smear_jit(jax.random.key(5), batch, params, temperature=1.0)
    after_first = smear_jit._cache_size()
    b = smear_jit(jax.random.key(5), batch, params, temperature=1.0)
    c = smear_jit(jax.random.key(5), batch, jax.tree_util.tree_map(lambda x: x * 1.1, params), temperature=0.3)
    chex.assert_trees_all_equal(a, b)
    assert smear_jit._cache_size() == after_first <= before + 1
    assert not np.allclose(np.asarray(a.pt), np.asarray(c.pt))


def _scalar(params, particles, key, hard=False, temperature=1.0):
    r = smear(key, particles, params, hard=hard, temperature=temperature)
    track = jnp.sum(r.weight * (r.pt + 0.3 * r.energy + 5.0 * r.d0**2 + r.z0**2 + r.eta + r.phi))
    calo = jnp.sum(r.ecal_cells * 1.3) + jnp.sum(r.hcal_cells) + jnp.sum(r.weight * (r.ecal_e + r.hcal_e))
    return track + calo


def _central_fd(f, x, eps):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def _grad_particles():
    """A small x64-friendly event of every species, away from cut edges."""
    rng = np.random.default_rng(8)
    ids = np.array([211, 11, 13, 22, 2112, 130, 321, 12] * 3)
    pt = 0.3 + rng.exponential(10.0, ids.size)
    eta = rng.uniform(-3.2, 3.2, ids.size)
    return make(ids, pt, eta, vxy=0.1, vz=20.0, seed=8)


def test_grad_wrt_det_params_matches_finite_differences(params):
    with jax.enable_x64(True):
        p64 = jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.float64), params)
        part = Particles(*(np.asarray(x, np.float64) if np.asarray(x).dtype == np.float32 else x for x in _grad_particles()))
        key = jax.random.key(2)
        f = jax.jit(lambda d: _scalar(d, part, key))
        f0 = abs(float(f(p64)))
        grads = jax.grad(lambda d: _scalar(d, part, key))(p64)
        leaves, treedef = jax.tree_util.tree_flatten(p64)
        g_leaves = treedef.flatten_up_to(grads)
        n_checked = 0
        for i, (leaf, g) in enumerate(zip(leaves, g_leaves)):
            flat = np.asarray(leaf).ravel()
            fd = np.zeros_like(flat)
            noise = 0.0
            for j in range(flat.size):
                eps = 1e-5 * max(1.0, abs(flat[j]))
                noise = max(noise, 1e-13 * f0 / eps)  # float64 round-off of the difference quotient

                def shifted(v, j=j, i=i):
                    new = flat.copy()
                    new[j] = v
                    ls = list(leaves)
                    ls[i] = jnp.asarray(new.reshape(np.shape(leaf)))
                    return float(f(jax.tree_util.tree_unflatten(treedef, ls)))

                fd[j] = _central_fd(shifted, flat[j], eps)
            g = np.asarray(g).ravel()
            scale = np.abs(fd).max()
            np.testing.assert_allclose(g, fd, rtol=1e-3, atol=1e-3 * scale + noise, err_msg=f"leaf {i}")
            n_checked += int(np.sum(np.abs(fd) > 1e-3 * scale))
        assert n_checked > 40  # most parameters matter for this event


def test_grad_wrt_momenta_matches_finite_differences(params):
    with jax.enable_x64(True):
        p64 = jax.tree_util.tree_map(lambda x: jnp.asarray(x, jnp.float64), params)
        base = Particles(*(np.asarray(x, np.float64) if np.asarray(x).dtype == np.float32 else x for x in _grad_particles()))
        key = jax.random.key(4)

        def of(pt, eta, phi):
            return _scalar(p64, base._replace(pt=pt, eta=eta, phi=phi), key)

        f = jax.jit(of)
        f0 = abs(float(f(base.pt, base.eta, base.phi)))
        grads = jax.grad(of, argnums=(0, 1, 2))(base.pt, base.eta, base.phi)
        for k, name in enumerate(("pt", "eta", "phi")):
            x0 = [np.asarray(base.pt), np.asarray(base.eta), np.asarray(base.phi)]
            fd = np.zeros(x0[k].size)
            for j in range(x0[k].size):
                eps = 1e-5 * max(1.0, abs(x0[k][j]))
                lo, hi = [a.copy() for a in x0], [a.copy() for a in x0]
                lo[k][j] -= eps
                hi[k][j] += eps
                fd[j] = (float(f(*hi)) - float(f(*lo))) / (2 * eps)
            g = np.asarray(grads[k])
            np.testing.assert_allclose(g, fd, rtol=1e-3, atol=1e-3 * np.abs(fd).max() + 1e-13 * f0 / 1e-5, err_msg=name)
            assert np.sum(np.abs(fd) > 1e-6) >= 15, name


def test_soft_converges_to_hard(params, batch):
    key = jax.random.key(9)
    hard = smear_jit(key, batch, params, hard=True)
    gaps = []
    for t in (1.0, 1e-1, 1e-2, 1e-4):
        soft = smear_jit(key, batch, params, hard=False, temperature=t)
        gaps.append(float(np.abs(np.asarray(soft.weight) - np.asarray(hard.weight)).max()))
        if t == 1e-4:
            for f in ("pt", "eta", "phi", "energy", "d0", "z0", "ecal_e", "hcal_e", "sigma_pt_rel", "sigma_ecal"):
                np.testing.assert_allclose(np.asarray(getattr(soft, f)), np.asarray(getattr(hard, f)), rtol=1e-5, atol=1e-6, err_msg=f)
            np.testing.assert_array_equal(np.asarray(soft.mask), np.asarray(hard.mask))
    assert gaps[0] > 0.05  # soft is really soft at T = 1 ...
    assert gaps[-1] < 1e-3  # ... and the exact cut at T -> 0
    assert all(b <= a + 1e-7 for a, b in zip(gaps, gaps[1:]))


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


def test_padding_is_not_checked(params, batch):
    bad_pad = _bad(batch, "pt", np.nan, index=(0, 63))  # a padding slot
    r = smear_checked(jax.random.key(0), bad_pad, params)
    assert np.isfinite(np.asarray(r.weight)).all()


def test_bad_shapes_params_temperature(params, batch):
    with pytest.raises(ValueError, match="different shapes"):
        smear_checked(jax.random.key(0), batch._replace(eta=batch.eta[:, :3]), params)
    neg = jax.tree_util.tree_map(lambda x: x, params)
    neg = neg.__class__(tracker=neg.tracker.__class__(**{**neg.tracker.__dict__, "eta_max": jnp.asarray(-1.0)}),
                        ecal=neg.ecal, hcal=neg.hcal, edge_width=neg.edge_width)
    with pytest.raises(ValueError, match=r"tracker.*eta_max.*>= 0"):
        validate_params(neg)
    with pytest.raises(ValueError, match="temperature"):
        smear_checked(jax.random.key(0), batch, params, temperature=0.0)
    with pytest.raises(ValueError, match="temperature"):
        smear(jax.random.key(0), batch, params, temperature=-1.0)


def test_single_particle_example(params):
    p = make(211, [20.0], [0.3], [1.0])
    r = smear_checked(jax.random.key(0), p, params, hard=True)
    assert r.pt.shape == (1,) and abs(float(r.pt[0]) - 20.0) < 2.0
