"""TrackML-style tracking metrics (definitions as in Amrouche et al. 2019 and Exa.TrkX).

Edges (classifier):
  * efficiency = selected true target edges / true target edges, where a *target* edge is a true
    segment of a target particle: pT > ``pt_min`` and at least ``min_hits`` hits in the graph, the
    particles the track efficiency counts (as Exa.TrkX selects its GNN targets). A particle with
    fewer hits can never become a track; its lone segments are reported apart, in
    ``edge_efficiency_all_segments`` (every true segment of a particle with pT > ``pt_min``);
  * purity = selected true edges (any particle) / selected edges;
  * ROC AUC over all edges (true = same particle, consecutive hits), exact with ties halved
    (:func:`hepjax.evaluation.roc_auc`).

Tracks (candidates from :func:`hepjax.tracking.track_building.build_tracks`):
  * a candidate *matches* a particle when it holds >= 50% of the particle's hits and >= 50% of the
    candidate's hits belong to that particle (the "double-majority" rule);
  * targets: particles with pT > ``pt_min`` and at least ``min_hits`` hits in the graph;
  * track efficiency = matched targets / targets;
  * fake rate = candidates matching no particle / candidates;
  * duplicate rate = targets matched by more than one candidate / matched targets.

Every ratio with an empty denominator is NaN (an event with no hits gives NaNs, not an error).
"""

from __future__ import annotations

import numpy as np

from hepjax.evaluation import roc_auc


def _ratio(a, b):
    return float(a) / float(b) if b else float("nan")


def _auc_or_nan(scores: np.ndarray, y: np.ndarray) -> float:
    """ROC AUC of ``y`` vs the rest, NaN (not an error) when one class is empty, like the other ratios."""
    if y.all() or not y.any():
        return float("nan")
    return roc_auc(scores, y)


def edge_metrics(
    scores: np.ndarray,
    y: np.ndarray,
    edge_pt: np.ndarray,
    *,
    threshold: float = 0.5,
    pt_min: float = 1.0,
    edge_hits: np.ndarray | None = None,
    min_hits: int = 1,
) -> dict:
    """Edge efficiency (target edges), purity and AUC; arrays ``[E]`` concatenated over events.

    ``edge_hits`` is the number of graph hits of each edge's particle
    (:func:`hepjax.tracking.graph.segment_particle_hits`); without it every segment of a particle
    with pT > ``pt_min`` is a target. ``edge_auc`` separates every true segment from the rest;
    ``edge_auc_target`` separates the target segments from the rest, which is what a classifier
    trained with ``graph.train_labels: target`` learns.
    """
    scores, y, edge_pt = np.asarray(scores), np.asarray(y) > 0.5, np.asarray(edge_pt)
    sel = scores > threshold
    above = y & (edge_pt > pt_min)
    target = above if edge_hits is None else above & (np.asarray(edge_hits) >= min_hits)
    return {
        "edge_efficiency": _ratio((sel & target).sum(), target.sum()),
        "edge_efficiency_all_segments": _ratio((sel & above).sum(), above.sum()),
        "edge_purity": _ratio((sel & y).sum(), sel.sum()),
        "edge_auc": _auc_or_nan(scores, y),
        "edge_auc_target": _auc_or_nan(scores, target),
    }


def match_tracks(candidates: list[np.ndarray], hit_particle: np.ndarray) -> np.ndarray:
    """Particle matched by each candidate under the double-majority rule, -1 if none: ``[n_cand]``.

    ``hit_particle`` is ``[n_hits]`` (truth particle per node, -1 for noise) and the candidates
    hold node ids.
    """
    hit_particle = np.asarray(hit_particle)
    valid = hit_particle[hit_particle >= 0]
    n_of = np.bincount(valid, minlength=1) if valid.size else np.zeros(1, int)
    out = np.full(len(candidates), -1)
    for k, cand in enumerate(candidates):
        ids = hit_particle[np.asarray(cand, int)]
        ids = ids[ids >= 0]
        if ids.size == 0:
            continue
        vals, counts = np.unique(ids, return_counts=True)
        j = np.argmax(counts)
        p, c = vals[j], counts[j]
        if 2 * c >= len(cand) and 2 * c >= n_of[p]:
            out[k] = p
    return out


def track_metrics(
    candidates: list[np.ndarray],
    hit_particle: np.ndarray,
    particle_pt: np.ndarray,
    *,
    pt_min: float = 1.0,
    min_hits: int = 3,
) -> dict:
    """Track efficiency, fake rate and duplicate rate of one event plus the per-target table
    needed to bin them (``target_ids``, ``target_found``). See the module docstring."""
    hit_particle = np.asarray(hit_particle)
    particle_pt = np.asarray(particle_pt)
    matched = match_tracks(candidates, hit_particle)
    valid = hit_particle[hit_particle >= 0]
    n_hits = np.bincount(valid, minlength=particle_pt.size) if valid.size else np.zeros(particle_pt.size, int)
    targets = np.flatnonzero((particle_pt > pt_min) & (n_hits[: particle_pt.size] >= min_hits))
    n_match = (
        np.bincount(matched[matched >= 0], minlength=particle_pt.size)
        if (matched >= 0).any()
        else np.zeros(particle_pt.size, int)
    )
    found = n_match[targets] > 0
    return {
        "n_targets": int(targets.size),
        "n_found": int(found.sum()),
        "n_candidates": len(candidates),
        "n_fake": int((matched < 0).sum()),
        "n_duplicated": int((n_match[targets] > 1).sum()),
        "target_ids": targets,
        "target_found": found,
    }


def summarize_tracks(per_event: list[dict]) -> dict:
    """Sum the counts of :func:`track_metrics` over events into the three rates."""
    tot = {k: sum(e[k] for e in per_event) for k in ("n_targets", "n_found", "n_candidates", "n_fake", "n_duplicated")}
    return {
        "track_efficiency": _ratio(tot["n_found"], tot["n_targets"]),
        "fake_rate": _ratio(tot["n_fake"], tot["n_candidates"]),
        "duplicate_rate": _ratio(tot["n_duplicated"], tot["n_found"]),
        **tot,
    }


def binned_efficiency(
    values: np.ndarray, found: np.ndarray, bins: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Efficiency per bin of ``values`` with a binomial error: ``(centres, eff, err)``; NaN for empty bins."""
    values, found = np.asarray(values), np.asarray(found, bool)
    idx = np.digitize(values, bins) - 1
    ok = (idx >= 0) & (idx < len(bins) - 1)
    n = np.bincount(idx[ok], minlength=len(bins) - 1).astype(float)
    k = np.bincount(idx[ok], weights=found[ok].astype(float), minlength=len(bins) - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        eff = np.where(n > 0, k / n, np.nan)
        err = np.where(n > 0, np.sqrt(np.clip(eff * (1 - eff), 0, None) / np.maximum(n, 1)), np.nan)
    return 0.5 * (bins[1:] + bins[:-1]), eff, err
