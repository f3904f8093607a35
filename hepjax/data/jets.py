"""Jets from any :class:`Particles` record with FastJet, and jet-parton matching for labels.

Clustering runs FastJet's C++ (``fastjet`` Python package, multi-event awkward interface) on
the host; it is not differentiable and not meant for ``jit``. Inputs may be particle level
(``generate(...).particles``) or detector level (any ``Particles``, e.g. after smearing; entries
with ``mask == False`` are ignored wherever they sit in a row). Particles are treated as massive
four-vectors: E = sqrt(m² + (pT cosh η)²), E-scheme recombination.

Reference: M. Cacciari, G. Salam, G. Soyez, "The anti-kt jet clustering algorithm",
JHEP 04 (2008) 063 [arXiv:0802.1189]; FastJet user manual, EPJC 72 (2012) 1896.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import awkward as ak
import numpy as np

from hepjax.kinematics import delta_r, to_cartesian, to_cylindrical

from .particles import DTYPES, FIELDS, Particles

ALGORITHMS = ("antikt", "kt", "cambridge")
#: PDG ids treated as resonances by :func:`match_jets_to_partons` (t, Z, W, h, H, A, H±, Z', W', LQ).
RESONANCES = (6, 23, 24, 25, 32, 33, 34, 35, 36, 37, 42)


class Jets(NamedTuple):
    """Clustered jets, each field ``[n_events, max_jets]``, pT-ordered (descending), padded.

    pt (GeV), eta, phi (rad, in (-pi, pi]), mass (GeV): float32; n_constituents: int32 (the true
    count, even if ``constituents`` keeps fewer); mask: bool. ``constituents`` is a
    :class:`Particles` ``[n_events, max_jets, max_constituents]`` (pT-ordered within each jet)
    when ``max_constituents > 0``, else ``None``.
    """

    pt: np.ndarray
    eta: np.ndarray
    phi: np.ndarray
    mass: np.ndarray
    n_constituents: np.ndarray
    mask: np.ndarray
    constituents: Particles | None = None


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _validated(particles: Particles) -> dict[str, np.ndarray]:
    arr = {f: np.asarray(getattr(particles, f)) for f in FIELDS}
    shape = arr["mask"].shape
    if len(shape) != 2:
        raise ValueError(f"cluster_jets needs particles of shape [n_events, n_particles], got mask {shape}")
    for f, a in arr.items():
        if a.shape != shape:
            raise ValueError(f"particles.{f} has shape {a.shape}, expected {shape} like particles.mask")
    m = arr["mask"].astype(bool)
    for f in ("pt", "eta", "phi", "mass"):
        bad = ~np.isfinite(arr[f][m])
        if bad.any():
            raise ValueError(f"particles.{f} has {int(bad.sum())} NaN or infinite values among real particles")
    if (arr["pt"][m] < 0).any():
        raise ValueError("particles.pt has negative values among real particles")
    if (arr["mass"][m] < 0).any():
        raise ValueError("particles.mass has negative values among real particles")
    arr["mask"] = m
    return arr


def _scatter(index_lists):
    """Flattened (event, j[, k]) positions and values of a ragged ``[n, var(, var)]`` awkward array."""
    pos = [
        ak.flatten(ak.broadcast_arrays(ak.local_index(index_lists, axis=a), index_lists)[0], axis=None)
        for a in range(index_lists.ndim)
    ]
    return tuple(np.asarray(p, np.int64) for p in pos), np.asarray(ak.flatten(index_lists, axis=None))


def cluster_jets(
    particles: Particles,
    *,
    R: float = 0.4,
    ptmin: float = 20.0,
    algorithm: str = "antikt",
    max_jets: int = 10,
    max_constituents: int = 0,
) -> Jets:
    """Cluster each event's particles into jets with FastJet.

    Args:
      particles: :class:`Particles` ``[n_events, P]`` (GeV, rad); masked-out entries ignored.
      R: jet radius in (η, φ).
      ptmin: keep jets with pT >= ptmin (GeV).
      algorithm: ``"antikt"``, ``"kt"`` or ``"cambridge"`` (Cambridge/Aachen).
      max_jets: keep the ``max_jets`` leading jets per event (pad with ``mask=False``).
      max_constituents: if > 0, also return each kept jet's leading ``max_constituents``
        constituents as ``Particles [n_events, max_jets, max_constituents]`` (all fields copied from
        the input, so PDG ids, charges and vertices follow).

    Returns:
      :class:`Jets` with fields ``[n_events, max_jets]``.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown jet algorithm {algorithm!r}; choose one of {ALGORITHMS}")
    if not (_is_real(R) and 0 < R < 10):
        raise ValueError(f"R must be a positive radius below 10, got {R!r}")
    if not (_is_real(ptmin) and np.isfinite(ptmin) and ptmin >= 0):
        raise ValueError(f"ptmin must be a finite number >= 0 GeV, got {ptmin!r}")
    if isinstance(max_jets, bool) or not isinstance(max_jets, numbers.Integral) or max_jets < 1:
        raise ValueError(f"max_jets must be an integer >= 1, got {max_jets!r}")
    if isinstance(max_constituents, bool) or not isinstance(max_constituents, numbers.Integral) or max_constituents < 0:
        raise ValueError(f"max_constituents must be an integer >= 0, got {max_constituents!r}")
    max_jets, max_constituents = int(max_jets), int(max_constituents)
    arr = _validated(particles)
    n = arr["mask"].shape[0]
    m = arr["mask"]
    counts = m.sum(1)
    pt, eta, phi, mass = (arr[f][m].astype(np.float64) for f in ("pt", "eta", "phi", "mass"))
    cpx, cpy, cpz, ce = to_cartesian(pt, eta, phi, mass)
    vectors = ak.unflatten(ak.zip({"px": cpx, "py": cpy, "pz": cpz, "E": ce}), counts)
    import fastjet as fj  # prints the FastJet banner (its authors ask that it be kept) on first use

    jetdef = fj.JetDefinition(getattr(fj, f"{algorithm}_algorithm"), float(R))
    seq = fj.ClusterSequence(vectors, jetdef)
    jets = seq.inclusive_jets(min_pt=float(ptmin))
    cidx = seq.constituent_index(min_pt=float(ptmin))
    jpt = np.hypot(jets.px, jets.py)
    order = ak.argsort(jpt, axis=1, ascending=False)[:, :max_jets]
    jets, cidx = jets[order], cidx[order]

    (ev, jj), _ = _scatter(jets.px)
    px, py, pzj, e = (np.asarray(ak.flatten(getattr(jets, c)), np.float64) for c in ("px", "py", "pz", "E"))
    out = {k: np.zeros((n, max_jets), np.float32) for k in ("pt", "eta", "phi", "mass")}
    for k, v in zip(("pt", "eta", "phi", "mass"), to_cylindrical(px, py, pzj, e), strict=True):
        out[k][ev, jj] = v
    ncons = np.zeros((n, max_jets), np.int32)
    ncons[ev, jj] = np.asarray(ak.flatten(ak.num(cidx, axis=2)))
    mask = np.zeros((n, max_jets), bool)
    mask[ev, jj] = True

    constituents = None
    if max_constituents > 0:
        # map indices into the ragged per-event list back to columns of the padded input
        cols = ak.unflatten(np.nonzero(m)[1], counts)
        flat_idx = ak.flatten(cidx, axis=2)
        ccol = ak.unflatten(cols[flat_idx], ak.flatten(ak.num(cidx, axis=2)), axis=1)
        cpt = ak.unflatten(ak.unflatten(pt, counts)[flat_idx], ak.flatten(ak.num(cidx, axis=2)), axis=1)
        ccol = ccol[ak.argsort(cpt, axis=2, ascending=False)][:, :, :max_constituents]
        (cev, cj, ck), col = _scatter(ccol)
        shape = (n, max_jets, max_constituents)
        fields = {}
        for f in FIELDS:
            a = np.zeros(shape, DTYPES[f])
            a[cev, cj, ck] = arr[f][cev, col]
            fields[f] = a
        constituents = Particles(**fields)
    return Jets(constituents=constituents, mask=mask, n_constituents=ncons, **out)


