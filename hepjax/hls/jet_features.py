"""The 16 high-level jet-substructure inputs of the hls4ml jet-tagging benchmark, from constituents.

Following the set used by Duarte et al., JINST 13 (2018) P07027 (arXiv:1804.06913) -- masses,
N-subjettiness and energy-correlation ratios -- computed here from each jet's constituents
(``Particles [n_jets, n_constituents]``, GeV, rad):

====  ==================================================================================
 0    log(m_jet / GeV)
 1    log(pT_jet / GeV)
 2    constituent multiplicity
 3-5  N-subjettiness tau_1, tau_2, tau_3 (beta = 1, exclusive-kT axes, normalised by sum pT R)
 6-7  tau_21, tau_32
 8-9  C2 with beta = 1, 2        (e3 / e2**2, energy-correlation functions of the leading 32)
10-11 D2 with beta = 1, 2        (e3 / e2**3)
12    pT_D = sqrt(sum pT^2) / sum pT
13    leading-constituent pT fraction
14    girth = sum z dR
15    sum z log z
====  ==================================================================================

N-subjettiness: Thaler & Van Tilburg, JHEP 03 (2011) 015; ECFs: Larkoski, Salam, Thaler,
JHEP 06 (2013) 108 and Larkoski, Moult, Neill, JHEP 12 (2014) 009.
"""

from __future__ import annotations

import numpy as np

from hepjax.data.particles import Particles

FEATURE_NAMES = (
    "log_mass",
    "log_pt",
    "multiplicity",
    "tau1",
    "tau2",
    "tau3",
    "tau21",
    "tau32",
    "c2_b1",
    "c2_b2",
    "d2_b1",
    "d2_b2",
    "ptd",
    "z_lead",
    "girth",
    "zlogz",
)
ECF_CONSTITUENTS = 32
_EPS = 1e-9


def _dr(eta1, phi1, eta2, phi2):
    dphi = np.mod(phi1 - phi2 + np.pi, 2 * np.pi) - np.pi
    return np.sqrt((eta1 - eta2) ** 2 + dphi**2)


