"""YAML experiment configs: load, apply ``key.sub=value`` overrides, validate into dataclasses.

A config file names its experiment and gives that experiment's sections::

    experiment: demo          # module experiments/demo.py
    seed: 0
    output_dir: results/demo  # optional, default results/<config name>
    data: {n_events: 2000}
    train: {steps: 300, batch_size: 128}

The experiment module defines ``Config`` (a frozen dataclass of its sections) and
``run(config: RunConfig, workdir: Path) -> dict``.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path
from typing import Any

import yaml

from hepjax.config.schema import ConfigError, build, param, to_dict

REPO_ROOT = Path(__file__).resolve().parents[2]


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``3e-4`` as a float (YAML 1.2; YAML 1.1 wants ``3.0e-4``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def read_yaml(text: str):
    return yaml.load(text, Loader=_Loader)


CONFIG_DIR = REPO_ROOT / "configs"


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """What every run has: the experiment name, the seed, where results go, and its own sections."""

    experiment: str
    seed: int
    output_dir: str
    source: str
    sections: Any  # the experiment's own ``Config`` dataclass

    def to_dict(self) -> dict:
        return {
            "experiment": self.experiment,
            "seed": self.seed,
            "output_dir": self.output_dir,
            **to_dict(self.sections),
        }


def resolve_config_path(name_or_path: str | Path) -> Path:
    """A path to an existing YAML file, or a bare name looked up in ``configs/``."""
    p = Path(name_or_path)
    if p.is_file():
        return p
    for cand in (CONFIG_DIR / f"{name_or_path}.yaml", CONFIG_DIR / str(name_or_path)):
        if cand.is_file():
            return cand
    raise ConfigError(f"{name_or_path}: config file not found (looked in . and {CONFIG_DIR})")


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"train.lr=3e-4"`` -> (["train", "lr"], 0.0003); the value is parsed as YAML."""
    if "=" not in text:
        raise ConfigError(f"override {text!r} must look like key.sub=value")
    key, raw = text.split("=", 1)
    parts = key.strip().split(".")
    if not all(parts):
        raise ConfigError(f"override {text!r} has an empty key part")
    try:
        value = read_yaml(raw) if raw.strip() else ""
    except yaml.YAMLError as err:
        raise ConfigError(f"override {text!r}: value is not valid YAML ({err})") from None
    return parts, value


def apply_overrides(data: dict, overrides: list[str], source: str) -> dict:
    """Return a copy of ``data`` with each override set; only existing sections may be entered."""
    import copy

    data = copy.deepcopy(data)
    for text in overrides:
        parts, value = parse_override(text)
        node = data
        for i, part in enumerate(parts[:-1]):
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"{source}: override {text}: {'.'.join(parts[: i + 1])} is not a section")
            node = nxt
        node[parts[-1]] = value
    return data


def experiment_module(name: str):
    """Import ``experiments.<name>``; it must define ``Config`` and ``run``."""
    try:
        mod = importlib.import_module(f"experiments.{name}")
    except ModuleNotFoundError as err:
        if err.name in (f"experiments.{name}", "experiments"):
            raise ConfigError(f"unknown experiment {name!r} (see `hepjax list`)") from None
        raise
    if not hasattr(mod, "Config") or not hasattr(mod, "run"):
        raise ConfigError(f"experiments/{name}.py must define Config and run(config, workdir)")
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
        raise ConfigError(f"{source}: not valid YAML ({err})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: top level must be a mapping")
    raw = apply_overrides(raw, list(overrides or []), source)
    header = build(_Header, {k: raw.pop(k) for k in ("experiment", "seed", "output_dir") if k in raw}, source=source)
    mod = experiment_module(header.experiment)
    sections = build(mod.Config, raw, source=source)
    out = header.output_dir or str(Path("results") / path.stem)
    return RunConfig(header.experiment, header.seed, out, source, sections)


@dataclasses.dataclass(frozen=True)
class _Header:
    experiment: str = param(dataclasses.MISSING, doc="module name under experiments/")
    seed: int = param(0, ge=0, doc="master seed; every random stream derives from it")
    output_dir: str = param("", doc="results folder (default results/<config name>)")
