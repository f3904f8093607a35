"""The ``hepjax`` command line as a user meets it: run in a subprocess, from a folder outside the repository."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

STUDY = '''
"""A study of the user's own, outside hepjax."""
import dataclasses

from hepjax.config import param


@dataclasses.dataclass(frozen=True)
class Config:
    factor: float = param(2.0, gt=0.0)
    fail: str = param("", choices=("", "RuntimeError", "ValueError"))


def run(config, workdir):
    fail = config.sections.fail
    if fail:
        raise {"RuntimeError": RuntimeError, "ValueError": ValueError}[fail]("deep inside the study")
    return {"value": 3.0 * config.sections.factor}
'''


@pytest.fixture
def user_dir(tmp_path):
    """A working folder with a user study module ``mystudy`` on PYTHONPATH (cwd of every command)."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "mystudy.py").write_text(textwrap.dedent(STUDY))
    (tmp_path / "work").mkdir()
    return tmp_path


def _cli(user_dir, *args):
    env = dict(os.environ)
    paths = [str(ROOT), str(user_dir / "src"), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    return subprocess.run(
        [sys.executable, "-m", "hepjax.cli", *args],
        cwd=user_dir / "work",
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _config(user_dir, text: str, name: str = "cfg.yaml") -> str:
    path = user_dir / "work" / name
    path.write_text(text)
    return str(path)


def _one_line_error(out, *needles):
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert out.stderr.strip().count("\n") == 0, out.stderr
    for needle in needles:
        assert needle in out.stderr, out.stderr


def test_list_shows_every_shipped_config(user_dir):
    out = _cli(user_dir, "list")
    assert out.returncode == 0, out.stderr
    for path in (ROOT / "configs").glob("*.yaml"):
        assert f"  {path.stem} " in out.stdout
    for path in (ROOT / "experiments").glob("[!_]*.py"):
        assert f"  {path.stem}\n" in out.stdout


def test_print_config_resolves_overrides_without_running(user_dir):
    out = _cli(user_dir, "run", "demo", "--print-config", "train.steps=7", "output_dir=nowhere")
    assert out.returncode == 0, out.stderr
    cfg = yaml.safe_load(out.stdout)
    assert cfg["experiment"] == "demo" and cfg["train"]["steps"] == 7 and cfg["output_dir"] == "nowhere"
    shipped = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text())
    assert cfg["signal"]["n_events"] == shipped["signal"]["n_events"] and cfg["signal"]["file"] is None
    assert not (user_dir / "work" / "nowhere").exists()
    _one_line_error(_cli(user_dir, "run", "demo", "--print-config", "train.stepz=3"), "train.stepz: unknown key")


def test_verbose_after_the_command(user_dir):
    out = _cli(user_dir, "run", "demo", "-v", "--print-config")
    assert out.returncode == 0, out.stderr
    out = _cli(user_dir, "run", "demo", "-v", "train.stepz=3")
    assert out.returncode == 2
    assert "Traceback" in out.stderr and "ConfigError" in out.stderr  # -v shows the traceback of a user error too
    assert out.stderr.strip().splitlines()[-1].startswith("hepjax: error:")


@pytest.mark.parametrize("experiment", ["no_such_pkg.study", "no_such_study", "../demo", "demo.py"])
def test_bad_experiment_is_one_line(user_dir, experiment):
    cfg = _config(user_dir, f"experiment: {json.dumps(experiment)}\n")
    _one_line_error(_cli(user_dir, "run", cfg), "experiment", repr(experiment))


def test_config_not_found_lists_searched_places(user_dir):
    out = _cli(user_dir, "run", "nope")
    _one_line_error(out, "nope: config file not found", "configs/nope.yaml", "(shipped)")


def test_yaml_syntax_error_keeps_line_column_and_cause(user_dir):
    cfg = _config(user_dir, "experiment: demo\ntrain: {steps: 3\n")
    _one_line_error(_cli(user_dir, "run", cfg), "not valid YAML", "line 3, column 1", "expected ',' or '}'")


def test_user_study_runs_through_the_runner(user_dir):
    out_dir = user_dir / "work" / "out"
    cfg = _config(user_dir, f"experiment: mystudy\noutput_dir: {out_dir}\nfactor: 5\n")
    out = _cli(user_dir, "run", cfg)
    assert out.returncode == 0, out.stderr
    assert json.loads((out_dir / "metrics.json").read_text())["value"] == 15.0
    assert yaml.safe_load((out_dir / "config.yaml").read_text())["experiment"] == "mystudy"


@pytest.mark.parametrize("error", ["RuntimeError", "ValueError"])
def test_unexpected_exception_keeps_its_traceback(user_dir, error):
    """A bug (even a ValueError deep in a study) is not a user error: traceback and exit 1."""
    cfg = _config(user_dir, f"experiment: mystudy\noutput_dir: {user_dir / 'work' / 'out'}\nfail: {error}\n")
    out = _cli(user_dir, "run", cfg)
    assert out.returncode == 1, out.stderr
    assert "Traceback" in out.stderr and f"{error}: deep inside the study" in out.stderr
    assert "mystudy.py" in out.stderr


def test_bench_help_lists_the_areas(user_dir):
    from hepjax.bench import list_areas

    out = _cli(user_dir, "bench", "--help")
    assert out.returncode == 0
    text = " ".join(out.stdout.split())
    assert f"Areas: {', '.join(list_areas())}." in text
    _one_line_error(_cli(user_dir, "bench", "nosuch", "--out", "x.json"), "unknown bench area 'nosuch'")
