"""Samples to and from Apache Parquet (pyarrow), exactly: padding, masks and dtypes come back bit for bit.

Layout of a file written by :func:`write_parquet` (one row per event):

- ``particles.<field>`` and ``partons.<field>`` for every :class:`~hepjax.data.particles.Particles`
  field (``pt, eta, phi, mass, pdg, charge, vx, vy, vz, mask``): a list of the padded width per event,
  stored with the record's dtype (float32, int32 ``pdg``, bool ``mask``); padding entries included.
- ``weight``: the event weight, float64.
- schema metadata ``hepjax``: JSON ``{"version": 1, "widths": {collection: width}, "info": {...}}``.

Plain ``pyarrow``, ``pandas`` or ``ak.from_parquet`` read it too. Files from elsewhere (jagged lists of
particle fields, no ``hepjax`` metadata) are read through :func:`~hepjax.io.from_awkward` with ``fields=``.
Reading streams in batches (:func:`iter_parquet`), so a file larger than memory can be processed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from hepjax.data.particles import DTYPES, FIELDS, Particles, empty
from hepjax.data.sample import EventSample
from hepjax.errors import DataError

from ._common import as_sample, atomic_path, concat, existing_file, sample
from ._extra import require
from .awkward import from_awkward

COLLECTIONS = ("particles", "partons")
VERSION = 1


def write_parquet(path, events, weights=None, *, row_group_size: int = 10_000) -> Path:
    """Write an :class:`EventSample` (or :class:`Particles` plus ``[n]`` weights) to ``path``.

    Row groups of ``row_group_size`` events. The file appears only when complete (an existing file of
    the same name survives a failed write). Returns ``path``.
    """
    pa = require("pyarrow", "hepjax.io.write_parquet")
    pq = require("pyarrow.parquet", "hepjax.io.write_parquet")
    s = as_sample(events, weights)
    n = len(s.weights)
    widths = {c: int(getattr(s, c).mask.shape[-1]) for c in COLLECTIONS}
    for c in COLLECTIONS:
        shape = getattr(s, c).mask.shape
        if len(shape) != 2 or shape[0] != n:
            raise DataError(f"write_parquet {path}: {c} has shape {shape}, expected ({n}, width)")
    info = json.dumps({"version": VERSION, "widths": widths, "info": s.info}, default=str)
    cols = [(f"{c}.{f}", pa.list_(pa.from_numpy_dtype(DTYPES[f]))) for c in COLLECTIONS for f in FIELDS]
    schema = pa.schema([*cols, ("weight", pa.float64())], metadata={"hepjax": info})

    def table(lo, hi):
        arrays = []
        for c in COLLECTIONS:
            p, w = getattr(s, c), widths[c]
            offsets = pa.array(np.arange(hi - lo + 1, dtype=np.int32) * w)
            for f in FIELDS:
                values = np.ascontiguousarray(np.asarray(getattr(p, f))[lo:hi], DTYPES[f]).reshape(-1)
                arrays.append(pa.ListArray.from_arrays(offsets, pa.array(values)))
        arrays.append(pa.array(np.asarray(s.weights[lo:hi], np.float64)))
        return pa.Table.from_arrays(arrays, schema=schema)

    with atomic_path(path) as tmp:
        with pq.ParquetWriter(tmp, schema) as writer:
            for lo in range(0, max(n, 1), row_group_size):
                writer.write_table(table(lo, min(lo + row_group_size, n)))
    return Path(path)


def _open(path):
    pq = require("pyarrow.parquet", "hepjax.io.read_parquet")
    p = existing_file(path)
    try:
        return p, pq.ParquetFile(p)
    except Exception as err:  # pyarrow raises ArrowInvalid / OSError for a damaged or foreign file
        raise DataError(f"{p}: not a readable parquet file ({str(err).splitlines()[0]})") from err


def iter_parquet(
    path,
    batch_size: int = 10_000,
    *,
    fields: Mapping[str, str] | str | None = None,
    max_particles: int | None = None,
    weight: str | None = None,
    sort_by_pt: bool = False,
) -> Iterator[EventSample]:
    """Stream a parquet file as :class:`EventSample` chunks of at most ``batch_size`` events.

    A hepjax file (written by :func:`write_parquet`) comes back exactly; ``fields``, ``max_particles``,
    ``weight`` and ``sort_by_pt`` are then ignored. Another file is read as jagged particle columns through
    :func:`~hepjax.io.from_awkward` (``fields`` as there), ``weight`` naming its per-event weight
    column (None: weights 1). ``info`` of each chunk holds ``source`` (the path) and ``format``.
    """
    p, f = _open(path)
    meta = (f.schema_arrow.metadata or {}).get(b"hepjax")
    names = f.schema_arrow.names
    try:
        if meta is not None:
            yield from _iter_hepjax(p, f, json.loads(meta), batch_size)
            return
        ak = require("awkward", "hepjax.io.iter_parquet")
        if weight is not None and weight not in names:
            raise DataError(f"{p}: no weight column {weight!r}; columns: {names}")
        for batch in f.iter_batches(batch_size=batch_size):
            arr = ak.from_arrow(batch)
            w = np.ones(len(arr)) if weight is None else ak.to_numpy(arr[weight]).astype(np.float64)
            parts = from_awkward(arr, fields, max_particles, sort_by_pt=sort_by_pt, source=str(p))
            yield sample(parts, w, {"source": str(p), "format": "parquet"})
    except OSError as err:  # a file cut short after its footer was read
        raise DataError(f"{p}: damaged parquet file ({str(err).splitlines()[0]})") from err


def _iter_hepjax(p, f, meta, batch_size):
    if meta.get("version") != VERSION:
        raise DataError(f"{p}: hepjax parquet version {meta.get('version')}, this hepjax reads {VERSION}")
    want = [f"{c}.{x}" for c in COLLECTIONS for x in FIELDS] + ["weight"]
    missing = [c for c in want if c not in f.schema_arrow.names]
    if missing:
        raise DataError(f"{p}: hepjax parquet without columns {missing}; columns: {f.schema_arrow.names}")
    widths = meta["widths"]
    info = {**meta["info"], "source": str(p), "format": "parquet"}
    if f.metadata.num_rows == 0:  # iter_batches yields nothing: one empty chunk keeps the widths
        yield EventSample(*(empty((0, widths[c])) for c in COLLECTIONS), np.zeros(0), {**info, "n_events": 0})
        return
    for batch in f.iter_batches(batch_size=batch_size, columns=want):
        n = batch.num_rows
        out = {}
        for c in COLLECTIONS:
            arrays = []
            for x in FIELDS:
                values = batch.column(f"{c}.{x}").flatten().to_numpy(zero_copy_only=False)
                arrays.append(values.astype(DTYPES[x], copy=False).reshape(n, widths[c]))
            out[c] = Particles(*arrays)
        w = batch.column("weight").to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        yield EventSample(out["particles"], out["partons"], w, {**info, "n_events": n})


def read_parquet(path, **kwargs) -> EventSample:
    """The whole file as one :class:`EventSample` (the chunks of :func:`iter_parquet` joined)."""
    return concat(iter_parquet(path, **kwargs))
