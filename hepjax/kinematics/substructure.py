"""Jet substructure observables of padded constituents ``[..., n]`` with a mask.

Inputs are constituent ``pt`` (GeV), ``eta``, ``phi`` (rad) and ``mask`` (True for real entries;
padded entries may hold anything finite). Observables that are closed-form sums
(:func:`multiplicity`, :func:`ptd`, :func:`girth`, :func:`ecf`, :func:`c2`, :func:`d2`,
:func:`log_rho`, :func:`nsubjettiness_from_axes`) take NumPy or ``jax.numpy`` arrays; those that
need a clustering run on the host with NumPy: :func:`nsubjettiness` (exclusive-kT axes from FastJet)
and :func:`soft_drop_zg` (C/A declustering in NumPy).

References: N-subjettiness, Thaler & Van Tilburg, JHEP 03 (2011) 015; energy correlation
functions, Larkoski, Salam, Thaler, JHEP 06 (2013) 108 (C2) and Larkoski, Moult, Neill,
JHEP 12 (2014) 009 (D2); soft drop, Larkoski, Marzani, Soyez, Thaler, JHEP 05 (2014) 146.
"""

from __future__ import annotations

import numpy as np

from hepjax.kinematics.fourvec import delta_phi, delta_r, namespace, to_cartesian, to_cylindrical

_EPS = 1e-9


def multiplicity(mask):
    """Number of real constituents ``[...]`` (int)."""
    return mask.sum(-1)


def ptd(pt, mask):
    """pT^D = sqrt(Σ pT_i²) / Σ pT_i ``[...]`` (dimensionless, 1 for a single constituent)."""
    xp = namespace(pt, mask)
    p = xp.where(mask, pt, 0.0)
    return xp.sqrt(xp.sum(p**2, -1)) / xp.maximum(xp.sum(p, -1), _EPS)


def pt_weighted_axis(pt, eta, phi, mask):
    """pT-weighted jet axis (η, φ) ``[...]``, with φ averaged around the leading (first) constituent."""
    xp = namespace(pt, eta, phi, mask)
    p = xp.where(mask, pt, 0.0)
    ref = phi[..., :1]
    w = p / xp.maximum(p.sum(-1, keepdims=True), _EPS)
    return (w * eta).sum(-1), ref[..., 0] + (w * delta_phi(phi, ref)).sum(-1)


def girth(pt, eta, phi, mask, *, axis=None, pt_jet=None):
    """Girth (width) Σ pT_i ΔR(i, axis) / pT_jet ``[...]``.

    Args:
      axis: (η, φ) ``[...]`` of the jet axis; default :func:`pt_weighted_axis`.
      pt_jet: normalisation ``[...]`` in GeV; default Σ pT_i of the real constituents.
    """
    xp = namespace(pt, eta, phi, mask)
    p = xp.where(mask, pt, 0.0)
    aeta, aphi = pt_weighted_axis(pt, eta, phi, mask) if axis is None else axis
    dr = xp.where(mask, delta_r(eta, phi, aeta[..., None], aphi[..., None]), 0.0)
    norm = p.sum(-1) if pt_jet is None else pt_jet
    return xp.sum(p * dr, -1) / norm


def log_rho(mass, pt):
    """ln ρ = ln(m² / pT²) of jets ``[...]`` (mass, pT in GeV; -inf for m = 0)."""
    xp = namespace(mass, pt)
    return xp.log(mass**2 / pt**2)


def ecf(pt, eta, phi, mask, *, beta: float = 1.0, max_constituents: int | None = None):
    """Normalised energy correlation functions (e2, e3) ``[...]`` with angular exponent ``beta``.

    e2 = Σ_{i<j} z_i z_j ΔR_ij^β and e3 = Σ_{i<j<k} z_i z_j z_k (ΔR_ij ΔR_ik ΔR_jk)^β with
    z_i = pT_i / Σ pT (all real constituents in the sum), using pT and (η, φ) distances. With
    ``max_constituents`` only the first (leading, for pT-ordered input) ones enter the sums, which
    bounds the O(n³) cost of e3.
    """
    xp = namespace(pt, eta, phi, mask)
    p = xp.where(mask, pt, 0.0)
    z = p / p.sum(-1, keepdims=True)
    if max_constituents is not None:
        k = min(max_constituents, z.shape[-1])
        z, eta, phi = z[..., :k], eta[..., :k], phi[..., :k]
    db = delta_r(eta[..., :, None], phi[..., :, None], eta[..., None, :], phi[..., None, :]) ** beta
    e2 = 0.5 * xp.einsum("...i,...k,...ik->...", z, z, db)
    e3 = xp.einsum("...i,...k,...l,...ik,...il,...kl->...", z, z, z, db, db, db, optimize=True) / 6.0
    return e2, e3


def c2(pt, eta, phi, mask, *, beta: float = 1.0, max_constituents: int | None = None):
    """C2^(β) = e3 / e2² ``[...]`` (e2² floored at 1e-9 so single-constituent jets give 0)."""
    e2, e3 = ecf(pt, eta, phi, mask, beta=beta, max_constituents=max_constituents)
    return e3 / namespace(e2).maximum(e2**2, _EPS)


def d2(pt, eta, phi, mask, *, beta: float = 1.0, max_constituents: int | None = None):
    """D2^(β) = e3 / e2³ ``[...]`` (e2³ floored at 1e-9)."""
    e2, e3 = ecf(pt, eta, phi, mask, beta=beta, max_constituents=max_constituents)
    return e3 / namespace(e2).maximum(e2**3, _EPS)


