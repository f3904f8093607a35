"""Statistical uncertainty of IBU from bootstrap replicas, all unfolded at once with ``jax.vmap``.

Each replica Poisson-resamples the measured counts (``data*_j ~ Poisson(data_j)``, the binned form of
giving every measured event a Poisson(1) weight) and, optionally, the Monte Carlo migration counts
from which the response matrix was built (``counts*_ji ~ Poisson(counts_ji)``, the number of generated
events per truth bin held fixed), then unfolds with :func:`~hepjax.unfolding.iterative_unfold`. The
replicas' mean, covariance and per-bin standard deviation are the result; replica ``r`` uses
``jax.random.split(key, n_replicas)[r]``, so a Python loop over the same keys gives the same numbers.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.typing import ArrayLike

from hepjax.errors import DataError
from hepjax.unfolding.ibu import _check_inputs, iterative_unfold


class BootstrapUnfolding(NamedTuple):
    """Result of :func:`bootstrap_ibu` (all in unfolded counts per truth bin, ``k`` bins).

    Attributes:
      nominal: ``[k]`` the unfolding of the measured data with the nominal response.
      mean: ``[k]`` mean of the replicas.
      cov: ``[k, k]`` covariance of the replicas (``ddof = 1``).
      sigma: ``[k]`` ``sqrt(diag(cov))``, the per-bin statistical uncertainty.
      replicas: ``[n_replicas, k]`` every replica's unfolded counts.
    """

    nominal: jax.Array
    mean: jax.Array
    cov: jax.Array
    sigma: jax.Array
    replicas: jax.Array


def response_from_migrations(migrations: ArrayLike, n_truth: ArrayLike) -> tuple[jax.Array, jax.Array]:
    """``(response [n_reco, k], efficiencies [k])`` from MC counts.

    Args:
      migrations: ``[n_reco, k]`` number (or weight sum) of simulated events generated in truth bin ``i``
        and reconstructed in reco bin ``j``.
      n_truth: ``[k]`` number (or weight sum) of simulated events generated in truth bin ``i``, reconstructed
        or not; ``response[j, i] = migrations[j, i] / n_truth[i]`` (pyunfold's normalisation: the column
        sums are the efficiencies).
    """
    migrations, n_truth = jnp.asarray(migrations), jnp.asarray(n_truth)
    response = migrations / n_truth
    return response, jnp.sum(response, axis=0)


@partial(jax.jit, static_argnames=("n_iterations", "fluctuate_response"))
def _bootstrap(keys, data, migrations, n_truth, prior, *, n_iterations, fluctuate_response):
    """Nominal unfolding and the replicas in one compiled call (the inputs were checked eagerly)."""
    unfold = partial(iterative_unfold, prior=prior, n_iterations=n_iterations)

    def one(key):
        k_data, k_mc = jax.random.split(key)
        d = jax.random.poisson(k_data, data, data.shape).astype(data.dtype)
        m = migrations
        if fluctuate_response:
            m = jax.random.poisson(k_mc, migrations, migrations.shape).astype(data.dtype)
        return unfold(d, *response_from_migrations(m, n_truth))

    reps = jax.vmap(one)(keys)
    cov = jnp.cov(reps, rowvar=False, ddof=1)
    nominal = unfold(data, *response_from_migrations(migrations, n_truth))
    return BootstrapUnfolding(nominal, jnp.mean(reps, axis=0), cov, jnp.sqrt(jnp.diag(cov)), reps)


def bootstrap_ibu(
    key: jax.Array,
    data: ArrayLike,
    migrations: ArrayLike,
    n_truth: ArrayLike,
    *,
    prior: ArrayLike | None = None,
    n_iterations: int = 4,
    n_replicas: int = 200,
    fluctuate_response: bool = False,
) -> BootstrapUnfolding:
    """IBU of ``data`` and of ``n_replicas`` Poisson bootstrap replicas, unfolded together (``vmap``).

    Args:
      key: PRNG key; replica ``r`` uses ``jax.random.split(key, n_replicas)[r]``.
      data: ``[n_reco]`` measured counts (unweighted events per reco bin; the Poisson resampling assumes counts).
      migrations: ``[n_reco, k]`` MC migration counts, see :func:`response_from_migrations`.
      n_truth: ``[k]`` MC events generated per truth bin (> 0, and each truth bin needs reconstructed events).
      prior: ``[k]`` starting truth distribution; flat when None.
      n_iterations: IBU iterations (static).
      n_replicas: number of bootstrap replicas (>= 2).
      fluctuate_response: also Poisson-resample ``migrations`` per replica (the MC-statistics uncertainty).

    Raises:
      DataError: bad shapes or counts (naming the array and bin), or replicas whose response lost every
        reconstructed event of a truth bin (too few MC events: the unfolding of that bin is undefined).
    """
    if int(n_replicas) < 2:
        raise DataError(f"bootstrap_ibu: n_replicas must be >= 2, got {n_replicas}")
    data, migrations, n_truth = jnp.asarray(data), jnp.asarray(migrations), jnp.asarray(n_truth)
    dtype = jnp.result_type(data, migrations, n_truth, jnp.float32)
    data, migrations, n_truth = (jnp.asarray(a, dtype) for a in (data, migrations, n_truth))
    if migrations.ndim != 2 or n_truth.shape != (migrations.shape[1],):
        raise DataError(
            f"bootstrap_ibu: migrations {tuple(migrations.shape)} must be [n_reco, k] and n_truth "
            f"{tuple(n_truth.shape)} must be [k]"
        )
    m, nt = np.asarray(migrations), np.asarray(n_truth)
    if not np.all(np.isfinite(m)) or np.any(m < 0):
        raise DataError("bootstrap_ibu: migrations must be finite, non-negative counts")
    if np.any(~(nt > 0)) or np.any(m.sum(0) > nt * (1 + 1e-6)):
        bad = int(np.flatnonzero(~(nt > 0) | (m.sum(0) > nt * (1 + 1e-6)))[0])
        raise DataError(
            f"bootstrap_ibu: truth bin {bad}: n_truth = {nt[bad]} must be > 0 and >= its reconstructed "
            f"migrations ({m.sum(0)[bad]})"
        )
    response, eff = response_from_migrations(migrations, n_truth)
    prior = None if prior is None else jnp.asarray(prior, dtype)
    if int(n_iterations) < 1:
        raise DataError(f"bootstrap_ibu: n_iterations must be >= 1, got {n_iterations}")
    _check_inputs(data, response, eff, prior)  # IBU's own checks, naming the bad bin
    out = _bootstrap(
        jax.random.split(key, int(n_replicas)),
        data,
        migrations,
        n_truth,
        prior,
        n_iterations=int(n_iterations),
        fluctuate_response=bool(fluctuate_response),
    )
    bad = ~np.all(np.isfinite(np.asarray(out.replicas)), axis=1)
    if np.any(bad):
        raise DataError(
            f"bootstrap_ibu: {int(bad.sum())} of {n_replicas} replicas are not finite: a resampled response "
            "lost every reconstructed event of a truth bin; merge sparse truth bins or use more MC events"
        )
    return out


__all__ = ["BootstrapUnfolding", "bootstrap_ibu", "response_from_migrations"]
