"""Keras 3 counterparts of the quantized layers, and their hls4ml converters.

``KerasFixedPoint``, ``KerasQDense`` and ``KerasQConv1D``/``KerasQConv2D`` compute with the same
JAX functions as the Flax layers (Keras runs on its JAX backend here), so the Keras model equals
the Flax model exactly. For hls4ml, ``KerasFixedPoint`` becomes a linear ``Activation`` (a cast to
its result type), ``KerasQDense`` an ordinary ``Dense`` and the convolutions ordinary
``Conv1D``/``Conv2D``; the precisions come from the config the bridge writes.

Importing this module registers the converters with hls4ml's Keras-v3 front end.
"""

from __future__ import annotations

import keras
import numpy as np

from hepjax.hls.fixed import FixedSpec, quantize
from hepjax.hls.qconv import conv_arithmetic, fixed_conv
from hepjax.hls.quant import fixed_dense

if keras.backend.backend() != "jax":
    raise ImportError(
        f"hepjax.hls needs Keras on JAX (no TensorFlow), but keras is using {keras.backend.backend()!r}: set "
        "KERAS_BACKEND=jax before keras is first imported (importing hepjax first does that when it is unset)"
    )


@keras.saving.register_keras_serializable(package="hepjax")
class KerasFixedPoint(keras.layers.Layer):
    """Cast to ``ap_fixed`` type ``spec`` (fake quantization); shape-preserving."""

    def __init__(self, spec: str, **kwargs):
        super().__init__(**kwargs)
        self.spec = str(FixedSpec.parse(spec))

    def call(self, x):
        return quantize(x, FixedSpec.parse(self.spec))

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, x):
        return keras.KerasTensor(x.shape, dtype="float32")

    def get_config(self):
        return {**super().get_config(), "spec": self.spec}


@keras.saving.register_keras_serializable(package="hepjax")
class KerasQDense(keras.layers.Dense):
    """Dense layer computing ``cast<output>(x @ W + b)`` exactly (see :class:`hepjax.hls.QDense`).

    The kernel and bias it holds are already quantized; ``input`` must be the type of the
    values it receives (the bridge inserts a :class:`KerasFixedPoint` otherwise).
    """

    def __init__(self, units: int, *, input_spec: str, weight: str, bias_spec: str | None, output: str, **kwargs):
        kwargs.pop("activation", None)
        super().__init__(units, activation=None, use_bias=bias_spec is not None, **kwargs)
        self.fixed_input = str(FixedSpec.parse(input_spec))
        self.fixed_weight = str(FixedSpec.parse(weight))
        self.fixed_bias = None if bias_spec is None else str(FixedSpec.parse(bias_spec))
        self.fixed_output = str(FixedSpec.parse(output))

    def arithmetic(self, fan_in: int):
        from hepjax.hls.quant import dense_accumulator

        b = None if self.fixed_bias is None else FixedSpec.parse(self.fixed_bias)
        return dense_accumulator(
            FixedSpec.parse(self.fixed_input),
            FixedSpec.parse(self.fixed_weight),
            b,
            FixedSpec.parse(self.fixed_output),
            fan_in,
            name=self.name,
        )

    def call(self, x):
        import jax.numpy as jnp

        arith = self.arithmetic(int(self.kernel.shape[0]))
        xq = quantize(x, arith.x)
        bias = self.bias.value if self.use_bias else jnp.zeros((self.units,), jnp.float32)
        return fixed_dense(arith, xq, jnp.asarray(self.kernel.value), jnp.asarray(bias))

    def compute_output_spec(self, x):
        return keras.KerasTensor((*x.shape[:-1], self.units), dtype="float32")

    def get_config(self):
        cfg = super().get_config()
        for k in ("activation", "use_bias"):
            cfg.pop(k, None)
        return {
            **cfg,
            "input_spec": self.fixed_input,
            "weight": self.fixed_weight,
            "bias_spec": self.fixed_bias,
            "output": self.fixed_output,
        }


