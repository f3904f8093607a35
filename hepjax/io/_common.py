"""Shared pieces of the readers and writers: existing-file checks, atomic writes, sample records."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from hepjax.data.particles import FIELDS, Particles, empty
from hepjax.data.sample import EventSample
from hepjax.errors import DataError


def existing_file(path) -> Path:
    """``path`` as a Path; DataError naming it when it is not a readable file."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: no such file" if not p.exists() else f"{p}: not a regular file")
    return p


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block finishes.

    A writer that fails half-way (bad input, full disk) so leaves an earlier file of that name untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def as_sample(events, weights=None) -> EventSample:
    """An :class:`EventSample` from one, or from :class:`Particles` plus optional ``[n]`` weights (default 1)."""
    if isinstance(events, EventSample):
        if weights is not None:
            events = events._replace(weights=np.asarray(weights, np.float64))
        return events
    if not isinstance(events, Particles):
        raise DataError(f"expected an EventSample or Particles, got {type(events).__name__}")
    particles = Particles(*(np.asarray(a) for a in events))
    n = particles.mask.shape[0]
    w = np.ones(n) if weights is None else np.asarray(weights, np.float64)
    if w.shape != (n,):
        raise DataError(f"weights have shape {w.shape}, expected ({n},) for {n} events")
    return EventSample(particles, empty((n, 0)), w, {"n_events": n})


def sample(particles: Particles, weights: np.ndarray, info: dict) -> EventSample:
    """A read-back sample: no partons (readers of external files fill only the final state)."""
    n = particles.mask.shape[0]
    return EventSample(particles, empty((n, 0)), weights, {**info, "n_events": n})


def widen(p: Particles, size: int) -> Particles:
    """``p`` padded with zeros (mask False) to ``size`` particles per event."""
    extra = size - p.mask.shape[-1]
    if extra <= 0:
        return p
    return Particles(*(np.pad(np.asarray(a), [(0, 0)] * (a.ndim - 1) + [(0, extra)]) for a in p))


def concat(chunks: Iterable[EventSample]) -> EventSample:
    """One sample from chunks read in turn, each collection padded to the widest chunk's width."""
    chunks = list(chunks)
    if not chunks:
        raise DataError("concat: no chunks (the file holds no events)")

    def join(name):
        width = max(getattr(c, name).mask.shape[-1] for c in chunks)
        parts = [widen(getattr(c, name), width) for c in chunks]
        return Particles(*(np.concatenate([getattr(p, f) for p in parts]) for f in FIELDS))

    weights = np.concatenate([c.weights for c in chunks])
    return EventSample(join("particles"), join("partons"), weights, {**chunks[0].info, "n_events": len(weights)})
