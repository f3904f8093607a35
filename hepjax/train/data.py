"""Deterministic, resumable batch sources.

A batch source is stateless: ``batch(step)`` returns the global batch of optimiser step
``step``. The data position therefore lives in the step counter, which is checkpointed, so a
resumed run sees exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

from typing import Any, Protocol

import jax
import numpy as np


class BatchSource(Protocol):
    batch_size: int

    def batch(self, step: int) -> Any:  # pytree of numpy arrays, leaves [batch_size, ...]
        ...

    def position(self, step: int) -> dict:  # JSON-able description of where ``step`` reads
        ...


class ArrayDataset:
    """In-memory arrays reshuffled every epoch with a permutation derived from ``seed`` and the epoch.

    Args:
      arrays: pytree of numpy arrays sharing a leading axis of length N.
      batch_size: global batch size (the incomplete last batch of an epoch is dropped).
      seed: shuffling seed.
    """

    def __init__(self, arrays: Any, batch_size: int, seed: int = 0):
        leaves = jax.tree.leaves(arrays)
        if not leaves:
            raise ValueError("ArrayDataset needs at least one array")
        n = {int(np.shape(x)[0]) for x in leaves}
        if len(n) != 1:
            raise ValueError(f"ArrayDataset arrays disagree on their length: {sorted(n)}")
        self.arrays = jax.tree.map(np.asarray, arrays)
        self.n = n.pop()
        if batch_size > self.n:
            raise ValueError(f"batch_size {batch_size} exceeds the dataset size {self.n}")
        self.batch_size = batch_size
        self.seed = seed
        self.steps_per_epoch = self.n // batch_size
        self._perm_epoch, self._perm = -1, None

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch != self._perm_epoch:
            self._perm = np.random.default_rng([self.seed, epoch]).permutation(self.n)
            self._perm_epoch = epoch
        return self._perm

    def position(self, step: int) -> dict:
        epoch, i = divmod(step, self.steps_per_epoch)
        return {"epoch": epoch, "batch_in_epoch": i, "examples_seen": step * self.batch_size}

    def batch(self, step: int) -> Any:
        pos = self.position(step)
        idx = self._permutation(pos["epoch"])[pos["batch_in_epoch"] * self.batch_size :][: self.batch_size]
        return jax.tree.map(lambda x: x[idx], self.arrays)


def split(arrays: Any, fractions: tuple[float, ...], seed: int) -> list[Any]:
    """Shuffle once with ``seed`` and split a pytree of arrays by ``fractions`` (must sum to <= 1)."""
    n = int(np.shape(jax.tree.leaves(arrays)[0])[0])
    perm = np.random.default_rng(seed).permutation(n)
    edges = np.cumsum([0] + [int(round(f * n)) for f in fractions])
    return [jax.tree.map(lambda x: np.asarray(x)[perm[a:b]], arrays) for a, b in zip(edges[:-1], edges[1:])]
