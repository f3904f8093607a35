"""The tracking chain end to end: events -> graphs -> edge scores -> track candidates -> metrics.

Shared by ``experiments/tracking.py`` and the ``tracking`` bench area. Compilations: one train step
per bucket that holds a training batch, and one ``predict`` per bucket met at evaluation
(buckets: :mod:`hepjax.nn.padding`).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Literal

import jax
import numpy as np

from hepjax.config.schema import param
from hepjax.detector.tracker import TrackerGeometry
from hepjax.nn.padding import Bucket, choose_bucket, pad_graph
from hepjax.tracking.events import TrackingEvent
from hepjax.tracking.gap_bridging import BridgeCuts, derive_bridge_cuts
from hepjax.tracking.graph import (
    EventGraph,
    SegmentCuts,
    build_graph,
    construction_metrics,
    derive_cuts,
    segment_particle_hits,
    target_segments,
)
from hepjax.tracking.metrics import edge_metrics, summarize_tracks, track_metrics
from hepjax.tracking.model import ModelConfig, make_predict_fn
from hepjax.tracking.track_building import build_tracks


@dataclasses.dataclass(frozen=True)
class GraphConfig:
    """Graph construction (the ``graph:`` config section)."""

    pt_min: float = param(1.0, gt=0.0, doc="target particles: pT above this, GeV (cuts derived for them)")
    target_min_hits: int = param(
        3,
        ge=1,
        doc="target particles: at least this many hits in the graph (edge and track "
        "efficiency count the same particles; a 2-hit particle can never form a track)",
    )
    quantile: float = param(0.999, gt=0.5, le=1.0, doc="fraction of target segments each cut keeps")
    margin: float = param(1.1, ge=1.0, doc="widening factor applied to every derived cut")
    skip: int = param(1, ge=1, le=2, doc="largest layer difference of an edge (2 adds skip-one edges)")
    n_buckets: int = param(6, ge=1, doc="padding bucket sizes (one train-step compilation each)")
    train_labels: Literal["all", "target"] = param(
        "all",
        doc="edges the classifier learns as true: every true segment, or only those of target particles "
        "(pT > pt_min, >= target_min_hits hits); purity and edge_auc always use every true segment",
    )


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """Track building and metrics (the ``eval:`` config section)."""

    threshold: float = param(0.5, gt=0.0, lt=1.0, doc="edge score threshold")
    min_hits: int = param(3, ge=2, doc="shortest track candidate kept")
    bridge_gaps: bool = param(
        True, doc="join track fragments across a rejected edge or a missing layer (hepjax.tracking.gap_bridging)"
    )
    max_gap: int = param(
        2,
        ge=1,
        le=2,
        doc="largest layer difference of a join: 1 rejoins split fragments, 2 also bridges a missing layer",
    )
    threshold_scan: tuple[float, ...] = param(
        (),
        gt=0.0,
        lt=1.0,
        doc="if given, the working point: of these thresholds, the one with the "
        "highest track efficiency - fake rate on validation events replaces threshold",
    )


def make_graphs(
    events: list[TrackingEvent], geometry: TrackerGeometry, cuts: SegmentCuts, cfg: GraphConfig
) -> list[EventGraph]:
    return [build_graph(e.hits, e.particles.pt, geometry, cuts, skip=cfg.skip) for e in events]


def training_graphs(graphs: list[EventGraph], cfg: GraphConfig) -> list[EventGraph]:
    """Graphs with the labels the classifier trains on (``cfg.train_labels``).

    ``"target"`` keeps ``y = 1`` only on the target segments (:func:`target_segments`: pT above
    ``pt_min``, at least ``target_min_hits`` hits): segments of softer particles pass the cuts only in
    part, so their fragments become fake candidates even with perfect scores (measured: fake rate
    0.048 with all true edges, 0.022 with target edges).
    """
    if cfg.train_labels == "all":
        return graphs
    return [
        g._replace(y=target_segments(g, pt_min=cfg.pt_min, min_hits=cfg.target_min_hits).astype(np.float32))
        for g in graphs
    ]


def cuts_from(events: list[TrackingEvent], geometry: TrackerGeometry, cfg: GraphConfig) -> SegmentCuts:
    return derive_cuts(
        [(e.hits, e.particles.pt) for e in events],
        geometry,
        pt_min=cfg.pt_min,
        quantile=cfg.quantile,
        margin=cfg.margin,
        skip=cfg.skip,
    )


def bridge_cuts_from(events: list[TrackingEvent], geometry: TrackerGeometry, cfg: GraphConfig) -> BridgeCuts:
    """Gap-bridging cuts from the truth of (training) events, at the segment cuts' quantile and margin."""
    return derive_bridge_cuts(
        [(e.hits, e.particles.pt) for e in events],
        geometry,
        pt_min=cfg.pt_min,
        quantile=cfg.quantile,
        margin=cfg.margin,
    )


def graph_metrics(events, graphs, geometry, cfg: GraphConfig) -> dict:
    return construction_metrics(
        graphs, [e.hits for e in events], [e.particles.pt for e in events], geometry, pt_min=cfg.pt_min, skip=cfg.skip
    )


