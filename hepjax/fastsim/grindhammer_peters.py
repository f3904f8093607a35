"""Grindhammer–Peters parameterisation of mean electromagnetic shower profiles.

G. Grindhammer and S. Peters, "The parameterized simulation of electromagnetic showers in
homogeneous and sampling calorimeters", hep-ex/0001020 (the GFLASH model of Geant).
Homogeneous-medium formulas; depths ``t`` in radiation lengths X0, radii in Moliere radii,
energies in GeV, ``y = E / E_c``:

- longitudinal: ``dE/dt = E * Gamma-pdf(t; alpha, beta)`` with
  ``T = ln y - 0.858`` (depth of maximum) and ``alpha = 0.21 + (0.492 + 2.38 / Z) ln y``,
  ``beta = (alpha - 1) / T``;
- radial, at ``tau = t / T``: ``f(r) = p f_C(r) + (1 - p) f_T(r)`` with
  ``f_i(r) = 2 r R_i^2 / (r^2 + R_i^2)^2`` and
  ``R_C = z1 + z2 tau``, ``R_T = k1 (exp(k3 (tau - k2)) + exp(k4 (tau - k2)))``,
  ``p = p1 exp((p2 - tau)/p3 - exp((p2 - tau)/p3))``.

The published parameterisation describes electron showers; a photon shower is the electron
profile delayed by the conversion depth (exponential, mean 9/7 X0), applied with
``photon=True`` by numerical convolution (longitudinal) and a mean delay (radial).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from hepjax.fastsim.geometry import CRITICAL_ENERGY_GEV, Z_ABSORBER

PAIR_PATH_X0 = 9.0 / 7.0


def longitudinal_parameters(
    energy: float, *, z: float = Z_ABSORBER, ec: float = CRITICAL_ENERGY_GEV
) -> tuple[float, float, float]:
    """``(alpha, beta, T)`` of the mean electron profile at ``energy`` GeV (T in X0)."""
    lny = np.log(energy / ec)
    t_max = lny - 0.858
    alpha = 0.21 + (0.492 + 2.38 / z) * lny
    if t_max <= 0 or alpha <= 1:
        raise ValueError(f"energy {energy} GeV is too low for the Grindhammer–Peters profile (y = {energy / ec:.3g})")
    return alpha, (alpha - 1.0) / t_max, t_max


def _gamma_pdf(t: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    t = np.maximum(t, 1e-12)
    return np.exp((alpha - 1.0) * np.log(beta * t) - beta * t + np.log(beta) - gammaln(alpha))


def longitudinal_profile(energy: float, t: np.ndarray, *, photon: bool = True, z: float = Z_ABSORBER) -> np.ndarray:
    """Mean ``(1/E) dE/dt`` [1/X0] at depths ``t [n]`` X0 (integrates to 1 over all depths)."""
    alpha, beta, _ = longitudinal_parameters(energy, z=z)
    t = np.asarray(t, np.float64)
    if not photon:
        return _gamma_pdf(t, alpha, beta) * (t > 0)
    # Convolution with the conversion depth: f_gamma(t) = int_0^t (7/9) e^{-7s/9} f_e(t - s) ds.
    s = np.linspace(0.0, 1.0, 401)[None, :] * np.maximum(t, 0.0)[:, None]
    integrand = (
        np.exp(-s / PAIR_PATH_X0) / PAIR_PATH_X0 * _gamma_pdf(t[:, None] - s, alpha, beta) * ((t[:, None] - s) > 0)
    )
    return np.trapezoid(integrand, s, axis=1)


def mean_depth(energy: float, *, photon: bool = True, z: float = Z_ABSORBER) -> float:
    """Mean shower depth ``<t> = alpha / beta`` X0 (+ 9/7 X0 for photons)."""
    alpha, beta, _ = longitudinal_parameters(energy, z=z)
    return alpha / beta + (PAIR_PATH_X0 if photon else 0.0)


def radial_profile(
    energy: float, t: float | np.ndarray, r: np.ndarray, *, photon: bool = True, z: float = Z_ABSORBER
) -> np.ndarray:
    """Mean radial density ``f(r)`` [1/R_M] at depth ``t`` X0 and radii ``r`` (Moliere radii).

    Broadcasts ``t`` against ``r``; integrates to 1 over ``r`` in ``[0, inf)``.
    """
    _, _, t_max = longitudinal_parameters(energy, z=z)
    t = np.asarray(t, np.float64)
    if photon:
        t = np.maximum(t - PAIR_PATH_X0, 0.0)
    tau = t / t_max
    lne = np.log(energy)
    rc = 0.0251 + 0.00319 * lne + (0.1162 - 0.000381 * z) * tau
    rt = (0.659 - 0.00309 * z) * (np.exp(-2.59 * (tau - 0.645)) + np.exp((0.3585 + 0.0421 * lne) * (tau - 0.645)))
    arg = (0.401 + 0.00187 * z - tau) / (1.313 - 0.0686 * lne)
    p = np.clip((2.632 - 0.00094 * z) * np.exp(arg - np.exp(arg)), 0.0, 1.0)
    r = np.asarray(r, np.float64)
    f = lambda rr, ri: 2.0 * rr * ri**2 / (rr**2 + ri**2) ** 2
    return p * f(r, rc) + (1.0 - p) * f(r, rt)


def radial_containment(
    energy: float, radius: float, *, photon: bool = True, depth: float = 40.0, z: float = Z_ABSORBER
) -> float:
    """Fraction of the (depth-integrated) shower energy within ``radius`` Moliere radii."""
    _, _, t_max = longitudinal_parameters(energy, z=z)
    t = np.linspace(0.0, depth, 801)
    w = longitudinal_profile(energy, t, photon=photon, z=z)
    tau = np.maximum(t - (PAIR_PATH_X0 if photon else 0.0), 0.0) / t_max
    lne = np.log(energy)
    rc = 0.0251 + 0.00319 * lne + (0.1162 - 0.000381 * z) * tau
    rt = (0.659 - 0.00309 * z) * (np.exp(-2.59 * (tau - 0.645)) + np.exp((0.3585 + 0.0421 * lne) * (tau - 0.645)))
    arg = (0.401 + 0.00187 * z - tau) / (1.313 - 0.0686 * lne)
    p = np.clip((2.632 - 0.00094 * z) * np.exp(arg - np.exp(arg)), 0.0, 1.0)
    cdf = lambda ri: radius**2 / (radius**2 + ri**2)
    inside = p * cdf(rc) + (1.0 - p) * cdf(rt)
    return float(np.trapezoid(w * inside, t) / np.trapezoid(w, t))


def sampling_resolution(energy: np.ndarray, sampling_step: float, *, ec: float = CRITICAL_ENERGY_GEV) -> np.ndarray:
    """Expected sampling fluctuation ``sigma/E = sqrt(E_c t_s / E)`` (independent crossings).

    The number of active-plane crossings is ``~ E / (E_c t_s)`` (total track length
    ``E / E_c`` X0 over the sampling step); its Poisson fluctuation is the stochastic term
    (Amaldi, Phys. Scripta 23 (1981) 409; Fabjan & Gianotti, Rev. Mod. Phys. 75 (2003) 1243).
    Angular spread (``<1/cos>``) and the soft-photon cut-offs enlarge it by O(10–40 %).
    """
    return np.sqrt(ec * sampling_step / np.asarray(energy, np.float64))
