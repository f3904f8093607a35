"""The switch really selects the branch; morphing transports one density onto the other."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.flows import FlowConfig
from hepjax.morphing import chi2_ndf, fit_switched_flow, make_switched_flow, morph, switch_context
from hepjax.train import TrainConfig

MEAN_SIM, STD_SIM = np.array([-1.0, 0.0]), np.array([0.3, 0.6])
MEAN_DATA, STD_DATA = np.array([1.5, 1.0]), np.array([0.5, 0.2])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    rng = np.random.default_rng(0)
    x_sim = (MEAN_SIM + STD_SIM * rng.normal(size=(4096, 2))).astype(np.float32)
    x_data = (MEAN_DATA + STD_DATA * rng.normal(size=(3000, 2))).astype(np.float32)
    flow = make_switched_flow(2, FlowConfig(kind="affine", layers=4, hidden=(32,)))
    cfg = TrainConfig(steps=400, batch_size=256, learning_rate=5e-3, checkpoint_every=0, log_every=100, progress=False)
    res = fit_switched_flow(
        flow, x_sim, x_data, cfg, workdir=tmp_path_factory.mktemp("switch"), key=jax.random.PRNGKey(0)
    )
    return flow, res.state.params


def test_switch_selects_the_branch(trained):
    flow, params = trained
    sample = jax.jit(flow.sample, static_argnums=3)
    for branch, mean, std in ((0, MEAN_SIM, STD_SIM), (1, MEAN_DATA, STD_DATA)):
        s = np.asarray(sample(params, jax.random.PRNGKey(branch), jnp.array([float(branch)]), 4000))
        np.testing.assert_allclose(s.mean(0), mean, atol=0.06)
        np.testing.assert_allclose(s.std(0), std, rtol=0.12)
    # Points of the simulation are far likelier under the simulation branch, and vice versa.
    lp = jax.jit(flow.log_prob)
    x = jnp.asarray(MEAN_SIM + STD_SIM * np.random.default_rng(1).normal(size=(500, 2)), jnp.float32)
    assert float(jnp.mean(lp(params, x, switch_context(0, 500)) - lp(params, x, switch_context(1, 500)))) > 5.0


def test_morphing_transports_simulation_onto_data(trained):
    flow, params = trained
    x = jnp.asarray(MEAN_SIM + STD_SIM * np.random.default_rng(2).normal(size=(4000, 2)), jnp.float32)
    y = np.asarray(jax.jit(lambda p, v: morph(flow, p, v))(params, x))
    np.testing.assert_allclose(y.mean(0), MEAN_DATA, atol=0.06)
    np.testing.assert_allclose(y.std(0), STD_DATA, rtol=0.12)
    # Data -> data is the identity map (to float round-off).
    back = morph(flow, params, x, source=0, target=0)
    np.testing.assert_allclose(back, x, atol=1e-4)


def test_chi2_ndf_against_explicit_loop():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=800), rng.normal(0.1, 1.1, size=1200)
    bins = np.linspace(-3, 3, 13)
    n, m = np.histogram(a, bins)[0], np.histogram(b, bins)[0]
    k = n.sum() / m.sum()
    chi2, used = 0.0, 0
    for ni, mi in zip(n, m):
        if ni + mi > 0:
            chi2 += (ni - k * mi) ** 2 / (ni + k * k * mi)
            used += 1
    value, ndf = chi2_ndf(a, b, bins)
    assert ndf == used - 1
    assert value == pytest.approx(chi2 / ndf, rel=1e-12)
    # Two samples of one density: chi2/ndf ~ 1.
    same = [chi2_ndf(rng.normal(size=5000), rng.normal(size=5000), bins)[0] for _ in range(20)]
    assert 0.6 < np.mean(same) < 1.5


def test_bad_input():
    with pytest.raises(ValueError, match="branch must be 0"):
        switch_context(2, 3)
    with pytest.raises(ValueError, match="populate"):
        chi2_ndf(np.array([10.0]), np.array([0.0]), np.linspace(-1, 1, 5))
