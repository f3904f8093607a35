"""Bench area ``fastsim``: CaloFlow vs the reference cascade, as the calo_fastsim experiment measures it.

Runs the experiment's pipeline (:func:`experiments.calo_fastsim.run`) on the settings of
``configs/calo_fastsim.yaml`` (quick: a few hundred showers and short training) in a temporary
folder, through :func:`hepjax.bench.harness.experiment_metrics` (no runner, no files read back), and
reports ``classifier_auc`` (flow vs cascade on held-out showers),
``showers_per_s`` (flow, jit, batched) and ``reference_showers_per_s`` (cascade), both at
100 GeV, and the separation powers of the CaloChallenge high-level features.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hepjax.bench.harness import experiment_metrics
from hepjax.fastsim.caloflow import CPU_RUNTIME

HOST_RUNTIME = CPU_RUNTIME  # declared here (an entry point): the runtime `hepjax run configs/calo_fastsim.yaml` uses

QUICK = [
    "data.n_showers=400",
    "train1.steps=300",
    "train2.steps=200",
    "classifier.steps=200",
    "train1.batch_size=128",
    "train2.batch_size=128",
    "classifier.batch_size=64",
    "flow2.layers=4",
    "eval.validation_showers=5",
    "eval.timing_showers=3",
    "eval.flow_batch=500",
    "train1.progress=false",
    "train2.progress=false",
    "classifier.progress=false",
]


def run(*, quick: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench_fastsim_") as tmp:
        m = experiment_metrics("calo_fastsim", QUICK if quick else [], Path(tmp))
    metrics = {
        "classifier_auc": m["classifier_auc"],
        "showers_per_s": m["showers_per_s"],
        "separation_power_mean": m["separation_power_mean"],
        **{f"separation_power/{k}": v for k, v in m["separation_power"].items()},
        **{f"flow_showers_per_s_{e}GeV": t["flow_showers_per_s"] for e, t in m["timing"].items()},
    }
    peer = {
        "reference_showers_per_s": m["reference_showers_per_s"],
        **{f"reference_showers_per_s_{e}GeV": t["reference_showers_per_s"] for e, t in m["timing"].items()},
    }
    return {
        "metrics": metrics,
        "peer": {"cascade": peer},
        "ratios": {"speedup_100GeV": m["speedup_100GeV"]},
        "notes": f"calo_fastsim experiment ({'quick' if quick else 'full'} config): {m['n_train']} training showers, "
        f"{m['n_test']} held-out; peer = the reference EM cascade (NumPy) at the same energies.",
    }
