"""Batched inference over a dataset held in host memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np


def predict_in_chunks(apply_fn: Callable[[Any, dict], Any], params: Any, data: dict, chunk: int = 1024) -> np.ndarray:
    """``apply_fn(params, batch)`` over ``data`` in fixed-size chunks, concatenated along the first axis.

    ``data`` is a dict of arrays sharing their leading (example) axis ``N``; the outputs have leading
    axis ``N``. Every chunk has ``min(chunk, N)`` rows (the last one is padded by repeating its last
    row, and the padding is dropped from the output), so ``apply_fn`` is compiled once.
    """
    f = jax.jit(apply_fn)
    n = len(next(iter(data.values())))
    chunk = min(chunk, n)
    out = []
    for i in range(0, n, chunk):
        b = {k: v[i : i + chunk] for k, v in data.items()}
        pad = chunk - len(next(iter(b.values())))
        if pad:
            b = {k: np.concatenate([v, np.repeat(v[-1:], pad, 0)]) for k, v in b.items()}
        out.append(np.asarray(f(params, b))[: chunk - pad])
    return np.concatenate(out)
