"""Reference calorimeter simulator: a stochastic electromagnetic cascade Monte Carlo.

The stand-in for Geant4 in the fast-simulation study, and slow the way a full simulation
is: it follows every particle above the cut-offs, so its cost grows with the incident energy.

Physics (lengths in radiation lengths X0, energies in GeV; Rossi's Approximation B with
sampled energy sharing):

- photons travel an exponential path with the energy-dependent attenuation length of lead
  (NIST XCOM; 9/7 X0 at high energy, ~3.7 X0 at the 4 MeV minimum) and then either convert
  to e+e- (energy fraction ``x`` of the electron from the complete-screening Bethe–Heitler
  shape ``1 - 4/3 x (1 - x)``) or Compton scatter (Klein–Nishina), in the XCOM proportion;
  photons below ``photon_cut`` are absorbed (photo-effect in lead: invisible);
- e+- radiate bremsstrahlung photons above ``brems_cut`` with the complete-screening
  spectrum ``dN/dy dt = (4/3 - 4/3 y + y^2) / y`` (``y = k / E``); between emissions they lose
  ``E_c`` per X0 to ionisation and are deflected by multiple scattering with Rossi's
  ``theta_0 = (E_s / E) sqrt(step)`` per plane; below ``electron_cut`` they end with a
  straight residual range ``E / E_c``;
- signal: thin active planes every ``sampling_step`` X0; every charged-track crossing of a
  plane samples the ionisation of its cell, ``E_c * sampling_step / |cos theta|`` GeV. The
  fluctuation of the number of crossings gives the sampling term ``~ sqrt(E_c t_s / E)``.

Particles are processed a generation at a time as NumPy arrays (all showers of a chunk
together), so a shower costs ~ (number of tracks) x (NumPy per-element cost).

Example::

    showers = simulate_showers(np.array([10.0, 100.0]), seed=1)
    showers.voxels.shape   # (2, 368) GeV per voxel
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from tqdm.auto import tqdm

from hepjax.fastsim.geometry import (
    CRITICAL_ENERGY_GEV,
    DEPTH_X0,
    LAYER_DEPTHS_X0,
    MOLIERE_RADIUS_MM,
    N_VOXELS,
    SCALE_ENERGY_GEV,
    X0_MM,
    CalorimeterConfig,
    voxel_index,
)

PAIR_PATH_X0 = 9.0 / 7.0
ELECTRON_MASS_GEV = 0.511e-3
X0_G_CM2 = 6.37  # Pb
# Pb photon attenuation (NIST XCOM, rounded): energy [GeV], total mu/rho [cm2/g], pair fraction.
_XCOM_E = np.array([1e-3, 1.5e-3, 2e-3, 3e-3, 4e-3, 6e-3, 1e-2, 2e-2, 5e-2, 1e-1, 1.0, 10.0])
_XCOM_MU = np.array([0.0710, 0.0522, 0.0461, 0.0423, 0.0420, 0.0436, 0.0497, 0.0621, 0.0787, 0.0930, 0.113, 0.121])
_XCOM_PAIR = np.array([0.0, 0.03, 0.10, 0.30, 0.44, 0.60, 0.72, 0.85, 0.94, 0.97, 0.99, 1.0])


def photon_path_x0(energy: np.ndarray) -> np.ndarray:
    """Mean free path of photons in lead [X0] at ``energy`` GeV (-> 9/7 X0 at high energy)."""
    mu = np.interp(np.log(energy), np.log(_XCOM_E), _XCOM_MU)
    return 1.0 / (mu * X0_G_CM2)


def pair_fraction(energy: np.ndarray) -> np.ndarray:
    """Probability that a photon interaction in lead is a pair conversion (else Compton)."""
    return np.interp(np.log(energy), np.log(_XCOM_E), _XCOM_PAIR)


RADIAL_PROFILE_EDGES_RM = np.linspace(0.0, 5.0, 51)  # radial profile bins [Moliere radii]
MAX_INV_COS = 20.0  # cap on the 1/|cos theta| weight of grazing crossings


class Showers(NamedTuple):
    """Simulated showers.

    Attributes:
      energy: ``[n]`` incident photon energies [GeV].
      voxels: ``[n, 368]`` calibrated energy per voxel [GeV].
      longitudinal: ``[n, n_planes]`` energy per active plane (plane ``k`` at depth
        ``(k + 1/2) sampling_step`` X0) [GeV], or None.
      radial: ``[n, 50]`` energy in rings of ``0.1`` Moliere radius up to 5 R_M [GeV], or None.
    """

    energy: np.ndarray
    voxels: np.ndarray
    longitudinal: np.ndarray | None
    radial: np.ndarray | None


def brems_rate(y0: np.ndarray) -> np.ndarray:
    """Bremsstrahlung photons with ``y = k / E > y0`` per X0 (complete screening)."""
    return (4.0 / 3.0) * np.log(1.0 / y0) - (4.0 / 3.0) * (1.0 - y0) + 0.5 * (1.0 - y0**2)


def _sample_brems_fraction(rng: np.random.Generator, y0: np.ndarray) -> np.ndarray:
    y = np.empty_like(y0)
    todo = np.arange(y0.size)
    while todo.size:
        cand = y0[todo] ** (1.0 - rng.random(todo.size))  # ~ 1/y on [y0, 1]
        ok = rng.random(todo.size) < 1.0 - cand + 0.75 * cand**2
        y[todo[ok]] = cand[ok]
        todo = todo[~ok]
    return y


def _sample_pair_fraction(rng: np.random.Generator, n: int) -> np.ndarray:
    x = np.empty(n)
    todo = np.arange(n)
    while todo.size:
        cand = rng.random(todo.size)
        ok = rng.random(todo.size) < 1.0 - (4.0 / 3.0) * cand * (1.0 - cand)
        x[todo[ok]] = cand[ok]
        todo = todo[~ok]
    return x


def _sample_compton(rng: np.random.Generator, energy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Klein–Nishina: scattered photon fraction ``x = k'/k`` and ``cos theta`` for photons of ``energy``."""
    eps = energy / ELECTRON_MASS_GEV
    x_min = 1.0 / (1.0 + 2.0 * eps)
    x = np.empty_like(energy)
    todo = np.arange(energy.size)
    while todo.size:
        cand = x_min[todo] ** (1.0 - rng.random(todo.size))  # ~ 1/x on [x_min, 1]
        cos_t = 1.0 - (1.0 / cand - 1.0) / eps[todo]
        sin2 = 1.0 - cos_t**2
        ok = rng.random(todo.size) < 0.5 * (1.0 + cand**2 - cand * sin2)
        x[todo[ok]] = cand[ok]
        todo = todo[~ok]
    return x, 1.0 - (1.0 / x - 1.0) / eps


