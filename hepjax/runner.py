"""Run an experiment from a config: the body of ``hepjax run``."""

from __future__ import annotations

import dataclasses
import importlib
import logging
import re
from pathlib import Path

import yaml

from hepjax.config import ConfigError, RunConfig, apply_overrides, build, param, resolve_config_path
from hepjax.config.loader import read_yaml, shipped_configs, shipped_studies, studies_package, yaml_error_line
from hepjax.data.cache import digest
from hepjax.runinfo import move_aside, write_metrics, write_run_info, write_state

log = logging.getLogger(__name__)


_MODULE_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _import(module: str):
    """Import ``module``; None if it (or a package on its path) does not exist."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        parts = module.split(".")
        if err.name in {".".join(parts[: i + 1]) for i in range(len(parts))}:
            return None
        raise  # the module exists but imports something missing: a broken study, keep the traceback


def experiment_module(name: str):
    """The study module that ``experiment: name`` means; it must define ``Config`` and ``run``.

    ``name`` is a shipped study (``demo``) or an import path (``mystudy``, ``mypkg.mystudy``) of a module
    on ``sys.path``.

    Raises:
      ConfigError: ``name`` is not a module path, no such module exists, or it lacks ``Config``/``run``.
    """
    if not isinstance(name, str) or not _MODULE_PATH.match(name):
        raise ConfigError(f"experiment {name!r} must be a study name (demo) or a module path (mypkg.mystudy)")
    mod = None
    if "." not in name:
        mod = _import(f"{studies_package()}.{name}")
    if mod is None:
        mod = _import(name)
    if mod is None:
        raise ConfigError(
            f"unknown experiment {name!r}: no shipped study of that name (see `hepjax list`) and no importable "
            f"module {name!r} (is its package on PYTHONPATH?)"
        )
    if not hasattr(mod, "Config") or not hasattr(mod, "run"):
        raise ConfigError(f"experiment {name!r} ({mod.__file__}) must define Config and run(config, workdir)")
    return mod


def load_config(name_or_path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Load a YAML config, apply overrides and validate it against its experiment's ``Config``.

    Raises:
      ConfigError: missing file, bad YAML, unknown experiment/key, wrong type or bad range;
        the message names the key and the file.
    """
    path = resolve_config_path(name_or_path)
    source = str(path)
    try:
        raw = read_yaml(path.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: not valid YAML: {yaml_error_line(err)}") from None
    except ConfigError as err:
        raise ConfigError(f"{source}: {err}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: top level must be a mapping")
    raw = apply_overrides(raw, list(overrides or []), source)
    header = build(_Header, {k: raw.pop(k) for k in ("experiment", "seed", "output_dir") if k in raw}, source=source)
    mod = experiment_module(header.experiment)
    sections = build(mod.Config, raw, source=source)
    out = header.output_dir or str(Path("results") / Path(path.name).stem)
    return RunConfig(header.experiment, header.seed, out, source, sections)


@dataclasses.dataclass(frozen=True)
class _Header:
    experiment: str = param(dataclasses.MISSING, doc="a shipped study (demo) or a module path (mypkg.mystudy)")
    seed: int = param(0, ge=0, doc="master seed; every random stream derives from it")
    output_dir: str = param("", doc="results folder (default results/<config name>)")


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
