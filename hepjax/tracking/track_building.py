"""Track candidates from scored edges: connected components, then a walk through branchings.

1. Keep edges with score above ``threshold``.
2. Connected components (``scipy.sparse.csgraph``) of the kept edges. A component in which no hit
   has more than one kept outgoing or incoming edge is a simple chain: it is a candidate as is.
3. Components with a branching are resolved by a walk (Exa.TrkX "walkthrough"): start at the
   innermost unused hit with no kept incoming edge, repeatedly follow the highest-scoring kept
   outgoing edge to an unused hit, mark the visited hits used, and emit the walk; repeat until the
   component's hits are used.
4. Optionally (``bridge_cuts`` with the hits' geometry) join fragments across an edge scored below
   threshold or one missing layer (:mod:`hepjax.tracking.gap_bridging`).

Candidates are lists of node indices (into the graph's nodes; map to event hits with
``graph.hit_index``). Candidates shorter than ``min_hits`` are dropped.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from hepjax.tracking.gap_bridging import BridgeCuts, bridge_gaps


def build_tracks(
    n_nodes: int,
    senders: np.ndarray,
    receivers: np.ndarray,
    scores: np.ndarray,
    *,
    threshold: float = 0.5,
    min_hits: int = 3,
    node_r: np.ndarray | None = None,
    node_geometry: tuple[np.ndarray, ...] | None = None,
    bridge_cuts: BridgeCuts | None = None,
    max_gap: int = 2,
) -> list[np.ndarray]:
    """Track candidates (arrays of node ids ordered inside-out) from edge scores.

    Args:
      n_nodes: number of hits (nodes) of the graph.
      senders, receivers: ``[E]`` int node ids of the directed edges (inner -> outer).
      scores: ``[E]`` edge scores in [0, 1].
      threshold: edges with ``score > threshold`` are kept.
      min_hits: shortest candidate kept.
      node_r: ``[n_nodes]`` hit radii; walks start from the innermost free hits (default: node order).
      node_geometry: ``(layer, r, phi, z)`` of every node (int, mm, rad, mm), needed with ``bridge_cuts``.
      bridge_cuts: join fragments across up to ``max_gap`` layers with these cuts (before ``min_hits``
        applies); see :func:`hepjax.tracking.gap_bridging.bridge_gaps`.
    """
    if bridge_cuts is not None and node_geometry is None:
        raise ValueError("bridge_cuts needs node_geometry = (layer, r, phi, z)")
    senders, receivers, scores = (np.asarray(a) for a in (senders, receivers, scores))
    if not (senders.shape == receivers.shape == scores.shape):
        raise ValueError(
            f"senders, receivers and scores must share a shape, got {senders.shape}, {receivers.shape}, {scores.shape}"
        )
    if n_nodes == 0:
        return []
    keep = scores > threshold
    s, r, w = senders[keep], receivers[keep], scores[keep]
    if s.size and (max(s.max(), r.max()) >= n_nodes or min(s.min(), r.min()) < 0):
        raise ValueError(f"edge node ids outside [0, {n_nodes})")
    adj = sp.coo_matrix((np.ones(s.size), (s, r)), shape=(n_nodes, n_nodes)).tocsr()
    n_comp, label = connected_components(adj, directed=True, connection="weak")
    out_deg = np.bincount(s, minlength=n_nodes)
    in_deg = np.bincount(r, minlength=n_nodes)
    branching = np.zeros(n_comp, bool)
    np.logical_or.at(branching, label, (out_deg > 1) | (in_deg > 1))
    size = np.bincount(label, minlength=n_comp)

    tracks: list[np.ndarray] = []
    # simple chains: order hits by following the single outgoing edge from the chain's start
    nxt = np.full(n_nodes, -1)
    nxt[s] = r
    shortest = 2 if bridge_cuts is not None else min_hits  # fragments of 2 hits may still be joined
    chain_comp = (~branching) & (size >= shortest)
    starts = np.flatnonzero(chain_comp[label] & (in_deg == 0))
    for start in starts:
        path = [start]
        while nxt[path[-1]] >= 0:
            path.append(nxt[path[-1]])
        tracks.append(np.asarray(path))
    # branching components: walk through
    comps = np.flatnonzero(branching & (size >= shortest))
    if comps.size:
        order = np.argsort(label, kind="stable")
        bounds = np.searchsorted(label[order], np.arange(n_comp + 1))
        out_edges = _out_edges(n_nodes, s, r, w)
        used = np.zeros(n_nodes, bool)
        for c in comps:
            members = order[bounds[c] : bounds[c + 1]]
            tracks += _walk(members, in_deg, out_edges, used, shortest, node_r)
    if bridge_cuts is not None:
        tracks = bridge_gaps(tracks, *node_geometry, bridge_cuts, max_gap=max_gap)
    return [t for t in tracks if len(t) >= min_hits]


def _out_edges(n_nodes, s, r, w):
    """For each node, its kept outgoing (target, score) sorted by decreasing score."""
    order = np.lexsort((-w, s))
    s, r, w = s[order], r[order], w[order]
    bounds = np.searchsorted(s, np.arange(n_nodes + 1))
    return [(r[bounds[i] : bounds[i + 1]]) for i in range(n_nodes)]


def _walk(members, in_deg, out_edges, used, min_hits, node_r):
    tracks = []
    rank = np.arange(in_deg.size) if node_r is None else np.asarray(node_r)
    seeds = sorted((int(m) for m in members), key=lambda m: (in_deg[m] > 0, rank[m]))
    for seed in seeds:
        if used[seed]:
            continue
        path = [seed]
        used[seed] = True
        while True:
            step = next((int(t) for t in out_edges[path[-1]] if not used[t]), None)
            if step is None:
                break
            path.append(step)
            used[step] = True
        if len(path) >= min_hits:
            tracks.append(np.asarray(path))
    return tracks
