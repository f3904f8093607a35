"""A short training on a tiny sample lowers the loss and beats a random edge score; the
experiment runs end to end from its config."""
import json

import jax
import numpy as np

from hepjax.train import TrainConfig, fit
from hepjax.tracking import (
    GraphBatches,
    ModelConfig,
    build_graph,
    derive_cuts,
    edge_metrics,
    init_params,
    make_buckets,
    make_loss_fn,
    score_graphs,
)
from tracking_helpers import toy_events


def test_short_training_lowers_loss_and_beats_random(tmp_path):
    g, events = toy_events(6, 60, seed=11, noise_density=1e-5)
    cuts = derive_cuts([(h, p.pt) for p, h in events], g, pt_min=1.0)
    graphs = [build_graph(h, p.pt, g, cuts) for p, h in events]
    train, test = graphs[:4], graphs[4:]
    cfg = ModelConfig(hidden=16, iterations=2, mlp_layers=1, pos_weight=1.0)
    buckets = make_buckets(train, 1)
    data = GraphBatches(train, buckets, batch_size=2, seed=0)
    tcfg = TrainConfig(steps=50, batch_size=2, learning_rate=3e-3, log_every=5, checkpoint_every=0, progress=False)
    res = fit(make_loss_fn(cfg), init_params(jax.random.PRNGKey(0), cfg), data, tcfg, workdir=tmp_path, key=jax.random.PRNGKey(1),
              plot_keys=())
    losses = [r["loss"] for r in res.history]
    assert np.mean(losses[-4:]) < 0.6 * np.mean(losses[:2])
    assert res.compilations == 1  # one bucket -> one train-step compilation
    scores, ms, _ = score_graphs(res.state.params, cfg, test, data.buckets)
    y = np.concatenate([t.y for t in test])
    pt = np.concatenate([t.edge_pt for t in test])
    trained = edge_metrics(np.concatenate(scores), y, pt)
    random = edge_metrics(np.random.default_rng(0).random(y.size), y, pt)
    assert trained["edge_auc"] > 0.9 > random["edge_auc"] + 0.3
    assert trained["edge_purity"] > random["edge_purity"] + 0.05 and ms > 0


def test_experiment_runs_from_config(tmp_path):
    from hepjax.runner import run

    out = run("configs/tracking.yaml", [f"output_dir={tmp_path}", "data.n_events=4", "data.mu=1.0", "data.pileup_pool=4",
                                        "data.workers=1", "graph.n_buckets=1", "model.hidden=8", "model.iterations=1",
                                        "train.steps=2", "train.log_every=1", "train.progress=false"])
    m = json.loads((out / "metrics.json").read_text())
    for k in ("edge_efficiency", "edge_purity", "edge_auc", "track_efficiency", "fake_rate", "duplicate_rate",
              "infer_ms_per_event", "compilations", "graph_efficiency"):
        assert k in m
    assert m["graph_efficiency"] > 0.9
    for png in ("roc.png", "efficiency.png", "event_display.png", "loss.png"):
        assert (out / png).stat().st_size > 1000
