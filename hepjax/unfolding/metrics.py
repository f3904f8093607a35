"""Unfolding-quality figures of a binned unfolded distribution against the known truth.

The distances between distributions are generic and live in :mod:`hepjax.evaluation`
(:func:`~hepjax.evaluation.triangular_discriminator`, :func:`~hepjax.evaluation.wasserstein_1`,
:func:`~hepjax.evaluation.chi2_ndf`); this module adds what needs an unfolding's uncertainties: the
chi2 of unfolded vs truth with both uncertainties, the coverage of the ``+- n sigma`` bands, and one
dict of them per observable in the OmniFold paper's conventions (``Delta x 10^3``).
"""

from __future__ import annotations

import numpy as np

from hepjax.errors import DataError
from hepjax.evaluation import Chi2, chi2_ndf, triangular_discriminator


def _same_shape(**arrays) -> list[np.ndarray]:
    out = {k: np.asarray(v, np.float64) for k, v in arrays.items()}
    shapes = {k: v.shape for k, v in out.items()}
    if len(set(shapes.values())) != 1:
        raise DataError(f"unfolding metrics: arrays differ in shape: {shapes}")
    for k, v in out.items():
        if not np.all(np.isfinite(v)):
            raise DataError(f"unfolding metrics: {k} holds {int(np.sum(~np.isfinite(v)))} NaN/Inf bin(s)")
    return list(out.values())


def unfolded_chi2(
    unfolded: np.ndarray, truth: np.ndarray, sigma: np.ndarray, *, sigma_truth: np.ndarray | None = None
) -> Chi2:
    """``chi2 = sum_i (unfolded_i - truth_i)^2 / (sigma_i^2 + sigma_truth_i^2)`` and its ``ndf`` (bins used).

    Args:
      unfolded, truth: ``[k]`` counts (or weight sums) in the same truth bins and normalisation.
      sigma: ``[k]`` one-standard-deviation uncertainty of ``unfolded`` (e.g. from :func:`bootstrap_ibu`).
      sigma_truth: ``[k]`` uncertainty of ``truth`` (e.g. its Poisson ``sqrt(n)``); zero when None.

    Uncorrelated bins are assumed (diagonal covariance). ``chi2 / ndf`` is the figure of the issue;
    zero-uncertainty bins are left out as in :func:`hepjax.evaluation.chi2_ndf`.
    """
    st = np.zeros_like(np.asarray(sigma, np.float64)) if sigma_truth is None else sigma_truth
    unfolded, truth, sigma, st = _same_shape(unfolded=unfolded, truth=truth, sigma=sigma, sigma_truth=st)
    if np.any(sigma < 0) or np.any(st < 0):
        raise DataError("unfolded_chi2: sigma and sigma_truth must be >= 0")
    return chi2_ndf(unfolded, truth, np.sqrt(sigma**2 + st**2))


def coverage(unfolded: np.ndarray, sigma: np.ndarray, truth: np.ndarray, *, n_sigma: float = 1.0) -> float:
    """Fraction of bins whose truth lies in ``[unfolded - n_sigma sigma, unfolded + n_sigma sigma]``.

    ``unfolded``, ``sigma``, ``truth`` share any shape, e.g. ``[k]`` bins or ``[n_pseudo_experiments, k]``
    (then the fraction is over all bins of all pseudo-experiments); ``truth`` broadcasts. For Gaussian
    errors and ``n_sigma = 1`` the expectation is 0.683. Bins with ``sigma == 0`` count as covered only
    when ``unfolded == truth``.
    """
    unfolded, sigma = np.asarray(unfolded, np.float64), np.asarray(sigma, np.float64)
    truth = np.broadcast_to(np.asarray(truth, np.float64), unfolded.shape)
    unfolded, sigma, truth = _same_shape(unfolded=unfolded, sigma=sigma, truth=truth)
    if np.any(sigma < 0) or not n_sigma > 0:
        raise DataError(f"coverage: need sigma >= 0 and n_sigma > 0, got n_sigma={n_sigma}")
    if unfolded.size == 0:
        raise DataError("coverage: no bins")
    return float(np.mean(np.abs(unfolded - truth) <= n_sigma * sigma))


def unfolding_metrics(
    unfolded: np.ndarray, sigma: np.ndarray, truth: np.ndarray, *, sigma_truth: np.ndarray | None = None
) -> dict[str, float]:
    """The per-observable figures: ``delta_x1e3`` (triangular discriminator of the unit-normalised
    histograms, times 10^3 as in arXiv:1911.09107), ``chi2``, ``ndf``, ``chi2ndf`` and ``coverage``
    (1 sigma) of ``unfolded [k]`` with uncertainty ``sigma [k]`` against ``truth [k]``."""
    c = unfolded_chi2(unfolded, truth, sigma, sigma_truth=sigma_truth)
    return {
        "delta_x1e3": 1e3 * triangular_discriminator(unfolded, truth),
        "chi2": c.chi2,
        "ndf": c.ndf,
        "chi2ndf": c.chi2 / c.ndf if c.ndf > 0 else float("nan"),
        "coverage": coverage(unfolded, sigma, truth),
    }


__all__ = ["coverage", "unfolded_chi2", "unfolding_metrics"]
