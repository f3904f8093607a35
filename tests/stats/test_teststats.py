"""Fits, q0, qtilde_mu and asymptotic CLs vs pyhf 0.7.6 on fixed and >= 20 random models; Z0 vs closed form."""

import math

import jax
import numpy as np
import pytest

from hepjax.stats import (
    asimov_data,
    asimov_sigma_mu,
    asimov_z0,
    expected_mu_interval,
    expected_z0,
    q0,
    qmu,
    qmu_tilde,
)
from hepjax.stats.random_models import random_specs

from ._pyhf_ref import PAD, compare_model, padded, pyhf_backend, rel_diff, to_pyhf_data
from .specs import FIXED_SPECS, OBSERVED

pyhf = pytest.importorskip("pyhf")

# pyhf's tight-tolerance hypotest costs ~1-2 s a model on 2 cores: the default suite compares the fixed
# models and N_DEFAULT random ones (the logpdf test covers 20 random models); the slow test N_SLOW.
N_DEFAULT = 8
N_SLOW = 24


def _compare_to_pyhf(cases):
    worst = {}
    with jax.enable_x64(True):
        for spec, observed in cases:
            diffs = compare_model(spec, observed)
            assert diffs.pop("ours_below_pyhf")  # at least as low as pyhf's minimum
            for k, v in diffs.items():
                worst[k] = max(worst.get(k, 0.0), v)
    print("worst differences to pyhf:", worst)
    for k in ("nll", "nll_at_ours", "q0", "qtilde", "cls"):
        assert worst[k] < 1e-6, (k, worst)
    # pyhf's SLSQP with numerical gradients stops ~1e-6 (absolute) from the optimum in the parameters, and
    # its Asimov fits move sqrt(q_A) by ~1e-7, which the +-2 sigma expected CLs amplify to a few 1e-6
    # (against pyhf's jax backend with exact gradients both agree to ~1e-7).
    assert worst["cls_exp"] < 5e-6, worst
    # where the likelihood is flat, SLSQP's stopping point wanders: relative differences of the best-fit
    # parameters reach ~1e-3 (scipy 1.17.1), but in units of each parameter's uncertainty they are ~1e-5
    assert worst["pars_sigma"] < 1e-3, worst
    assert worst["pars"] < 1e-2, worst


_DEFAULT_CASES = [(FIXED_SPECS[k], OBSERVED[k]) for k in sorted(FIXED_SPECS)]
_DEFAULT_CASES += random_specs(jax.random.key(2024), N_DEFAULT)


@pytest.mark.parametrize("case", range(len(_DEFAULT_CASES)))
def test_fits_and_test_statistics_match_pyhf(case):
    # one model a test (each ~1 s: pyhf's hypotest dominates); the fit is compiled once for all
    _compare_to_pyhf([_DEFAULT_CASES[case]])


@pytest.mark.slow
def test_fits_and_test_statistics_match_pyhf_many_random_models():
    _compare_to_pyhf(random_specs(jax.random.key(99), N_SLOW))


def test_qmu_with_negative_poi_range_and_q0_clipping():
    with jax.enable_x64(True):
        spec = FIXED_SPECS["normsys"]
        deficit = [50.0, 38.0, 17.0]  # below the background: muhat < 0
        model, pm, data = padded(spec, deficit)
        ref = pyhf.Model(spec, poi_name="mu")
        pdata = to_pyhf_data(model, ref, np.concatenate([deficit, np.asarray(model.aux_nominal)]))
        init, fixed = ref.config.suggested_init(), ref.config.suggested_fixed()
        bounds = ref.config.suggested_bounds()
        wide = [list(b) for b in bounds]
        wide[ref.config.poi_index] = [-5.0, 10.0]
        assert float(q0(pm, data)) == 0.0
        assert float(pyhf.infer.test_statistics.q0(0.0, pdata, ref, init, bounds, fixed)) == pytest.approx(
            0.0, abs=1e-6
        )
        q_ref = float(pyhf.infer.test_statistics.qmu(1.0, pdata, ref, init, wide, fixed))
        assert rel_diff(qmu(pm, 1.0, data, poi_bounds=(-5.0, 10.0)), q_ref) < 1e-6
        qt_ref = float(pyhf.infer.test_statistics.qmu_tilde(1.0, pdata, ref, init, bounds, fixed))
        assert rel_diff(qmu_tilde(pm, 1.0, data), qt_ref) < 1e-6
        assert qt_ref < q_ref  # the bound at 0 matters here


