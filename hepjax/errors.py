"""One exception hierarchy for the errors a user can fix: bad input, a damaged file, a missing extra.

``hepjax`` (the command line) prints a :class:`HepjaxError` as one line and exits with status 2; any
other exception is a bug and keeps its traceback (exit 1). Each class also derives from the builtin
that the code raised before this hierarchy existed (``ValueError``, ``RuntimeError``,
``FileNotFoundError``, ``ImportError``), so an ``except`` written against the builtin still catches it.

    HepjaxError
    ├── ConfigError        a config value, file or override is unknown, mistyped or out of range
    ├── DataError          input data (events, samples) is missing or inconsistent
    ├── CacheError         a cache file exists but is unreadable, truncated or fails its checksum
    ├── CheckpointError    a run folder or checkpoint is missing or is not what was asked for
    └── MissingExtraError  an optional dependency is not installed; names the extra to install
"""

from __future__ import annotations


class HepjaxError(Exception):
    """Base of every error whose cause is the user's input or environment, not a bug in hepjax."""


class ConfigError(HepjaxError, ValueError):
    """A configuration value is unknown, mistyped or out of range; the message names key and file."""


class DataError(HepjaxError, ValueError):
    """Input data is missing, empty or inconsistent with what the study asks for."""


class CacheError(HepjaxError, RuntimeError):
    """A cache file exists but is unreadable, truncated or fails its checksum."""


class CheckpointError(HepjaxError, FileNotFoundError):
    """A run folder or checkpoint is missing, or holds something other than what was asked for."""


class MissingExtraError(HepjaxError, ImportError):
    """An optional dependency is missing; the message names the ``pip install 'hepjax[extra]'`` to run.

    Args:
      module: the module that failed to import, e.g. ``"torch"``.
      extra: the optional-dependency group of ``pyproject.toml`` that provides it, e.g. ``"bench"``.
      purpose: what needed it, e.g. ``"the tracking bench peer"``.
    """

    def __init__(self, module: str, extra: str, purpose: str = ""):
        self.module, self.extra = module, extra
        need = f" (needed by {purpose})" if purpose else ""
        super().__init__(f"{module} is not installed{need}: pip install 'hepjax[{extra}]'", name=module)


def is_concrete(*values) -> bool:
    """True when none of ``values`` is a JAX tracer, i.e. their contents can be checked now.

    Input checks that read array values (signs, ordering, finiteness) run only on concrete inputs; under
    ``jit``/``grad`` the values are abstract and the check is the caller's, made before tracing.
    """
    import jax  # here, not at the top: the CLI imports this module and must not start JAX for --help

    return not any(isinstance(v, jax.core.Tracer) for v in values)


__all__ = [
    "CacheError",
    "CheckpointError",
    "ConfigError",
    "DataError",
    "HepjaxError",
    "MissingExtraError",
    "is_concrete",
]
