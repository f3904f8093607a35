"""The reference cascade: stochastic, deterministic per seed, and physical (Grindhammer–Peters,
sampling resolution, Bethe–Heitler spectra); the analytic parameterisation is self-consistent."""

import numpy as np
import pytest
from scipy import integrate

from hepjax.fastsim import N_VOXELS, CalorimeterConfig, simulate_showers, validate_cascade
from hepjax.fastsim import grindhammer_peters as gp
from hepjax.fastsim.cascade import _sample_brems_fraction, _sample_compton, _sample_pair_fraction, brems_rate
from hepjax.fastsim.geometry import voxel_centres, voxel_index


def test_deterministic_per_seed_and_stochastic():
    e = np.array([2.0, 5.0])
    a, b, c = (simulate_showers(e, seed=s) for s in (3, 3, 4))
    assert a.voxels.shape == (2, N_VOXELS) and a.voxels.dtype == np.float32
    np.testing.assert_array_equal(a.voxels, b.voxels)
    assert not np.array_equal(a.voxels, c.voxels)
    assert np.all(a.voxels >= 0)


@pytest.fixture(scope="module")
def validation():
    return validate_cascade((4.0, 30.0), n_showers=24, seed=0)


def test_longitudinal_profile_matches_grindhammer_peters(validation):
    for e in ("4", "30"):
        assert abs(validation[f"mean_depth_sim_{e}"] - validation[f"mean_depth_gp_{e}"]) < 1.0  # X0
    # The depth grows like ln E as the parameterisation says (to 25 %).
    slope_sim = validation["mean_depth_sim_30"] - validation["mean_depth_sim_4"]
    slope_gp = validation["mean_depth_gp_30"] - validation["mean_depth_gp_4"]
    assert abs(slope_sim / slope_gp - 1) < 0.25


def test_radial_containment_matches_grindhammer_peters(validation):
    for e in ("4", "30"):
        assert abs(validation[f"containment_1rm_sim_{e}"] - validation[f"containment_1rm_gp_{e}"]) < 0.04
        assert abs(validation[f"containment_2rm_sim_{e}"] - validation[f"containment_2rm_gp_{e}"]) < 0.02


def test_sampling_resolution_and_linearity(validation):
    # sigma/E vs the independent-crossing expectation sqrt(E_c t_s / E); 24 showers: ~15 % stat.
    for e in ("4", "30"):
        assert 0.7 < validation[f"resolution_sim_{e}"] / validation[f"resolution_expected_{e}"] < 1.4
        # Calibrated response (em_scale) is linear to 3 %.
        assert abs(validation[f"response_{e}"] / CalorimeterConfig().em_scale - 1) < 0.03


def test_bremsstrahlung_and_pair_spectra():
    rng = np.random.default_rng(0)
    y0 = 0.01
    rate_num = integrate.quad(lambda y: (4 / 3 - 4 / 3 * y + y**2) / y, y0, 1)[0]
    assert brems_rate(np.array(y0)) == pytest.approx(rate_num, rel=1e-10)
    y = _sample_brems_fraction(rng, np.full(200_000, y0))
    edges = np.geomspace(y0, 1, 11)
    expect = (
        np.array(
            [integrate.quad(lambda t: (4 / 3 - 4 / 3 * t + t**2) / t, a, b)[0] for a, b in zip(edges[:-1], edges[1:])]
        )
        / rate_num
    )
    np.testing.assert_allclose(np.histogram(y, edges)[0] / y.size, expect, atol=0.004)
    x = _sample_pair_fraction(rng, 200_000)
    edges = np.linspace(0, 1, 11)
    norm = integrate.quad(lambda t: 1 - 4 / 3 * t * (1 - t), 0, 1)[0]
    expect = (
        np.array([integrate.quad(lambda t: 1 - 4 / 3 * t * (1 - t), a, b)[0] for a, b in zip(edges[:-1], edges[1:])])
        / norm
    )
    np.testing.assert_allclose(np.histogram(x, edges)[0] / x.size, expect, atol=0.004)


def test_compton_kinematics():
    rng = np.random.default_rng(1)
    e = np.full(50_000, 0.005)  # 5 MeV
    x, cos_t = _sample_compton(rng, e)
    eps = e / 0.511e-3
    assert np.all((x >= 1 / (1 + 2 * eps) - 1e-12) & (x <= 1 + 1e-12))
    np.testing.assert_allclose(x, 1 / (1 + eps * (1 - cos_t)), rtol=1e-10)  # Compton formula


def test_voxel_geometry_round_trip():
    layer, r, a = voxel_centres()
    assert layer.size == N_VOXELS == 368
    idx = voxel_index(layer, r * np.cos(a), r * np.sin(a))
    np.testing.assert_array_equal(idx, np.arange(N_VOXELS))


def test_grindhammer_peters_is_self_consistent():
    t = np.linspace(0, 80, 4001)
    for photon in (False, True):
        f = gp.longitudinal_profile(50.0, t, photon=photon)
        assert np.trapezoid(f, t) == pytest.approx(1.0, abs=2e-3)
        assert np.trapezoid(f * t, t) == pytest.approx(gp.mean_depth(50.0, photon=photon), abs=0.02)
    r = np.linspace(0, 200, 200_001)
    dens = gp.radial_profile(50.0, 8.0, r)
    inside = np.trapezoid(dens[r <= 1.0], r[r <= 1.0])
    assert 0.5 < inside < 1.0
    assert np.trapezoid(dens, r) == pytest.approx(1.0, abs=0.01)


def test_bad_input():
    with pytest.raises(ValueError, match="finite and > 0"):
        simulate_showers(np.array([10.0, -1.0]), seed=0)
    with pytest.raises(ValueError, match="finite and > 0"):
        simulate_showers(np.array([np.nan]), seed=0)
    with pytest.raises(ValueError, match="pair threshold"):
        simulate_showers(np.array([1.0]), seed=0, cfg=CalorimeterConfig(photon_cut=5e-4))
    with pytest.raises(ValueError, match="too low"):
        gp.longitudinal_parameters(0.01)
