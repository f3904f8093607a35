"""The training engine: bitwise resume after a kill, data parallelism on 8 host devices,
seeds, the NaN guard, and no recompilation."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from hepjax.train import (
    Checkpointer,
    NonFiniteError,
    TrainConfig,
    fit,
    init_state,
    make_optimizer,
    read_metrics,
)

HERE = Path(__file__).parent
SCRIPT = HERE / "_mlp_run.py"
sys.path.insert(0, str(HERE))
import _mlp_run  # noqa: E402


def _run_script(workdir, steps, seed, kill_at=None, env=None):
    args = [sys.executable, str(SCRIPT), str(workdir), str(steps), str(seed)]
    if kill_at is not None:
        args.append(str(kill_at))
    return subprocess.run(args, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def _params(workdir):
    with np.load(Path(workdir) / "final_params.npz") as f:
        return {k: f[k] for k in f.files}


def test_resume_after_kill_is_bitwise_identical(tmp_path):
    full, killed = tmp_path / "full", tmp_path / "killed"
    out = _run_script(full, 30, seed=7)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1])["resumed_from"] is None

    out = _run_script(killed, 30, seed=7, kill_at=17)
    assert out.returncode == -9, (out.returncode, out.stderr)  # SIGKILL mid-training
    assert not (killed / "final_params.npz").exists()
    out = _run_script(killed, 30, seed=7)
    assert out.returncode == 0, out.stderr
    resumed = json.loads(out.stdout.splitlines()[-1])["resumed_from"]
    assert resumed in (5, 10, 15)

    a, b = _params(full), _params(killed)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])  # bitwise on CPU
    steps = [r["step"] for r in read_metrics(killed / "metrics.jsonl")]
    assert steps == sorted(set(steps)) and steps[-1] == 30


def _quick_fit(workdir, seed, steps=6):
    key = jax.random.PRNGKey(seed)
    init_key, run_key = jax.random.split(key)
    cfg = TrainConfig(steps=steps, batch_size=32, checkpoint_every=0, progress=False, log_every=2)
    return fit(_mlp_run.loss_fn, _mlp_run.mlp_init(init_key), _mlp_run.dataset(seed), cfg, workdir=workdir, key=run_key)


def test_same_seed_same_result_different_seed_differs(tmp_path):
    a = _quick_fit(tmp_path / "a", seed=1)
    b = _quick_fit(tmp_path / "b", seed=1)
    c = _quick_fit(tmp_path / "c", seed=2)
    la, lb, lc = (jax.tree.leaves(r.state.params) for r in (a, b, c))
    for x, y in zip(la, lb):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert any(not np.array_equal(np.asarray(x), np.asarray(z)) for x, z in zip(la, lc))
    assert [r["loss"] for r in a.history] == [r["loss"] for r in b.history]


def test_one_compilation_and_outputs(tmp_path):
    res = _quick_fit(tmp_path / "run", seed=0, steps=8)
    assert res.compilations == 1  # fixed batch shape: the step compiles once
    assert (tmp_path / "run" / "loss.png").stat().st_size > 1000
    recs = read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert [r["step"] for r in recs] == [2, 4, 6, 8]
    assert {"loss", "mae", "grad_norm", "examples_per_s"} <= recs[0].keys()


def test_loss_decreases(tmp_path):
    key = jax.random.PRNGKey(0)
    cfg = TrainConfig(steps=150, batch_size=32, learning_rate=3e-3, checkpoint_every=0, progress=False, log_every=10)
    res = fit(_mlp_run.loss_fn, _mlp_run.mlp_init(key), _mlp_run.dataset(0), cfg, workdir=tmp_path, key=key)
    assert res.history[-1]["loss"] < 0.3 * res.history[0]["loss"]


class _PoisonedSource:
    """Clean batches except at step ``bad``, which carries a NaN."""

    def __init__(self, bad):
        self.inner = _mlp_run.dataset(0)
        self.batch_size = self.inner.batch_size
        self.bad = bad

    def position(self, step):
        return self.inner.position(step)

    def batch(self, step):
        b = self.inner.batch(step)
        if step == self.bad:
            b = {**b, "x": b["x"].copy()}
            b["x"][3, 1] = np.nan
        return b


def test_nan_guard_stops_and_keeps_last_checkpoint(tmp_path):
    key = jax.random.PRNGKey(0)
    params = _mlp_run.mlp_init(key)
    cfg = TrainConfig(steps=20, batch_size=32, checkpoint_every=5, progress=False)
    with pytest.raises(NonFiniteError, match=r"non-finite loss or gradient at step 8 .*Last good checkpoint: step 5"):
        fit(_mlp_run.loss_fn, params, _PoisonedSource(bad=7), cfg, workdir=tmp_path, key=key)
    ckpt = Checkpointer(tmp_path / "checkpoints")
    assert ckpt.latest_step() == 5
    target = init_state(params, make_optimizer(cfg), key)
    state, meta = ckpt.restore(target)
    assert int(state.step) == 5 and meta["data_position"]["examples_seen"] == 5 * 32
    assert all(np.isfinite(np.asarray(x)).all() for x in jax.tree.leaves(state.params))
    ckpt.close()


def test_batch_size_mismatch_is_an_error(tmp_path):
    cfg = TrainConfig(steps=2, batch_size=64, progress=False)
    with pytest.raises(ValueError, match="data batch_size 32 != train.batch_size 64"):
        fit(
            _mlp_run.loss_fn,
            _mlp_run.mlp_init(jax.random.PRNGKey(0)),
            _mlp_run.dataset(0),
            cfg,
            workdir=tmp_path,
            key=jax.random.PRNGKey(0),
        )


_EIGHT_DEVICES = r"""
import json, sys
import jax, numpy as np
sys.path.insert(0, sys.argv[1])
import _mlp_run
from hepjax.train import TrainConfig, fit, make_mesh, shard_batch
assert jax.device_count() == 8, jax.devices()
key = jax.random.PRNGKey(3)
params = _mlp_run.mlp_init(key)
cfg = TrainConfig(steps=1, batch_size=32, checkpoint_every=0, progress=False)
out = {}
for n in (8, 1):
    mesh = make_mesh(jax.devices()[:n])
    res = fit(_mlp_run.loss_fn, params, _mlp_run.dataset(0), cfg, workdir=f"{sys.argv[2]}/d{n}", key=key, mesh=mesh)
    out[n] = [np.asarray(x) for x in jax.tree.leaves(res.state.params)]
