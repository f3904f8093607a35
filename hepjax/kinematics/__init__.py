"""Kinematics and jet substructure: the one home of Δφ/ΔR, four-vector algebra and jet observables.

:mod:`hepjax.kinematics.fourvec` -- coordinates, sums, masses, Δφ (wrapped into [-π, π)), ΔR;
:mod:`hepjax.kinematics.substructure` -- multiplicity, pT^D, girth, N-subjettiness, C2/D2, soft-drop z_g,
ln ρ. Closed-form functions accept NumPy or ``jax.numpy`` arrays; clustering-based ones run on the host.
"""

from hepjax.kinematics.fourvec import (
    delta_phi,
    delta_r,
    invariant_mass,
    namespace,
    sum_cartesian,
    sum_cylindrical,
    to_cartesian,
    to_cylindrical,
    wrap_phi,
)
from hepjax.kinematics.substructure import (
    c2,
    d2,
    ecf,
    exclusive_kt_axes,
    girth,
    log_rho,
    multiplicity,
    nsubjettiness,
    nsubjettiness_from_axes,
    pt_weighted_axis,
    ptd,
    soft_drop_zg,
)

__all__ = [
    "c2",
    "d2",
    "delta_phi",
    "delta_r",
    "ecf",
    "exclusive_kt_axes",
    "girth",
    "invariant_mass",
    "log_rho",
    "multiplicity",
    "namespace",
    "nsubjettiness",
    "nsubjettiness_from_axes",
    "pt_weighted_axis",
    "ptd",
    "soft_drop_zg",
    "sum_cartesian",
    "sum_cylindrical",
    "to_cartesian",
    "to_cylindrical",
    "wrap_phi",
]
