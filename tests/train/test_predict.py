"""Chunked inference: equal to one call over everything, whatever the chunk size."""

import numpy as np
import pytest

from hepjax.train.predict import predict_in_chunks


@pytest.mark.parametrize("chunk", [1, 3, 7, 10, 64])
def test_chunks_match_a_single_call(chunk):
    rng = np.random.default_rng(0)
    data = {"x": rng.normal(size=(10, 3)).astype(np.float32), "y": np.arange(10.0, dtype=np.float32)}
    w = np.array([1.0, -2.0, 0.5], np.float32)

    def apply(p, b):
        return b["x"] @ p + b["y"]

    got = predict_in_chunks(apply, w, data, chunk)
    assert got.shape == (10,)
    np.testing.assert_allclose(got, data["x"] @ w + data["y"], rtol=1e-6)
