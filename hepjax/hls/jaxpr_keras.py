"""Keras 3 layers for the jaxpr converter's layer graph (:mod:`hepjax.hls.jaxpr_convert`).

The layers and the precision record (:class:`hepjax.hls.bridge.BridgeInfo`) are those the
interception bridge builds for the same operations -- the exact ``KerasQDense`` /
``KerasQConv1D/2D`` / ``KerasFixedPoint`` of :mod:`hepjax.hls.keras_layers` for hepjax's
fixed-point ops, stock Keras layers for the rest -- so :func:`hepjax.hls.hls4ml_config` and the
export treat both converters' models alike. A leftover scale/shift is a ``BatchNormalization``
with zero mean, unit variance and ``epsilon=0`` (hls4ml computes ``gamma / sqrt(var + eps)``).

Importing this module imports Keras (JAX backend).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hepjax.hls import keras_layers as KL
from hepjax.hls.bridge import BridgeInfo, _union, quantized_keras_layer
from hepjax.hls.bridge_types import UnsupportedLayerError
from hepjax.hls.fixed import FixedSpec
from hepjax.hls.jaxpr_convert import Op, consumers, reachable


def build_keras(ops: list[Op], outputs: list[int], input_shape: tuple[int, ...], name: str):
    """The functional Keras model of the live ``ops``, with the precision record of :func:`hepjax.hls.to_keras`."""
    keras = KL.keras
    live = reachable(ops, outputs)
    cons = consumers(ops, live)
    INPUT = -1

    def first_quantizers(i: int) -> list[Op]:
        out = []
        for c in cons.get(i, []):
            out += first_quantizers(c) if ops[c].kind in ("reshape",) else [ops[c]]
        return out

    in_specs = {
        (o.attrs["arith"].x if o.kind in ("qdense", "qconv") else o.attrs["spec"])
        if o.kind in ("qdense", "qconv", "fixed")
        else None
        for o in first_quantizers(INPUT)
    }
    input_spec = in_specs.pop() if len(in_specs) == 1 else None
    inp = keras.Input(shape=tuple(input_shape), name="model_input")
    tensors: dict[int, Any] = {INPUT: inp}
    specs: dict[int, FixedSpec | None] = {INPUT: input_spec}
    precisions: dict[str, dict[str, str]] = {}
    layer_spec: dict[str, FixedSpec | None] = {}
    node_of: dict[str, str] = {}
    softmax_inputs: dict[str, FixedSpec | None] = {}
    raw_input = {INPUT}

    def emit(layer, i: int, x, spec, prec: dict | None = None, node: str | None = None):
        out = layer(x)
        tensors[i], specs[i] = out, spec
        layer_spec[layer.name] = spec
        node_of[layer.name] = node or ops[i].name
        if prec:
            precisions[layer.name] = {k: str(v) for k, v in prec.items()}
        return out

    for i in sorted(live):
        op = ops[i]
        ins = [tensors[j] for j in op.inputs]
        in_spec = [specs[j] for j in op.inputs]
        a, nm = op.attrs, op.name
        if op.kind in ("dense", "conv"):
            w, b = a["w"], a["b"]
            if op.kind == "dense":
                layer = keras.layers.Dense(w.shape[1], use_bias=b is not None, kernel_initializer="zeros", name=nm)
            else:
                cls = keras.layers.Conv1D if w.ndim == 3 else keras.layers.Conv2D
                layer = cls(
                    w.shape[-1],
                    w.shape[:-2],
                    strides=a["strides"],
                    padding=a["padding"].lower(),
                    use_bias=b is not None,
                    kernel_initializer="zeros",
                    name=nm,
                )
            layer.build(tuple(ins[0].shape))
            layer.set_weights([w] + ([b] if b is not None else []))
            emit(layer, i, ins[0], None)
        elif op.kind == "affine":
            if np.all(a["scale"] == 1) and not np.any(a["shift"]):
                tensors[i], specs[i] = ins[0], in_spec[0]
                continue
            layer = keras.layers.BatchNormalization(axis=-1, epsilon=0.0, name=nm)  # gamma=scale, beta=shift
            layer.build(tuple(ins[0].shape))
            n = a["scale"].shape[0]
            layer.set_weights([a["scale"], a["shift"], np.zeros(n, np.float32), np.ones(n, np.float32)])
            emit(layer, i, ins[0], None)
        elif op.kind in ("qdense", "qconv"):
            arith, x = a["arith"], ins[0]
            if in_spec[0] != arith.x:
                q = KL.KerasFixedPoint(str(arith.x), name=f"{nm}_input_q")
                x = emit(q, i, x, arith.x, {"result": arith.x}, node=f"{nm}__inq")
            strides, padding = (None, None) if op.kind == "qdense" else (a["strides"], a["padding"])
            layer, prec = quantized_keras_layer(a["w"], a["b"], arith, nm, tuple(x.shape), strides, padding)
            emit(layer, i, x, arith.out, prec)
        elif op.kind == "fixed":
            spec = a["spec"]
            emit(KL.KerasFixedPoint(str(spec), name=nm), i, ins[0], spec, {"result": spec})
        elif op.kind == "relu":
            spec = in_spec[0]
            emit(keras.layers.Activation("relu", name=nm), i, ins[0], spec, {"result": spec} if spec else None)
        elif op.kind == "leaky_relu":
            emit(keras.layers.LeakyReLU(negative_slope=float(a["negative_slope"]), name=nm), i, ins[0], None)
        elif op.kind in ("tanh", "sigmoid", "softmax"):
            layer = keras.layers.Activation(op.kind, name=nm)
            if op.kind == "softmax":
                softmax_inputs[nm] = in_spec[0]
            emit(layer, i, ins[0], None)
        elif op.kind in ("reshape", "permute"):
            if op.kind == "permute":
                layer = keras.layers.Permute(tuple(d for d in a["dims"]), name=nm)
            elif len(op.shape) == 2:
                layer = keras.layers.Flatten(name=nm)
            else:
                layer = keras.layers.Reshape(tuple(op.shape[1:]), name=nm)
            emit(layer, i, ins[0], in_spec[0], {"result": in_spec[0]} if in_spec[0] else None)
            if op.inputs[0] in raw_input:  # the unquantized model input: nothing to compare bitwise
                raw_input.add(i)
                del node_of[layer.name]
        elif op.kind in ("concat", "add", "subtract", "multiply"):
            spec = None
            if op.kind in ("concat", "add") and not any(s is None for s in in_spec):
                spec = _union(in_spec, extra_int=int(op.kind == "add"))
            layer = {
                "concat": lambda: keras.layers.Concatenate(axis=a["axis"], name=nm),
                "add": lambda: keras.layers.Add(name=nm),
                "subtract": lambda: keras.layers.Subtract(name=nm),
                "multiply": lambda: keras.layers.Multiply(name=nm),
            }[op.kind]()
            emit(layer, i, ins, spec, {"result": spec} if spec is not None else None)
        else:  # pragma: no cover - the converter and this dispatch are kept in step
            raise UnsupportedLayerError(f"internal: no Keras layer for op {op.kind!r}")

    outs = [tensors[o] for o in outputs]
    model = keras.Model(inp, outs[0] if len(outs) == 1 else outs, name=name)
    out_layers = [t._keras_history[0].name for t in outs]
    info = BridgeInfo("model_input", input_spec, precisions, layer_spec, node_of, out_layers, softmax_inputs)
    object.__setattr__(model, "_hepjax_info", info)
    return model
