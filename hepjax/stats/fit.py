"""Maximum-likelihood and fixed-POI (profile) fits of a HistFactory model with optimistix.

The objective is ``twice_nll`` (as pyhf). Minimisation: ``optx.minimise`` with ``optx.BFGS`` and
``adjoint=optx.ImplicitAdjoint()``, so gradients of the fitted point with respect to the data or the
model's arrays come from the implicit-function theorem at the optimum (one linear solve with the
Hessian), not from unrolling the iterations.

Bounds: parameters whose range is (0, inf)-like (normfactors other than the POI, lumi, staterror
gammas) are fitted in log space, which keeps yields positive during the iterations and has the same
interior optimum as pyhf's bounded fit. The POI is fitted unbounded; if its optimum falls outside its
bounds the fit is redone with the POI fixed at the violated bound (exact for a likelihood that is
unimodal in the POI, and the case qtilde and q0 need: muhat = 0 at the boundary). After the fit, a
nuisance parameter outside its bounds is reported (pyhf's bounded fit would differ there).

Fixed parameters are held at ``init`` by a mask; a quadratic pin on their internal coordinate keeps
the Hessian regular so the implicit-gradient linear solve is well posed.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optimistix as optx

from hepjax.errors import HepjaxError, is_concrete
from hepjax.stats.histfactory import HistFactoryModel, ModelInfo, full_data, twice_nll

_NO_INFO = ModelInfo(par_names=(), paramsets=(), poi_index=-1, channels=(), samples=(), n_main=0, n_aux=0)

# Stopping rule of BFGS (optimistix's Cauchy criterion): relative/absolute change of y and f below 1e-11.
# BFGS then typically ends with |grad twice_nll| of 1e-9..1e-5 (parameters good to ~1e-8); "converged"
# means solver success and a gradient max-norm below GRAD_TOL. (An exact-Hessian Newton polish would
# reach 1e-12 but triples the compile time, which dominates a fit's cost on CPU.)
RTOL = 1e-11
ATOL = 1e-11
GRAD_TOL = 1e-3
MAX_STEPS = 2000


class FitConvergenceError(HepjaxError, RuntimeError):
    """A fit did not converge (the message names the gradient norm and the step count)."""


class FitConvergenceWarning(RuntimeWarning):
    """A fit did not converge or ended with a nuisance parameter outside its bounds."""


class FitResult(NamedTuple):
    """Result of :func:`fit`.

    pars: (P,) best-fit parameters (fixed ones at their init). twice_nll: scalar objective at ``pars``.
    grad_norm: max |d twice_nll / d par| over the free parameters (POI excluded when at a bound).
    converged: bool, solver success and ``grad_norm < GRAD_TOL``. in_bounds: bool, all parameters in bounds.
    num_steps: BFGS steps (of the last fit when the POI was refitted at a bound).
    """

    pars: jax.Array
    twice_nll: jax.Array
    grad_norm: jax.Array
    converged: jax.Array
    in_bounds: jax.Array
    num_steps: jax.Array


def strip_info(model: HistFactoryModel) -> HistFactoryModel:
    """The model with an empty :class:`ModelInfo`, so models of equal shapes share compiled code."""
    return model._replace(info=_NO_INFO)


def _to_internal(model, pars):
    return jnp.where(model.positive, jnp.log(jnp.where(model.positive, pars, 1.0)), pars)


def _to_pars(model, y):
    return jnp.where(model.positive, jnp.exp(y), y)


def _objective(y, args):
    model, data, init, fixed = args
    pars = jnp.where(fixed, init, _to_pars(model, y))
    # the pin makes d^2/dy^2 = 2 on fixed coordinates: no effect on the free optimum, regular Hessian
    pin = jnp.sum(jnp.where(fixed, (y - _to_internal(model, init)) ** 2, 0.0))
    return twice_nll(model, pars, data) + pin


def _minimise(model, data, init, fixed):
    """One BFGS minimisation; returns FitResult."""
    y0 = jax.lax.stop_gradient(_to_internal(model, init))
    solver = optx.BFGS(rtol=RTOL, atol=ATOL)
    sol = optx.minimise(
        _objective,
        solver,
        y0,
        args=(model, data, init, fixed),
        max_steps=MAX_STEPS,
        adjoint=optx.ImplicitAdjoint(),
        throw=False,
    )
    pars = jnp.where(fixed, init, _to_pars(model, sol.value))
    pars_ng = jax.lax.stop_gradient(pars)
    grad = jax.grad(twice_nll, argnums=1)(model, pars_ng, jax.lax.stop_gradient(data))
    grad_norm = jnp.max(jnp.where(fixed, 0.0, jnp.abs(grad)), initial=0.0)
    ok = (sol.result == optx.RESULTS.successful) & (grad_norm < GRAD_TOL)
    tol = 1e-9 * (1.0 + jnp.abs(model.bounds))
    inside = (pars >= model.bounds[:, 0] - tol[:, 0]) & (pars <= model.bounds[:, 1] + tol[:, 1])
    in_bounds = jnp.all(jnp.where(fixed, True, inside))
    return FitResult(pars, twice_nll(model, pars, data), grad_norm, ok, in_bounds, sol.stats["num_steps"])


_minimise_jit = jax.jit(_minimise)


def _fit_core(model, data, init, fixed, poi_index: int, poi_value, poi_bounds):
    """Fixed-POI fit if ``poi_value`` is not None, else the free fit with the POI bound handled exactly.

    One compiled function serves both (the POI's fixed flag is data). With concrete inputs the bound
    check runs on the host (one more fit only when needed); traced, it is a ``lax.cond``.
    """
    if poi_value is not None:
        return _minimise_jit(model, data, init.at[poi_index].set(poi_value), fixed.at[poi_index].set(True))
    free = _minimise_jit(model, data, init, fixed.at[poi_index].set(False))
    muhat = free.pars[poi_index]
    lo, hi = poi_bounds[0], poi_bounds[1]

    def at_bound():
        mu_b = jnp.clip(muhat, lo, hi)
        return _minimise_jit(model, data, init.at[poi_index].set(mu_b), fixed.at[poi_index].set(True))

    if is_concrete(muhat, lo, hi):
        res = at_bound() if bool((muhat < lo) | (muhat > hi)) else free
    else:
        res = jax.lax.cond((muhat < lo) | (muhat > hi), at_bound, lambda: free)
    # the POI at its bound is in bounds; the in-bounds flag of the free fit is about the nuisances
    return res


def fit(
    model: HistFactoryModel,
    data,
    *,
    fixed_poi=None,
    init=None,
    fixed=None,
    poi_bounds=None,
    on_fail: str = "warn",
) -> FitResult:
    """Maximum-likelihood fit (``fixed_poi=None``) or profile fit at POI = ``fixed_poi``.

    Args:
      model: a :class:`~hepjax.stats.histfactory.HistFactoryModel`.
      data: (B + C,) ``concat(main, aux)`` or (B,) main counts.
      fixed_poi: POI value (scalar, may be traced) for the profile fit; ``None`` for the free fit.
      init: (P,) starting values (default ``model.init``); fixed parameters stay at these values.
      fixed: (P,) bool mask of fixed parameters (default ``model.fixed``).
      poi_bounds: (2,) [low, high] of the POI in the free fit (default ``model.bounds[poi]``); use
        e.g. ``(-10, 10)`` for q_mu / t_mu with a POI allowed to go negative.
      on_fail: ``"warn"`` (FitConvergenceWarning), ``"raise"`` (FitConvergenceError) or ``"ignore"``
        when the fit did not converge; checked only on concrete results (under jit see ``.converged``).

    Returns:
      :class:`FitResult`. ``pars`` is differentiable w.r.t. ``data``, ``fixed_poi``, ``init`` of fixed
      parameters and the model's float arrays (implicit differentiation at the optimum).
    """
    if on_fail not in ("warn", "raise", "ignore"):
        raise ValueError(f"on_fail must be 'warn', 'raise' or 'ignore', got {on_fail!r}")
    info = model.info
    data = full_data(model, data)
    dtype = data.dtype if jnp.issubdtype(data.dtype, jnp.floating) else jnp.result_type(float)
    data = data.astype(dtype)
    init = model.init.astype(dtype) if init is None else jnp.asarray(init, dtype)
    fixed = model.fixed if fixed is None else jnp.asarray(fixed, bool)
    poi = info.poi_index
    poi_bounds = model.bounds[poi] if poi_bounds is None else jnp.asarray(poi_bounds, dtype)
    poi_value = None if fixed_poi is None else jnp.asarray(fixed_poi, dtype)
    res = _fit_core(strip_info(model), data, init, fixed, poi, poi_value, poi_bounds)
    what = "free fit" if fixed_poi is None else "fixed-POI fit"
    if on_fail != "ignore" and is_concrete(res.pars):
        if not bool(res.converged):
            msg = (
                f"{what} did not converge: gradient max-norm {float(res.grad_norm):.3g} "
                f"(tolerance {GRAD_TOL:g}) after {int(res.num_steps)} steps"
            )
            if on_fail == "raise":
                raise FitConvergenceError(msg)
            warnings.warn(msg, FitConvergenceWarning, stacklevel=2)
        if not bool(res.in_bounds):
            pars, b = np.asarray(res.pars), np.asarray(model.bounds)
            bad = [i for i in range(len(pars)) if not (b[i, 0] <= pars[i] <= b[i, 1]) and not bool(fixed[i])]
            names = [f"{info.par_names[i]}={pars[i]:.6g} not in [{b[i, 0]:g}, {b[i, 1]:g}]" for i in bad]
            warnings.warn(f"{what}: parameters outside their bounds: {names}", FitConvergenceWarning, stacklevel=2)
    return res


__all__ = ["FitConvergenceError", "FitConvergenceWarning", "FitResult", "fit", "strip_info"]
