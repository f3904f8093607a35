"""Names that mark hepjax's fixed-point operations in a traced computation (jaxpr).

Each quantizer and exact fixed-point layer function runs as one call (a ``jit`` or ``custom_vjp``
call) inside a JAX named scope ``hepjax_hls:<kind>{json attributes}``. The scope changes nothing
in the computation; it lets :mod:`hepjax.hls.jaxpr_convert` recognise the call in a jaxpr, with
its ``ap_fixed`` types, as one Keras layer instead of its dozens of integer primitives.
"""

from __future__ import annotations

import json

import jax

PREFIX = "hepjax_hls:"


def op_scope(kind: str, **attrs):
    """A named scope that tags the call made inside it as the hepjax fixed-point op ``kind``."""
    return jax.named_scope(PREFIX + kind + json.dumps(attrs, sort_keys=True))


def read_tag(frame: str) -> tuple[str, dict] | None:
    """``(kind, attrs)`` of a name-stack frame written by :func:`op_scope`, else None."""
    if not frame.startswith(PREFIX):
        return None
    text = frame[len(PREFIX) :]
    cut = text.index("{")
    return text[:cut], json.loads(text[cut:])
