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


def move_aside(workdir: str | Path, names: tuple[str, ...] | None = None) -> Path | None:
    """Move earlier results out of the way, into ``workdir/previous/<YYYYmmdd-HHMMSS>/``; delete nothing.

    Args:
      workdir: a run folder (or a trainer's sub-folder of one).
      names: the entries to move; ``None`` moves every entry except ``previous/``.
    Returns:
      the folder they went to, or ``None`` when there was nothing to move.
    """
    workdir = Path(workdir)
    if not workdir.is_dir():
        return None
    entries = [p for p in sorted(workdir.iterdir()) if p.name != "previous" and (names is None or p.name in names)]
    if not entries:
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    dest = workdir / "previous" / stamp
    k = 1
    while dest.exists():  # two fresh starts within one second
        dest, k = workdir / "previous" / f"{stamp}-{k}", k + 1
    dest.mkdir(parents=True)
    for p in entries:
        os.replace(p, dest / p.name)
    return dest


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


RUN_STATES = ("running", "finished", "failed")


def write_state(workdir: str | Path, state: str, *, fingerprint: str, reason: str | None = None) -> Path:
    """Record the run's lifecycle in ``run_state.json``: ``running``, ``finished`` or ``failed`` (with why)."""
    if state not in RUN_STATES:
        raise ValueError(f"run state must be one of {RUN_STATES}, got {state!r}")
    path = Path(workdir) / "run_state.json"
    rec = {"state": state, "config_fingerprint": fingerprint, "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    if reason is not None:
        rec["reason"] = reason
    path.write_text(json.dumps(rec, indent=2) + "\n")
    return path


def read_state(workdir: str | Path) -> dict | None:
    path = Path(workdir) / "run_state.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_metrics(workdir: str | Path, metrics: dict) -> Path:
    path = Path(workdir) / "metrics.json"
    path.write_text(json.dumps(metrics, indent=2, default=float) + "\n")
    return path
