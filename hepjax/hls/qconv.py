"""Quantization-aware 1-D and 2-D convolutions whose forward pass is the hls4ml C simulation, bit for bit.

:class:`QConv` quantizes its input, kernel and bias to ``ap_fixed`` types and computes every
output pixel as an exact integer dot product over its receptive field, followed by one cast to the
``output`` type -- what hls4ml's ``Conv1D``/``Conv2D`` (io_parallel and io_stream) do when the
accumulator holds every partial sum (the bridge writes such an ``accum_t``). Padding pixels are
zeros, as in the firmware.

The convolution is written as im2col + the exact Dense of :mod:`hepjax.hls.quant`: the receptive
fields are gathered by slicing (pure indexing, so exact on any device and any float precision
setting), then :func:`hepjax.hls.quant.fixed_dense` multiplies them by the kernel in int32. The
gradient is the float straight-through one: that of ``conv(x, W) + b`` (zero where an ``AP_SAT``
output saturates), with ``x`` and ``W`` the quantized values.

Shapes follow Flax and Keras: channels last, ``x [batch, width, c_in]`` (1-D) or
``[batch, height, width, c_in]`` (2-D); kernel ``[*kernel_size, c_in, features]``.

Example::

    conv = QConv(4, (3,), input="ap_fixed<8,3>", weight="ap_fixed<6,1>", bias="ap_fixed<6,1>",
                 output="ap_fixed<10,4,AP_RND,AP_SAT>")
    params = conv.init(jax.random.PRNGKey(0), jnp.ones((1, 12, 2)))
    y = conv.apply(params, jnp.ones((5, 12, 2)))  # [5, 12, 4], every value on the 2**-6 grid
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from hepjax.hls.fixed import FixedSpec, quantize
from hepjax.hls.optag import op_scope
from hepjax.hls.quant import DenseArithmetic, arithmetic_attrs, dense_accumulator, fixed_dense

PADDINGS = ("SAME", "VALID")


def conv_padding(
    in_size: Sequence[int], kernel_size: Sequence[int], strides: Sequence[int], padding: str
) -> tuple[tuple[int, int], ...]:
    """``(low, high)`` zero padding per spatial axis; SAME as in Flax, Keras and hls4ml (extra pixel high)."""
    padding = padding.upper()
    if padding not in PADDINGS:
        raise ValueError(f"conv padding {padding!r} not supported; use one of {PADDINGS}")
    if padding == "VALID":
        return tuple((0, 0) for _ in in_size)
    pads = []
    for n, k, s in zip(in_size, kernel_size, strides):
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def im2col(x: jax.Array, kernel_size: Sequence[int], strides: Sequence[int], padding: str) -> jax.Array:
    """Receptive fields ``[batch, *out_spatial, prod(kernel_size) * c_in]`` of ``x [batch, *spatial, c_in]``.

    The last axis runs over kernel offsets (row-major) then input channels, the order of a
    kernel ``[*kernel_size, c_in, features]`` reshaped to ``[-1, features]``. Exact: only slicing.
    """
    nd = len(kernel_size)
    spatial = x.shape[1 : 1 + nd]
    pads = conv_padding(spatial, kernel_size, strides, padding)
    xp = jnp.pad(x, ((0, 0), *pads, (0, 0)))
    out = [(n + lo + hi - k) // s + 1 for n, (lo, hi), k, s in zip(spatial, pads, kernel_size, strides)]
    if min(out) < 1:
        raise ValueError(
            f"conv: input {tuple(spatial)} is smaller than the kernel {tuple(kernel_size)} with padding {padding}"
        )
    cols = []
    for offset in itertools.product(*(range(k) for k in kernel_size)):
        idx = tuple(slice(o, o + (m - 1) * s + 1, s) for o, m, s in zip(offset, out, strides))
        cols.append(xp[(slice(None), *idx, slice(None))])
    return jnp.concatenate(cols, axis=-1)


def fixed_conv(
    arith: DenseArithmetic, xq: jax.Array, wq: jax.Array, bq: jax.Array, *, strides: Sequence[int], padding: str
) -> jax.Array:
    """``cast<out>(conv(x, w) + b)`` computed exactly; ``xq``, ``wq``, ``bq`` must lie on their grids.

    Shapes: ``xq [batch, *spatial, c_in]``, ``wq [*kernel_size, c_in, c_out]``, ``bq [c_out]`` ->
    ``[batch, *out_spatial, c_out]`` float32.
    """
    strides, padding = tuple(int(s) for s in strides), str(padding).upper()
    with op_scope("fixed_conv", strides=list(strides), padding=padding, **arithmetic_attrs(arith)):
        return _fixed_conv_call(arith, xq, wq, bq, strides, padding)  # one tagged call for the jaxpr converter


@partial(jax.jit, static_argnums=(0, 4, 5))
def _fixed_conv_call(arith: DenseArithmetic, xq, wq, bq, strides: tuple[int, ...], padding: str) -> jax.Array:
    kernel_size = wq.shape[:-2]
    cols = im2col(xq, kernel_size, strides, padding)
    return fixed_dense(arith, cols, wq.reshape(-1, wq.shape[-1]), bq)


def conv_arithmetic(
    input: str, weight: str, bias: str | None, output: str, fan_in: int, *, name: str
) -> DenseArithmetic:
    """The exact accumulator of one output pixel: ``fan_in = prod(kernel_size) * c_in`` products."""
    b = None if bias is None else FixedSpec.parse(bias)
    return dense_accumulator(
        FixedSpec.parse(input), FixedSpec.parse(weight), b, FixedSpec.parse(output), fan_in, name=name
    )


def _tuple(v: int | Sequence[int] | None, nd: int) -> tuple[int, ...]:
    if v is None:
        return (1,) * nd
    return (int(v),) * nd if np.isscalar(v) else tuple(int(a) for a in v)


class QConv(nn.Module):
    """Fixed-point 1-D/2-D convolution, bit-exact with hls4ml's ``Conv1D``/``Conv2D``.

    Attributes:
      features: output channels.
      kernel_size: ``(k,)`` for 1-D or ``(kh, kw)`` for 2-D.
      input, weight, bias, output: ``ap_fixed`` types of the input (the layer quantizes its input
        to it), kernel, bias and result (one cast of the exact accumulator per output value).
      strides: an int or one per spatial axis.
      padding: ``"SAME"`` or ``"VALID"`` (zeros, as in the firmware).
      use_bias: add a bias.

    Params: ``kernel [*kernel_size, c_in, features]``, ``bias [features]`` (the names of
    ``nn.Conv``, so :mod:`hepjax.hls.prune` prunes the kernel alike).
    """

    features: int
    kernel_size: tuple[int, ...]
    input: str
    weight: str
    bias: str | None
    output: str
    strides: int | tuple[int, ...] = 1
    padding: str = "SAME"
    use_bias: bool = True
    kernel_init: Callable[..., Any] = nn.initializers.lecun_normal()
    bias_init: Callable[..., Any] = nn.initializers.zeros_init()

    def geometry(self) -> tuple[tuple[int, ...], tuple[int, ...], str]:
        nd = len(self.kernel_size)
        if nd not in (1, 2):
            raise ValueError(
                f"QConv {self.name}: only 1-D and 2-D kernels are supported, got kernel_size {self.kernel_size}"
            )
        padding = str(self.padding).upper()
        if padding not in PADDINGS:
            raise ValueError(f"QConv {self.name}: padding {self.padding!r} not supported; use one of {PADDINGS}")
        return tuple(int(k) for k in self.kernel_size), _tuple(self.strides, nd), padding

    def arithmetic(self, c_in: int) -> DenseArithmetic:
        if self.use_bias and self.bias is None:
            raise ValueError(f"QConv {self.name}: use_bias=True needs a bias type")
        fan_in = int(np.prod(self.kernel_size)) * int(c_in)
        return conv_arithmetic(
            self.input,
            self.weight,
            self.bias if self.use_bias else None,
            self.output,
            fan_in,
            name=f"QConv {self.name}",
        )

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        kernel_size, strides, padding = self.geometry()
        if x.ndim != len(kernel_size) + 2:
            raise ValueError(
                f"QConv {self.name}: input must be [batch, *spatial({len(kernel_size)}), channels], got shape {x.shape}"
            )
        c_in = x.shape[-1]
        arith = self.arithmetic(c_in)
        kernel = self.param("kernel", self.kernel_init, (*kernel_size, c_in, self.features), jnp.float32)
        xq = quantize(x, arith.x)
        wq = quantize(kernel, arith.w)
        if self.use_bias:
            bq = quantize(self.param("bias", self.bias_init, (self.features,), jnp.float32), arith.b)
        else:
            bq = jnp.zeros((self.features,), jnp.float32)
        return fixed_conv(arith, xq, wq, bq, strides=strides, padding=padding)
