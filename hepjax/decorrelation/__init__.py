"""Mass decorrelation: distance correlation (DisCo), moment decorrelation (MoDe), adversaries."""
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

__all__ = [
    "PairSums",
    "correlation_from_sums",
    "covariances",
    "dense_sums",
    "distance_correlation",
    "distance_correlation_u",
    "sorted_sums",
    "tiled_sums",
]
