"""Track building from truth edges, branching walk-through, and metrics on hand-computed cases."""

import sys
from pathlib import Path

import numpy as np
import pytest

from hepjax.evaluation import roc_auc
from hepjax.tracking import (
    binned_efficiency,
    build_graph,
    build_tracks,
    derive_cuts,
    edge_metrics,
    match_tracks,
    summarize_tracks,
    track_metrics,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))  # helpers beside the tests (importlib mode)
from tracking_helpers import toy_events


def test_truth_edges_recover_every_track_exactly():
    g, events = toy_events(2, 60, seed=7, noise_density=2e-6)
    cuts = derive_cuts([(h, p.pt) for p, h in events], g, pt_min=1.0)
    p, h = events[0]
    graph = build_graph(h, p.pt, g, cuts)
    cands = build_tracks(graph.n_node, graph.senders, graph.receivers, graph.y, threshold=0.5, min_hits=3)
    # expected: for every particle, its hits connected by true edges of the graph (chains)
    got = sorted(tuple(graph.hit_index[c]) for c in cands)
    true_s, true_r = graph.senders[graph.y > 0], graph.receivers[graph.y > 0]
    nxt = dict(zip(true_s.tolist(), true_r.tolist()))
    starts = set(true_s.tolist()) - set(true_r.tolist())
    expected = []
    for s0 in starts:
        chain = [s0]
        while chain[-1] in nxt:
            chain.append(nxt[chain[-1]])
        if len(chain) >= 3:
            expected.append(tuple(graph.hit_index[chain]))
    assert got == sorted(expected) and len(got) > 30
    for c in cands:  # each candidate is one particle, inside-out
        assert len(set(graph.particle_id[c])) == 1
        assert np.all(np.diff(h.r[graph.hit_index[c]]) > 0)
    m = track_metrics(cands, graph.particle_id, p.pt, pt_min=1.0)
    assert m["n_found"] == m["n_targets"] > 20 and m["n_duplicated"] == 0
    # unmatched candidates are pure fragments (< 50% of their particle's hits) of particles cut apart
    unmatched = [c for c, k in zip(cands, match_tracks(cands, graph.particle_id)) if k < 0]
    for c in unmatched:
        assert 2 * len(c) < (graph.particle_id == graph.particle_id[c[0]]).sum()


def test_walkthrough_resolves_a_branching():
    # chain 0-1-2-3 with a wrong branch 1->4 of lower score and 4->5
    s = np.array([0, 1, 2, 1, 4])
    r = np.array([1, 2, 3, 4, 5])
    w = np.array([0.9, 0.95, 0.9, 0.6, 0.9])
    cands = build_tracks(6, s, r, w, threshold=0.5, min_hits=2)
    assert sorted(map(tuple, cands)) == [(0, 1, 2, 3), (4, 5)]
    assert build_tracks(6, s, r, w, threshold=0.99) == []
    assert build_tracks(0, s[:0], r[:0], w[:0]) == []
    with pytest.raises(ValueError, match="share a shape"):
        build_tracks(6, s, r[:2], w)


def test_double_majority_matching_and_rates_by_hand():
    # hits: particle 0 has 4 hits (0-3), particle 1 has 4 hits (4-7), particle 2 has 3 hits (8-10), noise 11, 12
    hp = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, -1, -1])
    pt = np.array([2.0, 5.0, 0.5])
    cands = [
        np.array([0, 1, 2]),  # 3/4 of p0, 3/3 pure -> p0
        np.array([0, 1, 3, 4]),  # 2/4 of p0... candidate 3/4 p0 -> p0 again (duplicate)
        np.array([4, 5, 11, 12]),  # p1 2/4 of its hits, 2/4 of candidate -> p1 (>= 50%)
        np.array([6, 11, 12]),  # 1/3 -> fake
        np.array([8, 9, 10]),
    ]  # p2 (low pT, not a target, not fake)
    np.testing.assert_array_equal(match_tracks(cands, hp), [0, 0, 1, -1, 2])
    m = track_metrics(cands, hp, pt, pt_min=1.0, min_hits=3)
    assert (m["n_targets"], m["n_found"], m["n_candidates"], m["n_fake"], m["n_duplicated"]) == (2, 2, 5, 1, 1)
    s = summarize_tracks([m, track_metrics([], hp, pt)])
    assert s["track_efficiency"] == pytest.approx(2 / 4) and s["fake_rate"] == pytest.approx(1 / 5)
    assert s["duplicate_rate"] == pytest.approx(1 / 2)
    empty = summarize_tracks([track_metrics([], np.zeros(0, int), np.zeros(0))])
    assert np.isnan(empty["track_efficiency"]) and np.isnan(empty["fake_rate"])


