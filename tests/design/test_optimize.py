"""optimize: known optima (free and on a bound), determinism, feasibility, eval count, NaN naming the step."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from hepjax.design import optimize


def _quad(p, key):
    return (p["a"] - 1.5) ** 2 + jnp.sum((p["b"] + 0.5) ** 2)


def test_finds_quadratic_minimum_and_counts_evals():
    init = {"a": jnp.asarray(0.0), "b": jnp.zeros(2)}
    res = optimize(_quad, init, optimizer=optax.adam(0.1), steps=300, key=jax.random.key(0))
    np.testing.assert_allclose(float(res.params["a"]), 1.5, atol=1e-3)
    np.testing.assert_allclose(np.asarray(res.params["b"]), [-0.5, -0.5], atol=1e-3)
    assert res.n_evals == 300 and len(res.path_params) == 300 and res.path_objective.shape == (300,)
    assert res.path_objective[-1] < 1e-5 < res.path_objective[0]


def test_bounded_optimum_on_the_bound_and_maximize():
    # maximise -(x - 3)^2 with x in (0, 2): optimum at the upper bound 2; y positive, optimum of -(y-0.3)^2 at 0.3
    def obj(p, key):
        return -((p["x"] - 3.0) ** 2) - (p["y"] - 0.3) ** 2

    res = optimize(
        obj,
        {"x": jnp.asarray(1.0), "y": jnp.asarray(1.0)},
        optimizer=optax.adam(0.1),
        steps=300,
        key=jax.random.key(0),
        bounds={"x": (0.0, 2.0), "y": "positive"},
        maximize=True,
    )
    assert 1.98 < float(res.params["x"]) <= 2.0
    np.testing.assert_allclose(float(res.params["y"]), 0.3, atol=1e-3)
    xs = np.array([float(p["x"]) for p in res.path_params])
    ys = np.array([float(p["y"]) for p in res.path_params])
    assert np.all((xs >= 0.0) & (xs <= 2.0)) and np.all(ys > 0.0)


def _noisy(p, key):
    return (p["a"] - jax.random.normal(key)) ** 2


def test_same_seed_same_path_and_fresh_noise():
    kw = dict(optimizer=optax.sgd(0.1), steps=20)
    r1 = optimize(_noisy, {"a": jnp.asarray(0.0)}, key=jax.random.key(3), **kw)
    r2 = optimize(_noisy, {"a": jnp.asarray(0.0)}, key=jax.random.key(3), **kw)
    np.testing.assert_array_equal(r1.path_objective, r2.path_objective)
    r3 = optimize(_noisy, {"a": jnp.asarray(0.0)}, key=jax.random.key(4), **kw)
    assert not np.array_equal(r1.path_objective, r3.path_objective)
    # same key every step: the objective is deterministic, so a converges to that one normal draw
    r4 = optimize(_noisy, {"a": jnp.asarray(0.0)}, key=jax.random.key(3), fresh_noise=False, **kw | {"steps": 100})
    np.testing.assert_allclose(float(r4.params["a"]), float(jax.random.normal(jax.random.key(3))), atol=1e-4)


def test_nan_names_step_and_bad_init():
    def obj(p, key):
        return jnp.where(p["a"] > 0.25, jnp.nan, (p["a"] - 1.0) ** 2)

    with pytest.raises(FloatingPointError, match="step"):
        optimize(obj, {"a": jnp.asarray(0.0)}, optimizer=optax.sgd(0.1), steps=50, key=jax.random.key(0))
    with pytest.raises(ValueError, match=r"\['a'\]"):
        optimize(
            _quad,
            {"a": jnp.asarray(5.0), "b": jnp.zeros(2)},
            optimizer=optax.sgd(0.1),
            steps=1,
            key=jax.random.key(0),
            bounds={"a": (0.0, 1.0), "b": None},
        )
