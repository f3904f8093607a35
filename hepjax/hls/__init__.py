"""The FPGA trigger path: fixed-point QAT, Flax -> Keras 3 bridge, bit-exact hls4ml export.

Two converters to Keras: :func:`to_keras` intercepts Flax linen layer calls; :func:`to_keras_traced`
reads the traced computation (jaxpr), so bare functions between layers, NNX modules and functions
``f(params, x)`` convert too.

Keras (and hls4ml) are imported lazily by :func:`to_keras`, :func:`to_keras_traced` and :mod:`hepjax.hls.export`, with
``KERAS_BACKEND=jax`` -- no TensorFlow anywhere.
"""

from hepjax.hls.bridge import (
    SUPPORTED,
    UnsupportedLayerError,
    layer_outputs,
    to_keras,
    trace_layers,
)
from hepjax.hls.config import hls4ml_config
from hepjax.hls.export import export_checkpoint, export_model, save_export_spec
from hepjax.hls.fixed import (
    FixedSpec,
    codes_of,
    quantize,
    quantize_codes,
    quantize_reference,
    requantize_codes,
)
from hepjax.hls.jaxpr_convert import to_keras_traced, traced_layer_outputs
from hepjax.hls.layer_config import (
    LayerQat,
    apply_layer_overrides,
    check_layer_names,
    dense_names,
)
from hepjax.hls.layers import Activation, Add, Concatenate, Flatten, Reshape
from hepjax.hls.models import TriggerMLP, qat_types
from hepjax.hls.prune import magnitude_pruning, sparsity_report
from hepjax.hls.qconv import QConv, fixed_conv, im2col
from hepjax.hls.quant import FixedPoint, QDense, dense_accumulator, fixed_dense

__all__ = [
    "SUPPORTED",
    "Activation",
    "Add",
    "Concatenate",
    "FixedPoint",
    "FixedSpec",
    "Flatten",
    "LayerQat",
    "QConv",
    "QDense",
    "Reshape",
    "TriggerMLP",
    "UnsupportedLayerError",
    "apply_layer_overrides",
    "check_layer_names",
    "codes_of",
    "dense_accumulator",
    "dense_names",
    "export_checkpoint",
    "export_model",
    "fixed_conv",
    "fixed_dense",
    "hls4ml_config",
    "im2col",
    "layer_outputs",
    "magnitude_pruning",
    "qat_types",
    "quantize",
    "quantize_codes",
    "quantize_reference",
    "requantize_codes",
    "save_export_spec",
    "sparsity_report",
    "to_keras",
    "to_keras_traced",
    "trace_layers",
    "traced_layer_outputs",
]
