"""Sample statistics used by the figures of merit: weighted quantile, Jensen–Shannon divergence,
separation power (triangular discriminator), Wasserstein-1 of weighted samples and a chi2
goodness-of-fit with its p-value."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.stats


def weighted_quantile(v: np.ndarray, q: float, w: np.ndarray | None = None) -> float:
    """The smallest value of ``v [n]`` with at least a fraction ``q`` of the total weight ``w [n]`` at or below it.

    A sample value (no interpolation); ``w`` defaults to 1 per entry.
    """
    v = np.asarray(v, float)
    w = np.ones(len(v)) if w is None else np.asarray(w, float)
    if v.size == 0 or w.sum() <= 0:
        raise ValueError("weighted_quantile needs a non-empty sample with positive total weight")
    o = np.argsort(v)
    cw = np.cumsum(w[o])
    return float(v[o][min(np.searchsorted(cw, q * cw[-1]), len(v) - 1)])


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """JSD (base 2) of two histograms ``p [k]``, ``q [k]`` (normalised here); 0 for identical, 1 for disjoint."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    if p.shape != q.shape or p.sum() <= 0 or q.sum() <= 0:
        raise ValueError("jensen_shannon needs two same-shape histograms with positive totals")
    p, q = p / p.sum(), q / q.sum()
    m = 0.5 * (p + q)

    def kl(a):
        nz = a > 0
        return float(np.sum(a[nz] * np.log2(a[nz] / m[nz])))

    return 0.5 * kl(p) + 0.5 * kl(q)


def separation_power(a: np.ndarray, b: np.ndarray, bins: int | np.ndarray = 30) -> float:
    """CaloChallenge separation power ``1/2 sum_i (p_i - q_i)^2 / (p_i + q_i)`` of two samples.

    ``a``, ``b``: 1-D samples histogrammed on common ``bins`` (edges, or a count spanning the
    1st–99th percentiles of both). 0: identical histograms, 1: disjoint.
    """
    a, b = np.asarray(a, np.float64).ravel(), np.asarray(b, np.float64).ravel()
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        raise ValueError("separation_power needs two non-empty samples")
    if np.isscalar(bins):
        both = np.concatenate([a, b])
        lo, hi = np.percentile(both, [1, 99])
        if hi <= lo:
            lo, hi = both.min(), both.max() + 1e-12
        bins = np.linspace(lo, hi, int(bins) + 1)
    p = np.histogram(np.clip(a, bins[0], bins[-1]), bins)[0] / a.size
    q = np.histogram(np.clip(b, bins[0], bins[-1]), bins)[0] / b.size
    return triangular_discriminator(p, q)


def triangular_discriminator(p: np.ndarray, q: np.ndarray) -> float:
    """Triangular discriminator ``Delta(p, q) = 1/2 sum_i (p_i - q_i)^2 / (p_i + q_i)`` of two histograms.

    ``p [k]``, ``q [k]`` are bin contents (counts or weight sums, any units) normalised here to unit
    sum, so the sum approximates ``1/2 int (p - q)^2 / (p + q) dx`` of the densities independently of
    the bin widths. 0: identical shapes, 1: disjoint. Bins empty in both are skipped. The OmniFold
    paper (arXiv:1911.09107) quotes ``Delta x 10^3``; this function returns ``Delta`` itself. The
    CaloChallenge calls the same quantity the separation power (:func:`separation_power`, on samples).
    """
    p, q = np.asarray(p, np.float64).ravel(), np.asarray(q, np.float64).ravel()
    if p.shape != q.shape:
        raise ValueError(f"triangular_discriminator: histograms differ in length, {p.size} vs {q.size} bins")
    for name, h in (("p", p), ("q", q)):
        if not np.all(np.isfinite(h)) or np.any(h < 0) or h.sum() <= 0:
            raise ValueError(f"triangular_discriminator: histogram {name} must be finite, >= 0, with a positive sum")
    p, q = p / p.sum(), q / q.sum()
    both = p + q
    return float(0.5 * np.sum(np.where(both > 0, (p - q) ** 2 / np.where(both > 0, both, 1.0), 0.0)))


