"""Config loading: typed frozen dataclasses, overrides, and errors naming key and file."""

import dataclasses
import subprocess
import sys

import pytest

from hepjax.config import ConfigError, build, param, parse_override, section, to_dict
from hepjax.runner import load_config
from hepjax.train import TrainConfig


@dataclasses.dataclass(frozen=True)
class Inner:
    width: int = param(32, ge=1)
    act: str = param("relu", choices=("relu", "tanh"))


@dataclasses.dataclass(frozen=True)
class Outer:
    lr: float = param(1e-3, gt=0.0)
    sizes: tuple[int, ...] = param((1, 2), ge=1)
    name: str | None = param(None)
    inner: Inner = section(Inner)


def test_build_defaults_and_values():
    cfg = build(Outer, {"lr": 1, "sizes": [4, 5], "inner": {"width": 8}})
    assert cfg == Outer(lr=1.0, sizes=(4, 5), inner=Inner(width=8))
    assert isinstance(cfg.lr, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lr = 2.0  # type: ignore[misc]
    assert to_dict(cfg) == {"lr": 1.0, "sizes": [4, 5], "name": None, "inner": {"width": 8, "act": "relu"}}


@dataclasses.dataclass(frozen=True)
class TwoInners:
    a: Inner = section(Inner, width=4)
    b: Inner = section(Inner, act="tanh")


def test_section_defaults_fill_the_keys_a_file_leaves_out():
    assert TwoInners() == TwoInners(Inner(width=4), Inner(act="tanh"))
    assert build(TwoInners, {}) == TwoInners()
    # a partial section keeps the section's own defaults, not the class defaults
    cfg = build(TwoInners, {"a": {"act": "tanh"}, "b": {"width": 9}})
    assert cfg == TwoInners(Inner(width=4, act="tanh"), Inner(width=9, act="tanh"))
    with pytest.raises(ConfigError, match="f.yaml: a.width = 0 must be >= 1"):
        build(TwoInners, {"a": {"width": 0}}, source="f.yaml")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"lrr": 1}, "f.yaml: lrr: unknown key"),
        ({"inner": {"widht": 3}}, "f.yaml: inner.widht: unknown key"),
        ({"lr": "fast"}, "f.yaml: lr must be a float, got str 'fast'"),
        ({"lr": True}, "f.yaml: lr must be a float"),
        ({"lr": -1.0}, "f.yaml: lr = -1.0 must be > 0.0"),
        ({"inner": {"width": 0}}, "f.yaml: inner.width = 0 must be >= 1"),
        ({"inner": {"width": 2.5}}, "f.yaml: inner.width must be an int"),
        ({"inner": {"act": "gelu"}}, "f.yaml: inner.act = 'gelu' must be one of ['relu', 'tanh']"),
        ({"sizes": [1, 0]}, "f.yaml: sizes = (1, 0) must be >= 1"),
        ({"sizes": 3}, "f.yaml: sizes must be a list"),
        ({"inner": 3}, "f.yaml: inner must be a mapping"),
        ({"lr": float("nan")}, "f.yaml: lr must be finite"),
    ],
)
def test_build_errors_name_key_and_file(data, message):
    with pytest.raises(ConfigError) as err:
        build(Outer, data, source="f.yaml")
    assert message in str(err.value)


def test_override_parsing():
    assert parse_override("train.learning_rate=3e-4") == (["train", "learning_rate"], 3e-4)
    assert parse_override("a.b=[1, 2]") == (["a", "b"], [1, 2])
    assert parse_override("flag=true") == (["flag"], True)
    with pytest.raises(ConfigError, match="key.sub=value"):
        parse_override("novalue")


