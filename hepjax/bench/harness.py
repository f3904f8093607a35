"""``hepjax bench AREA``: every area is a module ``hepjax/bench/<area>.py`` with

    def run(*, quick: bool) -> dict   # {"metrics": {...}, "peer": {...}, "ratios": {...}}

The harness adds the area name and the machine, and writes the JSON report. Speed is always
reported as a ratio against a peer measured in the same run on the same machine.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax

_NOT_AREAS = {"harness", "peers"}


def list_areas() -> list[str]:
    import hepjax.bench as pkg

    return sorted(
        m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name not in _NOT_AREAS and not m.name.startswith("_")
    )


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    """CPU model and core count, JAX devices and version: the 'same machine' of a ratio."""
    devs = jax.devices()
    return {
        "cpu": _cpu_name(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "devices": [f"{d.platform}:{getattr(d, 'device_kind', '')}" for d in devs],
        "device_count": len(devs),
        "jax_version": jax.__version__,
        "python": platform.python_version(),
    }


def time_call(fn: Callable[[], Any], *, repeats: int = 5, warmup: int = 1, min_time: float = 0.0) -> float:
    """Median wall time in seconds of ``fn()`` (its result is blocked on), after ``warmup`` calls.

    With ``min_time`` the call is repeated until that much time has been spent, so that fast
    functions are timed over many calls.
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


def run_in_subprocess(code: str, env: dict | None = None, timeout: float = 900) -> dict:
    """Run python ``code`` that prints one JSON line last; return it parsed.

    Used for measurements that need a different XLA configuration (e.g. 8 host devices).
    """
    full_env = {**os.environ, **(env or {})}
    out = subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"bench subprocess failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_area(area: str, *, quick: bool, out: str | Path) -> dict:
    if area not in list_areas():
        raise ValueError(f"unknown bench area {area!r}; available: {', '.join(list_areas())}")
    mod = importlib.import_module(f"hepjax.bench.{area}")
    from hepjax.runtime import configure_host, declared_runtime

    host_runtime = configure_host(declared_runtime(mod))  # before the area's first JAX computation
    t0 = time.time()
    result = mod.run(quick=quick)
    report = {
        "area": area,
        "quick": quick,
        "machine": machine_info(),
        "metrics": result.get("metrics", {}),
        "peer": result.get("peer", {}),
        "ratios": result.get("ratios", {}),
        "notes": result.get("notes", ""),
        "host_runtime": {**host_runtime, "xla_flags": os.environ.get("XLA_FLAGS", "")},
        "wall_s": round(time.time() - t0, 2),
        "command": "hepjax bench " + area + (" --quick" if quick else "") + f" --out {out}",
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=float) + "\n")
    return report
