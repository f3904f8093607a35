"""Particle flow: calorimeter clusters, tracks and clusters packed as elements, a rule-based particle flow
and its event-level metrics (MLPF comes later)."""

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
from hepjax.pflow.elements import (
    ELEMENT_QUANTUM,
    FEATURES,
    PF_CLASSES,
    ElementLayout,
    Elements,
    ElementTruth,
    build_elements,
    column,
    element_features,
    track_features,
)
from hepjax.pflow.rule_based import Candidates, PFConfig, hadron_response, rule_based_pf

__all__ = [
    "CLUSTER_QUANTUM",
    "ECAL_LAYER",
    "ELEMENT_QUANTUM",
    "FEATURES",
    "HCAL_LAYER",
    "PF_CLASSES",
    "Candidates",
    "ClusterFeatures",
    "ElementLayout",
    "ElementTruth",
    "Elements",
    "Membership",
    "PFConfig",
    "PaddedMembership",
    "TopoConfig",
    "build_elements",
    "cluster_features",
    "column",
    "element_features",
    "hadron_response",
    "pad_membership",
    "rule_based_pf",
    "topo_clusters",
    "track_features",
]
