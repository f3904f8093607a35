"""Collection rules for the docstring examples under hepjax/ (``--doctest-modules``)."""

import importlib.util
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

# Benchmark peers import their peer framework at the top; without the `bench` extra they are not collected.
# Scripts the tests launch in subprocesses are not test modules (they read their arguments at import).
collect_ignore_glob = ["tests/*/_*_run.py"]
if importlib.util.find_spec("torch") is None:
    collect_ignore_glob += ["hepjax/bench/peers/*"]
