"""Where a particle meets a calorimeter's front face: its (η, φ) there, in JAX, on its helix in the solenoid.

The front face is a cylinder of radius ``R`` (the barrel) closed by two disks at ``|z| = Z`` (the
endcaps). A particle leaves the beam line (x = y = 0; its ``vz`` is kept) and moves on the helix of
:mod:`hepjax.detector.helix`: transverse radius of curvature ``ρ = pT / (0.3 |q| B)``; after a
transverse arc length ``s`` it sits at transverse distance ``r = 2ρ sin(s / 2ρ)`` and azimuth
``φ + h s / (2ρ)`` (the inscribed-angle theorem; ``h = −sign(q B)``), at ``z = vz + s sinh η``.
Neutral particles go straight (``ρ → ∞``: ``r = s``, azimuth ``φ``).

* The barrel is reached at ``s_b = 2ρ asin(R / 2ρ)``, only if ``2ρ ≥ R``, i.e. ``pT ≥ 0.3 |q| B R / 2``
  (below that the particle curls up inside the tracker volume and never arrives).
* The endcap disk is reached at ``s_e = (Z − sign(η) vz) / |sinh η|``; it counts when it comes before
  the barrel and within the first half turn (``s_e ≤ π ρ``), so a forward low-pT particle still reaches
  the endcap while a central one does not.

Outputs are differentiable in pT, η, φ and vz (arrival is a hard cut: no gradient through the
threshold). Units: GeV, m (``vz`` in mm as in :class:`~hepjax.data.particles.Particles`), T, rad.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from hepjax.detector.helix import C_LIGHT
from hepjax.kinematics import wrap_phi


class FrontPoint(NamedTuple):
    """Impact on a calorimeter front, fields ``[..., n]``.

    eta, phi: position of the impact seen from the origin (rad, φ in [−π, π)).
    r_t: transverse distance of the impact from the beam line, m (converts lateral lengths into
      Δη = Δφ = length / r_t).
    arrives: bool, the particle reaches the front face.
    """

    eta: jax.Array
    phi: jax.Array
    r_t: jax.Array
    arrives: jax.Array


def min_pt_to_reach(radius: float, b_field: float, charge: float = 1.0) -> float:
    """pT (GeV) below which a particle of ``charge`` never reaches the barrel at ``radius`` (m): 0.3·|q|·B·R/2."""
    return C_LIGHT * abs(charge) * b_field * radius / 2.0


def front_point(pt, eta, phi, charge, vz_mm, *, radius: float, z_front, b_field: float) -> FrontPoint:
    """Impact of each particle on the front face (barrel radius ``radius``, endcap ``|z| = z_front``, m).

    Args:
      pt, eta, phi, charge: ``[..., n]`` particle momenta (GeV, rad) and charges (e).
      vz_mm: ``[..., n]`` production-vertex z (mm).
      radius: barrel front radius, m (static float).
      z_front: endcap front |z|, m: a float or an array broadcasting with the particles (e.g. a
        forward calorimeter further out).
      b_field: solenoid field along +z, T.
    Returns:
      :class:`FrontPoint`.
    """
    pt, eta, phi, charge = (jnp.asarray(x) for x in (pt, eta, phi, charge))
    vz = jnp.asarray(vz_mm) * 1e-3
    charged = charge != 0
    # curvature κ = 1/ρ (1/m); a safe value where neutral or pT = 0 (padding), replaced below
    kappa = jnp.where(charged & (pt > 0), C_LIGHT * jnp.abs(charge) * b_field / jnp.where(pt > 0, pt, 1.0), 1.0)
    h = -jnp.sign(charge * b_field)
    x = radius * kappa / 2.0  # R / 2ρ
    reach_barrel = jnp.where(charged, x <= 1.0, True)
    # a safe argument off the branch: arcsin' is infinite at 1 and 0 · inf would poison the gradient
    x_safe = jnp.where(charged & reach_barrel & (x < 1.0), x, 0.5)
    s_b = jnp.where(charged, 2.0 * jnp.arcsin(x_safe) / kappa, radius)
    sh = jnp.abs(jnp.sinh(eta))
    s_e = (z_front - jnp.sign(eta) * vz) / jnp.maximum(sh, 1e-12)
    half_turn = jnp.where(charged, jnp.pi / kappa, jnp.inf)
    to_disk = (s_e < jnp.where(reach_barrel, s_b, jnp.inf)) & (s_e <= half_turn)
    arrives = reach_barrel | to_disk
    s = jnp.where(to_disk, s_e, s_b)
    s = jnp.where(arrives, s, radius)  # any finite value: the particle is masked out
    turn = jnp.where(charged, s * kappa / 2.0, 0.0)
    r_t = jnp.where(charged, 2.0 * jnp.sin(turn) / kappa, s)
    r_t = jnp.maximum(r_t, 1e-6)
    z = vz + s * jnp.sinh(eta)
    return FrontPoint(
        eta=jnp.arcsinh(z / r_t),
        phi=wrap_phi(phi + jnp.where(charged, h * turn, 0.0)),
        r_t=r_t,
        arrives=arrives,
    )
