"""Hit graphs for GNN tracking: nodes are hits, edges are candidate track segments.

Edges join a hit on barrel layer ``l`` to a hit on layer ``l + 1`` (and, optionally, ``l + 2``)
when the segment passes three geometric cuts, as in the HEP.TrkX / Exa.TrkX module-map-free graph
construction (Farrell et al. 2018; DeZoort et al. 2021, "Charged particle tracking via
edge-classifying interaction networks"):

* ``|dphi / dr| <= max_phi_slope`` (rad/mm): a low-pT track bends, so its azimuth changes fast;
* ``|z0| <= max_z0`` (mm), the segment extrapolated to the beam line (r = 0);
* ``|deta| <= max_deta``, the pseudorapidity change between the two hits seen from the origin.

:func:`derive_cuts` reads the cut values off the simulated truth: the given quantile of every true
segment of particles above a pT threshold, widened by a margin. A segment is *true* when its two
hits belong to the same particle and are consecutive along its trajectory (``Hits.order`` differs
by one). Only barrel hits take part; disk hits are ignored.

Units: mm and rad throughout. NumPy on the host (graph building is not differentiated).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jraph
import numpy as np

from hepjax.detector.tracker import Hits, TrackerGeometry

N_NODE_FEATURES = 4  # r/1000, cos phi, sin phi, z/1000
N_EDGE_FEATURES = 7  # dr, dphi, dz, deta, phi slope, z0, segment eta = asinh(dz/dr) (each scaled to O(1))


@dataclasses.dataclass(frozen=True)
class SegmentCuts:
    """Geometric cuts on a candidate segment (hit on inner layer -> hit on outer layer)."""

    max_phi_slope: float  # rad / mm
    max_z0: float  # mm
    max_deta: float


class EventGraph(NamedTuple):
    """One event's hit graph (numpy, host side).

    Attributes:
      nodes: float32 ``[n_hits, 4]`` scaled hit features (r/1000, cos phi, sin phi, z/1000).
      edges: float32 ``[n_edges, 7]`` scaled segment features.
      senders, receivers: int32 ``[n_edges]`` node indices, inner hit -> outer hit.
      y: float32 ``[n_edges]`` 1 for true segments, else 0.
      edge_pt: float32 ``[n_edges]`` pT (GeV) of the particle of a true segment, 0 otherwise.
      hit_index: int32 ``[n_hits]`` index of each node into the event's :class:`Hits`.
      particle_id: int32 ``[n_hits]`` truth particle of each node (-1 noise).
    """

    nodes: np.ndarray
    edges: np.ndarray
    senders: np.ndarray
    receivers: np.ndarray
    y: np.ndarray
    edge_pt: np.ndarray
    hit_index: np.ndarray
    particle_id: np.ndarray

    @property
    def n_node(self) -> int:
        return int(self.nodes.shape[0])

    @property
    def n_edge(self) -> int:
        return int(self.senders.shape[0])

    def to_graphs_tuple(self) -> jraph.GraphsTuple:
        """The unpadded jraph view (what :func:`hepjax.nn.padding.pad_graph` pads): ``nodes={"x"}``,
        ``edges={"x", "y", "pt"}``, one graph."""
        return jraph.GraphsTuple(
            nodes={"x": self.nodes},
            edges={"x": self.edges, "y": self.y, "pt": self.edge_pt},
            senders=self.senders,
            receivers=self.receivers,
            n_node=np.array([self.n_node], np.int32),
            n_edge=np.array([self.n_edge], np.int32),
            globals=None,
        )


def check_hits(hits: Hits, geometry: TrackerGeometry, *, tolerance: float = 5.0) -> None:
    """Raise a ``ValueError`` naming the problem if ``hits`` cannot come from ``geometry``.

    Checked: equal field lengths, finite positions, layer ids in range, barrel hits within
    ``tolerance`` mm of their layer radius and inside its half-length.
    """
    n = {f: np.shape(v) for f, v in zip(Hits._fields, hits)}
    if len({s for s in n.values()}) != 1 or len(next(iter(n.values()))) != 1:
        raise ValueError(f"hits fields must be 1-D arrays of one length, got shapes {n}")
    for f in ("x", "y", "z"):
        if not np.isfinite(getattr(hits, f)).all():
            raise ValueError(f"hits.{f} has non-finite values")
    lay = np.asarray(hits.layer)
    if lay.size and (lay.min() < 0 or lay.max() >= geometry.n_layers):
        raise ValueError(
            f"hits.layer outside the geometry: ids {lay.min()}..{lay.max()}, geometry has {geometry.n_layers} layers"
        )
    barrel = lay < geometry.n_barrel
    if barrel.any():
        r = np.hypot(hits.x, hits.y)[barrel]
        radius = np.asarray(geometry.barrel_radii)[lay[barrel]]
        half = np.asarray(geometry.barrel_half_lengths)[lay[barrel]]
        off = np.abs(r - radius) > tolerance
        if off.any():
            k = int(np.argmax(off))
            raise ValueError(
                f"{int(off.sum())} hit(s) lie outside their barrel layer, e.g. r = {r[k]:.1f} mm on layer {lay[barrel][k]} (radius {radius[k]} mm)"
            )
        out = np.abs(np.asarray(hits.z)[barrel]) > half + tolerance
        if out.any():
            raise ValueError(f"{int(out.sum())} hit(s) lie beyond the barrel half-length in z")


def _segment_quantities(r1, phi1, z1, r2, phi2, z2):
    dr = r2 - r1
    dphi = np.angle(np.exp(1j * (phi2 - phi1)))
    dz = z2 - z1
    slope = dphi / dr
    z0 = z1 - r1 * dz / dr
    eta1 = np.arcsinh(z1 / r1)
    eta2 = np.arcsinh(z2 / r2)
    return dr, dphi, dz, eta2 - eta1, slope, z0


def true_segments(hits: Hits, n_barrel: int, *, skip: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (inner, outer) of consecutive barrel hits of the same particle whose layers
    differ by 1..``skip`` (so hits separated by a missing layer count when ``skip = 2``)."""
    pid, order, lay = np.asarray(hits.particle_id), np.asarray(hits.order), np.asarray(hits.layer)
    key = np.lexsort((order, pid))
    a, b = key[:-1], key[1:]
    ok = (pid[a] == pid[b]) & (pid[a] >= 0) & (order[b] == order[a] + 1)
    ok &= (lay[a] < n_barrel) & (lay[b] < n_barrel) & (lay[b] - lay[a] >= 1) & (lay[b] - lay[a] <= skip)
    return a[ok], b[ok]


