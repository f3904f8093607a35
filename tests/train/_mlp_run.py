"""A small training run used by the engine tests, as a script so it can be killed and resumed.

usage: python _mlp_run.py WORKDIR STEPS SEED [KILL_AT_STEP]
Writes WORKDIR/final_params.npz and prints a JSON line {"resumed_from": ...}.
"""

import json
import os
import signal
import sys

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.train import ArrayDataset, TrainConfig, fit


def mlp_init(key, sizes=(4, 32, 32, 1)):
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        {"w": jax.random.normal(k, (a, b)) / np.sqrt(a), "b": jnp.zeros(b)}
        for k, a, b in zip(keys, sizes[:-1], sizes[1:])
    ]


def mlp_apply(params, x):
    for layer in params[:-1]:
        x = jax.nn.relu(x @ layer["w"] + layer["b"])
    return x @ params[-1]["w"] + params[-1]["b"]


def loss_fn(params, batch, key):
    # Input noise makes the result depend on the per-step key, so resume must restore it.
    x = batch["x"] + 0.05 * jax.random.normal(key, batch["x"].shape)
    pred = mlp_apply(params, x)[:, 0]
    return jnp.mean((pred - batch["y"]) ** 2), {"mae": jnp.mean(jnp.abs(pred - batch["y"]))}


def dataset(seed, batch_size=32, n=1024):
    rng = np.random.default_rng(1234)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (np.sin(x[:, 0]) + x[:, 1] * x[:, 2] - 0.5 * x[:, 3]).astype(np.float32)
    return ArrayDataset({"x": x, "y": y}, batch_size=batch_size, seed=seed)


def main():
    workdir, steps, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    kill_at = int(sys.argv[4]) if len(sys.argv) > 4 else None
    key = jax.random.PRNGKey(seed)
    init_key, run_key = jax.random.split(key)
    cfg = TrainConfig(steps=steps, batch_size=32, learning_rate=3e-3, checkpoint_every=5, log_every=5, progress=False)

    def killer(step, state, metrics):
        if kill_at is not None and step == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    res = fit(loss_fn, mlp_init(init_key), dataset(seed), cfg, workdir=workdir, key=run_key, callbacks=[killer])
    flat = {f"p{i}": np.asarray(x) for i, x in enumerate(jax.tree.leaves(res.state.params))}
    np.savez(os.path.join(workdir, "final_params.npz"), **flat)
    print(json.dumps({"resumed_from": res.resumed_from, "compilations": res.compilations}))


if __name__ == "__main__":
    main()
