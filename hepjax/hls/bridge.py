"""Flax linen -> Keras 3 bridge: read a model's layer graph by running it once, rebuild it in Keras.

:func:`trace_layers` runs the model eagerly under :func:`flax.linen.intercept_methods` and records
every supported layer call with the arrays it consumed and produced; arrays are matched by
identity, so an input that no recorded layer produced (a bare ``jnp``/``nn`` function between
layers) is an error naming the layer that received it -- the bridge never builds a silently
different model. :func:`to_keras` turns the record into a functional ``keras.Model`` whose
outputs equal the Flax model's (float32, ~1e-6), with the quantized layers computing exactly as
in JAX, and remembers every tensor's ``ap_fixed`` type for :func:`hepjax.hls.config.hls4ml_config`.

Example::

    model = nn.Sequential([nn.Dense(16), nn.relu, nn.Dense(5), nn.softmax])
    variables = model.init(jax.random.PRNGKey(0), jnp.zeros((1, 8)))
    keras_model = to_keras(model, variables, (8,))
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from hepjax.hls import layers as L
from hepjax.hls.bridge_layers import (
    _batchnorm_layer,
    _conv_layer,
    _fold,
    _foldable_bn,
    folded_target,
)
from hepjax.hls.bridge_types import Node, UnsupportedLayerError
from hepjax.hls.fixed import FixedSpec, quantize
from hepjax.hls.qconv import QConv
from hepjax.hls.quant import FixedPoint, QDense

SUPPORTED = (
    "nn.Dense, nn.Conv (1-D and 2-D, padding SAME/VALID), nn.BatchNorm (inference, axis -1), "
    "hepjax.hls.QDense, hepjax.hls.QConv (1-D and 2-D, SAME/VALID, strides), hepjax.hls.FixedPoint, hepjax.hls.Activation (relu, leaky_relu, tanh, sigmoid, "
    "softmax, linear), hepjax.hls.Flatten, hepjax.hls.Reshape, hepjax.hls.Concatenate, hepjax.hls.Add, "
    "and inside nn.Sequential the functions nn.relu, nn.leaky_relu, nn.tanh, nn.sigmoid, nn.softmax"
)
_LEAVES = (
    nn.Dense,
    nn.Conv,
    nn.BatchNorm,
    QDense,
    QConv,
    FixedPoint,
    L.Activation,
    L.Flatten,
    L.Reshape,
    L.Concatenate,
    L.Add,
)
_FUNCTIONS = {
    jax.nn.relu: "relu",
    nn.relu: "relu",
    jax.nn.leaky_relu: "leaky_relu",
    nn.leaky_relu: "leaky_relu",
    jnp.tanh: "tanh",
    nn.tanh: "tanh",
    jax.nn.sigmoid: "sigmoid",
    nn.sigmoid: "sigmoid",
    jax.nn.softmax: "softmax",
    nn.softmax: "softmax",
}


@dataclasses.dataclass
class Trace:
    nodes: list[Node]
    outputs: list[str]  # node names of the model outputs ("input" for a pass-through)


def _clean(path: tuple[str, ...]) -> str:
    text = "_".join(p for p in path if p) or "layer"
    text = re.sub(r"[^0-9A-Za-z_]", "_", text)
    return text if text[0].isalpha() else f"l_{text}"


def _variables(variables: Any) -> dict:
    if isinstance(variables, Mapping) and "params" in variables:
        return dict(variables)
    return {"params": variables}


def trace_layers(module: nn.Module, variables: Any, x: jax.Array, **apply_kwargs) -> Trace:
    """Run ``module`` on ``x [batch, ...]`` and record its supported layers in call order.

    The model runs once under ``jit`` (one compilation per input shape); the interceptor sees the
    traced arrays, and each node's ``output`` is its concrete value on ``x``.

    Raises:
      UnsupportedLayerError: a module outside :data:`SUPPORTED`, or an operation between layers
        that no supported layer performs; the message names the layer.
    """
    variables = _variables(variables)
    box: dict[str, Any] = {}

    def run(x):
        nodes, out_names = _record(module, variables, x, apply_kwargs)
        box["nodes"], box["outputs"] = nodes, out_names
        return [n.output for n in nodes]

    values = jax.jit(run)(jnp.asarray(x))
    nodes = box["nodes"]
    for n, v in zip(nodes, values):
        n.output = v
    return Trace(nodes, box["outputs"])


def _record(module: nn.Module, variables: dict, x: Any, apply_kwargs: dict) -> tuple[list[Node], list[str]]:
    produced: dict[int, str] = {id(x): "input"}
    keep: list[Any] = [x]  # keep arrays alive so their ids stay unique
    nodes: list[Node] = []
    used: set[str] = {"input"}

    def unique(base: str) -> str:
        name, i = base, 0
        while name in used:
            i += 1
            name = f"{base}_{i}"
        used.add(name)
        return name

    def source(arr: Any, who: str) -> str:
        if id(arr) not in produced:
            raise UnsupportedLayerError(
                f"the input of layer '{who}' was computed by an operation that is not a supported layer "
                f"(e.g. a bare nn.relu or reshape inside a module's __call__); write it as a layer. Supported: {SUPPORTED}"
            )
        return produced[id(arr)]

    def record(kind: str, path: tuple, args: tuple, out: Any, module=None, attrs=None) -> None:
        name = unique(_clean(tuple(path)) if path else kind)
        arrays = [a for a in jax.tree.leaves(args) if isinstance(a, jax.Array)]
        inputs = [source(a, name) for a in arrays]
        variables = jax.tree.map(np.asarray, dict(module.variables)) if module is not None else {}
        nodes.append(Node(name, kind, inputs, out, module, variables, attrs or {}))
        produced[id(out)] = name
        keep.append(out)

    def run_sequential(seq: nn.Sequential, args, kwargs):
        out = args[0] if len(args) == 1 else args
        for i, layer in enumerate(seq.layers):
            if isinstance(layer, nn.Module):
                out = layer(out)
                continue
            fn, kw = layer, {}
            if isinstance(layer, functools.partial):
                fn, kw = layer.func, dict(layer.keywords)
            kind = _FUNCTIONS.get(fn)
            if kind is None or (kind != "leaky_relu" and kw) or set(kw) - {"negative_slope"}:
                raise UnsupportedLayerError(
                    f"layer {i} of Sequential '{'/'.join(seq.scope.path) or 'model'}' is the function "
                    f"{getattr(fn, '__name__', fn)!r}, which the bridge cannot carry. Supported: {SUPPORTED}"
                )
            new = L.apply_activation(kind, out, kw.get("negative_slope", 0.01))
            record(kind, (*seq.scope.path, f"{kind}_{i}"), (out,), new, attrs={"activation": kind, **kw})
            out = new
        return out

    def interceptor(next_fun, args, kwargs, context):
        mod = context.module
        if context.method_name != "__call__":
            return next_fun(*args, **kwargs)
        path = tuple(mod.scope.path) if mod.scope is not None else ()
        if isinstance(mod, _LEAVES):
            out = next_fun(*args, **kwargs)
            kind = type(mod).__name__
            if not isinstance(out, jax.Array):
                raise UnsupportedLayerError(f"layer '{'/'.join(path)}' ({kind}) must return one array")
            record(kind, path or (kind,), args, out, module=mod)
            return out
        n_before = len(nodes)
        out = run_sequential(mod, args, kwargs) if isinstance(mod, nn.Sequential) else next_fun(*args, **kwargs)
        if len(nodes) == n_before:
            raise UnsupportedLayerError(
                f"layer '{'/'.join(path) or type(mod).__name__}' ({type(mod).__name__}) is not supported by the "
                f"Flax->Keras bridge. Supported: {SUPPORTED}"
            )
        for leaf in jax.tree.leaves(out):
            if id(leaf) not in produced:
                raise UnsupportedLayerError(
                    f"module '{'/'.join(path) or type(mod).__name__}' ({type(mod).__name__}) computes its output with an "
                    f"operation outside the supported layers. Supported: {SUPPORTED}"
                )
        return out

    with nn.intercept_methods(interceptor):
        out = module.apply(variables, x, **apply_kwargs)
    outs = jax.tree.leaves(out)
    for leaf in outs:
        if id(leaf) not in produced:
            raise UnsupportedLayerError(
                f"the model output is computed outside the supported layers. Supported: {SUPPORTED}"
            )
    return nodes, [produced[id(o)] for o in outs]


def layer_outputs(
    module: nn.Module, variables: Any, x: np.ndarray, *, chunk: int = 4096, **apply_kwargs
) -> dict[str, np.ndarray]:
    """The output of every recorded layer of the Flax model on ``x`` (numpy), by node name.

    Runs in chunks of ``chunk`` rows (the last padded), so one compilation serves any ``len(x)``.
    """
    x = np.asarray(x)
    n = len(x)
    parts: list[dict] = []
    for start in range(0, n, chunk):
        xb = x[start : start + chunk]
        pad = chunk - len(xb) if n > chunk else 0
        if pad:
            xb = np.concatenate([xb, np.repeat(xb[-1:], pad, axis=0)])
        tr = trace_layers(module, variables, jnp.asarray(xb), **apply_kwargs)
        parts.append({nd.name: np.asarray(nd.output)[: len(xb) - pad] for nd in tr.nodes})
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


@dataclasses.dataclass
class BridgeInfo:
    """What :func:`hepjax.hls.config.hls4ml_config` needs beyond the Keras model."""

    input_name: str
    input_spec: FixedSpec | None
    precisions: dict[str, dict[str, str]]  # keras layer -> {"result"/"weight"/"bias"/"accum": type}
    specs: dict[str, FixedSpec | None]  # keras layer -> type of its output (None: float)
    node_of: dict[str, str]  # keras layer -> trace node whose output it reproduces
    output_names: list[str]
    softmax_inputs: dict[str, FixedSpec | None] = dataclasses.field(default_factory=dict)  # softmax layer -> input type


def bridge_info(model) -> BridgeInfo:
    info = getattr(model, "_hepjax_info", None)
    if info is None:
        raise ValueError("this Keras model was not made by hepjax.hls.to_keras (no precision record)")
    return info


def _union(specs: list[FixedSpec], extra_int: int = 0) -> FixedSpec | None:
    """A type holding every value of ``specs`` (plus ``extra_int`` integer bits) exactly, or None."""
    if not extra_int and all(s == specs[0] for s in specs):
        return specs[0]
    frac = max(s.frac for s in specs)
    integer = max(s.integer + (0 if s.signed else 1) for s in specs) + extra_int
    if frac + integer > 24:
        return None  # float32 no longer holds it exactly: treat as float
    return FixedSpec(frac + integer, integer, True, "TRN", "WRAP")


def to_keras(
    module: nn.Module,
    variables: Any,
    input_shape: tuple[int, ...],
    *,
    fold_batchnorm: bool = True,
    name: str = "hepjax_model",
    **apply_kwargs,
):
    """Rebuild ``module`` with ``variables`` as a functional Keras 3 model on ``[batch, *input_shape]``.

    ``apply_kwargs`` go to ``module.apply`` (e.g. ``train=False`` so BatchNorm uses its running
    statistics). BatchNorm directly after a float Dense/Conv whose only consumer it is, is
    folded into that layer's kernel and bias when ``fold_batchnorm``.

    Raises:
      UnsupportedLayerError: naming the first layer it cannot carry and the supported list.
    """
    from hepjax.hls import keras_layers as KL  # imports keras (JAX backend)

    keras = KL.keras
    probe = np.random.default_rng(0).normal(size=(2, *input_shape)).astype(np.float32)
    tr = trace_layers(module, variables, probe, **apply_kwargs)
    nodes = {n.name: n for n in tr.nodes}
    consumers: dict[str, list[str]] = {}
    for n in tr.nodes:
        for i in n.inputs:
            consumers.setdefault(i, []).append(n.name)

    # Input type: what its consumers quantize to, when they all agree (looking through reshapes,
    # so that the firmware's input_t converts the floats with the same rounding as JAX does).
    def first_quantizers(name: str) -> list:
        out = []
        for c in (nodes[c] for c in consumers.get(name, [])):
            out += first_quantizers(c.name) if c.kind in ("Reshape", "Flatten") else [c]
        return out

    in_specs = {
        FixedSpec.parse(c.module.input if c.kind in ("QDense", "QConv") else c.module.spec)
        if c.kind in ("QDense", "QConv", "FixedPoint")
        else None
        for c in first_quantizers("input")
    }
    input_spec = in_specs.pop() if len(in_specs) == 1 else None

    inp = keras.Input(shape=tuple(input_shape), name="model_input")
    tensors: dict[str, Any] = {"input": inp}
    specs: dict[str, FixedSpec | None] = {"input": input_spec}
    precisions: dict[str, dict[str, str]] = {}
    layer_spec: dict[str, FixedSpec | None] = {}
    node_of: dict[str, str] = {}
    softmax_inputs: dict[str, FixedSpec | None] = {}
    folded: dict[str, str] = {}  # bn node -> dense/conv node it was folded into
    raw_input = {"input"}  # the model input and reshapes of it: typed input_t in hls4ml, float in JAX

    def emit(layer, node_name: str, x, spec, prec: dict | None = None):
        out = layer(x)
        tensors[node_name] = out
        specs[node_name] = spec
        layer_spec[layer.name] = spec
        node_of[layer.name] = node_name
        if prec:
            precisions[layer.name] = {k: str(v) for k, v in prec.items()}
        return out

    for n in tr.nodes:
        if n.name in folded:  # a BatchNorm already folded into its Dense/Conv
            continue
        ins = [tensors[i] for i in n.inputs]
        in_spec = [specs[i] for i in n.inputs]
        p = n.variables.get("params", {})
        m = n.module
        if n.kind == "Dense":
            w, b = p["kernel"], p.get("bias")
            bn = _foldable_bn(n, consumers, nodes) if fold_batchnorm else None
            if bn is not None:
                w, b = _fold(w, b, bn)
                folded[bn.name] = n.name
            layer = keras.layers.Dense(w.shape[1], use_bias=b is not None, kernel_initializer="zeros", name=n.name)
            layer.build((None, w.shape[0]))
            layer.set_weights([w] + ([b] if b is not None else []))
            emit(layer, bn.name if bn is not None else n.name, ins[0], None)
        elif n.kind == "Conv":
            emit(
                _conv_layer(keras, n, consumers, nodes, fold_batchnorm, folded, ins[0]),
                folded_target(n, folded),
                ins[0],
                None,
            )
        elif n.kind == "BatchNorm":
            emit(_batchnorm_layer(keras, n, ins[0]), n.name, ins[0], None)
        elif n.kind in ("QDense", "QConv"):
            kernel = p["kernel"]
            arith = m.arithmetic(int(kernel.shape[-2]))
            x = ins[0]
            if in_spec[0] != arith.x:
                q = KL.KerasFixedPoint(str(arith.x), name=f"{n.name}_input_q")
                x = emit(q, f"{n.name}__inq", x, arith.x, {"result": arith.x})
            bias = p["bias"] if m.use_bias else None
            strides, padding = (None, None) if n.kind == "QDense" else m.geometry()[1:]
            layer, prec = quantized_keras_layer(kernel, bias, arith, n.name, tuple(x.shape), strides, padding)
            emit(layer, n.name, x, arith.out, prec)
        elif n.kind == "FixedPoint":
            spec = FixedSpec.parse(m.spec)
            emit(KL.KerasFixedPoint(str(spec), name=n.name), n.name, ins[0], spec, {"result": spec})
        elif n.kind in ("Activation", *set(_FUNCTIONS.values())):
            kind = m.kind if m is not None else n.attrs["activation"]
            slope = m.negative_slope if m is not None else n.attrs.get("negative_slope", 0.01)
            if kind == "linear":
                tensors[n.name], specs[n.name] = ins[0], in_spec[0]
                continue
            if kind == "relu":
                layer, spec = keras.layers.Activation("relu", name=n.name), in_spec[0]
            elif kind == "leaky_relu":
                layer, spec = keras.layers.LeakyReLU(negative_slope=float(slope), name=n.name), None
            elif kind in ("tanh", "sigmoid", "softmax"):
                layer, spec = keras.layers.Activation(kind, name=n.name), None
                if kind == "softmax":
                    softmax_inputs[n.name] = in_spec[0]
            else:
                raise UnsupportedLayerError(
                    f"layer '{n.name}': activation {kind!r} is not supported. Supported: {SUPPORTED}"
                )
            emit(layer, n.name, ins[0], spec, {"result": spec} if spec is not None else None)
        elif n.kind in ("Flatten", "Reshape"):
            layer = (
                keras.layers.Flatten(name=n.name)
                if n.kind == "Flatten"
                else keras.layers.Reshape(tuple(m.shape), name=n.name)
            )
            emit(layer, n.name, ins[0], in_spec[0], {"result": in_spec[0]} if in_spec[0] else None)
            if n.inputs[0] in raw_input:  # JAX still holds the unquantized input here: nothing to compare bitwise
                raw_input.add(n.name)
                del node_of[layer.name]
        elif n.kind in ("Concatenate", "Add"):
            spec = None if any(s is None for s in in_spec) else _union(in_spec, extra_int=int(n.kind == "Add"))
            if n.kind == "Concatenate":
                layer = keras.layers.Concatenate(axis=m.axis, name=n.name)
            else:
                layer = keras.layers.Add(name=n.name)
            emit(layer, n.name, ins, spec, {"result": spec} if spec is not None else None)
        else:  # pragma: no cover - _LEAVES and this dispatch are kept in step
            raise UnsupportedLayerError(f"layer '{n.name}' ({n.kind}) is not supported. Supported: {SUPPORTED}")

    outputs = [tensors[o] for o in tr.outputs]
    model = keras.Model(inp, outputs[0] if len(outputs) == 1 else outputs, name=name)
    out_layers = [t._keras_history[0].name for t in outputs]
    info = BridgeInfo("model_input", input_spec, precisions, layer_spec, node_of, out_layers, softmax_inputs)
    object.__setattr__(model, "_hepjax_info", info)
    return model


def quantized_keras_layer(kernel, bias, arith, name: str, input_shape: tuple, strides=None, padding=None):
    """The exact Keras layer of a hepjax ``QDense`` (``strides is None``) or ``QConv`` (1-D / 2-D by the kernel's
    rank), built on ``input_shape`` with its weights quantized to ``arith``; returns ``(layer, precision)``
    where ``precision`` is the hls4ml record (weight, bias, accum, result). ``bias`` None: no bias."""
    from hepjax.hls import keras_layers as KL  # imports keras (JAX backend)

    w = np.asarray(quantize(kernel, arith.w))
    bspec = arith.b if bias is not None else None
    fixed = {
        "input_spec": str(arith.x),
        "weight": str(arith.w),
        "bias_spec": None if bspec is None else str(bspec),
        "output": str(arith.out),
    }
    if strides is None:
        layer = KL.KerasQDense(w.shape[1], kernel_initializer="zeros", name=name, **fixed)
    else:
        cls = KL.KerasQConv1D if w.ndim == 3 else KL.KerasQConv2D
        layer = cls(
            w.shape[-1],
            w.shape[:-2],
            strides=strides,
            padding=padding.lower(),
            kernel_initializer="zeros",
            name=name,
            **fixed,
        )
    layer.build(input_shape)
    layer.set_weights([w] + ([np.asarray(quantize(bias, bspec))] if bspec is not None else []))
    prec = {
        "weight": arith.w,
        "accum": arith.accum,
        "result": arith.out,
        "bias": bspec if bspec is not None else arith.w,
    }
    return layer, prec
