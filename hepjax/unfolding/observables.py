"""The six jet observables of the OmniFold benchmark (arXiv:1911.09107), from the shared kinematics home.

For the leading jet of each event: mass m (GeV), constituent multiplicity M, width w (girth around the jet
axis), ln ρ = ln(m² / pT²), the N-subjettiness ratio τ21 = τ2 / τ1 (β = 1, exclusive-kT axes) and the
soft-drop groomed momentum fraction z_g (z_cut = 0.1, β = 0), with fixed binnings for the binned methods.
"""

from __future__ import annotations

import numpy as np

from hepjax.data.jets import Jets
from hepjax.errors import DataError
from hepjax.kinematics import girth, log_rho, nsubjettiness, soft_drop_zg

OBSERVABLES = ("mass", "multiplicity", "width", "log_rho", "tau21", "zg")

#: Bin edges per observable, fixed so that every method and every replica is compared on the same bins.
BINS = {
    "mass": np.linspace(0.0, 75.0, 16),
    "multiplicity": np.arange(0.0, 81.0, 4.0),
    "width": np.linspace(0.0, 0.3, 16),
    "log_rho": np.linspace(-14.0, -2.0, 16),
    "tau21": np.linspace(0.0, 1.2, 16),
    "zg": np.linspace(0.1, 0.5, 11),
}


def omnifold_observables(jets: Jets, *, R: float = 0.4) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The six observables of each event's leading jet.

    Args:
      jets: clustered with constituents (``max_constituents > 0``), ``[n_events, max_jets]``.
      R: the jet radius (the τ_N normalisation and the soft-drop R0).

    Returns:
      ``(observables, has_jet)``: a dict of ``[n_events]`` float64 arrays in :data:`OBSERVABLES` order (NaN
      where the event has no jet) and the ``[n_events]`` bool mask of events with a jet.
    """
    if jets.constituents is None:
        raise DataError("omnifold_observables needs jets clustered with max_constituents > 0")
    has = np.asarray(jets.mask)[:, 0]
    n = has.shape[0]
    out = {k: np.full(n, np.nan) for k in OBSERVABLES}
    if not has.any():
        return out, has
    pt, eta, phi, mass = (np.asarray(a, np.float64)[has, 0] for a in (jets.pt, jets.eta, jets.phi, jets.mass))
    c = jets.constituents
    cpt, ceta, cphi, cm, cmask = (np.asarray(a)[has, 0] for a in (c.pt, c.eta, c.phi, c.mass, c.mask))
    tau1 = nsubjettiness(cpt, ceta, cphi, cm, cmask, 1, R=R)
    tau2 = nsubjettiness(cpt, ceta, cphi, cm, cmask, 2, R=R)
    values = {
        "mass": mass,
        "multiplicity": np.asarray(jets.n_constituents, np.float64)[has, 0],
        "width": girth(cpt, ceta, cphi, cmask, axis=(eta, phi), pt_jet=pt),
        "log_rho": log_rho(np.maximum(mass, 1e-6 * pt), pt),  # a massless one-constituent jet: finite
        "tau21": np.where(tau1 > 0, tau2 / np.where(tau1 > 0, tau1, 1.0), 0.0),
        "zg": soft_drop_zg(cpt, ceta, cphi, cm, cmask, z_cut=0.1, beta=0.0, R0=R),
    }
    for k, v in values.items():
        out[k][has] = v
    return out, has
