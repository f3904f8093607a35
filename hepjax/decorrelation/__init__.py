"""Mass decorrelation: distance correlation (DisCo), moment decorrelation (MoDe), adversaries, metrics."""

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
from hepjax.decorrelation.metrics import (
    cut_at_signal_efficiency,
    inverse_jsd,
    jensen_shannon,
    rejection,
    weighted_quantile,
)
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
    "cut_at_signal_efficiency",
    "dense_sums",
    "distance_correlation",
    "distance_correlation_u",
    "efficiency_vs_mass",
    "get_penalty",
    "gradient_reversal",
    "init_adversary",
    "inverse_jsd",
    "jensen_shannon",
    "lambda_schedule",
    "mode_loss",
    "rejection",
    "sorted_sums",
    "tiled_sums",
    "weighted_quantile",
]
