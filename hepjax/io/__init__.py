"""Bring your own events, take results away: awkward, parquet, ROOT (uproot) and HepMC3 (pyhepmc).

The readers and writers need the optional extra ``pip install 'hepjax[io]'`` (uproot, pyhepmc,
particle, pyarrow, hist, h5py); importing this package does not, and a call without the library
raises :class:`~hepjax.errors.MissingExtraError` naming the extra.

- :func:`from_awkward` / :func:`to_awkward`: jagged awkward arrays <-> padded
  :class:`~hepjax.data.particles.Particles`, with field presets for Delphes, NanoAOD and EDM4hep.
- :func:`write_parquet` / :func:`read_parquet` / :func:`iter_parquet`: exact (bit-for-bit) sample files.
- :func:`concat`: join the chunks a streaming reader yields into one sample.

Readers return :class:`~hepjax.data.sample.EventSample` (``particles``, ``partons`` — empty for external
files —, float64 ``weights``, ``info`` with ``source`` and ``format``).
"""

from ._common import concat
from .awkward import DELPHES, EDM4HEP, HEPJAX, NANOAOD, PRESETS, from_awkward, to_awkward
from .parquet import iter_parquet, read_parquet, write_parquet

__all__ = [
    "DELPHES",
    "EDM4HEP",
    "HEPJAX",
    "NANOAOD",
    "PRESETS",
    "concat",
    "from_awkward",
    "iter_parquet",
    "read_parquet",
    "to_awkward",
    "write_parquet",
]
