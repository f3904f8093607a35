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

        def best(d, mu):
            return fit(pm, d, fixed_poi=mu, on_fail="raise").pars[:P]

        # the derivative along a joint direction in (data, mu): one forward-mode pass, compiled once
        _, tangent = jax.jvp(best, (data, jnp.asarray(1.0)), (direction, jnp.asarray(1.0)))
        eps = 1e-2  # the refits are good to ~1e-8, so central differences with this step are good to ~1e-6
        fd = (best(data + eps * direction, 1.0 + eps) - best(data - eps * direction, 1.0 - eps)) / (2 * eps)
        free = ~np.asarray(model.fixed)
        free[model.info.poi_index] = False
        assert np.max(np.abs(np.asarray(tangent) - np.asarray(fd))[free]) < 1e-5
        assert np.max(np.abs(np.asarray(tangent))[free]) > 1e-3  # the check is not vacuous


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
