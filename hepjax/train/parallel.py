"""Data parallelism over every device with ``jax.sharding``, single- or multi-host.

The mesh has one axis, ``data``. Batches are sharded along their leading axis; parameters
and optimiser state are replicated. On a SLURM allocation (or wherever
``JAX_COORDINATOR_ADDRESS`` is set) :func:`maybe_initialize_distributed` joins the processes
first, after which ``jax.devices()`` lists the devices of every host.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

DATA_AXIS = "data"


def maybe_initialize_distributed() -> bool:
    """Call ``jax.distributed.initialize()`` when the environment describes a multi-process job.

    Detected: SLURM with more than one task (``SLURM_NTASKS``), or an explicit
    ``JAX_COORDINATOR_ADDRESS``. Must run before any other JAX computation.
    Returns True if it initialised.
    """
    slurm = int(os.environ.get("SLURM_NTASKS", "1")) > 1
    explicit = "JAX_COORDINATOR_ADDRESS" in os.environ
    if not (slurm or explicit):
        return False
    if jax.distributed.is_initialized():
        return True
    if explicit:
        jax.distributed.initialize(
            coordinator_address=os.environ["JAX_COORDINATOR_ADDRESS"],
            num_processes=int(os.environ["JAX_NUM_PROCESSES"]),
            process_id=int(os.environ["JAX_PROCESS_ID"]),
        )
    else:
        jax.distributed.initialize()  # reads SLURM_* variables
    return True


def make_mesh(devices: list | None = None) -> Mesh:
    """A 1-D mesh over ``devices`` (default: every device of every process)."""
    devices = jax.devices() if devices is None else devices
    return Mesh(np.asarray(devices), (DATA_AXIS,))


def check_batch_size(batch_size: int, mesh: Mesh) -> None:
    n = mesh.devices.size
    if batch_size % n:
        raise ValueError(
            f"train.batch_size = {batch_size} must be divisible by the number of devices ({n}); "
            f"use a multiple of {n}, e.g. {max(n, (batch_size // n) * n)}"
        )


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def batch_sharded(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P(DATA_AXIS))


def replicate(tree: Any, mesh: Mesh) -> Any:
    """Place every leaf of ``tree`` on all devices of ``mesh``."""
    return jax.device_put(tree, replicated(mesh))


def shard_batch(batch: Any, mesh: Mesh) -> Any:
    """Shard a *global* host batch (leaves ``[B, ...]``) along its leading axis.

    Every process builds the same global batch deterministically; in a multi-process run
    each contributes only its own contiguous slice of rows.
    """
    sharding = batch_sharded(mesh)
    if jax.process_count() == 1:
        return jax.device_put(batch, sharding)

    def local(x):
        n = x.shape[0] // jax.process_count()
        i = jax.process_index()
        return jax.make_array_from_process_local_data(sharding, np.asarray(x[i * n : (i + 1) * n]), x.shape)

    return jax.tree.map(local, batch)