class _KerasQConvMixin:
    """``cast<output>(conv(x, W) + b)`` computed exactly (see :class:`hepjax.hls.QConv`).

    The kernel and bias it holds are already quantized; ``input_spec`` must be the type of the
    values it receives (the bridge inserts a :class:`KerasFixedPoint` otherwise).
    """

    def _init_fixed(self, input_spec, weight, bias_spec, output):
        self.fixed_input = str(FixedSpec.parse(input_spec))
        self.fixed_weight = str(FixedSpec.parse(weight))
        self.fixed_bias = None if bias_spec is None else str(FixedSpec.parse(bias_spec))
        self.fixed_output = str(FixedSpec.parse(output))

    def call(self, x):
        import jax.numpy as jnp

        kernel = jnp.asarray(self.kernel.value)
        fan_in = int(np.prod(kernel.shape[:-1]))
        arith = conv_arithmetic(
            self.fixed_input, self.fixed_weight, self.fixed_bias, self.fixed_output, fan_in, name=self.name
        )
        bias = self.bias.value if self.use_bias else jnp.zeros((self.filters,), jnp.float32)
        return fixed_conv(
            arith, quantize(x, arith.x), kernel, jnp.asarray(bias), strides=tuple(self.strides), padding=self.padding
        )

    def compute_output_spec(self, x):
        return keras.KerasTensor(self.compute_output_shape(x.shape), dtype="float32")

    def get_config(self):
        cfg = super().get_config()
        for k in ("activation", "use_bias", "dilation_rate", "groups"):
            cfg.pop(k, None)
        return {
            **cfg,
            "input_spec": self.fixed_input,
            "weight": self.fixed_weight,
            "bias_spec": self.fixed_bias,
            "output": self.fixed_output,
        }


def _conv_kwargs(kwargs: dict, bias_spec) -> dict:
    for k in ("activation", "use_bias", "dilation_rate", "groups"):
        kwargs.pop(k, None)
    return {**kwargs, "activation": None, "use_bias": bias_spec is not None}


@keras.saving.register_keras_serializable(package="hepjax")
class KerasQConv1D(_KerasQConvMixin, keras.layers.Conv1D):
    """Exact fixed-point ``Conv1D`` (channels last, padding same/valid, no dilation)."""

    def __init__(
        self, filters: int, kernel_size, *, input_spec: str, weight: str, bias_spec: str | None, output: str, **kwargs
    ):
        super().__init__(filters, kernel_size, **_conv_kwargs(kwargs, bias_spec))
        self._init_fixed(input_spec, weight, bias_spec, output)


@keras.saving.register_keras_serializable(package="hepjax")
class KerasQConv2D(_KerasQConvMixin, keras.layers.Conv2D):
    """Exact fixed-point ``Conv2D`` (channels last, padding same/valid, no dilation)."""

    def __init__(
        self, filters: int, kernel_size, *, input_spec: str, weight: str, bias_spec: str | None, output: str, **kwargs
    ):
        super().__init__(filters, kernel_size, **_conv_kwargs(kwargs, bias_spec))
        self._init_fixed(input_spec, weight, bias_spec, output)


def _register_hls4ml_handlers() -> None:
    """Teach hls4ml's Keras-v3 parser the two layers (registration happens at class creation)."""
    from hls4ml.converters.keras_v3._base import KerasV3LayerHandler
    from hls4ml.converters.keras_v3.conv import ConvHandler
    from hls4ml.converters.keras_v3.core import DenseHandler

    fp_key = f"{KerasFixedPoint.__module__}.{KerasFixedPoint.__name__}"
    qd_key = f"{KerasQDense.__module__}.{KerasQDense.__name__}"

    class FixedPointHandler(KerasV3LayerHandler):
        handles = (fp_key,)

        def handle(self, layer, in_tensors, out_tensors):
            n_in = int(np.prod(in_tensors[0].shape[1:]))
            return {"class_name": "Activation", "activation": "linear", "n_in": n_in}

    class QDenseHandler(DenseHandler):
        handles = (qd_key,)

        def default_class_name(self, layer):
            return "Dense"

    class QConvHandler(ConvHandler):
        handles = tuple(f"{c.__module__}.{c.__name__}" for c in (KerasQConv1D, KerasQConv2D))

        def default_class_name(self, layer):
            return "Conv1D" if isinstance(layer, KerasQConv1D) else "Conv2D"

    _ = (FixedPointHandler, QDenseHandler, QConvHandler)


_register_hls4ml_handlers()
