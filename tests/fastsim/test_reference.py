"""Reference showers are cached on disk: a second call reads the same showers back; a damaged file is refused."""

import numpy as np
import pytest

from hepjax.data.cache import CacheError
from hepjax.fastsim import CalorimeterConfig, reference_showers, simulate_showers
from hepjax.fastsim.reference import shower_cache_paths


def test_cache_round_trip_and_corruption(tmp_path):
    e, v, seconds = reference_showers(4, seed=3, low=1.0, high=2.0, cache_dir=tmp_path)
    assert v.shape == (4, 368) and seconds > 0
    # Independent check: the same showers straight from the cascade.
    np.testing.assert_array_equal(v, simulate_showers(e, seed=3).voxels)
    files = sorted((tmp_path / "showers").iterdir())
    assert len(files) == 2
    e2, v2, s2 = reference_showers(4, seed=3, low=1.0, high=2.0, cache_dir=tmp_path)
    np.testing.assert_array_equal(v2, v) and np.testing.assert_array_equal(e2, e)
    assert s2 == seconds  # read back, not re-simulated
    # A different calorimeter config is a different cache entry.
    reference_showers(4, seed=3, low=1.0, high=2.0, cfg=CalorimeterConfig(sampling_step=1.0), cache_dir=tmp_path)
    assert len(list((tmp_path / "showers").iterdir())) == 4
    npz = next(p for p in files if p.suffix == ".npz")
    npz.write_bytes(npz.read_bytes()[:-10])
    with pytest.raises(CacheError, match="checksum"):
        reference_showers(4, seed=3, low=1.0, high=2.0, cache_dir=tmp_path)
    assert shower_cache_paths(4, 3, "ab" * 20, tmp_path)[0].name.startswith("photons_n4_s3_")
