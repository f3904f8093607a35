"""HistFactory likelihood vs pyhf 0.7.6 (numpy backend): expected counts, logpdf, Asimov data; bad input."""

import copy

import jax
import numpy as np
import pytest

from hepjax.errors import ConfigError, DataError
from hepjax.stats import asimov_data, build_model, expected_actualdata, logpdf
from hepjax.stats.fit import strip_info
from hepjax.stats.random_models import random_specs

from ._pyhf_ref import PAD, padded, rel_diff, to_pyhf_data, to_pyhf_pars
from .specs import FIXED_SPECS, OBSERVED

pyhf = pytest.importorskip("pyhf")


def _random_pars(model, rng):
    """Parameters spread over the interpolation regions (|alpha| < 1 and > 1) and around 1 for factors."""
    p = np.asarray(model.init, float).copy()
    for _name, ptype, a, b in model.info.paramsets:
        if ptype in ("normsys", "histosys"):
            p[a:b] = rng.uniform(-2.5, 2.5, b - a)
        elif ptype == "staterror":
            p[a:b] = rng.uniform(0.9, 1.1, b - a)
        elif ptype == "lumi":
            p[a:b] = rng.uniform(0.95, 1.05, b - a)
        else:
            p[a:b] = rng.uniform(0.0, 3.0, b - a)
    return p


# jit-compiled once for the shared padded shape (strip_info: models differ only in their arrays)
_LOGPDF = jax.jit(logpdf)
_ASIMOV = jax.jit(asimov_data)


def _check_against_pyhf(spec, observed, rng, n_points=4, eager=False):
    model, pm, _ = padded(spec)
    pm = strip_info(pm)
    ref = pyhf.Model(spec, poi_name="mu")
    P, B, C = model.init.shape[0], model.info.n_main, model.info.n_aux
    for i in range(n_points):
        pars = _random_pars(model, rng)
        pars_p = np.concatenate([pars, np.asarray(pm.init[P:])])
        aux = np.asarray(model.aux_nominal) + rng.normal(0, 0.05, C)
        data = np.concatenate([observed, aux])
        data_p = np.concatenate([observed, np.zeros(PAD["bins"] - B), aux, np.zeros(PAD["aux"] - C)])
        pp, pd = to_pyhf_pars(model, ref, pars), to_pyhf_data(model, ref, data)
        ref_lp = ref.logpdf(pp, pd)[0]
        assert rel_diff(_LOGPDF(pm, pars_p, data_p), ref_lp) < 1e-10
        asimov = np.asarray(_ASIMOV(pm, pars_p))
        asimov = np.concatenate([asimov[:B], asimov[PAD["bins"] : PAD["bins"] + C]])
        assert rel_diff(to_pyhf_data(model, ref, asimov), ref.expected_data(pp)) < 1e-12
        if eager and i == 0:  # the unpadded model, not jitted (value checks active)
            assert rel_diff(logpdf(model, pars, data), ref_lp) < 1e-10
            assert rel_diff(expected_actualdata(model, pars), ref.expected_actualdata(pp)) < 1e-12


@pytest.mark.parametrize("name", sorted(FIXED_SPECS))
def test_fixed_models_match_pyhf(name):
    with jax.enable_x64(True):
        _check_against_pyhf(FIXED_SPECS[name], np.array(OBSERVED[name]), np.random.default_rng(7), eager=False)


def test_random_models_logpdf_match_pyhf():
    with jax.enable_x64(True):
        rng = np.random.default_rng(3)
        for spec, obs in random_specs(jax.random.key(11), 20):
            _check_against_pyhf(spec, np.array(obs), rng, n_points=2)


def test_parameter_layout_and_staterror_sigma():
    with jax.enable_x64(True):
        spec = FIXED_SPECS["all"]
        model = build_model(spec)
        ref = pyhf.Model(spec, poi_name="mu")
        assert [p[0] for p in model.info.paramsets] == sorted(p[0] for p in model.info.paramsets)
        for name, _, a, b in model.info.paramsets:
            ps = ref.config.param_set(name)
            assert np.allclose(np.asarray(model.init[a:b]), ps.suggested_init)
            assert np.allclose(np.asarray(model.bounds[a:b]), np.asarray(ps.suggested_bounds, float))
            assert list(np.asarray(model.fixed[a:b])) == list(ps.suggested_fixed)
            if hasattr(ps, "sigmas"):
                idx = [list(np.asarray(model.aux_par)).index(j) for j in range(a, b)]
                assert np.allclose(np.asarray(model.aux_sigma)[idx], ps.sigmas)


def _spec():
    return copy.deepcopy(FIXED_SPECS["all"])


def test_bad_input_errors():
    spec = _spec()
    spec["channels"][0]["samples"][1]["data"] = [60.0, -1.0, 20.0]
    with pytest.raises(DataError, match="channel 'SR' sample 'bkg'.*negative"):
        build_model(spec)
    spec = _spec()
    spec["channels"][1]["samples"][1]["data"] = [100.0, 80.0, 5.0]
    with pytest.raises(DataError, match="channel 'CR' sample 'bkg' has 3 bins"):
        build_model(spec)
    spec = _spec()
    spec["channels"][0]["samples"][1]["modifiers"][0]["type"] = "shapesys_typo"
    with pytest.raises(ConfigError, match="sample 'bkg' modifier 'bkg_norm'.*unknown modifier type"):
        build_model(spec)
    spec = _spec()
    spec["parameters"].append({"name": "no_such_modifier", "inits": [1.0]})
    with pytest.raises(ConfigError, match="no_such_modifier"):
        build_model(spec)
    spec = _spec()
    spec["channels"][0]["samples"][1]["modifiers"][1]["data"]["lo_data"] = [1.0, 2.0]
    with pytest.raises(DataError, match="modifier 'bkg_shape'"):
        build_model(spec)
    spec = _spec()
    spec["parameters"] = spec["parameters"][1:]  # lumi without sigma
    with pytest.raises(ConfigError, match="lumi"):
        build_model(spec)
    assert build_model(spec, lumi_sigma=0.05).info.n_aux > 0
    with jax.enable_x64(True):
        model = build_model(_spec())
        with pytest.raises(DataError, match="5 main counts"):
            logpdf(model, model.init, np.ones(4))
        with pytest.raises(DataError, match="negative observed count.*channel 'SR' bin 2"):
            logpdf(model, model.init, np.array([1.0, 2.0, 3.0, 4.0, -5.0]))
        pars = np.asarray(model.init).copy()
        pars[model.info.par_slice("bkg_shape")] = -40.0  # linear extrapolation drives SR bin 2 negative
        with pytest.raises(DataError, match="negative expected count.*channel 'SR'"):
            logpdf(model, pars, np.array(OBSERVED["all"]))
