"""Bring your own events, take results away: awkward, parquet, ROOT (uproot) and HepMC3 (pyhepmc).

The readers and writers need the optional extra ``pip install 'hepjax[io]'`` (uproot, pyhepmc,
particle, pyarrow, hist, h5py); importing this package does not, and a call without the library
raises :class:`~hepjax.errors.MissingExtraError` naming the extra.

- :func:`from_awkward` / :func:`to_awkward`: jagged awkward arrays <-> padded
  :class:`~hepjax.data.particles.Particles`, with field presets for Delphes, NanoAOD and EDM4hep;
  ``to_awkward`` also takes ``Jets`` (constituents as lists per jet) and ``Reco``.
- :func:`write_parquet` / :func:`read_parquet` / :func:`iter_parquet`: exact (bit-for-bit) sample files.
- :func:`read_root` / :func:`iter_root` / :func:`write_root`: Delphes, NanoAOD, EDM4hep and hepjax trees
  (uproot), ``format=`` chosen or detected from the branch names (:func:`detect_format`).
- :func:`read_hepmc3` / :func:`iter_hepmc3` / :func:`write_hepmc3`: HepMC3 files (pyhepmc), final state.
- :func:`read_events` / :func:`iter_events`: any of these files, the reader chosen by the suffix.
- :func:`concat`: join the chunks a streaming reader yields into one sample.

Readers return :class:`~hepjax.data.sample.EventSample` (``particles``, ``partons`` — empty for external
files —, float64 ``weights``, ``info`` with ``source`` and ``format``).
"""

from ._common import concat
from .awkward import DELPHES, EDM4HEP, HEPJAX, NANOAOD, PRESETS, from_awkward, to_awkward
from .files import file_format, iter_events, read_events
from .hepmc3 import iter_hepmc3, read_hepmc3, write_hepmc3
from .parquet import iter_parquet, read_parquet, write_parquet
from .root import FORMATS as ROOT_FORMATS
from .root import detect_format, iter_root, read_root, write_root

__all__ = [
    "DELPHES",
    "EDM4HEP",
    "HEPJAX",
    "NANOAOD",
    "PRESETS",
    "ROOT_FORMATS",
    "concat",
    "detect_format",
    "file_format",
    "from_awkward",
    "iter_events",
    "iter_hepmc3",
    "iter_parquet",
    "iter_root",
    "read_events",
    "read_hepmc3",
    "read_parquet",
    "read_root",
    "to_awkward",
    "write_hepmc3",
    "write_parquet",
    "write_root",
]
