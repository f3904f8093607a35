"""Calorimeter showers: particles -> ECAL and HCAL cell energies with lateral and longitudinal shapes.

Where :func:`hepjax.detector.smear` puts each particle into one cell (or four), :func:`showers` gives
every shower a width, so showers of nearby particles overlap and particle flow has something to
untangle. JAX throughout; the cell energies are differentiable in the particles' momenta, in the
resolution parameters of :class:`~hepjax.detector.params.DetectorParams` and in every float of
:class:`ShowerParams` (the random numbers are drawn from ``key`` independently of all of them).

Per species (:mod:`hepjax.detector.species`), after the particle reaches the calorimeter front on its
helix (:mod:`hepjax.detector.impact`; charged particles with pT < 0.3·|q|·B·R/2 never reach the barrel
and deposit nothing):

* **e, γ**: all energy in the ECAL, ``E·(1 + σ/E · ε)``; lateral profile core + tail Gaussians with
  widths ``em_core·R_M`` and ``em_tail·R_M`` and the core weight that puts ``em_containment`` (90 %)
  within one Molière radius R_M (PDG review "Passage of particles through matter": ~90 % of an EM
  shower's energy lies within one R_M, ~99 % within 3.5 R_M).
* **hadrons**: the first interaction is at depth ``t₀ ~ Exp(1)`` interaction lengths λ_I; after it the
  shower develops as a Gamma(2, ``had_length``) distribution in depth, so a fraction
  ``F(d_E − t₀)`` falls in the ECAL (``ecal_depth`` λ_I deep), ``F(d_E + d_H − t₀) − F(d_E − t₀)`` in
  the HCAL and the rest leaks out the back (returned as ``leak``). Before the interaction the hadron
  ionises like a MIP (a narrow deposit on its axis). Non-compensation: the electromagnetic fraction of the shower is
  ``f_em = 1 − (E/E₀)^(k−1)`` (Gabriel et al., NIM A 338 (1994) 336; Wigmans, *Calorimetry*, ch. 2),
  seen at full response, the rest at ``h/e < 1`` of the calorimeter; one common fluctuation with the
  (much larger) HCAL resolution scales both parts. Lateral profile: wider core + tail Gaussians
  (lengths in m).
* **muons**: a minimum-ionising deposit in each calorimeter (``mip_*``, spread ``mip_spread``), narrow.
* neutrinos and padding: nothing. e/γ beyond the ECAL grid (|η| > 3) are lost (the forward
  calorimeter's EM part is not modelled); window cells beyond a grid's η range are dropped.

Energy resolution ``σ/E = S/√E ⊕ C`` uses the stochastic and constant terms of the detector's
:class:`~hepjax.detector.params.CaloResolution` (ECAL for e/γ, HCAL for hadrons), blended over its
|η| regions. The noise term N is realised by the **cell noise** (Gaussian, σ per calorimeter, per
cell), not per particle: a particle-level N would count the noise twice; ``particle_noise_term=True``
adds it per particle as well. Cells then pass a threshold (``*_threshold``; hard or soft step; 0, the
default, applies none, so cells may be negative).

Lateral lengths convert to the (η, φ) grid at the impact point: a length δ perpendicular to the line
of sight spans Δη = Δφ = δ / r_t, with r_t the impact's distance from the beam line (in the barrel
r_t = R; on an endcap disk r_t = Z / sinh|η|).

The grids are the ECAL and HCAL :class:`~hepjax.detector.params.CaloGrid` of the detector
(:func:`~hepjax.detector.params.cms_like`: ECAL 344 × 360 cells of 0.0174 × 1° to |η| = 3, the CMS
barrel crystal size; HCAL 114 × 72 cells of 0.087 × 5° to |η| = 5, the CMS HCAL tower size; CMS,
JINST 3 (2008) S08004), selectable through ``cms_like(ecal_grid=..., hcal_grid=...)``. The default
ECAL grid holds 124k cells (0.5 MB per event in float32); a region of interest in |η| at the CMS cell
size (e.g. ``CaloGrid(n_eta=58, n_phi=360, eta_max=29 * 0.0174)``, |η| < 0.5) or a coarser grid is
any other ``CaloGrid`` (it always spans the full φ). Each shower is integrated over a window of cells around its axis
(:mod:`hepjax.detector.profiles`; ``CaloLayout.*_window``).

The truth: ``*_index`` and ``*_contrib`` hold each particle's noise-free energy in each cell of its
window; :func:`truth_table` turns them, on the host, into (event, cell, particle, energy, fraction).

Compilation: one per particle shape, grids, :class:`CaloLayout` and the static flags.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.data.particles import Particles
from hepjax.detector.calorimeter import threshold_cells
from hepjax.detector.impact import FrontPoint, front_point
from hepjax.detector.params import CaloParams, CaloResolution, DetectorParams, validate_params
from hepjax.detector.profiles import core_weight, scatter_cells, window_deposit
from hepjax.detector.response import calo_relative, edge_steps
from hepjax.detector.shower_params import CaloLayout, ShowerParams, cms_showers, validate_shower_params
from hepjax.detector.smearing import NOISE_CLIP, clipped_normals
from hepjax.detector.species import CHARGED_HADRON, ELECTRON, MUON, NEUTRAL_HADRON, PHOTON, species, validate_particles
from hepjax.errors import ConfigError

__all__ = [  # the parameters live in shower_params; re-exported so one import serves
    "NOISE_CLIP",
    "CaloCells",
    "CaloLayout",
    "ShowerParams",
    "TruthTable",
    "cms_showers",
    "showers",
    "showers_checked",
    "truth_table",
    "validate_shower_params",
]


class CaloCells(NamedTuple):
    """Output of :func:`showers`. Cells ``[..., n_eta, n_phi]`` (GeV), particles ``[..., n]``.

    ecal, hcal: measured cells (noise and threshold applied).
    ecal_true, hcal_true: noise-free cell energies (sums of the contributions below).
    ecal_e, hcal_e: each particle's visible deposit, GeV (before the grid's η edge drops any of it).
    leak: fraction of a hadron's energy beyond the HCAL (0 for other species).
    ecal_front, hcal_front: :class:`~hepjax.detector.impact.FrontPoint` of each particle.
    ecal_index, hcal_index: ``[..., n, W]`` int32 flat cell index ``i_eta·n_phi + i_phi`` (−1: none).
    ecal_contrib, hcal_contrib: ``[..., n, W]`` the particle's noise-free energy in that cell, GeV.
    """

    ecal: jax.Array
    hcal: jax.Array
    ecal_true: jax.Array
    hcal_true: jax.Array
    ecal_e: jax.Array
    hcal_e: jax.Array
    leak: jax.Array
    ecal_front: FrontPoint
    hcal_front: FrontPoint
    ecal_index: jax.Array
    hcal_index: jax.Array
    ecal_contrib: jax.Array
    hcal_contrib: jax.Array


def gamma2_cdf(x: jax.Array, scale: jax.Array) -> jax.Array:
    """CDF of a Gamma(2, scale) depth profile at ``x`` (0 for x ≤ 0)."""
    y = jnp.maximum(x, 0.0) / scale
    return 1.0 - (1.0 + y) * jnp.exp(-y)


def relative_sigma(calo: CaloParams, e_safe, abs_eta, edge_width, with_noise: bool, **kw):
    """Relative energy resolution σ(E)/E of ``calo`` at energy ``e_safe`` (GeV, > 0) and ``abs_eta`` (the
    stochastic, constant and, with ``with_noise``, noise terms; η edges smoothed over ``edge_width``)."""
    res = calo.resolution
    if not with_noise:
        res = CaloResolution(res.eta_edges, res.stochastic, jnp.zeros_like(res.noise), res.constant)
    return calo_relative(res, e_safe, edge_steps(abs_eta, res.eta_edges, edge_width, **kw))


def showers(
    key: jax.Array,
    particles: Particles,
    det_params: DetectorParams,
    shower_params: ShowerParams,
    layout: CaloLayout = CaloLayout(),
    *,
    hard: bool = False,
    temperature: float | jax.Array = 1.0,
    particle_noise_term: bool = False,
) -> CaloCells:
    """ECAL and HCAL cells of ``particles`` (``[..., n]`` fields); see the module docstring.

    Args:
      key: PRNG key, the only source of randomness (same key, same cells).
      particles: :class:`~hepjax.data.particles.Particles`.
      det_params: detector (resolutions and the ECAL / HCAL grids).
      shower_params: :class:`ShowerParams`, e.g. :func:`cms_showers`.
      layout: static front geometry and windows.
      hard: exact cell thresholds and |η|-region switches (else sigmoids, width × ``temperature``).
      particle_noise_term: also smear each particle with the resolution's noise term N.
    Returns:
      :class:`CaloCells`.
    """
    sp_ = shower_params
    p = Particles(*(jnp.asarray(x) for x in particles))
    lead, n = p.pt.shape[:-1], p.pt.shape[-1]
    b = math.prod(lead)
    # padding may hold anything: zero it before any non-linear op (outputs and gradients stay clean)
    p = Particles(
        *(
            x.reshape(b, n) if f == "mask" else jnp.where(p.mask, x, jnp.zeros_like(x)).reshape(b, n)
            for f, x in zip(p._fields, p)
        )
    )
    dtype = p.pt.dtype
    kw = dict(hard=hard, temperature=temperature)
    ew = det_params.edge_width
    egrid, hgrid = det_params.ecal.grid, det_params.hcal.grid
    n_ecal, n_hcal = egrid.n_eta * egrid.n_phi, hgrid.n_eta * hgrid.n_phi

    # one threefry call for every stream (each call costs compile time on CPU)
    u = jax.random.uniform(key, (b, 3 * n + n_ecal + n_hcal), dtype, minval=jnp.finfo(dtype).tiny, maxval=1.0)
    eps_e, eps_h, u_depth = clipped_normals(u[:, :n]), clipped_normals(u[:, n : 2 * n]), u[:, 2 * n : 3 * n]
    z_ecal = clipped_normals(u[:, 3 * n : 3 * n + n_ecal]).reshape(b, egrid.n_eta, egrid.n_phi)
    z_hcal = clipped_normals(u[:, 3 * n + n_ecal :]).reshape(b, hgrid.n_eta, hgrid.n_phi)

    sp = jnp.where(p.mask, species(p.pdg), 0)
    em = (sp == ELECTRON) | (sp == PHOTON)
    had = (sp == CHARGED_HADRON) | (sp == NEUTRAL_HADRON)
    mu = sp == MUON
    abs_eta = jnp.abs(p.eta)
    energy = p.energy
    e_safe = jnp.where(energy > 0, energy, 1.0)

    # --- where each particle meets the two fronts ---------------------------------------------
    geo = dict(b_field=layout.b_field)
    efront = front_point(p.pt, p.eta, p.phi, p.charge, p.vz, radius=layout.ecal_radius, z_front=layout.ecal_z, **geo)
    z_hfront = jnp.where(abs_eta > layout.hf_eta, layout.hf_z, layout.hcal_z)  # HF sits much further out
    hfront = front_point(p.pt, p.eta, p.phi, p.charge, p.vz, radius=layout.hcal_radius, z_front=z_hfront, **geo)

    # --- energies ------------------------------------------------------------------------------
    sig_ecal = relative_sigma(det_params.ecal, e_safe, abs_eta, ew, particle_noise_term, **kw)
    sig_hcal = relative_sigma(det_params.hcal, e_safe, abs_eta, ew, particle_noise_term, **kw)
    e_em = energy * jnp.maximum(1.0 + sig_ecal * eps_e, 0.0)

    t0 = -jnp.log(u_depth)  # first interaction depth, λ_I
    d_e, d_h = sp_.ecal_depth, sp_.hcal_depth
    f_ecal = gamma2_cdf(d_e - t0, sp_.had_length)
    f_hcal = gamma2_cdf(d_e + d_h - t0, sp_.had_length) - f_ecal
    f_em = 1.0 - (jnp.maximum(e_safe, sp_.em_fraction_e0) / sp_.em_fraction_e0) ** (sp_.em_fraction_k - 1.0)
    resp_ecal = f_em + (1.0 - f_em) * sp_.h_over_e_ecal
    resp_hcal = f_em + (1.0 - f_em) * sp_.h_over_e_hcal
    scale = jnp.maximum(1.0 + sig_hcal * eps_h, 0.0)
    mip_frac_ecal = jnp.minimum(t0 / d_e, 1.0)
    mip_frac_hcal = jnp.clip((t0 - d_e) / d_h, 0.0, 1.0)
    shower_ecal = energy * f_ecal * resp_ecal * scale
    shower_hcal = energy * f_hcal * resp_hcal * scale
    track_ecal, track_hcal = sp_.mip_ecal * mip_frac_ecal, sp_.mip_hcal * mip_frac_hcal  # ionisation before t0
    had_ecal, had_hcal = shower_ecal + track_ecal, shower_hcal + track_hcal

    mu_ecal = jnp.minimum(sp_.mip_ecal * jnp.maximum(1.0 + sp_.mip_spread * eps_e, 0.0), energy)
    mu_hcal = jnp.minimum(sp_.mip_hcal * jnp.maximum(1.0 + sp_.mip_spread * eps_h, 0.0), energy)

    zero = jnp.zeros_like(energy)
    ecal_e = jnp.where(em, e_em, jnp.where(had, had_ecal, jnp.where(mu, mu_ecal, zero)))
    hcal_e = jnp.where(had, had_hcal, jnp.where(mu, mu_hcal, zero))
    ecal_e = jnp.where(efront.arrives, ecal_e, zero)
    hcal_e = jnp.where(hfront.arrives & efront.arrives, hcal_e, zero)
    leak = jnp.where(had, 1.0 - f_ecal - f_hcal, zero)

    # --- lateral profiles: Gaussian components (lengths in m) ----------------------------------
    rm = sp_.moliere_radius
    p_core = core_weight(sp_.em_core, sp_.em_tail, sp_.em_containment)
    one = jnp.ones_like(energy)

    def components(e_dep, mip_part):
        """Lengths (m) and weights of three Gaussians: shower core, shower tail, a narrow MIP track."""
        core = jnp.where(had, sp_.had_core, sp_.em_core * rm * one)
        tail = jnp.where(had, sp_.had_tail, sp_.em_tail * rm * one)
        w_core = jnp.where(had, sp_.had_core_fraction, p_core * one)
        # the share of a hadron's deposit from its ionisation before the first interaction
        w_mip = jnp.where(
            mu, one, jnp.where(had & (e_dep > 0), jnp.clip(mip_part / jnp.where(e_dep > 0, e_dep, 1.0), 0.0, 1.0), 0.0)
        )
        lengths = jnp.stack([core, tail, sp_.mip_width * one], -1)
        return lengths, jnp.stack([(1.0 - w_mip) * w_core, (1.0 - w_mip) * (1.0 - w_core), w_mip], -1)

    def calo(e_dep, front, grid, window, lengths, weights):
        ang = lengths / front.r_t[..., None]  # Δη = Δφ = length / r_t
        idx, contrib = window_deposit(
            e_dep.reshape(-1),
            front.eta.reshape(-1),
            front.phi.reshape(-1),
            ang.reshape(b * n, -1),
            ang.reshape(b * n, -1),
            weights.reshape(b * n, -1),
            grid,
            window,
        )
        idx, contrib = idx.reshape(b, n, -1), contrib.reshape(b, n, -1)
        return idx, contrib, scatter_cells(idx, contrib, grid)

    e_idx, e_con, e_true = calo(ecal_e, efront, egrid, layout.ecal_window, *components(ecal_e, track_ecal))
    h_idx, h_con, h_true = calo(hcal_e, hfront, hgrid, layout.hcal_window, *components(hcal_e, track_hcal))

    def measured(true, noise, z, thr):
        cells = true + noise * z
        # threshold 0 means none: the noise stays symmetric (negative cells too), as topological clustering wants
        return jnp.where(thr > 0, threshold_cells(cells, thr, sp_.threshold_width, **kw), cells)

    e_meas = measured(e_true, sp_.ecal_noise, z_ecal, sp_.ecal_threshold)
    h_meas = measured(h_true, sp_.hcal_noise, z_hcal, sp_.hcal_threshold)

    def out(x):
        return x.reshape(lead + x.shape[1:])

    return CaloCells(
        ecal=out(e_meas),
        hcal=out(h_meas),
        ecal_true=out(e_true),
        hcal_true=out(h_true),
        ecal_e=out(ecal_e),
        hcal_e=out(hcal_e),
        leak=out(leak),
        ecal_front=FrontPoint(*(out(x) for x in efront)),
        hcal_front=FrontPoint(*(out(x) for x in hfront)),
        ecal_index=out(e_idx),
        hcal_index=out(h_idx),
        ecal_contrib=out(e_con),
        hcal_contrib=out(h_con),
    )


class TruthTable(NamedTuple):
    """Which generator particle gave which cell how much energy (host NumPy, one row per pair).

    event: ``[K]`` flat event index over the leading axes; cell: flat ``i_eta·n_phi + i_phi``;
    particle: index in the event's particle axis; energy: GeV (noise-free); fraction: of the cell's
    noise-free energy (the fractions of a cell sum to 1).
    """

    event: np.ndarray
    cell: np.ndarray
    particle: np.ndarray
    energy: np.ndarray
    fraction: np.ndarray


def truth_table(index, contrib, *, min_energy: float = 0.0) -> TruthTable:
    """Aggregate the ``[..., n, W]`` per-particle contributions of :class:`CaloCells` (``ecal_index`` /
    ``ecal_contrib`` or the HCAL pair) into a :class:`TruthTable`; pairs with energy ≤ ``min_energy``
    (GeV) are left out, the fractions use every pair."""
    idx = np.asarray(index)
    con = np.asarray(contrib, np.float64)
    n, w = idx.shape[-2:]
    idx, con = idx.reshape(-1, n, w), con.reshape(-1, n, w)
    ev = np.broadcast_to(np.arange(idx.shape[0])[:, None, None], idx.shape)
    part = np.broadcast_to(np.arange(n)[None, :, None], idx.shape)
    ok = (idx >= 0) & (con > 0)
    ev, cell, part, e = ev[ok], idx[ok], part[ok], con[ok]
    # a window that wraps all the way round φ can hit one cell twice: sum duplicates (1-D int64 keys:
    # np.unique on rows is ~10× slower)
    n_cell = int(cell.max(initial=0)) + 1
    key = (ev.astype(np.int64) * n_cell + cell) * n + part
    uniq, inv = np.unique(key, return_inverse=True)
    e_sum = np.bincount(inv.reshape(-1), weights=e, minlength=len(uniq))
    cell_key, cinv = np.unique(uniq // n, return_inverse=True)
    cell_total = np.bincount(cinv.reshape(-1), weights=e_sum, minlength=len(cell_key))
    frac = e_sum / cell_total[cinv.reshape(-1)]
    keep = e_sum > min_energy
    u = uniq[keep]
    ev_cell, part_u = np.divmod(u, n)
    ev_u, cell_u = np.divmod(ev_cell, n_cell)
    return TruthTable(ev_u, cell_u, part_u, e_sum[keep], frac[keep])


_showers_jit = jax.jit(showers, static_argnames=("layout", "hard", "particle_noise_term"))


def showers_checked(
    key: jax.Array,
    particles: Particles,
    det_params: DetectorParams,
    shower_params: ShowerParams,
    layout: CaloLayout = CaloLayout(),
    *,
    hard: bool = False,
    temperature: float = 1.0,
    particle_noise_term: bool = False,
) -> CaloCells:
    """Check the inputs on the host (a clear error naming the field), then :func:`showers` under ``jit``."""
    validate_particles(particles)
    validate_params(det_params)
    validate_shower_params(shower_params)
    if not hard and not temperature > 0:
        raise ConfigError(f"temperature must be > 0 for soft thresholds, got {temperature}")
    t = jnp.asarray(temperature, jnp.asarray(particles.pt).dtype)
    return _showers_jit(
        key,
        particles,
        det_params,
        shower_params,
        layout,
        hard=hard,
        temperature=t,
        particle_noise_term=particle_noise_term,
    )
