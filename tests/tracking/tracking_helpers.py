"""Small hand-made tracking events shared by the tracking tests (no Pythia: fast)."""

import dataclasses

import numpy as np

from hepjax.data.particles import Particles
from hepjax.detector.tracker import TrackerGeometry, simulate_event_hits


def random_particles(n, seed, *, pt_min=0.3, eta_max=1.2, vz_sigma=30.0):
    rng = np.random.default_rng(seed)
    f = lambda a: np.asarray(a, np.float32)
    return Particles(
        pt=f(pt_min + rng.exponential(2.0, n)),
        eta=f(rng.uniform(-eta_max, eta_max, n)),
        phi=f(rng.uniform(-np.pi, np.pi, n)),
        mass=f(np.full(n, 0.1396)),
        pdg=np.full(n, 211, np.int32),
        charge=f(rng.choice([-1.0, 1.0], n)),
        vx=f(np.zeros(n)),
        vy=f(np.zeros(n)),
        vz=f(rng.normal(0, vz_sigma, n)),
        mask=np.ones(n, bool),
    )


def small_geometry(**kw):
    return dataclasses.replace(TrackerGeometry(), **kw)


def toy_events(n_events, n_particles, seed=0, **geo):
    g = small_geometry(**geo)
    out = []
    for i in range(n_events):
        p = random_particles(n_particles, seed * 1000 + i)
        out.append((p, simulate_event_hits(p, g, seed * 1000 + i)))
    return g, out
