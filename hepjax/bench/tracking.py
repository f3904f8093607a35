"""Bench area ``tracking``: GNN tracking physics figures and speed against PyTorch Geometric.

Events: Pythia ttbar + Poisson(<mu> = 20) min-bias pileup + noise through the default barrel
tracker (cached after the first run). The interaction network trains through
:func:`hepjax.train.fit` (Adam) and is evaluated on held-out events: ``edge_efficiency``,
``edge_purity``, ``edge_auc``, ``track_efficiency``, ``fake_rate``, ``duplicate_rate``, and
``infer_ms_per_event`` (padded graph, jitted).

Peer: the same network (:mod:`hepjax.tracking.torch_peer`: same widths, iterations, LayerNorms,
Adam with the same learning rate, one graph per step, same initial weights) in PyTorch Geometric on
the same graphs (unpadded, as PyG takes them), timed in this process with the calls of both sides
interleaved (:func:`speed`): ``ratios.train_step_speedup = peer train-step time / hepjax train-step
time`` and ``ratios.inference_speedup`` likewise, both medians summed over the timing graphs. The
``kept_memory_*`` figures repeat the measurement, both sides again, in a subprocess whose glibc
allocator keeps freed memory mapped (``KEEP_HOST_MEMORY``): the difference is what the page faults
on XLA:CPU's per-call scratch buffer cost (``page_faults_per_train_step``).
"""
from __future__ import annotations

import tempfile

import jax
import numpy as np
import optax

from hepjax.bench.harness import run_in_subprocess, time_call
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
    training_graphs,
)
from hepjax.train import TrainConfig, fit, make_train_step
from hepjax.train.state import init_state

REPEATS = 7
# glibc malloc: one arena, never mmap, never trim -- freed memory stays mapped for the next call
KEEP_HOST_MEMORY = "glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967295"

_KEPT_MEMORY = """
import json
from hepjax.bench.tracking import timing_setup, speed
print(json.dumps(speed(*timing_setup(quick={quick}))))
"""


def speed(graphs, buckets, params0, mcfg: ModelConfig, lr: float) -> dict:
    """Train-step and inference wall times (s, medians over ``REPEATS`` calls, summed over ``graphs``)
    of hepjax and of the PyG peer, one graph per step, from the same initial weights.

    The calls of both sides are interleaved (hepjax, peer with 1 thread, peer with all threads, and
    again) so that a shared machine's load falls on both alike; the peer reports its better thread
    setting. ``jax_page_faults_per_step`` counts the minor page faults of a hepjax train step:
    XLA:CPU maps the step's scratch buffer afresh at each call, and on a virtual machine every
    first touch of a page is a fault.
    """
    import resource
    import time

    import torch

    from hepjax.tracking import model as model_lib
    from hepjax.tracking import torch_peer

    opt = optax.adam(lr)
    step = jax.jit(make_train_step(make_loss_fn(mcfg), opt))
    predict = jax.jit(lambda p, g: jax.nn.sigmoid(model_lib.edge_logits(p, g, iterations=mcfg.iterations)))
    all_threads = torch.get_num_threads()
    thread_options = sorted({1, all_threads})
    totals: dict[str, float] = {}
    faults = calls = 0
    for g in graphs:
        b, buckets = choose_bucket(g, buckets)
        padded = pad_graph(g, b)
        batch, state, key = stack([padded]), init_state(params0, opt, jax.random.PRNGKey(0)), jax.random.PRNGKey(2)
        d = torch_peer.to_data(g)
        fns = {"jax_train": lambda s=state, b=batch, k=key: step(s, b, k), "jax_infer": lambda g=padded: predict(params0, g)}
        for t in thread_options:
            net = torch_peer.from_jax_params(jax.device_get(params0), mcfg.hidden, mcfg.iterations, mcfg.mlp_layers)
            fns[f"peer{t}_train"] = (t, torch_peer.make_train_step(net, lr, mcfg.pos_weight))

            def infer(net=net, d=d):
                with torch.no_grad():
                    return torch.sigmoid(net(d)).numpy()

            fns[f"peer{t}_infer"] = (t, infer)
        times: dict[str, list] = {k: [] for k in fns}
        for r in range(REPEATS + 1):  # the first round warms up (compiles)
            for name, fn in fns.items():
                if isinstance(fn, tuple):
                    torch.set_num_threads(fn[0])
                    fn = (lambda f=fn[1], d=d: f(d)) if name.endswith("train") else fn[1]
                f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                t0 = time.perf_counter()
                jax.block_until_ready(fn())
                dt = time.perf_counter() - t0
                if r > 0:
                    times[name].append(dt)
                    if name == "jax_train":
                        faults += resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
                        calls += 1
        for name, ts in times.items():
            totals[name] = totals.get(name, 0.0) + float(np.median(ts))
    torch.set_num_threads(all_threads)
    best = min(thread_options, key=lambda t: totals[f"peer{t}_train"])
    return {"jax_train_s": totals["jax_train"], "jax_infer_s": totals["jax_infer"], "peer_train_s": totals[f"peer{best}_train"],
            "peer_infer_s": totals[f"peer{best}_infer"], "peer_threads": best, "jax_page_faults_per_step": faults / max(calls, 1)}


