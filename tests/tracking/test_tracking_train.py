"""A short training on a tiny sample lowers the loss and beats a random edge score; the
experiment runs end to end from its config."""

import json
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from hepjax.nn.padding import GraphBatches, make_buckets
from hepjax.tracking import (
    ModelConfig,
    build_graph,
    derive_cuts,
    edge_metrics,
    init_params,
    make_loss_fn,
    score_graphs,
)
from hepjax.train import TrainConfig, fit

sys.path.insert(0, str(Path(__file__).resolve().parent))  # helpers beside the tests (importlib mode)
from tracking_helpers import toy_events

from tests.tiny import TRACKING_TINY


def test_short_training_lowers_loss_and_beats_random(tmp_path):
    g, events = toy_events(6, 60, seed=11, noise_density=1e-5)
    cuts = derive_cuts([(h, p.pt) for p, h in events], g, pt_min=1.0)
    graphs = [build_graph(h, p.pt, g, cuts) for p, h in events]
    train, test = graphs[:4], graphs[4:]
    cfg = ModelConfig(hidden=16, iterations=2, mlp_layers=1, pos_weight=1.0)
    buckets = make_buckets(train, 1)
    data = GraphBatches(train, buckets, batch_size=2, seed=0)
    tcfg = TrainConfig(steps=200, batch_size=2, learning_rate=5e-3, log_every=5, checkpoint_every=0, progress=False)
    params0 = init_params(jax.random.PRNGKey(0), cfg)
    res = fit(make_loss_fn(cfg), params0, data, tcfg, workdir=tmp_path, key=jax.random.PRNGKey(1), plot_keys=())
    loss = jax.jit(lambda p, b: make_loss_fn(cfg)(p, b, None)[0])
    before = np.mean([float(loss(params0, data.batch(i))) for i in range(data.steps_per_epoch)])
    after = np.mean([float(loss(res.state.params, data.batch(i))) for i in range(data.steps_per_epoch)])
    assert after < 0.6 * before
    assert res.compilations == 1  # one bucket -> one train-step compilation
    scores, ms, _ = score_graphs(res.state.params, cfg, test, data.buckets)
    y = np.concatenate([t.y for t in test])
    pt = np.concatenate([t.edge_pt for t in test])
    trained = edge_metrics(np.concatenate(scores), y, pt)
    random = edge_metrics(np.random.default_rng(0).random(y.size), y, pt)
    assert trained["edge_auc"] > 0.9 > random["edge_auc"] + 0.3
    assert trained["edge_purity"] > random["edge_purity"] + 0.05 and ms > 0


@pytest.mark.slow  # Pythia + 200 train steps + two compilations: ~35 s alone, a minute on a loaded 2-core machine
def test_experiment_learns_from_config(tmp_path):
    from hepjax.runner import run

    out = run("configs/tracking.yaml", [f"output_dir={tmp_path}", *TRACKING_TINY])
    m = json.loads((out / "metrics.json").read_text())
    for k in ("infer_ms_per_event", "compilations", "fake_rate", "duplicate_rate", "n_buckets"):
        assert k in m
    assert m["n_train_events"] == 4 and m["n_val_events"] == 1 and m["n_test_events"] == 1
    assert m["graph_efficiency"] > 0.9
    # Pinned (deterministic on CPU): 6 ttbar events, <mu> = 1, 200 steps. An untrained network sits at
    # AUC 0.5 and, passing every edge, at the graph's purity; a broken loss, graph or scan moves these.
    assert m["edge_auc"] == pytest.approx(0.838, abs=0.02)
    assert m["edge_purity"] == pytest.approx(0.839, abs=0.03)
    assert m["edge_efficiency"] == pytest.approx(0.903, abs=0.03)
    assert m["track_efficiency"] == pytest.approx(0.75, abs=0.08)  # 21 of 28 target particles
    assert m["threshold"] == 0.3 and m["final_loss"] == pytest.approx(0.395, abs=0.03)
    # a margin over chance
    assert m["edge_auc"] > 0.75 and m["edge_purity"] > m["graph_purity"] + 0.1
    for png in ("roc.png", "efficiency.png", "event_display.png", "loss.png"):
        assert (out / png).stat().st_size > 1000
