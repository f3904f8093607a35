"""EdgeConv on k-nearest-neighbour graphs of padded point sets, message passing in jraph.

Wang et al., "Dynamic graph CNN for learning on point clouds" (EdgeConv), ACM TOG 38 (2019); as
used by ParticleNet (Qu & Gouskos, PRD 101 (2020) 056019). Every real element ``i`` of a set
receives edges from its ``k`` nearest real neighbours ``j`` (:func:`knn_graph`); an EdgeConv block
computes ``h_ij = MLP([x_i, x_j - x_i])`` on every edge, averages it over ``i``'s valid edges and
adds a linear shortcut: ``x_i' = relu(mean_j h_ij + W x_i)``.

Static shapes under ``jit``: ``B`` sets of ``M`` slots are one ``jraph.GraphsTuple`` of ``B * M`` nodes
and ``B * M * k`` edges (``k`` per node, receivers sorted), built inside ``jit`` by :func:`batch_graph`.
Padding slots and the missing neighbours of sets with ``<= k`` real elements are masked edges: they
carry no message and do not count in the mean. The block is equivariant under a relabelling of the
nodes (a per-edge MLP and a mean over each node's incoming edges).
"""

from __future__ import annotations

from collections.abc import Sequence

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import jraph

from hepjax.nn.mlp import MLP


def knn_graph(points: jax.Array, mask: jax.Array, k: int) -> tuple[jax.Array, jax.Array]:
    """The ``k`` nearest real neighbours of every element (itself excluded).

    Args:
      points: ``[B, M, D]`` coordinates (e.g. Δη, Δφ to the jet axis, or learned features).
      mask: ``[B, M]`` bool, True for real elements.
      k: neighbours per element, ``1 <= k < M`` (static).

    Returns:
      ``(neighbours [B, M, k] int32, valid [B, M, k] bool)``: indices within the set, nearest
      first; ``valid`` is False for a padding receiver or a missing neighbour (a set with fewer
      than ``k + 1`` real elements).
    """
    b, m, _ = points.shape
    if not 1 <= k < m:
        raise ValueError(f"k must be in [1, M - 1] = [1, {m - 1}] for {m} constituent slots, got {k}")
    chex.assert_shape(mask, (b, m))
    sq = jnp.sum(points**2, -1)
    d2 = sq[:, :, None] + sq[:, None, :] - 2.0 * jnp.einsum("bid,bjd->bij", points, points)
    bad = ~mask[:, None, :] | jnp.eye(m, dtype=bool)[None]
    d2 = jnp.where(bad, jnp.inf, jnp.maximum(d2, 0.0))
    neg, idx = jax.lax.top_k(-jax.lax.stop_gradient(d2), k)  # a neighbour choice has no gradient
    valid = mask[:, :, None] & jnp.isfinite(neg)
    return idx.astype(jnp.int32), valid


def batch_graph(nodes: jax.Array, neighbours: jax.Array, valid: jax.Array) -> jraph.GraphsTuple:
    """One ``GraphsTuple`` of ``B`` set graphs: node ``b * M + i`` receives from ``b * M + neighbours[b, i]``.

    Args:
      nodes: ``[B, M, F]``; neighbours, valid: ``[B, M, k]`` from :func:`knn_graph`.

    Returns:
      a graph with ``nodes [B*M, F]``, ``edges = {"valid": [B*M*k] float}``, receivers sorted.
    """
    b, m, f = nodes.shape
    k = neighbours.shape[-1]
    base = (jnp.arange(b, dtype=jnp.int32) * m)[:, None, None]
    senders = (base + neighbours).reshape(-1)
    receivers = jnp.broadcast_to(base + jnp.arange(m, dtype=jnp.int32)[None, :, None], (b, m, k)).reshape(-1)
    return jraph.GraphsTuple(
        nodes=nodes.reshape(b * m, f),
        edges={"valid": valid.reshape(-1).astype(nodes.dtype)},
        senders=senders,
        receivers=receivers,
        globals=None,
        n_node=jnp.full((b,), m, jnp.int32),
        n_edge=jnp.full((b,), m * k, jnp.int32),
    )


class EdgeConv(nn.Module):
    """``x_i' = relu(mean_{valid j} MLP([x_i, x_j - x_i]) + W x_i)`` on a graph (``nodes [N, F]``).

    Attributes:
      widths: the edge MLP's layer widths (ReLU after each); the output has ``widths[-1]`` features.
      sorted_receivers: the graph's receivers are sorted (as :func:`batch_graph` makes them), so
        the segment sums take the sorted fast path; set False for an arbitrary edge order.

    The graph's ``edges`` is ``{"valid": [E] float}`` (1 for a real edge) or None (all real).
    Parameters: ``edge_mlp`` (an :class:`hepjax.nn.MLP`) and ``shortcut`` (Dense).
    """

    widths: Sequence[int] = (64, 64, 64)
    sorted_receivers: bool = True

    @nn.compact
    def __call__(self, graph: jraph.GraphsTuple) -> jax.Array:
        """Node outputs ``[N, widths[-1]]``."""
        x = graph.nodes
        x_i, x_j = x[graph.receivers], x[graph.senders]
        h = MLP(tuple(self.widths), activate_final=True, name="edge_mlp")(jnp.concatenate([x_i, x_j - x_i], -1))
        if graph.edges is None:
            valid = jnp.ones((h.shape[0], 1), h.dtype)
        else:
            valid = graph.edges["valid"][:, None]
        n = x.shape[0]
        srt = self.sorted_receivers
        total = jraph.segment_sum(h * valid, graph.receivers, n, indices_are_sorted=srt)
        count = jraph.segment_sum(valid, graph.receivers, n, indices_are_sorted=srt)
        mean = total / jnp.maximum(count, 1.0)
        return nn.relu(mean + nn.Dense(self.widths[-1], name="shortcut")(x))
