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

from hepjax import kinematics as kin
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
    mass = np.asarray(constituents.mass, np.float64)
    tau1, tau2, tau3 = (kin.nsubjettiness(pt, eta, phi, mass, m, n, R=R) for n in (1, 2, 3))
    ecfs = {}
    for beta in (1.0, 2.0):
        e2, e3 = kin.ecf(pt, eta, phi, m, beta=beta, max_constituents=ECF_CONSTITUENTS)
        ecfs[beta] = (e3 / np.maximum(e2**2, _EPS), e3 / np.maximum(e2**3, _EPS))
    feats = np.stack(
        [
            np.log(np.maximum(jet_mass, 1.0)),
            np.log(np.maximum(jet_pt, 1.0)),
            kin.multiplicity(m),
            tau1,
            tau2,
            tau3,
            tau2 / np.maximum(tau1, _EPS),
            tau3 / np.maximum(tau2, _EPS),
            ecfs[1.0][0],
            ecfs[2.0][0],
            np.log1p(ecfs[1.0][1]),
            np.log1p(ecfs[2.0][1]),
            kin.ptd(pt, m),
            z.max(1),
            kin.girth(pt, eta, phi, m),
            (z * np.log(np.where(z > 0, z, 1.0))).sum(1),
        ],
        axis=1,
    )
    return feats.astype(np.float32)
