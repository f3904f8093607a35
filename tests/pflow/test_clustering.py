"""Topological 4-2-0 clustering on hand-made grids, cluster features vs a NumPy reference, gradients."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.detector import CaloGrid
from hepjax.errors import ConfigError, DataError
from hepjax.pflow import ECAL_LAYER, HCAL_LAYER, TopoConfig, cluster_features, pad_membership, topo_clusters

GRID = CaloGrid(n_eta=8, n_phi=12, eta_max=0.8)
_features = jax.jit(cluster_features, static_argnames=("grid", "layer"))


def _sets(m):
    """Cluster k -> frozenset of (i_eta, i_phi) cells."""
    return [frozenset(zip(*np.nonzero(m.labels == k))) for k in range(m.n_clusters)]


def test_one_seed_grows_through_2_sigma_and_adds_the_0_sigma_boundary():
    c = np.zeros((8, 12))
    c[3, 5] = 10.0  # seed
    c[3, 6] = 3.0  # > 2σ: grown from
    c[3, 7] = 1.0  # boundary of (3, 6)
    c[4, 6] = 1.5  # boundary of both core cells
    c[2, 4] = 0.5  # boundary of the seed
    c[2, 5] = -0.5  # below 0σ: out
    c[5, 7] = 2.5  # > 2σ but only touches the boundary cell (4, 6): an unseeded component, out
    c[3, 9] = 0.7  # two cells from the core: out
    c[7, 0] = 3.9  # a lone 3.9σ cell: no seed
    m = topo_clusters(c, 1.0, TopoConfig())
    assert m.n_clusters == 1
    assert _sets(m) == [frozenset({(3, 5), (3, 6), (3, 7), (4, 6), (2, 4)})]
    assert m.seeds.tolist() == [3 * 12 + 5] and m.n_cells.tolist() == [5]
    # the thresholds scale with σ: at σ = 2 the seed is 5σ, (3, 6) only 1.5σ (a boundary cell), and
    # the cells next to (3, 6) but not to the seed drop out
    m2 = topo_clusters(c, 2.0, TopoConfig())
    assert _sets(m2) == [frozenset({(3, 5), (3, 6), (4, 6), (2, 4)})]


def test_two_separated_seeds_are_two_clusters_by_decreasing_energy():
    c = np.zeros((8, 12))
    c[2, 2], c[2, 3] = 6.0, 1.0
    c[5, 8], c[6, 8] = 9.0, 2.5
    m = topo_clusters(c, 1.0)
    assert _sets(m) == [frozenset({(5, 8), (6, 8)}), frozenset({(2, 2), (2, 3)})]


def test_touching_maxima_split_and_the_shared_cell_goes_to_the_stronger_side():
    c = np.zeros((8, 12))
    c[4, 2:7] = [2.5, 8.0, 3.0, 6.0, 1.0]  # maxima at φ cells 3 and 5, the valley cell 4 between
    c[3, 4] = 1.2  # boundary next to both maxima and the valley
    one = topo_clusters(c, 1.0, TopoConfig(split=False))
    assert _sets(one) == [frozenset({(4, 2), (4, 3), (4, 4), (4, 5), (4, 6), (3, 4)})]
    m = topo_clusters(c, 1.0)
    # step 1 reaches (4, 2) [from 8], (4, 4) and (3, 4) [from both: to the 8.0 side], (4, 6) [from 6]
    assert _sets(m) == [frozenset({(4, 2), (4, 3), (4, 4), (3, 4)}), frozenset({(4, 5), (4, 6)})]
    # a maximum must also pass split_min_energy
    assert topo_clusters(c, 1.0, TopoConfig(split_min_energy=7.0)).n_clusters == 1


def test_noise_only_grid_has_no_cluster():
    rng = np.random.default_rng(0)
    c = np.clip(rng.normal(0.0, 1.0, (8, 12)), -5, 3.99)
    m = topo_clusters(c, 1.0)
    assert m.n_clusters == 0 and (m.labels == -1).all()
    f = _features(c, pad_membership(m, [4], quantum=4)[0], GRID, layer=ECAL_LAYER)
    assert not np.asarray(f.mask).any() and np.all(np.asarray(f.energy) == 0)


def test_clusters_wrap_around_phi():
    c = np.zeros((8, 12))
    c[3, 0], c[4, 11], c[2, 11] = 7.0, 3.0, 0.5  # (4, 11) and (2, 11) touch (3, 0) across the seam
    m = topo_clusters(c, 1.0)
    assert _sets(m) == [frozenset({(3, 0), (4, 11), (2, 11)})]


def test_bad_input_is_refused():
    c = np.zeros((8, 12))
    c[1, 2] = np.nan
    with pytest.raises(DataError, match=r"\(1, 2\)"):
        topo_clusters(c, 1.0)
    with pytest.raises(DataError, match="noise_sigma"):
        topo_clusters(np.zeros((8, 12)), 0.0)
    with pytest.raises(ConfigError, match="seed >= grow"):
        TopoConfig(seed=2.0, grow=3.0)


def _blobs(seed=1):
    """Three Gaussian blobs (one across φ = ±π) plus noise on GRID, noise σ = 0.1 GeV."""
    rng = np.random.default_rng(seed)
    ce = -GRID.eta_max + (np.arange(GRID.n_eta) + 0.5) * GRID.d_eta
    cp = -np.pi + (np.arange(GRID.n_phi) + 0.5) * GRID.d_phi
    c = rng.normal(0.0, 0.1, (GRID.n_eta, GRID.n_phi))
    for e0, eta0, phi0, w in ((20.0, 0.1, 3.1, 0.25), (8.0, -0.4, 0.0, 0.3), (5.0, 0.5, -1.6, 0.2)):
        dphi = np.mod(cp - phi0 + np.pi, 2 * np.pi) - np.pi
        c += e0 * np.exp(-((ce[:, None] - eta0) ** 2 + dphi[None, :] ** 2) / (2 * w**2))
    return c


def _reference(c, m):
    """Features by a loop over clusters, angles about the circular mean."""
    ce = -GRID.eta_max + (np.arange(GRID.n_eta) + 0.5) * GRID.d_eta
    cp = -np.pi + (np.arange(GRID.n_phi) + 0.5) * GRID.d_phi
    out = []
    for k in range(m.n_clusters):
        i, j = np.nonzero(m.labels == k)
        w = c[i, j]
        e = w.sum()
        eta = (w * ce[i]).sum() / e
        phi = math.atan2((w * np.sin(cp[j])).sum(), (w * np.cos(cp[j])).sum())
        dphi = np.mod(cp[j] - phi + np.pi, 2 * np.pi) - np.pi  # about the mean (small-angle: same as the code)
        phi = phi + (w * dphi).sum() / e
        dphi = np.mod(cp[j] - phi + np.pi, 2 * np.pi) - np.pi
        out.append(
            (e, eta, np.mod(phi + np.pi, 2 * np.pi) - np.pi, np.sqrt((w * (ce[i] - eta) ** 2).sum() / e),
             np.sqrt((w * dphi**2).sum() / e), len(i))
        )  # fmt: skip
    return np.array(out)


def test_features_match_numpy_reference_and_are_padded():
    c = _blobs()
    m = topo_clusters(c, 0.1)
    assert m.n_clusters == 3
    pm, buckets = pad_membership(m, [4, 8], quantum=4)
    assert pm.seeds.shape == (4,) and pm.mask.tolist() == [True, True, True, False] and buckets == [4, 8]
    with jax.enable_x64(True):
        f = _features(jnp.asarray(c), pm, GRID, layer=HCAL_LAYER)
        ref = _reference(c, m)
        got = np.stack([np.asarray(x)[:3] for x in (f.energy, f.eta, f.phi, f.sigma_eta, f.sigma_phi, f.n_cells)], 1)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9)
    assert abs(ref[0, 2]) > 3.0  # the leading blob straddles φ = ±π
    np.testing.assert_array_equal(np.asarray(f.hcal_e), np.asarray(f.energy))
    assert np.all(np.asarray(f.ecal_e) == 0) and np.asarray(f.depth).tolist() == [1.0, 1.0, 1.0, 0.0]
    assert np.all(np.asarray(f.energy)[3:] == 0)


def test_more_clusters_than_the_largest_bucket_get_a_new_bucket():
    c = np.zeros((8, 12))
    for k in range(6):
        c[1 + (k % 2) * 4, 2 * k] = 5.0 + k
    m = topo_clusters(c, 1.0)
    assert m.n_clusters == 6
    with pytest.warns(UserWarning, match="exceeds every bucket"):
        pm, buckets = pad_membership(m, [4], quantum=4)
    assert pm.seeds.shape == (8,) and buckets == [4, 8]


def test_gradients_flow_to_the_cell_energies():
    c = _blobs(2)
    m = topo_clusters(c, 0.1)
    pm, _ = pad_membership(m, [4], quantum=4)
    with jax.enable_x64(True):
        x = jnp.asarray(c)
        feats = lambda x: cluster_features(x, pm, GRID, layer=ECAL_LAYER)
        g_e = jax.jit(jax.jacrev(lambda x: feats(x).energy))(x)  # [slots, n_eta, n_phi]
        for k in range(4):
            np.testing.assert_array_equal(np.asarray(g_e[k]), (m.labels == k).astype(float))
        w = jnp.asarray(np.random.default_rng(3).normal(size=4))

        def obj(x):
            f = feats(x)
            return jnp.sum(w * (f.eta + f.phi + 3 * f.sigma_eta + 2 * f.sigma_phi) * f.mask)

        vg = jax.jit(jax.value_and_grad(obj))
        g = np.asarray(vg(x)[1])
        rng = np.random.default_rng(4)
        members = np.argwhere(m.labels >= 0)
        for i, j in members[rng.choice(len(members), 5, replace=False)]:
            d = np.zeros_like(c)
            d[i, j] = 1e-6
            fd = (vg(x + d)[0] - vg(x - d)[0]) / 2e-6
            assert g[i, j] == pytest.approx(float(fd), rel=1e-5, abs=1e-9)
        assert np.all(g[m.labels < 0] == 0)


def _reference_420(c, sigma):
    """Textbook 4-2-0 by breadth-first growth from each seed (clusters merge where they meet), then
    the boundary ring: a plain-Python reference for the vectorised, component-based implementation."""
    n_eta, n_phi = c.shape
    s = c / sigma

    def nbrs(i, j):
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                if (di or dj) and 0 <= i + di < n_eta:
                    yield i + di, (j + dj) % n_phi

    owner = {}
    clusters = []
    for seed in sorted(zip(*np.nonzero(s > 4)), key=lambda x: -c[x]):
        if seed in owner:
            continue
        cid = len(clusters)
        clusters.append({seed})
        owner[seed] = cid
        queue = [seed]
        while queue:
            cell = queue.pop()
            for nb in nbrs(*cell):
                if s[nb] > 2 and owner.get(nb) != cid:
                    if nb in owner:  # meets another cluster: merge it into this one
                        other = owner[nb]
                        for x in clusters[other]:
                            owner[x] = cid
                        clusters[cid] |= clusters[other]
                        clusters[other] = set()
                    else:
                        owner[nb] = cid
                        clusters[cid].add(nb)
                        queue.append(nb)
    core = dict(owner)
    for i in range(n_eta):
        for j in range(n_phi):
            if (i, j) not in core and s[i, j] > 0:
                adj = [(c[nb], core[nb]) for nb in nbrs(i, j) if nb in core]
                if adj:
                    clusters[max(adj)[1]].add((i, j))
    return sorted((frozenset(x) for x in clusters if x), key=lambda x: -sum(c[y] for y in x))


@pytest.mark.parametrize("seed", range(4))
def test_clusters_match_a_plain_python_4_2_0(seed):
    rng = np.random.default_rng(seed)
    c = rng.normal(0.0, 1.0, (12, 16))
    for _ in range(5):  # blobs, some across the φ seam
        i, j = rng.integers(0, 12), rng.integers(0, 16)
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                if 0 <= i + di < 12:
                    c[i + di, (j + dj) % 16] += rng.uniform(0, 8) * (3 if di == dj == 0 else 1)
    m = topo_clusters(c, 1.0, TopoConfig(split=False))
    assert _sets(m) == _reference_420(c, 1.0)
    assert m.n_clusters >= 2


def test_showers_to_clusters_end_to_end():
    """A 40 GeV photon and a 30 GeV π⁺ through the CMS-like showers (noise on): the photon gives one
    ECAL cluster at its impact with its deposit; the pion's ECAL + HCAL clusters hold its deposits."""
    from hepjax.data.particles import pad_events
    from hepjax.detector import cms_like
    from hepjax.detector.showers import cms_showers, showers

    ecal_grid = CaloGrid(n_eta=58, n_phi=360, eta_max=29 * 0.0174)
    hcal_grid = CaloGrid(n_eta=14, n_phi=72, eta_max=7 * 0.087)
    det, sp = cms_like(ecal_grid=ecal_grid, hcal_grid=hcal_grid), cms_showers()
    ev = pad_events(
        [dict(pt=[40.0, 30.0], eta=[0.12, -0.2], phi=[0.5, -2.0], mass=[0.0, 0.1396], pdg=[22, 211],
              charge=[0.0, 1.0], vx=[0.0, 0.0], vy=[0.0, 0.0], vz=[0.0, 0.0])]
    )  # fmt: skip
    c = jax.jit(showers)(jax.random.key(2), ev, det, sp)
    ecal, hcal = np.asarray(c.ecal[0], np.float64), np.asarray(c.hcal[0], np.float64)
    me, mh = topo_clusters(ecal, float(sp.ecal_noise)), topo_clusters(hcal, float(sp.hcal_noise))
    fe = _features(ecal, pad_membership(me, [8], quantum=8)[0], ecal_grid, layer=ECAL_LAYER)
    fh = _features(hcal, pad_membership(mh, [8], quantum=8)[0], hcal_grid, layer=HCAL_LAYER)
    e_dep, h_dep = np.asarray(c.ecal_e[0]), np.asarray(c.hcal_e[0])
    eta_f, phi_f = np.asarray(c.ecal_front.eta[0]), np.asarray(c.ecal_front.phi[0])
    energy, eta, phi = (np.asarray(x) for x in (fe.energy, fe.eta, fe.phi))
    near = lambda k, e, p, r: np.hypot(e - eta_f[k], np.mod(p - phi_f[k] + np.pi, 2 * np.pi) - np.pi) < r
    photon = [k for k in range(me.n_clusters) if near(0, eta[k], phi[k], 0.1)]
    assert len(photon) == 1
    k = photon[0]
    # the 0σ boundary ring adds the positive half of its cells' noise: ~+1.5 % here
    assert energy[k] == pytest.approx(e_dep[0], rel=0.04)
    assert near(0, eta[k], phi[k], 0.4 * 0.0174)  # within 0.4 crystal of the impact
    pion_ecal = sum(energy[k] for k in range(me.n_clusters) if near(1, eta[k], phi[k], 0.3))
    hf = np.asarray(fh.energy)[: mh.n_clusters]
    pion_hcal = sum(hf[k] for k in range(mh.n_clusters) if near(1, fh.eta[k], fh.phi[k], 0.3))
    assert pion_ecal + pion_hcal == pytest.approx(e_dep[1] + h_dep[1], rel=0.1)
    assert h_dep[1] > 1.0
