"""Run an experiment from a config: the body of ``hepjax run``."""

from __future__ import annotations

import logging
from pathlib import Path

from hepjax.config import ConfigError, RunConfig, experiment_module, load_config
from hepjax.config.loader import read_yaml, shipped_configs, shipped_studies
from hepjax.data.cache import digest
from hepjax.runinfo import move_aside, write_metrics, write_run_info, write_state

log = logging.getLogger(__name__)


def list_experiments() -> list[str]:
    """Names of the shipped studies (``experiment: NAME`` in a config)."""
    return shipped_studies()


def list_configs() -> list:
    """The shipped configs (paths, or Traversables inside an installed wheel), sorted by name."""
    return shipped_configs()


# Keys a resumed run may change: how long to train and how to log, not what is trained on or how.
RESUMABLE_CHANGES = frozenset(
    {"output_dir", "steps", "checkpoint_every", "keep_checkpoints", "log_every", "progress", "resume"}
)


def _flatten(tree: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        out.update(_flatten(v, key + ".") if isinstance(v, dict) else {key: v})
    return out


def check_resumable(workdir: Path, config: dict) -> None:
    """Refuse to resume checkpoints in ``workdir`` that a run with a different config wrote.

    The trainer resumes from the latest checkpoint in the run folder; were the data or the model changed
    in between, the restored parameters would belong to another study and the metrics would silently
    describe it. Only the keys in :data:`RESUMABLE_CHANGES` may differ (e.g. more ``train.steps``).
    """
    old_file = workdir / "config.yaml"
    has_checkpoints = any(p.is_dir() and any(p.iterdir()) for p in workdir.rglob("checkpoints"))
    if not (old_file.is_file() and has_checkpoints):
        return
    new, old = _flatten(config), _flatten(read_yaml(old_file.read_text()) or {})
    if all(v is False for k, v in new.items() if k.rsplit(".", 1)[-1] == "resume"):
        return  # every trainer starts afresh
    changed = sorted(
        k for k in new.keys() | old.keys() if new.get(k) != old.get(k) and k.rsplit(".", 1)[-1] not in RESUMABLE_CHANGES
    )
    if changed:
        diff = ", ".join(f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in changed[:6])
        raise ConfigError(
            f"{old_file}: output_dir holds checkpoints of a run with a different config ({diff}"
            f"{', ...' if len(changed) > 6 else ''}); pass a fresh output_dir=..., or train.resume=false to start over"
        )


def _check_output_dir(workdir: Path) -> None:
    """Refuse an ``output_dir`` that is a file, lies under a file, or cannot be written, before any work."""
    import os

    for parent in [workdir, *workdir.parents]:
        if parent.exists():
            if not parent.is_dir():
                what = "is a file" if parent == workdir else f"lies under {parent}, which is a file"
                raise ConfigError(f"output_dir={workdir} {what}; pass output_dir=<a folder>")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise ConfigError(
                    f"output_dir={workdir}: {parent} is not writable; pass output_dir=<a writable folder>"
                )
            return


def run_config(cfg: RunConfig, argv: list[str] | None = None) -> Path:
    """Write the run info, run the experiment and write its ``metrics.json``; return the folder."""
    import jax

    workdir = Path(cfg.output_dir)
    _check_output_dir(workdir)
    primary = jax.process_index() == 0
    config = cfg.to_dict()
    if primary and _fresh_start(config):
        moved = move_aside(workdir)  # the earlier run's checkpoints and results: kept, out of the way
        if moved is not None:
            log.warning("train.resume=false: the previous run in %s was moved to %s", workdir, moved)
    check_resumable(workdir, config)
    fingerprint = config_fingerprint(config)
    if primary:
        write_run_info(workdir, config, cfg.seed, argv)
        write_state(workdir, "running", fingerprint=fingerprint)
    try:
        metrics = experiment_module(cfg.experiment).run(cfg, workdir)
    except BaseException as err:
        if primary:
            write_state(workdir, "failed", fingerprint=fingerprint, reason=f"{type(err).__name__}: {err}"[:500])
        raise
    if primary:
        write_metrics(workdir, metrics or {})
        write_state(workdir, "finished", fingerprint=fingerprint)
    return workdir


def _fresh_start(config: dict) -> bool:
    """Every trainer of the run has ``resume: false``."""
    flags = [v for k, v in _flatten(config).items() if k.rsplit(".", 1)[-1] == "resume"]
    return bool(flags) and all(v is False for v in flags)


def config_fingerprint(config: dict) -> str:
    """sha256 of the config without the keys a resumed run may change (:data:`RESUMABLE_CHANGES`)."""
    flat = {k: v for k, v in _flatten(config).items() if k.rsplit(".", 1)[-1] not in RESUMABLE_CHANGES}
    return digest(flat)


def run(config: str | Path, overrides: list[str] | None = None) -> Path:
    """Load ``config`` (a path or a config name, see :mod:`hepjax.config.loader`) with ``overrides`` and run it."""
    return run_config(load_config(config, overrides))
