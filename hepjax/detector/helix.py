"""Helix geometry of a charged particle in a uniform solenoid field along +z.

A particle of transverse momentum pT (GeV) and charge q (e) in a field B (T) moves on a circle of
radius ``R = pT / (0.3 |q| B)`` metres in the transverse plane (``radius_mm`` returns millimetres)
and uniformly in z: ``dz/ds = sinh(eta)`` per transverse arc length ``s``. A positive particle in
B > 0 turns clockwise seen from +z (F = q v x B), so the direction angle obeys
``dphi/ds = h / R`` with the *helicity* ``h = -sign(q B)``.

All functions are NumPy, vectorised over particles (1-D arrays, float64 internally), and pure.
Units: mm, GeV, T, rad. Conventions follow the PDG review "Passage of particles through matter"
(Highland formula) and "Kinematics" (helix parameters).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

TWO_PI = 2.0 * np.pi
# pT [GeV] = 0.3 * B [T] * R [m]: 0.3 is c in units of 1e9 m/s (GeV / (T m)), i.e. 0.299792458.
C_LIGHT = 0.299792458


def radius_mm(pt, charge, b_field: float):
    """Transverse radius of curvature in mm: ``1000 pT / (0.2998 |q| B)``; pT in GeV, B in T."""
    return 1000.0 * np.asarray(pt, np.float64) / (C_LIGHT * np.abs(np.asarray(charge, np.float64)) * b_field)


class HelixState(NamedTuple):
    """A point on a trajectory and its momentum direction; fields are 1-D float64 arrays ``[n]``.

    x0, y0, z0: mm; phi: rad, transverse direction of motion; cot_theta = sinh(eta) = pz/pT;
    pt: GeV; charge: e.
    """

    x0: np.ndarray
    y0: np.ndarray
    z0: np.ndarray
    phi: np.ndarray
    cot_theta: np.ndarray
    pt: np.ndarray
    charge: np.ndarray


class Circle(NamedTuple):
    """Transverse projection of a helix: centre (cx, cy) mm, radius rho mm, helicity h = +-1,
    and ``theta0``, the angle of the start point seen from the centre (rad)."""

    cx: np.ndarray
    cy: np.ndarray
    rho: np.ndarray
    h: np.ndarray
    theta0: np.ndarray


def circle_of(state: HelixState, b_field: float) -> Circle:
    """Transverse circle of each helix: ``[n]`` arrays (mm, rad)."""
    rho = radius_mm(state.pt, state.charge, b_field)
    h = -np.sign(state.charge * b_field)
    cx = state.x0 - rho * h * np.sin(state.phi)
    cy = state.y0 + rho * h * np.cos(state.phi)
    theta0 = np.arctan2(state.y0 - cy, state.x0 - cx)
    return Circle(cx, cy, rho, h, theta0)


def position(state: HelixState, s, b_field: float):
    """Point at transverse arc length ``s`` (mm, ``[n]`` or broadcastable) along each helix.

    Returns ``(x, y, z)`` in mm. Equivalent to integrating the Lorentz force exactly.
    """
    c = circle_of(state, b_field)
    theta = c.theta0 + c.h * np.asarray(s) / c.rho
    return c.cx + c.rho * np.cos(theta), c.cy + c.rho * np.sin(theta), state.z0 + np.asarray(s) * state.cot_theta


def turning_to(c: Circle, x, y):
    """Turning angle in [0, 2 pi) from the start point to the circle point nearest (x, y), rad."""
    theta = np.arctan2(y - c.cy, x - c.cx)
    return np.mod(c.h * (theta - c.theta0), TWO_PI)


def farthest_turning(c: Circle):
    """Turning angle (rad) from the start to the point of largest distance from the beam line.

    Hits are recorded on the *outgoing* half-arc, turning angles in ``[0, farthest_turning]``.
    """
    d = np.hypot(c.cx, c.cy)
    safe = np.maximum(d, 1e-12)
    fx = c.cx * (1.0 + c.rho / safe)
    fy = c.cy * (1.0 + c.rho / safe)
    return np.where(d > 1e-12, turning_to(c, fx, fy), np.pi)


def cylinder_turning(c: Circle, radius: np.ndarray):
    """Turning angles ``[n, L]`` (rad) at which each circle first crosses each cylinder radius on
    its outgoing half-arc; ``inf`` where it does not.

    Args:
      c: circles of ``n`` helices.
      radius: ``[L]`` cylinder radii, mm.
    """
    R = np.asarray(radius, np.float64)[None, :]
    d = np.maximum(np.hypot(c.cx, c.cy), 1e-12)[:, None]
    rho = c.rho[:, None]
    a = (R**2 - rho**2 + d**2) / (2.0 * d)  # distance from origin to the chord, along the centre axis
    disc = R**2 - a**2
    hgt = np.sqrt(np.maximum(disc, 0.0))
    ux, uy = (c.cx[:, None] / d), (c.cy[:, None] / d)
    c2 = Circle(*(v[:, None] for v in c))
    best = np.full(np.broadcast_shapes(R.shape, d.shape), np.inf)
    far = farthest_turning(c)[:, None]
    for sign in (1.0, -1.0):
        px = a * ux - sign * hgt * uy
        py = a * uy + sign * hgt * ux
        alpha = turning_to(c2, px, py)
        ok = (disc >= 0.0) & (alpha > 1e-9) & (alpha <= far + 1e-9)
        best = np.where(ok & (alpha < best), alpha, best)
    return best


def highland_theta0(p, mass, charge, x_over_x0):
    """RMS plane scattering angle (rad) from the Highland formula (PDG eq. 34.16).

    ``theta0 = 13.6 MeV / (beta c p) |z| sqrt(x/X0) [1 + 0.038 ln(x z^2 / (X0 beta^2))]``;
    ``p`` and ``mass`` in GeV, ``x_over_x0`` the traversed thickness in radiation lengths.
    """
    p = np.asarray(p, np.float64)
    beta = p / np.sqrt(p**2 + np.asarray(mass, np.float64) ** 2)
    z2 = np.asarray(charge, np.float64) ** 2
    x = np.maximum(np.asarray(x_over_x0, np.float64), 1e-12)
    log_term = np.maximum(1.0 + 0.038 * np.log(x * z2 / beta**2), 0.0)
    return 0.0136 / (beta * p) * np.sqrt(z2) * np.sqrt(x) * log_term


def scatter(phi, cot_theta, theta0, rng: np.random.Generator):
    """Deflect unit directions by two independent Gaussian plane angles of RMS ``theta0``.

    Returns the new ``(phi, cot_theta)``; the momentum magnitude is unchanged (no energy loss).
    """
    theta = np.arctan2(1.0, cot_theta)
    st, ct, sp, cp = np.sin(theta), np.cos(theta), np.sin(phi), np.cos(phi)
    d1 = rng.normal(size=np.shape(phi)) * theta0
    d2 = rng.normal(size=np.shape(phi)) * theta0
    ux = st * cp + d1 * (-sp) + d2 * ct * cp
    uy = st * sp + d1 * cp + d2 * ct * sp
    uz = ct - d2 * st
    new_phi = np.arctan2(uy, ux)
    new_cot = uz / np.hypot(ux, uy)
    return new_phi, new_cot
