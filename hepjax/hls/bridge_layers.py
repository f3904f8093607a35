"""Keras layers for the float Conv and BatchNorm nodes of the bridge, with BatchNorm folding.

Folding: ``BN(x W + b) = x (W s) + ((b - mean) s + beta)`` with ``s = gamma / sqrt(var + eps)``
per output channel, applied when a BatchNorm is the only consumer of a float Dense/Conv.
"""

from __future__ import annotations

import numpy as np

from hepjax.hls.bridge_types import Node, UnsupportedLayerError


def folded_target(n: Node, folded: dict[str, str]) -> str:
    for bn, src in folded.items():
        if src == n.name:
            return bn
    return n.name


def _foldable_bn(n: Node, consumers: dict, nodes: dict) -> Node | None:
    cons = consumers.get(n.name, [])
    if len(cons) == 1 and nodes[cons[0]].kind == "BatchNorm":
        bn = nodes[cons[0]]
        if bn.module.axis in (-1,):
            return bn
    return None


def _bn_scale_shift(bn: Node) -> tuple[np.ndarray, np.ndarray]:
    m, p, s = bn.module, bn.variables.get("params", {}), bn.variables.get("batch_stats", {})
    if "mean" not in s:
        raise UnsupportedLayerError(
            f"BatchNorm '{bn.name}' has no running statistics (batch_stats); pass them in variables"
        )
    gamma = p.get("scale", np.ones_like(s["mean"]))
    beta = p.get("bias", np.zeros_like(s["mean"]))
    scale = gamma / np.sqrt(s["var"] + m.epsilon)
    return scale.astype(np.float32), (beta - s["mean"] * scale).astype(np.float32)


def _fold(w: np.ndarray, b: np.ndarray | None, bn: Node) -> tuple[np.ndarray, np.ndarray]:
    scale, shift = _bn_scale_shift(bn)
    b = np.zeros(w.shape[-1], np.float32) if b is None else b
    return (w * scale).astype(np.float32), (b * scale + shift).astype(np.float32)


def _batchnorm_layer(keras, n: Node, x):
    m = n.module
    if m.axis not in (-1, len(x.shape) - 1):
        raise UnsupportedLayerError(f"BatchNorm '{n.name}': only axis=-1 (channels last) is supported")
    p, s = n.variables.get("params", {}), n.variables.get("batch_stats", {})
    if "mean" not in s:
        raise UnsupportedLayerError(
            f"BatchNorm '{n.name}' has no running statistics (batch_stats); pass them in variables"
        )
    layer = keras.layers.BatchNormalization(
        axis=-1, epsilon=float(m.epsilon), center=m.use_bias, scale=m.use_scale, name=n.name
    )
    layer.build(tuple(x.shape))
    weights = ([p["scale"]] if m.use_scale else []) + ([p["bias"]] if m.use_bias else []) + [s["mean"], s["var"]]
    layer.set_weights(weights)
    return layer


def _conv_layer(keras, n: Node, consumers, nodes, fold_batchnorm: bool, folded: dict, x):
    m, p = n.module, n.variables.get("params", {})
    w, b = p["kernel"], p.get("bias")
    nd = w.ndim - 2
    if nd not in (1, 2):
        raise UnsupportedLayerError(f"Conv '{n.name}': only 1-D and 2-D convolutions are supported (got {nd}-D)")
    pad = m.padding if isinstance(m.padding, str) else None
    if pad is None or pad.upper() not in ("SAME", "VALID"):
        raise UnsupportedLayerError(f"Conv '{n.name}': padding {m.padding!r} is not supported (use 'SAME' or 'VALID')")
    if m.feature_group_count != 1 or (
        m.input_dilation not in (None, 1) and set(np.atleast_1d(m.input_dilation)) != {1}
    ):
        raise UnsupportedLayerError(f"Conv '{n.name}': grouped or input-dilated convolutions are not supported")
    strides = m.strides or 1
    dil = m.kernel_dilation or 1
    if set(np.atleast_1d(dil).tolist()) != {1}:  # hls4ml's Conv1D/Conv2D ignore Keras' dilation_rate
        raise UnsupportedLayerError(
            f"Conv '{n.name}': kernel dilation {m.kernel_dilation} is not supported (hls4ml convolutions are undilated)"
        )
    bn = _foldable_bn(n, consumers, nodes) if fold_batchnorm else None
    if bn is not None:
        w, b = _fold(w, b, bn)
        folded[bn.name] = n.name
    cls = keras.layers.Conv1D if nd == 1 else keras.layers.Conv2D
    layer = cls(
        w.shape[-1],
        w.shape[:nd],
        strides=strides,
        padding=pad.lower(),
        dilation_rate=dil,
        use_bias=b is not None,
        kernel_initializer="zeros",
        name=n.name,
    )
    layer.build(tuple(x.shape))
    layer.set_weights([w] + ([b] if b is not None else []))
    return layer
