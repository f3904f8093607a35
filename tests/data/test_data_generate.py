"""generate(): argument validation, caching, reproducibility, workers, corrupted cache files."""

import os
import warnings

import numpy as np
import pytest

from hepjax.data import PROCESSES, CacheError, CacheWarning, generate, qcd_settings, read_sample
from hepjax.data import cache as cache_mod


def assert_same_sample(a, b):
    for f in a.particles._fields:
        np.testing.assert_array_equal(getattr(a.particles, f), getattr(b.particles, f), err_msg=f"particles.{f}")
        np.testing.assert_array_equal(getattr(a.partons, f), getattr(b.partons, f), err_msg=f"partons.{f}")
    np.testing.assert_array_equal(a.weights, b.weights)


def test_unknown_process_lists_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="unknown process 'zee'") as e:
        generate("zee", 10, 1, cache_dir=tmp_path)
    for name in PROCESSES:
        assert name in str(e.value)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_events": 0}, "n_events"),
        ({"n_events": -3}, "n_events"),
        ({"n_events": 2.5}, "n_events"),
        ({"seed": -1}, "seed"),
        ({"workers": 0}, "workers"),
        ({"max_particles": 0}, "max_particles"),
        ({"sqrt_s": float("nan")}, "sqrt_s"),
        ({"sqrt_s": -13600.0}, "sqrt_s"),
        ({"settings": "Tune:pp = 14"}, "tuple"),
        ({"settings": ("Tune:pp 14",)}, "malformed"),
        ({"settings": ("NoSuchKey:atAll = 3",)}, "NoSuchKey:atAll"),
        ({"settings": ("Tune:pp = banana",)}, "Tune:pp"),
    ],
)
def test_bad_arguments_raise_clear_errors(tmp_path, kwargs, match):
    args = {"process": "z_ll", "n_events": 5, "seed": 1, "cache_dir": tmp_path, "progress": False} | kwargs
    with pytest.raises(ValueError, match=match):
        generate(**args)
    assert not (tmp_path / "samples").exists()  # nothing generated or cached


def test_qcd_settings_validation():
    assert qcd_settings(300, 500) == ("PhaseSpace:pTHatMin = 300.0", "PhaseSpace:pTHatMax = 500.0")
    assert qcd_settings(50)[1] == "PhaseSpace:pTHatMax = -1.0"
    with pytest.raises(ValueError, match="pthat_max"):
        qcd_settings(300, 200)
    with pytest.raises(ValueError, match="pthat_min"):
        qcd_settings(float("nan"))


def test_cache_round_trip(z_sample, cache_root):
    assert z_sample.info["from_cache"] is False
    assert os.path.exists(z_sample.info["cache_file"])
    again = generate("z_ll", 40, 11, cache_dir=cache_root, progress=False)
    assert again.info["from_cache"] is True
    assert_same_sample(z_sample, again)
    for k in ("cross_section_mb", "cross_section_err_mb", "pythia_version", "settings", "sqrt_s"):
        assert again.info[k] == z_sample.info[k]
    # the cache is plain numpy: counts + flat arrays
    with np.load(z_sample.info["cache_file"]) as z:
        counts = z["particles/counts"]
        assert counts.shape == (40,) and z["particles/pt"].shape == (counts.sum(),)
        np.testing.assert_array_equal(counts, z_sample.particles.mask.sum(1))


def test_read_sample_file_copied_elsewhere(z_sample, tmp_path):
    import shutil

    src = z_sample.info["cache_file"]
    dst = tmp_path / "copy.npz"
    shutil.copy(src, dst)
    shutil.copy(src[: -len(".npz")] + ".json", tmp_path / "copy.json")
    s = read_sample(dst)
    assert_same_sample(z_sample, s)
    assert s.info["process"] == "z_ll" and s.info["cache_file"] == str(dst)
    with open(dst, "r+b") as f:
        f.truncate(1000)
    with pytest.raises(CacheError, match="checksum"):
        read_sample(dst)


def test_info_fields(z_sample):
    info = z_sample.info
    assert info["process"] == "z_ll" and info["seed"] == 11 and info["n_events"] == 40
    assert info["pythia_version"].startswith("8.3")
    # LO sigma(Z) x BR(ee + mumu) at 13.6 TeV is a few nb = a few 1e-6 mb
    assert 1e-6 < info["cross_section_mb"] < 1e-5
    assert 0 < info["cross_section_err_mb"] < info["cross_section_mb"]
    assert info["generation_time_s"] > 0
    np.testing.assert_array_equal(z_sample.weights, 1.0)