def _subjet_axes(c: Particles, n_axes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exclusive-kT subjet axes (eta, phi) ``[n_jets, n_axes]`` and a validity mask, with FastJet."""
    import awkward as ak
    import fastjet as fj

    m = np.asarray(c.mask, bool)
    counts = m.sum(1)
    pt, eta, phi, mass = (np.asarray(getattr(c, f))[m].astype(np.float64) for f in ("pt", "eta", "phi", "mass"))
    pz = pt * np.sinh(eta)
    vec = ak.unflatten(
        ak.zip({"px": pt * np.cos(phi), "py": pt * np.sin(phi), "pz": pz, "E": np.sqrt(mass**2 + pt**2 + pz**2)}),
        counts,
    )
    n_jets = len(counts)
    aeta = np.zeros((n_jets, n_axes))
    aphi = np.zeros((n_jets, n_axes))
    ok = np.zeros((n_jets, n_axes), bool)
    enough = counts >= n_axes
    if enough.any():
        sub = fj.ClusterSequence(vec[enough], fj.JetDefinition(fj.kt_algorithm, 1.5)).exclusive_jets(n_jets=n_axes)
        px, py, pzs = (np.asarray(ak.to_numpy(getattr(sub, k))).reshape(-1, n_axes) for k in ("px", "py", "pz"))
        spt = np.hypot(px, py)
        aeta[enough] = np.arcsinh(pzs / np.maximum(spt, _EPS))
        aphi[enough] = np.arctan2(py, px)
        ok[enough] = True
    return aeta, aphi, ok


def _tau(c: Particles, n_axes: int, pt_sum: np.ndarray, R: float) -> np.ndarray:
    aeta, aphi, ok = _subjet_axes(c, n_axes)
    eta, phi, pt, m = (np.asarray(getattr(c, f)) for f in ("eta", "phi", "pt", "mask"))
    d = _dr(eta[:, :, None], phi[:, :, None], aeta[:, None, :], aphi[:, None, :])  # [jets, const, axes]
    dmin = d.min(-1)
    tau = (np.where(m, pt, 0.0) * dmin).sum(1) / np.maximum(pt_sum * R, _EPS)
    return np.where(ok.all(1), tau, 0.0)


def _ecf(z: np.ndarray, dr: np.ndarray, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """e2 and e3 of the leading constituents: ``z [jets, n]``, ``dr [jets, n, n]``."""
    db = dr**beta
    e2 = 0.5 * np.einsum("ji,jk,jik->j", z, z, db)
    e3 = np.einsum("ji,jk,jl,jik,jil,jkl->j", z, z, z, db, db, db, optimize=True) / 6.0
    return e2, e3


def jet_features(constituents: Particles, jet_pt: np.ndarray, jet_mass: np.ndarray, *, R: float = 0.8) -> np.ndarray:
    """The 16 features ``[n_jets, 16]`` (float32) of jets with ``constituents [n_jets, n_const]``.

    Args:
      constituents: pT-ordered constituents, ``mask`` marks real ones (GeV, rad).
      jet_pt, jet_mass: ``[n_jets]`` in GeV.
      R: jet radius (normalises tau_N).
    """
    m = np.asarray(constituents.mask, bool)
    if m.ndim != 2:
        raise ValueError(f"jet_features needs constituents of shape [n_jets, n_constituents], got {m.shape}")
    pt = np.where(m, np.asarray(constituents.pt, np.float64), 0.0)
    eta = np.asarray(constituents.eta, np.float64)
    phi = np.asarray(constituents.phi, np.float64)
    pt_sum = pt.sum(1)
    if (pt_sum <= 0).any():
        raise ValueError("a jet has no constituents with pT > 0")
    z = pt / pt_sum[:, None]
    tau1, tau2, tau3 = (_tau(constituents, n, pt_sum, R) for n in (1, 2, 3))
    k = min(ECF_CONSTITUENTS, m.shape[1])
    zk = z[:, :k]
    drk = _dr(eta[:, :k, None], phi[:, :k, None], eta[:, None, :k], phi[:, None, :k])
    ecfs = {}
    for beta in (1.0, 2.0):
        e2, e3 = _ecf(zk, drk, beta)
        ecfs[beta] = (e3 / np.maximum(e2**2, _EPS), e3 / np.maximum(e2**3, _EPS))
    jeta, jphi = _axis(pt, eta, phi)
    dr_axis = _dr(eta, phi, jeta[:, None], jphi[:, None])
    feats = np.stack(
        [
            np.log(np.maximum(jet_mass, 1.0)),
            np.log(np.maximum(jet_pt, 1.0)),
            m.sum(1),
            tau1,
            tau2,
            tau3,
            tau2 / np.maximum(tau1, _EPS),
            tau3 / np.maximum(tau2, _EPS),
            ecfs[1.0][0],
            ecfs[2.0][0],
            np.log1p(ecfs[1.0][1]),
            np.log1p(ecfs[2.0][1]),
            np.sqrt((pt**2).sum(1)) / pt_sum,
            z.max(1),
            (z * np.where(m, dr_axis, 0.0)).sum(1),
            (z * np.log(np.where(z > 0, z, 1.0))).sum(1),
        ],
        axis=1,
    )
    return feats.astype(np.float32)


def _axis(pt, eta, phi):
    """pT-weighted jet axis (eta, phi), with phi averaged around the leading constituent."""
    ref = phi[:, :1]
    dphi = np.mod(phi - ref + np.pi, 2 * np.pi) - np.pi
    w = pt / np.maximum(pt.sum(1, keepdims=True), _EPS)
    return (w * eta).sum(1), (ref[:, 0] + (w * dphi).sum(1))
