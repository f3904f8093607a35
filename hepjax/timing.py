"""Wall-clock timing of (JAX) calls: the one ``time_call`` of experiments and the bench."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import jax


def time_call(fn: Callable[[], Any], *, repeats: int = 5, warmup: int = 1, min_time: float = 0.0) -> float:
    """Median wall time in seconds of ``fn()`` (its result is blocked on), after ``warmup`` calls.

    With ``min_time`` (seconds) the call is repeated until that much time has been spent, so that
    fast functions are timed over many calls (at most 10,000).
    """
    for _ in range(warmup):
        jax.block_until_ready(fn())
    times = []
    spent = 0.0
    while len(times) < repeats or spent < min_time:
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
        if len(times) > 10_000:
            break
    return statistics.median(times)
