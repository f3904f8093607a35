"""Experiment configuration: YAML files validated into typed, frozen dataclasses.

Reading a config against its study's schema (:func:`hepjax.runner.load_config`) belongs to the runner,
the entry point that may import the studies.
"""

from hepjax.config.loader import (
    RunConfig,
    apply_overrides,
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
    "param",
    "parse_override",
    "resolve_config_path",
    "section",
    "shipped_configs",
    "shipped_studies",
    "to_dict",
]
