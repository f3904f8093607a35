"""Flat (ragged) <-> padded conversion and the consistency check used on cache files."""

import numpy as np
import pytest

from hepjax.data import pad_events
from hepjax.data.sample import FLAT_FIELDS, check_flat, pad_flat, to_flat


def random_events(rng, n):
    out = []
    for _ in range(n):
        k = int(rng.integers(0, 7))
        out.append(
            {
                "pt": rng.uniform(1, 50, k),
                "eta": rng.normal(0, 2, k),
                "phi": rng.uniform(-3, 3, k),
                "mass": rng.uniform(0, 1, k),
                "pdg": rng.choice([211, -211, 22], k),
                "charge": rng.choice([-1.0, 0.0, 1.0], k),
                "vx": rng.normal(0, 1, k),
                "vy": rng.normal(0, 1, k),
                "vz": rng.normal(0, 1, k),
            }
        )
    return out


def test_flat_round_trip_equals_pad_events():
    events = random_events(np.random.default_rng(0), 12)
    padded = pad_events(events)
    flat = to_flat(padded, "particles")
    flat |= {k.replace("particles", "partons"): v for k, v in flat.items()} | {"weights": np.ones(12)}
    check_flat(flat, 12)
    back, n_trunc = pad_flat(flat, "particles")
    assert n_trunc == 0
    for f in padded._fields:
        np.testing.assert_array_equal(getattr(back, f), getattr(padded, f))


def test_pad_flat_truncates_with_warning():
    events = random_events(np.random.default_rng(1), 20)
    padded = pad_events(events)
    flat = to_flat(padded, "particles")
    with pytest.warns(RuntimeWarning, match="max_particles=3"):
        short, n_trunc = pad_flat(flat, "particles", 3)
    assert n_trunc == int((padded.mask.sum(1) > 3).sum()) > 0
    for f in padded._fields:
        np.testing.assert_array_equal(getattr(short, f), getattr(padded, f)[:, :3])
    wide, _ = pad_flat(flat, "particles", 10)
    assert wide.pt.shape == (20, 10) and not wide.mask[:, 7:].any()


def test_to_flat_rejects_holes_in_mask():
    padded = pad_events(random_events(np.random.default_rng(2), 5), max_particles=8)
    mask = padded.mask.copy()
    mask[:, 0] = False
    mask[:, 1] = True
    with pytest.raises(ValueError, match="prefix"):
        to_flat(padded._replace(mask=mask), "particles")


def test_check_flat_detects_inconsistent_arrays():
    padded = pad_events(random_events(np.random.default_rng(3), 6), max_particles=8)
    good = to_flat(padded, "particles") | to_flat(padded, "partons") | {"weights": np.ones(6)}
    check_flat(good, 6)
    with pytest.raises(ValueError, match="weights"):
        check_flat(good, 7)
    bad = dict(good, **{"partons/pt": good["partons/pt"][:-1]})
    with pytest.raises(ValueError, match="partons/pt"):
        check_flat(bad, 6)
    nan = good["particles/eta"].copy()
    nan[0] = np.nan
    with pytest.raises(ValueError, match="particles/eta contains NaN"):
        check_flat(dict(good, **{"particles/eta": nan}), 6)
    assert set(FLAT_FIELDS) == set(padded._fields) - {"mask"}
