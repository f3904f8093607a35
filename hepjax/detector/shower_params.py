"""Parameters of the calorimeter showers of :mod:`hepjax.detector.showers`: shapes, depths, response,
cell noise (:class:`ShowerParams`, float pytree leaves) and the static front geometry (:class:`CaloLayout`)."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.detector.profiles import core_weight
from hepjax.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class ShowerParams:
    """Shower-shape and cell-noise parameters; every field is a float pytree leaf (differentiable).

    Defaults (:func:`cms_showers`) are for CMS: PbWO₄ ECAL (R_M = 2.19 cm, X₀ = 0.89 cm,
    λ_I = 20.3 cm, 25.8 X₀ = 1.1 λ_I deep; PDG atomic and nuclear properties; JINST 3 S08004) and a
    brass/scintillator HCAL (5.8 λ_I at η = 0, ibid.). Shower widths, h/e and the MIP deposits are
    round numbers of the right size, not fits (the CMS test-beam e/π of the combined ECAL + HCAL is
    about 1.2–1.4 at 10–100 GeV, EPJC 60 (2009) 359).

    Fields:
      moliere_radius: R_M of the ECAL, m.
      em_core, em_tail: σ of the EM core and tail Gaussians, in R_M.
      em_containment: fraction of an EM shower within one R_M (fixes the core weight).
      had_core, had_tail: σ of the hadronic core and tail, m.
      had_core_fraction: weight of the hadronic core.
      ecal_depth, hcal_depth: calorimeter depths, λ_I.
      had_length: scale of the Gamma(2) longitudinal profile after the first interaction, λ_I.
      h_over_e_ecal, h_over_e_hcal: response to the non-EM part of a hadron shower (< 1).
      em_fraction_e0, em_fraction_k: f_em = 1 − (max(E, E₀)/E₀)^(k−1); E₀ in GeV.
      mip_ecal, mip_hcal: a muon's (or a not-yet-interacted hadron's) deposit, GeV.
      mip_spread: relative Gaussian spread of the MIP deposits (a stand-in for the Landau tail).
      mip_width: lateral σ of a MIP deposit, m.
      ecal_noise, hcal_noise: Gaussian noise per cell, GeV (CMS: ~40 MeV per EB crystal, ~200 MeV per
        HB tower).
      ecal_threshold, hcal_threshold: cell energy thresholds, GeV (a cell keeps E > threshold; 0: no
        threshold, negative noise kept).
      threshold_width: width of the soft threshold step, GeV.
    """

    moliere_radius: jax.Array
    em_core: jax.Array
    em_tail: jax.Array
    em_containment: jax.Array
    had_core: jax.Array
    had_tail: jax.Array
    had_core_fraction: jax.Array
    ecal_depth: jax.Array
    hcal_depth: jax.Array
    had_length: jax.Array
    h_over_e_ecal: jax.Array
    h_over_e_hcal: jax.Array
    em_fraction_e0: jax.Array
    em_fraction_k: jax.Array
    mip_ecal: jax.Array
    mip_hcal: jax.Array
    mip_spread: jax.Array
    mip_width: jax.Array
    ecal_noise: jax.Array
    hcal_noise: jax.Array
    ecal_threshold: jax.Array
    hcal_threshold: jax.Array
    threshold_width: jax.Array


jax.tree_util.register_dataclass(
    ShowerParams, data_fields=[f.name for f in dataclasses.fields(ShowerParams)], meta_fields=[]
)


def cms_showers(**overrides: float) -> ShowerParams:
    """:class:`ShowerParams` with the CMS-like defaults documented there; keyword overrides by field name."""
    values = dict(
        moliere_radius=0.0219,
        em_core=0.3,
        em_tail=1.0,
        em_containment=0.9,
        had_core=0.04,
        had_tail=0.15,
        had_core_fraction=0.6,
        ecal_depth=1.1,
        hcal_depth=5.8,
        had_length=0.6,
        h_over_e_ecal=0.6,
        h_over_e_hcal=0.7,
        em_fraction_e0=1.0,
        em_fraction_k=0.82,
        mip_ecal=0.3,
        mip_hcal=2.0,
        mip_spread=0.1,
        mip_width=0.005,
        ecal_noise=0.04,
        hcal_noise=0.2,
        ecal_threshold=0.0,
        hcal_threshold=0.0,
        threshold_width=0.01,
    )
    unknown = set(overrides) - set(values)
    if unknown:
        raise ConfigError(f"unknown ShowerParams field(s) {sorted(unknown)}; known: {sorted(values)}")
    values.update(overrides)
    dtype = jnp.result_type(float)
    return ShowerParams(**{k: jnp.asarray(v, dtype) for k, v in values.items()})


def validate_shower_params(sp: ShowerParams) -> None:
    """Host-side check: every field finite and ≥ 0; widths, depths, E₀ and σ_noise > 0; weights and h/e in
    [0, 1]; ``em_containment`` reachable by the core/tail widths (core weight in [0, 1]).

    Raises:
      ConfigError: naming the field and its value.
    """
    for f in dataclasses.fields(ShowerParams):
        v = np.asarray(getattr(sp, f.name), np.float64)
        if v.shape != ():
            raise ConfigError(f"ShowerParams.{f.name} must be a scalar, got shape {v.shape}")
        if not np.isfinite(v) or v < 0:
            raise ConfigError(f"ShowerParams.{f.name} must be finite and >= 0, got {float(v)}")
    positive = ("moliere_radius", "em_core", "em_tail", "had_core", "had_tail", "mip_width", "ecal_depth",
                "hcal_depth", "had_length", "em_fraction_e0", "ecal_noise", "hcal_noise", "threshold_width")  # fmt: skip
    for f in positive:
        if not float(getattr(sp, f)) > 0:
            raise ConfigError(f"ShowerParams.{f} must be > 0, got {float(getattr(sp, f))}")
    for f in ("em_containment", "had_core_fraction", "h_over_e_ecal", "h_over_e_hcal", "em_fraction_k"):
        if not float(getattr(sp, f)) <= 1:
            raise ConfigError(f"ShowerParams.{f} must be <= 1, got {float(getattr(sp, f))}")
    w = float(core_weight(sp.em_core, sp.em_tail, sp.em_containment))
    if not 0 <= w <= 1:
        raise ConfigError(
            f"ShowerParams.em_containment = {float(sp.em_containment)} cannot be reached with em_core = "
            f"{float(sp.em_core)} and em_tail = {float(sp.em_tail)} R_M (core weight {w:.3f} outside [0, 1])"
        )


@dataclasses.dataclass(frozen=True)
class CaloLayout:
    """Static geometry of the calorimeter fronts (m, T) and the shower windows (cells; hashable).

    CMS (JINST 3 (2008) S08004): 3.8 T solenoid; ECAL barrel front at R = 1.29 m, endcap front at
    |z| = 3.154 m; HCAL barrel inner radius 1.777 m, endcap front ≈ 3.88 m; the forward HCAL (HF,
    |η| > 3) front at |z| = 11.15 m.

    Windows: a shower is integrated over ``(2K+1)²`` cells around its axis and renormalised there.
    ``ecal_window = 8`` holds an EM shower whole (tail σ = R_M ≈ one barrel crystal, ≈ 4 crystals at
    |η| = 3) and a hadron's ECAL part to ±1.3 σ of its 15 cm tail in the barrel (wider tails are folded
    in: the energy is kept, the far tail moves inwards); ``hcal_window = 2`` holds ±2.6 σ of that tail
    in HCAL towers. 17² ECAL contributions per particle: about 5 ms per event of 512 particles on the
    full grids (2-core CPU, jit).
    """

    b_field: float = 3.8
    ecal_radius: float = 1.29
    ecal_z: float = 3.154
    hcal_radius: float = 1.777
    hcal_z: float = 3.88
    hf_z: float = 11.15
    hf_eta: float = 3.0
    ecal_window: int = 8
    hcal_window: int = 2

    def __post_init__(self):
        for f in ("b_field", "ecal_radius", "ecal_z", "hcal_radius", "hcal_z", "hf_z"):
            if not getattr(self, f) > 0:
                raise ConfigError(f"CaloLayout.{f} must be > 0, got {getattr(self, f)}")
        if not self.hcal_radius > self.ecal_radius:
            raise ConfigError(
                f"CaloLayout.hcal_radius ({self.hcal_radius}) must exceed ecal_radius ({self.ecal_radius})"
            )
        for f in ("ecal_window", "hcal_window"):
            v = getattr(self, f)
            if not (isinstance(v, int) and v >= 0):
                raise ConfigError(f"CaloLayout.{f} must be an int >= 0 (cells), got {v!r}")
