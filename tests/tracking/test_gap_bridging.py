"""Gap bridging: fragments of one particle split by a missing layer or a rejected edge are joined;
fragments of different particles are not; cuts come from truth."""

import sys
from pathlib import Path

import numpy as np
import pytest

from hepjax.tracking import build_graph, build_tracks, derive_cuts, match_tracks
from hepjax.tracking.gap_bridging import BridgeCuts, bridge_gaps, derive_bridge_cuts

sys.path.insert(0, str(Path(__file__).resolve().parent))  # helpers beside the tests (importlib mode)
from tracking_helpers import toy_events


def _helix_hits(phi0, z0, cot, slope, radii):
    """A track of constant phi slope dphi/dr and a straight r-z line: (r, phi, z) per layer."""
    r = np.asarray(radii, float)
    return r, phi0 + slope * r, z0 + cot * r


def test_bridge_joins_one_particle_and_keeps_two_apart():
    radii = np.array([30.0, 70, 110, 160, 220, 290, 370, 460])
    ra, pa, za = _helix_hits(0.3, 5.0, 0.5, 2e-4, radii)
    rb, pb, zb = _helix_hits(-2.0, -40.0, -1.0, -1e-4, radii)
    r, phi, z = np.r_[ra, rb], np.r_[pa, pb], np.r_[za, zb]
    layer = np.r_[np.arange(8), np.arange(8)]
    cuts = BridgeCuts(max_dslope=1e-5, max_dz0=1.0)
    # particle A: layer 3 missing (gap of 2); particle B: split at an edge between layers 4 and 5 (gap 1)
    paths = [np.array([0, 1, 2]), np.array([4, 5, 6, 7]), np.array([8, 9, 10, 11, 12]), np.array([13, 14, 15])]
    out = sorted(tuple(p) for p in bridge_gaps(paths, layer, r, phi, z, cuts))
    assert out == [(0, 1, 2, 4, 5, 6, 7), (8, 9, 10, 11, 12, 13, 14, 15)]
    # max_gap=1 rejoins only the split particle; a cut tighter than the residuals joins nothing
    out1 = sorted(tuple(p) for p in bridge_gaps(paths, layer, r, phi, z, cuts, max_gap=1))
    assert out1 == [(0, 1, 2), (4, 5, 6, 7), (8, 9, 10, 11, 12, 13, 14, 15)]
    z_off = z.copy()
    z_off[4:8] += 30.0  # A's outer fragment no longer points at A's inner one
    out2 = sorted(tuple(p) for p in bridge_gaps(paths, layer, r, phi, z_off, cuts))
    assert (0, 1, 2) in out2 and (4, 5, 6, 7) in out2


def test_bridge_never_crosses_particles_in_a_busy_event():
    g, events = toy_events(3, 150, seed=11, noise_density=2e-6)
    truth = [(h, p.pt) for p, h in events]
    cuts = derive_cuts(truth, g, pt_min=1.0)
    bcuts = derive_bridge_cuts(truth, g, pt_min=1.0)
    assert 0 < bcuts.max_dslope < cuts.max_phi_slope and 0 < bcuts.max_dz0 < cuts.max_z0
    p, h = events[0]
    graph = build_graph(h, p.pt, g, cuts)
    geom = tuple(np.asarray(v)[graph.hit_index] for v in (h.layer, h.r, h.phi, h.z))
    plain = build_tracks(graph.n_node, graph.senders, graph.receivers, graph.y, min_hits=3)
    bridged = build_tracks(
        graph.n_node, graph.senders, graph.receivers, graph.y, min_hits=3, node_geometry=geom, bridge_cuts=bcuts
    )
    for c in bridged:  # truth scores: every join is within one particle, inside-out
        assert len(set(graph.particle_id[c])) == 1
        assert np.all(np.diff(h.r[graph.hit_index[c]]) > 0)
    fakes = lambda cands: int((match_tracks(cands, graph.particle_id) < 0).sum())
    assert fakes(plain) > 0 and fakes(bridged) < fakes(plain)
    assert len(bridged) < len(plain)


def test_bad_input():
    with pytest.raises(ValueError, match="node_geometry"):
        build_tracks(3, np.array([0, 1]), np.array([1, 2]), np.ones(2), bridge_cuts=BridgeCuts(1.0, 1.0))
    g, events = toy_events(1, 2, seed=3, noise_density=0.0)
    with pytest.raises(ValueError, match="derive_bridge_cuts needs"):
        derive_bridge_cuts([(h, p.pt * 0) for p, h in events], g, pt_min=1.0)
