"""Quantization-aware layers whose forward pass is the hls4ml C simulation, bit for bit.

* :class:`FixedPoint` fake-quantizes activations to one ``ap_fixed`` type (straight-through
  gradient; see :func:`hepjax.hls.fixed.quantize`).
* :class:`QDense` quantizes its input, kernel and bias, and computes ``x @ W + b`` **exactly in
  int32** before casting once to its ``output`` type -- what an hls4ml ``Dense`` does when its
  accumulator is wide enough to hold every partial sum (the bridge writes such an ``accum_t``,
  see :func:`dense_accumulator`). A float32 matmul would round partial sums above 2**24 and
  differ from the firmware in the last bit now and then; the int32 path cannot. The backward
  pass is the float straight-through gradient of the same expression.

Per-layer bit widths are the ``input`` / ``weight`` / ``bias`` / ``output`` strings, e.g.
``QDense(64, input="ap_fixed<16,6,AP_RND,AP_SAT>", weight="ap_fixed<6,1,AP_RND,AP_SAT>",
bias="ap_fixed<6,1,AP_RND,AP_SAT>", output="ap_fixed<12,6,AP_RND,AP_SAT>")``.

Example::

    layer = QDense(4, input="ap_fixed<8,3>", weight="ap_fixed<6,1>", bias="ap_fixed<6,1>",
                   output="ap_fixed<10,4,AP_RND,AP_SAT>")
    params = layer.init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
    y = layer.apply(params, jnp.ones((2, 3)))  # [2, 4], every value on the 2**-6 grid
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from hepjax.hls.fixed import (
    FixedSpec,
    accumulator_spec,
    codes_to_float,
    quantize,
    requantize_codes,
)
from hepjax.hls.optag import op_scope

_INT32_LIMIT = 2**31 - 1


class DenseArithmetic(NamedTuple):
    """Static description of an exact fixed-point Dense: the types and the accumulator."""

    x: FixedSpec
    w: FixedSpec
    b: FixedSpec | None
    out: FixedSpec
    frac_acc: int  # fractional bits of the accumulator
    accum: FixedSpec  # the hls4ml accum_t that holds every partial sum exactly


def _max_abs_code(spec: FixedSpec) -> int:
    return max(abs(spec.min_code), abs(spec.max_code))


def dense_accumulator(
    x: FixedSpec, w: FixedSpec, b: FixedSpec | None, out: FixedSpec, fan_in: int, *, name: str = "QDense"
) -> DenseArithmetic:
    """Accumulator of ``fan_in`` products ``x*w`` plus the bias, exact by construction.

    Raises:
      ValueError: if the worst-case sum needs more than 31 bits (the int32 forward pass would
        overflow); the message names the layer and the widths to reduce.
    """
    frac_acc = max(x.frac + w.frac, b.frac if b is not None else 0, out.frac)
    bound = fan_in * _max_abs_code(x) * _max_abs_code(w) * 2 ** (frac_acc - x.frac - w.frac)
    if b is not None:
        bound += _max_abs_code(b) * 2 ** (frac_acc - b.frac)
    bound += 2 ** max(frac_acc - out.frac - 1, 0)  # rounding offset
    if bound > _INT32_LIMIT:
        raise ValueError(
            f"{name}: the exact accumulator of {fan_in} products {x.hls_type()} x {w.hls_type()} needs "
            f"{bound.bit_length() + 1} bits, more than int32 holds; use fewer input or weight bits"
        )
    return DenseArithmetic(x, w, b, out, frac_acc, accumulator_spec(bound, frac_acc))


def _exact_dense(arith: DenseArithmetic, xq: jax.Array, wq: jax.Array, bq: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Exact ``x @ w + b`` as accumulator codes (int32), then the cast to ``arith.out``."""
    xc = jnp.round(xq * jnp.float32(2.0**arith.x.frac)).astype(jnp.int32)  # exact: on the grid
    wc = jnp.round(wq * jnp.float32(2.0**arith.w.frac)).astype(jnp.int32)
    acc = jnp.matmul(xc, wc, preferred_element_type=jnp.int32)
    acc = jnp.left_shift(acc, jnp.int32(arith.frac_acc - arith.x.frac - arith.w.frac))
    if arith.b is not None:
        bc = jnp.round(bq * jnp.float32(2.0**arith.b.frac)).astype(jnp.int32)
        acc = acc + jnp.left_shift(bc, jnp.int32(arith.frac_acc - arith.b.frac))
    out = requantize_codes(acc, arith.frac_acc, arith.out)
    return codes_to_float(out, arith.out), acc


