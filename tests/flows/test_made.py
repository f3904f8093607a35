"""MADE / MAF: masks keep the autoregressive order, every output sees the context, a 1-d MAF posterior.

A NumPy re-implementation of the masked network is the reference for the conditioner's outputs;
the autoregressive and context properties are checked on Jacobians of random (perturbed) parameters;
a one-dimensional conditional MAF must learn the analytic Gaussian posterior (before the direct
context-to-output connection it returned the prior at every context value).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.flows import MADE, MaskedAutoregressive, fit_flow, made_masks, make_flow
from hepjax.train import TrainConfig

N_PARAMS = 3


def _perturbed(params, seed, scale=0.5):
    """Every leaf (zero-initialised output layers included) plus ``scale`` N(0, 1) noise."""
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.PRNGKey(seed), len(leaves))
    return jax.tree.unflatten(tree, [a + scale * jax.random.normal(k, a.shape) for a, k in zip(leaves, keys)])


def _made(dim, context_dim, hidden, seed):
    made = MADE(dim=dim, n_params=N_PARAMS, hidden=hidden)
    c0 = jnp.zeros((1, context_dim)) if context_dim else None
    return made, _perturbed(made.init(jax.random.PRNGKey(seed), jnp.zeros((1, dim)), c0), seed + 1)


def _reference(p, x, c, dim, hidden):
    """The MADE written out in NumPy from its parameters and :func:`made_masks`."""
    p = jax.tree.map(np.asarray, p["params"])
    masks = made_masks(dim, hidden)
    h = x
    for i in range(len(hidden)):
        h = h @ (p[f"MaskedDense_{i}"]["kernel"] * masks[i]) + p[f"MaskedDense_{i}"]["bias"]
        if i == 0 and c is not None:
            h = h + c @ p["Dense_0"]["kernel"]
        h = np.maximum(h, 0.0)
    last = p[f"MaskedDense_{len(hidden)}"]
    out = h @ (last["kernel"] * np.repeat(masks[-1], N_PARAMS, axis=1)) + last["bias"]
    if c is not None:
        out = out + c @ p["ContextOut"]["kernel"]
    return out.reshape(x.shape[:-1] + (dim, N_PARAMS))


@pytest.mark.parametrize("dim,context_dim,hidden", [(3, 0, (16, 16)), (3, 2, (16, 16)), (1, 2, (8,)), (4, 1, (12,))])
def test_made_equals_numpy_reference_and_parameter_names(dim, context_dim, hidden):
    made, p = _made(dim, context_dim, hidden, seed=dim + context_dim)
    names = {f"MaskedDense_{i}" for i in range(len(hidden) + 1)}
    if context_dim:
        names |= {"Dense_0", "ContextOut"}
    # the unconditional tree is the one before the context fix: existing checkpoints still load
    assert set(p["params"]) == names
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, dim)).astype(np.float32)
    c = rng.normal(size=(7, context_dim)).astype(np.float32) if context_dim else None
    out = made.apply(p, jnp.asarray(x), None if c is None else jnp.asarray(c))
    np.testing.assert_allclose(out, _reference(p, x, c, dim, hidden), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dim,context_dim", [(1, 2), (3, 1), (5, 2)])
def test_every_conditioner_output_depends_on_the_context(dim, context_dim):
    """No output row of d(params)/d(context) is all zero (row 0 was, before the direct connection)."""
    made, p = _made(dim, context_dim, (16, 16), seed=10 * dim)
    x = jax.random.normal(jax.random.PRNGKey(1), (dim,))
    c = jax.random.normal(jax.random.PRNGKey(2), (context_dim,))
    jac = np.asarray(jax.jacfwd(lambda c: made.apply(p, x, c))(c)).reshape(dim * N_PARAMS, context_dim)
    dead = np.flatnonzero(np.all(jac == 0.0, axis=1))
    assert dead.size == 0, f"outputs {dead.tolist()} (dim = row // {N_PARAMS}) ignore the context"


@pytest.mark.parametrize("context_dim", [0, 2])
def test_made_and_maf_layers_are_autoregressive(context_dim):
    """Conditioner: d out_i / d x_j = 0 for j >= i; every MAF layer's forward Jacobian is lower
    triangular in that layer's order (its input order), with a positive diagonal."""
    dim, n = 4, 8
    made, p = _made(dim, context_dim, (16, 16), seed=3)
    c = jax.random.normal(jax.random.PRNGKey(2), (context_dim,)) if context_dim else None
    xs = jax.random.normal(jax.random.PRNGKey(1), (n, dim))
    jac = jax.jit(jax.vmap(jax.jacfwd(lambda x: made.apply(p, x, c))))(xs)  # [n, dim, n_params, dim]
    dep = np.any(np.asarray(jac) != 0.0, axis=(0, 2))  # [out dim, in dim], over the batch (ReLUs switch off)
    np.testing.assert_array_equal(dep, np.tril(np.ones((dim, dim), bool), k=-1))

    flow = make_flow(dim, context_dim=context_dim, layers=3, kind="maf", hidden=(16, 16), seed=4)
    params = _perturbed(flow.init(jax.random.PRNGKey(0)), 5, scale=0.3)

    def layer_jacobians(z):
        layers = [b for b in flow.bijector(params, c).bijectors if isinstance(b, MaskedAutoregressive)]
        return jnp.stack([jax.jacfwd(layer.forward)(z) for layer in layers])  # [3, dim, dim]

    zs = 0.5 * jax.random.normal(jax.random.PRNGKey(6), (n, dim))  # inside the spline range
    j = np.asarray(jax.jit(jax.vmap(layer_jacobians))(zs))  # [n, 3, dim, dim]
    upper, lower = np.triu_indices(dim, k=1), np.tril_indices(dim, k=-1)
    assert np.all(j[..., upper[0], upper[1]] == 0.0)  # x_i does not depend on z_j for j > i
    assert np.all(np.any(j[..., lower[0], lower[1]] != 0.0, axis=(0, 2)))  # each layer couples coordinates
    assert np.all(np.diagonal(j, axis1=-2, axis2=-1) > 0.0)


