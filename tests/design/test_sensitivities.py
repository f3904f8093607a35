"""Sensitivities against central finite differences in ln θ, on a smooth function of a params pytree."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.design import sensitivities


def _params():
    return {
        "tracker": {"resolution": jnp.array([0.01, 0.02, 0.05], jnp.float32), "radius": jnp.asarray(1.2, jnp.float32)},
        "ecal": {"stochastic": jnp.asarray(0.03, jnp.float32)},
    }


def _loss(p):
    t, e = p["tracker"], p["ecal"]
    return jnp.sum(jnp.log1p(t["resolution"] * 40.0)) * t["radius"] ** 2 + jnp.exp(10.0 * e["stochastic"]) + 3.0


def _fd(loss, params, path, h=1e-2):
    """Central difference of loss(θ · e^ε) in ε for one leaf (float32: h = 1e-2 keeps round-off ~1e-5)."""

    def scaled(eps):
        leaves, tree = jax.tree_util.tree_flatten_with_path(params)
        new = [v * np.exp(eps) if jax.tree_util.keystr(k) == path else v for k, v in leaves]
        return float(loss(jax.tree_util.tree_unflatten(tree, new)))

    return (scaled(h) - scaled(-h)) / (2 * h)


def test_matches_finite_differences_in_log_parameters():
    p = _params()
    got = sensitivities(_loss, p)
    assert set(got) == {"tracker.resolution", "tracker.radius", "ecal.stochastic"}
    for name, key in (
        ("tracker.resolution", "['tracker']['resolution']"),
        ("tracker.radius", "['tracker']['radius']"),
        ("ecal.stochastic", "['ecal']['stochastic']"),
    ):
        assert got[name] == pytest.approx(_fd(_loss, p, key), rel=2e-3), name
    rel = sensitivities(_loss, p, relative=True)
    loss = float(_loss(p))
    for name in got:
        assert rel[name] == pytest.approx(got[name] / loss, rel=1e-6)


def test_non_finite_gradient_is_an_error():
    with pytest.raises(FloatingPointError, match="tracker.radius"):
        sensitivities(lambda p: jnp.sqrt(p["tracker"]["radius"] - 1.2), _params())