def _rotate(rng: np.random.Generator, u: np.ndarray, cos_t: np.ndarray) -> np.ndarray:
    """Turn unit vectors ``u [n, 3]`` by polar angles ``arccos(cos_t)`` at random azimuth."""
    helper = np.where(np.abs(u[:, 2:3]) < 0.9, np.array([[0.0, 0.0, 1.0]]), np.array([[1.0, 0.0, 0.0]]))
    e1 = np.cross(u, helper)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    e2 = np.cross(u, e1)
    phi = rng.uniform(0.0, 2.0 * np.pi, u.shape[0])
    sin_t = np.sqrt(np.clip(1.0 - cos_t**2, 0.0, 1.0))
    return cos_t[:, None] * u + (sin_t * np.cos(phi))[:, None] * e1 + (sin_t * np.sin(phi))[:, None] * e2


def _scatter(rng: np.random.Generator, u: np.ndarray, theta0: np.ndarray) -> np.ndarray:
    """Deflect unit vectors ``u [n, 3]`` by Gaussian projected angles of width ``theta0 [n]``."""
    helper = np.where(np.abs(u[:, 2:3]) < 0.9, np.array([[0.0, 0.0, 1.0]]), np.array([[1.0, 0.0, 0.0]]))
    e1 = np.cross(u, helper)
    e1 /= np.linalg.norm(e1, axis=1, keepdims=True)
    e2 = np.cross(u, e1)
    kick = rng.normal(size=(u.shape[0], 2)) * theta0[:, None]
    v = u + kick[:, :1] * e1 + kick[:, 1:] * e2
    return v / np.linalg.norm(v, axis=1, keepdims=True)


