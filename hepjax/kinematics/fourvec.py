"""Four-vectors in collider coordinates: (pT, η, φ, m) <-> (px, py, pz, E), sums, Δφ, ΔR.

Every function is array-API style: it takes NumPy or ``jax.numpy`` arrays (any mix of them and
Python scalars) and computes with the namespace of its inputs (:func:`namespace`), so the same
code runs on the host and under ``jit``/``grad``. Units: GeV for momenta, energies and masses,
radians for angles; η is the pseudorapidity.

Δφ convention (one for the whole code base): ``delta_phi(a, b) = (a - b + π) mod 2π - π``, which
lies in ``[-π, π)`` (a difference of exactly +π maps to -π).
"""

from __future__ import annotations

import math

import numpy as np


def namespace(*arrays):
    """``jax.numpy`` if any argument is a JAX array (or tracer), else ``numpy``."""
    for a in arrays:
        if type(a).__module__.startswith("jax"):
            import jax.numpy as jnp

            return jnp
    return np


def wrap_phi(phi):
    """Azimuth wrapped into ``[-π, π)`` (rad, any shape)."""
    xp = namespace(phi)
    return xp.mod(phi + math.pi, 2 * math.pi) - math.pi


def delta_phi(phi1, phi2):
    """``φ1 - φ2`` wrapped into ``[-π, π)`` (rad, broadcasting)."""
    xp = namespace(phi1, phi2)
    return xp.mod(xp.asarray(phi1) - xp.asarray(phi2) + math.pi, 2 * math.pi) - math.pi


def delta_r(eta1, phi1, eta2, phi2):
    """ΔR = sqrt(Δη² + Δφ²) with Δφ from :func:`delta_phi` (broadcasting, dimensionless)."""
    xp = namespace(eta1, phi1, eta2, phi2)
    return xp.hypot(xp.asarray(eta1) - xp.asarray(eta2), delta_phi(phi1, phi2))


def to_cartesian(pt, eta, phi, m):
    """(px, py, pz, E) in GeV from pT (GeV), η, φ (rad), m (GeV), all ``[...]``.

    ``E = sqrt(m² + pT² + pz²)`` with ``pz = pT sinh η``.
    """
    xp = namespace(pt, eta, phi, m)
    pz = pt * xp.sinh(eta)
    return pt * xp.cos(phi), pt * xp.sin(phi), pz, xp.sqrt(m**2 + pt**2 + pz**2)


def to_cylindrical(px, py, pz, e, *, eps: float = 0.0):
    """(pT, η, φ, m) from (px, py, pz, E) in GeV, all ``[...]``.

    φ = atan2(py, px) in ``(-π, π]``; m = sqrt(max(E² - p², eps)) (0 for space-like round-off).
    ``eps`` > 0 (GeV²) is added under pT's square root and floors m², which keeps gradients finite
    at pT -> 0 or m -> 0 (the differentiable tagger inputs use it); with ``eps = 0`` pT = hypot(px, py).
    """
    xp = namespace(px, py, pz, e)
    pt = xp.hypot(px, py) if eps == 0 else xp.sqrt(px**2 + py**2 + eps)
    eta = xp.arcsinh(pz / xp.maximum(pt, 1e-12))
    phi = xp.arctan2(py, px)
    m = xp.sqrt(xp.maximum(e**2 - px**2 - py**2 - pz**2, eps))
    return pt, eta, phi, m


def sum_cartesian(px, py, pz, e, weight=None, *, axis: int = -1):
    """Σ w_i p_i over ``axis``: (px, py, pz, E) of the sum, GeV.

    ``weight`` ``[..., n]`` is a mask (bool) or soft weights in [0, 1]; padding must have weight 0.
    """
    xp = namespace(px, py, pz, e, weight)
    if weight is None:
        return tuple(xp.sum(v, axis) for v in (px, py, pz, e))
    return tuple(xp.sum(weight * v, axis) for v in (px, py, pz, e))


def sum_cylindrical(pt, eta, phi, m, weight=None, *, axis: int = -1, eps: float = 0.0):
    """The (pT, η, φ, m) of the (weighted, masked) sum of constituents ``[..., n]`` -> ``[...]``."""
    return to_cylindrical(*sum_cartesian(*to_cartesian(pt, eta, phi, m), weight, axis=axis), eps=eps)


def invariant_mass(pt, eta, phi, m, weight=None, *, axis: int = -1):
    """Invariant mass (GeV) ``[...]`` of the masked/weighted sum of the four-vectors ``[..., n]``."""
    return sum_cylindrical(pt, eta, phi, m, weight, axis=axis)[3]
