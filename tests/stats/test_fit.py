"""Fits: implicit gradients of the fitted point vs finite differences of refits; convergence reporting."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hepjax.stats import FitConvergenceError, FitConvergenceWarning, fit

from ._pyhf_ref import padded
from .specs import FIXED_SPECS, OBSERVED


def test_implicit_gradient_of_fitted_nuisances_matches_finite_differences():
    with jax.enable_x64(True):
        model, pm, data = padded(FIXED_SPECS["all"], OBSERVED["all"])
        P, B = model.init.shape[0], model.info.n_main
        direction = jnp.zeros_like(data).at[:B].set(jnp.array([1.0, -0.5, 2.0, 0.3, -1.0]))

        def best(d, mu, scale):
            # scale multiplies the nominal templates: a gradient w.r.t. the model's arrays too
            return fit(pm._replace(nominal=pm.nominal * scale), d, fixed_poi=mu, on_fail="raise").pars[:P]

        # the derivative along a joint direction in (data, mu, scale): one forward-mode pass, compiled once
        one = jnp.asarray(1.0)
        _, tangent = jax.jvp(best, (data, one, one), (direction, one, 0.5 * one))
        # refits are good to ~1e-8 (noise ~1e-8/eps) and the truncation error is ~eps^2: a few 1e-5 at this eps
        eps = 2.5e-3
        plus = best(data + eps * direction, 1.0 + eps, 1.0 + 0.5 * eps)
        minus = best(data - eps * direction, 1.0 - eps, 1.0 - 0.5 * eps)
        fd = (plus - minus) / (2 * eps)
        free = ~np.asarray(model.fixed)
        free[model.info.poi_index] = False
        t, fd = np.asarray(tangent)[free], np.asarray(fd)[free]
        assert np.all(np.abs(t - fd) <= 1e-4 + 1e-3 * np.abs(t)), (t, fd)
        assert np.max(np.abs(t)) > 1e-2  # the check is not vacuous


def test_free_fit_poi_at_bound_and_result_fields():
    with jax.enable_x64(True):
        model, pm, data = padded(FIXED_SPECS["normsys"], [50.0, 38.0, 17.0])  # deficit: muhat -> 0
        res = fit(pm, data)
        assert float(res.pars[model.info.poi_index]) == 0.0
        assert bool(res.converged) and bool(res.in_bounds) and float(res.grad_norm) < 1e-3
        wide = fit(pm, data, poi_bounds=(-5.0, 10.0))
        assert float(wide.pars[model.info.poi_index]) < 0.0
        assert float(wide.twice_nll) < float(res.twice_nll)


def test_non_convergence_is_reported_with_the_gradient_norm():
    with jax.enable_x64(True):
        model, pm, data = padded(FIXED_SPECS["histosys"], OBSERVED["histosys"])
        init = np.asarray(pm.init).copy()
        init[model.info.par_slice("bkg_shape")] = 1e3  # yields negative at the start: NaN objective
        with pytest.warns(FitConvergenceWarning, match="gradient max-norm"):
            fit(pm, data, init=init)
        with pytest.raises(FitConvergenceError, match="gradient max-norm"):
            fit(pm, data, init=init, on_fail="raise")
