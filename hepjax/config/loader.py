"""YAML experiment configs: load, apply ``key.sub=value`` overrides, validate into dataclasses.

A config file names its experiment and gives that experiment's sections::

    experiment: demo          # a shipped study (hepjax.studies.demo), or an import path: mypkg.mystudy
    seed: 0
    output_dir: results/demo  # optional, default results/<config name>
    data: {n_events: 2000}
    train: {steps: 300, batch_size: 128}

The experiment module defines ``Config`` (a frozen dataclass of its sections) and
``run(config: RunConfig, workdir: Path) -> dict``.

Where things are found
----------------------
``hepjax run CONFIG`` looks for CONFIG, in this order:

1. the path as given (``configs/demo.yaml``, ``../my.yaml``);
2. ``configs/CONFIG.yaml`` (or ``configs/CONFIG``) under the current directory;
3. the configs shipped with hepjax (:func:`shipped_configs`).

The error for a config found nowhere lists the places searched.

``experiment: NAME`` is a shipped study if one has that name (:func:`shipped_studies`), else an
importable module: a study of your own package (``mypkg.mystudy``) runs through the same runner.

The shipped studies and configs live at the top of the repository (``experiments/``, ``configs/``);
an installed wheel carries them as ``hepjax.studies`` and ``hepjax/configs/`` (see ``pyproject.toml``),
so no generic top-level ``experiments`` package lands in site-packages. Run from a source checkout
(``hepjax`` imported from ``<repo>/hepjax``), the checkout's own ``experiments`` and ``configs/`` are
used, so that the code being edited is the code that runs.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.resources
import importlib.util
import pkgutil
import re
from pathlib import Path
from typing import Any

import yaml

from hepjax.config.schema import ConfigError, to_dict


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads ``3e-4`` as a float (YAML 1.2; YAML 1.1 wants ``3.0e-4``) and refuses a
    key written twice in one mapping (PyYAML silently keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConfigError(
                    f"key {key!r} is written twice (lines {seen[key]} and {key_node.start_mark.line + 1}); keep one"
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def read_yaml(text: str):
    return yaml.load(text, Loader=_Loader)


def yaml_error_line(err: yaml.YAMLError) -> str:
    """One line with the line, column (1-based) and cause of a YAML syntax error."""
    mark = getattr(err, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    context = getattr(err, "context", None)
    return f"{where}{problem}" + (f" ({context})" if context else "")


def _source_checkout() -> Path | None:
    """The repository root when ``hepjax`` is imported from a source checkout, else None (a wheel)."""
    import hepjax

    root = Path(hepjax.__file__).resolve().parents[1]
    if (root / "pyproject.toml").is_file() and (root / "experiments" / "__init__.py").is_file():
        return root
    return None


def studies_package() -> str:
    """The package holding the shipped studies: ``experiments`` in a source checkout, else ``hepjax.studies``.

    The checkout's ``experiments`` is used only when it is importable from that same checkout, so another
    ``experiments`` package on ``sys.path`` (the user's own) is never mistaken for the shipped studies.
    """
    root = _source_checkout()
    if root is not None:
        spec = importlib.util.find_spec("experiments")
        locations = (spec.submodule_search_locations or []) if spec else []
        if any(Path(p).resolve() == root / "experiments" for p in locations):
            return "experiments"
    return "hepjax.studies"


def shipped_studies() -> list[str]:
    """Names of the studies shipped with hepjax (``demo``, ``tracking``, ...), sorted."""
    pkg = importlib.import_module(studies_package())
    return sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if not m.name.startswith("_"))


def shipped_config_dir():
    """The folder of shipped configs: ``<checkout>/configs``, or ``hepjax/configs`` in an installed wheel.

    Returns a :class:`pathlib.Path` or an :class:`importlib.resources.abc.Traversable`.
    """
    root = _source_checkout()
    if root is not None and (root / "configs").is_dir():
        return root / "configs"
    return importlib.resources.files("hepjax").joinpath("configs")


def shipped_configs() -> list:
    """The shipped ``*.yaml`` configs (paths or Traversables with ``.name`` and ``.read_text()``), by name."""
    folder = shipped_config_dir()
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.name.endswith(".yaml") and p.is_file()), key=lambda p: p.name)


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


def resolve_config_path(name_or_path: str | Path):
    """Find a config: the path as given, then ``./configs/``, then the shipped configs (module docstring).

    Returns a :class:`pathlib.Path`, or a Traversable for a config inside an installed wheel.

    Raises:
      ConfigError: found nowhere; the message lists every place searched.
    """
    text = str(name_or_path)
    p = Path(text)
    if p.is_file():
        return p
    names = [text] if text.endswith((".yaml", ".yml")) else [f"{text}.yaml", text]
    searched = [str(p)]
    local = Path("configs")
    for name in names:
        cand = local / name
        searched.append(str(cand))
        if cand.is_file():
            return cand
    shipped = shipped_config_dir()
    for name in names:
        # a name with a folder in it (configs/demo.yaml) is looked up by its file name among the shipped ones
        cand = shipped.joinpath(Path(name).name)
        searched.append(f"{cand} (shipped)")
        if cand.is_file():
            return cand
    raise ConfigError(f"{text}: config file not found (searched: {', '.join(dict.fromkeys(searched))})")


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
        raise ConfigError(f"override {text!r}: value is not valid YAML ({yaml_error_line(err)})") from None
    return parts, value


def apply_overrides(data: dict, overrides: list[str], source: str) -> dict:
    """Return a copy of ``data`` with each override set; only existing sections may be entered."""
    import copy

    data = copy.deepcopy(data)
    given: set[str] = set()
    for text in overrides:
        parts, value = parse_override(text)
        dotted = ".".join(parts)
        if dotted in given:
            raise ConfigError(f"{source}: override {dotted} is given twice; keep one")
        given.add(dotted)
        node = data
        for i, part in enumerate(parts[:-1]):
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"{source}: override {text}: {'.'.join(parts[: i + 1])} is not a section")
            node = nxt
        node[parts[-1]] = value
    return data
