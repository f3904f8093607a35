"""HepMC3 event files in and out through pyhepmc: the final state (status 1) of every event.

Reading takes each event's status-1 particles in record order: momenta (converted to GeV when the file
is in MeV) give ``pt, eta, phi``; the mass is the stored generated mass (else ``sqrt(E^2 - p^2)``,
clipped at 0); the production vertex position is in mm (converted from cm); the charge comes from the
PDG id through the ``particle`` package (an id it does not know is a DataError naming the file, the
event and the id); the weight is the event's first weight (1 when it has none).

Writing (:func:`write_hepmc3`, Asciiv3 with 17 significant digits) stores each particle as status 1
with its four-momentum (float64, from hepjax's float32 ``pt, eta, phi, mass``) and generated mass.
Particles at the origin hang off the event's root vertex; every other production point gets one
vertex whose single incoming entry is a placeholder of PDG id 0 and status 3 (a documentation entry)
carrying the outgoing particles' summed four-momentum, because HepMC3's reader refuses vertices
without incoming particles. An event without particles gets one such placeholder (at rest), because
pyhepmc stops reading at an event without particles. Reading back gives every field to float32 precision, the charges again
from the PDG ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from hepjax.data.sample import EventSample
from hepjax.errors import DataError

from ._common import as_sample, atomic_path, concat, existing_file, sample
from ._extra import require
from ._pdg import charges
from .awkward import HEPJAX, from_awkward

_FLAT = ("pt", "eta", "phi", "mass", "pdg", "charge", "vx", "vy", "vz")


def _ascii_event_count(p: Path) -> int | None:
    """Events announced in a plain-text HepMC file (its ``E`` lines); None for another format.

    Also refuses an Asciiv3 file cut short (no END_EVENT_LISTING line at its end). The count lets the
    reader notice an event HepMC3 could not parse: pyhepmc then stops as if the file had ended.
    """
    size = p.stat().st_size
    with open(p, "rb") as fh:
        head = fh.read(256)
        fh.seek(max(0, size - 256))
        tail = fh.read()
        if not head.startswith(b"HepMC::"):
            return None
        if b"Asciiv3-START" in head and b"END_EVENT_LISTING" not in tail:
            raise DataError(f"{p}: truncated HepMC3 file (no END_EVENT_LISTING line at its end)")
        fh.seek(0)
        count, last = 0, b""
        while block := fh.read(1 << 24):
            count += (last + block).count(b"\nE ")  # the 1-byte overlap catches a line start split between blocks
            last = block[-1:]
    return count


def _index_of(ids: np.ndarray) -> np.ndarray:
    """Lookup table: ``table[id]`` is the position of ``id`` in ``ids`` (positive ids)."""
    table = np.full(int(ids.max(initial=0)) + 1, -1, np.int64)
    table[ids] = np.arange(len(ids))
    return table


def _event_arrays(evt, p: Path) -> dict:
    pyhepmc = require("pyhepmc", "hepjax.io.read_hepmc3")
    data = pyhepmc.GenEventData()
    evt.write_data(data)  # the event as flat arrays: particles, vertices and the links between them
    parts, verts = data.particles, data.vertices
    sel = np.flatnonzero(parts["status"] == 1)
    to_gev = 1e-3 if evt.momentum_unit == pyhepmc.Units.MEV else 1.0
    to_mm = 10.0 if evt.length_unit == pyhepmc.Units.CM else 1.0
    px, py, pz, e = (parts[k][sel].astype(np.float64) * to_gev for k in ("px", "py", "pz", "e"))
    mass = np.where(
        parts["is_mass_set"][sel],
        parts["mass"][sel] * to_gev,
        np.sqrt(np.clip(e**2 - px**2 - py**2 - pz**2, 0.0, None)),
    )
    # Production vertices: a link (vertex id < 0, particle id > 0) sends the particle out of that vertex.
    # Ids need not follow the order of the arrays (a reader keeps a file's ids): map them through the
    # id arrays. A vertex without a stored position takes the one HepMC3 derives (its ancestors', else
    # the event's), and the particles of the root vertex (no link) the event's position.
    xyz = np.stack([verts[k] for k in ("x", "y", "z")], -1) if len(verts) else np.zeros((0, 3))
    if len(verts):
        unset = ~np.asarray(evt.numpy.vertices.has_set_position, bool)
        for k in np.flatnonzero(unset):
            x = evt.vertices[int(k)].position
            xyz[k] = (x.x, x.y, x.z)
    origin = evt.event_pos()
    pos = np.tile([origin.x, origin.y, origin.z], (len(parts), 1))
    l1, l2 = np.asarray(data.links1, np.int64), np.asarray(data.links2, np.int64)
    out_links = (l1 < 0) & (l2 > 0)
    if out_links.any():
        pid_index = _index_of(np.asarray(evt.numpy.particles.id, np.int64))
        vid_index = _index_of(-np.asarray(evt.numpy.vertices.id, np.int64))
        pos[pid_index[l2[out_links]]] = xyz[vid_index[-l1[out_links]]]
    pos = pos[sel] * to_mm
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.arcsinh(pz / pt)
    pdg = parts["pid"][sel].astype(np.int64)
    out = dict(pt=pt, eta=eta, phi=np.arctan2(py, px), mass=mass, pdg=pdg, vx=pos[:, 0], vy=pos[:, 1], vz=pos[:, 2])
    out["charge"] = charges(pdg, f"{p} (event {evt.event_number})")
    if not np.isfinite(eta).all():
        raise DataError(f"{p} (event {evt.event_number}): a final-state particle with pT = 0 has no pseudorapidity")
    return out


def iter_hepmc3(
    path, chunk_size: int = 10_000, *, max_particles: int | None = None, sort_by_pt: bool = False
) -> Iterator[EventSample]:
    """Stream a HepMC3 file (any format pyhepmc reads) as :class:`EventSample` chunks of ``chunk_size`` events.

    ``sort_by_pt`` orders each event by descending pT (hepjax's own samples are so ordered; the file's
    record order otherwise). Each chunk is padded to ``max_particles`` (None: its longest event; :func:`~hepjax.io.concat` pads
    chunks to a common width). A missing, empty, unreadable or truncated file is a DataError naming it.
    """
    pyhepmc = require("pyhepmc", "hepjax.io.read_hepmc3")
    p = existing_file(path)
    announced = _ascii_event_count(p)
    info = {"source": str(p), "format": "hepmc3"}

    def emit(rows, weights):
        ak = require("awkward", "hepjax.io.read_hepmc3")
        counts = np.array([len(r["pt"]) for r in rows], np.int64)
        cols = {f: ak.unflatten(np.concatenate([r[f] for r in rows]), counts) for f in _FLAT}
        parts = from_awkward(cols, HEPJAX, max_particles, sort_by_pt=sort_by_pt, source=str(p))
        return sample(parts, np.asarray(weights, np.float64), info)

    rows, weights, n_read = [], [], 0
    try:
        with pyhepmc.open(p) as f:
            for evt in f:
                rows.append(_event_arrays(evt, p))
                w = evt.weights
                weights.append(float(w[0]) if len(w) else 1.0)
                n_read += 1
                if len(rows) == chunk_size:
                    yield emit(rows, weights)
                    rows, weights = [], []
    except (OSError, RuntimeError, ValueError) as err:
        if isinstance(err, DataError):
            raise
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"{p}: not a readable HepMC file ({detail})") from err
    if n_read == 0:
        raise DataError(f"{p}: no HepMC events read (empty, not a HepMC file, or damaged)")
    if announced is not None and n_read != announced:
        raise DataError(
            f"{p}: read {n_read} of the {announced} events it lists; event {n_read} is damaged or has no particles"
        )
    if rows:
        yield emit(rows, weights)


def read_hepmc3(path, **kwargs) -> EventSample:
    """The whole file as one :class:`EventSample` (the chunks of :func:`iter_hepmc3` joined)."""
    return concat(iter_hepmc3(path, **kwargs))


def write_hepmc3(path, events, weights=None) -> Path:
    """Write an :class:`EventSample` (or :class:`Particles` plus ``[n]`` weights) as HepMC3 Asciiv3.

    The final state only (partons are not written), GeV and mm, event numbers from 0, one weight per
    event; the layout of the vertices is in the module docstring. The file appears only when complete.
    """
    pyhepmc = require("pyhepmc", "hepjax.io.write_hepmc3")
    s = as_sample(events, weights)
    p = s.particles
    fields = {f: np.asarray(getattr(p, f)) for f in (*_FLAT, "mask")}
    with atomic_path(path) as tmp:
        with pyhepmc.open(tmp, "w", precision=17) as out:
            for i in range(len(s.weights)):
                evt = pyhepmc.GenEvent(pyhepmc.Units.GEV, pyhepmc.Units.MM)
                evt.from_hepevt(i, *_hepevt_record(fields, i), fortran=False)
                evt.weights = [float(s.weights[i])]
                out.write(evt)
    return Path(path)


def _hepevt_record(fields: dict, i: int) -> tuple:
    """Event ``i`` as HEPEVT arrays (C indices): its particles in order, then one placeholder per displaced point.

    Returns ``px, py, pz, e, m, pid, status`` and the keywords' values ``parents, vx, vy, vz, vt`` in the
    positional order of ``GenEvent.from_hepevt``.
    """
    m = fields["mask"][i]
    pt, eta, phi, mass = (fields[f][i][m].astype(np.float64) for f in ("pt", "eta", "phi", "mass"))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2 + mass**2)
    vtx = np.stack([fields[f][i][m].astype(np.float64) for f in ("vx", "vy", "vz")], -1)
    pid = fields["pdg"][i][m].astype(np.int32)
    k = len(pt)
    displaced = vtx.any(-1)
    points, group = np.unique(vtx[displaced], axis=0, return_inverse=True)
    n_ph = len(points) if k else 1  # an event without particles keeps one placeholder (pyhepmc stops at empty ones)
    parents = np.full((k + n_ph, 2), -1, np.int64)
    parents[np.flatnonzero(displaced), :] = (k + group.reshape(-1))[:, None]
    mom = np.zeros((n_ph, 4))
    if k:  # each placeholder carries its outgoing particles' summed four-momentum
        np.add.at(mom, group.reshape(-1), np.stack([px, py, pz, e], -1)[displaced])
    ph_mass = np.sqrt(np.clip(mom[:, 3] ** 2 - (mom[:, :3] ** 2).sum(-1), 0.0, None))
    cat = lambda a, b: np.concatenate([a, b])
    zeros = np.zeros(n_ph)
    return (
        cat(px, mom[:, 0]),
        cat(py, mom[:, 1]),
        cat(pz, mom[:, 2]),
        cat(e, mom[:, 3]),
        cat(mass, ph_mass),
        cat(pid, np.zeros(n_ph, np.int32)),
        cat(np.ones(k, np.int32), np.full(n_ph, 3, np.int32)),
        parents,
        None,
        cat(vtx[:, 0], zeros),
        cat(vtx[:, 1], zeros),
        cat(vtx[:, 2], zeros),
        np.zeros(k + n_ph),
    )
