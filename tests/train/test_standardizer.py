import numpy as np
import pytest

from hepjax.train import Standardizer


def test_fit_apply_inverse_and_round_trip_through_a_file(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (500, 4))
    s = Standardizer.fit(x, eps=1e-6)
    z = s.apply(x)
    np.testing.assert_allclose(z.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(z.std(0), 1.0, rtol=1e-5)
    np.testing.assert_allclose(s.inverse(z), x, rtol=1e-12)
    assert s.apply(x, np.float32).dtype == np.float32
    back = Standardizer.load(s.save(tmp_path / "standardisation.json"))
    np.testing.assert_array_equal(back.mean, s.mean)
    np.testing.assert_array_equal(back.std, s.std)


def test_mask_selects_rows_and_eps_is_added():
    x = np.array([[1.0], [3.0], [100.0]])
    s = Standardizer.fit(x, eps=0.5, mask=[True, True, False])
    assert s.mean.tolist() == [2.0] and s.std.tolist() == [1.5]


def test_bad_input_is_refused(tmp_path):
    with pytest.raises(ValueError, match="every std must be > 0"):
        Standardizer.fit(np.ones((3, 2)), eps=0.0)
    with pytest.raises(ValueError, match="no rows"):
        Standardizer.fit(np.ones((0, 2)))
    bad = tmp_path / "s.json"
    bad.write_text("{}")
    with pytest.raises(ValueError, match="not a standardisation file"):
        Standardizer.load(bad)