def derive_cuts(
    events: list[tuple[Hits, np.ndarray]],
    geometry: TrackerGeometry,
    *,
    pt_min: float = 1.0,
    quantile: float = 0.999,
    margin: float = 1.1,
    skip: int = 1,
) -> SegmentCuts:
    """Cut values that keep ``quantile`` of true segments of particles with pT > ``pt_min``.

    Args:
      events: ``(hits, particle_pt)`` per event, ``particle_pt`` GeV indexed by ``hits.particle_id``.
      geometry: the tracker the hits come from.
      quantile: fraction of target segments each cut alone keeps before the margin.
      margin: multiplicative widening of every cut.
    """
    slope, z0, deta = [], [], []
    for hits, pt in events:
        a, b = true_segments(hits, geometry.n_barrel, skip=skip)
        sel = np.asarray(pt)[hits.particle_id[a]] > pt_min
        a, b = a[sel], b[sel]
        q = _segment_quantities(
            hits.r[a].astype(np.float64),
            hits.phi[a].astype(np.float64),
            hits.z[a].astype(np.float64),
            hits.r[b].astype(np.float64),
            hits.phi[b].astype(np.float64),
            hits.z[b].astype(np.float64),
        )
        slope.append(np.abs(q[4]))
        z0.append(np.abs(q[5]))
        deta.append(np.abs(q[3]))
    slope, z0, deta = (np.concatenate(v) for v in (slope, z0, deta))
    if slope.size < 10:
        raise ValueError(f"derive_cuts needs true segments of particles with pT > {pt_min} GeV; found {slope.size}")
    return SegmentCuts(
        float(np.quantile(slope, quantile) * margin),
        float(np.quantile(z0, quantile) * margin),
        float(np.quantile(deta, quantile) * margin),
    )


def build_graph(
    hits: Hits, particle_pt: np.ndarray, geometry: TrackerGeometry, cuts: SegmentCuts, *, skip: int = 1
) -> EventGraph:
    """Build the segment graph of one event.

    Args:
      hits: the event's hits (checked with :func:`check_hits`).
      particle_pt: GeV, ``[n_particles]``, indexed by ``hits.particle_id`` (labels and metrics).
      geometry: the tracker.
      cuts: segment cuts, e.g. from :func:`derive_cuts`.
      skip: largest layer difference of an edge (1: adjacent layers; 2: also skip one layer).

    Returns:
      :class:`EventGraph`; nodes are the barrel hits in the order of ``hits``. An event with no
      hits or a single layer gives a graph with no edges (or no nodes).
    """
    check_hits(hits, geometry)
    node_hits = np.flatnonzero(np.asarray(hits.layer) < geometry.n_barrel).astype(np.int32)
    r = hits.r[node_hits].astype(np.float64)
    phi = hits.phi[node_hits].astype(np.float64)
    z = hits.z[node_hits].astype(np.float64)
    lay = hits.layer[node_hits]
    pid = hits.particle_id[node_hits]
    nodes = np.stack([r / 1000.0, np.cos(phi), np.sin(phi), z / 1000.0], axis=1).astype(np.float32)

    snd, rcv = [], []
    for l1 in range(geometry.n_barrel):
        inner = np.flatnonzero(lay == l1)
        for l2 in range(l1 + 1, min(l1 + skip, geometry.n_barrel - 1) + 1):
            outer = np.flatnonzero(lay == l2)
            if inner.size == 0 or outer.size == 0:
                continue
            s, t = _window_pairs(inner, outer, phi, geometry.barrel_radii[l2] - geometry.barrel_radii[l1], cuts)
            snd.append(s)
            rcv.append(t)
    snd = np.concatenate(snd) if snd else np.zeros(0, np.int64)
    rcv = np.concatenate(rcv) if rcv else np.zeros(0, np.int64)
    q = _segment_quantities(r[snd], phi[snd], z[snd], r[rcv], phi[rcv], z[rcv])
    keep = (np.abs(q[4]) <= cuts.max_phi_slope) & (np.abs(q[5]) <= cuts.max_z0) & (np.abs(q[3]) <= cuts.max_deta)
    snd, rcv = snd[keep], rcv[keep]
    dr, dphi, dz, deta, slope, z0 = (v[keep] for v in q)
    # the segment's own direction asinh(dz/dr) is the particle's eta whatever the vertex z; deta, from
    # the hits' positions, is not (at r = 32 mm a vertex 50 mm off shifts it by ~0.2 in the forward region)
    edges = np.stack(
        [dr / 500.0, dphi / 0.05, dz / 500.0, deta / 0.05, slope * 1000.0, z0 / 100.0, np.arcsinh(dz / dr) / 2.0],
        axis=1,
    ).astype(np.float32)

    hit_order = np.asarray(hits.order)[node_hits]
    y = (pid[snd] == pid[rcv]) & (pid[snd] >= 0) & (hit_order[rcv] == hit_order[snd] + 1)
    pt = np.asarray(particle_pt, np.float64)
    edge_pt = np.where(y, pt[np.maximum(pid[snd], 0)] if pt.size else 0.0, 0.0)
    return EventGraph(
        nodes,
        edges,
        snd.astype(np.int32),
        rcv.astype(np.int32),
        y.astype(np.float32),
        edge_pt.astype(np.float32),
        node_hits,
        pid.astype(np.int32),
    )


