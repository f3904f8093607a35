"""Mass decorrelation: distance correlation (DisCo), moment decorrelation (MoDe), adversaries and the
1/JSD sculpting metric (R50, JSD and quantiles: :mod:`hepjax.evaluation`)."""

from hepjax.decorrelation.adversarial import (
    adversary_mixture,
    adversary_nll,
    gradient_reversal,
    init_adversary,
    lambda_schedule,
)
from hepjax.decorrelation.distance import (
    PairSums,
    correlation_from_sums,
    covariances,
    dense_sums,
    distance_correlation,
    distance_correlation_u,
    sorted_sums,
    tiled_sums,
)
from hepjax.decorrelation.metrics import inverse_jsd
from hepjax.decorrelation.mode import efficiency_vs_mass, mode_loss
from hepjax.decorrelation.penalties import PENALTIES, Penalty, get_penalty

__all__ = [
    "PENALTIES",
    "PairSums",
    "Penalty",
    "adversary_mixture",
    "adversary_nll",
    "correlation_from_sums",
    "covariances",
    "dense_sums",
    "distance_correlation",
    "distance_correlation_u",
    "efficiency_vs_mass",
    "get_penalty",
    "gradient_reversal",
    "init_adversary",
    "inverse_jsd",
    "lambda_schedule",
    "mode_loss",
    "sorted_sums",
    "tiled_sums",
]
