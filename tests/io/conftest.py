"""Fixtures of the reader/writer tests."""

import numpy as np
import pytest

from hepjax.data.sample import EventSample
from tests.io.samples import random_events


@pytest.fixture
def odd_sample():
    """A sample whose padding is not zero and whose masks are not prefixes (what smearing can leave)."""
    rng = np.random.default_rng(3)
    n, P = 11, 5
    p = random_events(n, 1, P)
    p = p._replace(pt=rng.normal(size=(n, P)).astype(np.float32), mask=rng.random((n, P)) < 0.5)
    p.eta[0, 0] = np.float32("nan")
    partons = random_events(n, 2, 3)
    w = rng.normal(size=n) * 1e-30
    return EventSample(p, partons, w, {"process": "toy", "seed": 3, "n_events": n})
