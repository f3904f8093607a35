"""One entry point for every event file hepjax reads, chosen by the file's suffix.

``.parquet``/``.pq`` -> :func:`~hepjax.io.read_parquet`, ``.root`` -> :func:`~hepjax.io.read_root`,
``.hepmc``/``.hepmc3`` (optionally ``.gz``, ``.bz2``, ``.xz``) -> :func:`~hepjax.io.read_hepmc3`.
The chunk-size keyword of each reader is given here as ``chunk_size``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from hepjax.data.sample import EventSample
from hepjax.errors import DataError

from ._common import concat
from .hepmc3 import iter_hepmc3
from .parquet import iter_parquet
from .root import iter_root

_COMPRESSED = (".gz", ".bz2", ".xz", ".zst")
READERS = {".parquet": "parquet", ".pq": "parquet", ".root": "root", ".hepmc": "hepmc3", ".hepmc3": "hepmc3"}


def file_format(path) -> str:
    """``"parquet"``, ``"root"`` or ``"hepmc3"`` from the suffix of ``path``; DataError for any other."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    kind = READERS.get(suffixes[-1] if suffixes else "")
    if kind is None:
        raise DataError(f"{path}: unknown event-file suffix; hepjax reads {', '.join(READERS)}")
    return kind


def iter_events(path, chunk_size: int = 10_000, **kwargs) -> Iterator[EventSample]:
    """Stream any supported event file as :class:`EventSample` chunks; ``kwargs`` go to its reader."""
    kind = file_format(path)
    if kind == "parquet":
        return iter_parquet(path, batch_size=chunk_size, **kwargs)
    if kind == "root":
        return iter_root(path, step_size=chunk_size, **kwargs)
    return iter_hepmc3(path, chunk_size=chunk_size, **kwargs)


def read_events(path, chunk_size: int = 10_000, **kwargs) -> EventSample:
    """Any supported event file as one :class:`EventSample` (its chunks joined by :func:`~hepjax.io.concat`)."""
    return concat(iter_events(path, chunk_size, **kwargs))