class _Hits:
    """Accumulates plane crossings: shower id, plane index, x, y [X0], weight [GeV]."""

    def __init__(self, step: float, n_planes: int):
        self.step, self.n_planes = step, n_planes
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add_segments(self, sid, a: np.ndarray, b: np.ndarray) -> None:
        """Straight segments from ``a [n, 3]`` to ``b [n, 3]`` (X0)."""
        if sid.size == 0:
            return
        za, zb = a[:, 2], b[:, 2]
        ka = np.floor(za / self.step - 0.5).astype(np.int64)
        kb = np.floor(zb / self.step - 0.5).astype(np.int64)
        lo = np.maximum(np.minimum(ka, kb) + 1, 0)
        hi = np.minimum(np.maximum(ka, kb), self.n_planes - 1)
        n = np.maximum(hi - lo + 1, 0)
        total = int(n.sum())
        if total == 0:
            return
        seg = np.repeat(np.arange(sid.size), n)
        first = np.cumsum(n) - n
        k = lo[seg] + np.arange(total) - first[seg]
        dz = zb - za
        f = ((k + 0.5) * self.step - za[seg]) / dz[seg]
        x = a[seg, 0] + f * (b[seg, 0] - a[seg, 0])
        y = a[seg, 1] + f * (b[seg, 1] - a[seg, 1])
        length = np.linalg.norm(b - a, axis=1)
        inv_cos = np.minimum(length / np.maximum(np.abs(dz), 1e-12), MAX_INV_COS)
        w = CRITICAL_ENERGY_GEV * self.step * inv_cos[seg]
        self.parts.append((sid[seg], k, x, y, w))

    def arrays(self):
        if not self.parts:
            e = np.empty(0)
            return e.astype(np.int64), e.astype(np.int64), e, e, e
        return tuple(np.concatenate(p) for p in zip(*self.parts))


