"""hepjax.nn.MLP and DeepSets: shapes, the written-out function, permutation and padding invariance, jit / no-jit."""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.nn import MLP, DeepSets


class TestMLP(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_equals_written_out_layers(self):
        x = jnp.asarray(np.random.default_rng(0).normal(size=(2, 5, 3)), jnp.float32)
        mlp = MLP((8, 8, 2), activation=jnp.tanh, layer_norm=True)
        v = mlp.init(jax.random.PRNGKey(0), x)
        out = self.variant(mlp.apply)(v, x)
        chex.assert_shape(out, (2, 5, 2))
        p, h = v["params"], x
        for i in range(2):
            h = h @ p[f"Dense_{i}"]["kernel"] + p[f"Dense_{i}"]["bias"]
            hc = h - h.mean(-1, keepdims=True)
            h = hc / jnp.sqrt((hc**2).mean(-1, keepdims=True) + 1e-5) * p[f"LayerNorm_{i}"]["scale"]
            h = jnp.tanh(h + p[f"LayerNorm_{i}"]["bias"])
        ref = h @ p["Dense_2"]["kernel"] + p["Dense_2"]["bias"]
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)


def test_activate_final_and_no_layer_norm():
    x = jnp.ones((4, 3))
    mlp = MLP((5, 6), activate_final=True)
    v = mlp.init(jax.random.PRNGKey(1), x)
    assert set(v["params"]) == {"Dense_0", "Dense_1"}
    assert float(mlp.apply(v, -10 * x).min()) >= 0.0  # ReLU after the last layer too


def _sets(rng, b=3, m=9, f=4, n_real=(6, 2, 9)):
    x = rng.normal(size=(b, m, f)).astype(np.float32)
    mask = np.zeros((b, m), bool)
    for i, n in enumerate(n_real):
        mask[i, :n] = True
    return x, mask


class TestDeepSets(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_shapes_permutation_and_padding_invariance(self):
        rng = np.random.default_rng(2)
        x, mask = _sets(rng)
        net = DeepSets(phi=(8, 8), rho=(8,), out_features=3)
        v = net.init(jax.random.PRNGKey(0), x, mask)
        fn = self.variant(net.apply)
        out = fn(v, x, mask)
        chex.assert_shape(out, (3, 3))
        perm = rng.permutation(x.shape[1])
        np.testing.assert_allclose(fn(v, x[:, perm], mask[:, perm]), out, rtol=1e-5, atol=1e-6)
        junk = np.where(mask[..., None], x, np.inf).astype(np.float32)  # padding content is never read
        np.testing.assert_allclose(fn(v, junk, mask), out, rtol=1e-5, atol=1e-6)
        wide = np.concatenate([x, np.zeros((3, 4, 4), np.float32)], 1)
        wmask = np.concatenate([mask, np.zeros((3, 4), bool)], 1)
        np.testing.assert_allclose(fn(v, wide, wmask), out, rtol=1e-5, atol=1e-6)
        assert not np.allclose(out[0], out[1])


def test_deepsets_set_inputs_and_bad_shapes():
    rng = np.random.default_rng(3)
    x, mask = _sets(rng)
    g = rng.normal(size=(3, 2)).astype(np.float32)
    net = DeepSets(phi=(4,), rho=(4,))
    v = net.init(jax.random.PRNGKey(0), x, mask, g)
    assert v["params"]["rho"]["Dense_0"]["kernel"].shape == (4 + 2, 4)
    assert not np.allclose(net.apply(v, x, mask, g), net.apply(v, x, mask, g + 1.0))
    with pytest.raises(ValueError, match="elements must be"):
        net.apply(v, x, mask[:, :-1])


def test_mlp_is_a_linen_module():
    assert issubclass(MLP, nn.Module) and issubclass(DeepSets, nn.Module)
