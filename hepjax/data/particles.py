"""The particle record every hepjax stage exchanges: padded, fixed-shape, a pytree.

Events are padded to a common particle count so that ``jit`` sees static shapes; ``mask``
marks real entries. All fields share the shape ``[..., n_particles]`` (typically
``[n_events, max_particles]``).

Units: GeV for momenta and masses, radians for angles, mm for vertex positions,
elementary charges for ``charge``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Particles(NamedTuple):
    pt: np.ndarray  # float32, GeV, transverse momentum
    eta: np.ndarray  # float32, pseudorapidity
    phi: np.ndarray  # float32, rad, in (-pi, pi]
    mass: np.ndarray  # float32, GeV
    pdg: np.ndarray  # int32, PDG id (0 for padding)
    charge: np.ndarray  # float32, units of e
    vx: np.ndarray  # float32, mm, production vertex
    vy: np.ndarray  # float32, mm
    vz: np.ndarray  # float32, mm
    mask: np.ndarray  # bool, True for real particles

    @property
    def energy(self):
        """E = sqrt(m^2 + (pT cosh eta)^2), GeV."""
        xp = np if isinstance(self.pt, np.ndarray) else __import__("jax.numpy", fromlist=["x"])
        p = self.pt * xp.cosh(self.eta)
        return xp.sqrt(self.mass**2 + p**2)

    @property
    def n(self):
        """Number of real particles per event, ``[...]``."""
        return self.mask.sum(-1)

    @staticmethod
    def from_awkward(array, fields=None, max_particles: int | None = None, **kwargs) -> Particles:
        """Padded record from a jagged awkward array: :func:`hepjax.io.from_awkward` (needs ``hepjax[io]``)."""
        from hepjax.io.awkward import from_awkward  # here: hepjax.io imports this module

        return from_awkward(array, fields, max_particles, **kwargs)


FIELDS = Particles._fields
DTYPES = {f: np.float32 for f in FIELDS} | {"pdg": np.int32, "mask": np.bool_}


def empty(shape: tuple[int, ...]) -> Particles:
    """All-padding record of the given ``[..., n_particles]`` shape."""
    return Particles(**{f: np.zeros(shape, DTYPES[f]) for f in FIELDS})


def pad_events(events: list[dict], max_particles: int | None = None) -> Particles:
    """Stack per-event dicts of 1-D arrays (fields of :class:`Particles` minus ``mask``).

    Events longer than ``max_particles`` raise rather than being silently truncated.
    """
    n = [len(e["pt"]) for e in events]
    size = max(n, default=0) if max_particles is None else max_particles
    if n and max(n) > size:
        raise ValueError(f"an event has {max(n)} particles, more than max_particles={size}")
    out = empty((len(events), size))
    for i, e in enumerate(events):
        k = n[i]
        for f in FIELDS:
            if f != "mask":
                getattr(out, f)[i, :k] = e[f]
        out.mask[i, :k] = True
    return out
