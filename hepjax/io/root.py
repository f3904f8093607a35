"""ROOT trees in (Delphes, NanoAOD, EDM4hep, hepjax's own) and out, through uproot; streamed in chunks.

Formats (``format=``; ``"auto"`` takes the first, in this order, whose tree holds all its particle branches):

- ``delphes``: tree ``Delphes``, branches ``Particle.PT, .Eta, .Phi, .Mass, .PID, .Charge, .X, .Y, .Z``;
  final state ``Particle.Status == 1``; weight ``Event.Weight[0]``.
- ``nanoaod``: tree ``Events``, branches ``GenPart_pt, _eta, _phi, _mass, _pdgId``; final state
  ``GenPart_status == 1``; weight ``genWeight``.
- ``edm4hep``: tree ``events``, branches ``MCParticles.momentum.x/y/z, .mass, .PDG, .charge,
  .vertex.x/y/z``; final state ``MCParticles.generatorStatus == 1``; weight ``EventHeader.weight[0]``.
- ``hepjax`` (what :func:`write_root` writes): tree ``hepjax``, branches ``particle_pt, ..., particle_vz``
  (every hepjax field), counter ``nparticle``, and the partons as ``parton_*``; all particles; weight ``weight``.

NanoAOD has no charge branch: charges come from the PDG ids (``particle`` package; an unknown id is a
DataError). NanoAOD has no production vertices: 0 mm. A missing weight branch gives weights 1. Units as
the formats store them: GeV and mm (Delphes, EDM4hep), GeV (NanoAOD).

:func:`write_root` writes the ``hepjax`` format: jagged float32/int32 branches (padding dropped), a
float64 ``weight`` and a ``hepjax_info`` string (JSON: the padded widths and the sample's ``info``), so
:func:`read_root` gives back the same particles and partons for any record whose mask is a prefix of
each row and whose padding is zero (what every reader and ``pad_flat`` produce).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

from hepjax.data.particles import empty
from hepjax.data.sample import EventSample
from hepjax.errors import DataError, HepjaxError

from ._common import as_sample, atomic_path, concat, existing_file, sample
from ._extra import require
from .awkward import DELPHES, EDM4HEP, HEPJAX, NANOAOD, from_awkward, to_awkward


class RootFormat(NamedTuple):
    """Where one convention keeps its particles: ``branch(short) = prefix + short``."""

    tree: str
    prefix: str
    fields: dict  # hepjax field -> short branch name
    status: str | None  # short name of the generator-status branch (None: keep every particle)
    weight: str | None  # full name of the event-weight branch
    weight_is_list: bool  # weight stored as a one-entry list per event (Delphes, EDM4hep)


FORMATS = {
    "delphes": RootFormat("Delphes", "Particle.", DELPHES, "Status", "Event.Weight", True),
    "nanoaod": RootFormat("Events", "GenPart_", NANOAOD, "status", "genWeight", False),
    "edm4hep": RootFormat("events", "MCParticles.", EDM4HEP, "generatorStatus", "EventHeader.weight", True),
    "hepjax": RootFormat("hepjax", "particle_", HEPJAX, None, "weight", False),
}
INFO_KEY = "hepjax_info"
PARTON_PREFIX = "parton_"


def _short(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"


def _open(path):
    uproot = require("uproot", "hepjax.io.read_root")
    p = existing_file(path)
    try:
        f = uproot.open(p)
    except Exception as err:  # uproot raises OSError, ValueError or its own errors on damaged files
        raise DataError(f"{p}: not a readable ROOT file ({_first_line(err)})") from err
    size, end = p.stat().st_size, int(getattr(f.file, "fEND", 0))
    if size < end:  # the header records where the file ends: a copy cut short fails here, not mid-read
        f.close()
        raise DataError(f"{p}: truncated ROOT file ({size} of {end} bytes)")
    return p, f


def _trees(p, f) -> dict:
    """TTree name -> set of its branch names (short: the last path component)."""
    try:
        names = [k.split(";")[0] for k, cls in f.classnames().items() if cls == "TTree"]
        return {n: {_short(k) for k in f[n].keys(recursive=True)} for n in names}
    except Exception as err:
        raise DataError(f"{p}: damaged ROOT file ({_first_line(err)})") from err


def _found(trees: dict) -> str:
    if not trees:
        return "no TTree"
    return "; ".join(
        f"tree {t!r}: {', '.join(sorted(b)[:25])}{' ...' if len(b) > 25 else ''}" for t, b in trees.items()
    )


def _needed(spec: RootFormat) -> list[str]:
    out = [spec.prefix + v for v in spec.fields.values()]
    return out + ([spec.prefix + spec.status] if spec.status else [])


def detect_format(path) -> str:
    """The first of ``delphes, nanoaod, edm4hep, hepjax`` whose tree holds all its particle branches."""
    p, f = _open(path)
    with f:
        trees = _trees(p, f)
    for name, spec in FORMATS.items():
        if spec.tree in trees and set(_needed(spec)) <= trees[spec.tree]:
            return name
    raise DataError(f"{p}: no tree with the particle branches of {'/'.join(FORMATS)}; found {_found(trees)}")


def iter_root(
    path,
    format: str = "auto",
    *,
    step_size: int | str = 10_000,
    max_particles: int | None = None,
    tree: str | None = None,
    status: int | None = 1,
    sort_by_pt: bool = False,
) -> Iterator[EventSample]:
    """Stream a ROOT file as :class:`EventSample` chunks of ``step_size`` events (or ``"100 MB"``).

    Args:
      path: the ``.root`` file.
      format: ``"delphes"``, ``"nanoaod"``, ``"edm4hep"``, ``"hepjax"`` or ``"auto"`` (module docstring).
      step_size: events per chunk, or a memory size string as uproot takes it.
      max_particles: padded width of every chunk; None: the ``hepjax`` format's stored width, else each
        chunk's longest event (:func:`~hepjax.io.concat` pads chunks to a common width).
      tree: the tree's name when it differs from the format's usual one.
      status: keep particles with this generator status (1: final state); None keeps all.
      sort_by_pt: order each event by descending pT (as hepjax's own samples); else the file's order.

    A file whose tree lacks a needed branch raises DataError naming the file, the missing branches and
    the branches found. ``info`` holds ``source``, ``format`` and ``tree``.
    """
    if format == "auto":
        format = detect_format(path)
    if format not in FORMATS:
        raise DataError(f"{path}: unknown ROOT format {format!r}; choose one of {', '.join(FORMATS)} or 'auto'")
    spec = FORMATS[format]
    tree_name = tree or spec.tree
    p, f = _open(path)
    with f:
        trees = _trees(p, f)
        if tree_name not in trees:
            raise DataError(f"{p}: no tree {tree_name!r} for format {format}; found {_found(trees)}")
        missing = [b for b in _needed(spec) if b not in trees[tree_name]]
        if missing:
            raise DataError(f"{p}: tree {tree_name!r} lacks the {format} branches {missing}; found {_found(trees)}")
        want = _needed(spec) if status is not None else [spec.prefix + v for v in spec.fields.values()]
        has_weight = spec.weight in trees[tree_name]
        want = want + ([spec.weight] if has_weight else [])
        # hepjax's own trees may carry the partons too (same fields, prefix parton_)
        partons = format == "hepjax" and all(PARTON_PREFIX + v in trees[tree_name] for v in spec.fields.values())
        want = want + ([PARTON_PREFIX + v for v in spec.fields.values()] if partons else [])
        width, parton_width = max_particles, None
        info = {"source": str(p), "format": format, "tree": tree_name}
        any_chunk = False
        try:
            if format == "hepjax" and INFO_KEY in f:
                stored = json.loads(str(f[INFO_KEY]))
                width = stored["width"] if width is None else width
                parton_width = stored.get("parton_width")
                info = {**stored["info"], **info}
            for arr in f[tree_name].iterate(filter_name=want, step_size=step_size, library="ak"):
                any_chunk = True
                chunk = _chunk(arr, spec, status, has_weight, width, info, p, sort_by_pt)
                if partons:
                    cols = {v: arr[PARTON_PREFIX + v] for v in spec.fields.values()}
                    chunk = chunk._replace(partons=from_awkward(cols, spec.fields, parton_width, source=f"{p}:partons"))
                yield chunk
        except HepjaxError:
            raise
        except Exception as err:  # baskets cut short or corrupt
            raise DataError(f"{p}: damaged ROOT file, tree {tree_name!r} ({_first_line(err)})") from err
        if not any_chunk:  # an empty tree: one empty chunk, so that read_root returns a 0-event sample
            yield sample(empty((0, width or 0)), np.zeros(0), info)._replace(partons=empty((0, parton_width or 0)))


def _chunk(arr, spec, status, has_weight, width, info, p, sort_by_pt) -> EventSample:
    ak = require("awkward", "hepjax.io.read_root")
    by_short = {_short(k): k for k in arr.fields}
    cols = {v: arr[by_short[spec.prefix + v]] for v in spec.fields.values()}
    if status is not None and spec.status:
        keep = arr[by_short[spec.prefix + spec.status]] == status
        cols = {k: c[keep] for k, c in cols.items()}
    n = len(arr)
    if has_weight:
        w = arr[by_short[spec.weight]]
        w = ak.fill_none(ak.firsts(w), 1.0) if spec.weight_is_list else w
        weights = ak.to_numpy(w).astype(np.float64)
    else:
        weights = np.ones(n)
    particles = from_awkward(cols, spec.fields, width, sort_by_pt=sort_by_pt, source=f"{p}:{spec.tree}")
    return sample(particles, weights, info)


def read_root(path, format: str = "auto", **kwargs) -> EventSample:
    """The whole file as one :class:`EventSample` (the chunks of :func:`iter_root` joined)."""
    return concat(iter_root(path, format, **kwargs))


def write_root(path, events, weights=None, *, step_size: int = 10_000) -> Path:
    """Write an :class:`EventSample` (or :class:`Particles` plus ``[n]`` weights) as a ``hepjax`` tree.

    Jagged branches ``particle_<field>`` and ``parton_<field>`` (float32, int32 ``pdg``; padding dropped)
    with counters ``nparticle`` and ``nparton``, ``weight`` float64, baskets of ``step_size`` events, and
    the ``hepjax_info`` string. The file appears only when complete. Returns ``path``.
    """
    uproot = require("uproot", "hepjax.io.write_root")

    s = as_sample(events, weights)
    spec = FORMATS["hepjax"]
    n = len(s.weights)
    widths = {"width": int(s.particles.mask.shape[-1]), "parton_width": int(s.partons.mask.shape[-1])}
    meta = json.dumps({**widths, "info": s.info}, default=str)
    record = to_awkward(empty((0, 0)), with_name=None).type.content
    types = {"particle": record, "parton": record, "weight": np.float64}

    def rows(p, lo):
        return to_awkward(type(p)(*(np.asarray(a)[lo : lo + step_size] for a in p)), with_name=None)

    with atomic_path(path) as tmp:
        with uproot.recreate(tmp) as f:
            out = f.mktree(spec.tree, types, counter_name=lambda c: f"n{c}", field_name=lambda o, i: f"{o}_{i}")
            for lo in range(0, n, step_size):
                w = s.weights[lo : lo + step_size]
                out.extend({"particle": rows(s.particles, lo), "parton": rows(s.partons, lo), "weight": w})
            f[INFO_KEY] = meta
    return Path(path)
