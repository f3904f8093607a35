"""L1-trigger event summaries: 57 numbers per event, as in the ADC2021 anomaly-detection challenge.

From detector-level particles (after :func:`hepjax.detector.smear`): MET, the 4 leading e/gamma,
the 4 leading muons and the 10 leading jets, each as (pT, eta, phi) -> 19 objects x 3 = 57
features, zero-padded where an event has fewer objects (Govorkova et al., Sci. Data 9 (2022)
118, arXiv:2107.02157).

Objects (units GeV, rad):
* e/gamma: reconstructed electrons and photons (|pdg| 11, 22) with pT > ``egamma_ptmin`` and
  |eta| < 3.0;
* muons: |pdg| 13 with pT > ``muon_ptmin`` and |eta| < 2.1;
* jets: anti-kT R = 0.4 of all reconstructed particles, pT > ``jet_ptmin``, |eta| < 4.0;
* MET: minus the vector sum of all reconstructed particles' pT (eta = 0).
"""

from __future__ import annotations

import numpy as np

from hepjax import kinematics as kin
from hepjax.data.particles import Particles

N_EGAMMA, N_MUON, N_JET = 4, 4, 10
N_FEATURES = 3 * (1 + N_EGAMMA + N_MUON + N_JET)


def _leading(pt, eta, phi, keep, n):
    """The ``n`` highest-pT selected entries per event, ``[n_events, n, 3]`` zero-padded."""
    score = np.where(keep, pt, -1.0)
    order = np.argsort(-score, axis=1, kind="stable")[:, :n]
    take = lambda a: np.take_along_axis(a, order, 1)
    ok = take(keep)
    out = np.stack([take(pt), take(eta), take(phi)], -1) * ok[..., None]
    if out.shape[1] < n:
        out = np.concatenate([out, np.zeros((out.shape[0], n - out.shape[1], 3), out.dtype)], 1)
    return out


def event_summary(
    reco: Particles, *, egamma_ptmin: float = 10.0, muon_ptmin: float = 3.0, jet_ptmin: float = 20.0
) -> np.ndarray:
    """``[n_events, 57]`` float32 summaries of detector-level particles ``[n_events, P]``."""
    from hepjax.data import cluster_jets

    m = np.asarray(reco.mask, bool)
    pt, eta, phi = (np.asarray(getattr(reco, f), np.float64) for f in ("pt", "eta", "phi"))
    apdg = np.abs(np.asarray(reco.pdg))
    px, py, _, _ = kin.sum_cartesian(*kin.to_cartesian(pt, eta, phi, np.zeros_like(pt)), m)
    met_pt = np.hypot(px, py)
    met_phi = np.where(met_pt > 0, np.arctan2(-py, -px), 0.0)  # no direction for an empty event
    met = np.stack([met_pt, np.zeros_like(px), met_phi], -1)[:, None, :]
    eg = _leading(pt, eta, phi, m & np.isin(apdg, (11, 22)) & (pt > egamma_ptmin) & (np.abs(eta) < 3.0), N_EGAMMA)
    mu = _leading(pt, eta, phi, m & (apdg == 13) & (pt > muon_ptmin) & (np.abs(eta) < 2.1), N_MUON)
    jets = cluster_jets(reco, R=0.4, ptmin=jet_ptmin, max_jets=2 * N_JET)
    jm = jets.mask & (np.abs(jets.eta) < 4.0)
    jt = _leading(
        np.asarray(jets.pt, np.float64), np.asarray(jets.eta, np.float64), np.asarray(jets.phi, np.float64), jm, N_JET
    )
    out = np.concatenate([met, eg, mu, jt], 1).reshape(len(pt), N_FEATURES)
    return out.astype(np.float32)


def smeared_summary(particles: Particles, seed: int, *, chunk: int = 500, **kw) -> np.ndarray:
    """Smear ``particles`` with the CMS-like detector (exact cuts) in chunks and summarise them."""
    import jax

    from hepjax.detector import cms_like, smear, to_particles

    det = cms_like()
    fn = jax.jit(lambda k, p: smear(k, p, det, hard=True, with_cells=False))
    n, width = np.shape(particles.pt)
    bucket = -(-width // 256) * 256  # a few padded widths -> a few compilations
    if bucket != width:
        particles = Particles(
            *(np.concatenate([np.asarray(a), np.zeros((n, bucket - width), np.asarray(a).dtype)], 1) for a in particles)
        )
    out = []
    for i, start in enumerate(range(0, n, chunk)):
        part = Particles(*(np.asarray(a)[start : start + chunk] for a in particles))
        pad = chunk - len(part.pt)
        if pad:  # keep one compiled shape
            part = Particles(*(np.concatenate([a, np.zeros((pad, *a.shape[1:]), a.dtype)]) for a in part))
        reco = fn(jax.random.fold_in(jax.random.PRNGKey(seed), i), part)
        rp = to_particles(jax.device_get(reco))
        if pad:
            rp = Particles(*(a[: chunk - pad] for a in rp))
        out.append(event_summary(rp, **kw))
    return np.concatenate(out)


def preprocess(x: np.ndarray) -> np.ndarray:
    """Network inputs: log(1 + pT/GeV) for every pT, eta and phi as they are ([n, 57] float32)."""
    x = np.array(x, np.float32, copy=True)
    x[:, 0::3] = np.log1p(x[:, 0::3])
    return x
