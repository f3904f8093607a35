"""EdgeConv tagger: kNN against a NumPy reference, permutation and padding invariance, jit / no-jit."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.tagging import EdgeConvTagger, knn_graph


def _jets(rng, b=3, m=10, f=5, n_real=(7, 3, 10)):
    points = rng.normal(size=(b, m, 2)).astype(np.float32)
    feats = rng.normal(size=(b, m, f)).astype(np.float32)
    mask = np.zeros((b, m), bool)
    for i, n in enumerate(n_real):
        mask[i, :n] = True
    return points, feats, mask


def _knn_reference(points, mask, k):
    """Brute force: for each real i, the k nearest other real j (fewer if the jet has fewer)."""
    out = []
    for p, msk in zip(points, mask):
        real = np.flatnonzero(msk)
        jet = []
        for i in range(len(msk)):
            if not msk[i]:
                jet.append(set())
                continue
            others = [j for j in real if j != i]
            d = [np.sum((p[i] - p[j]) ** 2) for j in others]
            jet.append({others[t] for t in np.argsort(d)[:k]})
        out.append(jet)
    return out


@pytest.mark.parametrize("k", [1, 4])
def test_knn_matches_brute_force(k):
    points, _, mask = _jets(np.random.default_rng(1))
    idx, valid = jax.jit(knn_graph, static_argnums=2)(jnp.asarray(points), jnp.asarray(mask), k)
    chex.assert_shape((idx, valid), (3, 10, k))
    ref = _knn_reference(points, mask, k)
    for b in range(3):
        for i in range(10):
            assert set(np.asarray(idx[b, i])[np.asarray(valid[b, i])].tolist()) == ref[b][i], (b, i)


def test_knn_bad_k():
    with pytest.raises(ValueError, match="k must be in"):
        knn_graph(jnp.zeros((2, 5, 2)), jnp.ones((2, 5), bool), 5)


class TestEdgeConv(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_shapes(self):
        points, feats, mask = _jets(np.random.default_rng(2))
        model = EdgeConvTagger(blocks=((4,),), k=3, f=(), dynamic=False)
        params = jax.jit(model.init)(jax.random.PRNGKey(1), points, feats, mask)
        out = self.variant(model.apply)(params, points, feats, mask)
        chex.assert_shape(out, (3,))
        chex.assert_tree_all_finite(out)


def test_permutation_and_padding_invariance():
    rng = np.random.default_rng(0)
    points, feats, mask = _jets(rng)
    jet = rng.normal(size=(3, 2)).astype(np.float32)
    model = EdgeConvTagger(blocks=((8, 8), (8, 8)), k=4, f=(8,), dynamic=True)
    params = jax.jit(model.init)(jax.random.PRNGKey(0), points, feats, mask, jet)
    fn = jax.jit(model.apply)
    out = fn(params, points, feats, mask, jet)
    # permuting the constituents (with their mask and coordinates) changes nothing
    perm = rng.permutation(10)
    np.testing.assert_allclose(
        fn(params, points[:, perm], feats[:, perm], mask[:, perm], jet), out, rtol=1e-5, atol=1e-5
    )
    # the content of padding slots is never read
    p2, f2 = points.copy(), feats.copy()
    p2[~mask], f2[~mask] = 1e3, np.nan
    np.testing.assert_allclose(fn(params, p2, f2, mask, jet), out, rtol=1e-5, atol=1e-5)
    # extra padding slots change nothing, and a jet's output does not depend on the other jets
    pad = lambda a: np.concatenate([a, np.full((3, 6, *a.shape[2:]), 7, a.dtype)], 1)
    wmask = np.concatenate([mask, np.zeros((3, 6), bool)], 1)
    wide = fn(params, pad(points), pad(feats), wmask, jet)
    np.testing.assert_allclose(wide, out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        fn(params, pad(points)[1:2], pad(feats)[1:2], wmask[1:2], jet[1:2]), out[1:2], rtol=1e-5, atol=1e-5
    )
    assert np.ptp(np.asarray(out)) > 0  # the jets are told apart


@pytest.mark.slow
def test_gradients_finite_with_few_constituents():
    """A jet with fewer than k + 1 real constituents has masked edges; its gradient stays finite."""
    points, feats, mask = _jets(np.random.default_rng(3), n_real=(1, 2, 10))
    model = EdgeConvTagger(blocks=((4,), (4,)), k=4, f=())
    params = jax.jit(model.init)(jax.random.PRNGKey(0), points, feats, mask)
    grads = jax.jit(jax.grad(lambda p: jnp.sum(model.apply(p, points, feats, mask) ** 2)))(params)
    chex.assert_tree_all_finite(grads)
    assert any(float(jnp.abs(g).max()) > 0 for g in jax.tree.leaves(grads))


def test_bad_shapes():
    model = EdgeConvTagger(blocks=((4,),), k=2, f=())
    with pytest.raises(ValueError, match="points must be"):
        model.init(jax.random.PRNGKey(0), jnp.zeros((2, 5, 2)), jnp.zeros((2, 5, 3)), jnp.ones((2, 6), bool))
