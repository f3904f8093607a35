"""Jagged awkward arrays of particles <-> the padded :class:`~hepjax.data.particles.Particles` record.

:func:`from_awkward` is vectorised (awkward and NumPy array operations, no loop over events): a
2,000-event sample pads in milliseconds, where ``hepjax.data.particles.pad_events`` loops in Python.
:func:`to_awkward` is its inverse: one jagged record array with the names of the ``vector`` package's
``Momentum4D`` (``pt, eta, phi, mass``) plus hepjax's ``pdg, charge, vx, vy, vz``; padding is dropped.

Field maps (``fields=``) name, for each hepjax field, the array's field that holds it. The presets
below cover the usual conventions; an absent hepjax field takes its default.

==========  =====================================================  =======================
preset      hepjax field -> array field                             source
==========  =====================================================  =======================
HEPJAX      ``pt eta phi mass pdg charge vx vy vz`` (same names)    :func:`to_awkward`
DELPHES     ``PT Eta Phi Mass PID Charge X Y Z``                    Delphes ``Particle``
NANOAOD     ``pt eta phi mass pdgId``                               NanoAOD ``GenPart``
EDM4HEP     ``momentum.x/.y/.z mass PDG charge vertex.x/.y/.z``     EDM4hep ``MCParticles``
==========  =====================================================  =======================

Defaults of absent fields: ``mass`` 0 GeV, vertex ``vx, vy, vz`` 0 mm, ``pdg`` 0, and ``charge`` from
the PDG id through the ``particle`` package when ``pdg`` is mapped (an unknown id is a DataError), else 0.
Cartesian momenta: map ``px, py, pz`` (GeV) instead of ``pt, eta, phi``; they are converted in float64.
A field name with dots (``"momentum.x"``) is looked up as written first, then as nested record fields.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hepjax.data.particles import FIELDS, Particles
from hepjax.data.sample import pad_flat
from hepjax.errors import DataError

from ._extra import require

HEPJAX = {f: f for f in FIELDS if f != "mask"}
DELPHES = {
    "pt": "PT",
    "eta": "Eta",
    "phi": "Phi",
    "mass": "Mass",
    "pdg": "PID",
    "charge": "Charge",
    "vx": "X",
    "vy": "Y",
    "vz": "Z",
}
NANOAOD = {"pt": "pt", "eta": "eta", "phi": "phi", "mass": "mass", "pdg": "pdgId"}
EDM4HEP = {
    "px": "momentum.x",
    "py": "momentum.y",
    "pz": "momentum.z",
    "mass": "mass",
    "pdg": "PDG",
    "charge": "charge",
    "vx": "vertex.x",
    "vy": "vertex.y",
    "vz": "vertex.z",
}
PRESETS = {"hepjax": HEPJAX, "delphes": DELPHES, "nanoaod": NANOAOD, "edm4hep": EDM4HEP}
_KNOWN = set(HEPJAX) | {"px", "py", "pz"}


def _names(array) -> list[str]:
    return list(array.keys()) if isinstance(array, Mapping) else list(array.fields)


def _column(array, name: str, source: str):
    """The array's field ``name``; dotted names fall back on nested record fields."""
    if name in _names(array):
        return array[name]
    node = array
    for part in name.split("."):
        if part not in _names(node):
            raise DataError(f"{source}: no field {name!r}; the array has {sorted(_names(array))}")
        node = node[part]
    return node


