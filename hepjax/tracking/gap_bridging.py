"""Join track fragments across a rejected edge or one missing layer.

A hit lost to the sensor inefficiency splits a particle's chain of adjacent-layer segments into two
fragments, and so does a true segment the edge classifier scores below threshold. Under the
double-majority rule the shorter fragment is a fake (it holds under half of the particle's hits)
and the longer may fall under 50% too. Measured on the default tracking sample: with perfect
(truth) edge scores every fake candidate is such a pure fragment (fake rate 0.022, 0.0005 after
bridging); with the trained classifier about half of the fakes are.

:func:`bridge_gaps` joins fragment ``A`` (outermost hit on layer ``L``) to fragment ``B``
(innermost hit on layer ``L + 1`` or ``L + 2``) when the joining segment continues both: its phi
slope ``dphi/dr`` and its beam-line intercept ``z0`` must agree with those of ``A``'s last and
``B``'s first segment within :class:`BridgeCuts`. A helix from the beam line has a near-constant
``dphi/dr`` (``1 / 2R`` for ``r << R``) and a straight ``r``-``z`` line, so true joins agree up to
multiple scattering and resolution. The cuts come from the truth of training events
(:func:`derive_bridge_cuts`): each target particle's hits with one middle hit taken out stand for
a gap, and the residual quantiles (times a margin) are the cuts, like the segment cuts of
:func:`hepjax.tracking.graph.derive_cuts`. Candidate joins are accepted greedily, best-agreeing
first, each fragment end at most once.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hepjax.detector.tracker import Hits, TrackerGeometry
from hepjax.tracking.graph import _segment_quantities


class BridgeCuts(NamedTuple):
    """Largest residuals of a join: ``|dphi/dr|`` difference (rad/mm) and ``z0`` difference (mm)."""

    max_dslope: float
    max_dz0: float


def _slope_z0(r1, phi1, z1, r2, phi2, z2):
    q = _segment_quantities(r1, phi1, z1, r2, phi2, z2)
    return q[4], q[5]


def _join_residuals(r, phi, z, a1, a2, b1, b2):
    """Residuals ``(dslope, dz0)`` of joining segment ``a1 -> a2`` to ``b1 -> b2`` through ``a2 -> b1``.

    Index arrays broadcast together; each residual is the larger of the join's disagreement with
    the segment before it and the one after it.
    """
    g = lambda i: (r[i], phi[i], z[i])
    sa, za = _slope_z0(*g(a1), *g(a2))
    sj, zj = _slope_z0(*g(a2), *g(b1))
    sb, zb = _slope_z0(*g(b1), *g(b2))
    return np.maximum(np.abs(sj - sa), np.abs(sj - sb)), np.maximum(np.abs(zj - za), np.abs(zj - zb))


def derive_bridge_cuts(
    events: list[tuple[Hits, np.ndarray]],
    geometry: TrackerGeometry,
    *,
    pt_min: float = 1.0,
    quantile: float = 0.999,
    margin: float = 1.1,
) -> BridgeCuts:
    """Cuts that keep ``quantile`` of the joins of target particles' fragments (times ``margin``).

    For every five consecutive barrel hits ``a b c d e`` of a particle with pT > ``pt_min`` on
    consecutive layers, ``c`` is taken out and the join ``b -> d`` of ``a b`` and ``d e`` measured.
    """
    ds_all, dz_all = [], []
    for hits, pt in events:
        pid, order, lay = (np.asarray(v) for v in (hits.particle_id, hits.order, hits.layer))
        key = np.lexsort((order, pid))
        if key.size < 5:
            continue
        w = np.stack([key[i : key.size - 4 + i] for i in range(5)])  # [5, n]: windows of 5 hits
        ok = (pid[w] == pid[w[0]]).all(0) & (pid[w[0]] >= 0) & (np.diff(order[w], axis=0) == 1).all(0)
        ok &= (lay[w] < geometry.n_barrel).all(0) & (np.diff(lay[w], axis=0) == 1).all(0)
        ok &= np.asarray(pt)[np.maximum(pid[w[0]], 0)] > pt_min
        a, b, _, d, e = w[:, ok]
        r, phi, z = (np.asarray(v, np.float64) for v in (hits.r, hits.phi, hits.z))
        ds, dz = _join_residuals(r, phi, z, a, b, d, e)
        ds_all.append(ds)
        dz_all.append(dz)
    ds, dz = (np.concatenate(v) if v else np.zeros(0) for v in (ds_all, dz_all))
    if ds.size < 10:
        raise ValueError(
            f"derive_bridge_cuts needs particles with pT > {pt_min} GeV crossing 5 consecutive layers; found {ds.size} windows"
        )
    return BridgeCuts(float(np.quantile(ds, quantile) * margin), float(np.quantile(dz, quantile) * margin))


def bridge_gaps(
    paths: list[np.ndarray],
    layer: np.ndarray,
    r: np.ndarray,
    phi: np.ndarray,
    z: np.ndarray,
    cuts: BridgeCuts,
    *,
    max_gap: int = 2,
) -> list[np.ndarray]:
    """Join fragments across a rejected edge or one missing layer; returns the new list of paths.

    Args:
      paths: candidate hit chains ordered inside-out; chains of fewer than 2 hits are passed through
        (they give no direction to join along).
      layer, r, phi, z: per-node barrel layer, radius (mm), azimuth (rad) and z (mm).
      cuts: :class:`BridgeCuts`.
      max_gap: largest layer difference of a join: 1 rejoins fragments the edge classifier split
        (the joining segment scored below threshold), 2 also bridges one missing layer.
    """
    layer, r, phi, z = np.asarray(layer), *(np.asarray(v, np.float64) for v in (r, phi, z))
    idx = [k for k, p in enumerate(paths) if len(p) >= 2]
    if len(idx) < 2:
        return list(paths)
    first = np.array([paths[k][0] for k in idx])
    second = np.array([paths[k][1] for k in idx])
    last = np.array([paths[k][-1] for k in idx])
    before_last = np.array([paths[k][-2] for k in idx])
    gap = layer[first][None, :] - layer[last][:, None]  # [A, B]: layers from A's outer end to B's inner end
    ia, ib = np.nonzero((gap >= 1) & (gap <= max_gap))
    if ia.size == 0:
        return list(paths)
    ds, dz = _join_residuals(r, phi, z, before_last[ia], last[ia], first[ib], second[ib])
    ok = (ds <= cuts.max_dslope) & (dz <= cuts.max_dz0)
    ia, ib = ia[ok], ib[ok]
    score = ds[ok] / max(cuts.max_dslope, 1e-30) + dz[ok] / max(cuts.max_dz0, 1e-30)
    nxt = np.full(len(idx), -1)
    has_prev = np.zeros(len(idx), bool)
    for j in np.argsort(score, kind="stable"):
        a, b = ia[j], ib[j]
        if nxt[a] < 0 and not has_prev[b]:
            nxt[a], has_prev[b] = b, True
    out = [p for p in paths if len(p) < 2]
    for a in np.flatnonzero(~has_prev):
        parts, k = [], a
        while k >= 0:
            parts.append(np.asarray(paths[idx[k]]))
            k = nxt[k]
        out.append(np.concatenate(parts))
    return out
