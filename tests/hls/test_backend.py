"""hepjax.hls refuses a Keras backend other than JAX with a clear error (docs/ARCHITECTURE.md)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_keras_on_another_backend_is_refused():
    env = {**os.environ, "KERAS_BACKEND": "numpy", "PYTHONPATH": str(ROOT)}
    code = "import hepjax.hls.keras_layers"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0 and "needs Keras on JAX" in out.stderr and "'numpy'" in out.stderr


def test_unset_backend_defaults_to_jax():
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"} | {"PYTHONPATH": str(ROOT)}
    code = "import hepjax.hls.keras_layers, keras; print(keras.backend.backend())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "jax"
