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
