"""ParticleNet-style EdgeConv jet tagger on padded constituents, message passing in jraph.

Qu & Gouskos, "ParticleNet: jet tagging via particle clouds", PRD 101 (2020) 056019, after
Wang et al., "Dynamic graph CNN for learning on point clouds" (EdgeConv), ACM TOG 38 (2019).
Each jet is a graph: every real constituent ``i`` receives edges from its ``k`` nearest real
neighbours ``j`` — in (Δη, Δφ) for the first block and, with ``dynamic=True``, in the previous
block's feature space after it. An EdgeConv block computes ``h_ij = MLP([x_i, x_j - x_i])`` on
every edge, averages it over ``i``'s valid edges, and adds a linear shortcut of ``x_i``:
``x_i' = relu(mean_j h_ij + W x_i)``. A masked mean over the real constituents, optional
jet-level inputs and an MLP give one logit per jet.

Static shapes under ``jit``: a batch of ``B`` jets with ``M`` constituent slots is one
``jraph.GraphsTuple`` of ``B * M`` nodes and ``B * M * k`` edges (``k`` per node, receivers sorted),
built inside ``jit`` by :func:`hepjax.nn.knn_graph` and :func:`hepjax.nn.batch_graph`
(the block itself is :class:`hepjax.nn.EdgeConv`). Padding slots and the missing
neighbours of jets with ``<= k`` real constituents are masked edges: they carry no message and
do not count in the mean, so padding never changes a real jet's output. Unlike ParticleNet there
is no batch normalisation (no mutable state: the model is a pure ``init/apply`` pair).

Example::

    model = EdgeConvTagger(blocks=((32, 32, 32), (64, 64, 64)), k=8)
    params = model.init(key, points, features, mask)      # [B, M, 2], [B, M, F], [B, M] bool
    logits = model.apply(params, points, features, mask)  # [B]
"""

from __future__ import annotations

from collections.abc import Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph

from hepjax.nn import MLP, EdgeConv, batch_graph, knn_graph

__all__ = ["EdgeConvTagger", "batch_graph", "knn_graph"]


class EdgeConvTagger(nn.Module):
    """ParticleNet-style tagger: EdgeConv blocks, masked mean pooling, MLP to one logit.

    Attributes:
      blocks: the edge-MLP widths of each EdgeConv block (ParticleNet-Lite: ``((32,)*3, (64,)*3)``).
      k: neighbours per constituent (static; must be < the number of constituent slots).
      f: hidden widths of the final MLP.
      dynamic: blocks after the first find neighbours in the previous block's features.
    """

    blocks: Sequence[Sequence[int]] = ((32, 32, 32), (64, 64, 64))
    k: int = 8
    f: Sequence[int] = (64,)
    dynamic: bool = True

    @nn.compact
    def __call__(
        self, points: jax.Array, features: jax.Array, mask: jax.Array, jet: jax.Array | None = None
    ) -> jax.Array:
        """Logits ``[B]``.

        Args:
          points: ``[B, M, D]`` kNN coordinates of the first block (e.g. 5 Δη, 5 Δφ).
          features: ``[B, M, F]`` per-constituent inputs.
          mask: ``[B, M]`` bool (float weights are read as ``> 0``).
          jet: optional ``[B, J]`` jet-level inputs, concatenated after pooling.
        """
        if features.ndim != 3 or points.ndim != 3 or mask.shape != features.shape[:2] or points.shape[:2] != mask.shape:
            raise ValueError(
                f"points must be [B, M, D], features [B, M, F] and mask [B, M]; got {points.shape}, "
                f"{features.shape} and {mask.shape}"
            )
        mask = mask > 0 if mask.dtype != jnp.bool_ else mask
        b, m, _ = features.shape
        keep = mask[..., None]
        x = jnp.where(keep, features, 0.0)  # padding content is never read, even if inf/NaN
        coords = jnp.where(keep, points, 0.0)
        for n_block, widths in enumerate(self.blocks):
            if n_block == 0 or self.dynamic:
                neighbours, valid = knn_graph(coords if n_block == 0 else x, mask, self.k)
            graph = batch_graph(x, neighbours, valid)
            x = EdgeConv(tuple(widths), name=f"edgeconv_{n_block}")(graph).reshape(b, m, -1)
            x = jnp.where(keep, x, 0.0)
        # masked mean over each jet's real constituents (jraph segment sums over node -> graph ids)
        graph_of_node = jnp.repeat(jnp.arange(b), m, total_repeat_length=b * m)
        w = mask.reshape(-1, 1).astype(x.dtype)
        pooled = jraph.segment_sum(x.reshape(b * m, -1) * w, graph_of_node, b, indices_are_sorted=True)
        pooled = pooled / jnp.maximum(jraph.segment_sum(w, graph_of_node, b, indices_are_sorted=True), 1.0)
        if jet is not None:
            chex.assert_rank(jet, 2)
            pooled = jnp.concatenate([pooled, jet.astype(pooled.dtype)], -1)
        return MLP((*self.f, 1), name="head")(pooled)[:, 0]