def _transport(energies: np.ndarray, rng: np.random.Generator, cfg: CalorimeterConfig) -> _Hits:
    """Follow all showers of ``energies [n]`` (photons entering at the origin along +z)."""
    n_planes = int(round(DEPTH_X0 / cfg.sampling_step))
    hits = _Hits(cfg.sampling_step, n_planes)
    ec = CRITICAL_ENERGY_GEV
    # The particle stack: energy, position [X0], direction, is-electron, shower id.
    E = energies.astype(np.float64).copy()
    pos = np.zeros((E.size, 3))
    u = np.tile([0.0, 0.0, 1.0], (E.size, 1))
    is_e = np.zeros(E.size, bool)
    sid = np.arange(E.size)
    while E.size:
        new_E, new_pos, new_u, new_e, new_sid = [], [], [], [], []
        # --- photons: pair conversion or Compton scattering (or leave the calorimeter) ---
        g = ~is_e
        if g.any():
            pg = pos[g] + (rng.exponential(1.0, g.sum()) * photon_path_x0(E[g]))[:, None] * u[g]
            inside = (pg[:, 2] >= 0.0) & (pg[:, 2] < DEPTH_X0)
            eg, ug, sg, pg = E[g][inside], u[g][inside], sid[g][inside], pg[inside]
            pair = rng.random(eg.size) < pair_fraction(eg)
            x = _sample_pair_fraction(rng, int(pair.sum()))
            for share in (x, 1.0 - x):
                new_E.append(share * eg[pair]), new_pos.append(pg[pair]), new_u.append(ug[pair])
                new_e.append(np.ones(share.size, bool)), new_sid.append(sg[pair])
            c = ~pair
            if c.any():
                xc, cos_t = _sample_compton(rng, eg[c])
                u_gamma = _rotate(rng, ug[c], cos_t)
                p_e = eg[c][:, None] * ug[c] - (xc * eg[c])[:, None] * u_gamma
                u_e = p_e / np.maximum(np.linalg.norm(p_e, axis=1, keepdims=True), 1e-30)
                for energy, direction, electron in ((xc * eg[c], u_gamma, False), ((1.0 - xc) * eg[c], u_e, True)):
                    new_E.append(energy), new_pos.append(pg[c]), new_u.append(direction)
                    new_e.append(np.full(energy.size, electron)), new_sid.append(sg[c])
        # --- electrons at or below the cut: residual range, then stop ---
        low = is_e & (E <= cfg.electron_cut)
        if low.any():
            hits.add_segments(sid[low], pos[low], pos[low] + (E[low] / ec)[:, None] * u[low])
        # --- electrons above the cut: one step (ionisation, scattering, maybe a photon) ---
        hi = is_e & (E > cfg.electron_cut)
        if hi.any():
            ee, pe, ue, se = E[hi], pos[hi], u[hi], sid[hi]
            y0 = np.minimum(cfg.brems_cut / ee, 1.0)
            s_brems = rng.exponential(1.0, ee.size) / np.maximum(brems_rate(y0), 1e-12)
            s_limit = np.minimum(cfg.max_step, (ee - cfg.electron_cut) / ec)
            emit = s_brems < s_limit
            s = np.where(emit, s_brems, s_limit)
            e_mid = ee - 0.5 * ec * s
            u_new = _scatter(rng, ue, SCALE_ENERGY_GEV / e_mid * np.sqrt(s))
            chord = ue + u_new
            chord /= np.maximum(np.linalg.norm(chord, axis=1, keepdims=True), 1e-12)
            p_new = pe + s[:, None] * chord
            hits.add_segments(se, pe, p_new)
            e_after = ee - ec * s
            if emit.any():
                yk = _sample_brems_fraction(rng, np.minimum(cfg.brems_cut / e_after[emit], 1.0))
                k = yk * e_after[emit]
                e_after[emit] -= k
                keep_g = k >= cfg.photon_cut
                new_E.append(k[keep_g]), new_pos.append(p_new[emit][keep_g]), new_u.append(u_new[emit][keep_g])
                new_e.append(np.zeros(int(keep_g.sum()), bool)), new_sid.append(se[emit][keep_g])
            inside = (p_new[:, 2] >= 0.0) & (p_new[:, 2] < DEPTH_X0) & (e_after > 0)
            new_E.append(e_after[inside]), new_pos.append(p_new[inside]), new_u.append(u_new[inside])
            new_e.append(np.ones(int(inside.sum()), bool)), new_sid.append(se[inside])
        if not new_E:
            break
        E, pos, u = np.concatenate(new_E), np.concatenate(new_pos), np.concatenate(new_u)
        is_e, sid = np.concatenate(new_e), np.concatenate(new_sid)
        keep = ~(~is_e & (E < cfg.photon_cut))
        E, pos, u, is_e, sid = E[keep], pos[keep], u[keep], is_e[keep], sid[keep]
    return hits


def plane_layers(cfg: CalorimeterConfig) -> np.ndarray:
    """Voxel layer of every active plane ``[n_planes]`` (-1: between layers)."""
    n_planes = int(round(DEPTH_X0 / cfg.sampling_step))
    z = (np.arange(n_planes) + 0.5) * cfg.sampling_step
    out = np.full(n_planes, -1)
    for li, (a, b) in enumerate(LAYER_DEPTHS_X0):
        out[(z >= a) & (z < b)] = li
    return out