def _counting(s, b, rel_unc=None):
    mods = [] if rel_unc is None else [{"name": "staterror_c", "type": "staterror", "data": [rel_unc * b]}]
    return {
        "channels": [
            {
                "name": "c",
                "samples": [
                    {"name": "sig", "data": [s], "modifiers": [{"name": "mu", "type": "normfactor", "data": None}]},
                    {"name": "bkg", "data": [b], "modifiers": mods},
                ],
            }
        ]
    }


@pytest.mark.parametrize(("s", "b"), [(10.0, 100.0), (5.0, 4.0), (30.0, 900.0)])
def test_expected_z0_one_bin_equals_closed_form(s, b):
    with jax.enable_x64(True):
        _, pm, _ = padded(_counting(s, b))
        assert float(expected_z0(pm)) == pytest.approx(float(asimov_z0(s, b)), rel=1e-6)


def test_expected_z0_with_background_uncertainty_close_to_closed_form():
    # HistFactory constrains gamma with a Gaussian (aux datum 1, width sigma_b/b); the closed form of
    # 1007.1727 has a Poisson auxiliary measurement. Both agree to leading order in sigma_b / b, so the
    # comparison is approximate (and the uncertainty must lower Z0).
    with jax.enable_x64(True):
        s, b, sigma_b = 20.0, 200.0, 10.0
        _, pm, _ = padded(_counting(s, b, sigma_b / b))
        z = float(expected_z0(pm))
        assert z < float(asimov_z0(s, b))
        assert z == pytest.approx(float(asimov_z0(s, b, sigma_b)), rel=2e-2)
        # the Gaussian-constraint answer in closed form: s / sqrt(b + sigma_b^2) to leading order
        assert z == pytest.approx(s / math.sqrt(b + sigma_b**2), rel=5e-2)


def test_expected_mu_interval_edges_have_unit_profile_likelihood_ratio_in_pyhf():
    with jax.enable_x64(True), pyhf_backend("numpy", tolerance=1e-14):
        spec = FIXED_SPECS["all"]
        model, pm, _ = padded(spec)
        lo, hi = expected_mu_interval(pm, mu_range=(-3.0, 5.0))
        assert lo < 1.0 < hi
        ref = pyhf.Model(spec, poi_name="mu")
        P, B, C = model.init.shape[0], model.info.n_main, model.info.n_aux
        pars = np.concatenate([np.asarray(model.init), np.asarray(pm.init[P:])])
        pars[model.info.poi_index] = 1.0
        a = np.asarray(asimov_data(pm, pars))
        pdata = to_pyhf_data(model, ref, np.concatenate([a[:B], a[PAD["bins"] : PAD["bins"] + C]]))
        bounds = [list(b) for b in ref.config.suggested_bounds()]
        bounds[ref.config.poi_index] = [-3.0, 5.0]
        _, nll_min = pyhf.infer.mle.fit(pdata, ref, par_bounds=bounds, return_fitted_val=True)
        for edge in (lo, hi):
            _, nll = pyhf.infer.mle.fixed_poi_fit(edge, pdata, ref, par_bounds=bounds, return_fitted_val=True)
            assert float(nll - nll_min) == pytest.approx(1.0, abs=1e-6)
        # the Asimov-qmu width at the upper edge is the edge's distance from the true mu (same scan)
        assert float(asimov_sigma_mu(pm, hi)) == pytest.approx(hi - 1.0, rel=1e-6)
