"""Plain vectorised NumPy twin of :func:`hepjax.detector.smear`, written independently.

Two uses: the test oracle (given the same :class:`~hepjax.detector.smearing.Noise` it must
reproduce the JAX result to float round-off) and the benchmark peer (``hepjax bench detector``).
Cell deposition uses ``np.bincount``. No gradients.
"""

from __future__ import annotations

import math

import numpy as np

from hepjax.data.particles import Particles
from hepjax.detector.params import CaloGrid, DetectorParams
from hepjax.detector.smearing import NOISE_CLIP, Noise, Reco
from hepjax.detector.species import (
    CHARGED_HADRON,
    ELECTRON,
    MUON,
    NEUTRAL_HADRON,
    PHOTON,
    species_numpy,
)
from hepjax.kinematics import wrap_phi


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _step(x, width, hard, t):
    return (x > 0).astype(x.dtype) if hard else _sigmoid(x / (width * t)).astype(x.dtype)


def _region_value(values, abs_eta, edges, width, hard, t, row=None):
    """Σ_k w_k(|η|) v_k, the region weights written out as differences of steps."""
    values = np.asarray(values)
    edges = np.asarray(edges)
    v = values if row is None else values[row]  # [..., R] when row given
    out = np.zeros_like(abs_eta)
    prev = np.ones_like(abs_eta)  # P(|η| > e_{k-1})
    for k in range(len(edges) + 1):
        nxt = _step(abs_eta - edges[k], width, hard, t) if k < len(edges) else np.zeros_like(abs_eta)
        vk = v[k] if row is None else v[..., k]
        out += (prev - nxt) * vk
        prev = nxt
    return out


def draw_noise_numpy(rng: np.random.Generator, shape: tuple[int, ...], dtype=np.float32) -> Noise:
    """NumPy-generated :class:`Noise` (the peer's own random numbers)."""
    normals = [np.clip(rng.standard_normal(shape, dtype=dtype), -NOISE_CLIP, NOISE_CLIP) for _ in range(7)]
    return Noise(*normals, rng.random(shape, dtype=dtype))


def deposit_numpy(energy, eta, phi, grid: CaloGrid, hard: bool) -> np.ndarray:
    """NumPy twin of :func:`hepjax.detector.calorimeter.deposit` (``np.bincount``)."""
    energy = np.asarray(energy)
    lead = energy.shape[:-1]
    e = energy.reshape(-1, energy.shape[-1])
    eta = np.asarray(eta).reshape(e.shape)
    phi = np.asarray(phi).reshape(e.shape)
    ne, nphi = grid.n_eta, grid.n_phi
    base = (np.arange(e.shape[0]) * ne * nphi)[:, None]
    ue = (eta + grid.eta_max) / grid.d_eta
    up = (phi + math.pi) / grid.d_phi
    if hard:
        i = np.clip(np.floor(ue).astype(np.int64), 0, ne - 1)
        j = np.mod(np.floor(up).astype(np.int64), nphi)
        idx, val = [base + i * nphi + j], [e]
    else:
        ue, up = ue - 0.5, up - 0.5
        i0, j0 = np.floor(ue), np.floor(up)
        fe, fp = ue - i0, up - j0
        i0, j0 = i0.astype(np.int64), j0.astype(np.int64)
        idx, val = [], []
        for di, wi in ((0, 1 - fe), (1, fe)):
            for dj, wj in ((0, 1 - fp), (1, fp)):
                idx.append(base + np.clip(i0 + di, 0, ne - 1) * nphi + np.mod(j0 + dj, nphi))
                val.append(e * wi * wj)
    size = e.shape[0] * ne * nphi
    cells = np.bincount(np.concatenate([x.ravel() for x in idx]), np.concatenate([v.ravel() for v in val]), size)
    return cells.astype(energy.dtype).reshape(lead + (ne, nphi))


