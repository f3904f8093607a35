"""SampleConfig / JetConfig sections: validation through hepjax.config.build and equivalence."""

import numpy as np
import pytest

from hepjax.config import ConfigError, build
from hepjax.data import (
    JetConfig,
    SampleConfig,
    cluster_from_config,
    cluster_jets,
    generate,
    generate_from_config,
)


def test_sample_config_validates():
    cfg = build(SampleConfig, {"process": "z_ll", "n_events": 40, "seed": 11, "settings": ["Tune:pp = 14"]})
    assert cfg.settings == ("Tune:pp = 14",) and cfg.max_particles is None
    with pytest.raises(ConfigError, match="process"):
        build(SampleConfig, {"process": "zee"})
    with pytest.raises(ConfigError, match="n_events"):
        build(SampleConfig, {"n_events": 0})
    with pytest.raises(ConfigError, match="algorithm"):
        build(JetConfig, {"algorithm": "siscone"})


def test_from_config_equals_direct_calls(z_sample, cache_root):
    cfg = build(SampleConfig, {"process": "z_ll", "n_events": 40, "seed": 11, "cache_dir": str(cache_root)})
    s = generate_from_config(cfg, progress=False)
    assert s.info["from_cache"] is True  # same key as the fixture's sample
    np.testing.assert_array_equal(s.particles.pt, z_sample.particles.pt)
    jcfg = build(JetConfig, {"R": 0.6, "ptmin": 10.0, "max_constituents": 4})
    a, b = cluster_from_config(s.particles, jcfg), cluster_jets(s.particles, R=0.6, ptmin=10.0, max_constituents=4)
    np.testing.assert_array_equal(a.pt, b.pt)
    np.testing.assert_array_equal(a.constituents.pdg, b.constituents.pdg)


def test_settings_that_fail_pythia_init_raise_value_error(tmp_path):
    with pytest.raises(ValueError, match="failed to initialise"):
        generate("qcd_dijet", 2, 1, settings=("HardQCD:all = off",), cache_dir=tmp_path, progress=False)
