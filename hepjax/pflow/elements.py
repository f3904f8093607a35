"""Particle-flow elements: tracks and calorimeter clusters of one event in one padded array, with truth targets.

An event's elements are its **tracks** (the charged particles the tracker smearing
:func:`hepjax.detector.smear` reconstructed, ``Reco.mask``) followed by its **ECAL clusters** and its
**HCAL clusters** (4-2-0 topological clusters of :mod:`hepjax.pflow.clustering`, one clustering per
calorimeter). They are packed into one array ``features [..., n_slots, F]`` whose columns are
:data:`FEATURES` (the column of a name: :func:`column`):

===========  ==============================================  ==============================================
column       track                                           cluster
===========  ==============================================  ==============================================
type         :data:`TRACK` (1)                               :data:`ECAL_CLUSTER` (2), :data:`HCAL_CLUSTER` (3)
pt           track pT, GeV                                   E / cosh η (massless), GeV
eta, phi     at the vertex, rad                              energy-weighted cluster position, rad
energy       √(p² + m_π²), GeV                               Σ cell energies, GeV
charge       measured charge, e                              0
d0, z0       impact parameters, mm                           0
quality      σ(pT)/pT of the track (smaller is better)       0
eta_ecal,    (η, φ) of the track's helix at the ECAL front   the cluster's (η, φ) for an ECAL cluster, else 0
phi_ecal     (0 where it does not arrive)
eta_hcal,    the same at the HCAL front                      the cluster's (η, φ) for an HCAL cluster, else 0
phi_hcal
sigma_eta,   0                                               energy-weighted RMS widths, rad
sigma_phi
n_cells      0                                               cells in the cluster
ecal_e,      0                                               the cluster energy in its calorimeter, GeV
hcal_e
depth        0                                               0 (ECAL) or 1 (HCAL)
===========  ==============================================  ==============================================

Padding slots are all zero with ``type`` 0 (:data:`PAD`) and ``mask`` False. The slot count is a
bucket of :mod:`hepjax.nn.padding` (multiples of :data:`ELEMENT_QUANTUM`); one call packs a batch of
events to the bucket of its largest event (a new bucket, with a warning, if none holds it: never a
truncation). The extrapolation reuses :func:`hepjax.detector.impact.front_point` (the helix of the
showers) with the *measured* track parameters and ``z0`` as the vertex z.

The array is shaped for a set model (MLPF): one row per element, a type column to embed, every
column finite and zero in padding, ``mask`` marking the real rows.

**Differentiable**: :func:`element_features` is JAX; with the memberships and the slot layout fixed
(host data from :func:`build_elements`), the features are differentiable in the cell energies (so in
the shower and detector parameters) and in the track parameters.

**Truth** (:class:`ElementTruth`, host NumPy, from the per-(cell, particle) truth of
:func:`hepjax.detector.showers.truth_table`): a track's target is the generator particle it was
reconstructed from (fraction 1); a cluster's target is the generator particle that gave its cells the
most noise-free energy, with that particle's fraction of the cluster's noise-free energy (in [0, 1]; −1
and 0 for a cluster of noise only). ``pf_class`` is the target's particle-flow class (:data:`PF_CLASSES`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.detector.impact import front_point
from hepjax.detector.params import DetectorParams
from hepjax.detector.shower_params import CaloLayout, ShowerParams
from hepjax.detector.showers import CaloCells, truth_table
from hepjax.detector.smearing import Reco
from hepjax.detector.species import CHARGED_HADRON, ELECTRON, MUON, NEUTRAL_HADRON, PHOTON
from hepjax.errors import DataError
from hepjax.nn.padding import choose_set_bucket
from hepjax.pflow.clustering import (
    CLUSTER_QUANTUM,
    ECAL_LAYER,
    HCAL_LAYER,
    PaddedMembership,
    TopoConfig,
    cluster_features,
    pad_membership,
    topo_clusters,
)

PAD, TRACK, ECAL_CLUSTER, HCAL_CLUSTER = 0, 1, 2, 3
FEATURES = (
    "type",
    "pt",
    "eta",
    "phi",
    "energy",
    "charge",
    "d0",
    "z0",
    "quality",
    "eta_ecal",
    "phi_ecal",
    "eta_hcal",
    "phi_hcal",
    "sigma_eta",
    "sigma_phi",
    "n_cells",
    "ecal_e",
    "hcal_e",
    "depth",
)
#: Slot-count quantum of the element buckets.
ELEMENT_QUANTUM = 64
#: Particle-flow classes (targets and the rule-based output): index = code.
PF_CLASSES = ("none", "charged hadron", "neutral hadron", "photon", "electron", "muon")
NONE, CH_HADRON, NEU_HADRON, GAMMA, ELEC, MU = range(6)
PION_MASS = 0.13957


def column(name: str) -> int:
    """Index of the feature ``name`` in :data:`FEATURES`."""
    return FEATURES.index(name)


def pf_class_of_species(sp):
    """Particle-flow class (:data:`PF_CLASSES`) of :mod:`hepjax.detector.species` codes (NumPy or JAX ints)."""
    xp = np if isinstance(sp, np.ndarray) else jnp
    table = xp.asarray(
        [
            NONE if s not in (CHARGED_HADRON, NEUTRAL_HADRON, PHOTON, ELECTRON, MUON) else
            {CHARGED_HADRON: CH_HADRON, NEUTRAL_HADRON: NEU_HADRON, PHOTON: GAMMA, ELECTRON: ELEC, MUON: MU}[s]
            for s in range(6)
        ]
    )  # fmt: skip
    return table[sp]


class Elements(NamedTuple):
    """Packed elements: ``features [..., n_slots, F]`` (columns :data:`FEATURES`), ``mask [..., n_slots]``."""

    features: jax.Array
    mask: jax.Array


class ElementTruth(NamedTuple):
    """Truth of each slot ``[..., n_slots]`` (host NumPy).

    particle: int32 index of the target generator particle in the event's particle axis (−1: none).
    fraction: the target's share of the element's noise-free energy (1 for tracks, 0 if none).
    pf_class: int32 class of the target (:data:`PF_CLASSES`; 0 ``none`` without a target).
    """

    particle: np.ndarray
    fraction: np.ndarray
    pf_class: np.ndarray


class ElementLayout(NamedTuple):
    """Host data that fixes an event batch's elements (what :func:`element_features` needs besides values).

    ecal, hcal: :class:`~hepjax.pflow.clustering.PaddedMembership` stacked over events (``labels
    [B, n_eta, n_phi]``, ``seeds``/``n_cells``/``mask [B, K]``).
    source: ``[B, n_slots]`` int32 row of each slot in ``[tracks (n) | ECAL clusters (K) | HCAL clusters (K)]``
    (−1: padding).
    """

    ecal: PaddedMembership
    hcal: PaddedMembership
    source: np.ndarray


def _hcal_z(eta, layout: CaloLayout):
    return jnp.where(jnp.abs(eta) > layout.hf_eta, layout.hf_z, layout.hcal_z)


def track_features(reco: Reco, layout: CaloLayout = CaloLayout()) -> tuple[jax.Array, jax.Array]:
    """Track rows ``[..., n, F]`` for every particle slot of ``reco`` and the mask of real tracks ``[..., n]`` (JAX)."""
    charged = (reco.species == CHARGED_HADRON) | (reco.species == ELECTRON) | (reco.species == MUON)
    mask = charged & reco.mask & (reco.pt > 0)
    zero = jnp.zeros_like(reco.pt)
    # a safe pT off the tracks: the helix is not evaluated at pT = 0
    pt = jnp.where(mask, reco.pt, 1.0)
    eta, phi, q, z0 = (jnp.where(mask, x, zero) for x in (reco.eta, reco.phi, reco.charge, reco.z0))
    q = jnp.where(mask & (q == 0), 1.0, q)
    geo = dict(b_field=layout.b_field)
    fe = front_point(pt, eta, phi, q, z0, radius=layout.ecal_radius, z_front=layout.ecal_z, **geo)
    fh = front_point(pt, eta, phi, q, z0, radius=layout.hcal_radius, z_front=_hcal_z(eta, layout), **geo)
    energy = jnp.sqrt(PION_MASS**2 + (pt * jnp.cosh(eta)) ** 2)
    cols = dict(
        type=jnp.full_like(zero, TRACK),
        pt=pt,
        eta=eta,
        phi=phi,
        energy=energy,
        charge=q,
        d0=reco.d0,
        z0=z0,
        quality=reco.sigma_pt_rel,
        eta_ecal=jnp.where(fe.arrives, fe.eta, 0.0),
        phi_ecal=jnp.where(fe.arrives, fe.phi, 0.0),
        eta_hcal=jnp.where(fh.arrives, fh.eta, 0.0),
        phi_hcal=jnp.where(fh.arrives, fh.phi, 0.0),
    )
    rows = jnp.stack([jnp.where(mask, cols[f], zero) if f in cols else zero for f in FEATURES], -1)
    return rows, mask


def _cluster_rows(cells, membership: PaddedMembership, grid, layer: int) -> jax.Array:
    """Cluster rows ``[K, F]`` of one event's grid."""
    f = cluster_features(cells, membership, grid, layer=layer)
    zero = jnp.zeros_like(f.energy)
    pos = ("eta_ecal", "phi_ecal") if layer == ECAL_LAYER else ("eta_hcal", "phi_hcal")
    cols = f._asdict() | {
        "type": jnp.where(f.mask, float(ECAL_CLUSTER if layer == ECAL_LAYER else HCAL_CLUSTER), 0.0),
        "pt": f.energy / jnp.cosh(f.eta),
        pos[0]: f.eta,
        pos[1]: f.phi,
    }
    return jnp.stack([cols[k].astype(zero.dtype) if k in cols else zero for k in FEATURES], -1)


