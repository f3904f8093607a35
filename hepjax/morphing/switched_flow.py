"""Data/MC morphing with one conditional flow and a boolean switch in its context.

One flow ``p(x | s)`` learns the simulation density (``s = 0``) and the data density
(``s = 1``) at once; the two branches share every weight and differ only through the switch.
A simulated event is corrected by mapping it to the latent space through the simulation
branch and back through the data branch::

    x_corrected = f(f^{-1}(x_sim; s=0); s=1)

which transports the simulated density onto the data density (the optimal-transport-like
map the flow learned; cf. "Morphing one dataset into another", Klein, Golling et al.,
arXiv:2305.17024 / flows for data-MC corrections).

Example::

    flow = make_switched_flow(5, FlowConfig(layers=6), preprocess=(standardize(m, s),))
    res = fit_switched_flow(flow, x_sim, x_data, train_cfg, workdir=..., key=key)
    x_corr = morph(flow, res.state.params, x_sim_test)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.flows import Flow, FlowConfig, fit_flow, flow_from_config
from hepjax.train import FitResult, TrainConfig

SIMULATION, DATA = 0, 1


def switch_context(branch: int, n: int) -> jax.Array:
    """The context ``[n, 1]`` selecting ``branch`` (0: simulation, 1: data)."""
    if branch not in (SIMULATION, DATA):
        raise ValueError(f"branch must be 0 (simulation) or 1 (data), got {branch!r}")
    return jnp.full((n, 1), float(branch), jnp.float32)


def make_switched_flow(dim: int, cfg: FlowConfig, *, preprocess=(), seed: int = 0) -> Flow:
    """A flow on ``R^dim`` whose only context is the switch ``[.., 1]``."""
    return flow_from_config(cfg, dim, context_dim=1, preprocess=preprocess, seed=seed)


def fit_switched_flow(
    flow: Flow,
    x_sim: np.ndarray,
    x_data: np.ndarray,
    cfg: TrainConfig,
    *,
    workdir: str | Path,
    key: jax.Array,
) -> FitResult:
    """Maximum likelihood on both samples, ``x_sim [n_s, d]`` with ``s=0`` and ``x_data [n_d, d]`` with ``s=1``.

    The smaller sample is resampled (with a seeded bootstrap) to the size of the larger one so
    both branches see equal weight.
    """
    x_sim, x_data = np.asarray(x_sim, np.float32), np.asarray(x_data, np.float32)
    if x_sim.ndim != 2 or x_data.ndim != 2 or x_sim.shape[1] != x_data.shape[1] != flow.dim:
        raise ValueError(f"x_sim and x_data must be [n, {flow.dim}], got {x_sim.shape} and {x_data.shape}")
    rng = np.random.default_rng(int(jax.random.randint(key, (), 0, 2**30)))
    n = max(len(x_sim), len(x_data))
    if len(x_sim) < n:
        x_sim = x_sim[rng.integers(0, len(x_sim), n)]
    if len(x_data) < n:
        x_data = x_data[rng.integers(0, len(x_data), n)]
    x = np.concatenate([x_sim, x_data])
    c = np.concatenate([np.zeros((n, 1)), np.ones((n, 1))]).astype(np.float32)
    return fit_flow(flow, x, c, cfg, workdir=workdir, key=key)


def morph(flow: Flow, params: Any, x: jax.Array, *, source: int = SIMULATION, target: int = DATA) -> jax.Array:
    """Map events ``x [n, d]`` from the ``source`` branch's density to the ``target`` branch's."""
    x = jnp.asarray(x)
    n = x.shape[0]
    z, _ = flow.inverse(params, x, switch_context(source, n))
    y, _ = flow.forward(params, z, switch_context(target, n))
    return y


def chi2_ndf(observed: np.ndarray, reference: np.ndarray, bins: np.ndarray) -> tuple[float, int]:
    """Chi-square between two unit-weight samples' histograms on ``bins`` (shape-only).

    ``chi2 = sum_i (n_i - k m_i)^2 / (n_i + k^2 m_i)`` with ``k = N / M`` normalising the
    reference; bins empty in both are skipped. Returns ``(chi2 / ndf, ndf)``, ``ndf`` = bins
    used minus one (the normalisation).
    """
    n = np.histogram(observed, bins)[0].astype(np.float64)
    m = np.histogram(reference, bins)[0].astype(np.float64)
    if n.sum() == 0 or m.sum() == 0:
        raise ValueError("chi2_ndf needs both samples to populate the bins")
    k = n.sum() / m.sum()
    var = n + k**2 * m
    used = var > 0
    ndf = int(used.sum()) - 1
    if ndf < 1:
        raise ValueError("chi2_ndf needs at least two populated bins")
    chi2 = float(np.sum((n[used] - k * m[used]) ** 2 / var[used]))
    return chi2 / ndf, ndf
