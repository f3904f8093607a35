"""Event-level figures of particle-flow outputs: missing pT, jets matched to generator jets, responses.

Definitions (as in MLPF's evaluation, arXiv 2101.08578 and its code):

* **MET**: the negative vector sum of the particles' pT, ``(MET_x, MET_y)`` and ``|MET|`` (GeV)
  (:func:`met`). MET resolution (:func:`met_resolution`): IQR / 1.349 of ``MET_reco,x − MET_gen,x`` and of
  the y component (pooled), in GeV, with the generator MET from the visible generator particles
  within the calorimeters' |η| < 5 (neutrinos excluded — the detector's own resolution, not the
  neutrinos, is measured) — and the median and IQR / median of ``|MET_reco| / |MET_gen|`` for events
  with ``|MET_gen|`` > 20 GeV.
* **Jets**: anti-kT R = 0.4 (FastJet, :func:`hepjax.data.cluster_jets`) on the reconstructed particles
  and on the visible generator particles (neutrinos excluded); each generator jet is matched to the
  nearest reconstructed jet within ΔR < 0.1 (:func:`match_jets`). Response = pT,reco / pT,gen; per bin
  of generator pT the median response and the resolution IQR / median (:func:`binned_response`;
  default bins 30–50, 50–100, 100–300 GeV, and 30–100 GeV together).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hepjax.data.jets import cluster_jets
from hepjax.data.particles import DTYPES, FIELDS, Particles
from hepjax.detector.species import INVISIBLE, species
from hepjax.errors import DataError
from hepjax.kinematics import delta_r

#: Generator-jet pT bins (GeV) of the issue, and the 30–100 GeV range of the MLPF comparison.
JET_BINS = ((30.0, 50.0), (50.0, 100.0), (100.0, 300.0), (30.0, 100.0))


def as_particles(pt, eta, phi, mask, *, mass=None, pdg=None, charge=None) -> Particles:
    """Host :class:`~hepjax.data.particles.Particles` ``[n_events, n]`` from candidate arrays (massless by default)."""
    pt = np.asarray(pt, np.float32)
    m = np.asarray(mask, bool) & np.isfinite(pt) & (pt > 0)
    zero = np.zeros_like(pt)
    cols = dict(
        pt=pt,
        eta=np.asarray(eta),
        phi=np.asarray(phi),
        mass=zero if mass is None else np.asarray(mass),
        pdg=np.zeros(pt.shape, np.int32) if pdg is None else np.asarray(pdg),
        charge=zero if charge is None else np.asarray(charge),
        vx=zero,
        vy=zero,
        vz=zero,
    )
    out = {f: np.where(m, cols[f], 0).astype(DTYPES[f]) for f in FIELDS if f != "mask"}
    return Particles(**out, mask=m)


def visible(particles: Particles, *, eta_max: float = 5.0) -> Particles:
    """The generator particles a detector can see: neutrinos (and other invisible species) and particles
    beyond the calorimeters' |η| < ``eta_max`` (the HCAL's 5 by default) masked out."""
    sp = np.asarray(species(np.asarray(particles.pdg)))
    inside = np.abs(np.asarray(particles.eta)) < eta_max
    return particles._replace(mask=np.asarray(particles.mask) & (sp != INVISIBLE) & inside)


def met(pt, phi, mask) -> np.ndarray:
    """``[n_events, 3]``: MET_x, MET_y, |MET| (GeV) = −Σ pT of the masked particles."""
    pt = np.where(np.asarray(mask, bool), np.asarray(pt, np.float64), 0.0)
    phi = np.asarray(phi, np.float64)
    mx, my = -np.sum(pt * np.cos(phi), -1), -np.sum(pt * np.sin(phi), -1)
    return np.stack([mx, my, np.hypot(mx, my)], -1)


def _iqr(x) -> float:
    q75, q25 = np.percentile(x, [75, 25])
    return float(q75 - q25)


def met_resolution(reco_met: np.ndarray, gen_met: np.ndarray, *, min_gen_met: float = 20.0) -> dict:
    """MET figures (module docstring) from ``[n_events, 3]`` arrays of :func:`met`; the |MET| response
    uses the events with a generator |MET| above ``min_gen_met`` GeV (the ratio is meaningless near 0)."""
    r, g = np.asarray(reco_met), np.asarray(gen_met)
    if r.shape != g.shape or r.ndim != 2 or r.shape[-1] != 3 or len(r) == 0:
        raise DataError(f"met_resolution needs two [n_events > 0, 3] arrays, got {r.shape} and {g.shape}")
    d = np.concatenate([r[:, 0] - g[:, 0], r[:, 1] - g[:, 1]])
    ok = g[:, 2] > min_gen_met
    ratio = r[ok, 2] / g[ok, 2]
    med = float(np.median(ratio)) if ratio.size else float("nan")
    return {
        "n_events": int(len(r)),
        "met_xy_resolution_gev": _iqr(d) / 1.349,
        "n_events_response": int(ok.sum()),
        "met_response_median": med,
        "met_response_iqr_over_median": _iqr(ratio) / med if ratio.size else float("nan"),
    }


class JetMatch(NamedTuple):
    """Generator jets with a matched reconstructed jet (flat over events): gen pT (GeV), reco pT (GeV), event."""

    gen_pt: np.ndarray
    reco_pt: np.ndarray
    event: np.ndarray


def match_jets(reco: Particles, gen: Particles, *, R: float = 0.4, ptmin: float = 10.0, dr: float = 0.1) -> JetMatch:
    """Anti-kT jets of ``reco`` and ``gen`` particles ``[n_events, n]``; each gen jet with pT ≥ ``ptmin``
    (GeV) and |η| < 2.5 matched to the nearest reco jet within ``dr``."""
    if np.shape(reco.pt)[0] != np.shape(gen.pt)[0]:
        raise DataError(f"reco has {np.shape(reco.pt)[0]} events but gen has {np.shape(gen.pt)[0]}")
    jr = cluster_jets(reco, R=R, ptmin=0.5 * ptmin, max_jets=30)
    jg = cluster_jets(gen, R=R, ptmin=ptmin, max_jets=30)
    d = delta_r(
        np.asarray(jg.eta)[:, :, None],
        np.asarray(jg.phi)[:, :, None],
        np.asarray(jr.eta)[:, None, :],
        np.asarray(jr.phi)[:, None, :],
    )
    d = np.where(np.asarray(jr.mask)[:, None, :], d, np.inf)
    best = np.argmin(d, -1)
    ok = np.asarray(jg.mask) & (np.min(d, -1) < dr) & (np.abs(np.asarray(jg.eta)) < 2.5)
    ev, j = np.nonzero(ok)
    return JetMatch(np.asarray(jg.pt)[ev, j], np.asarray(jr.pt)[ev, best[ev, j]], ev)


def binned_response(match: JetMatch, bins=JET_BINS) -> dict:
    """Per generator-pT bin ``(lo, hi)`` GeV: ``{"lo-hi": {n, median, iqr_over_median}}`` of pT,reco / pT,gen."""
    out = {}
    resp = match.reco_pt / np.where(match.gen_pt > 0, match.gen_pt, 1.0)
    for lo, hi in bins:
        sel = (match.gen_pt >= lo) & (match.gen_pt < hi)
        r = resp[sel]
        med = float(np.median(r)) if r.size else float("nan")
        out[f"{lo:g}-{hi:g}"] = {
            "n": int(r.size),
            "median": med,
            "iqr_over_median": _iqr(r) / med if r.size >= 2 else float("nan"),
        }
    return out
