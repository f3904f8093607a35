"""Topological clustering of calorimeter cells (4-2-0) on the host, cluster features in JAX.

**Membership** (:func:`topo_clusters`, NumPy/SciPy, one calorimeter of one event): with the cell
significance ``s = E / σ_noise``,

1. *seeds* are cells with ``s > seed`` (4), *growing* cells those with ``s > grow`` (2);
2. the connected components (8 neighbours in η × φ, φ periodic) of the growing cells that hold at
   least one seed are the cluster cores — growing from every seed through neighbours above 2σ, and
   merging clusters whose growth meets, gives exactly these components;
3. *boundary* cells, ``boundary < s ≤ grow`` (0 < s ≤ 2), adjacent to a core join it (not grown
   from); a boundary cell next to several clusters joins the one whose adjacent core cell is the most
   energetic.

This is the 4-2-0 scheme of ATLAS (EPJC 77 (2017) 490, "Topological cell clustering in the ATLAS
calorimeters"). **Splitting** (``split=True``): the *local maxima* of a cluster are its cells with
``s > seed`` and ``E > split_min_energy`` whose energy exceeds that of each of their neighbours in
the same cluster. A cluster with two or more local maxima is split by growing all of them at once
through the cluster's own cells, one ring of neighbours per step; a cell reached in the same step
from several maxima joins the one whose adjacent, already assigned cell is the most energetic (a
simplified version of the ATLAS splitter, which shares such cells between the two).

Clusters are numbered by decreasing energy. The membership is fixed: it is data (integer labels),
not a function of the cell energies, so everything computed from it in JAX is differentiable in the
cells with the membership held fixed.

**Features** (:func:`cluster_features`, JAX): per cluster, E = Σ E_c; η and φ the energy-weighted
means (φ measured from the cluster's most energetic cell, so clusters across φ = ±π are fine);
σ_η, σ_φ the energy-weighted RMS widths; the cell count; the energy in the ECAL and in the HCAL;
``depth``, the energy-weighted layer index (0 ECAL, 1 HCAL; per-calorimeter clusters sit at their
layer's value — it becomes informative once ECAL and HCAL clusters are linked). Clusters are padded to
bucketed slot counts with :mod:`hepjax.nn.padding` (:func:`pad_membership`), so an event's features
have a static shape ``[n_slots]`` and ``mask`` marks the real clusters.
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from scipy import ndimage

from hepjax.detector.params import CaloGrid
from hepjax.errors import ConfigError, DataError
from hepjax.kinematics import wrap_phi
from hepjax.nn.padding import choose_set_bucket, pad_set

#: Slot-count quantum of the cluster buckets (clusters per calorimeter and event are tens, not thousands).
CLUSTER_QUANTUM = 32
ECAL_LAYER, HCAL_LAYER = 0, 1
_OFFSETS = [(di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1) if (di, dj) != (0, 0)]


@dataclasses.dataclass(frozen=True)
class TopoConfig:
    """Thresholds of the topological clustering, in units of the cell noise σ (and GeV).

    Fields:
      seed: seed threshold (4).
      grow: growing threshold (2); must not exceed ``seed``.
      boundary: boundary threshold (0); must not exceed ``grow``.
      split: split clusters with several local maxima.
      split_min_energy: a local maximum also needs E above this, GeV (0: the seed threshold only).
    """

    seed: float = 4.0
    grow: float = 2.0
    boundary: float = 0.0
    split: bool = True
    split_min_energy: float = 0.0

    def __post_init__(self):
        if not self.seed >= self.grow >= self.boundary:
            raise ConfigError(
                f"TopoConfig needs seed >= grow >= boundary, got seed={self.seed}, grow={self.grow}, boundary={self.boundary}"
            )


class Membership(NamedTuple):
    """Clusters of one calorimeter grid (host NumPy).

    labels: ``[n_eta, n_phi]`` int32 cluster index of each cell, −1 outside clusters.
    seeds: ``[n_clusters]`` int32 flat index (``i_eta·n_phi + i_phi``) of each cluster's most energetic cell.
    n_cells: ``[n_clusters]`` int32.
    """

    labels: np.ndarray
    seeds: np.ndarray
    n_cells: np.ndarray

    @property
    def n_clusters(self) -> int:
        return len(self.seeds)


def _neighbours(flat: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``[m, 8]`` flat indices of the 8 neighbours of the cells ``flat`` (φ periodic; −1 beyond the η edges)."""
    n_eta, n_phi = shape
    i, j = np.divmod(flat, n_phi)
    out = np.empty((len(flat), len(_OFFSETS)), np.int64)
    for k, (di, dj) in enumerate(_OFFSETS):
        ni = i + di
        out[:, k] = np.where((ni >= 0) & (ni < n_eta), ni * n_phi + np.mod(j + dj, n_phi), -1)
    return out


