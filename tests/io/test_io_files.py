"""read_events dispatches on the suffix; every format gives back the same sample."""

import numpy as np
import pytest

from hepjax.errors import DataError

pytest.importorskip("pyarrow")
pytest.importorskip("uproot")
pytest.importorskip("pyhepmc")
pytest.importorskip("particle")
from hepjax.io import file_format, iter_events, read_events, write_hepmc3, write_parquet, write_root
from tests.io.samples import random_events, same_bits


def test_each_suffix_reads_back_the_sample(tmp_path):
    p = random_events(12, seed=9)
    w = np.linspace(1, 2, 12)
    exact = [write_parquet(tmp_path / "s.parquet", p, w), write_root(tmp_path / "s.root", p, w)]
    for path in exact:
        s = read_events(path, chunk_size=5)
        assert same_bits(s.particles, p) and np.array_equal(s.weights, w), path
        assert [len(c.weights) for c in iter_events(path, chunk_size=5)] == [5, 5, 2]
    h = read_events(write_hepmc3(tmp_path / "s.hepmc3", p, w), max_particles=p.mask.shape[1])
    np.testing.assert_allclose(h.particles.pt, p.pt, rtol=1e-6) and np.testing.assert_array_equal(h.weights, w)
    assert file_format("a/b.hepmc.gz") == "hepmc3" and file_format("x.PQ") == "parquet"
    with pytest.raises(DataError, match="events.csv: unknown event-file suffix"):
        read_events(tmp_path / "events.csv")


def test_a_config_sample_can_come_from_a_file(tmp_path):
    from hepjax.config import build
    from hepjax.data import SampleConfig, generate_from_config

    p = random_events(12, seed=4)
    w = np.linspace(1, 2, 12)
    path = write_parquet(tmp_path / "mine.parquet", p, w)
    cfg = build(SampleConfig, {"file": str(path), "n_events": 7, "max_particles": p.mask.shape[1] + 3})
    s = generate_from_config(cfg)
    assert s.info["source_file"] == str(path) and s.info["n_events"] == 7
    np.testing.assert_array_equal(s.weights, w[:7])
    np.testing.assert_array_equal(s.particles.pt[:, : p.mask.shape[1]], p.pt[:7])
    assert s.particles.mask.shape == (7, p.mask.shape[1] + 3) and not s.particles.mask[:, -3:].any()
    with pytest.raises(DataError, match="mine.parquet: holds 12 events, the config asks for n_events=20"):
        generate_from_config(build(SampleConfig, {"file": str(path), "n_events": 20}))
