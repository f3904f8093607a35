"""Profile-likelihood test statistics and asymptotic CLs for a HistFactory model (as pyhf.infer 0.7.6).

Definitions (Cowan, Cranmer, Gross, Vitells, arXiv:1007.1727), with ``t = twice_nll(fixed fit at mu)
- twice_nll(free fit)`` clipped at 0 and muhat the free-fit POI:

* ``q0 = t(0)`` if muhat >= 0 else 0 (discovery);
* ``q_mu = t(mu)`` if muhat <= mu else 0; the free fit uses ``poi_bounds`` (default the model's);
* ``qtilde_mu``: the same with the POI bounded below at 0 (the model's default [0, 10]); as in pyhf
  the two differ only through the POI bounds of the free fit and in their asymptotic distributions.

Asymptotic CLs (``pyhf.infer.hypotest(..., test_stat="qtilde", calctype="asymptotics")``): the Asimov
data are the expectation at the fixed-POI (mu = 0) fit to the observed data (aux data = fitted
nuisances); ``sqrt(q_A)`` from qtilde on them; the observed statistic in ``-muhat/sigma`` space is
``sqrt(q) - sqrt(q_A)`` if ``sqrt(q) <= sqrt(q_A)`` else ``(q - q_A) / (2 sqrt(q_A))``;
``CLs+b = Phi(-(x + sqrt(q_A)))``, ``CLb = Phi(-x)``, CLs = their ratio; the expected band puts
x = 2, 1, 0, -1, -2.

All functions are pure jnp on top of :func:`hepjax.stats.fit.fit` (each fit jit-compiled once per
model shape) and differentiable through the fits' implicit gradients.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax.scipy.stats import norm

from hepjax.errors import ConfigError
from hepjax.stats.asymptotics import _safe_sqrt
from hepjax.stats.fit import fit
from hepjax.stats.histfactory import HistFactoryModel, asimov_data, full_data


def _tmu_like(model, mu, data, poi_bounds, on_fail):
    """(t_mu, muhat, fixed fit, free fit) with t_mu = clip(2NLL(fixed at mu) - 2NLL(free), 0)."""
    fixed = fit(model, data, fixed_poi=mu, on_fail=on_fail)
    free = fit(model, data, poi_bounds=poi_bounds, on_fail=on_fail)
    t = jnp.clip(fixed.twice_nll - free.twice_nll, 0.0)
    return t, free.pars[model.info.poi_index], fixed, free


def tmu(model: HistFactoryModel, mu, data, *, poi_bounds=None, on_fail: str = "warn"):
    """Profile likelihood ratio statistic t_mu = -2 ln lambda(mu), scalar (clipped at 0)."""
    return _tmu_like(model, mu, data, poi_bounds, on_fail)[0]


def qmu(model: HistFactoryModel, mu, data, *, poi_bounds=None, on_fail: str = "warn"):
    """Upper-limit statistic q_mu (scalar): t_mu if muhat <= mu else 0.

    ``poi_bounds``: POI range of the free fit; pass a range with a negative low edge for the q_mu of
    1007.1727 (with the default [0, 10] this equals qtilde, exactly as pyhf's qmu does).
    """
    t, muhat, _, _ = _tmu_like(model, mu, data, poi_bounds, on_fail)
    return jnp.where(muhat > mu, 0.0, t)


def qmu_tilde(model: HistFactoryModel, mu, data, *, on_fail: str = "warn"):
    """Upper-limit statistic qtilde_mu (scalar); needs the POI lower bound at 0 (ConfigError otherwise)."""
    poi = model.info.poi_index
    low = model.bounds[poi, 0]
    try:
        bad = float(low) != 0.0
    except TypeError:  # traced bounds: the caller's responsibility
        bad = False
    if bad:
        raise ConfigError(f"qmu_tilde needs the POI {model.info.par_names[poi]!r} bounded below at 0, got {low}")
    return qmu(model, mu, data, on_fail=on_fail)


def q0(model: HistFactoryModel, data, *, on_fail: str = "warn"):
    """Discovery statistic q0 (scalar): t_0 if muhat >= 0 else 0."""
    t, muhat, _, _ = _tmu_like(model, 0.0, data, None, on_fail)
    return jnp.where(muhat < 0.0, 0.0, t)


def asimov_for(model: HistFactoryModel, mu_asimov, data, *, on_fail: str = "warn"):
    """Asimov data as pyhf's generate_asimov_data: expectation at the fixed-POI fit to ``data``, (B + C,)."""
    return asimov_data(model, fit(model, data, fixed_poi=mu_asimov, on_fail=on_fail).pars)


def _qtilde_teststat(sqrtq, sqrtq_a):
    safe_a = jnp.where(sqrtq_a > 0, sqrtq_a, 1.0)
    return jnp.where(sqrtq <= sqrtq_a, sqrtq - sqrtq_a, (sqrtq**2 - sqrtq_a**2) / (2.0 * safe_a))


def hypotest(model: HistFactoryModel, mu, data, *, test_stat: str = "qtilde", on_fail: str = "warn"):
    """Asymptotic CLs at POI = ``mu``: ``(CLs_obs, CLs_exp)``, a scalar and shape (5,) for x = 2, 1, 0, -1, -2.

    As ``pyhf.infer.hypotest(mu, data, model, test_stat=test_stat, calctype="asymptotics",
    return_expected_set=True)`` with the default ``calc_base_dist="normal"``. ``test_stat``: "qtilde" or "q".
    """
    if test_stat not in ("qtilde", "q"):
        raise ConfigError(f"test_stat must be 'qtilde' or 'q', got {test_stat!r}")
    data = full_data(model, data)
    stat = qmu_tilde if test_stat == "qtilde" else qmu
    q_obs = stat(model, mu, data, on_fail=on_fail)
    data_a = asimov_for(model, 0.0, data, on_fail=on_fail)
    q_a = stat(model, mu, data_a, on_fail=on_fail)
    sqrtq, sqrtq_a = _safe_sqrt(q_obs), _safe_sqrt(q_a)
    x = _qtilde_teststat(sqrtq, sqrtq_a) if test_stat == "qtilde" else sqrtq - sqrtq_a
    cls_obs = norm.cdf(-(x + sqrtq_a)) / norm.cdf(-x)
    n = jnp.array([2.0, 1.0, 0.0, -1.0, -2.0])
    cls_exp = norm.cdf(-(n + sqrtq_a)) / norm.cdf(-n)
    return cls_obs, cls_exp


def expected_z0(model: HistFactoryModel, *, mu_signal=1.0, pars=None, on_fail: str = "warn"):
    """Median expected discovery significance sqrt(q0) on the Asimov data at POI = ``mu_signal``, scalar.

    ``pars``: (P,) parameters generating the Asimov data (default ``model.init`` with the POI set).
    For one bin with a known background this is :func:`hepjax.stats.asymptotics.asimov_z0` (s, b).
    """
    pars = model.init if pars is None else jnp.asarray(pars)
    pars = pars.at[model.info.poi_index].set(mu_signal)
    return _safe_sqrt(q0(model, asimov_data(model, pars), on_fail=on_fail))


def asimov_sigma_mu(model: HistFactoryModel, mu_test, *, mu_true=1.0, on_fail: str = "warn"):
    """Expected POI resolution sigma = |mu_test - mu_true| / sqrt(t_mu_test(Asimov at mu_true)), scalar.

    The Asimov data are the model's expectation at ``model.init`` with POI = ``mu_true``; the free fit
    lets the POI go negative (bounds [-10, 10] here) so t is the two-sided profile likelihood ratio.
    """
    pars = model.init.at[model.info.poi_index].set(mu_true)
    data_a = asimov_data(model, pars)
    t = tmu(model, mu_test, data_a, poi_bounds=(-10.0, 10.0), on_fail=on_fail)
    return jnp.abs(mu_test - mu_true) / _safe_sqrt(t)


def expected_mu_interval(
    model: HistFactoryModel, *, mu_true=1.0, t_level=1.0, mu_range=(-10.0, 10.0), tol=1e-8, on_fail: str = "warn"
):
    """Expected interval ``(low, high)`` on the POI where the Asimov profile scan t_mu <= ``t_level``.

    ``t_level = 1`` gives the 68.3% interval. Asimov data at ``model.init`` with POI = ``mu_true``; each
    edge is found by bisection (host loop over the jit-compiled fixed-POI fit) inside ``mu_range``.
    Not differentiable (a scan); use :func:`asimov_sigma_mu` for a differentiable width.
    """
    pars = model.init.at[model.info.poi_index].set(mu_true)
    data_a = asimov_data(model, pars)
    ref = float(fit(model, data_a, poi_bounds=mu_range, on_fail=on_fail).twice_nll)
    mu_true = float(mu_true)

    def excess(mu):
        return float(fit(model, data_a, fixed_poi=mu, on_fail=on_fail).twice_nll) - ref - t_level

    def edge(inner, outer):
        if excess(outer) < 0:
            raise ConfigError(f"expected_mu_interval: t_mu stays below {t_level} up to mu={outer}; widen mu_range")
        while abs(outer - inner) > tol * (1.0 + abs(inner)):
            mid = 0.5 * (inner + outer)
            inner, outer = (mid, outer) if excess(mid) < 0 else (inner, mid)
        return 0.5 * (inner + outer)

    return edge(mu_true, float(mu_range[0])), edge(mu_true, float(mu_range[1]))


__all__ = [
    "asimov_for",
    "asimov_sigma_mu",
    "expected_mu_interval",
    "expected_z0",
    "hypotest",
    "q0",
    "qmu",
    "qmu_tilde",
    "tmu",
]