def arithmetic_attrs(arith: DenseArithmetic) -> dict:
    """The types of ``arith`` as strings (the tag the jaxpr converter reads back)."""
    return {"x": str(arith.x), "w": str(arith.w), "b": None if arith.b is None else str(arith.b), "out": str(arith.out)}


def fixed_dense(arith: DenseArithmetic, xq: jax.Array, wq: jax.Array, bq: jax.Array) -> jax.Array:
    """``cast<out>(x @ w + b)`` computed exactly; inputs must already lie on their grids.

    Shapes: ``xq [..., n_in]``, ``wq [n_in, n_out]``, ``bq [n_out]`` -> ``[..., n_out]`` float32.
    Gradient: that of ``x @ w + b`` (straight through the output cast; zero where an ``AP_SAT``
    output saturates).
    """
    with op_scope("fixed_dense", **arithmetic_attrs(arith)):  # one tagged call for the jaxpr converter
        return _fixed_dense(arith, xq, wq, bq)


@partial(jax.custom_vjp, nondiff_argnums=(0,))
def _fixed_dense(arith: DenseArithmetic, xq: jax.Array, wq: jax.Array, bq: jax.Array) -> jax.Array:
    return _exact_dense(arith, xq, wq, bq)[0]


def _fixed_dense_fwd(arith, xq, wq, bq):
    y, acc = _exact_dense(arith, xq, wq, bq)
    real = codes_to_float(acc, arith.frac_acc)
    if arith.out.overflow == "SAT":
        mask = ((real >= arith.out.min_value) & (real <= arith.out.max_value)).astype(jnp.float32)
    else:
        mask = jnp.ones_like(real)
    return y, (xq, wq, mask)


def _fixed_dense_bwd(arith, res, g):
    xq, wq, mask = res
    g = g * mask
    dx = g @ wq.T
    dw = xq.reshape(-1, xq.shape[-1]).T @ g.reshape(-1, g.shape[-1])
    db = g.reshape(-1, g.shape[-1]).sum(0)
    return dx, dw, db


_fixed_dense.defvjp(_fixed_dense_fwd, _fixed_dense_bwd)


class FixedPoint(nn.Module):
    """Fake-quantize activations to ``spec`` (e.g. ``"ap_ufixed<6,2,AP_RND,AP_SAT>"``); shape-preserving.

    In hls4ml this is a linear activation whose result type is ``spec`` (a cast).
    """

    spec: str

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        return quantize(x, FixedSpec.parse(self.spec))


class QDense(nn.Module):
    """Fixed-point Dense layer, bit-exact with hls4ml's ``Dense`` (io_parallel and io_stream).

    Attributes:
      features: output width.
      input, weight, bias, output: ``ap_fixed`` types of the input (the layer quantizes its input
        to it), kernel, bias and result (one cast of the exact accumulator).
      use_bias: add a bias.

    Params: ``kernel [n_in, features]``, ``bias [features]`` (same names as ``nn.Dense``, so
    :mod:`hepjax.hls.prune` prunes them alike).
    """

    features: int
    input: str
    weight: str
    bias: str | None
    output: str
    use_bias: bool = True
    kernel_init: Callable[..., Any] = nn.initializers.lecun_normal()
    bias_init: Callable[..., Any] = nn.initializers.zeros_init()

    def arithmetic(self, fan_in: int) -> DenseArithmetic:
        b = FixedSpec.parse(self.bias) if self.use_bias else None
        if self.use_bias and self.bias is None:
            raise ValueError(f"QDense {self.name}: use_bias=True needs a bias type")
        return dense_accumulator(
            FixedSpec.parse(self.input),
            FixedSpec.parse(self.weight),
            b,
            FixedSpec.parse(self.output),
            fan_in,
            name=f"QDense {self.name}",
        )

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        n_in = x.shape[-1]
        arith = self.arithmetic(n_in)
        kernel = self.param("kernel", self.kernel_init, (n_in, self.features), jnp.float32)
        xq = quantize(x, arith.x)
        wq = quantize(kernel, arith.w)
        if self.use_bias:
            bq = quantize(self.param("bias", self.bias_init, (self.features,), jnp.float32), arith.b)
        else:
            bq = jnp.zeros((self.features,), jnp.float32)
            arith = arith._replace(b=None)
        return fixed_dense(arith, xq, wq, bq)
