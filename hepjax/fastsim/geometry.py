"""The voxelised sampling calorimeter: CaloChallenge dataset-1 (photons) style binning.

Five layers (depth ranges in radiation lengths X0) binned in radius (mm) x angle, with
8 + 16x10 + 19x10 + 5 + 5 = 368 voxels as in CaloChallenge 2022 dataset 1 photons
(arXiv:2410.21611). The absorber is lead: X0 = 5.6 mm, critical energy 7.43 MeV, Moliere
radius 16 mm (PDG). Active layers are thin planes every ``sampling_step`` X0.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hepjax.config import param

# Pb (PDG Atomic & Nuclear properties)
X0_MM = 5.612
CRITICAL_ENERGY_GEV = 7.43e-3
SCALE_ENERGY_GEV = 21.2e-3  # E_s = m_e sqrt(4 pi / alpha)
Z_ABSORBER = 82.0
MOLIERE_RADIUS_MM = X0_MM * SCALE_ENERGY_GEV / CRITICAL_ENERGY_GEV

LAYER_DEPTHS_X0 = ((0.0, 2.0), (2.0, 6.0), (6.0, 20.0), (20.0, 26.0), (26.0, 40.0))
RADIAL_EDGES_MM = (
    (0.0, 5.0, 10.0, 30.0, 50.0, 100.0, 200.0, 400.0, 600.0),
    (0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 50.0, 60.0, 80.0, 100.0),
    (
        0.0,
        2.0,
        4.0,
        6.0,
        8.0,
        10.0,
        12.0,
        15.0,
        20.0,
        25.0,
        30.0,
        35.0,
        40.0,
        50.0,
        60.0,
        80.0,
        100.0,
        130.0,
        160.0,
        200.0,
    ),
    (0.0, 50.0, 100.0, 200.0, 400.0, 600.0),
    (0.0, 100.0, 200.0, 400.0, 1000.0, 2000.0),
)
ALPHA_BINS = (1, 10, 10, 1, 1)


@dataclasses.dataclass(frozen=True)
class CalorimeterConfig:
    """The ``calorimeter:`` section: the sampling structure and the cascade's cut-offs."""

    sampling_step: float = param(0.5, gt=0.0, le=2.0, doc="absorber thickness between active planes [X0]")
    photon_cut: float = param(2e-3, gt=0.0, doc="photons below this are absorbed locally [GeV]")
    brems_cut: float = param(2e-3, gt=0.0, doc="bremsstrahlung photons below this are not produced [GeV]")
    electron_cut: float = param(10e-3, gt=0.0, doc="e+- below this end with a straight residual range [GeV]")
    max_step: float = param(0.5, gt=0.0, doc="longest e+- step between multiple-scattering kicks [X0]")
    em_scale: float = param(
        0.97, gt=0.0, doc="visible/true energy response (measured: 0.97 at 10–100 GeV, 0.98 at 1 GeV)"
    )


def voxel_counts() -> list[int]:
    """Voxels per layer: ``[8, 160, 190, 5, 5]``."""
    return [(len(e) - 1) * a for e, a in zip(RADIAL_EDGES_MM, ALPHA_BINS)]


N_VOXELS = sum(voxel_counts())  # 368
N_LAYERS = len(LAYER_DEPTHS_X0)
DEPTH_X0 = LAYER_DEPTHS_X0[-1][1]


def layer_slices() -> list[slice]:
    """Slices of the flat ``[368]`` voxel vector belonging to each layer."""
    edges = np.cumsum([0] + voxel_counts())
    return [slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def voxel_index(layer: np.ndarray, x_mm: np.ndarray, y_mm: np.ndarray) -> np.ndarray:
    """Flat voxel index ``[n]`` of hits in ``layer [n]`` at transverse ``(x, y)`` mm; -1 outside."""
    out = np.full(layer.shape, -1, np.int64)
    r = np.hypot(x_mm, y_mm)
    alpha = np.mod(np.arctan2(y_mm, x_mm), 2 * np.pi)
    offset = 0
    for li, (edges, n_a) in enumerate(zip(RADIAL_EDGES_MM, ALPHA_BINS)):
        sel = layer == li
        rb = np.searchsorted(np.asarray(edges), r[sel], side="right") - 1
        ab = np.minimum((alpha[sel] / (2 * np.pi) * n_a).astype(np.int64), n_a - 1)
        ok = rb < len(edges) - 1
        out[np.flatnonzero(sel)[ok]] = offset + rb[ok] * n_a + ab[ok]
        offset += (len(edges) - 1) * n_a
    return out


def voxel_centres() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per voxel ``[368]``: layer index, radial centre (mm) and angle centre (rad)."""
    layers, rs, alphas = [], [], []
    for li, (edges, n_a) in enumerate(zip(RADIAL_EDGES_MM, ALPHA_BINS)):
        e = np.asarray(edges)
        rc = 0.5 * (e[:-1] + e[1:])
        ac = (np.arange(n_a) + 0.5) / n_a * 2 * np.pi
        layers.append(np.full(len(rc) * n_a, li))
        rs.append(np.repeat(rc, n_a))
        alphas.append(np.tile(ac, len(rc)))
    return np.concatenate(layers), np.concatenate(rs), np.concatenate(alphas)


def symmetry_permutations() -> np.ndarray:
    """The calorimeter's azimuthal symmetry group as voxel permutations ``[2 * n_alpha, 368]``.

    A photon entering on the axis makes showers whose distribution is invariant under rotations
    by one angular bin (``2 pi / n_alpha``) and reflections ``alpha -> -alpha``: the dihedral group
    of order ``2 * n_alpha`` (20 for 10 bins). Row ``g`` maps a shower to its image:
    ``voxels[:, perms[g]]``: rows ``k < n_alpha`` rotate by ``k`` bins, rows ``n_alpha + k`` rotate
    by ``k`` bins and then reflect. Row 0 is the identity; layers with one angular bin are
    unchanged, and every segmented layer turns by the same element. Layer energies, radial
    profiles, transverse widths and sparsity are invariant; shower centres rotate.
    """
    n_a = {a for a in ALPHA_BINS if a > 1}
    if len(n_a) != 1:
        raise ValueError(f"segmented layers must share their angular binning, got {ALPHA_BINS}")
    n_a = n_a.pop()
    perms = []
    for reflect in (False, True):
        for k in range(n_a):
            idx, offset = [], 0
            for edges, a in zip(RADIAL_EDGES_MM, ALPHA_BINS):
                j = np.arange(a)
                # image bin j holds source bin j - k (rotation), or a - 1 - j - k (then reflection);
                # with one angular bin (a = 1) both are bin 0
                src = (((a - 1 - j) if reflect else j) - k) % a
                rings = np.arange(len(edges) - 1)[:, None] * a
                idx.append((offset + rings + src[None, :]).ravel())
                offset += (len(edges) - 1) * a
            perms.append(np.concatenate(idx))
    return np.stack(perms)
