"""Typed, frozen configuration dataclasses built from plain dicts with precise errors.

Every experiment declares its configuration as nested frozen dataclasses. Fields carry
their constraints in ``param(...)`` metadata so that a bad value is reported with the
dotted key and the file it came from::

    @dataclasses.dataclass(frozen=True)
    class Optim:
        lr: float = param(1e-3, gt=0.0, doc="learning rate")
        schedule: Literal["constant", "cosine"] = param("cosine")

    build(Optim, {"lr": -1}, source="configs/demo.yaml", prefix="train.optim")
    # ConfigError: configs/demo.yaml: train.optim.lr = -1 must be > 0.0
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from typing import Any, Literal, Union

from hepjax.errors import ConfigError  # re-exported: hepjax.config.ConfigError is this class


class CrossFieldError(Exception):
    """Raised by a config section's ``validate()`` when fields disagree; :func:`build` names the keys.

    ``keys`` are field names of the section that raised it (``build`` adds the section's dotted prefix
    and the file), e.g. ``raise CrossFieldError(("jet_pt_min", "jet_pt_max"), "must satisfy min < max")``.
    """

    def __init__(self, keys: tuple[str, ...], message: str):
        super().__init__(message)
        self.keys, self.message = tuple(keys), message


def param(
    default: Any = dataclasses.MISSING,
    *,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    choices: tuple | None = None,
    doc: str = "",
) -> Any:
    """A dataclass field with range/choice constraints checked by :func:`build`.

    Mutable defaults (lists, dicts) are not allowed: use tuples, which keep configs hashable.
    """
    if isinstance(default, (list, dict, set)):
        raise TypeError("config defaults must be immutable; use a tuple")
    meta = {"ge": ge, "gt": gt, "le": le, "lt": lt, "choices": choices, "doc": doc}
    return dataclasses.field(default=default, metadata=meta)


def section(cls: type, **defaults: Any) -> Any:
    """A nested dataclass field whose default is ``cls(**defaults)``.

    ``defaults`` are this section's own defaults (e.g. ``section(SampleConfig, process="ttbar")``):
    keys a config file leaves out of the section take them, not the class defaults.
    """
    if not defaults:
        return dataclasses.field(default_factory=cls)
    return dataclasses.field(
        default_factory=functools.partial(cls, **defaults), metadata={"section_defaults": defaults}
    )


def _where(source: str | None, key: str) -> str:
    return f"{source}: {key}" if source else key


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(tp: Any, value: Any, key: str, source: str | None, defaults: dict | None = None) -> Any:
    """Check ``value`` against the annotation ``tp``; return it in canonical form.

    ``defaults``: a nested section's own defaults (:func:`section`), filled in for keys ``value`` lacks.
    """
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    where = _where(source, key)

    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a mapping (section {tp.__name__}), got {value!r}")
        return build(tp, {**(defaults or {}), **value}, source=source, prefix=key)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arm in args:
            if arm is type(None):
                continue
            try:
                return _coerce(arm, value, key, source)
            except ConfigError as err:  # try the next arm
                errors.append(str(err))
        raise ConfigError(f"{where} = {value!r} does not match {_type_name(tp)}")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{where} = {value!r} must be one of {list(args)}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list, got {type(value).__name__} {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, f"{key}[{i}]", source) for i, v in enumerate(value))
        if len(args) != len(value):
            raise ConfigError(f"{where} must have {len(args)} entries, got {len(value)}")
        return tuple(_coerce(a, v, f"{key}[{i}]", source) for i, (a, v) in enumerate(zip(args, value)))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where} must be a bool (true/false), got {type(value).__name__} {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where} must be an int, got {type(value).__name__} {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where} must be a float, got {type(value).__name__} {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{where} must be finite, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where} must be a string, got {type(value).__name__} {value!r}")
        return value
    raise TypeError(f"unsupported config annotation {tp!r} at {key}")


def _check_range(f: dataclasses.Field, value: Any, key: str, source: str | None) -> None:
    m = f.metadata
    if not m or value is None:
        return
    where = _where(source, key)
    if m.get("choices") is not None and value not in m["choices"]:
        raise ConfigError(f"{where} = {value!r} must be one of {list(m['choices'])}")
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        for name, ok, sym in (
            ("ge", lambda a, b: a >= b, ">="),
            ("gt", lambda a, b: a > b, ">"),
            ("le", lambda a, b: a <= b, "<="),
            ("lt", lambda a, b: a < b, "<"),
        ):
            bound = m.get(name)
            if bound is not None and not ok(v, bound):
                raise ConfigError(f"{where} = {value!r} must be {sym} {bound}")


def build(cls: type, data: dict | None, *, source: str | None = None, prefix: str = "") -> Any:
    """Build the frozen dataclass ``cls`` from ``data``, checking keys, types and ranges.

    Args:
      cls: a dataclass type whose fields are annotated with supported types (bool, int,
        float, str, Literal, Optional/Union, tuple[...], nested dataclasses).
      data: mapping of field name to value; missing fields take their defaults.
      source: file name used in error messages.
      prefix: dotted key of this section, used in error messages.

    Raises:
      ConfigError: naming the dotted key and ``source`` for an unknown key, a wrong type,
        a missing required value or a value outside its range; naming both keys when the
        section's optional ``validate()`` method raises :class:`CrossFieldError`.
    """
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ConfigError(f"{_where(source, prefix or '<root>')} must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        key = f"{prefix}.{unknown[0]}" if prefix else unknown[0]
        raise ConfigError(
            f"{_where(source, key)}: unknown key (section {prefix or '<root>'} accepts: {', '.join(sorted(fields))})"
        )
    kwargs = {}
    for name, f in fields.items():
        key = f"{prefix}.{name}" if prefix else name
        if name in data:
            value = _coerce(hints[name], data[name], key, source, f.metadata.get("section_defaults"))
        elif f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            value = f.default_factory()  # type: ignore[misc]
        else:
            raise ConfigError(f"{_where(source, key)}: required key is missing")
        _check_range(f, value, key, source)
        kwargs[name] = value
    obj = cls(**kwargs)
    validate = getattr(obj, "validate", None)
    if callable(validate):  # cross-field rules of the section, checked before any work starts
        try:
            validate()
        except CrossFieldError as err:
            keys = " and ".join(f"{prefix}.{k}" if prefix else k for k in err.keys)
            values = ", ".join(f"{k} = {_dotted(obj, k)!r}" for k in err.keys if _dotted(obj, k) is not _NONE)
            raise ConfigError(
                f"{_where(source, keys)}: {err.message}" + (f" (got {values})" if values else "")
            ) from None
    return obj


_NONE = object()


def _dotted(obj: Any, key: str) -> Any:
    """``obj.a.b`` for ``key = "a.b"`` (a cross-field rule may name keys of nested sections); ``_NONE`` if absent."""
    for part in key.split("."):
        obj = getattr(obj, part, _NONE)
        if obj is _NONE:
            break
    return obj


def to_dict(cfg: Any) -> Any:
    """Plain-Python (YAML/JSON-ready) view of a config dataclass; tuples become lists."""
    if dataclasses.is_dataclass(cfg):
        return {f.name: to_dict(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)}
    if isinstance(cfg, (tuple, list)):
        return [to_dict(v) for v in cfg]
    return cfg
