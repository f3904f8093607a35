"""Optimisers built from :class:`TrainConfig`."""

from __future__ import annotations

import optax

from hepjax.train.config import TrainConfig


def learning_rate_schedule(cfg: TrainConfig) -> optax.Schedule:
    """Linear warm-up from 0 (if any), then a constant or cosine-decayed (to 1 % of the peak) learning rate."""
    if cfg.schedule == "cosine":
        return optax.warmup_cosine_decay_schedule(
            init_value=0.0,
            peak_value=cfg.learning_rate,
            warmup_steps=cfg.warmup_steps,
            decay_steps=cfg.warmup_steps + max(cfg.steps - cfg.warmup_steps, 1),
            end_value=0.01 * cfg.learning_rate,
        )
    if cfg.warmup_steps == 0:
        return optax.constant_schedule(cfg.learning_rate)
    warm = optax.linear_schedule(0.0, cfg.learning_rate, cfg.warmup_steps)
    return optax.join_schedules([warm, optax.constant_schedule(cfg.learning_rate)], [cfg.warmup_steps])


def make_optimizer(cfg: TrainConfig) -> optax.GradientTransformation:
    """``adam`` / ``adamw`` / ``sgd`` (momentum 0.9) with the schedule and optional clipping."""
    lr = learning_rate_schedule(cfg)
    if cfg.optimizer == "adam":
        opt = optax.adam(lr)
    elif cfg.optimizer == "adamw":
        opt = optax.adamw(lr, weight_decay=cfg.weight_decay)
    else:
        opt = optax.sgd(lr, momentum=0.9)
    if cfg.grad_clip > 0:
        opt = optax.chain(optax.clip_by_global_norm(cfg.grad_clip), opt)
    return opt
