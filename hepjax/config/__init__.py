"""Experiment configuration: YAML files validated into typed, frozen dataclasses."""

from hepjax.config.loader import (
    RunConfig,
    apply_overrides,
    experiment_module,
    load_config,
    parse_override,
    resolve_config_path,
)
from hepjax.config.schema import ConfigError, CrossFieldError, build, param, section, to_dict

__all__ = [
    "ConfigError",
    "CrossFieldError",
    "RunConfig",
    "apply_overrides",
    "build",
    "experiment_module",
    "load_config",
    "param",
    "parse_override",
    "resolve_config_path",
    "section",
    "to_dict",
]