def _gather(values: np.ndarray, idx: np.ndarray, fill) -> np.ndarray:
    """``values[idx]`` with ``fill`` where ``idx`` is −1."""
    return np.where(idx >= 0, values[np.maximum(idx, 0)], fill)


def _components(mask: np.ndarray) -> np.ndarray:
    """8-connected components of ``mask`` with φ (axis 1) periodic: labels 0 (background) or 1..K."""
    lab, k = ndimage.label(mask, structure=np.ones((3, 3), bool))
    if k == 0 or mask.shape[1] < 3:
        return lab
    # the seam: (i, n_phi − 1) touches (i + di, 0); merge those labels (min-label propagation)
    pairs = [
        np.stack([lab[max(0, -di) : lab.shape[0] - max(0, di), -1], lab[max(0, di) : lab.shape[0] - max(0, -di), 0]], 1)
        for di in (-1, 0, 1)
    ]
    pairs = np.concatenate(pairs)
    pairs = pairs[(pairs[:, 0] > 0) & (pairs[:, 1] > 0)]
    root = np.arange(k + 1)
    while len(pairs):
        a, b = root[pairs[:, 0]], root[pairs[:, 1]]
        if np.all(a == b):
            break
        lo = np.minimum(a, b)
        np.minimum.at(root, a, lo)
        np.minimum.at(root, b, lo)
        root = root[root]  # path compression
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            return root[lab]
        root = nxt


def topo_clusters(cells, noise_sigma, config: TopoConfig = TopoConfig()) -> Membership:
    """4-2-0 topological clusters of one ``[n_eta, n_phi]`` grid (GeV); see the module docstring.

    Args:
      cells: ``[n_eta, n_phi]`` cell energies, GeV.
      noise_sigma: the cell noise σ, GeV: a scalar or ``[n_eta, n_phi]`` (> 0).
      config: thresholds and splitting.
    Returns:
      :class:`Membership`.
    """
    e = np.asarray(cells, np.float64)
    if e.ndim != 2:
        raise DataError(f"topo_clusters takes one [n_eta, n_phi] grid, got cells of shape {e.shape}")
    if not np.all(np.isfinite(e)):
        i = np.unravel_index(np.argmax(~np.isfinite(e)), e.shape)
        raise DataError(f"cell energy at (i_eta, i_phi) = {tuple(int(x) for x in i)} is not finite: {e[i]}")
    sigma = np.broadcast_to(np.asarray(noise_sigma, np.float64), e.shape)
    if np.any(sigma <= 0):
        raise DataError(f"noise_sigma must be > 0, got min {sigma.min()}")
    s = e / sigma
    e_flat = e.reshape(-1)
    comp = _components(s > config.grow).reshape(-1)
    has_seed = np.zeros(comp.max(initial=0) + 1, bool)
    has_seed[comp[s.reshape(-1) > config.seed]] = True
    has_seed[0] = False
    core = has_seed[comp]
    labels = np.where(core, comp, -1)
    # boundary cells: one ring around the cores, to the cluster of the most energetic adjacent core cell
    ring = np.flatnonzero((s.reshape(-1) > config.boundary) & ~core)
    nb = _neighbours(ring, e.shape)
    nl = _gather(labels, nb, -1)
    ne = np.where(nl >= 0, _gather(e_flat, nb, -np.inf), -np.inf)
    best = np.argmax(ne, axis=1)
    got = np.isfinite(ne[np.arange(len(ring)), best])
    labels = labels.copy()
    labels[ring[got]] = nl[np.arange(len(ring)), best][got]

    members = np.flatnonzero(labels >= 0)
    if config.split and len(members):
        nb = _neighbours(members, e.shape)
        lab_m = labels[members]
        same = _gather(labels, nb, -1) == lab_m[:, None]
        higher = e_flat[members][:, None] > _gather(e_flat, nb, -np.inf)
        is_max = np.all(~same | higher, axis=1)
        is_max &= (s.reshape(-1)[members] > config.seed) & (e_flat[members] > config.split_min_energy)
        n_max = np.bincount(lab_m[is_max], minlength=lab_m.max() + 1)
        multi = n_max[lab_m] >= 2
        if multi.any():
            labels = _split(labels, members[multi], is_max[multi], e_flat, e.shape)

    return _renumber(labels, e_flat, e.shape)


