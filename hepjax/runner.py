"""Run an experiment from a config: the body of ``hepjax run``."""
from __future__ import annotations

import pkgutil
from pathlib import Path

from hepjax.config import RunConfig, experiment_module, load_config
from hepjax.config.loader import CONFIG_DIR
from hepjax.runinfo import write_metrics, write_run_info


def list_experiments() -> list[str]:
    import experiments

    return sorted(m.name for m in pkgutil.iter_modules(experiments.__path__) if not m.name.startswith("_"))


def list_configs() -> list[Path]:
    return sorted(CONFIG_DIR.glob("*.yaml"))


def run_config(cfg: RunConfig, argv: list[str] | None = None) -> Path:
    """Write the run info, run the experiment and write its ``metrics.json``; return the folder."""
    import jax

    workdir = Path(cfg.output_dir)
    primary = jax.process_index() == 0
    if primary:
        write_run_info(workdir, cfg.to_dict(), cfg.seed, argv)
    metrics = experiment_module(cfg.experiment).run(cfg, workdir)
    if primary:
        write_metrics(workdir, metrics or {})
    return workdir


def run(config: str | Path, overrides: list[str] | None = None) -> Path:
    """Load ``config`` (a path or a name in ``configs/``) with ``overrides`` and run it."""
    return run_config(load_config(config, overrides))