def nsubjettiness_from_axes(pt, eta, phi, mask, axes_eta, axes_phi, *, R: float = 0.8):
    """τ_N = Σ_i pT_i min_a ΔR(i, a) / (Σ_i pT_i R) (β = 1) for given axes ``[..., N]``."""
    xp = namespace(pt, eta, phi, mask, axes_eta, axes_phi)
    p = xp.where(mask, pt, 0.0)
    dmin = delta_r(eta[..., :, None], phi[..., :, None], axes_eta[..., None, :], axes_phi[..., None, :]).min(-1)
    return (p * dmin).sum(-1) / xp.maximum(p.sum(-1) * R, _EPS)


def exclusive_kt_axes(pt, eta, phi, mass, mask, n_axes: int):
    """Exclusive-kT subjet axes (η, φ) ``[n_jets, n_axes]`` and a validity flag ``[n_jets]`` (host, FastJet).

    The constituents ``[n_jets, n]`` of each jet with at least ``n_axes`` of them are reclustered with
    the kT algorithm (R = 1.5, E-scheme) into exactly ``n_axes`` exclusive jets; other jets get zeros.
    """
    import awkward as ak
    import fastjet as fj  # prints the FastJet banner (its authors ask that it be kept) on first use

    m = np.asarray(mask, bool)
    counts = m.sum(1)
    px, py, pz, e = to_cartesian(*(np.asarray(a)[m].astype(np.float64) for a in (pt, eta, phi, mass)))
    vec = ak.unflatten(ak.zip({"px": px, "py": py, "pz": pz, "E": e}), counts)
    n_jets = len(counts)
    aeta = np.zeros((n_jets, n_axes))
    aphi = np.zeros((n_jets, n_axes))
    enough = counts >= n_axes
    if enough.any():
        sub = fj.ClusterSequence(vec[enough], fj.JetDefinition(fj.kt_algorithm, 1.5)).exclusive_jets(n_jets=n_axes)
        spx, spy, spz = (np.asarray(ak.to_numpy(getattr(sub, k))).reshape(-1, n_axes) for k in ("px", "py", "pz"))
        spt = np.hypot(spx, spy)
        aeta[enough] = np.arcsinh(spz / np.maximum(spt, _EPS))
        aphi[enough] = np.arctan2(spy, spx)
    return aeta, aphi, enough


def nsubjettiness(pt, eta, phi, mass, mask, n_axes: int, *, R: float = 0.8) -> np.ndarray:
    """τ_N ``[n_jets]`` (β = 1) with exclusive-kT axes (:func:`exclusive_kt_axes`), normalised by Σ pT R.

    Host-side (FastJet). Jets with fewer than ``n_axes`` constituents get 0.
    """
    aeta, aphi, ok = exclusive_kt_axes(pt, eta, phi, mass, mask, n_axes)
    pt, eta, phi, m = (np.asarray(a) for a in (pt, eta, phi, mask))
    return np.where(ok, nsubjettiness_from_axes(pt, eta, phi, m, aeta, aphi, R=R), 0.0)


def _ca_soft_drop(px, py, pz, e, z_cut, beta, R0):
    """C/A-cluster one jet's constituents, then decluster along the harder branch until soft drop passes."""
    parts = [np.array(v, np.float64) for v in (px, py, pz, e)]
    p4 = np.stack(parts, 1)
    children: dict[int, tuple[int, int]] = {}
    live = list(range(len(p4)))
    vecs = list(p4)

    def rap_phi(v):
        pt, _, ph, _ = to_cylindrical(*v)
        y = 0.5 * np.log(max(v[3] + v[2], 1e-300) / max(v[3] - v[2], 1e-300))
        return y, ph

    while len(live) > 1:
        yp = np.array([rap_phi(vecs[i]) for i in live])
        d = delta_r(yp[:, None, 0], yp[:, None, 1], yp[None, :, 0], yp[None, :, 1])
        np.fill_diagonal(d, np.inf)
        a, b = np.unravel_index(np.argmin(d), d.shape)
        i, j = live[a], live[b]
        vecs.append(vecs[i] + vecs[j])
        children[len(vecs) - 1] = (i, j)
        live = [k for k in live if k not in (i, j)] + [len(vecs) - 1]
    node = live[0]
    while node in children:
        i, j = children[node]
        pti, ptj = np.hypot(*vecs[i][:2]), np.hypot(*vecs[j][:2])
        z = min(pti, ptj) / (pti + ptj)
        (yi, phii), (yj, phij) = rap_phi(vecs[i]), rap_phi(vecs[j])
        if z > z_cut * (delta_r(yi, phii, yj, phij) / R0) ** beta:
            return z
        node = i if pti >= ptj else j
    return 0.0


def soft_drop_zg(pt, eta, phi, mass, mask, *, z_cut: float = 0.1, beta: float = 0.0, R0: float = 0.8) -> np.ndarray:
    """Soft-drop groomed momentum fraction z_g ``[n_jets]`` (host, NumPy).

    Each jet's real constituents are reclustered with Cambridge/Aachen (pairwise ΔR in rapidity and φ,
    E-scheme recombination, into a single jet); the clustering is undone from the last merging,
    following the harder (larger pT) branch, until ``min(pT1, pT2) / (pT1 + pT2) > z_cut (ΔR12 / R0)^β``;
    z_g is that fraction (0 when no splitting passes, e.g. one constituent). O(n³) per jet in Python.
    """
    m = np.asarray(mask, bool)
    cart = to_cartesian(*(np.asarray(a, np.float64) for a in (pt, eta, phi, mass)))
    return np.array(
        [_ca_soft_drop(*(v[j][m[j]] for v in cart), z_cut, beta, R0) for j in range(m.shape[0])], np.float64
    )
