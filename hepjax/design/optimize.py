"""Gradient-based design optimisation of a scalar objective over a pytree of (bounded) parameters.

Bounds are imposed by reparameterisation, not clipping, so every step stays feasible and gradients stay
smooth: a ``"positive"`` leaf is ``softplus(u)``, a ``(lo, hi)`` leaf is ``lo + (hi - lo) * sigmoid(u)``, and
the optax optimizer moves the unconstrained ``u``. A new ``jax.random`` key is split off for every step (for
objectives that sample events or detector noise), or the same key is reused with ``fresh_noise=False``
(a deterministic objective, common random numbers).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from hepjax.errors import DataError


class OptimizeResult(NamedTuple):
    """Outcome of :func:`optimize`.

    Attributes:
      params: final (constrained) parameters, same pytree as ``init_params``.
      path_params: list of ``steps`` pytrees: the parameters at which the objective was evaluated at each step.
      path_objective: ``[steps]`` objective values at those parameters (objective's units).
      n_evals: number of objective (value-and-gradient) evaluations performed.
      compilations: XLA compilations of the step function (1 unless shapes or dtypes changed).
    """

    params: Any
    path_params: list
    path_objective: np.ndarray
    n_evals: int
    compilations: int = 1


def _is_bound(b) -> bool:
    return b is None or isinstance(b, (str, tuple))


def _to_constrained(u, b):
    if b is None:
        return u
    if b == "positive":
        return jax.nn.softplus(u)
    lo, hi = b
    return lo + (hi - lo) * jax.nn.sigmoid(u)


def _to_unconstrained(x, b, name):
    x = jnp.asarray(x)
    if b is None:
        return x
    if b == "positive":
        if not bool(jnp.all(x > 0)):
            raise DataError(f"optimize: initial value of {name} must be > 0 for a 'positive' bound")
        return x + jnp.log(-jnp.expm1(-x))  # inverse softplus
    if not (isinstance(b, tuple) and len(b) == 2 and float(b[0]) < float(b[1])):
        raise DataError(f"optimize: bound of {name} must be None, 'positive' or (lo, hi) with lo < hi, got {b!r}")
    lo, hi = b
    if not bool(jnp.all((x > lo) & (x < hi))):
        raise DataError(f"optimize: initial value of {name} must lie strictly inside ({lo}, {hi})")
    t = (x - lo) / (hi - lo)
    return jnp.log(t) - jnp.log1p(-t)  # logit


def optimize(
    objective: Callable[[Any, jax.Array], jax.Array],
    init_params: Any,
    *,
    optimizer: optax.GradientTransformation,
    steps: int,
    key: jax.Array,
    bounds: Any = None,
    fresh_noise: bool = True,
    maximize: bool = False,
    progress: bool = True,
) -> OptimizeResult:
    """Minimise (``maximize=True``: maximise) ``objective(params, key) -> scalar`` with an optax optimizer.

    Args:
      objective: pure, differentiable in ``params``; ``key`` is its only source of randomness.
      init_params: any pytree of float arrays; bounded leaves must start strictly inside their bounds.
      optimizer: e.g. ``optax.adam(1e-2)``; it acts on the unconstrained parameters.
      steps: number of optimisation steps (= objective evaluations).
      key: ``jax.random`` key; step ``i`` uses ``fold_in(key, i)`` (or ``key`` itself if not ``fresh_noise``).
      bounds: ``None`` (all free) or a pytree of the structure of ``init_params`` whose leaves are ``None``
        (free), ``"positive"`` or a ``(lo, hi)`` tuple, in the parameter's units.
      fresh_noise: new key each step (True) or the same key every step (False).
      maximize: maximise instead of minimise.
      progress: a progress bar with the current objective (only when stderr is a terminal).

    Returns:
      :class:`OptimizeResult` (final params, per-step path, number of evaluations).

    Raises:
      DataError (a ValueError): bad bound or initial value outside its bound, ``steps < 1``.
      FloatingPointError: the objective or its gradient is NaN/Inf; the message names the step.
    """
    if steps < 1:
        raise DataError(f"optimize: steps must be >= 1, got {steps}")
    leaves, treedef = jax.tree_util.tree_flatten_with_path(init_params)
    if bounds is None:
        bound_leaves = [None] * len(leaves)
    else:
        bound_leaves = jax.tree.leaves(bounds, is_leaf=_is_bound)
        if len(bound_leaves) != len(leaves):
            raise DataError(f"optimize: bounds has {len(bound_leaves)} leaves, init_params has {len(leaves)}")
    names = [jax.tree_util.keystr(p) for p, _ in leaves]
    u0 = [_to_unconstrained(x, b, n) for (_, x), b, n in zip(leaves, bound_leaves, names)]
    u = jax.tree_util.tree_unflatten(treedef, u0)

    def constrain(u):
        return jax.tree_util.tree_unflatten(
            treedef, [_to_constrained(v, b) for v, b in zip(jax.tree.leaves(u), bound_leaves)]
        )

    sign = -1.0 if maximize else 1.0

    def loss(u, k):
        value = objective(constrain(u), k)
        return sign * value, value

    @jax.jit
    def step(u, opt_state, k):
        (_, value), g = jax.value_and_grad(loss, has_aux=True)(u, k)
        finite = jnp.isfinite(value) & jnp.all(jnp.array([jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(g)]))
        updates, opt_state = optimizer.update(g, opt_state, u)
        return optax.apply_updates(u, updates), opt_state, value, finite

    opt_state = optimizer.init(u)
    path_params, path_obj, n_evals = [], [], 0
    bar = tqdm(total=steps, disable=not (progress and sys.stderr.isatty()), unit="step", desc="optimize")
    for i in range(steps):
        k = jax.random.fold_in(key, i) if fresh_noise else key
        p_i = constrain(u)
        u, opt_state, value, finite = step(u, opt_state, k)
        n_evals += 1
        if not bool(finite):
            raise FloatingPointError(f"optimize: objective or its gradient is not finite at step {i} ({float(value)})")
        path_params.append(p_i)
        path_obj.append(float(value))
        bar.update()
        bar.set_postfix(objective=f"{float(value):.4g}", refresh=False)
    bar.close()
    return OptimizeResult(constrain(u), path_params, np.asarray(path_obj), n_evals, step._cache_size())


__all__ = ["OptimizeResult", "optimize"]
