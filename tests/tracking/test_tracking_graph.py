"""Graph construction: every true segment passing the cuts is kept; bucket padding; bad input."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from hepjax.detector.tracker import Hits
from hepjax.nn.padding import Bucket, GraphBatches, choose_bucket, make_buckets, pad_graph
from hepjax.tracking import (
    SegmentCuts,
    build_graph,
    construction_metrics,
    derive_cuts,
    segment_particle_hits,
    target_segments,
    true_segments,
)
from hepjax.tracking.graph import _segment_quantities

sys.path.insert(0, str(Path(__file__).resolve().parent))  # helpers beside the tests (importlib mode)
from tracking_helpers import toy_events


def brute_force_edges(hits, g, cuts, skip=1):
    """Slow reference: all pairs of hits (a full n x n matrix) on layers l -> l+1..l+skip, cut by cuts."""
    A, B = np.meshgrid(np.arange(hits.n), np.arange(hits.n), indexing="ij")
    A, B = A.ravel(), B.ravel()
    dl = hits.layer[B] - hits.layer[A]
    ok = (hits.layer[B] < g.n_barrel) & (dl >= 1) & (dl <= skip)
    A, B = A[ok], B[ok]
    f = lambda v, i: v[i].astype(np.float64)
    q = _segment_quantities(f(hits.r, A), f(hits.phi, A), f(hits.z, A), f(hits.r, B), f(hits.phi, B), f(hits.z, B))
    keep = (np.abs(q[4]) <= cuts.max_phi_slope) & (np.abs(q[5]) <= cuts.max_z0) & (np.abs(q[3]) <= cuts.max_deta)
    return {(int(a), int(b)) for a, b in zip(A[keep], B[keep])}


@pytest.mark.parametrize("skip", [1, 2])
def test_graph_equals_brute_force_and_keeps_true_segments(skip):
    g, events = toy_events(3, 60, seed=1, noise_density=2e-6)
    cuts = derive_cuts([(h, p.pt) for p, h in events], g, pt_min=1.0, skip=skip)
    p, h = events[0]
    graph = build_graph(h, p.pt, g, cuts, skip=skip)
    got = {(int(graph.hit_index[s]), int(graph.hit_index[r])) for s, r in zip(graph.senders, graph.receivers)}
    assert got == brute_force_edges(h, g, cuts, skip)
    # every true segment that passes the cuts is an edge labelled true, with its particle's pT
    a, b = true_segments(h, g.n_barrel, skip=skip)
    q = _segment_quantities(h.r[a], h.phi[a], h.z[a], h.r[b], h.phi[b], h.z[b])
    passing = (np.abs(q[4]) <= cuts.max_phi_slope) & (np.abs(q[5]) <= cuts.max_z0) & (np.abs(q[3]) <= cuts.max_deta)
    true_edges = {
        (int(graph.hit_index[s]), int(graph.hit_index[r]))
        for s, r, y in zip(graph.senders, graph.receivers, graph.y)
        if y
    }
    assert {(int(x), int(y)) for x, y in zip(a[passing], b[passing])} == true_edges
    np.testing.assert_allclose(
        graph.edge_pt[graph.y > 0], p.pt[h.particle_id[graph.hit_index[graph.senders[graph.y > 0]]]]
    )


def test_construction_efficiency_high_for_target_particles():
    g, events = toy_events(4, 80, seed=2)
    cuts = derive_cuts([(h, p.pt) for p, h in events], g, pt_min=1.0)
    graphs = [build_graph(h, p.pt, g, cuts) for p, h in events]
    m = construction_metrics(graphs, [h for _, h in events], [p.pt for p, _ in events], g)
    assert m["graph_efficiency"] > 0.99 and 0 < m["graph_purity"] <= 1


def test_empty_single_layer_and_outside_hits():
    g, events = toy_events(1, 20, seed=3)
    p, h = events[0]
    cuts = SegmentCuts(1e-3, 200.0, 1.0)
    empty = Hits(*(v[:0] for v in h))
    graph = build_graph(empty, p.pt, g, cuts)
    assert graph.n_node == 0 and graph.n_edge == 0
    one = Hits(*(v[h.layer == 3] for v in h))
    graph = build_graph(one, p.pt, g, cuts)
    assert graph.n_node == int((h.layer == 3).sum()) and graph.n_edge == 0
    bad = h._replace(x=h.x * 1.5)
    with pytest.raises(ValueError, match="outside their barrel layer"):
        build_graph(bad, p.pt, g, cuts)
    with pytest.raises(ValueError, match="layer outside the geometry"):
        build_graph(h._replace(layer=h.layer + 20), p.pt, g, cuts)
    with pytest.raises(ValueError, match="non-finite"):
        build_graph(h._replace(z=np.full_like(h.z, np.nan)), p.pt, g, cuts)


def test_buckets_pad_and_overflow_warns():
    g, events = toy_events(4, 40, seed=4)
    cuts = derive_cuts([(h, p.pt) for p, h in events], g, pt_min=1.0)
    graphs = [build_graph(h, p.pt, g, cuts) for p, h in events]
    buckets = make_buckets(graphs, 2)
    assert all(choose_bucket(gr, buckets)[0] in buckets for gr in graphs)
    padded = pad_graph(graphs[0], buckets[-1])
    assert padded.nodes["x"].shape == (buckets[-1].n_node, 4) and padded.senders.shape == (buckets[-1].n_edge,)
    np.testing.assert_array_equal(padded.edges["y"][: graphs[0].n_edge], graphs[0].y)
    assert padded.edges["y"][graphs[0].n_edge :].sum() == 0
    tiny = [Bucket(8, 8)]
    with pytest.warns(UserWarning, match="exceeds every bucket"):
        b, new = choose_bucket(graphs[0], tiny)
    assert b.n_node > graphs[0].n_node and b.n_edge >= graphs[0].n_edge and b in new
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        src = GraphBatches(graphs, tiny, batch_size=2, seed=0)
    batch = src.batch(0)
    assert batch.nodes["x"].shape[0] == 2 and batch.senders.shape[0] == 2
    # deterministic in the step
    again = GraphBatches(graphs, src.buckets, batch_size=2, seed=0).batch(0)
    np.testing.assert_array_equal(batch.senders, again.senders)


def test_target_segments_by_hand():
    from hepjax.tracking.graph import EventGraph

    # particle 0: nodes 0-1-2 (3 hits, pT 2); particle 1: nodes 3-4 (2 hits, pT 5); node 5 noise
    pid = np.array([0, 0, 0, 1, 1, -1])
    snd, rcv = np.array([0, 1, 3, 5, 0]), np.array([1, 2, 4, 2, 4])
    y = np.array([1, 1, 1, 0, 0], np.float32)
    g = EventGraph(
        np.zeros((6, 4), np.float32),
        np.zeros((5, 7), np.float32),
        snd,
        rcv,
        y,
        np.array([2.0, 2.0, 5.0, 0.0, 0.0], np.float32),
        np.arange(6),
        pid,
    )
    np.testing.assert_array_equal(segment_particle_hits(g), [3, 3, 2, 0, 3])
    np.testing.assert_array_equal(target_segments(g, pt_min=1.0, min_hits=3), [1, 1, 0, 0, 0])
    np.testing.assert_array_equal(target_segments(g, pt_min=1.0, min_hits=2), [1, 1, 1, 0, 0])
    np.testing.assert_array_equal(target_segments(g, pt_min=3.0, min_hits=2), [0, 0, 1, 0, 0])
    empty = g._replace(
        senders=np.zeros(0, int), receivers=np.zeros(0, int), y=np.zeros(0), edge_pt=np.zeros(0), edges=np.zeros((0, 7))
    )
    assert segment_particle_hits(empty).shape == (0,)


def test_target_training_labels_keep_only_true_segments_above_pt_min():
    from hepjax.tracking.pipeline import GraphConfig, training_graphs

    g, events = toy_events(2, 40, seed=3)
    cuts = derive_cuts([(h, p.pt) for p, h in events], g, pt_min=1.0)
    graphs = [build_graph(h, p.pt, g, cuts) for p, h in events]
    assert training_graphs(graphs, GraphConfig(train_labels="all")) is graphs
    for (p, _), gr, tr in zip(
        events, graphs, training_graphs(graphs, GraphConfig(pt_min=2.0, target_min_hits=4, train_labels="target"))
    ):
        # by hand: a label survives when the segment is true and its particle has pT > 2 GeV and >= 4 graph hits
        pid = gr.particle_id[gr.senders]
        pt = p.pt[np.maximum(pid, 0)]
        n_hits = np.array([(gr.particle_id == k).sum() for k in pid])
        expected = (gr.y > 0) & (pt > 2.0) & (n_hits >= 4)
        np.testing.assert_array_equal(tr.y > 0, expected)
        assert 0 < expected.sum() < (gr.y > 0).sum()  # the case really drops soft segments
        np.testing.assert_array_equal(tr.senders, gr.senders)
