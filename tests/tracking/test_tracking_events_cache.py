"""Tracking events go through the one checksummed sample cache (hepjax.data.cache)."""

import dataclasses
import warnings

import numpy as np
import pytest

from hepjax.data import SampleConfig
from hepjax.detector.tracker import TrackerGeometry
from hepjax.errors import ConfigError
from hepjax.tracking.events import load_or_simulate


def _same(a, b):
    assert len(a) == len(b)
    for ea, eb in zip(a, b):
        for fa, fb in zip(ea.particles, eb.particles):
            np.testing.assert_array_equal(fa, fb)
        np.testing.assert_array_equal(ea.origin, eb.origin)
        for fa, fb in zip(ea.hits, eb.hits):
            np.testing.assert_array_equal(fa, fb)


def test_tracking_events_cached_checksummed_and_regenerated_when_corrupt(tmp_path):
    geo = TrackerGeometry()
    kw = dict(mu=0.0, progress=False)
    hard = SampleConfig("ttbar", 2, 5, cache_dir=str(tmp_path))
    first = load_or_simulate(hard, geo, **kw)
    files = sorted((tmp_path / "tracking").glob("*"))
    assert [f.suffix for f in files] == [".json", ".npz"]
    _same(first, load_or_simulate(hard, geo, **kw))  # from the cache
    npz = files[1]
    npz.write_bytes(npz.read_bytes()[:-100])  # truncated: fails its checksum
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        again = load_or_simulate(hard, geo, **kw)
    assert any("regenerating" in str(w.message) for w in caught)
    _same(first, again)


def test_tracking_events_from_a_file_equal_those_from_its_pythia_sample(tmp_path):
    pytest.importorskip("pyarrow")
    from hepjax.data import generate_from_config
    from hepjax.io import write_parquet

    geo = TrackerGeometry()
    hard = SampleConfig("ttbar", 2, 5, cache_dir=str(tmp_path / "cache"))
    path = write_parquet(tmp_path / "tt.parquet", generate_from_config(hard, progress=False))
    from_file = dataclasses.replace(hard, file=str(path), process="z_ll", seed=0)  # a file: process, seed unused
    _same(load_or_simulate(hard, geo, mu=0.0, progress=False), load_or_simulate(from_file, geo, mu=0.0, seed=5))
    with pytest.raises(ConfigError, match="pileup mu > 0 need a minimum-bias pileup sample"):
        load_or_simulate(hard, geo, mu=1.0)
