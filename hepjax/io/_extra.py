"""Imports of the optional ``io`` extra: a missing library is a :class:`~hepjax.errors.MissingExtraError`."""

from __future__ import annotations

import importlib

from hepjax.errors import MissingExtraError


def require(module: str, purpose: str):
    """Import ``module`` (a library of the ``io`` extra) or raise MissingExtraError naming the extra."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] != module.split(".")[0]:
            raise  # the library is there but one of its own imports is broken: a real error, keep it
        raise MissingExtraError(module, "io", purpose) from err
