"""Imports point down and nothing happens at import (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import hepjax

ROOT = Path(__file__).resolve().parents[1]

# Layers, as docs/ARCHITECTURE.md draws them: a package may import its own layer's shared pieces listed
# here and anything in a lower layer; never an entry point. Keep this table and the doc's diagram equal.
CORE = {"config", "errors", "timing", "runtime", "runinfo", "plotting", "kinematics", "evaluation", "nn", "train"}
PHYSICS = {
    "data",
    "detector",
    "tracking",
    "flows",
    "fastsim",
    "morphing",
    "decorrelation",
    "tagging",
    "trigger",
    "hls",
    "anomaly",
    "design",
    "pflow",
    "unfolding",
    "stats",
    "io",
}
ENTRY = {"bench", "runner", "cli", "experiments"}
ALLOWED: dict[str, set[str]] = {
    **{pkg: CORE for pkg in CORE},
    **{pkg: CORE | PHYSICS for pkg in PHYSICS},
    "experiments": CORE | PHYSICS | {"runner"},
    "bench": CORE | PHYSICS | {"bench", "experiments", "runner"},
    "runner": CORE | PHYSICS | {"experiments"},
    "cli": CORE | PHYSICS | {"bench", "runner", "experiments"},
}
# Imports the rule forbids that exist today, each with its reason; this table may only shrink.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()


def _unit(module: str) -> str | None:
    """The package of the layer table a dotted module name belongs to (None: outside hepjax)."""
    parts = module.split(".")
    if parts[0] == "experiments":
        return "experiments"
    if parts[0] != "hepjax" or len(parts) == 1 or parts[1].startswith("__"):  # hepjax itself, hepjax.__version__
        return None
    return parts[1]


def _imports(path: Path, module: str) -> set[str]:
    """Every module ``path`` imports, at any depth (function-level included), plus
    ``importlib.import_module("...")`` calls on a string or f-string that starts with a module name."""
    tree = ast.parse(path.read_text(), filename=str(path))
    out: set[str] = set()
    pkg = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.add(name)
            out.update(f"{name}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module":
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                out.add(arg.value)
            elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
                out.add(str(arg.values[0].value).rstrip("."))
    return out


def _modules():
    for path in sorted((ROOT / "hepjax").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        yield path, ".".join(parts)
    for path in sorted((ROOT / "experiments").glob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        yield path, ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)


def test_imports_point_down():
    bad = []
    for path, module in _modules():
        src = _unit(module)
        if src is None or src not in ALLOWED:
            if src is not None:
                bad.append(f"{module}: package {src!r} missing from the layer table (add it to the doc and here)")
            continue
        for name in _imports(path, module):
            dst = _unit(name)
            if dst is None or dst == src or dst in ALLOWED[src] or (src, dst) in KNOWN_EXCEPTIONS:
                continue
            bad.append(f"{module} imports {name} ({src} -> {dst})")
    assert not bad, "imports that point up or sideways (docs/ARCHITECTURE.md):\n" + "\n".join(sorted(bad))


def test_the_checker_sees_function_level_and_dynamic_imports(tmp_path):
    src = tmp_path / "m.py"
    src.write_text(
        "import importlib\n"
        "def f(name):\n"
        "    from hepjax.bench.harness import run_area\n"
        "    return importlib.import_module(f'experiments.{name}')\n"
    )
    found = _imports(src, "hepjax.fastsim.m")
    assert "hepjax.bench.harness" in found and "experiments" in found
    assert _unit("hepjax.bench.harness") not in ALLOWED["fastsim"]


def test_no_library_module_writes_the_environment_or_picks_a_backend():
    bad = []
    for path, module in _modules():
        if _unit(module) in ENTRY or module == "hepjax":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            text = ast.unparse(node) if isinstance(node, (ast.Call, ast.Assign)) else ""
            if "matplotlib.use(" in text or "switch_backend(" in text or "rcParams.update(" in text:
                bad.append(f"{module}:{node.lineno}: {text[:80]}")
            if isinstance(node, ast.Assign) and any("os.environ[" in ast.unparse(t) for t in node.targets):
                # hepjax.runtime.configure_host writes XLA_FLAGS when an entry point calls it, never at import
                if module != "hepjax.runtime":
                    bad.append(f"{module}:{node.lineno}: {text[:80]}")
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("os.environ.setdefault", "os.putenv"):
                bad.append(f"{module}:{node.lineno}: {text[:80]}")
    assert not bad, "\n".join(bad)


def _packages() -> list[str]:
    return ["hepjax"] + sorted(
        f"hepjax.{m.name}" for m in pkgutil.iter_modules(hepjax.__path__) if m.name != "bench" and m.name != "cli"
    )


_PROBE = """
import json, os, sys
import matplotlib
import jax  # JAX itself sets TPU_SKIP_MDS_QUERY when imported: measured before, as it is not hepjax's doing
import importlib

def rc_now():
    return {k: repr(dict.__getitem__(matplotlib.rcParams, k)) for k in matplotlib.rcParams.keys()}

out = {}
for name in sys.argv[1:]:  # one after another: a change after an import is that import's doing
    env, rc = dict(os.environ), rc_now()
    importlib.import_module(name)
    rc_after, env_after = rc_now(), dict(os.environ)
    out[name] = {
        "env_changed": sorted(k for k in env.keys() | env_after.keys() if env.get(k) != env_after.get(k)),
        "rc_changed": sorted(k for k in rc if rc[k] != rc_after.get(k)),
    }
print(json.dumps(out))
"""


def test_every_public_package_imports_without_side_effects():
    """Import each package, one after another in a fresh interpreter (one interpreter: a JAX start-up per
    package cost minutes): the environment (but KERAS_BACKEND's setdefault, see hepjax/__init__.py),
    matplotlib's backend (``rcParams["backend"]``, read without resolving it) and every other rcParam stay
    as they were across each import."""
    env = {k: v for k, v in __import__("os").environ.items() if k != "KERAS_BACKEND"}
    env["PYTHONPATH"] = str(ROOT)
    packages = _packages()
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *packages], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, f"importing the packages failed:\n{out.stderr[-2000:]}"
    results = json.loads(out.stdout.strip().splitlines()[-1])
    assert list(results) == packages
    bad = []
    for pkg, res in results.items():
        env_changed = [k for k in res["env_changed"] if k != "KERAS_BACKEND"]
        if env_changed or res["rc_changed"]:
            bad.append(f"import {pkg}: environment {env_changed}, rcParams {res['rc_changed'][:8]}")
    assert not bad, "\n".join(bad)


def test_importing_hepjax_only_defaults_keras_to_jax(tmp_path):
    code = "import os; os.environ['KERAS_BACKEND'] = 'torch'; import hepjax; print(os.environ['KERAS_BACKEND'])"
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert out.stdout.strip() == "torch"
