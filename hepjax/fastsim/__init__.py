"""Calorimeter fast simulation: a reference EM cascade, its analytic cross-check and CaloFlow."""

from hepjax.fastsim import grindhammer_peters
from hepjax.fastsim.caloflow import (
    CaloFlow,
    CaloFlowConfig,
    build_caloflow,
    decode_layers,
    dequantise,
    encode_layers,
    layer_energies,
    make_sampler,
    threshold_layer,
    train_caloflow,
)
from hepjax.fastsim.cascade import Showers, check_energies, sample_incident_energies, simulate_showers
from hepjax.fastsim.features import high_level_features, plot_features, plot_mean_profiles, separation_powers
from hepjax.fastsim.geometry import N_LAYERS, N_VOXELS, CalorimeterConfig, layer_slices, voxel_index
from hepjax.fastsim.reference import reference_showers
from hepjax.fastsim.validation import validate_cascade

__all__ = [
    "N_LAYERS",
    "N_VOXELS",
    "CaloFlow",
    "CaloFlowConfig",
    "CalorimeterConfig",
    "Showers",
    "build_caloflow",
    "check_energies",
    "decode_layers",
    "dequantise",
    "encode_layers",
    "grindhammer_peters",
    "high_level_features",
    "layer_energies",
    "layer_slices",
    "make_sampler",
    "plot_features",
    "plot_mean_profiles",
    "reference_showers",
    "sample_incident_energies",
    "separation_powers",
    "simulate_showers",
    "threshold_layer",
    "train_caloflow",
    "validate_cascade",
    "voxel_index",
]
