"""The generic trainer every hepjax model trains through.

``fit`` compiles the pure step once per batch shape, shards every batch over all devices,
checkpoints and resumes with orbax, stops on a non-finite loss or gradient, shows a progress
bar, appends ``metrics.jsonl`` and plots the loss curve.

Example::

    import jax, jax.numpy as jnp, numpy as np
    from hepjax.train import ArrayDataset, TrainConfig, fit

    def loss_fn(params, batch, key):
        pred = batch["x"] @ params["w"]
        return jnp.mean((pred - batch["y"]) ** 2), {}

    x = np.random.default_rng(0).normal(size=(512, 3)).astype("float32")
    data = ArrayDataset({"x": x, "y": x @ np.array([1.0, -2.0, 0.5], "float32")}, batch_size=64)
    result = fit(loss_fn, {"w": jnp.zeros(3)}, data, TrainConfig(steps=200, batch_size=64, learning_rate=0.05),
                 workdir="results/toy", key=jax.random.PRNGKey(0))
    result.state.params["w"]  # ≈ [1, -2, 0.5]

Compilations: one per distinct batch shape (one for fixed-size batches; one per padding
bucket for graphs), plus one for ``eval_fn`` per shape.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from tqdm.auto import tqdm

from hepjax.config.schema import ConfigError
from hepjax.runinfo import move_aside
from hepjax.train.checkpoint import Checkpointer
from hepjax.train.config import TrainConfig
from hepjax.train.data import BatchSource
from hepjax.train.metrics_log import MetricsLog, read_metrics
from hepjax.train.optim import make_optimizer
from hepjax.train.parallel import check_batch_size, make_mesh, replicate, replicated, shard_batch
from hepjax.train.state import LossFn, TrainState, init_state, make_train_step, step_key

log = logging.getLogger(__name__)

# callback(step_done, state, metrics): host-side hook after each step (metrics on device).
Callback = Callable[[int, TrainState, dict], None]


#: What :func:`fit` writes into its ``workdir`` (moved aside together on a fresh start).
TRAINER_OUTPUTS = ("checkpoints", "metrics.jsonl", "loss.png")


class NonFiniteError(FloatingPointError):
    """Training produced a NaN/Inf loss or gradient; the message names the step and checkpoint."""


class FitResult(NamedTuple):
    state: TrainState
    history: list[dict]  # the records written to metrics.jsonl by this call
    resumed_from: int | None  # step restored from a checkpoint, or None
    compilations: int  # train-step compilations made by this call


def jit_train_step(loss_fn: LossFn, optimizer: optax.GradientTransformation, mesh: jax.sharding.Mesh):
    """The compiled data-parallel step: state replicated, batch sharded on ``data``, state donated."""
    rep = replicated(mesh)
    return jax.jit(make_train_step(loss_fn, optimizer), out_shardings=(rep, rep), donate_argnums=(0,))


def fit(
    loss_fn: LossFn,
    params: Any,
    data: BatchSource,
    cfg: TrainConfig,
    *,
    workdir: str | Path,
    key: jax.Array,
    optimizer: optax.GradientTransformation | None = None,
    eval_fn: Callable[[Any], dict] | None = None,
    eval_every: int = 0,
    callbacks: Sequence[Callback] = (),
    mesh: jax.sharding.Mesh | None = None,
    plot_keys: tuple[str, ...] = ("loss",),
) -> FitResult:
    """Train ``params`` to ``cfg.steps`` steps, resuming from ``workdir/checkpoints`` if asked.

    Args:
      loss_fn: pure ``(params, batch, key) -> (loss, metrics)``; ``batch`` leaves are sharded
        along axis 0 across devices, so per-example work must be batch-parallel.
      params: initial parameters (ignored when a checkpoint is restored).
      data: a :class:`BatchSource`; its ``batch_size`` must equal ``cfg.batch_size``.
      cfg: the ``train:`` config section.
      workdir: run folder; receives ``checkpoints/``, ``metrics.jsonl``, ``loss.png``.
      key: base PRNG key of the run.
      optimizer: defaults to :func:`make_optimizer` of ``cfg``.
      eval_fn: optional host callable ``params -> {name: float}`` logged with a ``val_`` prefix
        every ``eval_every`` steps and at the end.
      callbacks: host hooks called after every step.
      mesh: device mesh (default: all devices on a ``data`` axis).

    With ``cfg.resume`` false, an earlier run's ``checkpoints/``, ``metrics.jsonl`` and ``loss.png`` in
    ``workdir`` are first moved into ``workdir/previous/<time>/`` (nothing is deleted). Resuming a run
    that already reached ``cfg.steps`` trains nothing and returns the first run's history and
    compilation count, so re-running a finished run reports the same training figures.

    Raises:
      NonFiniteError: on a NaN/Inf loss or gradient; the last good checkpoint is kept.
      ConfigError: the checkpoint was trained for more than ``cfg.steps`` steps.
      ValueError: batch size not divisible by the device count, or inconsistent with ``data``.
    """
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    mesh = make_mesh() if mesh is None else mesh
    check_batch_size(cfg.batch_size, mesh)
    if data.batch_size != cfg.batch_size:
        raise ValueError(f"data batch_size {data.batch_size} != train.batch_size {cfg.batch_size}")
    optimizer = make_optimizer(cfg) if optimizer is None else optimizer

    # Copy first: the step donates its input state, which must never be the caller's arrays.
    state = replicate(jax.tree.map(jnp.array, init_state(params, optimizer, key)), mesh)
    if not cfg.resume:
        moved = move_aside(workdir, TRAINER_OUTPUTS)  # a fresh start never mixes with an older run's steps
        if moved is not None:
            log.warning("train.resume=false: the previous checkpoints and training log were moved to %s", moved)
    ckpt = Checkpointer(workdir / "checkpoints", keep=cfg.keep_checkpoints, every=cfg.checkpoint_every)
    resumed_from, previous_compilations = None, None
    if cfg.resume and ckpt.latest_step() is not None:
        state, meta = ckpt.restore(state)
        resumed_from = int(state.step)
        if resumed_from > cfg.steps:
            ckpt.close()
            raise ConfigError(
                f"{ckpt.directory} holds a model trained for {resumed_from} steps, more than train.steps = "
                f"{cfg.steps}; evaluating it would mislabel it. Set train.steps >= {resumed_from}, a fresh "
                "output_dir, or train.resume=false (the old run is then moved aside, not deleted)"
            )
        previous_compilations = meta.get("compilations")
        log.info("resumed from step %d (%s)", resumed_from, meta.get("data_position"))

    step_fn = jit_train_step(loss_fn, optimizer, mesh)
    primary = jax.process_index() == 0  # in multi-host runs only process 0 writes logs and plots
    metrics_log = MetricsLog(workdir / "metrics.jsonl")
    history: list[dict] = []
    start = int(jax.device_get(state.step))
    interactive = cfg.progress and sys.stderr.isatty()
    bar = tqdm(total=cfg.steps, initial=start, disable=not interactive, unit="step", dynamic_ncols=True)
    t_last, n_last, t_print = time.perf_counter(), start, 0.0

    def n_compiled() -> int:
        return step_fn._cache_size() if hasattr(step_fn, "_cache_size") else -1

    def meta_for(step: int) -> dict:
        # compilations so far: a later re-run of the finished run reports the training's own count
        return {
            "step": step,
            "data_position": data.position(step),
            "batch_size": cfg.batch_size,
            "compilations": n_compiled(),
        }

    try:
        for step in range(start, cfg.steps):
            batch = shard_batch(data.batch(step), mesh)
            state, metrics = step_fn(state, batch, step_key(state))
            done = step + 1
            for cb in callbacks:
                cb(done, state, metrics)
            logging_now = done % cfg.log_every == 0 or done == cfg.steps
            # One host sync per step: the NaN guard must stop before a bad state is saved.
            if not bool(metrics["finite"]):
                ckpt.wait()
                last = ckpt.latest_step()
                raise NonFiniteError(
                    f"non-finite loss or gradient at step {done} (loss = {float(metrics['loss'])}); "
                    f"stopped. Last good checkpoint: "
                    f"{'step ' + str(last) if last is not None else 'none'} in {ckpt.directory}"
                )
            if logging_now:
                now = time.perf_counter()
                rate = (done - n_last) * cfg.batch_size / max(now - t_last, 1e-9)
                t_last, n_last = now, done
                rec = {"step": done, "time": time.time(), "examples_per_s": rate}
                rec.update({k: float(v) for k, v in jax.device_get(metrics).items() if k != "finite"})
                if eval_fn is not None and eval_every and (done % eval_every == 0 or done == cfg.steps):
                    rec.update({f"val_{k}": float(v) for k, v in eval_fn(state.params).items()})
                if primary:
                    metrics_log.append(rec)
                history.append(rec)
                bar.set_postfix(loss=f"{rec['loss']:.4g}", ex_s=f"{rate:.3g}")
                if not interactive and cfg.progress and now - t_print > 10.0:
                    print(f"step {done}/{cfg.steps} loss {rec['loss']:.4g} ({rate:.3g} examples/s)", file=sys.stderr)
                    t_print = now
            bar.update(1)
            if ckpt.should_save(done):
                ckpt.save(state, meta_for(done))
        compilations = n_compiled()
        if start >= cfg.steps:  # already trained to cfg.steps: nothing ran, the figures are the first run's
            history = [r for r in read_metrics(workdir / "metrics.jsonl") if r.get("step", 0) <= cfg.steps]
            compilations = previous_compilations if previous_compilations is not None else compilations
        ckpt.save(state, meta_for(int(jax.device_get(state.step))), force=True)
    finally:
        bar.close()
        ckpt.close()

    if history and plot_keys and primary:
        from hepjax.plotting import plot_training_curves  # train -> plotting, never back (docs/ARCHITECTURE.md)

        plot_training_curves(read_metrics(workdir / "metrics.jsonl"), workdir / "loss.png", keys=plot_keys)
    return FitResult(state, history, resumed_from, compilations)
