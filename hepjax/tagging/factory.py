"""Build a configured jet tagger: Deep Sets or EdgeConv on padded constituents, as ``(init, apply)``."""

from __future__ import annotations

from collections.abc import Callable

import jax

from hepjax.tagging.deepsets import DeepSets
from hepjax.tagging.edgeconv import EdgeConvTagger
from hepjax.tagging.features import jet_inputs


def make_tagger(c) -> tuple[Callable, Callable]:
    """``(init(key, batch) -> params, apply(params, batch) -> logits [B])`` of the configured tagger.

    ``c`` has ``kind`` ("deepsets" or "edgeconv"), ``width``, ``latent`` (Deep Sets pooled width),
    ``k`` (EdgeConv neighbours) and ``use_mass`` (jet mass as an input). A batch is a dict with
    ``feats [B, M, 6]`` (:func:`hepjax.tagging.constituent_features`), ``weights [B, M]``,
    ``jet [B, 2]`` (pT, mass; GeV) and, for EdgeConv, ``points [B, M, 2]`` (the kNN coordinates).
    ``init`` is jitted; ``apply`` is pure (jit it, or call it inside a jitted loss).
    """
    if c.kind == "deepsets":
        model = DeepSets(phi=(c.width, c.latent), f=(c.width, c.width), pool_scale=1.0 / 20.0)

        def inputs(b):
            return b["feats"], b["weights"], jet_inputs(b["jet"], with_mass=c.use_mass)
    else:
        model = EdgeConvTagger(blocks=((c.width,) * 3, (2 * c.width,) * 3), k=c.k, f=(2 * c.width,))

        def inputs(b):
            return b["points"], b["feats"], b["weights"] > 0, jet_inputs(b["jet"], with_mass=c.use_mass)

    return jax.jit(lambda key, b: model.init(key, *inputs(b))), (lambda p, b: model.apply(p, *inputs(b)))
