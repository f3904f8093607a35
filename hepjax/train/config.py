"""The ``train:`` section every experiment shares."""

from __future__ import annotations

import dataclasses
from typing import Literal

from hepjax.config.schema import param


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation, checkpointing and logging settings of :func:`hepjax.train.fit`."""

    steps: int = param(1000, ge=1, doc="number of optimiser steps")
    batch_size: int = param(256, ge=1, doc="global batch size; must divide by the device count")
    optimizer: Literal["adam", "adamw", "sgd"] = param("adamw")
    learning_rate: float = param(1e-3, gt=0.0, le=10.0)
    schedule: Literal["constant", "cosine"] = param("cosine")
    warmup_steps: int = param(0, ge=0)
    weight_decay: float = param(0.0, ge=0.0)
    grad_clip: float = param(0.0, ge=0.0, doc="global-norm clip; 0 disables")
    checkpoint_every: int = param(100, ge=0, doc="steps between checkpoints; 0 saves only at the end")
    keep_checkpoints: int = param(3, ge=1)
    log_every: int = param(10, ge=1, doc="steps between metrics.jsonl records")
    resume: bool = param(True, doc="continue from the latest checkpoint in the run folder")
    progress: bool = param(True, doc="show a progress bar on a terminal")