def smear_numpy(
    noise: Noise,
    particles: Particles,
    params: DetectorParams,
    *,
    hard: bool = False,
    temperature: float = 1.0,
    with_cells: bool = True,
) -> Reco:
    """NumPy reimplementation of :func:`hepjax.detector.smear_with_noise`; same :class:`Reco`."""
    p = Particles(*(np.asarray(x) for x in particles))
    P = {k: np.asarray(v) for k, v in _flat(params).items()}
    t, ew = temperature, P["edge_width"]
    sp = np.where(p.mask, species_numpy(p.pdg), 0)
    charged = np.isin(sp, (CHARGED_HADRON, ELECTRON, MUON))
    in_ecal = np.isin(sp, (ELECTRON, PHOTON))
    in_hcal = np.isin(sp, (CHARGED_HADRON, NEUTRAL_HADRON))
    row = np.clip(sp - CHARGED_HADRON, 0, 2)
    ae = np.abs(p.eta)
    f = p.pt.dtype.type

    def reg(name, row=None):
        return _region_value(P[name], ae, P[name.rsplit(".", 1)[0] + ".eta_edges"], ew, hard, t, row)

    pt_safe = np.where(charged & (p.pt > 0), p.pt, f(1))
    sig_pt = np.hypot(reg("tracker.pt.a", row), reg("tracker.pt.b", row) * pt_safe)
    sig = {
        q: np.hypot(reg(f"tracker.{q}.a"), reg(f"tracker.{q}.b") / pt_safe) for q in ("d0", "z0", "phi", "cot_theta")
    }
    scale = 1 + sig_pt * noise.curvature
    trk_pt = p.pt / np.abs(scale)
    trk_phi = wrap_phi(p.phi + sig["phi"] * noise.phi)
    trk_eta = np.arcsinh(np.sinh(p.eta) + sig["cot_theta"] * noise.cot_theta)
    c, s = np.cos(p.phi), np.sin(p.phi)
    d0_true = p.vy * c - p.vx * s
    z0_true = p.vz - (p.vx * c + p.vy * s) * np.sinh(p.eta)
    thr = P["tracker.efficiency.threshold"][row]
    wid = P["tracker.efficiency.width"][row]
    eff = reg("tracker.efficiency.plateau", row) * _step(p.pt - thr, wid, hard, t)
    eff = eff * _step(P["tracker.eta_max"] - ae, ew, hard, t)

    energy = np.sqrt(p.mass**2 + (p.pt * np.cosh(p.eta)) ** 2)
    e_safe = np.where((in_ecal | in_hcal) & (energy > 0), energy, f(1))
    calo = {}
    for name in ("ecal", "hcal"):
        rel = np.sqrt(
            reg(f"{name}.resolution.stochastic") ** 2 / e_safe
            + (reg(f"{name}.resolution.noise") / e_safe) ** 2
            + reg(f"{name}.resolution.constant") ** 2
        )
        calo[name] = (e_safe * rel, _step(P[f"{name}.eta_max"] - ae, ew, hard, t))
    ecal_e = np.where(in_ecal, energy + calo["ecal"][0] * noise.ecal, 0).astype(f)
    hcal_e = np.where(in_hcal, energy + calo["hcal"][0] * noise.hcal, 0).astype(f)

    e_n = np.where(sp == PHOTON, ecal_e, hcal_e)
    p_n = np.sqrt(np.maximum(e_n**2 - p.mass**2, f(1e-12))) * (e_n > 0)
    neutral = (sp == PHOTON) | (sp == NEUTRAL_HADRON)
    pt = np.where(charged, trk_pt, np.where(neutral, p_n / np.cosh(p.eta), 0)).astype(f)
    eta = np.where(charged, trk_eta, p.eta)
    phi = np.where(charged, trk_phi, wrap_phi(p.phi))
    e_out = np.where(charged, np.sqrt(p.mass**2 + (trk_pt * np.cosh(trk_eta)) ** 2), np.where(pt > 0, e_n, 0))
    w_ph = calo["ecal"][1] * _step(ecal_e - P["ecal.e_min"], P["ecal.e_min_width"], hard, t)
    w_nh = calo["hcal"][1] * _step(hcal_e - P["hcal.e_min"], P["hcal.e_min_width"], hard, t)
    weight = np.where(p.mask, np.select([charged, sp == PHOTON, sp == NEUTRAL_HADRON], [eff, w_ph, w_nh], 0), 0).astype(
        f
    )

    lead = p.pt.shape[:-1]
    cells = {}
    for name, e_dep in (("ecal", ecal_e), ("hcal", hcal_e)):
        if with_cells:
            grid = getattr(params, name).grid
            cl = deposit_numpy(e_dep * calo[name][1], p.eta, p.phi, grid, hard)
            cells[name] = cl * _step(cl - P[f"{name}.e_min"], P[f"{name}.e_min_width"], hard, t)
        else:
            cells[name] = np.zeros(lead + (0, 0), f)
    zero = np.zeros_like(p.pt)
    return Reco(
        pt=pt,
        eta=eta,
        phi=phi,
        mass=p.mass,
        energy=e_out.astype(f),
        charge=np.where(charged, p.charge * np.sign(scale), p.charge),
        pdg=p.pdg,
        vx=p.vx,
        vy=p.vy,
        vz=p.vz,
        d0=np.where(charged, d0_true + sig["d0"] * noise.d0, zero),
        z0=np.where(charged, z0_true + sig["z0"] * noise.z0, zero),
        ecal_e=ecal_e,
        hcal_e=hcal_e,
        sigma_pt_rel=np.where(charged, sig_pt, zero),
        sigma_phi=np.where(charged, sig["phi"], zero),
        sigma_cot_theta=np.where(charged, sig["cot_theta"], zero),
        sigma_d0=np.where(charged, sig["d0"], zero),
        sigma_z0=np.where(charged, sig["z0"], zero),
        sigma_ecal=np.where(in_ecal, calo["ecal"][0], zero),
        sigma_hcal=np.where(in_hcal, calo["hcal"][0], zero),
        species=sp,
        weight=weight,
        mask=p.mask & (noise.uniform < weight),
        ecal_cells=cells["ecal"],
        hcal_cells=cells["hcal"],
    )


def _flat(params: DetectorParams) -> dict[str, np.ndarray]:
    """Dotted field name -> NumPy array for every float leaf of ``params``."""
    import jax

    flat, _ = jax.tree_util.tree_flatten_with_path(params)
    return {jax.tree_util.keystr(path, simple=True, separator="."): np.asarray(x) for path, x in flat}
