"""What every run writes beside its results: resolved config, package versions, seed."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import sys
import time
from pathlib import Path

import yaml

PACKAGES = (
    "hepjax",
    "jax",
    "jaxlib",
    "flax",
    "optax",
    "jraph",
    "distrax",
    "chex",
    "numpy",
    "scipy",
    "orbax-checkpoint",
    "keras",
    "hls4ml",
    "pythia8mc",
    "fastjet",
    "awkward",
    "matplotlib",
    "mplhep",
)


def installed_distributions() -> dict[str, str]:
    """Every installed distribution and its version (a full ``pip freeze``), sorted by name."""
    dists = {}
    for d in importlib.metadata.distributions():
        name = d.metadata["Name"]
        if name:
            dists.setdefault(name, d.version)
    return dict(sorted(dists.items(), key=lambda kv: kv[0].lower()))


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict:
    """The key packages' versions at the top level, and under ``"installed"`` every distribution."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for n in names:
        try:
            out[n] = importlib.metadata.version(n)
        except importlib.metadata.PackageNotFoundError:
            out[n] = None
    out["installed"] = installed_distributions()
    return out


def write_run_info(workdir: str | Path, config: dict, seed: int, argv: list[str] | None = None) -> None:
    """``config.yaml`` (resolved), ``versions.json`` and ``run.json`` (seed, command, start time)."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (workdir / "versions.json").write_text(json.dumps(package_versions(), indent=2) + "\n")
    import jax

    run = {
        "seed": seed,
        "argv": argv if argv is not None else sys.argv,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "devices": [str(d) for d in jax.devices()],
        "process_count": jax.process_count(),
        "xla_flags": os.environ.get("XLA_FLAGS", ""),  # incl. hepjax.runtime's CPU settings
    }
    (workdir / "run.json").write_text(json.dumps(run, indent=2) + "\n")


def write_metrics(workdir: str | Path, metrics: dict) -> Path:
    path = Path(workdir) / "metrics.json"
    path.write_text(json.dumps(metrics, indent=2, default=float) + "\n")
    return path
