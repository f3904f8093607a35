"""with_templates: a model built once takes new (traced) templates and equals the model built from them."""

import copy

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.errors import ConfigError, DataError
from hepjax.stats import build_model, logpdf, with_templates

from .specs import FIXED_SPECS


def _rescaled(spec, rng):
    """The spec with every sample's nominal and histosys templates multiplied by random factors."""
    spec = copy.deepcopy(spec)
    for ch in spec["channels"]:
        for s in ch["samples"]:
            s["data"] = (np.asarray(s["data"]) * rng.uniform(0.5, 1.5, len(s["data"]))).tolist()
            for mod in s["modifiers"]:
                if mod["type"] == "histosys":
                    for k in ("hi_data", "lo_data"):
                        mod["data"][k] = (np.asarray(mod["data"][k]) * rng.uniform(0.8, 1.2, len(s["data"]))).tolist()
    return spec


def _templates(model):
    nom_h = model.hs_onehot.astype(model.nominal.dtype) @ model.nominal
    return model.nominal, nom_h + model.hs_up, nom_h - model.hs_dn


@pytest.mark.parametrize("name", ["normfactor", "normsys", "histosys"])
def test_swapped_templates_equal_the_model_built_from_them(name):
    rng = np.random.default_rng(3)
    with jax.enable_x64(True):
        spec_a, spec_b = FIXED_SPECS[name], _rescaled(FIXED_SPECS[name], rng)
        model_a, model_b = build_model(spec_a), build_model(spec_b)
        swapped = with_templates(model_a, *_templates(model_b))
        for _ in range(5):
            pars = model_b.init + rng.normal(0.0, 0.3, model_b.init.shape)
            data = np.concatenate([rng.uniform(20, 80, model_b.info.n_main), np.asarray(model_b.aux_nominal)])
            assert float(logpdf(swapped, pars, data)) == pytest.approx(float(logpdf(model_b, pars, data)), rel=1e-12)
        assert float(logpdf(swapped, pars, data)) != pytest.approx(float(logpdf(model_a, pars, data)), rel=1e-6)


def test_gradient_through_the_templates_matches_finite_differences():
    with jax.enable_x64(True):
        model = build_model(FIXED_SPECS["histosys"])
        nominal, hi, lo = _templates(model)
        pars = model.init + 0.3
        data = jnp.concatenate([jnp.array([70.0, 50.0, 25.0]), model.aux_nominal])

        def f(scale):  # one template scale factor per (sample, bin)
            return logpdf(with_templates(model, nominal * scale, hi * scale[1:], lo * scale[1:]), pars, data)

        x = jnp.ones_like(nominal)
        g = jax.grad(f)(x)
        eps = 1e-6
        for idx in [(0, 0), (1, 1), (1, 2)]:
            e = jnp.zeros_like(x).at[idx].set(eps)
            assert float(g[idx]) == pytest.approx(float((f(x + e) - f(x - e)) / (2 * eps)), rel=1e-6)


def test_bad_templates_are_named():
    model = build_model(FIXED_SPECS["histosys"])
    nominal, hi, lo = _templates(model)
    with pytest.raises(DataError, match="nominal has shape"):
        with_templates(model, nominal[:, :2])
    with pytest.raises(DataError, match="histosys_hi has shape"):
        with_templates(model, nominal, hi[:, :2], lo)
    with pytest.raises(ConfigError, match="both"):
        with_templates(model, nominal, hi)