def segment_particle_hits(graph: EventGraph) -> np.ndarray:
    """Number of graph nodes (barrel hits) of the particle of each edge's inner hit, 0 for a noise
    hit: ``[n_edges]`` int. Read with ``graph.y`` it says how many hits a true segment's particle has."""
    pid = np.asarray(graph.particle_id)
    valid = pid[pid >= 0]
    if graph.n_edge == 0 or valid.size == 0:
        return np.zeros(graph.n_edge, np.int64)
    n_hits = np.bincount(valid)
    ps = pid[graph.senders]
    return np.where(ps >= 0, n_hits[np.maximum(ps, 0)], 0)


def target_segments(graph: EventGraph, *, pt_min: float, min_hits: int) -> np.ndarray:
    """``[n_edges]`` bool: true segments of *target* particles, those with pT > ``pt_min`` (GeV) and
    at least ``min_hits`` hits in the graph (the particles the track efficiency counts)."""
    return (graph.y > 0.5) & (graph.edge_pt > pt_min) & (segment_particle_hits(graph) >= min_hits)


def _window_pairs(inner, outer, phi, dr_nominal, cuts: SegmentCuts):
    """All (inner, outer) node pairs whose azimuths differ by at most the phi-slope window.

    Sorts the outer hits by phi (with a +-2 pi copy for the wrap-around) and takes, for each inner
    hit, the contiguous range inside ``[phi - w, phi + w]`` with ``w = max_phi_slope * dr * 1.05``.
    """
    w = cuts.max_phi_slope * dr_nominal * 1.05 + 1e-6
    order = outer[np.argsort(phi[outer])]
    ph = phi[order]
    ext_phi = np.concatenate([ph - 2 * np.pi, ph, ph + 2 * np.pi])
    ext_idx = np.concatenate([order, order, order])
    lo = np.searchsorted(ext_phi, phi[inner] - w, side="left")
    hi = np.searchsorted(ext_phi, phi[inner] + w, side="right")
    hi = np.minimum(hi, lo + order.size)  # a window wider than 2 pi lists each outer hit once
    count = hi - lo
    s = np.repeat(inner, count)
    start = np.repeat(lo - np.concatenate([[0], np.cumsum(count)[:-1]]), count)
    t = ext_idx[start + np.arange(count.sum())]
    return s, t


def construction_metrics(
    graphs: list[EventGraph],
    hits: list[Hits],
    particle_pts: list[np.ndarray],
    geometry: TrackerGeometry,
    *,
    pt_min: float = 1.0,
    skip: int = 1,
) -> dict:
    """Graph-construction efficiency (true target segments kept / all true target segments) and
    purity (true edges / edges), summed over events."""
    kept = total = n_true = n_edge = 0
    for g, h, pt in zip(graphs, hits, particle_pts):
        a, _ = true_segments(h, geometry.n_barrel, skip=skip)
        total += int((np.asarray(pt)[h.particle_id[a]] > pt_min).sum()) if a.size else 0
        kept += int(((g.y > 0) & (g.edge_pt > pt_min)).sum())
        n_true += int(g.y.sum())
        n_edge += g.n_edge
    return {
        "graph_efficiency": kept / total if total else float("nan"),
        "graph_purity": n_true / n_edge if n_edge else float("nan"),
        "graph_edges_per_event": n_edge / max(len(graphs), 1),
        "graph_nodes_per_event": sum(g.n_node for g in graphs) / max(len(graphs), 1),
    }