def score_graphs(params, model_cfg: ModelConfig, graphs: list[EventGraph], buckets: list[Bucket]):
    """Edge scores per graph (``[n_edge]`` each) and the median inference time per event (ms,
    padding + jitted network, compile excluded). Returns ``(scores, ms_per_event, buckets)``."""
    predict = make_predict_fn(model_cfg)
    scores, times = [], []
    for g in graphs:
        b, buckets = choose_bucket(g, buckets)
        padded = pad_graph(g, b)
        jax.block_until_ready(predict(params, padded))  # compile once per bucket; later calls are cached
        t0 = time.perf_counter()
        out = np.asarray(predict(params, pad_graph(g, b)))
        times.append(time.perf_counter() - t0)
        scores.append(out[: g.n_edge])
    return scores, 1e3 * float(np.median(times)) if times else float("nan"), buckets


SCAN_KEYS = ("edge_efficiency", "edge_purity", "track_efficiency", "fake_rate", "duplicate_rate")


def choose_threshold(
    events: list[TrackingEvent],
    graphs: list[EventGraph],
    scores: list[np.ndarray],
    graph_cfg: GraphConfig,
    eval_cfg: EvalConfig,
    bridge_cuts: BridgeCuts | None = None,
) -> tuple[float, list[dict]]:
    """The working point: of ``eval_cfg.threshold_scan``, the threshold with the highest track
    efficiency minus fake rate (a lost track and a fake one weigh the same) on these events, which
    must be validation events, neither trained on nor the held-out test events. Ties go to the
    lowest threshold; NaN figures (no targets) count as the worst.

    Returns ``(threshold, rows)``, one row of :data:`SCAN_KEYS` per scanned threshold.
    """
    if not eval_cfg.threshold_scan:
        raise ValueError("eval.threshold_scan is empty: nothing to choose from")
    rows = []
    for t in sorted(eval_cfg.threshold_scan):
        m, _ = evaluate(events, graphs, scores, graph_cfg, dataclasses.replace(eval_cfg, threshold=t), bridge_cuts)
        rows.append({"threshold": t, **{k: m[k] for k in SCAN_KEYS}})
    merit = [r["track_efficiency"] - r["fake_rate"] for r in rows]
    merit = [-np.inf if np.isnan(v) else v for v in merit]
    return rows[int(np.argmax(merit))]["threshold"], rows


def evaluate(
    events: list[TrackingEvent],
    graphs: list[EventGraph],
    scores: list[np.ndarray],
    graph_cfg: GraphConfig,
    eval_cfg: EvalConfig,
    bridge_cuts: BridgeCuts | None = None,
) -> tuple[dict, dict]:
    """Edge and track metrics on held-out events.

    ``bridge_cuts`` (from :func:`bridge_cuts_from` on the training events) is required when
    ``eval_cfg.bridge_gaps`` is on.

    Returns ``(metrics, details)``; ``details`` holds the arrays the plots need (all edge scores
    and labels, the target particles' pT / eta / found flag, the candidates of every event).
    """
    if not graphs:
        raise ValueError("evaluate needs at least one event")
    s = np.concatenate(scores) if scores else np.zeros(0)
    y = np.concatenate([g.y for g in graphs])
    pt = np.concatenate([g.edge_pt for g in graphs])
    n_hits = np.concatenate([segment_particle_hits(g) for g in graphs])
    metrics = edge_metrics(
        s,
        y,
        pt,
        threshold=eval_cfg.threshold,
        pt_min=graph_cfg.pt_min,
        edge_hits=n_hits,
        min_hits=graph_cfg.target_min_hits,
    )
    per_event, t_pt, t_eta, t_found, candidates = [], [], [], [], []
    if eval_cfg.bridge_gaps and bridge_cuts is None:
        raise ValueError("eval.bridge_gaps is on: pass bridge_cuts (pipeline.bridge_cuts_from(training events, ...))")
    for e, g, sc in zip(events, graphs, scores):
        bridge = {}
        if eval_cfg.bridge_gaps:
            geom = tuple(np.asarray(v)[g.hit_index] for v in (e.hits.layer, e.hits.r, e.hits.phi, e.hits.z))
            bridge = {"node_geometry": geom, "bridge_cuts": bridge_cuts, "max_gap": eval_cfg.max_gap}
        cands = build_tracks(
            g.n_node,
            g.senders,
            g.receivers,
            sc,
            threshold=eval_cfg.threshold,
            min_hits=eval_cfg.min_hits,
            node_r=g.nodes[:, 0],
            **bridge,
        )
        tm = track_metrics(
            cands, g.particle_id, e.particles.pt, pt_min=graph_cfg.pt_min, min_hits=graph_cfg.target_min_hits
        )
        per_event.append(tm)
        t_pt.append(e.particles.pt[tm["target_ids"]])
        t_eta.append(e.particles.eta[tm["target_ids"]])
        t_found.append(tm["target_found"])
        candidates.append(cands)
    metrics.update(summarize_tracks(per_event))
    details = {
        "scores": s,
        "y": y,
        "edge_pt": pt,
        "target_pt": np.concatenate(t_pt),
        "target_eta": np.concatenate(t_eta),
        "target_found": np.concatenate(t_found),
        "candidates": candidates,
    }
    return metrics, details
