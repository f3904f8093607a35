"""Tracking events: Pythia hard scatter + Poisson pileup -> tracker hits, cached on disk.

An event is the overlaid particle record (hard scatter first, see
:func:`hepjax.detector.tracker.overlay_pileup`) and its :class:`~hepjax.detector.tracker.Hits`.
The samples are :class:`hepjax.data.SampleConfig` sections (Pythia through :func:`hepjax.data.generate`,
cached there, or a ``file``); the hits of a whole sample are cached through :mod:`hepjax.data.cache` (one ``.npz`` with a
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
from hepjax.data.config import SampleConfig
from hepjax.data.particles import FIELDS, Particles
from hepjax.detector.tracker import (
    Hits,
    TrackerGeometry,
    overlay_pileup,
    simulate_event_hits,
)
from hepjax.errors import ConfigError


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
    hard: SampleConfig,
    geometry: TrackerGeometry,
    *,
    pileup: SampleConfig | None = None,
    mu: float,
    seed: int | None = None,
    min_pt: float = 0.1,
    noise: bool = True,
    progress: bool = True,
) -> list[TrackingEvent]:
    """Events of the ``hard`` sample with ``Poisson(mu)`` pileup from ``pileup``, from the cache when present.

    Args:
      hard: the hard-scatter sample (Pythia, cached by :func:`hepjax.data.generate`, or its ``file``).
      geometry: the tracker.
      pileup: the minimum-bias pool (e.g. ``SampleConfig("minbias", 400, seed=1)``), reused across
        events; needed when ``mu > 0``, not generated when ``mu == 0``.
      mu: mean pileup collisions per event.
      seed: seeds the overlay and the hits (event ``i``: ``[seed, i]``); default ``hard.seed``.
      min_pt: charged particles below this pT (GeV) are not propagated.
      noise: noise hits on.

    The hits are cached in ``hard.cache_dir`` (default ``$HEPJAX_CACHE_DIR`` or ``~/.cache/hepjax``),
    keyed by every input that changes them (a file by its path, size and modification time).
    """
    from hepjax.data import default_cache_dir, generate_from_config

    if mu > 0 and pileup is None:
        raise ConfigError("tracking events with pileup mu > 0 need a minimum-bias pileup sample")
    seed = hard.seed if seed is None else seed
    cache = Path(hard.cache_dir) if hard.cache_dir is not None else Path(default_cache_dir())
    meta = {
        "hard": _sample_key(hard),
        "pileup": _sample_key(pileup) if mu > 0 else None,
        "seed": seed,
        "geometry": dataclasses.asdict(geometry),
        "mu": mu,
        "min_pt": min_pt,
        "noise": noise,
        "tracking_format": 3,
    }
    key = sample_cache.digest(meta)
    name = hard.process if hard.file is None else Path(hard.file).stem
    npz, js = sample_cache.sample_paths(cache, f"{name}_mu{mu:g}", hard.n_events, seed, key, kind="tracking")
    try:
        hit = sample_cache.load_sample(npz, js, key)
    except sample_cache.CacheError as err:  # corrupted cache: regenerate, never use it
        warnings.warn(f"tracking cache unusable ({err}); regenerating", stacklevel=2)
        sample_cache.remove_quietly(npz, js)
        hit = None
    if hit is not None:
        return _unflatten(hit[0])
    particles = generate_from_config(hard, progress=progress).particles
    pool = generate_from_config(pileup, progress=progress).particles if mu > 0 else None
    events = simulate_events(particles, pool, geometry, mu=mu, seed=seed, min_pt=min_pt, noise=noise, progress=progress)
    sample_cache.save_sample(npz, js, _flatten(events), dict(meta, key=key))
    return events


def _sample_key(s: SampleConfig) -> dict:
    """The fields of ``s`` that change its events (not ``workers`` or ``cache_dir``); a file by path, size, mtime."""
    out = {k: v for k, v in dataclasses.asdict(s).items() if k not in ("workers", "cache_dir")}
    if s.file is not None:
        st = Path(s.file).stat()
        out["file"] = [str(Path(s.file).resolve()), st.st_size, st.st_mtime_ns]
    return out


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
