"""The pure train step and the batch source, with and without jit (chex variants)."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl.testing import parameterized

from hepjax.train import ArrayDataset, init_state, make_train_step, split, step_key


def _loss(params, batch, key):
    pred = batch["x"] @ params["w"] + params["b"]
    noise = 0.01 * jax.random.normal(key, pred.shape)
    return jnp.mean((pred + noise - batch["y"]) ** 2), {"pred_mean": pred.mean()}


def _setup():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype(np.float32)
    batch = {"x": x, "y": x @ np.array([1.0, 2.0, -1.0], np.float32)}
    params = {"w": jnp.zeros(3), "b": jnp.zeros(())}
    opt = optax.sgd(0.1)
    return batch, params, opt


class TrainStepTest(parameterized.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_step_matches_manual_sgd(self):
        batch, params, opt = _setup()
        state = init_state(params, opt, jax.random.PRNGKey(0))
        step = self.variant(make_train_step(_loss, opt))
        key = step_key(state)
        new, metrics = step(state, batch, key)
        grads = jax.grad(lambda p: _loss(p, batch, key)[0])(params)
        chex.assert_trees_all_close(new.params, jax.tree.map(lambda p, g: p - 0.1 * g, params, grads), rtol=1e-6)
        chex.assert_trees_all_equal_shapes_and_dtypes(new, state)
        assert int(new.step) == 1 and bool(metrics["finite"])
        chex.assert_shape(metrics["loss"], ())
        np.testing.assert_allclose(metrics["grad_norm"], optax.tree.norm(grads), rtol=1e-6)

    @chex.variants(with_jit=True, without_jit=True)
    def test_non_finite_step_keeps_state(self):
        batch, params, opt = _setup()
        state = init_state(params, opt, jax.random.PRNGKey(0))
        bad = {**batch, "x": batch["x"].copy()}
        bad["x"][0, 0] = np.inf
        new, metrics = self.variant(make_train_step(_loss, opt))(state, bad, step_key(state))
        assert not bool(metrics["finite"])
        chex.assert_trees_all_equal(new, state)

    def test_step_keys_differ_per_step_and_are_reproducible(self):
        _, params, opt = _setup()
        s0 = init_state(params, opt, jax.random.PRNGKey(0))
        s1 = s0._replace(step=s0.step + 1)
        assert not np.array_equal(step_key(s0), step_key(s1))
        np.testing.assert_array_equal(step_key(s0), step_key(init_state(params, opt, jax.random.PRNGKey(0))))


def test_array_dataset_epochs_and_positions():
    x = np.arange(10)
    ds = ArrayDataset({"x": x}, batch_size=3, seed=1)
    assert ds.steps_per_epoch == 3
    epoch0 = np.concatenate([ds.batch(s)["x"] for s in range(3)])
    assert len(set(epoch0.tolist())) == 9  # no repeats within an epoch
    assert not np.array_equal(epoch0, np.concatenate([ds.batch(s)["x"] for s in range(3, 6)]))
    np.testing.assert_array_equal(ds.batch(4)["x"], ArrayDataset({"x": x}, 3, seed=1).batch(4)["x"])  # stateless
    assert ds.position(4) == {"epoch": 1, "batch_in_epoch": 1, "examples_seen": 12}


def test_array_dataset_errors_and_split():
    import pytest

    with pytest.raises(ValueError, match="disagree on their length"):
        ArrayDataset({"a": np.zeros(3), "b": np.zeros(4)}, 1)
    with pytest.raises(ValueError, match="exceeds the dataset size"):
        ArrayDataset({"a": np.zeros(3)}, 4)
    a, b = split({"x": np.arange(100)}, (0.7, 0.3), seed=0)
    assert len(a["x"]) == 70 and len(b["x"]) == 30
    assert set(a["x"]) | set(b["x"]) == set(range(100)) and not set(a["x"]) & set(b["x"])
