"""Particle flow: calorimeter clusters (and, later, tracks, targets, the rule-based and ML algorithms)."""

from hepjax.pflow.clustering import (
    CLUSTER_QUANTUM,
    ECAL_LAYER,
    HCAL_LAYER,
    ClusterFeatures,
    Membership,
    PaddedMembership,
    TopoConfig,
    cluster_features,
    pad_membership,
    topo_clusters,
)

__all__ = [
    "CLUSTER_QUANTUM",
    "ECAL_LAYER",
    "HCAL_LAYER",
    "ClusterFeatures",
    "Membership",
    "PaddedMembership",
    "TopoConfig",
    "cluster_features",
    "pad_membership",
    "topo_clusters",
]
