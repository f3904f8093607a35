"""A diphoton resonance search as a differentiable function of the ECAL resolution and the mass window.

The pieces of design study (a): select the two leading isolated photons of each generated event (on the
host, once), scale the ECAL resolution terms of a detector, smear the photons through
:func:`hepjax.detector.smear`, and count signal and background in a soft mass window. Everything after
the selection is pure JAX, so the expected significance is differentiable in the resolution scales and
the window.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from hepjax.data.particles import Particles
from hepjax.detector import DetectorParams, Noise, draw_noise, smear_with_noise
from hepjax.errors import DataError
from hepjax.kinematics import delta_r, invariant_mass

from .relaxed import soft_window

#: |PDG| ids that leave nothing in the detector (neutrinos), excluded from the isolation sum.
_INVISIBLE = (12, 14, 16)


class Diphotons(NamedTuple):
    """The two leading isolated generator photons of the selected events.

    Attributes:
      photons: :class:`Particles` ``[n_selected, 2]`` (pT-ordered, GeV, rad).
      weight: ``[n_selected]`` expected events per selected event at the luminosity given to
        :func:`select_diphotons` (σ · L / N_generated, times the generator weight).
      n_generated: events the sample had before the selection.
    """

    photons: Particles
    weight: np.ndarray
    n_generated: int


def isolation(particles: Particles, index: np.ndarray, cone: float) -> np.ndarray:
    """Scalar pT sum (GeV) of the visible particles within ΔR < ``cone`` of each particle ``index[..., k]``.

    Args:
      particles: ``[n_events, P]``.
      index: ``[n_events, K]`` particle indices (the candidates).
      cone: ΔR of the cone.

    Returns:
      ``[n_events, K]``: the sum excludes the candidate itself and invisible particles.
    """
    eta, phi, pt = (np.asarray(getattr(particles, f)) for f in ("eta", "phi", "pt"))
    visible = np.asarray(particles.mask) & ~np.isin(np.abs(particles.pdg), _INVISIBLE)
    c_eta = np.take_along_axis(eta, index, 1)[..., None]
    c_phi = np.take_along_axis(phi, index, 1)[..., None]
    inside = delta_r(c_eta, c_phi, eta[:, None, :], phi[:, None, :]) < cone  # [n, K, P]
    inside &= visible[:, None, :]
    inside &= np.arange(pt.shape[1])[None, None, :] != index[..., None]
    return (inside * pt[:, None, :]).sum(-1)


def select_diphotons(
    particles: Particles,
    cross_section_fb: float,
    luminosity_fb: float,
    *,
    weights: np.ndarray | None = None,
    pt_min: tuple[float, float] = (35.0, 25.0),
    eta_max: float = 2.5,
    cone: float = 0.3,
    iso_max: float = 0.1,
    n_candidates: int = 4,
) -> Diphotons:
    """Events with two isolated generator photons (host-side, NumPy).

    A photon is isolated when the visible pT in a ΔR < ``cone`` cone around it is below ``iso_max``
    times its pT (this removes the π⁰ photons of jets). The two leading isolated photons with |η| <
    ``eta_max`` must pass ``pt_min`` (leading, subleading; GeV).

    Args:
      particles: generator final state ``[n_events, P]``.
      cross_section_fb: the sample's cross-section, fb.
      luminosity_fb: integrated luminosity, fb⁻¹.
      weights: generator event weights ``[n_events]`` (None: 1).

    Raises:
      DataError: no event passes, or a non-positive cross-section or luminosity.
    """
    if not (cross_section_fb > 0 and luminosity_fb > 0):
        raise DataError(f"cross-section ({cross_section_fb} fb) and luminosity ({luminosity_fb}/fb) must be > 0")
    n_events = int(np.shape(particles.pt)[0])
    w_gen = np.ones(n_events) if weights is None else np.asarray(weights, np.float64)
    photon = np.asarray(particles.mask) & (np.asarray(particles.pdg) == 22) & (np.abs(particles.eta) < eta_max)
    pt = np.where(photon, particles.pt, 0.0)
    k = min(n_candidates, pt.shape[1])
    cand = np.argsort(-pt, axis=1, kind="stable")[:, :k]
    cand_pt = np.take_along_axis(pt, cand, 1)
    good = (cand_pt > 0) & (isolation(particles, cand, cone) < iso_max * cand_pt)
    # the two leading good candidates (stable sort keeps the pT order among the good ones)
    order = np.argsort(~good, axis=1, kind="stable")[:, :2]
    pair = np.take_along_axis(cand, order, 1)
    pair_good = np.take_along_axis(good, order, 1).all(1)
    pair_pt = np.take_along_axis(pt, pair, 1)
    keep = pair_good & (pair_pt[:, 0] > pt_min[0]) & (pair_pt[:, 1] > pt_min[1])
    if not keep.any():
        raise DataError(f"no event of {n_events} has two isolated photons passing pT > {pt_min} GeV")
    photons = Particles(*(np.take_along_axis(np.asarray(f)[keep], pair[keep], 1) for f in particles))
    weight = w_gen[keep] * cross_section_fb * luminosity_fb / w_gen.sum()
    return Diphotons(photons, weight, n_events)


def scale_ecal(det: DetectorParams, stochastic_scale, constant_scale) -> DetectorParams:
    """``det`` with the ECAL stochastic and constant terms of every |η| region multiplied by the scales."""
    res = det.ecal.resolution
    res = dataclasses.replace(res, stochastic=res.stochastic * stochastic_scale, constant=res.constant * constant_scale)
    return dataclasses.replace(det, ecal=dataclasses.replace(det.ecal, resolution=res))


def smeared_mass(photons: Particles, det: DetectorParams, noise: Noise) -> tuple[jax.Array, jax.Array]:
    """Diphoton mass (GeV) after the detector and the probability both photons are reconstructed.

    Args:
      photons: ``[n, 2]``.
      det: detector description.
      noise: :func:`hepjax.detector.smearing.draw_noise` of shape ``[n, 2]`` (fixed noise makes the
        result a deterministic function of ``det``).

    Returns:
      ``(mass [n], weight [n])``; the weight is the product of the photons' soft reconstruction weights.
    """
    reco = smear_with_noise(noise, photons, det, with_cells=False)
    mass = invariant_mass(reco.pt, reco.eta, reco.phi, jnp.zeros_like(reco.pt))
    return mass, jnp.prod(reco.weight, axis=-1)


def window_yield(sample: Diphotons, det: DetectorParams, noise: Noise, lo, hi, slope) -> jax.Array:
    """Expected events of ``sample`` with a smeared diphoton mass in the soft window ``[lo, hi]`` GeV."""
    mass, w = smeared_mass(sample.photons, det, noise)
    return jnp.sum(sample.weight * w * soft_window(mass, lo, hi, slope))


#: The design parameters of :func:`resonance_objective`, in this order on a grid.
DESIGN_PARAMS = ("stochastic_scale", "constant_scale", "centre", "half_width")


def resonance_objective(
    signal: Diphotons,
    background: Diphotons,
    det: DetectorParams,
    *,
    bkg_uncertainty: float,
    cost_weight: float,
    slope: float,
):
    """``objective(params, key) -> Z0 - cost_weight * cost``, the figure of merit of design study (a).

    ``params`` is a dict with :data:`DESIGN_PARAMS`: the ECAL stochastic and constant terms as multiples
    of ``det``'s (dimensionless), and the mass window's centre and half-width (GeV). Z0 is the Asimov
    discovery significance of the window counts with a relative background-normalisation uncertainty
    ``bkg_uncertainty`` (:func:`hepjax.stats.asimov_z0`); the cost is
    :func:`hepjax.design.calorimeter_cost` relative to ``det`` (1 at scales (1, 1)). ``key`` draws the
    detector noise of both samples (pass the same key for a deterministic objective).

    The returned function also carries ``.parts(params, key) -> dict`` (objective, z0, cost, signal and
    background counts) and ``.detector(params) -> DetectorParams``.
    """
    from hepjax.stats.asymptotics import asimov_z0

    from .costs import calorimeter_cost

    def detector(params) -> DetectorParams:
        return scale_ecal(det, params["stochastic_scale"], params["constant_scale"])

    def parts(params, key):
        k_s, k_b = jax.random.split(key)
        d = detector(params)
        lo, hi = params["centre"] - params["half_width"], params["centre"] + params["half_width"]
        s = window_yield(signal, d, draw_noise(k_s, np.shape(signal.photons.pt)), lo, hi, slope)
        b = window_yield(background, d, draw_noise(k_b, np.shape(background.photons.pt)), lo, hi, slope)
        z0 = asimov_z0(s, b, bkg_uncertainty * b)
        cost = calorimeter_cost(params["stochastic_scale"], params["constant_scale"], reference=(1.0, 1.0))
        return {"objective": z0 - cost_weight * cost, "z0": z0, "cost": cost, "signal": s, "background": b}

    def objective(params, key):
        return parts(params, key)["objective"]

    objective.parts, objective.detector = parts, detector  # the pieces, for reports and plots
    return objective


class GridResult(NamedTuple):
    """Outcome of :func:`grid_search`: ``values`` of shape ``[len(axes[name]) for name in axes]`` and the
    XLA compilations made (1: every batch has the same shape)."""

    values: np.ndarray
    compilations: int


def grid_search(
    objective, axes: dict[str, np.ndarray], key: jax.Array, *, batch: int = 256, progress: bool = True
) -> GridResult:
    """``objective(params, key)`` on the full grid of ``axes`` (one 1-D array per parameter name, in order).

    Evaluated in jitted, vmapped batches of ``batch`` points (the last one padded) with the same ``key``
    everywhere, so the grid and a ``fresh_noise=False`` :func:`hepjax.design.optimize` see one function.
    """
    names = list(axes)
    mesh = np.meshgrid(*(np.asarray(axes[n], np.float32) for n in names), indexing="ij")
    flat = np.stack([m.ravel() for m in mesh], axis=1)
    f = jax.jit(jax.vmap(lambda row: objective(dict(zip(names, row)), key)))
    pad = (-len(flat)) % batch
    rows = np.concatenate([flat, np.repeat(flat[-1:], pad, axis=0)])
    starts = tqdm(range(0, len(rows), batch), disable=not (progress and sys.stderr.isatty()), desc="grid", unit="batch")
    out = np.concatenate([np.asarray(f(rows[i : i + batch])) for i in starts])
    return GridResult(out[: len(flat)].reshape(mesh[0].shape), f._cache_size())