b = shard_batch(_mlp_run.dataset(0).batch(0), make_mesh())
shards = len(b["x"].sharding.device_set)
diff = max(float(np.max(np.abs(a - c))) for a, c in zip(out[8], out[1]))
moved = max(float(np.max(np.abs(a - np.asarray(p)))) for a, p in zip(out[8], jax.tree.leaves(params)))
try:
    fit(_mlp_run.loss_fn, params, _mlp_run.dataset(0, batch_size=12), TrainConfig(steps=1, batch_size=12), workdir=f"{sys.argv[2]}/bad", key=key)
    err = ""
except ValueError as e:
    err = str(e)
print(json.dumps({"diff": diff, "moved": moved, "shards": shards, "err": err}))
"""


def test_eight_host_devices_match_one_device(tmp_path):
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [sys.executable, "-c", _EIGHT_DEVICES, str(HERE), str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout.splitlines()[-1])
    assert res["shards"] == 8  # the batch really is split over 8 devices
    assert res["moved"] > 1e-4  # the step did something
    assert res["diff"] < 1e-6
    assert "train.batch_size = 12 must be divisible by the number of devices (8)" in res["err"]


def test_two_processes_jax_distributed_match_one_process(tmp_path):
    """Multi-host path: 2 processes (jax.distributed on localhost, 1 CPU device each) sharing the
    global batch end with the parameters of a 1-process run on the same batches."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)
    procs = [
        subprocess.Popen(
            [sys.executable, str(HERE / "_multihost_run.py"), str(port), str(i), str(tmp_path / "mh")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    multi = [np.asarray(x) for x in json.loads(outs[0][0].splitlines()[-1])["params"]]

    key = jax.random.PRNGKey(5)
    cfg = TrainConfig(steps=4, batch_size=32, checkpoint_every=2, progress=False, log_every=2)
    single = fit(_mlp_run.loss_fn, _mlp_run.mlp_init(key), _mlp_run.dataset(0), cfg, workdir=tmp_path / "one", key=key)
    for a, b in zip(multi, jax.tree.leaves(single.state.params)):
        np.testing.assert_allclose(a, np.asarray(b), atol=1e-6, rtol=0)
    assert (tmp_path / "mh" / "checkpoints" / "4").is_dir()
