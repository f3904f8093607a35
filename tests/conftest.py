"""Shared test setup: Keras on JAX, a per-session data cache, quiet progress bars."""

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session", autouse=True)
def _hepjax_cache(tmp_path_factory):
    """Generated samples go to one cache per test session unless HEPJAX_CACHE_DIR is set."""
    if "HEPJAX_CACHE_DIR" not in os.environ:
        os.environ["HEPJAX_CACHE_DIR"] = str(tmp_path_factory.mktemp("hepjax_cache"))
    yield