def check_energies(
    energies: np.ndarray, *, low: float = 0.0, high: float = np.inf, what: str = "incident energies"
) -> np.ndarray:
    """Validate ``energies`` [GeV]: finite and > 0 (error); outside ``[low, high]`` (warning)."""
    energies = np.atleast_1d(np.asarray(energies, np.float64))
    if energies.ndim != 1:
        raise ValueError(f"{what} must be a 1-D array [n] in GeV, got shape {energies.shape}")
    if not np.all(np.isfinite(energies)) or np.any(energies <= 0):
        finite = energies[np.isfinite(energies)]
        lowest = f"{finite.min():.4g}" if finite.size else "none finite"
        raise ValueError(
            f"{what} must be finite and > 0 GeV; got min {lowest}, NaN/Inf: {int(np.sum(~np.isfinite(energies)))}"
        )
    out = (energies < low) | (energies > high)
    if out.any():
        warnings.warn(
            f"{int(out.sum())} {what} lie outside [{low:g}, {high:g}] GeV (range: {energies.min():.3g}–{energies.max():.3g})",
            stacklevel=2,
        )
    return energies


def simulate_showers(
    energies: np.ndarray,
    *,
    seed: int,
    cfg: CalorimeterConfig = CalorimeterConfig(),
    profiles: bool = False,
    chunk_energy: float = 1000.0,
    progress: bool = False,
) -> Showers:
    """Simulate photon showers of ``energies [n]`` GeV; deterministic in ``seed``.

    Showers are transported together in chunks of about ``chunk_energy`` GeV.
    """
    energies = check_energies(energies, high=1e4)
    if cfg.photon_cut < 1.022e-3:
        raise ValueError(f"photon_cut = {cfg.photon_cut} GeV is below the pair threshold 1.022 MeV")
    n = energies.size
    n_planes = int(round(DEPTH_X0 / cfg.sampling_step))
    layer_of_plane = plane_layers(cfg)
    voxels = np.zeros((n, N_VOXELS))
    longi = np.zeros((n, n_planes)) if profiles else None
    radial = np.zeros((n, len(RADIAL_PROFILE_EDGES_RM) - 1)) if profiles else None
    chunks, start, acc = [], 0, 0.0
    for i, e in enumerate(energies):
        acc += e
        if acc >= chunk_energy or i == n - 1:
            chunks.append((start, i + 1))
            start, acc = i + 1, 0.0
    for ci, (a, b) in enumerate(tqdm(chunks, disable=not progress, unit="chunk", desc="cascade")):
        rng = np.random.default_rng([seed, ci])
        s, k, x, y, w = _transport(energies[a:b], rng, cfg).arrays()
        w = w / cfg.em_scale
        layer = layer_of_plane[k]
        vox = voxel_index(layer, x * X0_MM, y * X0_MM)
        ok = vox >= 0
        voxels[a:b] = np.bincount(s[ok] * N_VOXELS + vox[ok], w[ok], minlength=(b - a) * N_VOXELS).reshape(
            b - a, N_VOXELS
        )
        if profiles:
            longi[a:b] = np.bincount(s * n_planes + k, w, minlength=(b - a) * n_planes).reshape(b - a, n_planes)
            r_rm = np.hypot(x, y) * X0_MM / MOLIERE_RADIUS_MM
            nr = len(RADIAL_PROFILE_EDGES_RM) - 1
            rb = np.minimum((r_rm / RADIAL_PROFILE_EDGES_RM[-1] * nr).astype(np.int64), nr)
            inr = rb < nr
            radial[a:b] = np.bincount(s[inr] * nr + rb[inr], w[inr], minlength=(b - a) * nr).reshape(b - a, nr)
    return Showers(energies, voxels.astype(np.float32), longi, radial)


def sample_incident_energies(n: int, *, seed: int, low: float = 1.0, high: float = 1000.0) -> np.ndarray:
    """``n`` energies log-uniform in ``[low, high]`` GeV (CaloChallenge ds1 default 1 GeV–1 TeV)."""
    if not 0 < low < high:
        raise ValueError(f"need 0 < low < high, got {low}, {high}")
    return np.exp(np.random.default_rng(seed).uniform(np.log(low), np.log(high), n))
