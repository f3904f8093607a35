"""The bridge's record of one layer call, and its error type."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any


class UnsupportedLayerError(ValueError):
    """The model holds a layer or operation the bridge cannot carry into Keras/hls4ml."""


@dataclasses.dataclass
class Node:
    """One recorded layer call: ``kind`` is the module class or function name."""

    name: str
    kind: str
    inputs: list[str]
    output: Any
    module: Any = None
    variables: Mapping = dataclasses.field(default_factory=dict)
    attrs: dict = dataclasses.field(default_factory=dict)
