"""Hand-made events through tracker smearing, showers and element building (shared compilations)."""

from __future__ import annotations

import jax
import numpy as np

from hepjax.data.particles import pad_events
from hepjax.detector import CaloGrid, cms_like, smear
from hepjax.detector.showers import CaloLayout, cms_showers, showers
from hepjax.pflow.elements import build_elements

# CMS cell sizes on a region of interest |η| ≲ 0.5 (full φ): small and fast
ECAL_ROI = CaloGrid(n_eta=58, n_phi=360, eta_max=29 * 0.0174)
HCAL_ROI = CaloGrid(n_eta=14, n_phi=72, eta_max=7 * 0.087)
DET = cms_like(ecal_grid=ECAL_ROI, hcal_grid=HCAL_ROI)
SP = cms_showers()
LAYOUT = CaloLayout()
N_PARTICLES = 8
MASS = {22: 0.0, 11: 0.000511, 13: 0.10566, 211: 0.13957, 2112: 0.93957}
CHARGE = {22: 0.0, 11: -1.0, 13: -1.0, 211: 1.0, -211: -1.0, 2112: 0.0}

_smear = jax.jit(smear, static_argnames=("hard", "with_cells"))
_showers = jax.jit(showers, static_argnames=("layout", "hard", "particle_noise_term"))


N_EVENTS = 5  # every test batch has this many events: one compilation of each jitted step


def events(rows_per_event):
    """Each event: rows (pdg, pt, eta, phi); padded to [N_EVENTS, N_PARTICLES] (the last event repeated)."""
    rows_per_event = list(rows_per_event) + [rows_per_event[-1]] * (N_EVENTS - len(rows_per_event))
    evs = []
    for rows in rows_per_event:
        pdg = np.array([r[0] for r in rows])
        evs.append(
            dict(
                pdg=pdg,
                pt=np.array([r[1] for r in rows], float),
                eta=np.array([r[2] for r in rows], float),
                phi=np.array([r[3] for r in rows], float),
                mass=np.array([MASS[abs(int(x))] for x in pdg]),
                charge=np.array([CHARGE[int(x)] for x in pdg]),
                vx=np.zeros(len(pdg)),
                vy=np.zeros(len(pdg)),
                vz=np.zeros(len(pdg)),
            )
        )
    return pad_events(evs, N_PARTICLES)


def chain(particles, seed=0):
    """(reco, cells, elements, truth, element_layout) of a padded batch."""
    k1, k2 = jax.random.split(jax.random.key(seed))
    reco = _smear(k1, particles, DET, hard=True, with_cells=False)
    cells = _showers(k2, particles, DET, SP, hard=True)
    el, truth, lay, _ = build_elements(reco, cells, DET, SP, LAYOUT)
    return reco, cells, el, truth, lay