def from_awkward(
    array,
    fields: Mapping[str, str | None] | str | None = None,
    max_particles: int | None = None,
    *,
    sort_by_pt: bool = False,
    source: str = "from_awkward",
) -> Particles:
    """Padded :class:`Particles` ``[n_events, P]`` from a jagged awkward array of particle records.

    Args:
      array: ``ak.Array`` of type ``n_events * var * {fields}`` (or a mapping of field name to jagged
        arrays with the same counts), e.g. ``tree.arrays(filter_name="Particle.*")`` of a Delphes file.
      fields: hepjax field -> array field, a preset name (``"hepjax"``, ``"delphes"``, ``"nanoaod"``,
        ``"edm4hep"``), or None: every hepjax field name that the array has. A field mapped to None, or
        left out, takes its default (module docstring); a mapped field missing from the array is a DataError.
      max_particles: ``P``; None pads to the longest event. Longer events keep their first ``P``
        entries and a RuntimeWarning says how many were cut (as ``hepjax.data.sample.pad_flat``).
      sort_by_pt: reorder each event by descending pT first (stable), so a cut keeps the hardest particles.
      source: what to name in error messages (a file name, a tree).

    Returns float32 kinematics (GeV, rad, mm), int32 ``pdg``, bool ``mask`` (a prefix of each row).
    """
    ak = require("awkward", "hepjax.io.from_awkward")
    if isinstance(fields, str):
        if fields not in PRESETS:
            raise DataError(f"{source}: unknown field preset {fields!r}; choose one of {sorted(PRESETS)}")
        fields = PRESETS[fields]
    if fields is None:
        fields = {f: f for f in _KNOWN if f in _names(array)}
    unknown = set(fields) - _KNOWN
    if unknown:
        raise DataError(f"{source}: unknown hepjax fields {sorted(unknown)}; known: {sorted(_KNOWN)}")
    cols = {f: _no_none(ak, _column(array, name, source)) for f, name in fields.items() if name is not None}
    if not cols:
        raise DataError(f"{source}: no particle field mapped; the array has {sorted(_names(array))}")
    counts = None
    for f, c in cols.items():
        if c.ndim != 2:
            raise DataError(f"{source}: field {fields[f]!r} is not a jagged per-event list (type {c.type})")
        n = ak.to_numpy(ak.num(c, axis=1))
        if counts is None:
            counts, first = n, f
        elif not np.array_equal(n, counts):
            raise DataError(f"{source}: fields {fields[first]!r} and {fields[f]!r} have different particle counts")
    if sort_by_pt:
        pt = np.hypot(cols["px"], cols["py"]) if "pt" not in cols and "px" in cols else cols.get("pt")
        if pt is None:
            raise DataError(f"{source}: sort_by_pt needs pt (or px, py) among the fields")
        order = ak.argsort(pt, axis=1, ascending=False, stable=True)
        cols = {f: c[order] for f, c in cols.items()}
    flat = {f: ak.to_numpy(ak.flatten(c, axis=1)) for f, c in cols.items()}
    if "pt" not in flat and {"px", "py", "pz"} <= set(flat):
        px, py, pz = (flat.pop(k).astype(np.float64) for k in ("px", "py", "pz"))
        flat["pt"] = np.hypot(px, py)
        with np.errstate(divide="ignore", invalid="ignore"):
            flat["eta"] = np.arcsinh(pz / flat["pt"])  # pT = 0 gives +-inf or NaN: refused below
        flat["phi"] = np.arctan2(py, px)
    elif {"px", "py", "pz"} & set(flat):
        raise DataError(f"{source}: map either pt, eta, phi or px, py, pz (all three), got {sorted(flat)}")
    total = int(counts.sum())
    for f in ("pt", "eta", "phi", "mass", "pdg", "vx", "vy", "vz"):
        flat.setdefault(f, np.zeros(total))
    if "charge" not in flat:
        flat["charge"] = charges_or_zero(flat["pdg"], "pdg" in fields and fields["pdg"] is not None, source)
    for f, a in flat.items():
        if a.dtype.kind == "f" and not np.isfinite(a).all():
            bad = int((~np.isfinite(a)).sum())
            raise DataError(
                f"{source}: {bad} particles have a NaN or infinite {f} (from {fields.get(f, 'px/py/pz')!r})"
            )
    flat = {f"particles/{f}": a for f, a in flat.items()}
    flat["particles/counts"] = counts.astype(np.int64)
    return pad_flat(flat, "particles", max_particles)[0]


def _no_none(ak, column):
    """``column`` as an ``ak.Array`` (lists of lists are accepted) with missing entries (an option type) set to 0."""
    column = column if isinstance(column, ak.Array) else ak.Array(column)
    return ak.fill_none(column, 0) if "?" in str(column.type) else column  # fill_none copies: only when needed


def charges_or_zero(pdg: np.ndarray, have_pdg: bool, source: str) -> np.ndarray:
    """Charges (e) from PDG ids via the ``particle`` package when there are ids, else zeros."""
    if not have_pdg:
        return np.zeros(len(pdg), np.float32)
    from ._pdg import charges

    return charges(pdg.astype(np.int64), source)


def to_awkward(record, with_name: str | None = "Momentum4D"):
    """Jagged ``ak.Array`` of the real entries of a padded record (:class:`Particles`, ``Reco``, ``Jets``, ...).

    ``record`` is a NamedTuple with a bool ``mask`` ``[n_events, n]``; every field of that shape becomes
    a jagged field ``n_events * var``, keeping its dtype, and entries where ``mask`` is False are left
    out, in any position. A nested record with a mask ``[n_events, n, k]`` (``Jets.constituents``)
    becomes a list per entry, ``n_events * var * var``. Fields of other shapes (``Reco``'s calorimeter
    cells) and None fields are left out. For :class:`Particles` the fields are ``pt, eta, phi, mass,
    pdg, charge, vx, vy, vz``.

    The records are named ``with_name`` (``vector``'s ``Momentum4D`` by default: after
    ``vector.register_awkward()`` they have its methods) when they carry ``pt, eta, phi, mass`` and no
    second time-like coordinate (``energy``); otherwise they are unnamed.
    """
    ak = require("awkward", "hepjax.io.to_awkward")
    mask = np.asarray(record.mask, bool)
    if mask.ndim != 2:
        raise DataError(f"to_awkward: the mask must be [n_events, n], got shape {mask.shape}")
    return ak.unflatten(_entries(ak, record, mask, with_name), mask.sum(-1))


def _entries(ak, record, mask, with_name):
    """The record's entries where ``mask`` (any leading shape) is True, as a flat array of records."""
    cols = {}
    for f, a in zip(record._fields, record):
        if f == "mask" or a is None:
            continue
        if hasattr(a, "_fields") and hasattr(a, "mask"):  # a nested padded record, one more axis
            inner = np.asarray(a.mask, bool)
            if inner.shape[:-1] == mask.shape:
                sub = type(a)(*(None if x is None else np.asarray(x)[mask] for x in a))
                cols[f] = ak.unflatten(_entries(ak, sub, inner[mask], with_name), inner[mask].sum(-1))
            continue
        a = np.asarray(a)
        if a.shape == mask.shape:
            cols[f] = a[mask]
    named = {"pt", "eta", "phi", "mass"} <= set(cols) and not {"energy", "e", "E", "t"} & set(cols)
    return ak.zip(cols, depth_limit=1, with_name=with_name if named else None)
