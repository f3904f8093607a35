"""Per-layer bit widths of a quantization-aware trigger network, from the ``qat.layers`` config list.

A ``qat`` config section gives uniform types (``weight_bits``, ``activation_bits``, ...); its
optional ``layers`` list overrides them layer by layer::

    qat:
      weight_bits: 6
      layers:
        - {name: dense_0, weight_bits: 8, weight_integer: 2}     # first Dense: ap_fixed<8,2> weights
        - {name: dense_2, activation_bits: 4}                    # the ReLU cast after dense_2

Names are those of :class:`hepjax.hls.TriggerMLP`'s Dense layers (``dense_0``, ``dense_1``, ...),
prefixed by the model where a run builds several (``ae/dense_3``, ``vae/encoder/dense_0``). The
same names appear in the hls4ml config (granularity ``name``), so an override reaches the
firmware's ``weight_t``/``bias_t``/``result_t`` of that layer and nothing else.

Every entry is validated like the rest of the config: unknown keys and wrong types by
:func:`hepjax.config.build` at load time; unknown layer names, duplicates, impossible types
(e.g. more integer than total bits) and an activation on the output layer by
:func:`check_layer_names` / :func:`apply_layer_overrides`, with the key and the file in the message.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

from hepjax.config import ConfigError, param
from hepjax.hls.fixed import FixedSpec


@dataclasses.dataclass(frozen=True)
class LayerQat:
    """One layer's override; fields left ``None`` keep the section's uniform value."""

    name: str = param(
        dataclasses.MISSING, doc="Dense layer: dense_0, dense_1, ... (prefixed by the model where there are several)"
    )
    weight_bits: int | None = param(None, ge=2, le=16, doc="kernel width W of ap_fixed<W,I,AP_RND,AP_SAT>")
    weight_integer: int | None = param(None, doc="kernel integer bits I, sign included")
    bias_bits: int | None = param(None, ge=2, le=16, doc="default: the layer's weight type")
    bias_integer: int | None = param(None)
    result_type: str | None = param(None, doc="Dense result type, e.g. ap_fixed<12,5,AP_RND,AP_SAT>")
    activation_bits: int | None = param(None, ge=1, le=16, doc="width of the ReLU cast after this layer (ap_ufixed)")
    activation_integer: int | None = param(None)


def _where(source: str, key: str, i: int, entry: LayerQat) -> str:
    return f"{source + ': ' if source else ''}{key}[{i}] (layer {entry.name!r})"


def check_layer_names(
    layers: Sequence[LayerQat],
    known: Sequence[str],
    *,
    source: str = "",
    key: str = "qat.layers",
    max_weight_bits: int | None = None,
) -> None:
    """Raise :class:`ConfigError` (naming key and file) for unknown or repeated names and too-wide weights.

    ``known``: every Dense layer name the run builds, in order.
    """
    seen: set[str] = set()
    for i, e in enumerate(layers):
        if e.name not in known:
            raise ConfigError(f"{_where(source, key, i, e)}: no such layer; the layers are {', '.join(known)}")
        if e.name in seen:
            raise ConfigError(f"{_where(source, key, i, e)}: the layer is listed twice")
        seen.add(e.name)
        for field in ("weight_bits", "bias_bits"):
            bits = getattr(e, field)
            if max_weight_bits is not None and bits is not None and bits > max_weight_bits:
                raise ConfigError(
                    f"{_where(source, key, i, e)}.{field} = {bits}: this study allows at most {max_weight_bits} bits"
                )


def apply_layer_overrides(
    types: dict, layers: Sequence[LayerQat], *, prefix: str = "", source: str = "", key: str = "qat.layers"
) -> dict:
    """Return TriggerMLP type kwargs (see :func:`hepjax.hls.qat_types`) with the entries for ``prefix + dense_<i>`` applied.

    Entries for other prefixes are skipped (they belong to another model of the run); names are
    checked by :func:`check_layer_names`.
    """
    out = {k: list(v) if isinstance(v, tuple) else v for k, v in types.items()}
    n = len(out["weight_types"])
    for i, e in enumerate(layers):
        if not e.name.startswith(prefix):
            continue
        local = e.name[len(prefix) :]
        idx = int(local[6:]) if local.startswith("dense_") and local[6:].isdigit() else -1
        if not 0 <= idx < n:
            continue
        where = _where(source, key, i, e)
        try:
            w = FixedSpec.parse(out["weight_types"][idx])
            if e.weight_bits is not None or e.weight_integer is not None:
                w = FixedSpec.make(
                    e.weight_bits or w.width,
                    w.integer if e.weight_integer is None else e.weight_integer,
                    rounding=w.rounding,
                    overflow=w.overflow,
                )
                out["weight_types"][idx] = w.hls_type()
                out["bias_types"][idx] = w.hls_type()
            if e.bias_bits is not None or e.bias_integer is not None:
                b = FixedSpec.parse(out["bias_types"][idx])
                b = FixedSpec.make(
                    e.bias_bits or b.width,
                    b.integer if e.bias_integer is None else e.bias_integer,
                    rounding=b.rounding,
                    overflow=b.overflow,
                )
                out["bias_types"][idx] = b.hls_type()
            if e.result_type is not None:
                out["result_types"][idx] = FixedSpec.parse(e.result_type).hls_type()
            if e.activation_bits is not None or e.activation_integer is not None:
                if idx == n - 1:
                    raise ValueError("the output layer has no activation cast; set result_type instead")
                a = FixedSpec.parse(out["activation_types"][idx])
                a = FixedSpec.make(
                    e.activation_bits or a.width,
                    a.integer if e.activation_integer is None else e.activation_integer,
                    signed=a.signed,
                    rounding=a.rounding,
                    overflow=a.overflow,
                )
                out["activation_types"][idx] = a.hls_type()
        except ValueError as err:
            raise ConfigError(f"{where}: {err}") from None
    return {k: tuple(v) if isinstance(v, list) else v for k, v in out.items()}


def dense_names(n_layers: int, prefix: str = "") -> list[str]:
    """The names TriggerMLP gives its Dense layers, with the model prefix."""
    return [f"{prefix}dense_{i}" for i in range(n_layers)]


@dataclasses.dataclass(frozen=True)
class ExportConfig:
    """The ``export:`` section of a trigger study: hls4ml export and C simulation of its models."""

    enabled: bool = param(True)
    ptq_precision: str = param(
        "ap_fixed<16,6,AP_RND,AP_SAT>",
        doc="hls4ml type of a float model (post-training quantization); hls4ml's plain ap_fixed<16,6> "
        "truncates (AP_TRN) and wraps",
    )
    reuse_factor: int = param(1, ge=1)
    io_type: Literal["parallel", "stream"] = param("parallel")
