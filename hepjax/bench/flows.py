"""Bench area ``flows``: an 8-layer RQS coupling flow, hepjax (JAX) vs zuko (PyTorch).

Same architecture on both sides: 8 coupling layers, each a rational-quadratic spline with 8
bins on [-5, 5] (identity outside) conditioned by an MLP with two hidden layers of 128 (ReLU)
on the untransformed half; unconditional; Adam. zuko's ``NSF(passes=2)`` is its coupling
variant. Timed: one training step (forward, backward, Adam update) and drawing one batch of
samples, at dimensions 16 and 368 with batch 512 (quick: 16 and 64, batch 256). zuko runs in
a subprocess with the same thread count so the two thread pools do not compete.
"""

from __future__ import annotations

import json
import os

import jax
import jax.numpy as jnp
import optax

from hepjax.bench.harness import run_in_subprocess, time_call
from hepjax.flows import make_flow
from hepjax.train import init_state, make_train_step

LAYERS, BINS, HIDDEN = 8, 8, (128, 128)

_ZUKO = r"""
import json, statistics, time, torch, zuko
torch.manual_seed(0)
cfg = json.loads('''{cfg}''')
out = {{}}
for dim in cfg["dims"]:
    flow = zuko.flows.NSF(features=dim, context=0, transforms=cfg["layers"], bins=cfg["bins"],
                          hidden_features=cfg["hidden"], passes=2)
    opt = torch.optim.Adam(flow.parameters(), lr=1e-3)
    x = torch.randn(cfg["batch"], dim)
    def step():
        opt.zero_grad()
        loss = -flow().log_prob(x).mean()
        loss.backward()
        opt.step()
    def sample():
        with torch.no_grad():
            return flow().sample((cfg["batch"],))
    res = {{}}
    for name, fn in (("train_step_s", step), ("sample_s", sample)):
        fn()
        times = []
        while len(times) < cfg["repeats"] or sum(times) < cfg["min_time"]:
            t0 = time.perf_counter(); fn(); times.append(time.perf_counter() - t0)
        res[name] = statistics.median(times)
    out[str(dim)] = res
print(json.dumps(out))
"""


def _jax_times(dim: int, batch: int, repeats: int, min_time: float) -> dict:
    flow = make_flow(dim, layers=LAYERS, kind="rqs", hidden=HIDDEN, num_bins=BINS)
    params = flow.init(jax.random.PRNGKey(0))
    opt = optax.adam(1e-3)
    step = jax.jit(make_train_step(lambda p, b, k: (-jnp.mean(flow.log_prob(p, b)), {}), opt))
    x = jax.random.normal(jax.random.PRNGKey(1), (batch, dim))
    key = jax.random.PRNGKey(2)
    holder = {"state": init_state(params, opt, key)}

    def one_step():
        holder["state"], m = step(holder["state"], x, key)
        return m["loss"]

    sample = jax.jit(flow.sample, static_argnums=3)
    return {
        "train_step_s": time_call(one_step, repeats=repeats, warmup=2, min_time=min_time),
        "sample_s": time_call(
            lambda: sample(holder["state"].params, key, None, batch), repeats=repeats, warmup=2, min_time=min_time
        ),
    }


def run(*, quick: bool) -> dict:
    dims, batch = ((16, 64), 256) if quick else ((16, 368), 512)
    repeats, min_time = (3, 0.5) if quick else (5, 2.0)
    ours = {str(d): _jax_times(d, batch, repeats, min_time) for d in dims}
    cfg = {
        "dims": list(dims),
        "batch": batch,
        "layers": LAYERS,
        "bins": BINS,
        "hidden": list(HIDDEN),
        "repeats": repeats,
        "min_time": min_time,
    }
    threads = str(os.cpu_count() or 1)
    env = {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    peer = run_in_subprocess(_ZUKO.format(cfg=json.dumps(cfg)), env=env)
    metrics, ratios = {}, {}
    for d in map(str, dims):
        metrics[f"train_step_s_dim{d}"] = ours[d]["train_step_s"]
        metrics[f"sample_s_dim{d}"] = ours[d]["sample_s"]
        ratios[f"train_step_speedup_dim{d}"] = peer[d]["train_step_s"] / ours[d]["train_step_s"]
        ratios[f"sample_speedup_dim{d}"] = peer[d]["sample_s"] / ours[d]["sample_s"]
    # The headline ratios: geometric mean over the dimensions.
    import math

    ratios["train_step_speedup"] = math.exp(
        sum(math.log(ratios[f"train_step_speedup_dim{d}"]) for d in map(str, dims)) / len(dims)
    )
    ratios["sample_speedup"] = math.exp(
        sum(math.log(ratios[f"sample_speedup_dim{d}"]) for d in map(str, dims)) / len(dims)
    )
    return {
        "metrics": metrics,
        "peer": {"zuko": {f"{k}_dim{d}": v for d, r in peer.items() for k, v in r.items()}},
        "ratios": ratios,
        "notes": f"8-layer RQS coupling (8 bins, hidden {HIDDEN}), batch {batch}, dims {dims}; "
        "zuko NSF(passes=2) in a subprocess; headline ratios are geometric means over dims (per-dim ratios listed).",
    }
