"""Bring your own events, take results away: awkward, parquet, ROOT (uproot) and HepMC3 (pyhepmc).

The readers and writers need the optional extra ``pip install 'hepjax[io]'`` (uproot, pyhepmc,
particle, pyarrow, hist, h5py); importing this package does not, and a call without the library
raises :class:`~hepjax.errors.MissingExtraError` naming the extra.

- :func:`from_awkward` / :func:`to_awkward`: jagged awkward arrays <-> padded
  :class:`~hepjax.data.particles.Particles`, with field presets for Delphes, NanoAOD and EDM4hep.
"""

from .awkward import DELPHES, EDM4HEP, HEPJAX, NANOAOD, PRESETS, from_awkward, to_awkward

__all__ = ["DELPHES", "EDM4HEP", "HEPJAX", "NANOAOD", "PRESETS", "from_awkward", "to_awkward"]
