"""Bench area ``tracking``: GNN tracking physics figures and speed against PyTorch Geometric.

Events: Pythia ttbar + Poisson(<mu> = 20) min-bias pileup + noise through the default barrel
tracker (cached after the first run). The interaction network trains through
:func:`hepjax.train.fit` (Adam) and is evaluated on held-out events: ``edge_efficiency``,
``edge_purity``, ``edge_auc``, ``track_efficiency``, ``fake_rate``, ``duplicate_rate``, and
``infer_ms_per_event`` (padded graph, jitted).

Peer: the same network (:mod:`hepjax.tracking.torch_peer`: same widths, iterations, LayerNorms,
Adam with the same learning rate, one graph per step, same initial weights) in PyTorch Geometric on
the same graphs (unpadded, as PyG takes them), timed in this process in alternating blocks
of calls (:func:`speed`): ``ratios.train_step_speedup = peer train-step time / hepjax train-step
time`` and ``ratios.inference_speedup`` likewise, both medians summed over the timing graphs.

The area runs under :data:`HOST_RUNTIME` (XLA:CPU's own fusion emitters instead of YNNPACK, and
freed host memory kept mapped; see :mod:`hepjax.runtime`), as ``hepjax run configs/tracking.yaml``
does; the peer runs in the same process. The ``default_runtime_*`` figures repeat the speed
measurement, both sides again, in a subprocess with JAX's default CPU runtime, so the report shows
what each setting is worth.
"""
from __future__ import annotations

import os
import tempfile

import jax
import numpy as np
import optax

from hepjax.bench.harness import run_in_subprocess, time_call
from hepjax.detector.tracker import TrackerGeometry
from hepjax.runtime import HostRuntime
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
    bridge_cuts_from,
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

REPEATS = 7  # timed calls per block
ROUNDS = 3  # blocks per side and graph
HOST_RUNTIME = HostRuntime(library_fusions="none", keep_host_memory=True)

_DEFAULT_RUNTIME = """
import json
from hepjax.bench.tracking import timing_setup, speed
print(json.dumps(speed(*timing_setup(quick={quick}))))
"""


def speed(graphs, buckets, params0, mcfg: ModelConfig, lr: float) -> dict:
    """Train-step and inference wall times (s, medians over ``ROUNDS x REPEATS`` calls, summed over
    ``graphs``) of hepjax and of the PyG peer, one graph per step, from the same initial weights.

    Each side runs in blocks of consecutive calls, the blocks of the sides alternating (hepjax, peer
    with 1 thread, peer with all threads, rotated each round): calls interleaved one by one would
    time each side with the other's thread pool still spinning on the same cores. The peer reports
    its better thread setting. ``jax_page_faults_per_step`` counts the minor page faults of a hepjax
    train step (XLA:CPU allocates the step's scratch buffer at every call; see :mod:`hepjax.runtime`).
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
        names = list(fns)
        for r in range(ROUNDS):
            # each side runs a block of calls in a row (the first discarded: it compiles, and it
            # pays for the other library's thread pool still spinning on the cores); the order of
            # the blocks rotates between rounds so neither side always follows the other
            for name in names[r % len(names):] + names[:r % len(names)]:
                fn = fns[name]
                if isinstance(fn, tuple):
                    torch.set_num_threads(fn[0])
                    fn = (lambda f=fn[1], d=d: f(d)) if name.endswith("train") else fn[1]
                for k in range(REPEATS + 1):
                    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                    t0 = time.perf_counter()
                    jax.block_until_ready(fn())
                    dt = time.perf_counter() - t0
                    if k > 0:
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
    metrics, _ = evaluate(test_ev, test_g, scores, gcfg, ecfg, bridge_cuts_from(train_ev, geo, gcfg))
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
    # the same measurement under JAX's default CPU runtime (the user's XLA_FLAGS minus hepjax.runtime's)
    flags = " ".join(f for f in os.environ.get("XLA_FLAGS", "").split() if "ynn_fusion_type" not in f)
    base = run_in_subprocess(_DEFAULT_RUNTIME.format(quick=quick), env={"XLA_FLAGS": flags})
    import torch

    n = len(timing)
    return {
        "metrics": {**metrics, "train_step_ms": 1e3 * sp["jax_train_s"] / n, "infer_ms_timing_graphs": 1e3 * sp["jax_infer_s"] / n,
                    "page_faults_per_train_step": sp["jax_page_faults_per_step"],
                    "default_runtime_train_step_ms": 1e3 * base["jax_train_s"] / n,
                    "default_runtime_page_faults_per_train_step": base["jax_page_faults_per_step"],
                    "mean_edges_timing_graphs": float(np.mean([g.n_edge for g in timing]))},
        "peer": {"name": f"torch {torch.__version__} + torch_geometric (CPU, best of 1 and {torch.get_num_threads()} threads: {sp['peer_threads']})",
                 "train_step_ms": 1e3 * sp["peer_train_s"] / n, "infer_ms": 1e3 * sp["peer_infer_s"] / n,
                 "default_runtime_train_step_ms": 1e3 * base["peer_train_s"] / n},
        "ratios": {"train_step_speedup": sp["peer_train_s"] / sp["jax_train_s"],
                   "inference_speedup": sp["peer_infer_s"] / sp["jax_infer_s"],
                   "default_runtime_train_step_speedup": base["peer_train_s"] / base["jax_train_s"],
                   "default_runtime_inference_speedup": base["peer_infer_s"] / base["jax_infer_s"]},
        "notes": (f"{sz['n_events']} ttbar events, <mu>=20 pileup, noise; {len(train_g)} train / {len(test_g)} test; "
                  f"IN hidden={mcfg.hidden}, iterations={mcfg.iterations}, mlp_layers={mcfg.mlp_layers}; {sz['steps']} Adam steps "
                  f"lr={lr}, one graph per step; hepjax graphs padded to buckets {[tuple(b) for b in data.bucket_sizes]}; "
                  f"peer on unpadded graphs; speed = median over {ROUNDS}x{REPEATS} calls, summed over {n} graphs, hepjax and peer "
                  f"in alternating blocks; runtime {HOST_RUNTIME}; default_runtime_*: the same in a subprocess with JAX's default CPU runtime."),
    }
