"""Bench area ``engine``: train-step throughput of a reference MLP through the hepjax engine.

Measured: examples/s of the jitted data-parallel step on 1 device, and in a subprocess with
``XLA_FLAGS=--xla_force_host_platform_device_count=8`` on 8 host devices (same global batch).
Peer: the same MLP, loss, optimiser (Adam) and batch in PyTorch on the CPU, in the same run.
On a CPU the 8 "devices" share the same cores, so that figure checks the sharded path's
overhead rather than a speed-up.
"""

from __future__ import annotations

import json
import os

import numpy as np

from hepjax.bench.harness import run_in_subprocess, time_call

SIZES = (64, 512, 512, 512, 10)  # reference MLP: 64 inputs, 3 hidden layers, 10 classes


def _measure_jax(batch: int, n_devices: int | None, repeats: int) -> dict:
    import jax
    import jax.numpy as jnp
    import optax

    from hepjax.nn import MLP, fan_in_normal
    from hepjax.train import init_state, jit_train_step, make_mesh, replicate, shard_batch, step_key

    mlp = MLP(SIZES[1:], kernel_init=fan_in_normal(2.0))  # ReLU hidden layers, He-normal weights

    def init(key):
        return mlp.init(key, jnp.zeros((1, SIZES[0]), jnp.float32))

    def loss_fn(params, b, key):
        logits = mlp.apply(params, b["x"])
        return optax.softmax_cross_entropy_with_integer_labels(logits, b["y"]).mean(), {}

    devices = jax.devices() if n_devices is None else jax.devices()[:n_devices]
    mesh = make_mesh(devices)
    opt = optax.adam(1e-3)
    state = replicate(init_state(init(jax.random.PRNGKey(0)), opt, jax.random.PRNGKey(1)), mesh)
    rng = np.random.default_rng(0)
    data = shard_batch(
        {
            "x": rng.normal(size=(batch, SIZES[0])).astype(np.float32),
            "y": rng.integers(0, SIZES[-1], batch).astype(np.int32),
        },
        mesh,
    )
    step = jit_train_step(loss_fn, opt, mesh)
    holder = {"s": state}

    def one():
        holder["s"], m = step(holder["s"], data, step_key(holder["s"]))
        return m["loss"]

    t = time_call(one, repeats=repeats, warmup=2, min_time=1.0)
    return {"step_s": t, "examples_per_s": batch / t, "devices": len(devices)}


def _measure_torch(batch: int, repeats: int) -> dict | None:
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    layers = []
    for a, b in zip(SIZES[:-2], SIZES[1:-1]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers, torch.nn.Linear(SIZES[-2], SIZES[-1]))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.normal(size=(batch, SIZES[0])).astype(np.float32))
    y = torch.tensor(rng.integers(0, SIZES[-1], batch))

    def one():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return None

    t = time_call(one, repeats=repeats, warmup=2, min_time=1.0)
    return {
        "step_s": t,
        "examples_per_s": batch / t,
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
    }


_SUB = """
import json, sys
from hepjax.bench.engine import _measure_jax
print(json.dumps(_measure_jax({batch}, None, {repeats})))
"""


def run(*, quick: bool) -> dict:
    batch = 256 if quick else 1024
    repeats = 5 if quick else 30
    one = _measure_jax(batch, 1, repeats)
    eight = run_in_subprocess(
        _SUB.format(batch=batch, repeats=repeats),
        env={"XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu"},
    )
    peer = _measure_torch(batch, repeats)
    metrics = {
        "mlp_sizes": list(SIZES),
        "global_batch": batch,
        "examples_per_s_1dev": one["examples_per_s"],
        "step_ms_1dev": one["step_s"] * 1e3,
        "examples_per_s_8hostdev": eight["examples_per_s"],
        "step_ms_8hostdev": eight["step_s"] * 1e3,
    }
    ratios = {"sharded8_vs_1dev": eight["examples_per_s"] / one["examples_per_s"]}
    if peer is not None:
        ratios["train_step_speedup_vs_torch"] = peer["step_s"] / one["step_s"]
    return {
        "metrics": metrics,
        "peer": {"torch_cpu": peer} if peer else {},
        "ratios": ratios,
        "notes": "8 host devices share the same CPU cores: that ratio measures sharding overhead, not scaling.",
    }


if __name__ == "__main__":
    print(json.dumps(run(quick=True), indent=2))
