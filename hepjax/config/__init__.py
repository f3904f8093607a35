"""Experiment configuration: YAML files validated into typed, frozen dataclasses."""

from hepjax.config.loader import (
    RunConfig,
    apply_overrides,
    experiment_module,
    load_config,
    parse_override,
    resolve_config_path,
    shipped_configs,
    shipped_studies,
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
    "shipped_configs",
    "shipped_studies",
    "to_dict",
]