def element_features(
    reco: Reco, ecal_cells, hcal_cells, layout_: ElementLayout, det: DetectorParams, layout: CaloLayout = CaloLayout()
) -> Elements:
    """Packed :class:`Elements` ``[B, n_slots, F]`` of a batch (JAX; differentiable in cells and tracks).

    Args:
      reco: :class:`~hepjax.detector.smearing.Reco` with fields ``[B, n]``.
      ecal_cells, hcal_cells: ``[B, n_eta, n_phi]`` cell energies, GeV.
      layout_: :class:`ElementLayout` from :func:`build_elements` (memberships and slots, fixed).
      det: the detector (grids).
      layout: calorimeter front geometry (static).
    """
    trk, _ = track_features(reco, layout)
    vm = jax.vmap(_cluster_rows, in_axes=(0, 0, None, None))
    ecal = vm(jnp.asarray(ecal_cells), layout_.ecal, det.ecal.grid, ECAL_LAYER)
    hcal = vm(jnp.asarray(hcal_cells), layout_.hcal, det.hcal.grid, HCAL_LAYER)
    rows = jnp.concatenate([trk, ecal.astype(trk.dtype), hcal.astype(trk.dtype)], axis=1)
    src = jnp.asarray(layout_.source)
    out = jnp.take_along_axis(rows, jnp.maximum(src, 0)[..., None], axis=1)
    mask = src >= 0
    return Elements(jnp.where(mask[..., None], out, 0.0), mask)


