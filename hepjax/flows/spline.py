"""A fast, fully vectorised rational-quadratic spline bijector (Durkan et al. 2019, arXiv:1906.04032).

Same parameterisation as ``distrax.RationalQuadraticSpline(params, -B, B,
boundary_slopes="identity")`` (softmax bin sizes with a minimum size, softplus knot slopes
with a minimum slope, unit slopes at the boundaries, identity outside ``[-B, B]``), but
computed on whole arrays with one bin search and a one-hot bin selection instead of a
per-scalar ``jnp.vectorize``; its gradient is several times cheaper on CPU. distrax's implementation is
the reference it is tested against.
"""

from __future__ import annotations

import distrax
import jax
import jax.numpy as jnp

Array = jax.Array


def _bin_sizes(unnorm: Array, range_size: float, min_size: float) -> Array:
    k = unnorm.shape[-1]
    return jax.nn.softmax(unnorm, axis=-1) * (range_size - k * min_size) + min_size


def _knot_slopes(unnorm: Array, min_slope: float) -> Array:
    offset = jnp.log(jnp.exp(1.0 - min_slope) - 1.0)
    return jax.nn.softplus(unnorm + offset) + min_slope


class RationalQuadraticSpline(distrax.Bijector):
    """Element-wise monotone spline on ``[-bound, bound]``, identity outside.

    Args:
      params: ``[..., 3K + 1]`` unconstrained parameters (all zeros: the identity).
      bound: half-width ``B`` of the spline's interval.
    """

    def __init__(self, params: Array, bound: float, min_bin_size: float = 1e-4, min_knot_slope: float = 1e-4):
        super().__init__(event_ndims_in=0)
        k = (params.shape[-1] - 1) // 3
        self.num_bins = k
        widths = _bin_sizes(params[..., :k], 2 * bound, min_bin_size)
        heights = _bin_sizes(params[..., k : 2 * k], 2 * bound, min_bin_size)
        pad = jnp.zeros(params.shape[:-1] + (1,), params.dtype)
        self.x_pos = jnp.concatenate([pad, jnp.cumsum(widths, -1)], -1) - bound
        self.y_pos = jnp.concatenate([pad, jnp.cumsum(heights, -1)], -1) - bound
        self.x_pos = self.x_pos.at[..., -1].set(bound)
        self.y_pos = self.y_pos.at[..., -1].set(bound)
        ones = jnp.ones_like(pad)
        inner = _knot_slopes(params[..., 2 * k + 1 : 3 * k], min_knot_slope)  # slopes of the K-1 inner knots
        self.slopes = jnp.concatenate([ones, inner, ones], -1)
        self.bound = bound

    def _bin(self, knots: Array, v: Array):
        # One-hot bin selection: elementwise products, whose gradients are cheap on CPU
        # (a take_along_axis gather back-propagates through a scatter).
        k = self.num_bins
        idx = jnp.sum(v[..., None] >= knots[..., 1:-1], axis=-1)
        onehot = (idx[..., None] == jnp.arange(k)).astype(v.dtype)  # [..., K]
        pick = lambda a: (jnp.sum(onehot * a[..., :-1], -1), jnp.sum(onehot * a[..., 1:], -1))
        xk, xk1 = pick(self.x_pos)
        yk, yk1 = pick(self.y_pos)
        dk, dk1 = pick(self.slopes)
        return xk, xk1, yk, yk1, dk, dk1

    def _params_for(self, x: Array, knots: Array):
        shape = jnp.broadcast_shapes(x.shape, knots.shape[:-1])
        x = jnp.broadcast_to(x, shape)
        knots = jnp.broadcast_to(knots, shape + knots.shape[-1:])
        return x, knots

    def forward_and_log_det(self, x: Array) -> tuple[Array, Array]:
        x, _ = self._params_for(x, self.x_pos)
        inside = jnp.abs(x) < self.bound
        xc = jnp.clip(x, -self.bound, self.bound)
        xk, xk1, yk, yk1, dk, dk1 = self._bin(jnp.broadcast_to(self.x_pos, x.shape + self.x_pos.shape[-1:]), xc)
        w, h = xk1 - xk, yk1 - yk
        s = h / w
        z = jnp.clip((xc - xk) / w, 0.0, 1.0)
        z1mz = z * (1.0 - z)
        denom = s + (dk1 + dk - 2.0 * s) * z1mz
        y = yk + h * (s * z**2 + dk * z1mz) / denom
        ld = 2.0 * jnp.log(s) + jnp.log(dk1 * z**2 + 2.0 * s * z1mz + dk * (1.0 - z) ** 2) - 2.0 * jnp.log(denom)
        return jnp.where(inside, y, x), jnp.where(inside, ld, 0.0)

    def inverse_and_log_det(self, y: Array) -> tuple[Array, Array]:
        y, _ = self._params_for(y, self.y_pos)
        inside = jnp.abs(y) < self.bound
        yc = jnp.clip(y, -self.bound, self.bound)
        xk, xk1, yk, yk1, dk, dk1 = self._bin(jnp.broadcast_to(self.y_pos, y.shape + self.y_pos.shape[-1:]), yc)
        w, h = xk1 - xk, yk1 - yk
        s = h / w
        dy = yc - yk
        sum_d = dk1 + dk - 2.0 * s
        a = h * (s - dk) + dy * sum_d
        b = h * dk - dy * sum_d
        c = -s * dy
        disc = jnp.maximum(b**2 - 4.0 * a * c, 0.0)
        z = jnp.clip(2.0 * c / (-b - jnp.sqrt(disc)), 0.0, 1.0)
        x = xk + z * w
        z1mz = z * (1.0 - z)
        denom = s + sum_d * z1mz
        ld_fwd = 2.0 * jnp.log(s) + jnp.log(dk1 * z**2 + 2.0 * s * z1mz + dk * (1.0 - z) ** 2) - 2.0 * jnp.log(denom)
        return jnp.where(inside, x, y), jnp.where(inside, -ld_fwd, 0.0)
