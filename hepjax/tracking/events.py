"""Tracking events: Pythia hard scatter + Poisson pileup -> tracker hits, cached on disk.

An event is the overlaid particle record (hard scatter first, see
:func:`hepjax.detector.tracker.overlay_pileup`) and its :class:`~hepjax.detector.tracker.Hits`.
Pythia samples come from :func:`hepjax.data.generate` (cached there, generated in ``workers``
processes); the hits of a whole sample are cached through :mod:`hepjax.data.cache` (one ``.npz`` with a
checksummed JSON sidecar, both written atomically) keyed by every input that changes them.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

from hepjax.data import cache as sample_cache
from hepjax.data.particles import FIELDS, Particles
from hepjax.detector.tracker import (
    Hits,
    TrackerGeometry,
    overlay_pileup,
    simulate_event_hits,
)


class TrackingEvent(NamedTuple):
    particles: Particles  # 1-D fields [n_particles]; hard scatter first
    origin: np.ndarray  # int32 [n_particles]: 0 hard scatter, k >= 1 pileup collision k
    hits: Hits


def simulate_events(
    hard: Particles,
    minbias: Particles | None,
    geometry: TrackerGeometry,
    *,
    mu: float,
    seed: int,
    min_pt: float = 0.1,
    noise: bool = True,
    progress: bool = False,
) -> list[TrackingEvent]:
    """Overlay pileup on each hard event (``[n_events, P]`` fields) and simulate its hits.

    Event ``i`` draws from ``np.random.default_rng([seed, i])``: same seed -> same events.
    """
    if mu > 0 and minbias is None:
        raise ValueError("pileup mu > 0 needs a minimum-bias pool")
    empty_pool = Particles(*(np.zeros((0, 1), np.asarray(f).dtype) for f in hard))
    out = []
    for i in tqdm(range(hard.pt.shape[0]), disable=not progress, desc="tracker hits", unit="event"):
        rng = np.random.default_rng([seed, i])
        ev = Particles(*(np.asarray(f)[i] for f in hard))
        parts, origin = overlay_pileup(ev, minbias if minbias is not None else empty_pool, mu, rng, return_origin=True)
        hits = simulate_event_hits(parts, geometry, rng, noise=noise, min_pt=min_pt)
        out.append(TrackingEvent(parts, origin, hits))
    return out


def load_or_simulate(
    process: str,
    n_events: int,
    seed: int,
    geometry: TrackerGeometry,
    *,
    mu: float,
    pileup_pool: int = 400,
    min_pt: float = 0.1,
    noise: bool = True,
    workers: int = 1,
    cache_dir: str | Path | None = None,
    progress: bool = True,
) -> list[TrackingEvent]:
    """Events of ``process`` with ``Poisson(mu)`` min-bias pileup, from the cache when present.

    Args:
      process: a :data:`hepjax.data.PROCESSES` name (e.g. ``"ttbar"``).
      n_events: hard-scatter events.
      seed: seeds Pythia (hard: ``seed``, pileup pool: ``seed + 1``) and the overlay/hits.
      geometry: the tracker.
      mu: mean pileup; ``pileup_pool`` min-bias events are generated and reused across events.
      workers: Pythia processes.
      cache_dir: default ``$HEPJAX_CACHE_DIR`` or ``~/.cache/hepjax``.
    """
    from hepjax.data import default_cache_dir, generate

    cache = Path(cache_dir) if cache_dir is not None else Path(default_cache_dir())
    meta = {
        "process": process,
        "n": n_events,
        "seed": seed,
        "geometry": dataclasses.asdict(geometry),
        "mu": mu,
        "pool": pileup_pool,
        "min_pt": min_pt,
        "noise": noise,
        "tracking_format": 2,
    }
    key = sample_cache.digest(meta)
    npz, js = sample_cache.sample_paths(cache, f"{process}_mu{mu:g}", n_events, seed, key, kind="tracking")
    try:
        hit = sample_cache.load_sample(npz, js, key)
    except sample_cache.CacheError as err:  # corrupted cache: regenerate, never use it
        warnings.warn(f"tracking cache unusable ({err}); regenerating", stacklevel=2)
        sample_cache.remove_quietly(npz, js)
        hit = None
    if hit is not None:
        return _unflatten(hit[0])
    hard = generate(process, n_events, seed, workers=workers, cache_dir=cache_dir, progress=progress).particles
    pool = (
        generate("minbias", pileup_pool, seed + 1, workers=workers, cache_dir=cache_dir, progress=progress).particles
        if mu > 0
        else None
    )
    events = simulate_events(hard, pool, geometry, mu=mu, seed=seed, min_pt=min_pt, noise=noise, progress=progress)
    sample_cache.save_sample(npz, js, _flatten(events), dict(meta, key=key))
    return events


def _flatten(events: list[TrackingEvent]) -> dict[str, np.ndarray]:
    arrays = {"n_events": np.array([len(events)])}
    for i, ev in enumerate(events):
        for f in FIELDS:
            arrays[f"e{i}_p_{f}"] = np.asarray(getattr(ev.particles, f))
        arrays[f"e{i}_origin"] = np.asarray(ev.origin)
        for f in Hits._fields:
            arrays[f"e{i}_h_{f}"] = np.asarray(getattr(ev.hits, f))
    return arrays


def _unflatten(z: dict[str, np.ndarray]) -> list[TrackingEvent]:
    return [
        TrackingEvent(
            Particles(*(z[f"e{i}_p_{f}"] for f in FIELDS)),
            z[f"e{i}_origin"],
            Hits(*(z[f"e{i}_h_{f}"] for f in Hits._fields)),
        )
        for i in range(int(z["n_events"][0]))
    ]
