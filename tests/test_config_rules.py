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
    from hepjax.config import load_config

    with pytest.raises(ConfigError, match=keys):
        load_config(config, overrides)
