"""Every bijector inverts to round-off and its log-det equals log|det jacfwd| (property-based)."""

import chex
import distrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hepjax.flows import Permutation, affine, logit, make_flow, rqs, standardize

DIM = 4
SETTINGS = settings(max_examples=5, deadline=None, derandomize=True)


def _make_checks(make):
    """Jitted (forward, inverse, jacobian) of ``make(theta)``, a bijector on [DIM] events."""
    fwd = jax.jit(lambda theta, x: make(theta).forward_and_log_det(x))
    inv = jax.jit(lambda theta, y: make(theta).inverse_and_log_det(y))
    jac = jax.jit(jax.jacfwd(lambda theta, x: make(theta).forward(x), argnums=1))
    return fwd, inv, jac


def _f64(tree):
    return jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), tree)


def _check(checks, theta, x, atol_x=1e-9, atol_ld=1e-8):
    """Inverse and log-det vs jacfwd, in float64, so "round-off" is ~1e-12 even for steep splines."""
    with jax.enable_x64(True):
        _check64(checks, _f64(theta), _f64(x), atol_x, atol_ld)


def _check64(checks, theta, x, atol_x, atol_ld):
    fwd, inv, jac = checks
    y, ld = fwd(theta, x)
    x2, ld_inv = inv(theta, y)
    np.testing.assert_allclose(x2, x, atol=atol_x, rtol=1e-4)
    np.testing.assert_allclose(ld_inv, -ld, atol=atol_ld, rtol=1e-4)
    sign, logabsdet = jnp.linalg.slogdet(jac(theta, x))
    assert sign != 0
    np.testing.assert_allclose(ld, logabsdet, atol=atol_ld, rtol=1e-3)


def _perturbed(params, key, scale):
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(key, len(leaves))
    return jax.tree.unflatten(tree, [a + scale * jax.random.normal(k, a.shape) for a, k in zip(leaves, keys)])


RQS = _make_checks(lambda p: distrax.Block(rqs(p), 1))
AFFINE = _make_checks(lambda p: distrax.Block(affine(p), 1))
LOGIT = _make_checks(lambda a: logit(1e-3))
STANDARDIZE = _make_checks(lambda ms: standardize(ms[0], ms[1]))
PERM = np.random.default_rng(0).permutation(DIM)
PERMUTATION = _make_checks(lambda _: Permutation(PERM))


@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.1, 2.0))
@SETTINGS
def test_elementwise_spline_and_affine(seed, scale):
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(seed), 3)
    x = 3.0 * jax.random.normal(k1, (DIM,))  # spans inside and outside the spline range [-5, 5]
    _check(RQS, scale * jax.random.normal(k2, (DIM, 25)), x)
    _check(AFFINE, scale * jax.random.normal(k3, (DIM, 2)), x)


@given(seed=st.integers(0, 2**31 - 1))
@SETTINGS
def test_preprocessing_and_permutation(seed):
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(seed), 3)
    u = jax.random.uniform(k1, (DIM,), minval=0.01, maxval=0.99)
    _check(LOGIT, 0.0, u)
    _check(
        STANDARDIZE,
        (jax.random.normal(k2, (DIM,)), jnp.exp(jax.random.normal(k3, (DIM,)))),
        jax.random.normal(k1, (DIM,)),
    )
    _check(PERMUTATION, 0.0, u)


FLOWS = {
    kind: make_flow(DIM, context_dim=2, layers=2, kind=kind, hidden=(8,), seed=3) for kind in ("rqs", "affine", "maf")
}
INIT = {kind: f.init(jax.random.PRNGKey(0)) for kind, f in FLOWS.items()}
FLOW_CHECKS = {kind: _make_checks(lambda pc, f=f: f.bijector(pc[0], pc[1])) for kind, f in FLOWS.items()}


@pytest.mark.parametrize("kind", ["rqs", "affine", "maf"])
@given(seed=st.integers(0, 2**31 - 1), scale=st.floats(0.0, 0.5))
@settings(max_examples=3, deadline=None, derandomize=True)
def test_flow_layers_invert_and_logdet(kind, seed, scale):
    kp, kx, kc = jax.random.split(jax.random.PRNGKey(seed), 3)
    params = _perturbed(INIT[kind], kp, scale)  # zero-initialised last layers -> random splines
    x = jax.random.normal(kx, (DIM,))
    ctx = jax.random.normal(kc, (2,))
    _check(FLOW_CHECKS[kind], (params, ctx), x)


class TestLogProbVariants(chex.TestCase):
    @chex.variants(with_jit=True, without_jit=True)
    def test_log_prob_is_normal_at_init(self):
        # Zero-initialised conditioners: the flow is the identity, so log_prob is the N(0, 1) density.
        flow = make_flow(3, context_dim=1, layers=1, kind="rqs", hidden=(8,))
        params = flow.init(jax.random.PRNGKey(0))
        x = jax.random.normal(jax.random.PRNGKey(1), (6, 3))
        lp = self.variant(flow.log_prob)(params, x, jnp.zeros((6, 1)))
        chex.assert_shape(lp, (6,))
        ref = jax.scipy.stats.norm.logpdf(x).sum(-1)
        np.testing.assert_allclose(lp, ref, atol=1e-5)


def test_fast_spline_equals_distrax_reference():
    """The vectorised spline is distrax's RationalQuadraticSpline, number for number."""
    from hepjax.flows import rqs_reference

    p = 1.5 * jax.random.normal(jax.random.PRNGKey(5), (64, DIM, 25))
    x = 4.0 * jax.random.normal(jax.random.PRNGKey(6), (64, DIM))  # inside and outside [-5, 5]
    both = lambda make: jax.jit(lambda p, x: (make(p).forward_and_log_det(x), make(p).inverse_and_log_det(x)))(p, x)
    for fast, ref in zip(both(rqs), both(rqs_reference)):
        np.testing.assert_allclose(fast[0], ref[0], atol=2e-5, rtol=1e-5)
        np.testing.assert_allclose(fast[1], ref[1], atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize("kind,layers", [("rqs", 2), ("rqs", 8), ("affine", 6), ("affine", 3)])
def test_every_coupling_pair_transforms_every_coordinate(kind, layers):
    """Random permutations between *every* coupling layer leave a coordinate untransformed with
    probability 2^-layers (3 of 368 calorimeter voxels at 8 layers); only between pairs, none is."""
    dim = 368
    flow = make_flow(dim, layers=layers, kind=kind, hidden=(8,), seed=2)
    zero = jax.tree.map(jnp.zeros_like, flow.init(jax.random.PRNGKey(0)))  # every layer the identity
    z = jax.random.normal(jax.random.PRNGKey(1), (4, dim))
    x_id = flow.forward(zero, z)[0]
    for first in range(0, layers, 2):
        p = jax.tree.map(lambda a: a, zero)
        pair = range(first, min(first + 2, layers))
        for i in pair:  # only the bias of the last layer: a z-independent, nonzero change
            last = sorted(p["layers"][i]["params"])[-1]
            p["layers"][i]["params"][last]["bias"] = 0.3 * jnp.ones_like(p["layers"][i]["params"][last]["bias"])
        moved = np.asarray(jnp.any(jnp.abs(flow.forward(p, z)[0] - x_id) > 1e-6, axis=0))
        expected = dim if len(pair) == 2 else dim - dim // 2
        assert moved.sum() == expected, (first, int(moved.sum()))
