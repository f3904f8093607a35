"""GNN charged-particle tracking: hit graphs, an interaction-network edge classifier in jraph,
track building and TrackML-style metrics (issue 5).

Chain: :func:`load_or_simulate` (Pythia + pileup -> tracker hits) -> :func:`build_graph` (cuts
from :func:`derive_cuts`) -> padded buckets (:class:`hepjax.nn.GraphBatches`) -> :func:`make_loss_fn` trained
with :func:`hepjax.train.fit` -> :func:`build_tracks` (with :func:`bridge_gaps`, cuts from
:func:`derive_bridge_cuts`) -> :func:`edge_metrics` / :func:`track_metrics`.
Plots live in :mod:`hepjax.tracking.plots` (not imported here: matplotlib stays off this path).
"""

from hepjax.tracking.events import TrackingEvent, load_or_simulate, simulate_events
from hepjax.tracking.gap_bridging import BridgeCuts, bridge_gaps, derive_bridge_cuts
from hepjax.tracking.graph import (
    EventGraph,
    SegmentCuts,
    build_graph,
    check_hits,
    construction_metrics,
    derive_cuts,
    segment_particle_hits,
    target_segments,
    true_segments,
)
from hepjax.tracking.metrics import (
    binned_efficiency,
    edge_metrics,
    match_tracks,
    summarize_tracks,
    track_metrics,
)
from hepjax.tracking.model import (
    ModelConfig,
    edge_logits,
    edge_logits_batched,
    init_params,
    make_loss_fn,
    make_predict_fn,
    weighted_bce,
)
from hepjax.tracking.pipeline import EvalConfig, GraphConfig, evaluate, score_graphs
from hepjax.tracking.track_building import build_tracks

__all__ = [
    "BridgeCuts",
    "EvalConfig",
    "EventGraph",
    "GraphConfig",
    "ModelConfig",
    "SegmentCuts",
    "TrackingEvent",
    "binned_efficiency",
    "bridge_gaps",
    "build_graph",
    "build_tracks",
    "check_hits",
    "construction_metrics",
    "derive_bridge_cuts",
    "derive_cuts",
    "edge_logits",
    "edge_logits_batched",
    "edge_metrics",
    "evaluate",
    "init_params",
    "load_or_simulate",
    "make_loss_fn",
    "make_predict_fn",
    "match_tracks",
    "score_graphs",
    "segment_particle_hits",
    "simulate_events",
    "summarize_tracks",
    "target_segments",
    "track_metrics",
    "true_segments",
    "weighted_bce",
]