def test_same_seed_same_events_different_seed_differs(z_sample, tmp_path):
    # fresh cache dir (MPI init regenerated too); events of a chunk do not depend on n_events
    same = generate("z_ll", 5, 11, cache_dir=tmp_path, progress=False)
    assert same.info["from_cache"] is False
    p = z_sample.particles
    width = same.particles.pt.shape[1]
    for f in p._fields:
        np.testing.assert_array_equal(getattr(same.particles, f), getattr(p, f)[:5, :width], err_msg=f)
    assert not p.mask[:5, width:].any()
    other = generate("z_ll", 5, 12, cache_dir=tmp_path, progress=False)
    assert other.particles.pt.shape != same.particles.pt.shape or not np.array_equal(
        other.particles.pt, same.particles.pt
    )
    assert not np.array_equal(other.partons.pt, same.partons.pt)


def _remove_samples(cache_dir):
    for f in (cache_dir / "samples").iterdir():
        f.unlink()


def test_workers_give_identical_events(tmp_path):
    kw = {"cache_dir": tmp_path, "progress": False, "chunk_size": 2}
    one = generate("h_tautau", 6, 3, workers=1, **kw)
    npz_one = open(one.info["cache_file"], "rb").read()
    _remove_samples(tmp_path)  # keep the MPI init file, regenerate the events
    two = generate("h_tautau", 6, 3, workers=2, **kw)
    assert two.info["from_cache"] is False and two.info["workers"] == 2
    assert_same_sample(one, two)
    assert open(two.info["cache_file"], "rb").read() == npz_one  # byte-identical cache file
    # chunks are seeded independently: events 0-1 (chunk 0) differ from 2-3 (chunk 1)
    assert not np.array_equal(one.partons.pt[:2], one.partons.pt[2:4])


def test_corrupted_cache_is_regenerated_with_warning(tmp_path):
    kw = {"cache_dir": tmp_path, "progress": False}
    ref = generate("h_tautau", 4, 9, **kw)
    npz = ref.info["cache_file"]
    meta = npz[: -len(".npz")] + ".json"
    size = os.path.getsize(npz)

    def damage_truncate():
        with open(npz, "r+b") as f:
            f.truncate(size // 2)

    def damage_flip():
        with open(npz, "r+b") as f:
            f.seek(size // 2)
            b = f.read(1)
            f.seek(size // 2)
            f.write(bytes([b[0] ^ 0xFF]))

    def damage_meta():
        with open(meta, "w") as f:
            f.write("{not json")

    def damage_missing_meta():
        os.unlink(meta)

    for damage in (damage_truncate, damage_flip, damage_meta, damage_missing_meta):
        damage()
        with pytest.warns(CacheWarning, match="regenerating"):
            again = generate("h_tautau", 4, 9, **kw)
        assert again.info["from_cache"] is False, damage.__name__
        assert_same_sample(ref, again)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the rewritten file is whole again
            assert generate("h_tautau", 4, 9, **kw).info["from_cache"] is True


def test_atomic_write_never_leaves_partial_file(tmp_path):
    target = tmp_path / "x.npz"

    def failing(f):
        f.write(b"half of a file")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache_mod.atomic_write(target, failing)
    assert list(tmp_path.iterdir()) == []
    cache_mod.atomic_write(target, lambda f: f.write(b"whole"))
    assert target.read_bytes() == b"whole" and list(tmp_path.iterdir()) == [target]


def test_max_particles_truncates_lowest_pt_with_warning(z_sample, cache_root):
    with pytest.warns(RuntimeWarning, match="max_particles=50"):
        small = generate("z_ll", 40, 11, cache_dir=cache_root, progress=False, max_particles=50)
    assert small.particles.pt.shape == (40, 50)
    assert small.info["n_truncated"] == int((z_sample.particles.mask.sum(1) > 50).sum()) > 0
    for f in small.particles._fields:
        np.testing.assert_array_equal(getattr(small.particles, f), getattr(z_sample.particles, f)[:, :50])


def test_user_settings_override_process_defaults(tmp_path):
    s = generate("qcd_dijet", 6, 2, settings=qcd_settings(300, 320), cache_dir=tmp_path, progress=False)
    # 2 -> 2 QCD: both outgoing hard partons (status 23, the first two) have pT = pT-hat
    hard_pt = s.partons.pt[:, :2]
    assert s.partons.mask[:, :2].all()
    assert (hard_pt > 299.9).all() and (hard_pt < 320.1).all()
    np.testing.assert_allclose(hard_pt[:, 0], hard_pt[:, 1], rtol=1e-4)
    assert s.info["settings"] == qcd_settings(300, 320)


def test_event_weights_follow_pythia_bias(tmp_path):
    # bias2Selection samples 2 -> 2 events with extra weight (pT-hat / pTRef)^4; the event weight is its
    # inverse, so weight * pT-hat^4 is the same for every event
    bias = ("PhaseSpace:bias2Selection = on", "PhaseSpace:bias2SelectionPow = 4")
    s = generate("qcd_dijet", 6, 4, settings=qcd_settings(50, None) + bias, cache_dir=tmp_path, progress=False)
    pthat = s.partons.pt[:, 0].astype(np.float64)
    assert s.weights.std() > 0 and (s.weights > 0).all()
    prod = s.weights * pthat**4
    np.testing.assert_allclose(prod, prod[0], rtol=1e-3)
