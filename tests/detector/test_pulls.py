"""Pulls (reco − true)/σ_param follow N(0, 1) for every resolution term of ``cms_like()``.

σ_param is written here from the published figures (Delphes CMS card), independently of the
code under test, for particles well inside one |η| region.
"""

import jax
import numpy as np
import pytest
from scipy import stats

from hepjax.detector import cms_like, impact_parameters, smear_jit
from tests.detector._samples import make

N = 20_000


def check_standard_normal(pull, name):
    pull = np.asarray(pull, np.float64)
    n = pull.size
    assert n > 1000, name
    assert abs(pull.mean()) < 5 / np.sqrt(n), f"{name}: pull mean {pull.mean():.4f}"
    assert abs(pull.std() - 1) < 5 / np.sqrt(2 * n), f"{name}: pull width {pull.std():.4f}"
    p = stats.kstest(pull, "norm").pvalue
    assert p > 1e-4, f"{name}: KS p-value {p:.2e} against N(0,1)"


@pytest.fixture(scope="module")
def params():
    return cms_like()


def smear(key, particles, params, hard):
    return jax.tree_util.tree_map(
        np.asarray, smear_jit(jax.random.key(key), particles, params, hard=hard, with_cells=False)
    )


def test_tracker_pulls(params, hard=False):
    """Soft mode (what training uses); the hard mode is checked by the validation experiment test."""
    rng = np.random.default_rng(1)
    pt = np.exp(rng.uniform(np.log(0.5), np.log(500.0), N))
    # |η| in the middle of the regions [0, .5) for pT and [0, .9) for IP/angles.
    eta = rng.uniform(-0.4, 0.4, N)
    cases = {211: (0.010, 1.5e-4), 11: (0.030, 1.3e-3), 13: (0.010, 1.0e-4)}
    for pdg, (a, b) in cases.items():
        p = make(pdg, pt, eta, vxy=0.05, vz=30.0, seed=pdg)
        r = smear(pdg, p, params, hard)
        pt32 = p.pt.astype(np.float64)
        sig_rel = np.hypot(a, b * pt32)
        curv_pull = (r.charge / r.pt - p.charge / pt32) * pt32 / sig_rel
        check_standard_normal(curv_pull, f"pT ({pdg}, hard={hard})")
        # Barrel |η| < 0.9 IP and angular figures (trackResolutionCMS.tcl fits, see cms_like).
        d0, z0 = (np.asarray(x, np.float64) for x in impact_parameters(p))
        check_standard_normal((r.d0 - d0) / np.hypot(0.011, 0.072 / pt32), f"d0 ({pdg})")
        check_standard_normal((r.z0 - z0) / np.hypot(0.030, 0.10 / pt32), f"z0 ({pdg})")
        dphi = np.mod(r.phi - p.phi + np.pi, 2 * np.pi) - np.pi
        check_standard_normal(dphi / np.hypot(1e-4, 1.7e-3 / pt32), f"phi ({pdg})")
        dcot = np.sinh(r.eta.astype(np.float64)) - np.sinh(p.eta.astype(np.float64))
        check_standard_normal(dcot / np.hypot(3e-4, 1.9e-3 / pt32), f"cot theta ({pdg})")


def test_endcap_tracker_pulls(params):
    rng = np.random.default_rng(2)
    pt = np.exp(rng.uniform(np.log(1.0), np.log(200.0), N))
    eta = rng.choice([-1, 1], N) * rng.uniform(1.7, 2.3, N)  # pT region [1.5, 2.5), IP region [1.4, 2.5)
    p = make(211, pt, eta, vxy=0.05, vz=30.0, seed=5)
    r = smear(7, p, params, False)
    pt32 = p.pt.astype(np.float64)
    check_standard_normal((r.charge / r.pt - p.charge / pt32) * pt32 / np.hypot(0.025, 5.5e-4 * pt32), "pT endcap")
    d0, _ = impact_parameters(p)
    check_standard_normal((r.d0 - np.asarray(d0)) / np.hypot(0.014, 0.15 / pt32), "d0 endcap")


def delphes_ecal_sigma(e, eta):
    """Delphes CMS card ECAL σ(E) (GeV) with its η shape evaluated at the region centre."""
    f = 1 + 0.64 * eta**2 if abs(eta) <= 1.5 else 2.16 + 5.6 * (abs(eta) - 2) ** 2
    return f * np.sqrt(e**2 * 0.008**2 + e * 0.11**2 + 0.40**2)


@pytest.mark.parametrize("centre,pdg", [(0.25, 22), (1.25, 22), (1.75, 11)])
def test_ecal_pulls(params, centre, pdg):
    rng = np.random.default_rng(3)
    e = np.exp(rng.uniform(np.log(1.0), np.log(1000.0), N))
    eta = rng.choice([-1, 1], N) * rng.uniform(centre - 0.15, centre + 0.15, N)
    p = make(pdg, e / np.cosh(eta), eta, seed=11)
    r = smear(13, p, params, False)
    e_true = np.sqrt(p.mass.astype(np.float64) ** 2 + (p.pt * np.cosh(p.eta.astype(np.float64))) ** 2)
    check_standard_normal((r.ecal_e - e_true) / delphes_ecal_sigma(e_true, centre), f"ECAL |eta|~{centre}")


@pytest.mark.parametrize("eta_lo,eta_hi,s,c", [(0.0, 2.8, 1.50, 0.050), (3.2, 4.8, 2.70, 0.130)])
def test_hcal_pulls(params, eta_lo, eta_hi, s, c):
    rng = np.random.default_rng(4)
    e = np.exp(rng.uniform(np.log(2.0), np.log(2000.0), N))
    eta = rng.choice([-1, 1], N) * rng.uniform(eta_lo, eta_hi, N)
    p = make(2112, np.sqrt(e**2 - 0.93957**2) / np.cosh(eta), eta, seed=12)
    r = smear(17, p, params, False)
    e_true = np.sqrt(p.mass.astype(np.float64) ** 2 + (p.pt * np.cosh(p.eta.astype(np.float64))) ** 2)
    sigma = e_true * np.sqrt(s**2 / e_true + c**2)
    check_standard_normal((r.hcal_e - e_true) / sigma, f"HCAL {eta_lo}-{eta_hi}")
    # charged pions also deposit in the HCAL with the same resolution
    q = make(211, p.pt, p.eta, seed=13)
    rq = smear(19, q, params, False)
    eq = np.sqrt(q.mass.astype(np.float64) ** 2 + (q.pt * np.cosh(q.eta.astype(np.float64))) ** 2)
    check_standard_normal((rq.hcal_e - eq) / (eq * np.sqrt(s**2 / eq + c**2)), "HCAL pi+-")


def test_pull_check_detects_wrong_width(params):
    """The pull check is not vacuous: a σ off by 5 % fails it."""
    rng = np.random.default_rng(5)
    e = np.exp(rng.uniform(0, np.log(1000.0), N))
    eta = rng.uniform(0.1, 0.4, N)
    r = smear(23, make(22, e / np.cosh(eta), eta, seed=14), params, False)
    e32 = make(22, e / np.cosh(eta), eta, seed=14).pt * np.cosh(np.float32(eta).astype(np.float64))
    with pytest.raises(AssertionError):
        check_standard_normal((r.ecal_e - e32) / (1.05 * delphes_ecal_sigma(e32, 0.25)), "wrong")
