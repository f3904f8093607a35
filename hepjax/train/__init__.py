"""The one training engine of hepjax: pure jit step, data-parallel mesh, orbax checkpoints."""

from hepjax.train.checkpoint import Checkpointer, load_params
from hepjax.train.config import TrainConfig
from hepjax.train.data import ArrayDataset, BatchSource, split
from hepjax.train.loop import FitResult, NonFiniteError, fit, jit_train_step
from hepjax.train.metrics_log import MetricsLog, read_metrics
from hepjax.train.optim import learning_rate_schedule, make_optimizer
from hepjax.train.parallel import (
    DATA_AXIS,
    batch_sharded,
    check_batch_size,
    make_mesh,
    maybe_initialize_distributed,
    replicate,
    replicated,
    shard_batch,
)
from hepjax.train.predict import predict_in_chunks
from hepjax.train.standardizer import Standardizer
from hepjax.train.state import TrainState, init_state, make_train_step, step_key, tree_all_finite

__all__ = [
    "DATA_AXIS",
    "ArrayDataset",
    "BatchSource",
    "Checkpointer",
    "FitResult",
    "MetricsLog",
    "NonFiniteError",
    "Standardizer",
    "TrainConfig",
    "TrainState",
    "batch_sharded",
    "check_batch_size",
    "fit",
    "init_state",
    "jit_train_step",
    "learning_rate_schedule",
    "load_params",
    "make_mesh",
    "make_optimizer",
    "make_train_step",
    "maybe_initialize_distributed",
    "predict_in_chunks",
    "read_metrics",
    "replicate",
    "replicated",
    "shard_batch",
    "split",
    "step_key",
    "tree_all_finite",
]
