"""Which subdetector sees a particle: species from the PDG id, and the host-side input check.

Species (``int32`` codes):

====  ===============  =========================================================
code  species          seen by
====  ===============  =========================================================
0     invisible        nothing (neutrinos, neutralino)
1     charged hadron   tracker (hadron resolution) + HCAL
2     electron         tracker (electron resolution) + ECAL
3     muon             tracker (muon resolution); minimum ionising, no calorimeter
4     photon           ECAL (also a stable π⁰, as in Delphes)
5     neutral hadron   HCAL
====  ===============  =========================================================

An id outside these tables is *unknown*: :func:`validate_particles` rejects it on the host;
inside ``jit`` (no host check) it is treated as invisible.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.data.particles import FIELDS, Particles

INVISIBLE, CHARGED_HADRON, ELECTRON, MUON, PHOTON, NEUTRAL_HADRON = range(6)
SPECIES_NAMES = ("invisible", "charged hadron", "electron", "muon", "photon", "neutral hadron")

# |PDG id| -> species. Long-lived hadrons that reach the detector in Pythia's default setup.
_TABLE = {
    12: INVISIBLE,
    14: INVISIBLE,
    16: INVISIBLE,
    1000022: INVISIBLE,
    1000039: INVISIBLE,
    11: ELECTRON,
    13: MUON,
    22: PHOTON,
    111: PHOTON,
    211: CHARGED_HADRON,
    321: CHARGED_HADRON,
    2212: CHARGED_HADRON,
    3112: CHARGED_HADRON,
    3222: CHARGED_HADRON,
    3312: CHARGED_HADRON,
    3334: CHARGED_HADRON,
    130: NEUTRAL_HADRON,
    310: NEUTRAL_HADRON,
    2112: NEUTRAL_HADRON,
    3122: NEUTRAL_HADRON,
    3212: NEUTRAL_HADRON,
    3322: NEUTRAL_HADRON,
}
KNOWN_PDG = np.array(sorted(_TABLE), dtype=np.int32)
_KNOWN_SPECIES = np.array([_TABLE[int(k)] for k in KNOWN_PDG], dtype=np.int32)


def species(pdg: jax.Array) -> jax.Array:
    """Species code (see module table) of each PDG id; unknown ids and padding (0) -> invisible.

    Args:
      pdg: ``[...]`` int PDG ids.
    Returns:
      ``[...]`` int32 species codes.
    """
    a = jnp.abs(jnp.asarray(pdg, jnp.int32))
    out = jnp.zeros(a.shape, jnp.int32)
    for code in range(1, len(SPECIES_NAMES)):  # elementwise compares: no small-axis reduction
        hit = None
        for pid in KNOWN_PDG[_KNOWN_SPECIES == code]:
            h = a == int(pid)
            hit = h if hit is None else hit | h
        out = jnp.where(hit, code, out)
    return out


def species_numpy(pdg: np.ndarray) -> np.ndarray:
    """NumPy twin of :func:`species` (sorted-table lookup)."""
    a = np.abs(np.asarray(pdg, np.int64))
    i = np.clip(np.searchsorted(KNOWN_PDG, a), 0, len(KNOWN_PDG) - 1)
    return np.where(KNOWN_PDG[i] == a, _KNOWN_SPECIES[i], INVISIBLE).astype(np.int32)


#: Largest |pseudorapidity| accepted. Generator records hold forward remnants far beyond any
#: instrumented region (eta ~ ln(2E/pT): ~16 for a 1 MeV-pT particle of a 6.8 TeV beam), so the limit
#: is set above those, yet well below |eta| ~ 89 where float32 cosh(eta) overflows and pT becomes NaN.
ETA_MAX = 25.0


def _first(bad: np.ndarray) -> tuple:
    return tuple(int(i) for i in np.argwhere(bad)[0])


def validate_particles(particles: Particles) -> None:
    """Host-side check of a :class:`~hepjax.data.particles.Particles` record before smearing.

    Checks: all fields share one shape; every float field is finite in every slot, padding
    included (a NaN in a padding slot is a sign of a broken input pipeline); on real entries
    (``mask`` True) pt ≥ 0 and mass ≥ 0 (so E ≥ 0), ``|eta| <= ETA_MAX`` and the PDG id is one
    the detector knows (:data:`KNOWN_PDG`).

    Raises:
      ValueError: naming the field, the first offending index and its value.
    """
    shapes = {f: np.shape(getattr(particles, f)) for f in FIELDS}
    if len(set(shapes.values())) != 1:
        raise ValueError(f"Particles fields have different shapes: {shapes}")
    mask = np.asarray(particles.mask)
    if mask.dtype != np.bool_:
        raise ValueError(f"Particles.mask must be bool, got {mask.dtype}")
    for f in ("pt", "eta", "phi", "mass", "charge", "vx", "vy", "vz"):
        v = np.asarray(getattr(particles, f))
        bad = ~np.isfinite(v)
        if bad.any():
            i = _first(bad)
            where = "" if mask[i] else " (a padding slot, mask False)"
            raise ValueError(f"Particles.{f} is not finite (NaN or inf) at index {i}{where}: {v[i]}")
    eta = np.asarray(particles.eta)
    bad = mask & (np.abs(eta) > ETA_MAX)
    if bad.any():
        i = _first(bad)
        raise ValueError(f"Particles.eta = {eta[i]} at index {i} is beyond |eta| <= {ETA_MAX} (the detector's reach)")
    for f in ("pt", "mass"):
        v = np.asarray(getattr(particles, f))
        bad = mask & (v < 0)
        if bad.any():
            i = _first(bad)
            raise ValueError(f"Particles.{f} is negative at index {i}: {v[i]} (energies must be >= 0)")
    pdg = np.asarray(particles.pdg)
    bad = mask & ~np.isin(np.abs(pdg), KNOWN_PDG)
    if bad.any():
        i = _first(bad)
        raise ValueError(
            f"Particles.pdg has an unknown PDG id {int(pdg[i])} at index {i}; "
            f"the detector knows |pdg| in {KNOWN_PDG.tolist()}"
        )
