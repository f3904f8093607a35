"""Rule-based particle flow on :mod:`hepjax.pflow.elements`, in the spirit of CMS PF (a documented simplification).

CMS (JINST 12 (2017) P10003, "Particle-flow reconstruction and global event description", §6) links
tracks, ECAL and HCAL clusters into blocks and turns each block into particles. Here, per event
(:func:`rule_based_pf`, JAX, fixed shapes):

1. **Links** (hard): a track links to every ECAL cluster within ``ΔR < link_ecal`` of its helix impact
   on the ECAL front and every HCAL cluster within ``link_hcal`` of its HCAL impact. A cluster linked
   to several tracks is shared among them in proportion to their momenta p (weights ``w_tc``); the
   calorimeter energy seen by track t is ``O_t = Σ_c w_tc E_c`` (``O_t^E``, ``O_t^H`` for the two
   calorimeters). Each track is its own block (CMS resolves multi-track blocks jointly: simplified).
2. **Track identification**: a *muon* if p > ``muon_min_p`` and ``O_t < muon_max_e`` (a MIP-like
   deposit); else an *electron* if ``|O_t^E − p| < k_electron·(σ_E(p) ⊕ σ_p)`` and ``O_t^H < electron_max_hcal·p``
   (ECAL E/p ≈ 1, little HCAL); else a *charged hadron*. Every track gives one charged particle with
   the track's momentum and E = √(p² + m²) (m of π, e or μ).
3. **Expected calorimeter response** μ_t: electrons p (ECAL resolution); muons ``mip_ecal + mip_hcal``;
   charged hadrons ``calib_hadron · p · r(p)`` with the mean hadron response r(E) of the shower model
   (:func:`hadron_response`: the depth-averaged ECAL / HCAL shares at h/e of each, the electromagnetic
   fraction f_em(E), the MIP part before the first interaction; leakage included) and σ_t = μ_t · σ_H(p)/p
   from the HCAL resolution (stochastic ⊕ constant; the cell noise of the linked clusters added in
   quadrature, ``n_cells · σ_noise²``).
4. **Compatibility**: the excess ``Δ_t = O_t − μ_t`` is a neutral particle if ``Δ_t > k · σ_t``. As in
   CMS, the excess is a *photon* up to the ECAL energy ``O_t^E`` (EM scale), and the rest, ``Δ_t − O_t^E``,
   a *neutral hadron*; the photon energy is put on the track's ECAL clusters and the neutral-hadron
   energy on its HCAL clusters, in proportion to their shares ``w_tc E_c``.
5. **Unlinked clusters**: an ECAL cluster linked to no track is a photon, unless an HCAL cluster that is
   linked to no track lies within ``link_ecal_hcal``, then it joins that cluster's neutral hadron; an
   unlinked HCAL cluster is a neutral hadron.
6. **Neutral-hadron calibration**: the raw energy E_raw of a neutral hadron is calibrated as the solution
   of ``E · r(E) · calib_hadron = E_raw`` (fixed-point iterations); photons keep ``calib_photon · E``.

The output has one slot per element (:class:`Candidates` ``[..., n_slots]``): a track slot holds its
charged particle; an ECAL slot its photon (or nothing); an HCAL slot its neutral hadron (or nothing).
Neutrals are massless at the cluster's (η, φ).

**Differentiable**: the energies (Δ_t, the shares, the calibration) are smooth in the element
features and in the shower parameters; the links, the identification and the k·σ test are hard
decisions (no gradient through them). ``k``, ``calib_hadron`` and ``calib_photon`` are not fitted yet
(defaults: 2, 1, 1).
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.detector.params import DetectorParams
from hepjax.detector.shower_params import ShowerParams
from hepjax.detector.showers import gamma2_cdf, relative_sigma
from hepjax.errors import ConfigError, DataError, is_concrete
from hepjax.kinematics import delta_r
from hepjax.pflow.elements import (
    CH_HADRON,
    ECAL_CLUSTER,
    ELEC,
    FEATURES,
    GAMMA,
    HCAL_CLUSTER,
    MU,
    NEU_HADRON,
    NONE,
    PION_MASS,
    TRACK,
    Elements,
    column,
)

ELECTRON_MASS, MUON_MASS = 0.000511, 0.10566
_N_DEPTH = 64  # quantiles of the first-interaction depth in the mean response


@dataclasses.dataclass(frozen=True)
class PFConfig:
    """Link radii (ΔR), identification cuts (GeV) and the compatibility test of :func:`rule_based_pf`."""

    link_ecal: float = 0.05
    link_hcal: float = 0.15
    link_ecal_hcal: float = 0.15
    k: float = 2.0
    k_electron: float = 3.0
    electron_max_hcal: float = 0.1
    muon_min_p: float = 10.0
    muon_max_e: float = 3.0
    calib_hadron: float = 1.0
    calib_photon: float = 1.0
    calib_iterations: int = 4

    def __post_init__(self):
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if not (np.isfinite(v) and v >= 0):
                raise ConfigError(f"PFConfig.{f.name} must be finite and >= 0, got {v!r}")
        for f in ("link_ecal", "link_hcal", "calib_hadron", "calib_photon"):
            if not getattr(self, f) > 0:
                raise ConfigError(f"PFConfig.{f} must be > 0, got {getattr(self, f)!r}")


class Candidates(NamedTuple):
    """Reconstructed particles, one per element slot ``[..., n_slots]``: pt, eta, phi (rad), energy (GeV),
    pf_class (int32, :data:`hepjax.pflow.elements.PF_CLASSES`; 0 where none) and mask (bool)."""

    pt: jax.Array
    eta: jax.Array
    phi: jax.Array
    energy: jax.Array
    pf_class: jax.Array
    mask: jax.Array


def hadron_response(energy, sp: ShowerParams) -> jax.Array:
    """Mean visible calorimeter energy / E of a hadron of energy E (GeV) in the shower model of
    :mod:`hepjax.detector.showers` (averaged over the first-interaction depth t₀ ~ Exp(1) by quantiles)."""
    e = jnp.maximum(jnp.asarray(energy), 1e-3)[..., None]
    u = (jnp.arange(_N_DEPTH, dtype=e.dtype) + 0.5) / _N_DEPTH
    t0 = -jnp.log(u)
    d_e, d_h = sp.ecal_depth, sp.hcal_depth
    f_ecal = gamma2_cdf(d_e - t0, sp.had_length)
    f_hcal = gamma2_cdf(d_e + d_h - t0, sp.had_length) - f_ecal
    f_em = 1.0 - (jnp.maximum(e, sp.em_fraction_e0) / sp.em_fraction_e0) ** (sp.em_fraction_k - 1.0)
    resp = f_ecal * (f_em + (1.0 - f_em) * sp.h_over_e_ecal) + f_hcal * (f_em + (1.0 - f_em) * sp.h_over_e_hcal)
    mip = sp.mip_ecal * jnp.minimum(t0 / d_e, 1.0) + sp.mip_hcal * jnp.clip((t0 - d_e) / d_h, 0.0, 1.0)
    return jnp.mean(resp + mip / e, -1)


def _check(elements: Elements) -> None:
    f, m = elements.features, elements.mask
    if np.ndim(f) < 2 or np.shape(f)[-1] != len(FEATURES):
        raise DataError(
            f"elements.features must be [..., n_slots, {len(FEATURES)}] (FEATURES), got shape {np.shape(f)}"
        )
    if np.shape(m) != np.shape(f)[:-1]:
        raise DataError(f"elements.mask has shape {np.shape(m)}; expected {np.shape(f)[:-1]} (features without F)")
    if is_concrete(f, m):
        x = np.asarray(f)
        bad = ~np.isfinite(x) & np.asarray(m)[..., None]
        if bad.any():
            idx = tuple(int(v[0]) for v in np.nonzero(bad))
            raise DataError(f"element {idx[:-1]} (event..., slot) has a non-finite {FEATURES[idx[-1]]!r}: {x[idx]}")


def _event(x, mask, det: DetectorParams, sp: ShowerParams, cfg: PFConfig) -> Candidates:
    """One event: features ``[S, F]``, mask ``[S]``."""
    col = {name: x[:, column(name)] for name in FEATURES}
    typ = jnp.where(mask, col["type"], 0.0)
    is_t, is_e, is_h = typ == TRACK, typ == ECAL_CLUSTER, typ == HCAL_CLUSTER
    e_c = jnp.where(is_e | is_h, col["energy"], 0.0)
    eta, phi = col["eta"], col["phi"]
    p = col["pt"] * jnp.cosh(eta)
    p_safe = jnp.where(is_t & (p > 0), p, 1.0)
    abs_eta = jnp.abs(eta)
    kw = dict(hard=True, temperature=1.0)
    ew = det.edge_width
    sig_h = relative_sigma(det.hcal, p_safe, abs_eta, ew, False, **kw)
    sig_e = relative_sigma(det.ecal, p_safe, abs_eta, ew, False, **kw)

    # --- links: [tracks, clusters] ------------------------------------------------------------
    arr_e = is_t & ((col["eta_ecal"] != 0) | (col["phi_ecal"] != 0))
    arr_h = is_t & ((col["eta_hcal"] != 0) | (col["phi_hcal"] != 0))
    dr_e = delta_r(col["eta_ecal"][:, None], col["phi_ecal"][:, None], eta[None, :], phi[None, :])
    dr_h = delta_r(col["eta_hcal"][:, None], col["phi_hcal"][:, None], eta[None, :], phi[None, :])
    link = (arr_e[:, None] & is_e[None, :] & (dr_e < cfg.link_ecal)) | (
        arr_h[:, None] & is_h[None, :] & (dr_h < cfg.link_hcal)
    )
    lf = link.astype(x.dtype)
    # a shared cluster is split among its tracks in proportion to their momenta
    pw = lf * jnp.where(is_t, p, 0.0)[:, None]
    w = pw / jnp.where(pw.sum(0) > 0, pw.sum(0), 1.0)[None, :]
    share = w * e_c[None, :]  # [t, c] energy of cluster c attributed to track t
    o_e = jnp.sum(share * is_e[None, :], 1)
    o_h = jnp.sum(share * is_h[None, :], 1)
    o = o_e + o_h
    noise2 = jnp.where(is_e, sp.ecal_noise**2, sp.hcal_noise**2) * col["n_cells"]
    noise_t = jnp.sum(w * noise2[None, :], 1)

    # --- identification and expected response -------------------------------------------------
    muon = is_t & (p > cfg.muon_min_p) & (o < cfg.muon_max_e)
    # E/p ≈ 1 within the ECAL and the track resolutions (the quality column is σ(pT)/pT)
    sig_ep = p * jnp.sqrt(sig_e**2 + col["quality"] ** 2)
    electron = is_t & ~muon & (o_e > 0) & (jnp.abs(o_e - p) < cfg.k_electron * sig_ep)
    electron &= o_h < cfg.electron_max_hcal * p
    mu_t = jnp.where(
        muon, sp.mip_ecal + sp.mip_hcal, jnp.where(electron, p, cfg.calib_hadron * p * hadron_response(p_safe, sp))
    )
    sig_t = jnp.where(muon, sp.mip_spread * mu_t, jnp.where(electron, sig_e, sig_h) * mu_t)
    sig_t = jnp.sqrt(sig_t**2 + noise_t)
    excess = o - mu_t
    neutral = is_t & (excess > cfg.k * sig_t)
    ex = jnp.where(neutral, excess, 0.0)
    gamma_t = jnp.minimum(ex, o_e)
    nh_t = ex - gamma_t
    frac_e = share * is_e[None, :] / jnp.where(o_e > 0, o_e, 1.0)[:, None]
    frac_h = share * is_h[None, :] / jnp.where(o_h > 0, o_h, 1.0)[:, None]
    gamma_c = jnp.sum(gamma_t[:, None] * frac_e, 0)
    nh_c = jnp.sum(nh_t[:, None] * frac_h, 0)

    # --- unlinked clusters --------------------------------------------------------------------
    linked = jnp.any(link, 0)
    free_e, free_h = is_e & ~linked, is_h & ~linked
    dr_eh = delta_r(eta[:, None], phi[:, None], eta[None, :], phi[None, :])
    dr_eh = jnp.where(free_e[:, None] & free_h[None, :], dr_eh, jnp.inf)
    nearest = jnp.argmin(dr_eh, 1)
    to_h = free_e & (jnp.min(dr_eh, 1) < cfg.link_ecal_hcal)
    merged = jax.ops.segment_sum(jnp.where(to_h, e_c, 0.0), nearest, num_segments=x.shape[0])
    gamma_c = gamma_c + jnp.where(free_e & ~to_h, e_c, 0.0)
    nh_raw = nh_c + jnp.where(free_h, e_c, 0.0) + jnp.where(is_h, merged, 0.0)

    # --- calibration: E · r(E) · calib = E_raw ------------------------------------------------
    e_nh = nh_raw
    for _ in range(cfg.calib_iterations):
        e_nh = nh_raw / (cfg.calib_hadron * hadron_response(jnp.maximum(e_nh, 1e-3), sp))
    e_nh = jnp.where(nh_raw > 0, e_nh, 0.0)
    e_gamma = cfg.calib_photon * gamma_c

    # --- candidates ---------------------------------------------------------------------------
    mass = jnp.where(muon, MUON_MASS, jnp.where(electron, ELECTRON_MASS, PION_MASS))
    e_trk = jnp.sqrt(p**2 + mass**2)
    energy = jnp.where(is_t, e_trk, jnp.where(is_e, e_gamma, jnp.where(is_h, e_nh, 0.0)))
    cls = jnp.where(
        is_t,
        jnp.where(muon, MU, jnp.where(electron, ELEC, CH_HADRON)),
        jnp.where(is_e & (e_gamma > 0), GAMMA, jnp.where(is_h & (e_nh > 0), NEU_HADRON, NONE)),
    ).astype(jnp.int32)
    out_mask = mask & (cls != NONE)
    pt = jnp.where(is_t, col["pt"], energy / jnp.cosh(eta))
    zero = jnp.zeros_like(pt)
    return Candidates(
        pt=jnp.where(out_mask, pt, zero),
        eta=jnp.where(out_mask, eta, zero),
        phi=jnp.where(out_mask, phi, zero),
        energy=jnp.where(out_mask, energy, zero),
        pf_class=jnp.where(out_mask, cls, NONE),
        mask=out_mask,
    )


def rule_based_pf(
    elements: Elements, det: DetectorParams, shower_params: ShowerParams, config: PFConfig = PFConfig()
) -> Candidates:
    """Rule-based particle flow (module docstring) of :class:`~hepjax.pflow.elements.Elements` ``[..., S, F]``.

    Returns :class:`Candidates` ``[..., S]``. JAX (jit with ``config`` static); the element values are
    checked on the host when concrete.

    Raises:
      DataError: features not ``[..., S, len(FEATURES)]``, a mask of another shape, or a non-finite
        feature of a real element (naming the slot and the feature).
    """
    _check(elements)
    f, m = jnp.asarray(elements.features), jnp.asarray(elements.mask)
    lead = f.shape[:-2]
    s = f.shape[-2]
    fn = jax.vmap(lambda a, b: _event(a, b, det, shower_params, config))
    out = fn(f.reshape((-1, s, f.shape[-1])), m.reshape((-1, s)))
    return Candidates(*(v.reshape(lead + (s,)) for v in out))
