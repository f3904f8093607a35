"""A cache that cannot take the events fails before Pythia runs, and a failed save loses nothing."""

import errno
import importlib

import numpy as np
import pytest

from hepjax.data import CacheWarning, generate
from hepjax.data import cache as sample_cache

gen = importlib.import_module("hepjax.data.generate")  # the module, not the function of that name


def _no_pythia(*a, **k):
    raise AssertionError("Pythia ran although the cache could not take its events")


def test_cache_path_that_is_a_file_fails_before_generation(tmp_path, monkeypatch):
    monkeypatch.setattr(gen, "_run_chunks", _no_pythia)
    blocker = tmp_path / "cache"
    blocker.write_text("not a folder")
    with pytest.raises(sample_cache.CacheError, match=r"cache directory .*cache/samples: .*cache is a file"):
        generate("z_ll", 3, 0, cache_dir=blocker, progress=False)


def test_unwritable_cache_fails_before_generation(tmp_path, monkeypatch):
    monkeypatch.setattr(gen, "_run_chunks", _no_pythia)
    with pytest.raises(sample_cache.CacheError, match=r"is not writable .* set HEPJAX_CACHE_DIR"):
        generate("z_ll", 3, 0, cache_dir="/proc/hepjax-cache", progress=False)


def test_a_failed_save_keeps_the_events_in_a_rescue_file(tmp_path, monkeypatch):
    def full_disk(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sample_cache, "save_sample", full_disk)
    with pytest.warns(CacheWarning, match=r"could not save the sample .* the events are kept in (\S+)") as rec:
        sample = generate("z_ll", 3, 0, cache_dir=tmp_path, progress=False)
    rescued = str(rec[0].message).rsplit(" ", 1)[-1]
    with np.load(rescued) as z:
        kept = z["particles/pt"]
    pt = np.asarray(sample.particles.pt)[np.asarray(sample.particles.mask)]
    np.testing.assert_array_equal(np.sort(kept), np.sort(pt))
