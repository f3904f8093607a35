"""Permutation-invariant jet taggers on padded constituents: Deep Sets and ParticleNet-style EdgeConv."""

from hepjax.tagging.deepsets import DeepSets, apply_pfn, check_constituents, init_pfn
from hepjax.tagging.edgeconv import (
    EdgeConvTagger,
    batch_graph,
    knn_graph,
)
from hepjax.tagging.factory import make_tagger
from hepjax.tagging.features import (
    ETA_PHI,
    N_FEATURES,
    constituent_features,
    jet_inputs,
)
from hepjax.tagging.samples import jet_constituents

__all__ = [
    "ETA_PHI",
    "N_FEATURES",
    "DeepSets",
    "EdgeConvTagger",
    "apply_pfn",
    "batch_graph",
    "check_constituents",
    "constituent_features",
    "init_pfn",
    "jet_constituents",
    "jet_inputs",
    "knn_graph",
    "make_tagger",
]
