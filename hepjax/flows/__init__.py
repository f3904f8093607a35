"""Conditional normalizing flows on distrax bijectors, as pure functions of their parameters."""

from hepjax.flows.bijectors import (
    SPLINE_BOUND,
    MaskedAutoregressive,
    Permutation,
    affine,
    logit,
    rqs,
    rqs_param_count,
    rqs_reference,
    standardize,
)
from hepjax.flows.conditioners import MADE, CouplingMLP, made_masks
from hepjax.flows.flow import KINDS, Flow, FlowConfig, flow_from_config, make_flow
from hepjax.flows.spline import RationalQuadraticSpline
from hepjax.flows.training import fit_flow, mean_log_prob

__all__ = [
    "KINDS",
    "MADE",
    "SPLINE_BOUND",
    "CouplingMLP",
    "Flow",
    "FlowConfig",
    "MaskedAutoregressive",
    "Permutation",
    "RationalQuadraticSpline",
    "affine",
    "fit_flow",
    "flow_from_config",
    "logit",
    "made_masks",
    "make_flow",
    "mean_log_prob",
    "rqs",
    "rqs_param_count",
    "rqs_reference",
    "standardize",
]
