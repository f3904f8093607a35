"""Reusable networks (Flax linen modules) and the padding of graphs and sets to bucketed sizes.

* :class:`MLP` (:mod:`hepjax.nn.mlp`): the dense block every network is built from;
* :class:`DeepSets` (:mod:`hepjax.nn.deepsets`): permutation-invariant network on padded sets;
* :class:`EdgeConv` (:mod:`hepjax.nn.edgeconv`): EdgeConv block on a kNN graph, with :func:`knn_graph`
  and :func:`batch_graph`;
* :class:`InteractionNetwork` (:mod:`hepjax.nn.interaction_network`): edge classifier on graphs;
* :mod:`hepjax.nn.padding`: buckets and padding for graphs and sets.
"""

from hepjax.nn.deepsets import DeepSets
from hepjax.nn.edgeconv import EdgeConv, batch_graph, knn_graph
from hepjax.nn.interaction_network import InteractionNetwork, InteractionStep
from hepjax.nn.mlp import LN_EPS, MLP, fan_in_normal
from hepjax.nn.padding import (
    Bucket,
    GraphBatches,
    choose_bucket,
    choose_set_bucket,
    graph_size,
    make_buckets,
    make_set_buckets,
    pad_graph,
    pad_set,
    stack,
)

__all__ = [
    "LN_EPS",
    "MLP",
    "Bucket",
    "DeepSets",
    "EdgeConv",
    "GraphBatches",
    "InteractionNetwork",
    "InteractionStep",
    "batch_graph",
    "choose_bucket",
    "choose_set_bucket",
    "fan_in_normal",
    "graph_size",
    "knn_graph",
    "make_buckets",
    "make_set_buckets",
    "pad_graph",
    "pad_set",
    "stack",
]
