"""Trigger networks built from the bridge's layers: a float or fixed-point MLP, and its AE/VAE use.

:class:`TriggerMLP` is the hls4ml jet-tagging architecture (16 -> 64-32-32-5) when given those
widths, and the encoder/decoder of the L1 anomaly autoencoders. With ``input_type`` set it is
quantization-aware: every Dense is a :class:`~hepjax.hls.QDense` and every hidden activation a
ReLU followed by a :class:`~hepjax.hls.FixedPoint` cast, so the hls4ml C simulation reproduces it
bit for bit. Per-layer types are tuples with one entry per Dense layer (:func:`qat_types` builds
them from a config section and its ``qat.layers`` overrides).

Models are rebuilt for export from ``{"class": "hepjax.hls.models.TriggerMLP", "kwargs": {...}}``
(:func:`build_module`), which the experiments write beside their checkpoints.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Sequence

import flax.linen as nn
import jax

from hepjax.hls.layer_config import LayerQat, apply_layer_overrides
from hepjax.hls.layers import Activation
from hepjax.hls.quant import FixedPoint, QDense


class TriggerMLP(nn.Module):
    """``Dense -> act -> ... -> Dense -> output_activation`` on ``[batch, n_in]``.

    Attributes:
      features: widths of the Dense layers (the last is the output width).
      activation: hidden activation (``relu`` for fixed point; any of hepjax.hls.layers for float).
      output_activation: ``linear`` or ``softmax`` (or another hepjax.hls activation).
      input_type: ``ap_fixed`` type of the input; ``None`` makes the whole network float.
      weight_types, bias_types, result_types: one ``ap_fixed`` type per Dense layer.
      activation_types: one type per hidden layer: the cast after each ReLU.
    """

    features: tuple[int, ...]
    activation: str = "relu"
    output_activation: str = "linear"
    input_type: str | None = None
    weight_types: tuple[str, ...] = ()
    bias_types: tuple[str, ...] = ()
    result_types: tuple[str, ...] = ()
    activation_types: tuple[str, ...] = ()

    def _check(self) -> None:
        n = len(self.features)
        if self.input_type is None:
            return
        for name, want in (("weight_types", n), ("bias_types", n), ("result_types", n), ("activation_types", n - 1)):
            got = len(getattr(self, name))
            if got != want:
                raise ValueError(f"TriggerMLP.{name} needs {want} entries (one per layer), got {got}")

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        self._check()
        quantized = self.input_type is not None
        in_type = self.input_type
        for i, width in enumerate(self.features):
            last = i == len(self.features) - 1
            if quantized:
                x = QDense(
                    width,
                    input=in_type,
                    weight=self.weight_types[i],
                    bias=self.bias_types[i],
                    output=self.result_types[i],
                    name=f"dense_{i}",
                )(x)
            else:
                x = nn.Dense(width, name=f"dense_{i}")(x)
            if last:
                break
            x = Activation(self.activation, name=f"act_{i}")(x)
            if quantized:
                in_type = self.activation_types[i]
                x = FixedPoint(in_type, name=f"act_{i}_q")(x)
        if self.output_activation != "linear":
            x = Activation(self.output_activation, name="output")(x)
        return x


def qat_types(
    n_layers: int,
    *,
    input_type: str,
    weight_bits: int,
    integer_bits: int = 1,
    result_type: str,
    activation_bits: int,
    activation_integer: int,
    output_type: str | None = None,
    layers: Sequence[LayerQat] = (),
    prefix: str = "",
    source: str = "",
    overrides: dict | None = None,
) -> dict:
    """TriggerMLP kwargs: uniform per-layer types, then the per-layer ``layers`` overrides.

    Args:
      output_type: result type of the last Dense (default ``result_type``).
      layers: ``qat.layers`` config entries (:class:`hepjax.hls.layer_config.LayerQat`); those named
        ``prefix + "dense_<i>"`` apply to this network. ``source`` names the config file in errors.
      overrides: replaces whole tuples (applied last).
    """
    w = f"ap_fixed<{weight_bits},{integer_bits},AP_RND,AP_SAT>"
    a = f"ap_ufixed<{activation_bits},{activation_integer},AP_RND,AP_SAT>"
    out = {
        "input_type": input_type,
        "weight_types": (w,) * n_layers,
        "bias_types": (w,) * n_layers,
        "result_types": (result_type,) * (n_layers - 1) + (output_type or result_type,),
        "activation_types": (a,) * (n_layers - 1),
    }
    out = apply_layer_overrides(out, layers, prefix=prefix, source=source)
    out.update(overrides or {})
    return out


def qat_types_from_section(q, n_layers: int, *, prefix: str = "", source: str = "") -> dict:
    """:func:`qat_types` from a config section ``q`` with ``input_type``, ``weight_bits``,
    ``weight_integer``, ``result_type``, ``activation_bits``, ``activation_integer``, ``layers`` and,
    optionally, ``logit_type`` (the last Dense's result type)."""
    return qat_types(
        n_layers,
        input_type=q.input_type,
        weight_bits=q.weight_bits,
        integer_bits=q.weight_integer,
        result_type=q.result_type,
        activation_bits=q.activation_bits,
        activation_integer=q.activation_integer,
        output_type=getattr(q, "logit_type", None),
        layers=q.layers,
        prefix=prefix,
        source=source,
    )


def module_spec(module: nn.Module) -> dict:
    """JSON-able description that :func:`build_module` turns back into ``module``."""
    cls = type(module)
    kwargs = {f.name: getattr(module, f.name) for f in dataclasses.fields(module) if f.name not in ("parent", "name")}
    kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}
    return {"class": f"{cls.__module__}.{cls.__qualname__}", "kwargs": kwargs}


def build_module(spec: dict) -> nn.Module:
    """Rebuild a module from :func:`module_spec` output; only ``hepjax.`` classes are accepted."""
    path = spec.get("class", "")
    if not path.startswith("hepjax."):
        raise ValueError(f"export: model class {path!r} is not a hepjax class")
    mod_name, _, cls_name = path.rpartition(".")
    cls = getattr(importlib.import_module(mod_name), cls_name)
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in spec.get("kwargs", {}).items()}
    return cls(**kwargs)