# Gaussian toy: truth ~ N(MU, SIGMA^2), reco = truth + N(0, SMEAR^2); the posterior p(truth | reco) is
# normal with mean (MU SMEAR^2 + reco SIGMA^2) / (SIGMA^2 + SMEAR^2) and variance SIGMA^2 SMEAR^2 / (SIGMA^2 + SMEAR^2).
MU, SIGMA, SMEAR = 1.0, 1.0, 0.5
RECO = np.array([-1.0, -0.5, 1.0, 2.5, 3.0])  # sim reco ~ N(1, 1.12^2): -1 is the 4 % tail


def _posterior(reco):
    mean = (MU * SMEAR**2 + reco * SIGMA**2) / (SIGMA**2 + SMEAR**2)
    return mean, np.sqrt(SIGMA**2 * SMEAR**2 / (SIGMA**2 + SMEAR**2))


def _fit_posterior(tmp_path, n, steps, hidden):
    rng = np.random.default_rng(0)
    truth = rng.normal(MU, SIGMA, size=(n, 1)).astype(np.float32)
    reco = (truth + rng.normal(0.0, SMEAR, size=(n, 1))).astype(np.float32)
    flow = make_flow(1, context_dim=1, layers=3, kind="maf", hidden=hidden, num_bins=8)
    cfg = TrainConfig(
        steps=steps, batch_size=256, learning_rate=5e-3, checkpoint_every=0, log_every=100, progress=False
    )
    params = fit_flow(flow, truth, reco, cfg, workdir=tmp_path, key=jax.random.PRNGKey(1)).state.params
    sample = jax.jit(flow.sample, static_argnums=3)
    draws = [np.asarray(sample(params, jax.random.PRNGKey(2), jnp.array([r]), 4000))[:, 0] for r in RECO]
    return np.array([d.mean() for d in draws]), np.array([d.std() for d in draws])


def test_one_dimensional_maf_learns_the_gaussian_posterior(tmp_path):
    mean, width = _fit_posterior(tmp_path, n=8192, steps=400, hidden=(16,))
    true_mean, true_width = _posterior(RECO)
    # the prior (what the MADE without a context path to output 0 returned) is off by up to 1.6 in the mean
    assert np.abs(true_mean - MU).max() > 1.5
    # measured (400 steps): means within 0.01, widths 0.46-0.51 (sampling error 0.005 in each)
    np.testing.assert_allclose(mean, true_mean, atol=0.08)
    np.testing.assert_allclose(width, true_width, atol=0.1)
