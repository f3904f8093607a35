"""Hand-made particle records for the detector tests (no Pythia needed)."""

from __future__ import annotations

import numpy as np

from hepjax.data.particles import Particles

MASS = {
    211: 0.13957,
    321: 0.49368,
    2212: 0.93827,
    11: 0.000511,
    13: 0.10566,
    22: 0.0,
    2112: 0.93957,
    130: 0.49761,
    12: 0.0,
}
CHARGE = {211: 1.0, 321: 1.0, 2212: 1.0, 11: -1.0, 13: -1.0, 22: 0.0, 2112: 0.0, 130: 0.0, 12: 0.0}


def make(pdg, pt, eta, phi=None, *, vxy=0.0, vz=0.0, seed=0, shape=None) -> Particles:
    """A record of particles with the given PDG ids (scalar or array) and kinematics.

    Fields are float32; the result has shape ``shape`` (default ``[len(pt)]``).
    """
    rng = np.random.default_rng(seed)
    pt = np.asarray(pt, np.float64)
    n = pt.size
    pdg = np.broadcast_to(np.asarray(pdg, np.int32), (n,)).copy()
    sign = np.where(rng.random(n) < 0.5, -1, 1)
    pdg = np.where(np.isin(pdg, (22, 2112, 130, 12)), pdg, pdg * sign)
    eta = np.broadcast_to(np.asarray(eta, np.float64), (n,))
    phi = rng.uniform(-np.pi, np.pi, n) if phi is None else np.broadcast_to(np.asarray(phi, np.float64), (n,))
    mass = np.array([MASS[abs(int(p))] for p in pdg])
    charge = np.array([CHARGE[abs(int(p))] for p in pdg]) * np.sign(pdg)
    f = lambda a: np.asarray(a, np.float32).reshape(shape or (n,))
    return Particles(
        pt=f(pt),
        eta=f(eta),
        phi=f(phi),
        mass=f(mass),
        pdg=pdg.astype(np.int32).reshape(shape or (n,)),
        charge=f(charge),
        vx=f(rng.normal(0, vxy, n)),
        vy=f(rng.normal(0, vxy, n)),
        vz=f(rng.normal(0, vz, n)),
        mask=np.ones(shape or (n,), bool),
    )


def mixed(n_events=3, n=64, seed=0, *, eta_max=3.5) -> Particles:
    """A padded batch ``[n_events, n]`` of all species, last quarter of each event padding."""
    rng = np.random.default_rng(seed)
    ids = np.array([211, 321, 2212, 11, 13, 22, 2112, 130, 12])
    pdg = rng.choice(ids, n_events * n)
    p = make(
        pdg,
        0.3 + rng.exponential(8.0, n_events * n),
        rng.uniform(-eta_max, eta_max, n_events * n),
        vxy=0.05,
        vz=20.0,
        seed=seed,
        shape=(n_events, n),
    )
    mask = np.ones((n_events, n), bool)
    mask[:, 3 * n // 4 :] = False
    return Particles(*(np.where(mask, x, 0).astype(x.dtype) for x in p[:-1]), mask=mask)
