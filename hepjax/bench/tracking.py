"""Bench area ``tracking``: GNN tracking physics figures and speed against PyTorch Geometric.

Events: Pythia ttbar + Poisson(<mu> = 20) min-bias pileup + noise through the default barrel
tracker (cached after the first run). The interaction network trains through
:func:`hepjax.train.fit` (Adam) and is evaluated on held-out events: ``edge_efficiency``,
``edge_purity``, ``edge_auc``, ``track_efficiency``, ``fake_rate``, ``duplicate_rate``, and
``infer_ms_per_event`` (padded graph, jitted).

Peer: the same network (:mod:`hepjax.bench.peers.tracking_torch`: same widths, iterations, LayerNorms,
Adam with the same learning rate, one graph per step, same initial weights) in PyTorch Geometric on
the same graphs (unpadded, as PyG takes them): ``ratios.train_step_speedup = peer train-step time /
hepjax train-step time`` and ``ratios.inference_speedup`` likewise (:func:`speed`).

hepjax runs under :data:`HOST_RUNTIME` (XLA:CPU's own fusion emitters instead of YNNPACK, and
freed host memory kept mapped; see :mod:`hepjax.runtime`), as ``hepjax run configs/tracking.yaml``
does. The ``default_runtime_*`` figures time hepjax again under JAX's default CPU runtime, so the
report shows what the runtime is worth. Each of the three timings runs in a fresh process of its own.
"""

from __future__ import annotations

import os
import tempfile

import jax
import numpy as np
import optax