def _write(tmp_path, text, name="cfg.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_load_config_with_overrides(tmp_path):
    p = _write(tmp_path, "experiment: demo\nseed: 3\ntrain: {steps: 7, batch_size: 16}\n")
    cfg = load_config(p, ["train.steps=11", "seed=5"])
    assert cfg.experiment == "demo" and cfg.seed == 5
    assert isinstance(cfg.sections.train, TrainConfig)
    assert cfg.sections.train.steps == 11 and cfg.sections.train.batch_size == 16
    assert cfg.output_dir == "results/cfg"
    assert cfg.to_dict()["train"]["steps"] == 11


@pytest.mark.parametrize(
    "text, overrides, message",
    [
        ("experiment: demo\ntrain: {stepz: 3}\n", [], "cfg.yaml: train.stepz: unknown key"),
        ("experiment: demo\ntrain: {steps: 'many'}\n", [], "cfg.yaml: train.steps must be an int"),
        ("experiment: demo\ntrain: {learning_rate: 0}\n", [], "cfg.yaml: train.learning_rate = 0.0 must be > 0.0"),
        ("experiment: demo\n", ["train.steps=-1"], "cfg.yaml: train.steps = -1 must be >= 1"),
        ("experiment: demo\n", ["nosuchsection.x=1"], "cfg.yaml: nosuchsection: unknown key"),
        ("experiment: nosuch\n", [], "unknown experiment 'nosuch'"),
        ("seed: 1\n", [], "cfg.yaml: experiment: required key is missing"),
        ("experiment: demo\nseed: -4\n", [], "cfg.yaml: seed = -4 must be >= 0"),
        ("experiment: [demo\n", [], "cfg.yaml: not valid YAML"),
    ],
)
def test_load_config_errors(tmp_path, text, overrides, message):
    p = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(p, overrides)
    assert message in str(err.value)


def test_missing_file():
    with pytest.raises(ConfigError, match="nope.yaml: config file not found"):
        load_config("nope.yaml")


def test_every_shipped_config_validates():
    from hepjax.runner import list_configs

    configs = list_configs()
    assert any(p.stem == "demo" for p in configs)
    for path in configs:
        load_config(path)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "hepjax.cli", *args], capture_output=True, text=True, timeout=120)


def test_cli_bad_input_one_line_and_nonzero(tmp_path):
    p = _write(tmp_path, "experiment: demo\ntrain: {stepz: 3}\n")
    out = _cli("run", str(p))
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0
    assert "train.stepz: unknown key" in out.stderr
    out = _cli("bench", "nosuch", "--out", str(tmp_path / "x.json"))
    assert out.returncode == 2 and "unknown bench area 'nosuch'" in out.stderr


def test_cli_help_version_list():
    assert "hepjax 0.1.0" in _cli("--version").stdout
    for cmd in ("run", "list", "bench", "export-hls"):
        out = _cli(cmd, "--help")
        assert out.returncode == 0 and "usage: hepjax" in out.stdout
    out = _cli("list")
    assert out.returncode == 0 and "demo" in out.stdout


def _run_folder(tmp_path, config: dict):
    import yaml

    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    (tmp_path / "checkpoints" / "5").mkdir(parents=True)
    return tmp_path


def test_resume_refuses_checkpoints_of_a_different_config(tmp_path):
    from hepjax.runner import check_resumable

    old = {
        "experiment": "x",
        "seed": 0,
        "output_dir": "a",
        "data": {"n_events": 2500},
        "train": {"steps": 100, "resume": True},
    }
    folder = _run_folder(tmp_path, old)
    # more steps or another output_dir may resume
    check_resumable(folder, {**old, "output_dir": "b", "train": {"steps": 400, "resume": True}})
    new = {**old, "data": {"n_events": 8500}}
    with pytest.raises(ConfigError, match=r"config\.yaml.*data\.n_events: 2500 -> 8500.*fresh output_dir"):
        check_resumable(folder, new)
    check_resumable(folder, {**new, "train": {"steps": 100, "resume": False}})  # starting over is fine


def test_resume_check_ignores_folders_without_checkpoints(tmp_path):
    from hepjax.runner import check_resumable

    (tmp_path / "config.yaml").write_text("experiment: x\nseed: 1\n")
    check_resumable(tmp_path, {"experiment": "x", "seed": 2})
    check_resumable(tmp_path / "missing", {"experiment": "x"})
