"""Differentiable detector response: parameterised smearing, calorimeter cells, efficiencies.

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
    "CaloGrid",
    "CaloParams",
    "CaloResolution",
    "DetectorParams",
    "Efficiency",
    "Noise",
    "QuadratureResolution",
    "Reco",
    "TrackerParams",
    "cell_centres",
    "cms_like",
    "deposit",
    "draw_noise",
    "impact_parameters",
    "smear",
    "smear_checked",
    "smear_jit",
    "smear_with_noise",
    "species",
    "threshold_cells",
    "to_particles",
    "validate_params",
    "validate_particles",
]