def wasserstein_1(u: np.ndarray, v: np.ndarray, u_weights: np.ndarray | None = None, v_weights=None) -> float:
    """Earth mover's distance ``W1 = int |F_u(x) - F_v(x)| dx`` between two weighted 1-D samples.

    Args:
      u, v: ``[n_u]``, ``[n_v]`` sample values (units of the observable; ``W1`` has the same units).
      u_weights, v_weights: non-negative per-event weights (normalised here), 1 each when None.

    ``F`` are the weighted empirical CDFs; their difference is piecewise constant between the sorted
    pooled values, so the integral is an exact finite sum (same definition as
    ``scipy.stats.wasserstein_distance``).
    """
    u, v = np.asarray(u, np.float64).ravel(), np.asarray(v, np.float64).ravel()
    wu = np.ones(u.size) if u_weights is None else np.asarray(u_weights, np.float64).ravel()
    wv = np.ones(v.size) if v_weights is None else np.asarray(v_weights, np.float64).ravel()
    for name, x, w in (("u", u, wu), ("v", v, wv)):
        if x.size == 0 or w.shape != x.shape:
            raise ValueError(f"wasserstein_1: sample {name} is empty or its weights have another length")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(w))) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"wasserstein_1: sample {name} needs finite values and weights >= 0 with positive sum")
    x = np.concatenate([u, v])
    # signed mass: +w_u / sum(w_u) for u's events, -w_v / sum(w_v) for v's; its running sum is F_u - F_v
    mass = np.concatenate([wu / wu.sum(), -wv / wv.sum()])
    order = np.argsort(x, kind="stable")
    x, diff_cdf = x[order], np.cumsum(mass[order])
    return float(np.sum(np.abs(diff_cdf[:-1]) * np.diff(x)))


class Chi2(NamedTuple):
    """Result of :func:`chi2_ndf`: ``chi2``, degrees of freedom ``ndf`` and ``p_value = P(X >= chi2)``."""

    chi2: float
    ndf: int
    p_value: float


def chi2_ndf(obs: np.ndarray, exp: np.ndarray, err: np.ndarray, *, n_params: int = 0) -> Chi2:
    """``chi2 = sum_i ((obs_i - exp_i) / err_i)^2`` over bins, ``ndf = n_bins_used - n_params`` and its p-value.

    Args:
      obs, exp, err: ``[k]`` observed values, expectation and the (Gaussian) error of each bin, same units.
      n_params: parameters fitted to the same bins (subtracted from the degrees of freedom).

    Bins with ``err == 0`` are left out (an empty histogram bin carries no Gaussian information) and
    do not count towards ``ndf``; a zero-error bin where ``obs != exp`` raises, since its chi2 is
    infinite. ``p_value`` is ``scipy.stats.chi2.sf(chi2, ndf)``; NaN when ``ndf < 1``.
    """
    obs, exp, err = (np.asarray(a, np.float64).ravel() for a in (obs, exp, err))
    if not (obs.shape == exp.shape == err.shape):
        raise ValueError(
            f"chi2_ndf: obs, exp and err must have the same length, got {obs.shape}, {exp.shape}, {err.shape}"
        )
    if not (np.all(np.isfinite(obs)) and np.all(np.isfinite(exp)) and np.all(np.isfinite(err))) or np.any(err < 0):
        raise ValueError("chi2_ndf: obs, exp and err must be finite and err non-negative")
    used = err > 0
    if np.any(~used & (obs != exp)):
        raise ValueError(f"chi2_ndf: {int(np.sum(~used & (obs != exp)))} bin(s) with zero error and obs != exp")
    chi2 = float(np.sum(((obs[used] - exp[used]) / err[used]) ** 2))
    ndf = int(used.sum()) - int(n_params)
    p = float(scipy.stats.chi2.sf(chi2, ndf)) if ndf >= 1 else float("nan")
    return Chi2(chi2, ndf, p)
