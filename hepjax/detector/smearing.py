"""``smear``: particles -> detector-level reconstruction, differentiable by the reparameterisation trick.

Every random number is a standard normal (or uniform) drawn from ``key`` *independently of
the parameters*; a measured value is ``true + σ(params, particle) · ε``, so ``jax.grad``
flows to the particles and to every float field of :class:`~hepjax.detector.params.DetectorParams`.

Per species (see :mod:`hepjax.detector.species`):

* tracked (charged hadrons, electrons, muons): the curvature ``q/pT`` is smeared with
  relative σ(pT)/pT = a ⊕ b·pT (species- and η-dependent; a sign flip is a charge flip);
  φ with σ(φ); cot θ = sinh η with σ(cot θ); d0 and z0 with σ = a ⊕ b/pT.
  The true d0, z0 come from the production vertex with a straight line (no curvature):
  d0 = vy·cos φ − vx·sin φ, z0 = vz − (vx·cos φ + vy·sin φ)·sinh η (mm).
* electrons and photons deposit E in the ECAL, hadrons in the HCAL: E·(1 + σ(E)/E · ε).
* efficiencies (tracking), η acceptances and energy thresholds are soft steps
  (``hard=False``, sigmoid with width × ``temperature``) or exact cuts (``hard=True``).

Compilation: one per distinct input shape and (``hard``, ``with_cells``, calorimeter grid)
— ``temperature`` and every float of the parameters are traced, so changing them does not
recompile. Pad events to a few bucketed sizes (``hepjax.data.particles.pad_events``).

Bad input: :func:`smear` itself does no checks (it runs under ``jit``; an unknown PDG id is
treated as invisible and NaN momenta propagate). :func:`smear_checked` runs the host-side
:func:`~hepjax.detector.species.validate_particles` and
:func:`~hepjax.detector.params.validate_params` first and raises a ``ValueError`` naming the
field and index.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.data.particles import DTYPES, FIELDS, Particles
from hepjax.detector import calorimeter
from hepjax.detector.params import DetectorParams, validate_params
from hepjax.detector.response import (
    calo_relative,
    edge_steps,
    efficiency,
    quadrature,
    step,
)
from hepjax.detector.species import (
    CHARGED_HADRON,
    ELECTRON,
    MUON,
    NEUTRAL_HADRON,
    PHOTON,
    species,
    validate_particles,
)
from hepjax.kinematics import wrap_phi

#: Truncation of the Gaussian noise, in σ (keeps every draw finite; removes 6e-7 of the tails).
NOISE_CLIP = 5.0


class Noise(NamedTuple):
    """The random numbers of one :func:`smear` call, each ``[..., n]``: standard normals
    (clipped at ±5) for curvature, φ, cot θ, d0, z0, ECAL and HCAL energies; a uniform in [0, 1)
    for the efficiency draw."""

    curvature: jax.Array
    phi: jax.Array
    cot_theta: jax.Array
    d0: jax.Array
    z0: jax.Array
    ecal: jax.Array
    hcal: jax.Array
    uniform: jax.Array


def clipped_normals(u: jax.Array) -> jax.Array:
    """Standard normals from uniforms in (0, 1) by the inverse CDF (as ``jax.random.normal`` draws them),
    clipped at ±``NOISE_CLIP``; same shape and dtype as ``u``."""
    return jnp.clip(jnp.sqrt(2.0).astype(u.dtype) * jax.scipy.special.erfinv(2.0 * u - 1.0), -NOISE_CLIP, NOISE_CLIP)


def draw_noise(key: jax.Array, shape: tuple[int, ...], dtype=jnp.float32) -> Noise:
    """The :class:`Noise` of ``smear(key, ...)`` for particles of ``shape``."""
    # One threefry call for all streams (each threefry instance costs ~1.5 s of XLA compile on
    # CPU); normals by the inverse CDF, as jax.random.normal does.
    n = len(Noise._fields)
    u = jax.random.uniform(key, (n,) + tuple(shape), dtype, minval=jnp.finfo(dtype).tiny, maxval=1.0)
    return Noise(*clipped_normals(u[:-1]), u[-1])


class Reco(NamedTuple):
    """Detector-level output of :func:`smear`; particle fields ``[..., n]``, cells ``[..., n_eta, n_phi]``.

    Kinematics: ``pt`` (GeV; from the track for charged species, from the calorimeter energy
    for photons / neutral hadrons), ``eta``, ``phi`` (rad, in [−π, π)), ``mass`` (GeV, true),
    ``energy`` (GeV), ``charge`` (e; flips with the curvature sign), ``pdg`` (true id),
    ``vx, vy, vz`` (mm, true production vertex, carried for conversion).
    Track: ``d0``, ``z0`` (mm; 0 without a track). Calorimeters: ``ecal_e``, ``hcal_e`` (GeV
    measured deposits; may be < 0 at low energy, as noise can be; 0 where none).
    Parameterised resolutions used (absolute, 0 where not measured): ``sigma_pt_rel``
    (σ(pT)/pT), ``sigma_phi`` (rad), ``sigma_cot_theta``, ``sigma_d0``, ``sigma_z0`` (mm),
    ``sigma_ecal``, ``sigma_hcal`` (GeV). ``species`` (int32 code).
    ``weight``: probability the particle is reconstructed (efficiency × acceptance ×
    threshold); smooth in everything when ``hard=False``, exact cuts when ``hard=True``; 0 for
    padding and invisible particles. ``mask``: a Bernoulli draw of ``weight`` from the key
    (bool; use ``weight`` for gradients, ``mask`` for a sampled event).
    ``ecal_cells``, ``hcal_cells``: cell energies (GeV) after acceptance and cell threshold;
    shape ``[..., 0, 0]`` when ``with_cells=False``.
    """

    pt: jax.Array
    eta: jax.Array
    phi: jax.Array
    mass: jax.Array
    energy: jax.Array
    charge: jax.Array
    pdg: jax.Array
    vx: jax.Array
    vy: jax.Array
    vz: jax.Array
    d0: jax.Array
    z0: jax.Array
    ecal_e: jax.Array
    hcal_e: jax.Array
    sigma_pt_rel: jax.Array
    sigma_phi: jax.Array
    sigma_cot_theta: jax.Array
    sigma_d0: jax.Array
    sigma_z0: jax.Array
    sigma_ecal: jax.Array
    sigma_hcal: jax.Array
    species: jax.Array
    weight: jax.Array
    mask: jax.Array
    ecal_cells: jax.Array
    hcal_cells: jax.Array


def impact_parameters(particles: Particles) -> tuple[jax.Array, jax.Array]:
    """True (d0, z0) in mm of straight lines from the production vertex, ``[..., n]`` each."""
    phi, eta = jnp.asarray(particles.phi), jnp.asarray(particles.eta)
    vx, vy, vz = (jnp.asarray(v) for v in (particles.vx, particles.vy, particles.vz))
    d0 = vy * jnp.cos(phi) - vx * jnp.sin(phi)
    z0 = vz - (vx * jnp.cos(phi) + vy * jnp.sin(phi)) * jnp.sinh(eta)
    return d0, z0


def _wrap(phi: jax.Array) -> jax.Array:
    return wrap_phi(jnp.asarray(phi))  # always jnp, also for host inputs outside jit


def smear(
    key: jax.Array,
    particles: Particles,
    det_params: DetectorParams,
    *,
    hard: bool = False,
    temperature: float | jax.Array = 1.0,
    with_cells: bool = True,
) -> Reco:
    """Smear ``particles`` (``[..., n]`` fields) with the detector ``det_params``; see module doc.

    Args:
      key: PRNG key; the only source of randomness.
      particles: :class:`~hepjax.data.particles.Particles` (NumPy or JAX arrays).
      det_params: detector description, e.g. :func:`~hepjax.detector.params.cms_like`.
      hard: exact cuts and nearest-cell deposition (evaluation) instead of soft ones.
      temperature: scales every soft-step width (> 0; soft mode only).
      with_cells: also fill the ECAL and HCAL cell grids (static).
    Returns:
      :class:`Reco`.

    >>> import jax
    >>> from hepjax.data.particles import pad_events
    >>> from hepjax.detector import cms_like, smear
    >>> ev = pad_events([dict(pt=[20.0], eta=[0.3], phi=[1.0], mass=[0.1396], pdg=[211],
    ...                       charge=[1.0], vx=[0.0], vy=[0.0], vz=[0.0])])
    >>> reco = smear(jax.random.key(0), ev, cms_like(), with_cells=False)
    >>> reco.pt.shape
    (1, 1)
    """
    return smear_with_noise(
        draw_noise(key, np.shape(particles.pt), jnp.asarray(particles.pt).dtype),
        particles,
        det_params,
        hard=hard,
        temperature=temperature,
        with_cells=with_cells,
    )


def smear_with_noise(
    noise: Noise,
    particles: Particles,
    det_params: DetectorParams,
    *,
    hard: bool = False,
    temperature: float | jax.Array = 1.0,
    with_cells: bool = True,
) -> Reco:
    """:func:`smear` with the random numbers given (the NumPy reference takes the same ones)."""
    if not hard and isinstance(temperature, (int, float)) and temperature <= 0:
        raise ValueError(f"temperature must be > 0 for soft smearing, got {temperature}")
    p = Particles(*(jnp.asarray(x) for x in particles))
    # Padding slots may hold anything (even NaN); zero them before any non-linear op so neither the
    # outputs nor the gradients (w.r.t. particles or detector parameters) see them.
    p = Particles(*(x if f == "mask" else jnp.where(p.mask, x, jnp.zeros_like(x)) for f, x in zip(p._fields, p)))
    tr, ecal, hcal = det_params.tracker, det_params.ecal, det_params.hcal
    kw = dict(hard=hard, temperature=temperature)
    ew = det_params.edge_width
    sp = jnp.where(p.mask, species(p.pdg), 0)
    charged = (sp == CHARGED_HADRON) | (sp == ELECTRON) | (sp == MUON)
    in_ecal = (sp == ELECTRON) | (sp == PHOTON)
    in_hcal = (sp == CHARGED_HADRON) | (sp == NEUTRAL_HADRON)
    row = jnp.clip(sp - CHARGED_HADRON, 0, 2)  # hadron, electron, muon rows of the [3, R] tables
    abs_eta = jnp.abs(p.eta)
    zero = jnp.zeros_like(p.pt)

    # --- tracker ------------------------------------------------------------------------
    pt_safe = jnp.where(charged & (p.pt > 0), p.pt, 1.0)
    sig_pt = quadrature(tr.pt, pt_safe, edge_steps(abs_eta, tr.pt.eta_edges, ew, **kw), row)
    w_ip = edge_steps(abs_eta, tr.d0.eta_edges, ew, **kw)
    inv_pt = 1.0 / pt_safe
    sig_d0 = quadrature(tr.d0, inv_pt, w_ip)
    sig_z0 = quadrature(tr.z0, inv_pt, edge_steps(abs_eta, tr.z0.eta_edges, ew, **kw))
    sig_phi = quadrature(tr.phi, inv_pt, edge_steps(abs_eta, tr.phi.eta_edges, ew, **kw))
    sig_cot = quadrature(tr.cot_theta, inv_pt, edge_steps(abs_eta, tr.cot_theta.eta_edges, ew, **kw))
    scale = 1.0 + sig_pt * noise.curvature  # measured q/pT = true q/pT × scale
    trk_pt = p.pt / jnp.abs(scale)
    trk_q = p.charge * jnp.sign(scale)
    trk_phi = _wrap(p.phi + sig_phi * noise.phi)
    trk_eta = jnp.arcsinh(jnp.sinh(p.eta) + sig_cot * noise.cot_theta)
    d0_true, z0_true = impact_parameters(p)
    trk_eff = efficiency(tr.efficiency, p.pt, edge_steps(abs_eta, tr.efficiency.eta_edges, ew, **kw), row, **kw)
    trk_eff = trk_eff * step(tr.eta_max - abs_eta, ew, **kw)

    # --- calorimeters -------------------------------------------------------------------
    e_true = p.energy
    e_safe = jnp.where((in_ecal | in_hcal) & (e_true > 0), e_true, 1.0)
    sig_ecal = e_safe * calo_relative(ecal.resolution, e_safe, edge_steps(abs_eta, ecal.resolution.eta_edges, ew, **kw))
    sig_hcal = e_safe * calo_relative(hcal.resolution, e_safe, edge_steps(abs_eta, hcal.resolution.eta_edges, ew, **kw))
    ecal_e = jnp.where(in_ecal, e_true + sig_ecal * noise.ecal, zero)
    hcal_e = jnp.where(in_hcal, e_true + sig_hcal * noise.hcal, zero)
    ecal_acc = step(ecal.eta_max - abs_eta, ew, **kw)
    hcal_acc = step(hcal.eta_max - abs_eta, ew, **kw)

    # --- per-particle reconstruction ----------------------------------------------------
    e_neutral = jnp.where(sp == PHOTON, ecal_e, hcal_e)
    p_neutral = jnp.sqrt(jnp.maximum(e_neutral**2 - p.mass**2, 1e-12)) * (e_neutral > 0)
    neutral_pt = p_neutral / jnp.cosh(p.eta)
    pt = jnp.where(charged, trk_pt, jnp.where((sp == PHOTON) | (sp == NEUTRAL_HADRON), neutral_pt, zero))
    eta = jnp.where(charged, trk_eta, p.eta)
    phi = jnp.where(charged, trk_phi, _wrap(p.phi))
    # max(., tiny): sqrt'(0) = inf at padding would turn the where-masked branch's gradient into NaN.
    trk_e = jnp.sqrt(jnp.maximum(p.mass**2 + (trk_pt * jnp.cosh(trk_eta)) ** 2, 1e-12))
    energy = jnp.where(charged, trk_e, jnp.where(pt > 0, e_neutral, zero))
    w_photon = ecal_acc * step(ecal_e - ecal.e_min, ecal.e_min_width, **kw)
    w_nh = hcal_acc * step(hcal_e - hcal.e_min, hcal.e_min_width, **kw)
    weight = jnp.where(charged, trk_eff, jnp.where(sp == PHOTON, w_photon, jnp.where(sp == NEUTRAL_HADRON, w_nh, zero)))
    weight = jnp.where(p.mask, weight, zero)
    mask = p.mask & (noise.uniform < weight)

    lead = p.pt.shape[:-1]
    if with_cells:
        ecal_cells = calorimeter.deposit(ecal_e * ecal_acc, p.eta, p.phi, ecal.grid, hard=hard)
        hcal_cells = calorimeter.deposit(hcal_e * hcal_acc, p.eta, p.phi, hcal.grid, hard=hard)
        ecal_cells = calorimeter.threshold_cells(ecal_cells, ecal.e_min, ecal.e_min_width, **kw)
        hcal_cells = calorimeter.threshold_cells(hcal_cells, hcal.e_min, hcal.e_min_width, **kw)
    else:
        ecal_cells = hcal_cells = jnp.zeros(lead + (0, 0), p.pt.dtype)

    return Reco(
        pt=pt,
        eta=eta,
        phi=phi,
        mass=p.mass,
        energy=energy,
        charge=jnp.where(charged, trk_q, p.charge),
        pdg=p.pdg,
        vx=p.vx,
        vy=p.vy,
        vz=p.vz,
        d0=jnp.where(charged, d0_true + sig_d0 * noise.d0, zero),
        z0=jnp.where(charged, z0_true + sig_z0 * noise.z0, zero),
        ecal_e=ecal_e,
        hcal_e=hcal_e,
        sigma_pt_rel=jnp.where(charged, sig_pt, zero),
        sigma_phi=jnp.where(charged, sig_phi, zero),
        sigma_cot_theta=jnp.where(charged, sig_cot, zero),
        sigma_d0=jnp.where(charged, sig_d0, zero),
        sigma_z0=jnp.where(charged, sig_z0, zero),
        sigma_ecal=jnp.where(in_ecal, sig_ecal, zero),
        sigma_hcal=jnp.where(in_hcal, sig_hcal, zero),
        species=sp,
        weight=weight,
        mask=mask,
        ecal_cells=ecal_cells,
        hcal_cells=hcal_cells,
    )


_smear_jit = jax.jit(smear, static_argnames=("hard", "with_cells"))


def smear_jit(
    key: jax.Array,
    particles: Particles,
    det_params: DetectorParams,
    *,
    hard: bool = False,
    temperature: float | jax.Array = 1.0,
    with_cells: bool = True,
) -> Reco:
    """:func:`smear` under ``jit``: ``hard`` and ``with_cells`` static, ``temperature`` traced
    (always passed as an array, so calls with and without it share one compilation)."""
    if not hard and isinstance(temperature, (int, float)) and temperature <= 0:
        raise ValueError(f"temperature must be > 0 for soft smearing, got {temperature}")
    t = jnp.asarray(temperature, jnp.asarray(particles.pt).dtype)
    return _smear_jit(key, particles, det_params, hard=hard, temperature=t, with_cells=with_cells)


def smear_checked(
    key: jax.Array,
    particles: Particles,
    det_params: DetectorParams,
    *,
    hard: bool = False,
    temperature: float = 1.0,
    with_cells: bool = True,
) -> Reco:
    """Validate the inputs on the host (clear ``ValueError`` on bad input), then :data:`smear_jit`."""
    validate_particles(particles)
    validate_params(det_params)
    if not hard and not temperature > 0:
        raise ValueError(f"temperature must be > 0 for soft smearing, got {temperature}")
    return smear_jit(key, particles, det_params, hard=hard, temperature=temperature, with_cells=with_cells)


def to_particles(reco: Reco) -> Particles:
    """Detector-level :class:`~hepjax.data.particles.Particles` (NumPy) of the reconstructed
    particles (``reco.mask`` and pt > 0), e.g. for ``hepjax.data.cluster_jets``."""
    mask = np.asarray(reco.mask) & (np.asarray(reco.pt) > 0)
    out = {f: np.asarray(getattr(reco, f)).astype(DTYPES[f]) for f in FIELDS if f != "mask"}
    out = {f: np.where(mask, v, 0).astype(DTYPES[f]) for f, v in out.items()}
    return Particles(**out, mask=mask)
