"""Bench area ``tracking``: GNN tracking physics figures and speed against PyTorch Geometric.

Events: Pythia ttbar + Poisson(<mu> = 20) min-bias pileup + noise through the default barrel
tracker (cached after the first run). The interaction network trains through
:func:`hepjax.train.fit` (Adam) and is evaluated on held-out events: ``edge_efficiency``,
``edge_purity``, ``edge_auc``, ``track_efficiency``, ``fake_rate``, ``duplicate_rate``, and
``infer_ms_per_event`` (padded graph, jitted).

Peer: the same network (:mod:`hepjax.tracking.torch_peer`: same widths, iterations, LayerNorms,
Adam with the same learning rate, one graph per step, same initial weights) in PyTorch Geometric on
the same graphs (unpadded, as PyG takes them), timed in this process:
``ratios.train_step_speedup = peer train-step time / hepjax train-step time`` and
``ratios.inference_speedup`` likewise, both medians summed over the timing graphs.
"""
from __future__ import annotations

import tempfile

import jax
import numpy as np
import optax

from hepjax.bench.harness import time_call
from hepjax.detector.tracker import TrackerGeometry
from hepjax.tracking import (
    GraphBatches,
    ModelConfig,
    init_params,
    load_or_simulate,
    make_buckets,
    make_loss_fn,
)
from hepjax.tracking.padding import choose_bucket, pad_graph, stack
from hepjax.tracking.pipeline import (
    EvalConfig,
    GraphConfig,
    cuts_from,
    evaluate,
    graph_metrics,
    make_graphs,
    score_graphs,
)
from hepjax.train import TrainConfig, fit, make_train_step
from hepjax.train.state import init_state


def _sizes(quick: bool) -> dict:
    if quick:
        return {"n_events": 8, "pool": 100, "steps": 40, "n_time": 2}
    return {"n_events": 40, "pool": 400, "steps": 400, "n_time": 4}


def run(*, quick: bool) -> dict:
    sz = _sizes(quick)
    geo, gcfg, ecfg = TrackerGeometry(), GraphConfig(), EvalConfig()
    mcfg = ModelConfig(hidden=32, iterations=4, mlp_layers=2, pos_weight=1.0)
    lr = 2e-3
    events = load_or_simulate("ttbar", sz["n_events"], 0, geo, mu=20.0, pileup_pool=sz["pool"], workers=2, progress=False)
    n_test = max(2, sz["n_events"] // 5)
    train_ev, test_ev = events[:-n_test], events[-n_test:]
    cuts = cuts_from(train_ev, geo, gcfg)
    train_g, test_g = make_graphs(train_ev, geo, cuts, gcfg), make_graphs(test_ev, geo, cuts, gcfg)
    buckets = make_buckets(train_g, gcfg.n_buckets)
    data = GraphBatches(train_g, buckets, 1, seed=0)

    tcfg = TrainConfig(steps=sz["steps"], batch_size=1, optimizer="adam", learning_rate=lr, schedule="constant",
                       checkpoint_every=0, log_every=10, resume=False, progress=False)
    params0 = init_params(jax.random.PRNGKey(0), mcfg)
    with tempfile.TemporaryDirectory() as wd:
        res = fit(make_loss_fn(mcfg), params0, data, tcfg, workdir=wd, key=jax.random.PRNGKey(1), plot_keys=())
    scores, infer_ms, _ = score_graphs(res.state.params, mcfg, test_g, data.buckets)
    metrics, _ = evaluate(test_ev, test_g, scores, gcfg, ecfg)
    metrics = {k: v for k, v in metrics.items() if not k.startswith("n_")}
    metrics.update(graph_metrics(test_ev, test_g, geo, gcfg))
    metrics["infer_ms_per_event"] = infer_ms
    metrics["compilations"] = int(res.compilations)
    from hepjax.detector.tracker import simulate_event_hits

    t_hits = time_call(lambda: simulate_event_hits(events[0].particles, geo, 0), repeats=5)
    metrics["tracker_hits_per_s"] = events[0].hits.n / t_hits

    # ---- speed: one graph per train step, same graphs, same initial weights, same optimiser
    timing = test_g[: sz["n_time"]]
    opt = optax.adam(lr)
    step = jax.jit(make_train_step(make_loss_fn(mcfg), opt))
    predict = jax.jit(lambda p, g: jax.nn.sigmoid(__import__("hepjax.tracking.model", fromlist=["x"]).edge_logits(p, g, iterations=mcfg.iterations)))
    jax_train = jax_infer = 0.0
    for g in timing:
        b, _ = choose_bucket(g, data.buckets)
        padded = pad_graph(g, b)
        batch = stack([padded])
        state = init_state(params0, opt, jax.random.PRNGKey(0))
        key = jax.random.PRNGKey(2)
        jax_train += time_call(lambda s=state, b=batch, k=key: step(s, b, k), repeats=5, warmup=1)
        jax_infer += time_call(lambda g=padded: predict(params0, g), repeats=5, warmup=1)

    import torch

    from hepjax.tracking import torch_peer

    # the peer's best thread setting: all cores and one thread are both tried
    best = None
    default_threads = torch.get_num_threads()
    for threads in sorted({default_threads, 1}):
        torch.set_num_threads(threads)
        net = torch_peer.from_jax_params(jax.device_get(params0), mcfg.hidden, mcfg.iterations, mcfg.mlp_layers)
        torch_step = torch_peer.make_train_step(net, lr, mcfg.pos_weight)
        p_train = p_infer = 0.0
        for g in timing:
            d = torch_peer.to_data(g)
            p_train += time_call(lambda f=torch_step, d=d: f(d), repeats=5, warmup=1)

            def infer(net=net, d=d):
                with torch.no_grad():
                    return torch.sigmoid(net(d)).numpy()

            p_infer += time_call(infer, repeats=5, warmup=1)
        if best is None or p_train < best[1]:
            best = (threads, p_train, p_infer)
    torch.set_num_threads(default_threads)
    threads, peer_train, peer_infer = best
    n = len(timing)
    return {
        "metrics": {**metrics, "train_step_ms": 1e3 * jax_train / n, "infer_ms_timing_graphs": 1e3 * jax_infer / n,
                    "mean_edges_timing_graphs": float(np.mean([g.n_edge for g in timing]))},
        "peer": {"name": f"torch {torch.__version__} + torch_geometric (CPU, best of 1 and {default_threads} threads: {threads})",
                 "train_step_ms": 1e3 * peer_train / n, "infer_ms": 1e3 * peer_infer / n},
        "ratios": {"train_step_speedup": peer_train / jax_train, "inference_speedup": peer_infer / jax_infer},
        "notes": (f"{sz['n_events']} ttbar events, <mu>=20 pileup, noise; {len(train_g)} train / {len(test_g)} test; "
                  f"IN hidden={mcfg.hidden}, iterations={mcfg.iterations}, mlp_layers={mcfg.mlp_layers}; {sz['steps']} Adam steps "
                  f"lr={lr}, one graph per step; hepjax graphs padded to buckets {[tuple(b) for b in data.bucket_sizes]}; "
                  f"peer on unpadded graphs; speed = median over 5 calls, summed over {n} graphs."),
    }
