"""Data/MC morphing with one switched conditional flow."""

from hepjax.morphing.jet_observables import OBSERVABLES, leading_jet_observables
from hepjax.morphing.switched_flow import (
    DATA,
    SIMULATION,
    chi2_ndf,
    fit_switched_flow,
    make_switched_flow,
    morph,
    switch_context,
)

__all__ = [
    "DATA",
    "OBSERVABLES",
    "SIMULATION",
    "chi2_ndf",
    "fit_switched_flow",
    "leading_jet_observables",
    "make_switched_flow",
    "morph",
    "switch_context",
]