def _split(labels: np.ndarray, cells: np.ndarray, is_max: np.ndarray, e_flat: np.ndarray, shape) -> np.ndarray:
    """Regrow the clusters of ``cells`` (flat indices) from their maxima, one ring per step; a cell
    reached from several maxima in one step joins the one whose adjacent assigned cell is most energetic."""
    region = labels[cells]
    new = np.full(len(cells), -1)
    new[is_max] = labels.max() + 1 + np.arange(int(is_max.sum()))
    pos = np.full(labels.size, -1)
    pos[cells] = np.arange(len(cells))
    nbp = _gather(pos, _neighbours(cells, shape), -1)  # neighbours as positions in ``cells``
    ok = (nbp >= 0) & (region[np.maximum(nbp, 0)] == region[:, None])
    nbp = np.where(ok, nbp, -1)
    ne = _gather(e_flat[cells], nbp, -np.inf)
    while (new < 0).any():
        nl = _gather(new, nbp, -1)
        cand = np.where(nl >= 0, ne, -np.inf)
        best = np.argmax(cand, axis=1)
        rows = np.arange(len(cells))
        take = (new < 0) & np.isfinite(cand[rows, best])
        if not take.any():
            break  # cells no maximum can reach (not for connected clusters)
        new = np.where(take, nl[rows, best], new)
    out = labels.copy()
    out[cells] = np.where(new >= 0, new, region)
    return out


def _renumber(labels: np.ndarray, e_flat: np.ndarray, shape) -> Membership:
    """Clusters renumbered 0..K−1 by decreasing energy, with their most energetic cell and size."""
    member = np.flatnonzero(labels >= 0)
    ids, inv = np.unique(labels[member], return_inverse=True)
    if len(ids) == 0:
        return Membership(np.full(shape, -1, np.int32), np.zeros(0, np.int32), np.zeros(0, np.int32))
    dense = np.full(labels.size, -1)
    dense[member] = inv.reshape(-1)
    energy = np.bincount(dense[member], weights=e_flat[member], minlength=len(ids))
    order = np.argsort(-energy, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(ids))
    flat_new = np.full(labels.size, -1)
    flat_new[member] = rank[dense[member]]
    n_cells = np.bincount(flat_new[member], minlength=len(ids)).astype(np.int32)
    # the most energetic cell of each cluster: members sorted by (cluster, energy), the last of each
    srt = member[np.lexsort((e_flat[member], flat_new[member]))]
    last = np.r_[np.flatnonzero(np.diff(flat_new[srt])), len(srt) - 1]
    seeds = np.zeros(len(ids), np.int32)
    seeds[flat_new[srt[last]]] = srt[last]
    return Membership(flat_new.reshape(shape).astype(np.int32), seeds, n_cells)


class PaddedMembership(NamedTuple):
    """A :class:`Membership` with its per-cluster arrays padded to ``n_slots`` (a bucket).

    labels: ``[n_eta, n_phi]`` int32 (−1 outside clusters); seeds, n_cells: ``[n_slots]`` int32
    (0 in padding); mask: ``[n_slots]`` bool, True for real clusters.
    """

    labels: np.ndarray
    seeds: np.ndarray
    n_cells: np.ndarray
    mask: np.ndarray


def pad_membership(
    m: Membership, buckets: list[int], *, quantum: int = CLUSTER_QUANTUM
) -> tuple[PaddedMembership, list[int]]:
    """Pad ``m`` to the smallest bucket that holds its clusters (a new, larger bucket with a warning if
    none does: never a truncation). Returns the padded membership and the (possibly extended) buckets."""
    n, buckets = choose_set_bucket(m.n_clusters, buckets, quantum=quantum)
    (seeds, n_cells), mask = pad_set((m.seeds, m.n_cells), n)
    return PaddedMembership(m.labels, seeds, n_cells, mask), buckets