def _check_inputs(reco: Reco, cells: CaloCells) -> None:
    lead = np.shape(reco.pt)
    if len(lead) != 2:
        raise DataError(f"build_elements takes a batch: reco.pt must be [n_events, n], got shape {lead}")
    for name in ("ecal", "hcal"):
        c = np.asarray(getattr(cells, name))
        if c.shape[:1] != lead[:1] or c.ndim != 3:
            raise DataError(f"cells.{name} has shape {c.shape}; expected [{lead[0]}, n_eta, n_phi] (reco has {lead})")
        bad = ~np.isfinite(c)
        if bad.any():
            ev = int(np.argmax(bad.reshape(len(c), -1).any(1)))
            raise DataError(f"cells.{name} of event {ev} holds {int(bad[ev].sum())} non-finite cell energies")
    if np.shape(cells.ecal_index)[:2] != lead:
        raise DataError(f"cells.ecal_index has shape {np.shape(cells.ecal_index)}; expected {lead} + [W] (as reco)")
    m = np.asarray(reco.mask)
    for f in ("pt", "eta", "phi", "charge", "d0", "z0"):
        x = np.asarray(getattr(reco, f))
        if x.shape != lead:
            raise DataError(f"reco.{f} has shape {x.shape}, reco.pt {lead}")
        bad = m & ~np.isfinite(x)
        if bad.any():
            ev, i = (int(v[0]) for v in np.nonzero(bad))
            raise DataError(f"reco.{f} of event {ev}, particle {i} is not finite: {x[ev, i]}")


def _stack_memberships(ms: list, buckets: list[int]) -> tuple[PaddedMembership, list[int]]:
    padded = []
    for m in ms:
        p, buckets = pad_membership(m, buckets)
        padded.append(p)
    return PaddedMembership(*(np.stack(x) for x in zip(*padded))), buckets


def _cluster_truth(labels: np.ndarray, index, contrib, n_particles: int, k: int):
    """[B, K] dominant particle and its fraction of each cluster's noise-free energy."""
    t = truth_table(index, contrib)
    b = labels.shape[0]
    lab = labels.reshape(b, -1)[t.event, t.cell]
    ok = lab >= 0
    e = np.zeros((b, k, n_particles))
    np.add.at(e, (t.event[ok], lab[ok], t.particle[ok]), t.energy[ok])
    total = e.sum(-1)
    best = np.argmax(e, -1)
    top = np.take_along_axis(e, best[..., None], -1)[..., 0]
    has = total > 0
    return np.where(has, best, -1).astype(np.int32), np.where(has, top / np.where(has, total, 1.0), 0.0)


