"""The package as a user installs it: a built wheel, not the checkout."""

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.tiny import DEMO_TINY

ROOT = Path(__file__).resolve().parents[1]

TINY_DEMO = list(DEMO_TINY)


def test_pyproject_lists_every_package():
    """The package-dir mapping needs an explicit package list; a new subpackage must be added to it."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "hepjax").rglob("__init__.py")}
    listed = set(setuptools["packages"])
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert setuptools["package-dir"] == {"hepjax.studies": "experiments", "hepjax.configs": "configs"}
    assert not any(p == "experiments" or p.startswith("experiments.") for p in listed)


def _run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out


@pytest.mark.slow
def test_installed_wheel_lists_and_runs_the_demo(tmp_path):
    # Build from a copy: an in-tree build folder left by an earlier build could leak stale files into the wheel.
    src = tmp_path / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "results", "__pycache__", ".*"),
    )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(src)])
    (wheel,) = (tmp_path / "dist").glob("hepjax-*.whl")
    site = tmp_path / "site"
    _run([*pip, "install", "--no-deps", "-q", "--target", str(site), str(wheel)])

    top = {p.name for p in site.iterdir()}
    assert "experiments" not in top and "configs" not in top, top
    assert {"hepjax", "bin"} <= top
    record = next(site.glob("hepjax-*.dist-info")).joinpath("RECORD").read_text()
    assert not any(line.startswith(("experiments/", "configs/")) for line in record.splitlines())
    assert "hepjax/configs/demo.yaml" in record and "hepjax/studies/demo.py" in record

    # Only the installed copy on the path, run from a folder that has no configs/ of its own.
    env = {**os.environ, "PYTHONPATH": str(site)}
    user = tmp_path / "user"
    user.mkdir()
    hepjax = (
        [str(site / "bin" / "hepjax")] if (site / "bin" / "hepjax").is_file() else [sys.executable, "-m", "hepjax.cli"]
    )
    out = _run([*hepjax, "list"], cwd=user, env=env)
    for path in (ROOT / "configs").glob("*.yaml"):
        assert f"  {path.stem} " in out.stdout and str(site / "hepjax" / "configs" / path.name) in out.stdout
    out = _run([*hepjax, "run", "demo", f"output_dir={user / 'demo'}", *TINY_DEMO], cwd=user, env=env)
    metrics = json.loads((user / "demo" / "metrics.json").read_text())
    assert 0.0 <= metrics["test_auc"] <= 1.0
    run_info = (user / "demo" / "config.yaml").read_text()
    assert "experiment: demo" in run_info
