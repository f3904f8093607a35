"""pyhf 0.7.6 as the reference of :mod:`hepjax.stats`: layouts mapped by name, and one model compared.

Used by the stats tests and by bench area ``design`` (``metrics.pyhf_max_rel_diff``, ``ratios.fit_speedup``).
pyhf is imported inside the functions (the ``test`` and ``bench`` extras install it).
"""

from __future__ import annotations

import contextlib
import time

import numpy as np

# One padded shape for every model compared: the hepjax fit is compiled once per process.
PAD = dict(samples=8, bins=8, pars=20, normsys=8, histosys=8, aux=20)


def to_pyhf_pars(model, pyhf_model, pars):
    """hepjax parameter vector (P,) -> pyhf's ordering, matched by parameter-set name."""
    out = np.zeros(len(pyhf_model.config.suggested_init()))
    for name, _, a, b in model.info.paramsets:
        out[pyhf_model.config.par_slice(name)] = np.asarray(pars)[a:b]
    return out


def to_pyhf_data(model, pyhf_model, data):
    """hepjax data concat(main, aux) -> pyhf's concat(main, aux in auxdata_order)."""
    data = np.asarray(data)
    n_main = model.info.n_main
    aux = data[n_main : n_main + model.info.n_aux]
    aux_par = list(np.asarray(model.aux_par)[: model.info.n_aux])
    out = []
    for name in pyhf_model.config.auxdata_order:
        sl = model.info.par_slice(name)
        out.extend(aux[aux_par.index(j)] for j in range(sl.start, sl.stop))
    return np.concatenate([data[:n_main], out])


@contextlib.contextmanager
def pyhf_backend(name, **opt):
    """Temporarily switch pyhf's backend (global state) and restore numpy + default scipy afterwards."""
    import pyhf

    pyhf.set_backend(name, pyhf.optimize.scipy_optimizer(**opt))
    try:
        yield pyhf
    finally:
        pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer())


def padded(spec, observed=None, **kwargs):
    """(model, padded model, padded data or None) for a spec and its observed main counts."""
    from hepjax.stats import build_model, pad_data, pad_model

    model = build_model(spec, **kwargs)
    pm = pad_model(model, **PAD)
    data = None if observed is None else pad_data(model, pm, np.asarray(observed, float))
    return model, pm, data


