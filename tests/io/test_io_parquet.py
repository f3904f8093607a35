"""Parquet round trips bit for bit, chunked == one-shot, foreign jagged files, damaged files."""

import numpy as np
import pytest

from hepjax.errors import DataError

pytest.importorskip("pyarrow")
ak = pytest.importorskip("awkward")
from hepjax.io import iter_parquet, read_parquet, to_awkward, write_parquet  # noqa: E402
from tests.io.samples import random_events, same_bits  # noqa: E402


def test_round_trip_is_bit_exact_padding_and_masks_included(tmp_path, odd_sample):
    path = write_parquet(tmp_path / "s.parquet", odd_sample, row_group_size=4)
    back = read_parquet(path)
    assert same_bits(back.particles, odd_sample.particles) and same_bits(back.partons, odd_sample.partons)
    assert back.weights.tobytes() == odd_sample.weights.tobytes()
    assert back.info["process"] == "toy" and back.info["source"] == str(path) and back.info["n_events"] == 11


def test_chunked_equals_one_shot(tmp_path, odd_sample):
    path = write_parquet(tmp_path / "s.parquet", odd_sample, row_group_size=4)
    chunks = list(iter_parquet(path, batch_size=3))
    assert [len(c.weights) for c in chunks] == [3, 3, 3, 2] or sum(len(c.weights) for c in chunks) == 11
    assert max(len(c.weights) for c in chunks) <= 3
    whole = read_parquet(path)
    joined = np.concatenate([c.particles.pt for c in chunks])
    assert joined.tobytes() == whole.particles.pt.tobytes()
    assert np.concatenate([c.particles.mask for c in chunks]).tobytes() == whole.particles.mask.tobytes()


def test_particles_with_weights_and_empty_sample(tmp_path):
    p = random_events(7, seed=5)
    w = np.arange(7.0)
    back = read_parquet(write_parquet(tmp_path / "p.parquet", p, w))
    assert same_bits(back.particles, p) and np.array_equal(back.weights, w) and back.partons.mask.shape == (7, 0)
    empty = read_parquet(write_parquet(tmp_path / "e.parquet", random_events(0)))
    assert empty.particles.mask.shape == (0, 6)


def test_foreign_jagged_parquet_through_from_awkward(tmp_path):
    p = random_events(20, seed=7)
    arr = ak.zip({"part": to_awkward(p, with_name=None), "w": np.linspace(0.5, 2.0, 20)}, depth_limit=1)
    ak.to_parquet(arr, tmp_path / "f.parquet", row_group_size=6)
    fields = {f: f"part.{f}" for f in ("pt", "eta", "phi", "mass", "pdg", "charge", "vx", "vy", "vz")}
    whole = read_parquet(tmp_path / "f.parquet", fields=fields, weight="w")
    assert same_bits(whole.particles, p) and np.array_equal(whole.weights, np.linspace(0.5, 2.0, 20))
    chunked = read_parquet(tmp_path / "f.parquet", batch_size=4, fields=fields, weight="w")
    assert same_bits(chunked.particles, p)
    with pytest.raises(DataError, match="no weight column 'weight'"):
        read_parquet(tmp_path / "f.parquet", fields=fields, weight="weight")


def test_bad_files_are_one_line_data_errors_naming_the_file(tmp_path, odd_sample):
    with pytest.raises(DataError, match="missing.parquet: no such file"):
        read_parquet(tmp_path / "missing.parquet")
    (tmp_path / "text.parquet").write_text("not parquet\n")
    with pytest.raises(DataError, match="text.parquet: not a readable parquet file"):
        read_parquet(tmp_path / "text.parquet")
    good = write_parquet(tmp_path / "good.parquet", odd_sample)
    data = good.read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="cut.parquet") as err:
        read_parquet(tmp_path / "cut.parquet")
    assert "\n" not in str(err.value)
    # a failed write leaves the earlier file as it was
    with pytest.raises(DataError, match="weights have shape"):
        write_parquet(good, odd_sample.particles, weights=np.ones(3))
    assert good.read_bytes() == data and not list(tmp_path.glob(".good*"))