def match_jets_to_partons(jets: Jets, partons: Particles, *, dr: float = 0.8, prefer_resonances: bool = True):
    """PDG id of the parton matched to each jet (0 if none within ``dr``), ``[n_events, max_jets]`` int32.

    A jet matches the nearest (in ΔR) hard parton within ``dr``; with ``prefer_resonances`` (the
    default) a resonance (:data:`RESONANCES`: t, W, Z, h, ... ) within ``dr`` wins over nearer
    quarks, so a fat jet holding a boosted W and its decay quarks is labelled 24, and a top jet 6.
    Use ``abs`` of the result for q/g/W/Z/t classes (1-5 quarks, 21 gluon, 24 W, 23 Z, 6 top).
    """
    if not (_is_real(dr) and dr > 0):
        raise ValueError(f"dr must be a positive number, got {dr!r}")
    jm = np.asarray(jets.mask, bool)
    pm = np.asarray(partons.mask, bool)
    if jm.shape[0] != pm.shape[0]:
        raise ValueError(f"jets have {jm.shape[0]} events but partons have {pm.shape[0]}")
    d = delta_r(
        np.asarray(jets.eta)[:, :, None],
        np.asarray(jets.phi)[:, :, None],
        np.asarray(partons.eta)[:, None, :],
        np.asarray(partons.phi)[:, None, :],
    )
    pdg = np.asarray(partons.pdg).astype(np.int32)
    ok = jm[:, :, None] & pm[:, None, :] & (d < dr)
    d = np.where(ok, d, np.inf)
    if prefer_resonances:
        res = np.isin(np.abs(pdg), RESONANCES)[:, None, :]
        d = np.where(res & ok, d - 1e3, d)  # any matched resonance ranks before any other parton
    best = np.argmin(d, axis=-1)
    label = np.take_along_axis(np.broadcast_to(pdg[:, None, :], d.shape), best[..., None], -1)[..., 0]
    return np.where(ok.any(-1), label, 0).astype(np.int32)