from hepjax.bench.harness import run_in_subprocess, time_call
from hepjax.data import SampleConfig
from hepjax.detector.tracker import TrackerGeometry
from hepjax.nn.padding import GraphBatches, choose_bucket, make_buckets, pad_graph, stack
from hepjax.runtime import HostRuntime
from hepjax.tracking import (
    ModelConfig,
    init_params,
    load_or_simulate,
    make_loss_fn,
)
from hepjax.tracking.model import CPU_RUNTIME
from hepjax.tracking.pipeline import (
    EvalConfig,
    GraphConfig,
    bridge_cuts_from,
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
HOST_RUNTIME = CPU_RUNTIME  # the tracking model's runtime, as `hepjax run configs/tracking.yaml` uses

_SIDE = """
import json, pickle
from hepjax.runtime import HostRuntime, configure_host
configure_host(HostRuntime(**{runtime!r}))
from hepjax.bench.tracking import {fn}
with open({path!r}, "rb") as f:
    args = pickle.load(f)
print(json.dumps({fn}(*args)))
"""


def _block_medians(fns: dict, on_call=None) -> dict:
    """Median wall time (s) of each zero-argument callable in ``fns``, over ``ROUNDS`` blocks of
    ``REPEATS`` consecutive calls (each block's first call discarded: it compiles, or wakes a thread
    pool); the order of the blocks rotates between rounds. ``on_call(name, seconds, faults)``
    sees every timed call."""
    import resource
    import time

    times: dict[str, list] = {k: [] for k in fns}
    names = list(fns)
    for r in range(ROUNDS):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            for k in range(REPEATS + 1):
                f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
                t0 = time.perf_counter()
                jax.block_until_ready(fns[name]())
                dt = time.perf_counter() - t0
                if k > 0:
                    times[name].append(dt)
                    if on_call is not None:
                        on_call(name, dt, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
    return {k: float(np.median(v)) for k, v in times.items()}


def jax_speed(graphs, buckets, params0, mcfg: ModelConfig, lr: float) -> dict:
    """hepjax train-step and inference times (s, block medians summed over ``graphs``), one padded
    graph per step, and the minor page faults per train step (see :mod:`hepjax.runtime`)."""
    from hepjax.tracking import model as model_lib

    opt = optax.adam(lr)
    step = jax.jit(make_train_step(make_loss_fn(mcfg), opt))
    predict = jax.jit(lambda p, g: jax.nn.sigmoid(model_lib.edge_logits(p, g, iterations=mcfg.iterations)))
    params0 = jax.tree.map(jax.numpy.asarray, params0)
    totals = {"train_s": 0.0, "infer_s": 0.0}
    faults = []
    for g in graphs:
        b, buckets = choose_bucket(g, buckets)
        padded = pad_graph(g, b)
        batch, state, key = stack([padded]), init_state(params0, opt, jax.random.PRNGKey(0)), jax.random.PRNGKey(2)
        fns = {"train_s": lambda: step(state, batch, key), "infer_s": lambda: predict(params0, padded)}
        med = _block_medians(fns, on_call=lambda name, dt, f: faults.append(f) if name == "train_s" else None)
        for k in totals:
            totals[k] += med[k]
    return {**totals, "page_faults_per_step": float(np.mean(faults))}


def peer_speed(graphs, buckets, params0, mcfg: ModelConfig, lr: float) -> dict:
    """The PyG peer's train-step and inference times (s, block medians summed over ``graphs``) on the
    unpadded graphs, from the same initial weights; the better of 1 and all torch threads."""
    import torch

    from hepjax.bench.peers import tracking_torch as torch_peer

    del buckets  # PyG takes graphs unpadded
    all_threads = torch.get_num_threads()
    options = sorted({1, all_threads})
    totals: dict[str, float] = {}
    for g in graphs:
        d = torch_peer.to_data(g)
        fns = {}
        for t in options:
            net = torch_peer.from_jax_params(params0, mcfg.hidden, mcfg.iterations, mcfg.mlp_layers)
            train = torch_peer.make_train_step(net, lr, mcfg.pos_weight)

            def run_train(t=t, train=train):
                torch.set_num_threads(t)
                return train(d)

            def run_infer(t=t, net=net):
                torch.set_num_threads(t)
                with torch.no_grad():
                    return torch.sigmoid(net(d)).numpy()

            fns[f"train_s_{t}"], fns[f"infer_s_{t}"] = run_train, run_infer
        for k, v in _block_medians(fns).items():
            totals[k] = totals.get(k, 0.0) + v
    torch.set_num_threads(all_threads)
    best = min(options, key=lambda t: totals[f"train_s_{t}"])
    return {
        "train_s": totals[f"train_s_{best}"],
        "infer_s": totals[f"infer_s_{best}"],
        "threads": best,
        "torch": torch.__version__,
        "all_threads": all_threads,
    }


def speed(graphs, buckets, params0, mcfg: ModelConfig, lr: float) -> dict:
    """Both sides' times, each in a fresh process of its own, one after the other: hepjax under
    :data:`HOST_RUNTIME`, hepjax under JAX's default CPU runtime, and the PyG peer.

    Fresh processes because the two libraries' thread pools compete in one process, and the heap a
    long run leaves behind moves the figures (measured: the hepjax step 14.1-14.3 ms in a fresh
    standalone script, 15-23 ms after this area's training in the same process or beside torch's
    pool; the bench's fresh processes still vary 15-19 ms from run to run on the project's VM).
    """
    import dataclasses
    import pickle

    args = (list(graphs), list(buckets), jax.device_get(params0), mcfg, lr)
    # the user's XLA_FLAGS minus hepjax.runtime's setting: JAX's default CPU runtime
    flags = " ".join(f for f in os.environ.get("XLA_FLAGS", "").split() if "ynn_fusion_type" not in f)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "timing_inputs.pkl")
        with open(path, "wb") as f:
            pickle.dump(args, f)
        for name, fn, runtime in (
            ("jax", "jax_speed", HOST_RUNTIME),
            ("jax_default_runtime", "jax_speed", HostRuntime()),
            ("peer", "peer_speed", HostRuntime()),
        ):
            code = _SIDE.format(fn=fn, path=path, runtime=dataclasses.asdict(runtime))
            out[name] = run_in_subprocess(code, env={"XLA_FLAGS": flags})
    return out


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
    hard, pool = SampleConfig("ttbar", sz["n_events"], 0, workers=2), SampleConfig("minbias", sz["pool"], 1, workers=2)
    events = load_or_simulate(hard, geo, pileup=pool, mu=20.0, progress=False)
    n_test = max(2, sz["n_events"] // 5)
    train_ev, test_ev = events[:-n_test], events[-n_test:]
    cuts = cuts_from(train_ev, geo, gcfg)
    train_g, test_g = make_graphs(train_ev, geo, cuts, gcfg), make_graphs(test_ev, geo, cuts, gcfg)
    buckets = make_buckets(train_g, gcfg.n_buckets)
    data = GraphBatches(training_graphs(train_g, gcfg), buckets, 1, seed=0)

    tcfg = TrainConfig(
        steps=sz["steps"],
        batch_size=1,
        optimizer="adam",
        learning_rate=lr,
        schedule="constant",
        checkpoint_every=0,
        log_every=10,
        resume=False,
        progress=False,
    )
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
    ours, base, peer = sp["jax"], sp["jax_default_runtime"], sp["peer"]
    n = len(timing)
    return {
        "metrics": {
            **metrics,
            "train_step_ms": 1e3 * ours["train_s"] / n,
            "infer_ms_timing_graphs": 1e3 * ours["infer_s"] / n,
            "page_faults_per_train_step": ours["page_faults_per_step"],
            "default_runtime_train_step_ms": 1e3 * base["train_s"] / n,
            "default_runtime_infer_ms": 1e3 * base["infer_s"] / n,
            "default_runtime_page_faults_per_train_step": base["page_faults_per_step"],
            "mean_edges_timing_graphs": float(np.mean([g.n_edge for g in timing])),
        },
        "peer": {
            "name": f"torch {peer['torch']} + torch_geometric (CPU, best of 1 and {peer['all_threads']} threads: {peer['threads']})",
            "train_step_ms": 1e3 * peer["train_s"] / n,
            "infer_ms": 1e3 * peer["infer_s"] / n,
        },
        "ratios": {
            "train_step_speedup": peer["train_s"] / ours["train_s"],
            "inference_speedup": peer["infer_s"] / ours["infer_s"],
            "default_runtime_train_step_speedup": peer["train_s"] / base["train_s"],
            "default_runtime_inference_speedup": peer["infer_s"] / base["infer_s"],
        },
        "notes": (
            f"{sz['n_events']} ttbar events, <mu>=20 pileup, noise; {len(train_g)} train / {len(test_g)} test; "
            f"IN hidden={mcfg.hidden}, iterations={mcfg.iterations}, mlp_layers={mcfg.mlp_layers}; {sz['steps']} Adam steps "
            f"lr={lr}, one graph per step; hepjax graphs padded to buckets {[tuple(b) for b in data.bucket_sizes]}; "
            f"peer on unpadded graphs; speed = median over {ROUNDS}x{REPEATS} calls, summed over {n} graphs; hepjax (runtime "
            f"{HOST_RUNTIME}), hepjax under JAX's default CPU runtime (default_runtime_*) and the peer each in a fresh "
            f"process of its own, one after the other."
        ),
    }