def timing_setup(*, quick: bool):
    """The inputs of :func:`speed` that :func:`run` uses (events from the cache), for a subprocess."""
    sz = _sizes(quick)
    geo, gcfg = TrackerGeometry(), GraphConfig()
    mcfg = ModelConfig(hidden=32, iterations=4, mlp_layers=2, pos_weight=1.0)
    events = load_or_simulate("ttbar", sz["n_events"], 0, geo, mu=20.0, pileup_pool=sz["pool"], workers=2, progress=False)
    n_test = max(2, sz["n_events"] // 5)
    cuts = cuts_from(events[:-n_test], geo, gcfg)
    train_g, test_g = make_graphs(events[:-n_test], geo, cuts, gcfg), make_graphs(events[-n_test:], geo, cuts, gcfg)
    return test_g[: sz["n_time"]], make_buckets(train_g, gcfg.n_buckets), init_params(jax.random.PRNGKey(0), mcfg), mcfg, LEARNING_RATE


LEARNING_RATE = 2e-3


def _sizes(quick: bool) -> dict:
    if quick:
        return {"n_events": 8, "pool": 100, "steps": 40, "n_time": 2}
    return {"n_events": 40, "pool": 400, "steps": 400, "n_time": 4}


def run(*, quick: bool) -> dict:
    sz = _sizes(quick)
    geo, gcfg, ecfg = TrackerGeometry(), GraphConfig(train_labels="target"), EvalConfig()  # as configs/tracking.yaml
    mcfg = ModelConfig(hidden=32, iterations=4, mlp_layers=2, pos_weight=1.0)
    lr = LEARNING_RATE
    events = load_or_simulate("ttbar", sz["n_events"], 0, geo, mu=20.0, pileup_pool=sz["pool"], workers=2, progress=False)
    n_test = max(2, sz["n_events"] // 5)
    train_ev, test_ev = events[:-n_test], events[-n_test:]
    cuts = cuts_from(train_ev, geo, gcfg)
    train_g, test_g = make_graphs(train_ev, geo, cuts, gcfg), make_graphs(test_ev, geo, cuts, gcfg)
    buckets = make_buckets(train_g, gcfg.n_buckets)
    data = GraphBatches(training_graphs(train_g, gcfg), buckets, 1, seed=0)

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
    sp = speed(timing, data.buckets, params0, mcfg, lr)
    # the same measurement in a process whose C allocator keeps freed memory (see speed())
    kept = run_in_subprocess(_KEPT_MEMORY.format(quick=quick), env={"GLIBC_TUNABLES": KEEP_HOST_MEMORY})
    import torch

    n = len(timing)
    return {
        "metrics": {**metrics, "train_step_ms": 1e3 * sp["jax_train_s"] / n, "infer_ms_timing_graphs": 1e3 * sp["jax_infer_s"] / n,
                    "page_faults_per_train_step": sp["jax_page_faults_per_step"],
                    "kept_memory_train_step_ms": 1e3 * kept["jax_train_s"] / n,
                    "kept_memory_page_faults_per_train_step": kept["jax_page_faults_per_step"],
                    "mean_edges_timing_graphs": float(np.mean([g.n_edge for g in timing]))},
        "peer": {"name": f"torch {torch.__version__} + torch_geometric (CPU, best of 1 and {torch.get_num_threads()} threads: {sp['peer_threads']})",
                 "train_step_ms": 1e3 * sp["peer_train_s"] / n, "infer_ms": 1e3 * sp["peer_infer_s"] / n,
                 "kept_memory_train_step_ms": 1e3 * kept["peer_train_s"] / n},
        "ratios": {"train_step_speedup": sp["peer_train_s"] / sp["jax_train_s"],
                   "inference_speedup": sp["peer_infer_s"] / sp["jax_infer_s"],
                   "kept_memory_train_step_speedup": kept["peer_train_s"] / kept["jax_train_s"],
                   "kept_memory_inference_speedup": kept["peer_infer_s"] / kept["jax_infer_s"]},
        "notes": (f"{sz['n_events']} ttbar events, <mu>=20 pileup, noise; {len(train_g)} train / {len(test_g)} test; "
                  f"IN hidden={mcfg.hidden}, iterations={mcfg.iterations}, mlp_layers={mcfg.mlp_layers}; {sz['steps']} Adam steps "
                  f"lr={lr}, one graph per step; hepjax graphs padded to buckets {[tuple(b) for b in data.bucket_sizes]}; "
                  f"peer on unpadded graphs; speed = median over {REPEATS} calls, summed over {n} graphs, hepjax and peer calls "
                  f"interleaved; kept_memory_*: the same in a subprocess with GLIBC_TUNABLES={KEEP_HOST_MEMORY}."),
    }
