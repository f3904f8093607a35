"""Process-wide CPU runtime settings that must be made before JAX starts its CPU backend.

Two settings, each measured on the tracking interaction network (2-core x86-64, jax 0.10.2;
``hepjax bench tracking`` reports both the default and the tuned runtime):

* ``library_fusions``: XLA:CPU hands fusions to YNNPACK (``--xla_cpu_experimental_ynn_fusion_type``).
  That helps wide dense layers (the engine MLP, 512 wide: ~10% faster) but slows a GNN of narrow
  (32-wide) MLPs on gathered rows ~2x, where XLA's own loop emitter wins. ``"default"`` leaves
  XLA's choice, ``"dot"`` keeps only YNNPACK matrix products, ``"none"`` turns them all off.
* ``keep_host_memory``: glibc's ``malloc`` serves buffers above its mmap threshold (<= 32 MB) with
  fresh ``mmap`` and unmaps them on ``free``; XLA:CPU allocates its scratch buffer at every call of
  a compiled step, so every step page-faults the whole buffer again (thousands of faults a step,
  kernel time ~half the step). ``True`` sets ``mallopt(M_MMAP_MAX, 0)`` and an unbounded trim
  threshold: freed memory stays mapped and the next step reuses it. The process's resident memory
  then stays at its peak, which is what a training job wants.

A module that wants non-default settings declares ``HOST_RUNTIME = HostRuntime(...)`` (experiments
and bench areas); ``hepjax run`` and ``hepjax bench`` apply it before the first JAX computation.
In your own script call :func:`configure_host` first thing. A value the user already set in
``XLA_FLAGS`` always wins.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import os
import sys
import warnings

LIBRARY_FUSIONS = ("default", "dot", "none")
_YNN_FLAG = "--xla_cpu_experimental_ynn_fusion_type"
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # glibc <malloc.h>


@dataclasses.dataclass(frozen=True)
class HostRuntime:
    """CPU runtime settings of an experiment or bench area (see the module docstring)."""

    library_fusions: str = "default"
    keep_host_memory: bool = False

    def __post_init__(self):
        if self.library_fusions not in LIBRARY_FUSIONS:
            raise ValueError(f"library_fusions must be one of {LIBRARY_FUSIONS}, got {self.library_fusions!r}")


DEFAULT = HostRuntime()


def backends_initialized() -> bool:
    """Whether JAX has already created its backends (after which XLA flags no longer apply)."""
    if "jax" not in sys.modules:
        return False
    from jax._src import xla_bridge

    return bool(xla_bridge.backends_are_initialized())


def _keep_host_memory() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))


def configure_host(runtime: HostRuntime = DEFAULT) -> dict:
    """Apply ``runtime`` to this process; return what was applied (for ``run.json`` and bench reports).

    Call before the first JAX computation: once JAX has created its backends the XLA flag can no
    longer take effect, and this warns instead of pretending it did.
    """
    applied = {"library_fusions": "default", "keep_host_memory": False}
    if runtime.library_fusions != "default":
        flags = os.environ.get("XLA_FLAGS", "")
        if backends_initialized():
            warnings.warn(
                f"JAX backends already started: library_fusions={runtime.library_fusions!r} not applied "
                "(call hepjax.runtime.configure_host before any JAX computation)",
                stacklevel=2,
            )
        elif _YNN_FLAG in flags:
            applied["library_fusions"] = "set by XLA_FLAGS"
        else:
            value = "dot" if runtime.library_fusions == "dot" else ""
            os.environ["XLA_FLAGS"] = f"{flags} {_YNN_FLAG}={value}".strip()
            applied["library_fusions"] = runtime.library_fusions
    if runtime.keep_host_memory:
        applied["keep_host_memory"] = _keep_host_memory()
    return applied


def declared_runtime(module) -> HostRuntime:
    """The ``HOST_RUNTIME`` a module declares, or the default."""
    rt = getattr(module, "HOST_RUNTIME", DEFAULT)
    if not isinstance(rt, HostRuntime):
        raise TypeError(f"{module.__name__}.HOST_RUNTIME must be a hepjax.runtime.HostRuntime, got {type(rt).__name__}")
    return rt
