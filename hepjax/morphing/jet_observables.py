"""Jet substructure observables of the leading jet, the inputs of the morphing study.

Per event (leading anti-kT jet with its constituents): ``log(pT / GeV)``, ``mass / pT``,
constituent multiplicity (dequantised by ``+ U(0, 1)``), girth ``sum_i pT_i dR_i / pT``
and ``pT_D = sqrt(sum pT_i^2) / sum pT_i``.
"""

from __future__ import annotations

import numpy as np

from hepjax import kinematics as kin
from hepjax.data import Jets

OBSERVABLES = ("log_pt", "mass_over_pt", "n_constituents", "girth", "ptd")


def leading_jet_observables(jets: Jets, *, seed: int) -> np.ndarray:
    """``[n_events_with_a_jet, 5]`` float32 (order :data:`OBSERVABLES`); events without a jet are dropped."""
    if jets.constituents is None:
        raise ValueError("leading_jet_observables needs jets clustered with max_constituents > 0")
    has = jets.mask[:, 0]
    pt, eta, phi, mass = (np.asarray(a)[has, 0] for a in (jets.pt, jets.eta, jets.phi, jets.mass))
    c = jets.constituents
    cpt, ceta, cphi, cmask = (a[has, 0] for a in (c.pt, c.eta, c.phi, c.mask))
    girth = kin.girth(cpt, ceta, cphi, cmask, axis=(eta, phi), pt_jet=pt)  # around the clustered jet axis
    ptd = kin.ptd(cpt, cmask)
    nconst = np.asarray(jets.n_constituents)[has, 0].astype(np.float64)
    nconst = nconst + np.random.default_rng(seed).uniform(0.0, 1.0, nconst.shape)
    return np.stack([np.log(pt), mass / pt, nconst, girth, ptd], axis=1).astype(np.float32)
