"""GNN tracking: ttbar + pileup -> tracker hits -> hit graphs -> interaction network -> tracks.

Pythia ttbar events (``sample``) with Poisson(mu = 20) collisions of the minimum-bias ``pileup`` sample
(a pool reused across events) and noise hits go through the barrel tracker (:mod:`hepjax.detector.tracker`). Segment cuts are derived from the training events' truth
for particles above ``graph.pt_min``; the interaction-network edge classifier
(:mod:`hepjax.tracking.model`) trains through :func:`hepjax.train.fit` on stacks of padded graphs;
held-out events are scored, tracks are built and the TrackML-style metrics computed.

The working point: with ``eval.threshold_scan`` set, the edge-score threshold is the scanned value
with the highest track efficiency minus fake rate on validation events (``data.val_fraction``, held
out from training and distinct from the test events); the test metrics are then computed at it.

Writes: ``metrics.json`` (via the runner), ``roc.png``, ``efficiency.png``, ``event_display.png``,
``loss.png``, ``metrics.jsonl`` and, with a scan, ``threshold_scan.json`` / ``threshold_scan.png``.
Compilations: one train step per bucket holding a training batch plus one predict per bucket at
evaluation (``compilations`` in the metrics).

Runs under the model's CPU runtime (:data:`hepjax.tracking.model.CPU_RUNTIME`): XLA:CPU's own fusion
emitters and freed host memory kept mapped, which make the CPU train step ~2x faster.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jax
import numpy as np

from hepjax.config import param, section
from hepjax.data import SampleConfig
from hepjax.detector.tracker import TrackerGeometry
from hepjax.nn.padding import GraphBatches, make_buckets
from hepjax.tracking import (
    ModelConfig,
    init_params,
    load_or_simulate,
    make_loss_fn,
    score_graphs,
)
from hepjax.tracking.model import CPU_RUNTIME as HOST_RUNTIME  # noqa: F401  (read by `hepjax run`)
from hepjax.tracking.pipeline import (
    EvalConfig,
    GraphConfig,
    bridge_cuts_from,
    choose_threshold,
    cuts_from,
    evaluate,
    graph_metrics,
    make_graphs,
    training_graphs,
)
from hepjax.train import TrainConfig, fit


@dataclasses.dataclass(frozen=True)
class DataConfig:
    test_fraction: float = param(0.2, gt=0.0, lt=1.0, doc="held-out test events (the last ones)")
    val_fraction: float = param(
        0.0,
        ge=0.0,
        lt=1.0,
        doc="validation events, before the test events and not trained on: "
        "they choose the working point (eval.threshold_scan)",
    )
    mu: float = param(20.0, ge=0.0, doc="mean pileup collisions (drawn from the pileup sample)")
    min_pt: float = param(0.1, ge=0.0, doc="charged particles below this pT (GeV) are not propagated")
    noise: bool = param(True, doc="noise hits on")


@dataclasses.dataclass(frozen=True)
class Config:
    sample: SampleConfig = section(SampleConfig, process="ttbar", n_events=100, seed=0, workers=2)
    pileup: SampleConfig = section(SampleConfig, process="minbias", n_events=400, seed=1, workers=2)
    data: DataConfig = section(DataConfig)
    tracker: TrackerGeometry = section(TrackerGeometry)
    graph: GraphConfig = section(GraphConfig)
    model: ModelConfig = section(ModelConfig)
    train: TrainConfig = section(TrainConfig)
    eval: EvalConfig = section(EvalConfig)


def run(cfg, workdir: Path) -> dict:
    c: Config = cfg.sections
    workdir = Path(workdir)
    events = load_or_simulate(
        c.sample,
        c.tracker,
        pileup=c.pileup,
        mu=c.data.mu,
        min_pt=c.data.min_pt,
        noise=c.data.noise,
        progress=c.train.progress,
    )
    n_test = max(1, round(c.data.test_fraction * len(events)))
    n_val = max(1, round(c.data.val_fraction * len(events))) if c.data.val_fraction > 0 else 0
    if c.eval.threshold_scan and n_val == 0:
        raise ValueError("eval.threshold_scan needs validation events: set data.val_fraction > 0")
    if len(events) - n_test - n_val < 1:
        raise ValueError(
            f"sample.n_events = {len(events)} leaves no training events after {n_test} test and {n_val} validation events"
        )
    train_ev, val_ev, test_ev = events[: -n_test - n_val], events[-n_test - n_val : -n_test], events[-n_test:]
    cuts = cuts_from(train_ev, c.tracker, c.graph)
    train_g = make_graphs(train_ev, c.tracker, cuts, c.graph)
    test_g = make_graphs(test_ev, c.tracker, cuts, c.graph)
    buckets = make_buckets(train_g, c.graph.n_buckets)
    data = GraphBatches(training_graphs(train_g, c.graph), buckets, c.train.batch_size, seed=cfg.seed)

    key_init, key_fit = jax.random.split(jax.random.PRNGKey(cfg.seed))
    result = fit(
        make_loss_fn(c.model),
        init_params(key_init, c.model),
        data,
        c.train,
        workdir=workdir,
        key=key_fit,
        plot_keys=("loss", "accuracy"),
    )
    scores, infer_ms, buckets = score_graphs(result.state.params, c.model, test_g, data.buckets)
    bridge_cuts = bridge_cuts_from(train_ev, c.tracker, c.graph)
    eval_cfg, scan = c.eval, []
    if c.eval.threshold_scan:
        val_g = make_graphs(val_ev, c.tracker, cuts, c.graph)
        val_scores, _, _ = score_graphs(result.state.params, c.model, val_g, data.buckets)
        threshold, scan = choose_threshold(val_ev, val_g, val_scores, c.graph, c.eval, bridge_cuts)
        eval_cfg = dataclasses.replace(c.eval, threshold=threshold)
    metrics, details = evaluate(test_ev, test_g, scores, c.graph, eval_cfg, bridge_cuts)

    from hepjax.tracking.plots import plot_efficiency, plot_event_display, plot_roc, plot_threshold_scan

    if scan:
        (workdir / "threshold_scan.json").write_text(json.dumps(scan, indent=1))
        plot_threshold_scan(scan, eval_cfg.threshold, workdir / "threshold_scan.png")

    plot_roc(details["scores"], details["y"], metrics["edge_auc"], workdir / "roc.png", threshold=eval_cfg.threshold)
    plot_efficiency(
        details["target_pt"],
        details["target_eta"],
        details["target_found"],
        workdir / "efficiency.png",
        pt_min=c.graph.pt_min,
    )
    plot_event_display(test_ev[0].hits, test_g[0], details["candidates"][0], c.tracker, workdir / "event_display.png")

    gm = graph_metrics(test_ev, test_g, c.tracker, c.graph)
    out = {k: v for k, v in metrics.items()}
    out.update(gm)
    out.update(
        {
            "infer_ms_per_event": infer_ms,
            "compilations": int(result.compilations),
            "n_buckets": len(data.bucket_sizes),
            "buckets": [list(b) for b in data.bucket_sizes],
            "n_train_events": len(train_ev),
            "n_test_events": len(test_ev),
            "n_val_events": len(val_ev),
            "threshold": eval_cfg.threshold,
            "hits_per_event": float(np.mean([e.hits.n for e in events])),
            "cut_max_phi_slope": cuts.max_phi_slope,
            "cut_max_z0": cuts.max_z0,
            "cut_max_deta": cuts.max_deta,
            "bridge_max_dslope": bridge_cuts.max_dslope,
            "bridge_max_dz0": bridge_cuts.max_dz0,
            "final_loss": float(result.history[-1]["loss"]) if result.history else float("nan"),
        }
    )
    return out