def rel_diff(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def small_or_rel(mine, ref, floor=1e-3):
    """Relative difference, or absolute for values below ``floor`` (q near 0)."""
    return rel_diff(mine, ref) if abs(ref) > floor else abs(float(mine) - ref)


def pyhf_reference(ref, pdata):
    """From one pyhf hypotest at μ = 1 (the backend as set by the caller): best fit, min 2NLL, q0,
    q̃(1), CLs observed and expected.

    The five fits of the asymptotic calculator hold all that is needed: the free fit to data, the
    fixed-POI fit at μ = 1 (q̃) and at μ = 0 (the Asimov generation fit, i.e. q0's numerator).
    """
    import pyhf

    cls, cls_exp, calc = pyhf.infer.hypotest(
        1.0, pdata, ref, test_stat="qtilde", return_expected_set=True, return_calculator=True
    )
    fits = calc.fitted_pars
    nll_free = float(-2 * ref.logpdf(fits.free_fit_to_data, pdata)[0])
    nll_mu1 = float(-2 * ref.logpdf(fits.fixed_poi_fit_to_data, pdata)[0])
    nll_mu0 = float(-2 * ref.logpdf(fits.asimov_pars, pdata)[0])
    muhat = float(fits.free_fit_to_data[ref.config.poi_index])
    q0_ref = max(nll_mu0 - nll_free, 0.0) if muhat >= 0 else 0.0
    qt_ref = max(nll_mu1 - nll_free, 0.0) if muhat <= 1.0 else 0.0
    return np.asarray(fits.free_fit_to_data), nll_free, q0_ref, qt_ref, float(cls), np.asarray(cls_exp, float)


def compare_model(spec: dict, observed) -> dict:
    """hepjax.stats against pyhf (numpy, SLSQP at tolerance 1e-14) on one model; call under float64.

    Returns the differences ``nll``, ``nll_at_ours`` (pyhf's likelihood at hepjax's best fit), ``pars``
    (relative with a 0.01 floor), ``pars_sigma`` (in units of each parameter's uncertainty), ``q0``, ``qtilde``, ``cls``, ``cls_exp``, and ``ours_below_pyhf`` (hepjax's
    minimum is at least as low as pyhf's, to 1e-8).
    """
    import pyhf

    from hepjax.stats import fit, hypotest, q0, qmu_tilde

    model, pm, data = padded(spec, observed)
    ref = pyhf.Model(spec, poi_name="mu")
    n_pars = model.init.shape[0]
    pdata = to_pyhf_data(model, ref, np.concatenate([observed, np.asarray(model.aux_nominal)]))
    with pyhf_backend("numpy", tolerance=1e-14):
        best, nll, q0_ref, qt_ref, cls_ref, exp_ref = pyhf_reference(ref, pdata)
        res = fit(pm, data, on_fail="raise")
        mine = to_pyhf_pars(model, ref, np.asarray(res.pars[:n_pars]))
        cls, cls_exp = hypotest(pm, 1.0, data)
        return {
            "nll": rel_diff(res.twice_nll, nll),
            "nll_at_ours": rel_diff(res.twice_nll, -2 * ref.logpdf(mine, pdata)[0]),
            "pars": float(np.max(np.abs(mine - best) / np.maximum(np.abs(best), 1e-2))),
            "pars_sigma": _pars_in_sigma(pm, data, res.pars, n_pars, model, ref, mine - best),
            "q0": small_or_rel(q0(pm, data), q0_ref),
            "qtilde": small_or_rel(qmu_tilde(pm, 1.0, data), qt_ref),
            "cls": rel_diff(cls, cls_ref),
            "cls_exp": rel_diff(cls_exp, exp_ref),
            "ours_below_pyhf": bool(float(res.twice_nll) <= nll + 1e-8),
        }


def _pars_in_sigma(pm, data, pars, n_pars, model, ref, diff) -> float:
    """max |Δθ_i| / σ_i: a best-fit difference in units of each parameter's uncertainty (σ from the inverse
    Hessian of −ln L at hepjax's optimum, over the free parameters): what a flat direction of the likelihood
    lets an optimiser's stopping point wander by, measured where it matters."""
    import jax

    from hepjax.stats import twice_nll

    h = 0.5 * np.asarray(jax.hessian(lambda p: twice_nll(pm, p, data))(pars))
    free = ~np.asarray(pm.fixed)
    sigma = np.full(h.shape[0], np.inf)
    sigma[free] = np.sqrt(np.diag(np.linalg.inv(h[np.ix_(free, free)])))
    return float(np.max(np.abs(diff) / to_pyhf_pars(model, ref, sigma[:n_pars])))


def fit_times(spec: dict, observed, repeats: int = 5) -> dict:
    """Best-of-``repeats`` seconds of one maximum-likelihood fit: hepjax (compiled, excluding the first call)
    and pyhf (numpy backend, its default SLSQP tolerance) on the same model and data."""
    import pyhf

    from hepjax.stats import fit

    model, pm, data = padded(spec, observed)
    ref = pyhf.Model(spec, poi_name="mu")
    pdata = to_pyhf_data(model, ref, np.concatenate([observed, np.asarray(model.aux_nominal)]))
    fit(pm, data, on_fail="ignore").pars.block_until_ready()
    ours, theirs = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fit(pm, data, on_fail="ignore").pars.block_until_ready()
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        pyhf.infer.mle.fit(pdata, ref)
        theirs.append(time.perf_counter() - t0)
    return {"hepjax_fit_s": min(ours), "pyhf_fit_s": min(theirs)}
