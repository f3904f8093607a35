"""hepjax.runtime: CPU settings applied before JAX starts, refused (with a warning) after."""

import json
import os
import subprocess
import sys

import pytest

from hepjax.runtime import HostRuntime, declared_runtime

_CHILD = """
import json, os, warnings
from hepjax.runtime import HostRuntime, backends_initialized, configure_host
before = backends_initialized()
applied = configure_host(HostRuntime(library_fusions="{fusions}", keep_host_memory=True))
import jax.numpy as jnp
float(jnp.ones(3).sum())  # starts the backend with the flag
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    configure_host(HostRuntime(library_fusions="dot"))
print(json.dumps({{"before": before, "applied": applied, "flags": os.environ.get("XLA_FLAGS", ""),
                   "late_warning": [str(x.message) for x in w]}}))
"""


def _child(fusions: str, xla_flags: str = "") -> dict:
    env = {**os.environ, "XLA_FLAGS": xla_flags}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD.format(fusions=fusions)], env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_configure_host_sets_flag_before_backend_and_warns_after():
    res = _child("none")
    assert res["before"] is False
    assert res["applied"]["library_fusions"] == "none"
    assert "--xla_cpu_experimental_ynn_fusion_type=" in res["flags"].split()
    if sys.platform.startswith("linux"):
        assert res["applied"]["keep_host_memory"] is True
    assert res["late_warning"] and "already started" in res["late_warning"][0]


def test_user_xla_flags_win():
    res = _child("none", xla_flags="--xla_cpu_experimental_ynn_fusion_type=dot")
    assert res["applied"]["library_fusions"] == "set by XLA_FLAGS"
    assert res["flags"].split() == ["--xla_cpu_experimental_ynn_fusion_type=dot"]


def test_bad_values_and_declarations():
    with pytest.raises(ValueError, match="library_fusions"):
        HostRuntime(library_fusions="fast")

    class Mod:
        __name__ = "fake"
        HOST_RUNTIME = {"library_fusions": "none"}

    with pytest.raises(TypeError, match="HOST_RUNTIME"):
        declared_runtime(Mod)
    from hepjax.runner import experiment_module  # the runner's way to an experiment module

    assert declared_runtime(experiment_module("tracking")) == HostRuntime("none", True)
