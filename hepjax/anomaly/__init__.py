"""Anomaly detection for the L1 trigger: autoencoder / VAE models, their losses and scores, and the samples."""

from hepjax.anomaly.data import BACKGROUNDS, SIGNALS, make_events, sample_name
from hepjax.anomaly.models import VAE, anomaly_score, build_model, networks, trigger_mlp

__all__ = [
    "BACKGROUNDS",
    "SIGNALS",
    "VAE",
    "anomaly_score",
    "build_model",
    "make_events",
    "networks",
    "sample_name",
    "trigger_mlp",
]
