"""Expected (Asimov) discovery significance of a counting experiment, in closed form.

Formulae from Cowan, Cranmer, Gross, Vitells, Eur. Phys. J. C71 (2011) 1554 (arXiv:1007.1727):

* known background:  Z0 = sqrt(2 ((s + b) ln(1 + s/b) - s))
* background known to +-sigma_b (auxiliary measurement):
  Z0 = sqrt(2 ((s + b) ln((s + b)(b + sb2) / (b^2 + (s + b) sb2)) - (b^2 / sb2) ln(1 + sb2 s / (b (b + sb2)))))
  with sb2 = sigma_b^2; it tends to the known-background form as sigma_b -> 0.

All functions are elementwise (broadcasting) over bins, differentiable with JAX and jit-able. Yields
are expected event counts (dimensionless); Z is in units of standard deviations.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax.scipy.stats import norm

from hepjax.errors import DataError, is_concrete


def _check_positive(name: str, x) -> None:
    """Raise DataError if concrete ``x`` has a non-positive entry (skipped for tracers under jit/grad)."""
    if not is_concrete(x):
        return
    a = np.asarray(x)
    if not np.all(a > 0):
        raise DataError(f"{name} must be > 0 in every bin, got min {a.min()!r}")


def _check_nonnegative(name: str, x) -> None:
    if not is_concrete(x):
        return
    a = np.asarray(x)
    if not np.all(a >= 0):
        raise DataError(f"{name} must be >= 0 in every bin, got min {a.min()!r}")


def _safe_sqrt(q):
    # Double-where: sqrt'(0) is infinite, so feed sqrt a harmless 1 where q <= 0 and select 0 after;
    # otherwise the gradient at s = 0 would be NaN (0 * inf) instead of 0.
    pos = q > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, q, 1.0)), 0.0)


def asimov_z0(s, b, sigma_b=None):
    """Median expected discovery significance Z0 for signal ``s`` over background ``b``.

    Args:
      s: expected signal counts, shape (...,), >= 0.
      b: expected background counts, broadcastable with ``s``, > 0.
      sigma_b: absolute background uncertainty (counts), broadcastable, >= 0; ``None`` means known b.

    Returns:
      Z0 per bin in standard deviations, broadcast shape of the inputs; 0 where s = 0.

    Raises:
      DataError (a ValueError): b <= 0, s < 0 or sigma_b < 0 (checked on concrete inputs only).
    """
    _check_positive("b (background)", b)
    _check_nonnegative("s (signal)", s)
    s = jnp.asarray(s)
    b = jnp.asarray(b)
    q_known = 2.0 * ((s + b) * jnp.log1p(s / b) - s)
    if sigma_b is None:
        return _safe_sqrt(q_known)
    _check_nonnegative("sigma_b", sigma_b)
    sb2 = jnp.asarray(sigma_b) ** 2
    has_unc = sb2 > 0
    sb2_safe = jnp.where(has_unc, sb2, 1.0)  # avoid b^2/0 in the unused branch (NaN gradients)
    # ln((s+b)(b+sb2)/(b^2+(s+b)sb2)) rewritten as log1p(s b / (b^2 + (s+b) sb2)) for precision at small s.
    t1 = (s + b) * jnp.log1p(s * b / (b**2 + (s + b) * sb2_safe))
    t2 = (b**2 / sb2_safe) * jnp.log1p(sb2_safe * s / (b * (b + sb2_safe)))
    q = jnp.where(has_unc, 2.0 * (t1 - t2), q_known)
    return _safe_sqrt(q)


def binned_asimov_z0(s, b, sigma_b=None, axis: int = -1):
    """Combined Z0 of independent bins, sqrt(sum_i Z0_i^2), summed along ``axis``.

    Args: as :func:`asimov_z0`; ``axis`` is the bin axis. Returns shape of the inputs without ``axis``.
    """
    z = asimov_z0(s, b, sigma_b)
    return _safe_sqrt(jnp.sum(z**2, axis=axis))


def p_from_z(z):
    """One-sided p-value of a significance ``z`` (standard deviations): p = 1 - Phi(z)."""
    return norm.sf(z)


def z_from_p(p):
    """Significance (standard deviations) of a one-sided p-value ``p`` in (0, 1): z = Phi^-1(1 - p)."""
    return -norm.ppf(p)


__all__ = ["asimov_z0", "binned_asimov_z0", "p_from_z", "z_from_p"]
