"""Small hand-made samples for the reader/writer tests (no generator run); fixtures in conftest.py."""

import numpy as np

from hepjax.data.particles import FIELDS, Particles, pad_events


def random_events(n_events: int, seed: int = 0, max_n: int = 6) -> Particles:
    """Prefix-masked, zero-padded Particles with physical PDG ids (as every reader produces)."""
    rng = np.random.default_rng(seed)
    pdgs = np.array([211, -211, 22, 11, -13, 2212, 130, 321])
    charge = {211: 1.0, -211: -1.0, 22: 0.0, 11: -1.0, -13: 1.0, 2212: 1.0, 130: 0.0, 321: 1.0}
    mass = {
        211: 0.13957039,
        -211: 0.13957039,
        22: 0.0,
        11: 0.00051099895,
        -13: 0.1056583755,
        2212: 0.93827208816,
        130: 0.497611,
        321: 0.493677,
    }
    events = []
    for _ in range(n_events):
        k = int(rng.integers(0, max_n + 1))
        pdg = rng.choice(pdgs, k)
        events.append(
            dict(
                pt=rng.exponential(10.0, k) + 0.5,
                eta=rng.uniform(-3, 3, k),
                phi=rng.uniform(-3.1, 3.1, k),
                mass=[mass[p] for p in pdg],
                pdg=pdg,
                charge=[charge[p] for p in pdg],
                vx=rng.normal(0, 0.01, k),
                vy=rng.normal(0, 0.01, k),
                vz=rng.normal(0, 30, k),
            )
        )
    return pad_events(events, max_particles=max_n)


def same_bits(a: Particles, b: Particles) -> bool:
    return all(
        getattr(a, f).dtype == getattr(b, f).dtype
        and getattr(a, f).shape == getattr(b, f).shape
        and getattr(a, f).tobytes() == getattr(b, f).tobytes()
        for f in FIELDS
    )