class ClusterFeatures(NamedTuple):
    """Per-cluster features ``[..., n_slots]`` (0 in padding slots).

    energy (GeV), eta, phi (rad, [−π, π)), sigma_eta, sigma_phi (energy-weighted RMS; rad), n_cells,
    ecal_e, hcal_e (GeV), depth (energy-weighted layer index: 0 ECAL, 1 HCAL), mask (bool).
    """

    energy: jax.Array
    eta: jax.Array
    phi: jax.Array
    sigma_eta: jax.Array
    sigma_phi: jax.Array
    n_cells: jax.Array
    ecal_e: jax.Array
    hcal_e: jax.Array
    depth: jax.Array
    mask: jax.Array


def cluster_features(cells: jax.Array, membership: PaddedMembership, grid: CaloGrid, *, layer: int) -> ClusterFeatures:
    """Features of the clusters of one grid from its cell energies and a fixed membership (JAX).

    Differentiable in ``cells``; vmap over events of one bucket. Args:
      cells: ``[n_eta, n_phi]`` cell energies, GeV (those the membership was made from, or any others).
      membership: :class:`PaddedMembership` (NumPy or JAX arrays; ``n_slots`` from its ``seeds``).
      grid: the grid's static geometry.
      layer: :data:`ECAL_LAYER` or :data:`HCAL_LAYER` (static).
    Returns:
      :class:`ClusterFeatures`.
    """
    if layer not in (ECAL_LAYER, HCAL_LAYER):
        raise ConfigError(f"layer must be {ECAL_LAYER} (ECAL) or {HCAL_LAYER} (HCAL), got {layer}")
    cells = jnp.asarray(cells)
    n_slots = membership.seeds.shape[-1]
    lab = jnp.asarray(membership.labels).reshape(-1)
    seg = jnp.where(lab >= 0, lab, n_slots)  # outside clusters: an extra segment, dropped
    e = cells.reshape(-1)
    eta_c = -grid.eta_max + (jnp.arange(grid.n_eta, dtype=e.dtype) + 0.5) * grid.d_eta
    phi_c = -math.pi + (jnp.arange(grid.n_phi, dtype=e.dtype) + 0.5) * grid.d_phi
    eta_cell = jnp.repeat(eta_c, grid.n_phi)
    phi_cell = jnp.tile(phi_c, grid.n_eta)
    mask = jnp.asarray(membership.mask)
    seeds = jnp.asarray(membership.seeds)
    phi_seed = jnp.concatenate([phi_cell[seeds], jnp.zeros((1,), e.dtype)])  # per segment
    dphi = wrap_phi(phi_cell - phi_seed[seg])

    def ssum(x):
        return jax.ops.segment_sum(x, seg, num_segments=n_slots + 1)[:n_slots]

    energy = ssum(e)
    e_safe = jnp.where(mask & (energy != 0), energy, 1.0)
    eta = ssum(e * eta_cell) / e_safe
    dphi_mean = ssum(e * dphi) / e_safe
    m_slot = jnp.concatenate([eta, jnp.zeros((1,), e.dtype)])
    p_slot = jnp.concatenate([dphi_mean, jnp.zeros((1,), e.dtype)])
    var_eta = ssum(e * (eta_cell - m_slot[seg]) ** 2) / e_safe
    var_phi = ssum(e * (dphi - p_slot[seg]) ** 2) / e_safe
    zero = jnp.zeros_like(energy)

    def width(var):  # sqrt'(0) is infinite: a one-cell cluster has width 0 and a zero gradient
        pos = var > 1e-20
        return jnp.where(pos & mask, jnp.sqrt(jnp.where(pos, var, 1.0)), zero)

    def real(x):
        return jnp.where(mask, x, zero)

    phi = wrap_phi(phi_cell[seeds] + dphi_mean)
    return ClusterFeatures(
        energy=real(energy),
        eta=real(eta),
        phi=real(phi),
        sigma_eta=width(var_eta),
        sigma_phi=width(var_phi),
        n_cells=real(jnp.asarray(membership.n_cells).astype(e.dtype)),
        ecal_e=real(energy) if layer == ECAL_LAYER else zero,
        hcal_e=real(energy) if layer == HCAL_LAYER else zero,
        depth=jnp.where(mask, float(layer), 0.0).astype(e.dtype),
        mask=mask,
    )