_element_features_jit = jax.jit(element_features, static_argnames=("layout",))
_track_features_jit = jax.jit(track_features, static_argnames=("layout",))


def build_elements(
    reco: Reco,
    cells: CaloCells,
    det: DetectorParams,
    shower_params: ShowerParams,
    layout: CaloLayout = CaloLayout(),
    *,
    topo: TopoConfig = TopoConfig(),
    buckets: list[int] | None = None,
    cluster_buckets: tuple[int, ...] = (CLUSTER_QUANTUM, 128, 512),
) -> tuple[Elements, ElementTruth, ElementLayout, list[int]]:
    """Cluster the cells, pack tracks and clusters of a batch into :class:`Elements`, and their truth.

    Args:
      reco: :class:`~hepjax.detector.smearing.Reco` ``[B, n]`` of the event's particles (the tracks).
      cells: :class:`~hepjax.detector.showers.CaloCells` ``[B, ...]`` of the same particles.
      det, shower_params, layout: the detector, the shower parameters (the cell noise σ sets the
        clustering thresholds) and the front geometry the cells were made with.
      topo: the clustering thresholds (both calorimeters).
      buckets: element slot counts to choose from (default ``[ELEMENT_QUANTUM]``; extended if needed).
      cluster_buckets: cluster slot counts per calorimeter (the stacked memberships of the batch share one).
    Returns:
      ``(elements, truth, element_layout, buckets)``: :class:`Elements` ``[B, n_slots, F]``,
      :class:`ElementTruth` ``[B, n_slots]``, the :class:`ElementLayout` (to recompute the features
      differentiably with :func:`element_features`) and the possibly extended buckets.
    Raises:
      DataError: mismatched shapes or non-finite cells / track fields, naming the field and event.
    """
    _check_inputs(reco, cells)
    b, n = np.shape(reco.pt)
    ecal, hcal = np.asarray(cells.ecal), np.asarray(cells.hcal)
    me = [topo_clusters(ecal[i], float(shower_params.ecal_noise), topo) for i in range(b)]
    mh = [topo_clusters(hcal[i], float(shower_params.hcal_noise), topo) for i in range(b)]
    # one cluster bucket for both calorimeters and all events: the stacked arrays share a shape
    kmax = max([m.n_clusters for m in me + mh], default=0)
    k, _ = choose_set_bucket(kmax, list(cluster_buckets), quantum=CLUSTER_QUANTUM)
    pe, _ = _stack_memberships(me, [k])
    ph, _ = _stack_memberships(mh, [k])

    _, trk_mask = _track_features_jit(reco, layout)
    trk_mask = np.asarray(trk_mask)
    rows = [
        np.r_[np.flatnonzero(trk_mask[i]), n + np.arange(me[i].n_clusters), n + k + np.arange(mh[i].n_clusters)]
        for i in range(b)
    ]
    n_slots, buckets = choose_set_bucket(
        max(len(r) for r in rows), list(buckets or [ELEMENT_QUANTUM]), quantum=ELEMENT_QUANTUM
    )
    source = np.full((b, n_slots), -1, np.int32)
    for i, r in enumerate(rows):
        source[i, : len(r)] = r
    el_layout = ElementLayout(pe, ph, source)
    elements = _element_features_jit(reco, cells.ecal, cells.hcal, el_layout, det, layout=layout)

    # truth: rows of [tracks | ECAL clusters | HCAL clusters], then gathered as the slots
    ie, fe = _cluster_truth(pe.labels, cells.ecal_index, cells.ecal_contrib, n, k)
    ih, fh = _cluster_truth(ph.labels, cells.hcal_index, cells.hcal_contrib, n, k)
    it = np.where(trk_mask, np.arange(n)[None, :], -1)
    part = np.concatenate([it, ie, ih], 1)
    frac = np.concatenate([trk_mask.astype(np.float64), fe, fh], 1)
    src = np.maximum(source, 0)
    real = source >= 0
    part = np.where(real, np.take_along_axis(part, src, 1), -1).astype(np.int32)
    frac = np.where(real, np.take_along_axis(frac, src, 1), 0.0)
    sp = np.asarray(reco.species)
    cls = np.where(part >= 0, pf_class_of_species(np.take_along_axis(sp, np.maximum(part, 0), 1)), NONE)
    return elements, ElementTruth(part, frac, cls.astype(np.int32)), el_layout, buckets
