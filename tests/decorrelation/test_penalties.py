"""The penalty registry: every study method is registered, each penalty matches its library function."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.decorrelation import adversary_nll, distance_correlation, gradient_reversal, lambda_schedule, mode_loss
from hepjax.decorrelation.penalties import PENALTIES, Penalty, get_penalty


def _batch():
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(0), 3)
    scores = jax.random.uniform(k1, (64,))
    mass = 30.0 + 200.0 * jax.random.uniform(k2, (64,))
    bkg = (jax.random.uniform(k3, (64,)) > 0.4).astype(jnp.float32)
    return scores, mass, bkg


def test_registry_names_and_unknown_name():
    assert set(PENALTIES) == {"none", "disco", "mode0", "mode1", "adversarial"}
    with pytest.raises(ValueError, match=r"unknown decorrelation penalty 'mode2'.*adversarial.*disco"):
        get_penalty("mode2", strength=1.0)


def test_strength_weighted_penalties_match_the_library():
    s, m, b = _batch()
    step = jnp.zeros(())
    none = get_penalty("none")
    assert isinstance(none, Penalty) and none.init(jax.random.PRNGKey(1)) is None
    assert float(none.loss(None, s, m, b, step)[0]) == 0.0
    term, val = get_penalty("disco", strength=3.0).loss(None, s, m, b, step)
    assert float(val) == pytest.approx(float(distance_correlation(s, m, b)))
    assert float(term) == pytest.approx(3.0 * float(val))
    for order in (0, 1):
        pen = get_penalty(f"mode{order}", strength=2.0, bins=4, mass_range=(30.0, 230.0))
        term, val = pen.loss(None, s, m, b, step)
        want = mode_loss(s, m, b, order=order, bins=4, mass_range=(30.0, 230.0))
        assert pen.name == f"mode{order}" and float(val) == pytest.approx(float(want))
        assert float(term) == pytest.approx(2.0 * float(want))


def test_adversary_has_parameters_and_a_reversed_ramped_gradient():
    s, m, b = _batch()
    pen = get_penalty("adversarial", strength=2.0, ramp_steps=10, mass_scale=(100.0, 50.0), n_components=3, hidden=8)
    params = pen.init(jax.random.PRNGKey(2))
    assert params is not None
    term, val = pen.loss(params, s, m, b, jnp.asarray(10.0))
    want = adversary_nll(params, gradient_reversal(s, 2.0), (m - 100.0) / 50.0, b)
    assert float(term) == float(val) == pytest.approx(float(want))
    # the tagger's gradient is -λ(step) times the adversary's loss gradient
    lam_t = float(lambda_schedule(jnp.asarray(10.0), 2.0, 10))
    g = jax.grad(lambda x: pen.loss(params, x, m, b, jnp.asarray(10.0))[0])(s)
    g_plain = jax.grad(lambda x: adversary_nll(params, x, (m - 100.0) / 50.0, b))(s)
    np.testing.assert_allclose(np.asarray(g), -lam_t * np.asarray(g_plain), rtol=1e-5, atol=1e-7)
    # at step 0 the ramp has not started: no gradient reaches the scores
    g0 = jax.grad(lambda x: pen.loss(params, x, m, b, jnp.asarray(0.0))[0])(s)
    assert float(jnp.max(jnp.abs(g0))) == 0.0
