"""Cross-field rules of config sections: one error naming both keys, before any work starts."""

import dataclasses

import pytest

from hepjax.config import ConfigError, CrossFieldError, build, param, section


@dataclasses.dataclass(frozen=True)
class _Data:
    jet_pt_min: float = param(20.0, ge=0.0)
    jet_pt_max: float = param(1000.0, gt=0.0)

    def validate(self):
        if self.jet_pt_min >= self.jet_pt_max:
            raise CrossFieldError(("jet_pt_min", "jet_pt_max"), "must satisfy jet_pt_min < jet_pt_max")


@dataclasses.dataclass(frozen=True)
class _Run:
    data: _Data = section(_Data)


def test_cross_field_rule_names_both_keys_and_the_file():
    assert build(_Run, {"data": {"jet_pt_min": 100.0}}).data.jet_pt_min == 100.0
    with pytest.raises(ConfigError) as err:
        build(_Run, {"data": {"jet_pt_min": 700, "jet_pt_max": 600}}, source="configs/x.yaml")
    msg = str(err.value)
    assert msg.startswith("configs/x.yaml: data.jet_pt_min and data.jet_pt_max: must satisfy")
    assert "jet_pt_min = 700.0, jet_pt_max = 600.0" in msg


@pytest.mark.parametrize(
    ("config", "overrides", "keys"),
    [
        ("demo", ["data.jet_pt_min=700", "data.jet_pt_max=600"], "data.jet_pt_min and data.jet_pt_max"),
        ("decorrelation", ["data.mass_min=300"], "data.mass_min and data.mass_max"),
        ("decorrelation", ["data.qcd_pthat_max=100"], "data.qcd_pthat_min and data.qcd_pthat_max"),
    ],
)
def test_study_windows_are_checked_before_any_event_is_generated(config, overrides, keys):
    from hepjax.runner import load_config

    with pytest.raises(ConfigError, match=keys):
        load_config(config, overrides)


def test_a_yaml_key_written_twice_is_refused_with_both_lines(tmp_path):
    from hepjax.runner import load_config

    path = tmp_path / "twice.yaml"
    path.write_text("experiment: demo\nseed: 1\nseed: 2\n")
    with pytest.raises(ConfigError, match=r"twice\.yaml: key 'seed' is written twice \(lines 2 and 3\)"):
        load_config(path)


def test_an_override_given_twice_is_refused():
    from hepjax.runner import load_config

    with pytest.raises(ConfigError, match=r"override train\.steps is given twice"):
        load_config("demo", ["train.steps=3", "train.steps=4"])


def test_output_dir_that_is_a_file_or_under_one_is_refused_before_any_work(tmp_path):
    from hepjax.runner import load_config, run_config

    afile = tmp_path / "results.txt"
    afile.write_text("not a folder")
    for out, what in [(afile, "is a file"), (afile / "run", "lies under")]:
        cfg = load_config("demo", [f"output_dir={out}"])
        with pytest.raises(ConfigError, match=f"output_dir=.* {what}"):
            run_config(cfg)
    assert afile.read_text() == "not a folder"
