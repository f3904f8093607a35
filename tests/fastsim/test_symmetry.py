"""The calorimeter's rotation/reflection symmetry: a group of voxel permutations that leaves the
shower features invariant and rotates shower centres; the cascade respects it; the flow-2
augmentation draws its elements from a key and the standardisation is symmetric."""

import chex
import jax
import numpy as np

from hepjax.fastsim import high_level_features, simulate_showers
from hepjax.fastsim.caloflow import _logit_stats, normalised_voxels, random_symmetry
from hepjax.fastsim.geometry import N_VOXELS, layer_slices, symmetry_permutations

PERMS = symmetry_permutations()


def test_permutations_form_the_dihedral_group():
    assert PERMS.shape == (20, N_VOXELS)
    np.testing.assert_array_equal(PERMS[0], np.arange(N_VOXELS))
    assert all(np.array_equal(np.sort(p), np.arange(N_VOXELS)) for p in PERMS)  # bijections
    rows = {tuple(p) for p in PERMS}
    assert len(rows) == 20
    assert all(tuple(a[b]) in rows for a in PERMS for b in PERMS)  # closed under composition
    for s in layer_slices():  # no voxel leaves its layer or its radial ring (10 angular bins)
        ring = np.arange(s.start, s.stop) if s.stop - s.start < 10 else None
        for p in PERMS:
            assert set(p[s]) == set(range(s.start, s.stop))
            if ring is not None:
                np.testing.assert_array_equal(p[s], ring)  # one angular bin: unchanged
            else:
                np.testing.assert_array_equal((p[s] - s.start) // 10, np.arange(s.stop - s.start) // 10)


def test_features_are_invariant_and_centres_rotate():
    showers = simulate_showers(np.array([5.0, 20.0, 50.0]), seed=3)
    v, e = showers.voxels, showers.energy
    f0 = high_level_features(v, e)
    for g, p in enumerate(PERMS):
        f = high_level_features(v[:, p], e)
        for k in f0:
            if not k.startswith(("centre", "width")):
                np.testing.assert_allclose(f[k], f0[k], rtol=1e-5, atol=1e-6, err_msg=f"{k}, element {g}")
        for li in (1, 2):
            cx, cy = f0[f"centre_x_layer{li}"], f0[f"centre_y_layer{li}"]
            phi, sign = 2 * np.pi * (g % 10) / 10, -1.0 if g >= 10 else 1.0  # rotate by phi, then reflect y
            np.testing.assert_allclose(f[f"centre_x_layer{li}"], np.cos(phi) * cx - np.sin(phi) * cy, atol=1e-4)
            np.testing.assert_allclose(
                f[f"centre_y_layer{li}"], sign * (np.sin(phi) * cx + np.cos(phi) * cy), atol=1e-4
            )
            # x and y widths mix under a rotation; the transverse width does not
            w2 = lambda ff: ff[f"width_x_layer{li}"] ** 2 + ff[f"width_y_layer{li}"] ** 2
            np.testing.assert_allclose(w2(f), w2(f0), rtol=1e-4)


def test_cascade_is_azimuthally_symmetric():
    # The augmentation is only right if the reference showers have the symmetry: photons
    # enter on the axis, so the energy per angular bin (layer 2, all radii) is flat.
    showers = simulate_showers(np.full(200, 10.0), seed=5)
    s = layer_slices()[2]
    per_bin = showers.voxels[:, s].reshape(200, -1, 10).sum(1)  # [showers, angle]
    mean, err = per_bin.mean(0), per_bin.std(0) / np.sqrt(200)
    chi2 = np.sum(((mean - mean.mean()) / err) ** 2)
    assert chi2 < 30.0, chi2  # 9 dof: p ~ 4e-4


def test_random_symmetry_draws_group_elements_from_the_key():
    x = np.random.default_rng(0).random((64, N_VOXELS)).astype(np.float32)
    augment = random_symmetry(PERMS)
    key = jax.random.PRNGKey(7)

    def check(fn):
        out = np.asarray(fn(key, x))
        chex.assert_shape(out, x.shape)
        matches = [[np.array_equal(out[i], x[i, p]) for p in PERMS] for i in range(len(x))]
        assert all(any(m) for m in matches)  # every row is an image of itself
        assert len({int(np.argmax(m)) for m in matches}) > 5  # and the elements vary
        return out

    a = check(augment)
    b = check(jax.jit(augment))
    np.testing.assert_array_equal(a, b)  # same key, same batch, with and without jit
    assert not np.array_equal(a, np.asarray(augment(jax.random.PRNGKey(8), x)))


def test_symmetrised_standardisation():
    showers = simulate_showers(np.full(20, 10.0), seed=6)
    x = normalised_voxels(showers.voxels, 3.7e-3, np.random.default_rng(0))
    m, s = _logit_stats(x, 1e-6, PERMS)
    for p in PERMS:  # the same for every image of the data
        np.testing.assert_allclose(m[p], m, rtol=1e-5)
        np.testing.assert_allclose(s[p], s, rtol=1e-5)
    m_all, s_all = _logit_stats(np.concatenate([x[:, p] for p in PERMS]), 1e-6)  # stats of all 20 images
    np.testing.assert_allclose(m, m_all, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(s, s_all, rtol=1e-3, atol=1e-3)