def test_edge_metrics_and_auc_by_hand():
    scores = np.array([0.9, 0.8, 0.4, 0.7, 0.2, 0.6])
    y = np.array([1, 1, 1, 0, 0, 0])
    pt = np.array([2.0, 0.5, 3.0, 0, 0, 0])
    m = edge_metrics(scores, y, pt, threshold=0.5, pt_min=1.0)
    assert m["edge_efficiency"] == pytest.approx(1 / 2)  # targets: edges 0 and 2; edge 0 selected
    assert m["edge_purity"] == pytest.approx(2 / 4)  # selected 0, 1, 3, 5
    # pairs (pos, neg): 0.9 beats all 3, 0.8 all 3, 0.4 beats 0.2 only -> 7/9
    assert m["edge_auc"] == pytest.approx(7 / 9)
    # targets 0 (0.9) and 2 (0.4) vs the other four: 0.9 beats all 4, 0.4 beats 0.2 only -> 5/8
    assert m["edge_auc_target"] == pytest.approx(5 / 8)
    # edge 0's particle has only 2 hits: no longer a target, but still in the all-segments figure
    m = edge_metrics(scores, y, pt, threshold=0.5, pt_min=1.0, edge_hits=np.array([2, 5, 4, 0, 0, 0]), min_hits=3)
    assert m["edge_efficiency"] == pytest.approx(0 / 1)  # the only target, edge 2, scores 0.4
    assert m["edge_efficiency_all_segments"] == pytest.approx(1 / 2)
    assert m["edge_auc_target"] == pytest.approx(1 / 5)  # 0.4 beats 0.2 only, of five others
    assert roc_auc(np.array([0.5, 0.5]), np.array([1, 0])) == pytest.approx(0.5)
    rng = np.random.default_rng(0)
    s, lab = rng.random(2000), rng.random(2000) > 0.5
    ref = np.mean(s[lab][:, None] > s[~lab][None, :])
    assert roc_auc(s, lab) == pytest.approx(ref, abs=1e-12)
    _, eff, _ = binned_efficiency(
        np.array([1.5, 1.5, 3.0, 7.0]), np.array([1, 0, 1, 1]), np.array([1.0, 2.0, 5.0, 10.0])
    )
    np.testing.assert_allclose(eff, [0.5, 1.0, 1.0])


def test_working_point_scan_picks_the_best_threshold_by_hand():
    from hepjax.tracking.events import TrackingEvent
    from hepjax.tracking.pipeline import EvalConfig, GraphConfig, choose_threshold, evaluate

    g, events = toy_events(2, 60, seed=5, noise_density=2e-5)
    gcfg = GraphConfig(pt_min=1.0)
    cuts = derive_cuts([(h, p.pt) for p, h in events], g, pt_min=1.0)
    graphs = [build_graph(h, p.pt, g, cuts) for p, h in events]
    evs = [TrackingEvent(p, np.zeros(p.pt.size, np.int32), h) for p, h in events]
    # true edges score 0.45 and false ones 0.35: 0.4 selects exactly the truth, 0.3 every edge
    # (noise hits join tracks: more fakes), 0.5 nothing (no tracks, NaN fake rate: the worst)
    scores = [np.where(gr.y > 0, 0.45, 0.35) for gr in graphs]
    ecfg = EvalConfig(bridge_gaps=False, threshold_scan=(0.5, 0.3, 0.4))
    t, rows = choose_threshold(evs, graphs, scores, gcfg, ecfg)
    assert t == 0.4 and [r["threshold"] for r in rows] == [0.3, 0.4, 0.5]
    m, _ = evaluate(evs, graphs, scores, gcfg, EvalConfig(bridge_gaps=False, threshold=0.4))
    assert rows[1]["track_efficiency"] == m["track_efficiency"] and rows[1]["fake_rate"] == m["fake_rate"]
    assert m["edge_efficiency"] == 1.0 and m["edge_purity"] == 1.0
    assert rows[0]["fake_rate"] > rows[1]["fake_rate"] and rows[0]["edge_purity"] < 1.0
    assert rows[2]["track_efficiency"] == 0.0 and np.isnan(rows[2]["fake_rate"])
    with pytest.raises(ValueError, match="threshold_scan"):
        choose_threshold(evs, graphs, scores, gcfg, EvalConfig(bridge_gaps=False))
