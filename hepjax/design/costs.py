"""Cost models of detector parameters: what a better resolution costs, as a smooth differentiable function.

These are deliberately simple, documented placeholders: any callable ``cost(params) -> scalar`` can be used
instead in a design objective (e.g. ``physics_loss(params) + lam * cost(params)``). The costs are in
"reference units": 1 for the reference design, so they can be combined with a dimensionless weight.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from hepjax.errors import DataError, is_concrete


def power_law_cost(value: ArrayLike, reference: ArrayLike, power: ArrayLike = 1.0) -> jax.Array:
    """``(reference / value) ** power``: cost of a resolution-like parameter, rising as ``value`` shrinks.

    Args:
      value: the parameter (same units as ``reference``, e.g. a fraction of sqrt(GeV)), > 0, any shape.
      reference: the value that costs 1, > 0, broadcastable.
      power: exponent ``p >= 0`` (1: halving the resolution doubles the cost).

    Returns:
      dimensionless cost, shape ``broadcast(value, reference)``.
    """
    return (jnp.asarray(reference) / jnp.asarray(value)) ** power


def calorimeter_cost(
    stochastic: ArrayLike,
    constant: ArrayLike,
    reference: tuple[float, float] = (0.10, 0.01),
    *,
    powers: tuple[float, float] = (2.0, 1.0),
    shares: tuple[float, float] = (0.5, 0.5),
) -> jax.Array:
    """Cost of a calorimeter with resolution ``sigma/E = a/sqrt(E) (+) c``, relative to a reference design.

    ``cost = s_a (a_ref/a)^p_a + s_c (c_ref/c)^p_c``: the stochastic term ``a`` (fraction at 1 GeV, i.e.
    ``sqrt(GeV)``) is driven by sampling fraction / photostatistics, whose cost grows roughly with the number of
    layers ~ ``1/a^2`` (default ``p_a = 2``); the constant term ``c`` (fraction) by calibration and uniformity,
    taken linear (``p_c = 1``). With the default ``shares`` summing to 1 the reference design costs 1.

    Args:
      stochastic: ``a`` in sqrt(GeV) (0.10 = 10 %/sqrt(E)), > 0.
      constant: ``c`` as a fraction (0.01 = 1 %), > 0.
      reference: ``(a_ref, c_ref)``, same units.
      powers: ``(p_a, p_c)`` exponents.
      shares: ``(s_a, s_c)`` weight of each term at the reference.

    Returns:
      dimensionless scalar (or broadcast shape) cost; decreasing in ``a`` and in ``c``.

    Raises:
      DataError (a ValueError): a reference value is not > 0.
    """
    a_ref, c_ref = reference
    for name, v in (("reference stochastic", a_ref), ("reference constant", c_ref)):
        if not float(v) > 0:
            raise DataError(f"calorimeter_cost: {name} must be > 0, got {v}")
    return shares[0] * power_law_cost(stochastic, a_ref, powers[0]) + shares[1] * power_law_cost(
        constant, c_ref, powers[1]
    )


def budget_cost(scales: ArrayLike, shares: ArrayLike, powers: ArrayLike) -> jax.Array:
    """Cost of a detector made of subsystems, each with a resolution ``scale`` relative to a reference design.

    ``cost = sum_i shares_i * scales_i ** -powers_i``: subsystem ``i`` costs ``shares_i`` at the reference
    (``scale = 1``) and its cost rises as a power law as its resolution improves (``scale < 1``), as in
    :func:`calorimeter_cost` (``p = 2`` for a stochastic term, 1 for a constant term or a tracker's
    resolution). With shares summing to 1 the reference design costs 1.

    Args:
      scales: ``[K]`` resolution multipliers (dimensionless, > 0).
      shares: ``[K]`` cost of each subsystem at the reference (> 0).
      powers: ``[K]`` exponents (> 0).

    Returns:
      dimensionless scalar.
    """
    scales, shares, powers = jnp.asarray(scales), jnp.asarray(shares), jnp.asarray(powers)
    return jnp.sum(shares * scales ** (-powers))


def equal_cost_scales(logits: ArrayLike, target: ArrayLike, shares: ArrayLike, powers: ArrayLike) -> jax.Array:
    """Resolution scales ``[K]`` of a detector whose :func:`budget_cost` equals ``target`` exactly.

    The equal-cost constraint by reparameterisation: ``f = softmax(logits)`` is the fraction of the budget
    ``target`` spent on each subsystem, and ``scales_i = (f_i target / shares_i) ** (-1 / powers_i)`` is the
    resolution that fraction buys. Every ``logits`` is feasible and the constraint holds to rounding, so an
    optimiser can only redistribute the budget. ``logits = log(shares)`` with ``sum(shares) = target = 1``
    gives scales 1 (the reference design). Adding a constant to all logits changes nothing.

    Args:
      logits: ``[K]`` unconstrained budget logits.
      target: the cost to hold (> 0, same units as :func:`budget_cost`).
      shares, powers: as :func:`budget_cost`.

    Raises:
      DataError (a ValueError): ``target``, a share or a power not > 0 (checked when concrete): no detector
        meets that constraint.
    """
    for name, v in (("target", target), ("shares", shares), ("powers", powers)):
        if is_concrete(v) and not np.all(np.asarray(v) > 0):
            raise DataError(f"equal_cost_scales: {name} must be > 0 (the cost constraint cannot be met), got {v}")
    f = jax.nn.softmax(jnp.asarray(logits))
    return (f * jnp.asarray(target) / jnp.asarray(shares)) ** (-1.0 / jnp.asarray(powers))


__all__ = ["budget_cost", "calorimeter_cost", "equal_cost_scales", "power_law_cost"]
