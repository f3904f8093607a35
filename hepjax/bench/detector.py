"""Bench area ``detector``: smeared particles per second under ``jit`` (CPU), and tracker hits per second.

Measured, on events of 1000 particles with a ttbar-like species mix (hand-made, so the
bench does not need Pythia):

* ``smear_particles_per_s_<N>``: :func:`hepjax.detector.smear` (soft, particle-level outputs,
  no cell grids) at N = 1e5 and 1e6 particles (quick: 1e4, 1e5);
* ``smear_value_and_grad_particles_per_s_<N>``: value and gradient of a scalar of the output
  w.r.t. every ``det_params`` field and the particle pT, η, φ;
* ``smear_cells_particles_per_s_<N>``: with the CMS-like ECAL (344×360) and HCAL (114×72) cell
  grids, at the smaller N only (1e6 particles of cells would be 0.5 GB of ECAL cells);
* ``tracker_hits_per_s``: :func:`hepjax.detector.tracker.simulate_event_hits` on the same events.

Peer: the same smearing in plain vectorised NumPy (:mod:`hepjax.detector.reference`, including
drawing its random numbers), same sizes, same run -> ``ratios.smear_speedup_vs_numpy`` (at the
largest N, no cells) and ``ratios.smear_cells_speedup_vs_numpy``.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.bench.harness import time_call
from hepjax.data.particles import Particles

EVENT_SIZE = 1000
_MIX = {211: 0.42, 22: 0.33, 321: 0.06, 2212: 0.03, 2112: 0.04, 130: 0.04, 11: 0.02, 13: 0.01, 12: 0.05}
_MASS = {
    211: 0.13957,
    22: 0.0,
    321: 0.49368,
    2212: 0.93827,
    2112: 0.93957,
    130: 0.49761,
    11: 0.000511,
    13: 0.10566,
    12: 0.0,
}
_CHARGED = {211, 321, 2212, 11, 13}


def bench_particles(n_particles: int, seed: int = 0) -> Particles:
    """``[n_particles // EVENT_SIZE, EVENT_SIZE]`` particles: exponential pT (mean 3 GeV, > 0.1),
    |η| < 4, a ttbar-like species mix, vertices ~ N(0, 0.02 mm) in x, y and N(0, 40 mm) in z."""
    rng = np.random.default_rng(seed)
    shape = (max(n_particles // EVENT_SIZE, 1), EVENT_SIZE)
    ids = np.array(list(_MIX))
    pdg = rng.choice(ids, shape, p=np.array(list(_MIX.values())))
    sign = np.where(rng.random(shape) < 0.5, -1, 1)
    charged = np.isin(pdg, list(_CHARGED))
    f = np.float32
    return Particles(
        pt=(0.1 + rng.exponential(3.0, shape)).astype(f),
        eta=rng.uniform(-4, 4, shape).astype(f),
        phi=rng.uniform(-np.pi, np.pi, shape).astype(f),
        mass=np.vectorize(_MASS.get)(pdg).astype(f),
        pdg=np.where(charged, pdg * sign, pdg).astype(np.int32),
        charge=np.where(
            charged, sign * np.where(np.abs(pdg) == 11, -1, 1) * np.where(np.abs(pdg) == 13, -1, 1), 0
        ).astype(f),
        vx=rng.normal(0, 0.02, shape).astype(f),
        vy=rng.normal(0, 0.02, shape).astype(f),
        vz=rng.normal(0, 40.0, shape).astype(f),
        mask=np.ones(shape, bool),
    )


def _loss(params, pt, eta, phi, particles, key):
    from hepjax.detector import smear

    r = smear(key, particles._replace(pt=pt, eta=eta, phi=phi), params, with_cells=False)
    return jnp.sum(r.weight * (r.pt + r.energy + r.d0**2))


def measure(sizes: tuple[int, ...], *, cells_size: int, repeats: int = 3) -> dict:
    """The bench figures at the given particle counts (see module docstring)."""
    from hepjax.detector import cms_like, smear_jit
    from hepjax.detector.reference import draw_noise_numpy, smear_numpy
    from hepjax.detector.smearing import _smear_jit
    from hepjax.detector.tracker import TrackerGeometry, simulate_event_hits

    params = cms_like()
    key = jax.random.key(0)
    metrics, peer, notes = {}, {}, []
    grad_fn = jax.jit(jax.value_and_grad(_loss, argnums=(0, 1, 2, 3)))
    for n in sizes:
        p = bench_particles(n)
        pj = jax.device_put(p)
        t0 = time.perf_counter()
        jax.block_until_ready(smear_jit(key, pj, params, with_cells=False))
        metrics[f"smear_compile_s_{n}"] = round(time.perf_counter() - t0, 3)
        t = time_call(
            lambda pj=pj: smear_jit(key, pj, params, with_cells=False), repeats=repeats, warmup=0, min_time=0.5
        )
        metrics[f"smear_particles_per_s_{n}"] = n / t
        t = time_call(
            lambda pj=pj: grad_fn(params, pj.pt, pj.eta, pj.phi, pj, key), repeats=repeats, warmup=1, min_time=0.5
        )
        metrics[f"smear_value_and_grad_particles_per_s_{n}"] = n / t
        rng = np.random.default_rng(1)
        t = time_call(
            lambda p=p, rng=rng: smear_numpy(draw_noise_numpy(rng, p.pt.shape), p, params, with_cells=False),
            repeats=repeats,
            warmup=1,
        )
        peer[f"numpy_smear_particles_per_s_{n}"] = n / t
    big = max(sizes)
    p = bench_particles(cells_size)
    pj = jax.device_put(p)
    t = time_call(lambda: smear_jit(key, pj, params), repeats=repeats, warmup=1, min_time=0.5)
    metrics[f"smear_cells_particles_per_s_{cells_size}"] = cells_size / t
    rng = np.random.default_rng(2)
    t = time_call(lambda: smear_numpy(draw_noise_numpy(rng, p.pt.shape), p, params), repeats=repeats, warmup=1)
    peer[f"numpy_smear_cells_particles_per_s_{cells_size}"] = cells_size / t
    metrics["smear_compilations"] = int(_smear_jit._cache_size())

    geo = TrackerGeometry()
    events = bench_particles(5 * EVENT_SIZE, seed=3)
    n_hits, t0 = 0, time.perf_counter()
    for i in range(events.pt.shape[0]):
        n_hits += simulate_event_hits(Particles(*(x[i] for x in events)), geo, i).n
    dt = time.perf_counter() - t0
    metrics["tracker_hits_per_s"] = n_hits / dt
    metrics["tracker_hits_per_event"] = n_hits / events.pt.shape[0]
    notes.append(
        f"events of {EVENT_SIZE} particles (ttbar-like mix); cells at {cells_size} particles only; "
        "tracker: 5 events, noise and multiple scattering on"
    )
    ratios = {
        "smear_speedup_vs_numpy": metrics[f"smear_particles_per_s_{big}"] / peer[f"numpy_smear_particles_per_s_{big}"],
        "smear_cells_speedup_vs_numpy": metrics[f"smear_cells_particles_per_s_{cells_size}"]
        / peer[f"numpy_smear_cells_particles_per_s_{cells_size}"],
    }
    return {"metrics": metrics, "peer": peer, "ratios": ratios, "notes": "; ".join(notes)}


def run(*, quick: bool) -> dict:
    """Entry point of ``hepjax bench detector``."""
    if quick:
        return measure((10_000, 100_000), cells_size=10_000)
    return measure((100_000, 1_000_000), cells_size=100_000)
