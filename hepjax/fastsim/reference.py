"""Reference showers of the EM cascade, cached on disk.

The cascade is slow (its cost grows with the incident energy; docs/defaults.md), so a training set
is simulated once and cached under
``$HEPJAX_CACHE_DIR/showers/`` (default ``~/.cache/hepjax``) as an ``.npz`` + ``.json`` pair,
written atomically and checksummed with :mod:`hepjax.data.cache`. The key hashes everything
that determines the showers: count, seed, energy range, calorimeter config and
:data:`FORMAT_VERSION`.

Example::

    energies, voxels, seconds = reference_showers(12000, seed=1, low=1.0, high=100.0)
    voxels.shape   # (12000, 368) GeV
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from hepjax.data.cache import default_cache_dir, digest, load_sample, save_sample
from hepjax.fastsim.cascade import sample_incident_energies, simulate_showers
from hepjax.fastsim.geometry import CalorimeterConfig

#: Bump when the cascade's physics or the stored layout changes (invalidates cached showers).
FORMAT_VERSION = 1


def shower_cache_paths(n: int, seed: int, key: str, cache_dir: str | Path | None = None) -> tuple[Path, Path]:
    """``(npz_path, json_path)`` of a cached shower set."""
    d = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    stem = f"photons_n{n}_s{seed}_{key[:20]}"
    return d / "showers" / f"{stem}.npz", d / "showers" / f"{stem}.json"


def reference_showers(
    n: int,
    *,
    seed: int,
    low: float = 1.0,
    high: float = 100.0,
    cfg: CalorimeterConfig = CalorimeterConfig(),
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray, float]:
    """``n`` cascade showers with log-uniform incident energies in ``[low, high]`` GeV.

    Returns ``(energies [n] GeV, voxels [n, 368] GeV float32, seconds)``, where ``seconds`` is
    the wall time the simulation took when it ran (stored with the cache). Deterministic in
    ``seed``; a corrupted cache file raises :class:`hepjax.data.cache.CacheError`.
    """
    meta = {
        "n": int(n),
        "seed": int(seed),
        "low": float(low),
        "high": float(high),
        "calorimeter": dataclasses.asdict(cfg),
        "shower_format": FORMAT_VERSION,
    }
    key = digest(meta)
    npz, js = shower_cache_paths(n, seed, key, cache_dir)
    hit = load_sample(npz, js, key)
    if hit is not None:
        flat, m = hit
        return flat["energies"], flat["voxels"], float(m["seconds"])
    energies = sample_incident_energies(n, seed=seed, low=low, high=high)
    t0 = time.perf_counter()
    voxels = simulate_showers(energies, seed=seed, cfg=cfg, progress=progress).voxels
    seconds = time.perf_counter() - t0
    save_sample(npz, js, {"energies": energies, "voxels": voxels}, dict(meta, key=key, seconds=seconds))
    return energies, voxels, seconds
