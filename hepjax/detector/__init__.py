"""Differentiable detector response: parameterised smearing, calorimeter cells and showers, efficiencies.

The barrel tracker that records hits lives in :mod:`hepjax.detector.tracker` (import it as
such; it is not re-exported here).
"""

from hepjax.detector.calorimeter import cell_centres, deposit, threshold_cells
from hepjax.detector.params import (
    CaloGrid,
    CaloParams,
    CaloResolution,
    DetectorParams,
    Efficiency,
    QuadratureResolution,
    TrackerParams,
    cms_like,
    validate_params,
)
from hepjax.detector.shower_params import CaloLayout, ShowerParams, cms_showers, validate_shower_params
from hepjax.detector.showers import CaloCells, showers, showers_checked, truth_table
from hepjax.detector.smearing import (
    Noise,
    Reco,
    draw_noise,
    impact_parameters,
    smear,
    smear_checked,
    smear_jit,
    smear_with_noise,
    to_particles,
)
from hepjax.detector.species import (
    KNOWN_PDG,
    SPECIES_NAMES,
    species,
    validate_particles,
)

__all__ = [
    "KNOWN_PDG",
    "SPECIES_NAMES",
    "CaloCells",
    "CaloGrid",
    "CaloLayout",
    "CaloParams",
    "CaloResolution",
    "DetectorParams",
    "Efficiency",
    "Noise",
    "QuadratureResolution",
    "Reco",
    "ShowerParams",
    "TrackerParams",
    "cell_centres",
    "cms_like",
    "cms_showers",
    "deposit",
    "draw_noise",
    "impact_parameters",
    "smear",
    "smear_checked",
    "smear_jit",
    "smear_with_noise",
    "showers",
    "showers_checked",
    "species",
    "threshold_cells",
    "to_particles",
    "truth_table",
    "validate_params",
    "validate_particles",
    "validate_shower_params",
]
