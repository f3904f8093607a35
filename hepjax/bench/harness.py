"""``hepjax bench AREA``: every area is a module ``hepjax/bench/<area>.py`` with

    def run(*, quick: bool, **options) -> dict   # {"metrics": {...}, "peer": {...}, "ratios": {...}}

The harness adds the area name, the machine, the load and the thread settings, and writes the JSON
report. Speed is always reported as a ratio against a peer measured in the same run on the same
machine, under these rules:

* Same threads on both sides. XLA:CPU sizes its intra-op thread pool once, when JAX starts its CPU
  backend, from the cores this process may run on (``os.sched_getaffinity``); it cannot be changed
  later in the process (a subprocess started with another affinity or ``XLA_FLAGS`` can). The
  harness takes that count, ``threads``, and while the area runs sets ``OMP_NUM_THREADS``,
  ``MKL_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and ``NUMBA_NUM_THREADS`` to it (read by torch,
  BLAS and numba when they start, here and in the subprocesses of :func:`run_in_subprocess`) and
  calls ``torch.set_num_threads(threads)`` if torch is already imported. After the run it records
  what the peers actually used (``torch.get_num_threads()``, ``numba.get_num_threads()``) under
  ``threads``; ``threads.equal`` is false (with a warning) where one differs.
* Load. ``os.getloadavg()`` before and after the area (``load_average``). A run whose 1-minute load,
  before or after, is above the machine's core count shared its cores with other work: its
  ratios are marked ``"reliable": false`` and the harness warns (a ``RuntimeWarning`` line).

Areas that run an experiment call its pipeline (:func:`experiment_metrics`), not ``hepjax.runner``,
and read nothing from ``results/`` in the working directory: what they need is computed or passed
as an explicit option (``run_area(..., options={...})``).
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import jax

from hepjax.timing import time_call

__all__ = [
    "THREAD_ENV",
    "align_threads",
    "bench_threads",
    "experiment_metrics",
    "list_areas",
    "load_average",
    "machine_info",
    "peer_threads",
    "run_area",
    "run_in_subprocess",
    "time_call",
]

_NOT_AREAS = {"harness"}  # and sub-packages (the peers): an area is a module


def list_areas() -> list[str]:
    import hepjax.bench as pkg

    return sorted(
        m.name
        for m in pkgutil.iter_modules(pkg.__path__)
        if m.name not in _NOT_AREAS and not m.ispkg and not m.name.startswith("_")
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


def run_in_subprocess(code: str, env: dict | None = None, timeout: float = 900) -> dict:
    """Run python ``code`` that prints one JSON line last; return it parsed.

    Used for measurements that need a different XLA configuration (e.g. 8 host devices).
    """
    full_env = {**os.environ, **(env or {})}
    out = subprocess.run([sys.executable, "-c", code], env=full_env, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"bench subprocess failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")


def bench_threads() -> int:
    """Threads XLA:CPU runs its intra-op pool with in this process: the cores it may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def align_threads(threads: int) -> dict:
    """Give the peers (torch, BLAS, numba) ``threads`` threads, as XLA:CPU has; return the env before.

    Environment variables reach libraries imported later and subprocesses; a torch already
    imported is set directly. Call before the area runs (see the module docstring).
    """
    before = {var: os.environ.get(var) for var in THREAD_ENV}
    for var in THREAD_ENV:
        os.environ[var] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    return before


def _restore_env(before: dict) -> None:
    for var, value in before.items():
        if value is None:
            os.environ.pop(var, None)
        else:
            os.environ[var] = value


def peer_threads() -> dict:
    """Thread counts the peer libraries imported in this process use now (absent: not imported)."""
    out = {}
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        out["torch"] = torch.get_num_threads()
        out["torch_interop"] = torch.get_num_interop_threads()
    if "numba" in sys.modules:
        out["numba"] = sys.modules["numba"].get_num_threads()
    return out


def load_average() -> list[float] | None:
    """1-, 5- and 15-minute load averages (runnable processes), or None where the OS has none."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except (OSError, AttributeError):
        return None


def experiment_metrics(config: str | Path, overrides: Sequence[str], workdir: str | Path) -> dict:
    """Run an experiment's pipeline (its ``run(cfg, workdir)``) on a config with ``overrides``; return its metrics.

    ``config``: a path or a name in ``configs/``. Unlike ``hepjax run`` this writes no run info and
    reads nothing back: the metrics are the pipeline's return value, made JSON-plain (as
    ``metrics.json`` would hold them).
    """
    from hepjax.runner import experiment_module, load_config

    workdir = Path(workdir)
    cfg = load_config(config, [f"output_dir={workdir}", *overrides])
    workdir.mkdir(parents=True, exist_ok=True)
    metrics = experiment_module(cfg.experiment).run(cfg, workdir)
    return json.loads(json.dumps(metrics or {}, default=float))


def run_area(area: str, *, quick: bool, out: str | Path, options: dict | None = None) -> dict:
    """Run bench ``area`` and write its JSON report to ``out``; return the report.

    ``options``: keyword arguments for the area's ``run`` (e.g. ``study_metrics`` of ``decorrelation``).
    """
    if area not in list_areas():
        raise ValueError(f"unknown bench area {area!r}; available: {', '.join(list_areas())}")
    mod = importlib.import_module(f"hepjax.bench.{area}")
    from hepjax.runtime import configure_host, declared_runtime

    host_runtime = configure_host(declared_runtime(mod))  # before the area's first JAX computation
    threads = bench_threads()
    env_before = align_threads(threads)
    env_during = {var: os.environ.get(var) for var in THREAD_ENV}
    try:
        load_before = load_average()
        t0 = time.time()
        result = mod.run(quick=quick, **(options or {}))
        wall = time.time() - t0
        load_after = load_average()
        peers = peer_threads()
    finally:
        _restore_env(env_before)  # the caller's process (e.g. a test session) keeps its own settings
    cores = os.cpu_count() or 1
    notes = []
    busy = [x[0] for x in (load_before, load_after) if x is not None]
    reliable = all(v <= cores for v in busy)
    if not reliable:
        notes.append(
            f"bench {area}: 1-minute load {max(busy):.2f} above the {cores} cores (before {load_before}, after "
            f"{load_after}): the cores were shared with other work, ratios marked unreliable"
        )
    unequal = {k: v for k, v in peers.items() if k in ("torch", "numba") and v != threads}
    if unequal:
        notes.append(f"bench {area}: peers ran with {unequal} threads, XLA:CPU with {threads}")
    for line in notes:
        warnings.warn(line, RuntimeWarning, stacklevel=2)
    report = {
        "area": area,
        "quick": quick,
        "machine": machine_info(),
        "metrics": result.get("metrics", {}),
        "peer": result.get("peer", {}),
        "ratios": result.get("ratios", {}),
        "reliable": reliable,
        "warnings": notes,
        "load_average": {"before": load_before, "after": load_after, "cpu_count": cores},
        "threads": {
            "xla_cpu": threads,
            **peers,
            "env": env_during,
            "env_before": env_before,
            "equal": not unequal,
        },
        "notes": result.get("notes", ""),
        "host_runtime": {**host_runtime, "xla_flags": os.environ.get("XLA_FLAGS", "")},
        "wall_s": round(wall, 2),
        "command": "hepjax bench " + area + (" --quick" if quick else "") + f" --out {out}",
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, default=float) + "\n")
    return report
