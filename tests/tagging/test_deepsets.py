"""PFN tagger: permutation invariance, padding invariance, jit / no-jit agreement."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.tagging import apply_pfn, init_pfn


class TestPFN(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_invariances(self):
        rng = np.random.default_rng(0)
        params = init_pfn(jax.random.PRNGKey(0), n_features=4, phi=(16, 16), f=(16,))
        feats = rng.normal(size=(3, 10, 4)).astype(np.float32)
        mask = np.zeros((3, 10), bool)
        mask[0, :7], mask[1, :3], mask[2, :10] = True, True, True
        fn = self.variant(apply_pfn)
        out = fn(params, jnp.asarray(feats), jnp.asarray(mask))
        chex.assert_shape(out, (3,))
        # permuting constituents (with their mask) changes nothing
        perm = rng.permutation(10)
        out_p = fn(params, jnp.asarray(feats[:, perm]), jnp.asarray(mask[:, perm]))
        np.testing.assert_allclose(out_p, out, rtol=1e-5, atol=1e-6)
        # padding content is ignored
        feats2 = feats.copy()
        feats2[~mask] = 1e3
        np.testing.assert_allclose(fn(params, jnp.asarray(feats2), jnp.asarray(mask)), out, rtol=1e-5, atol=1e-6)
        # more padding slots give the same output
        wide = np.concatenate([feats, np.zeros((3, 5, 4), np.float32)], axis=1)
        wmask = np.concatenate([mask, np.zeros((3, 5), bool)], axis=1)
        np.testing.assert_allclose(fn(params, jnp.asarray(wide), jnp.asarray(wmask)), out, rtol=1e-5, atol=1e-6)


def test_bad_shapes():
    params = init_pfn(jax.random.PRNGKey(0), n_features=4)
    with pytest.raises(ValueError, match="features must be"):
        apply_pfn(params, jnp.zeros((2, 5, 4)), jnp.ones((2, 6), bool))


class TestDeepSetsWeights(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_soft_weights_and_jet_inputs(self):
        """Soft weights scale each constituent's Phi; weight 0 equals removing it; jet inputs enter F."""
        from hepjax.tagging import DeepSets

        rng = np.random.default_rng(1)
        feats = jnp.asarray(rng.normal(size=(2, 6, 3)), jnp.float32)
        w = jnp.asarray(rng.uniform(0.2, 1.0, size=(2, 6)), jnp.float32).at[:, 4:].set(0.0)
        jet = jnp.asarray(rng.normal(size=(2, 2)), jnp.float32)
        model = DeepSets(phi=(8, 8), f=(8,), pool_scale=0.05)
        params = jax.jit(model.init)(jax.random.PRNGKey(0), feats, w, jet)
        fn = self.variant(model.apply)
        out = fn(params, feats, w, jet)
        chex.assert_shape(out, (2,))
        np.testing.assert_allclose(fn(params, feats[:, :4], w[:, :4], jet), out, rtol=1e-5, atol=1e-6)
        # reference: the same network written out by hand
        p = params["params"]["net"]
        h = feats
        for name in ("Dense_0", "Dense_1"):
            h = jax.nn.relu(h @ p["phi"][name]["kernel"] + p["phi"][name]["bias"])
        g = jnp.concatenate([0.05 * jnp.sum(h * w[..., None], 1), jet], -1)
        rho = p["rho"]
        g = jax.nn.relu(g @ rho["Dense_0"]["kernel"] + rho["Dense_0"]["bias"])
        np.testing.assert_allclose(
            out, (g @ rho["Dense_1"]["kernel"] + rho["Dense_1"]["bias"])[:, 0], rtol=1e-5, atol=1e-6
        )
        assert not np.allclose(fn(params, feats, w, jet + 1.0), out)
