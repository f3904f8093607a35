"""The exact O(N log N) kernels of the 1-D path against brute-force O(N^2) references, ties included."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import enable_x64

from hepjax.decorrelation import distance_correlation, sorted1d


def _sample(rng, n):
    """Integer-valued x and half-rounded y (ties in each), and a block of exact (x, y) duplicates."""
    x = rng.integers(0, 6, n).astype(float)
    y = rng.normal(size=n)
    y[: n // 2] = np.round(y[: n // 2])
    if n > 20:
        x[:8], y[:8] = x[8], y[8]
    return x, y, rng.uniform(0.2, 2.0, n)


def _brute_cross(x, y, w):
    """R, G, H of :func:`sorted1d.cross_row_terms` from the definition (sign(0) = 0)."""
    dx, dy = x[:, None] - x[None], y[:, None] - y[None]
    return (np.abs(dx) * np.abs(dy)) @ w, (np.sign(dx) * np.abs(dy)) @ w, (np.sign(dy) * np.abs(dx)) @ w


@jax.jit
def _kernels(x, y, w):
    o = sorted1d.orders(x, y)
    return sorted1d.lower_left_sums(x, y, w, o.arr, o.pos), sorted1d.cross_row_terms(x, y, w, o)


# sizes within, just above and well above the dense bottom block, not powers of two
@pytest.mark.parametrize("n", [3, pytest.param(sorted1d.DENSE_BLOCK + 1, marks=pytest.mark.slow), 150])
def test_lower_left_and_cross_terms_match_brute_force(n):
    rng = np.random.default_rng(n)
    x, y, w = _sample(rng, n)
    with enable_x64():
        ll, terms = _kernels(jnp.asarray(x), jnp.asarray(y), jnp.asarray(w))
    for got, ref in zip(terms, _brute_cross(x, y, w)):
        np.testing.assert_allclose(got, ref, rtol=1e-11, atol=1e-11)
    m = ((x[None] < x[:, None]) & (y[None] < y[:, None])) * w[None]  # [i, j]: j strictly lower-left of i
    np.testing.assert_allclose(ll, np.stack([m.sum(1), m @ x, m @ y, m @ (x * y)], -1), rtol=1e-12, atol=1e-12)


def test_numpy_and_xla_orders_agree():
    # The CPU path sorts in NumPy, other backends with lax.sort: same ranks and tie groups.
    rng = np.random.default_rng(11)
    x, y, _ = _sample(rng, 77)
    with enable_x64():
        a = sorted1d.orders(jnp.asarray(x), jnp.asarray(y))
        b = sorted1d.Orders(*jax.jit(sorted1d._orders_xla)(jnp.asarray(x), jnp.asarray(y)))
    for name in sorted1d.Orders._fields:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


def test_custom_vjp_equals_dense_autodiff_with_weights_and_ties():
    rng = np.random.default_rng(12)
    x, y, w = _sample(rng, 90)

    def dense(a, b, c):
        return jnp.sum(c[:, None] * c[None] * jnp.abs(a[:, None] - a[None]) * jnp.abs(b[:, None] - b[None]))

    with enable_x64():
        args = (jnp.asarray(x), jnp.asarray(y), jnp.asarray(w))
        v, g = jax.jit(jax.value_and_grad(sorted1d.cross_abs_sum, argnums=(0, 1, 2)))(*args)
        vd, gd = jax.value_and_grad(dense, argnums=(0, 1, 2))(*args)
    assert float(v) == pytest.approx(float(vd), rel=1e-12)
    for a, b in zip(g, gd):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize("unbiased", [False, True])
def test_distance_correlation_sorted_equals_dense_above_dense_block(unbiased):
    # 150 events: two partition levels and the dense bottom block; weights, ties and duplicates.
    rng = np.random.default_rng(13)
    x, y, w = _sample(rng, 150)
    with enable_x64():

        def vg(m):
            fn = lambda a, b, c: distance_correlation(a, b, c, unbiased=unbiased, method=m)
            return jax.value_and_grad(fn, argnums=(0, 1, 2))(jnp.asarray(x), jnp.asarray(y), jnp.asarray(w))

        (vs, gs), (vd, gd) = vg("sorted"), vg("dense")
    assert float(vs) == pytest.approx(float(vd), rel=1e-10)
    for a, b in zip(gs, gd):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-12)
