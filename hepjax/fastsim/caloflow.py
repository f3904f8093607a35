"""CaloFlow-style fast calorimeter simulation (Krause & Shih, arXiv:2106.05285).

Two conditional flows:

- flow 1 learns the 5 layer energies given the incident energy, in CaloFlow's ``u`` space
  (``u_0 = sum_l E_l / (U_SCALE E_inc)``, ``u_i = E_{i-1} / sum_{j >= i-1} E_j`` for i=1..4, all
  in ``[0, 1]``), behind an exact ``logit`` + standardisation;
- flow 2 learns the 368 voxel energies normalised to their layer's energy, given the incident
  and layer energies, behind an exact ``logit`` (CaloFlow's ``alpha``) + standardisation.

Threshold and dequantisation: a cascade voxel is either empty or holds at least one active-plane
crossing, ``E_c * sampling_step / em_scale = 3.83 MeV``. Empty voxels (and empty layers) are
dequantised to ``U(0, noise)`` (default 1 MeV); deposits are left as they are. Generated voxels
below ``threshold`` (default 2 MeV, between the two) are set to zero. The gap between the
noise's upper edge and the smallest deposit matters: a flow smooths the cliff at the top of the
uniform noise, and with ``noise = threshold = 3.7 MeV`` (no gap) that smoothed mass landed above
the threshold as spurious low-energy hits far from the axis, making showers too wide and too
dense (the measured effect: docs/defaults.md). Generation inverts the dequantisation exactly:
per layer, the largest normalised voxels are kept and scaled so that they sum to flow 1's layer
energy while each stays ``>= threshold`` (:func:`threshold_layer`), the rest are set to zero.

Symmetry: photons enter on the axis, so the showers' distribution is invariant under the 20
rotations/reflections of the angular bins (:func:`~hepjax.fastsim.geometry.symmetry_permutations`).
With ``caloflow.augment`` flow 2 trains on every batch turned by a random one of them (20 times the
showers it would otherwise see; without it, flow 2 overtrains), and its standardisation uses the
symmetrised statistics.

:func:`make_sampler` returns one ``jit``-compiled function that turns incident energies into
showers ``[n, 368]`` (GeV); it compiles once per batch size. Run it under :data:`CPU_RUNTIME`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.config import param
from hepjax.fastsim.cascade import check_energies
from hepjax.fastsim.geometry import N_LAYERS, N_VOXELS, layer_slices, symmetry_permutations
from hepjax.flows import Flow, FlowConfig, fit_flow, flow_from_config, logit, standardize
from hepjax.runtime import HostRuntime
from hepjax.train import TrainConfig

#: CPU runtime of the fast simulation (declared by its experiment and bench area): XLA's own fusion
#: emitters instead of YNNPACK, faster for the RQS flow at dim 368 (measured: docs/defaults.md).
CPU_RUNTIME = HostRuntime(library_fusions="none")

U_SCALE = 1.5  # u_0 = total deposited / (U_SCALE * incident); response ~ 0.97 +- few %


@dataclasses.dataclass(frozen=True)
class CaloFlowConfig:
    """The ``caloflow:`` section."""

    threshold: float = param(
        2e-3,
        gt=0.0,
        doc="voxel energy threshold [GeV]: generated voxels below it are zeroed; below the smallest deposit (3.83 MeV)",
    )
    noise: float = param(
        1e-3, gt=0.0, doc="empty voxels/layers are dequantised to U(0, noise) GeV; <= threshold, best well below it"
    )
    alpha: float = param(1e-6, gt=0.0, lt=0.1, doc="logit squeeze")
    augment: bool = param(
        True,
        doc="train flow 2 on each batch turned by a random element of the calorimeter's "
        "rotation/reflection symmetry (photons enter on the axis)",
    )


class CaloFlow(NamedTuple):
    """The two flows and the fixed preprocessing constants (NumPy, saved with the model)."""

    flow1: Flow
    flow2: Flow
    stats: dict  # log_e_range, ctx2_mean, ctx2_std, threshold
    cfg: CaloFlowConfig


def layer_energies(voxels: np.ndarray) -> np.ndarray:
    """``[n, 368] -> [n, 5]`` energy per layer [GeV]."""
    return np.stack([voxels[:, s].sum(1) for s in layer_slices()], axis=1)


def _layer_sum(x: jax.Array) -> jax.Array:
    return jnp.stack([x[:, s].sum(1) for s in layer_slices()], axis=1)


def _expand_layers(e: jax.Array) -> jax.Array:
    """``[n, 5] -> [n, 368]``: each voxel gets its layer's value."""
    return jnp.concatenate(
        [jnp.repeat(e[:, i : i + 1], s.stop - s.start, axis=1) for i, s in enumerate(layer_slices())], axis=1
    )


def encode_layers(e_layers: np.ndarray, e_inc: np.ndarray) -> np.ndarray:
    """Layer energies ``[n, 5]`` -> CaloFlow ``u [n, 5]`` in ``[0, 1]``."""
    total = e_layers.sum(1)
    u = [total / (U_SCALE * e_inc)]
    rem = total.copy()
    for i in range(N_LAYERS - 1):
        u.append(np.where(rem > 0, e_layers[:, i] / np.maximum(rem, 1e-12), 0.0))
        rem = rem - e_layers[:, i]
    return np.clip(np.stack(u, 1), 0.0, 1.0).astype(np.float32)


def decode_layers(u: jax.Array, e_inc: jax.Array) -> jax.Array:
    """Inverse of :func:`encode_layers`: ``u [n, 5]`` -> layer energies ``[n, 5]`` GeV."""
    u = jnp.clip(u, 0.0, 1.0)
    rem = u[:, 0] * U_SCALE * e_inc
    out = []
    for i in range(N_LAYERS - 1):
        out.append(u[:, i + 1] * rem)
        rem = rem - out[-1]
    out.append(rem)
    return jnp.stack(out, 1)


def _context1(e_inc, log_e_range):
    lo, hi = log_e_range
    return ((jnp.log(e_inc) - lo) / (hi - lo) * 2.0 - 1.0)[:, None]


def _context2(e_inc, e_layers, stats):
    c = jnp.concatenate([_context1(e_inc, stats["log_e_range"]), jnp.log10(e_layers + 1e-3)], axis=1)
    return (c - stats["ctx2_mean"]) / stats["ctx2_std"]


def dequantise(values: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Empty entries (``== 0``) of ``values [...]`` GeV replaced by ``U(0, noise)``; deposits unchanged."""
    return np.where(values > 0, values, rng.uniform(0.0, noise, values.shape))


def normalised_voxels(voxels: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Dequantised voxels divided by their layer's (dequantised) sum: ``[n, 368]`` in (0, 1)."""
    v = dequantise(voxels, noise, rng)
    return (v / np.repeat(layer_energies(v), [s.stop - s.start for s in layer_slices()], axis=1)).astype(np.float32)


def threshold_layer(x: jax.Array, e_layer: jax.Array, threshold: float) -> jax.Array:
    """Voxel energies of one layer from normalised flow output, with a threshold.

    Keeps the ``k`` largest of ``x [n, m]`` (any positive scale) and scales them to sum to
    ``e_layer [n]`` GeV, with ``k`` the largest count for which the smallest kept voxel stays
    ``>= threshold``; layers with ``e_layer < threshold`` come out empty. Returns ``[n, m]`` GeV.
    """
    xs = -jnp.sort(-x, axis=1)  # descending
    csum = jnp.cumsum(xs, axis=1)
    ok = e_layer[:, None] * xs >= threshold * csum  # a prefix: xs / csum falls with rank
    k = jnp.maximum(jnp.sum(ok, axis=1), 1)
    cut = jnp.take_along_axis(xs, (k - 1)[:, None], axis=1)
    scale = e_layer[:, None] / jnp.take_along_axis(csum, (k - 1)[:, None], axis=1)
    keep = (x >= cut) & (e_layer[:, None] >= threshold)
    return jnp.where(keep, x * scale, 0.0)


def _logit_stats(x: np.ndarray, alpha: float, perms: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and std of ``logit(x)``; with ``perms [g, dim]``, of the data and all its
    images under the symmetry (each column's statistics averaged over its orbit)."""
    y = np.asarray(logit(alpha).forward(jnp.asarray(x)), np.float64)
    m, m2 = y.mean(0), (y**2).mean(0)
    if perms is not None:
        m, m2 = m[perms].mean(0), m2[perms].mean(0)
    return m.astype(np.float32), (np.sqrt(np.maximum(m2 - m**2, 0.0)) + 1e-3).astype(np.float32)


def random_symmetry(perms: np.ndarray) -> Callable[[jax.Array, jax.Array], jax.Array]:
    """``augment(key, x [n, dim]) -> x'``: each row permuted by a uniformly drawn row of ``perms [g, dim]``
    (a group of permutations, e.g. :func:`~hepjax.fastsim.geometry.symmetry_permutations`)."""
    perms = jnp.asarray(perms, jnp.int32)

    def augment(key: jax.Array, x: jax.Array) -> jax.Array:
        g = jax.random.randint(key, (x.shape[0],), 0, perms.shape[0])
        return jnp.take_along_axis(x, perms[g], axis=1)

    return augment


def build_caloflow(
    energies: np.ndarray,
    voxels: np.ndarray,
    cfg: CaloFlowConfig,
    flow1_cfg: FlowConfig,
    flow2_cfg: FlowConfig,
    *,
    seed: int,
) -> tuple[CaloFlow, dict]:
    """Fix the preprocessing from training showers; return the model and its training arrays."""
    if cfg.noise > cfg.threshold:
        raise ValueError(
            f"caloflow.noise = {cfg.noise} must be <= caloflow.threshold = {cfg.threshold} "
            "(dequantised empty voxels must fall below the threshold)"
        )
    log_e = np.log(energies)
    stats = {"log_e_range": (float(log_e.min()), float(log_e.max())), "threshold": cfg.threshold}
    e_layers = dequantise(layer_energies(voxels), cfg.noise, np.random.default_rng(seed))
    craw = np.concatenate(
        [np.asarray(_context1(jnp.asarray(energies), stats["log_e_range"])), np.log10(e_layers + 1e-3)], axis=1
    )
    stats["ctx2_mean"], stats["ctx2_std"] = craw.mean(0).astype(np.float32), craw.std(0).astype(np.float32) + 1e-3
    arrays = flow_arrays(stats, cfg, energies, voxels, seed=seed)
    m1, s1 = _logit_stats(arrays["u"], cfg.alpha)
    m2, s2 = _logit_stats(arrays["x2"], cfg.alpha, symmetry_permutations() if cfg.augment else None)
    flow1 = flow_from_config(
        flow1_cfg, N_LAYERS, context_dim=1, preprocess=(logit(cfg.alpha), standardize(m1, s1)), seed=seed
    )
    flow2 = flow_from_config(
        flow2_cfg, N_VOXELS, context_dim=1 + N_LAYERS, preprocess=(logit(cfg.alpha), standardize(m2, s2)), seed=seed + 1
    )
    return CaloFlow(flow1, flow2, stats, cfg), arrays


def flow_arrays(stats: dict, cfg: CaloFlowConfig, energies: np.ndarray, voxels: np.ndarray, *, seed: int) -> dict:
    """The flows' inputs for showers ``(energies [n] GeV, voxels [n, 368] GeV)`` under fixed
    preprocessing ``stats``: ``u [n, 5]`` / ``c1 [n, 1]`` (flow 1) and ``x2 [n, 368]`` / ``c2 [n, 6]``
    (flow 2); empty voxels and layers dequantised with ``seed``. For training showers (from
    :func:`build_caloflow`) and for held-out ones (their likelihood)."""
    rng = np.random.default_rng(seed)
    e_layers = dequantise(layer_energies(voxels), cfg.noise, rng)
    x2 = normalised_voxels(voxels, cfg.noise, rng)
    c1 = np.asarray(_context1(jnp.asarray(energies), stats["log_e_range"]), np.float32)
    c2 = np.asarray(_context2(jnp.asarray(energies), jnp.asarray(e_layers), stats), np.float32)
    return {"u": encode_layers(e_layers, energies), "c1": c1, "x2": x2, "c2": c2}


def train_caloflow(
    model: CaloFlow, arrays: dict, train1: TrainConfig, train2: TrainConfig, *, workdir: Path, key: jax.Array
) -> tuple[Any, Any, dict]:
    """Fit flow 1 and flow 2 by maximum likelihood; returns ``(params1, params2, info)``."""
    k1, k2 = jax.random.split(key)
    r1 = fit_flow(model.flow1, arrays["u"], arrays["c1"], train1, workdir=workdir / "flow1", key=k1)
    augment = random_symmetry(symmetry_permutations()) if model.cfg.augment else None
    r2 = fit_flow(model.flow2, arrays["x2"], arrays["c2"], train2, workdir=workdir / "flow2", key=k2, augment=augment)
    info = {
        "flow1_final_nll": r1.history[-1]["nll"] if r1.history else float("nan"),
        "flow2_final_nll": r2.history[-1]["nll"] if r2.history else float("nan"),
        "compilations": r1.compilations + r2.compilations,
    }
    return r1.state.params, r2.state.params, info


def make_sampler(model: CaloFlow) -> Callable[[Any, Any, jax.Array, np.ndarray], np.ndarray]:
    """``sample(params1, params2, key, energies [n]) -> voxels [n, 368]`` GeV (host NumPy).

    Warns on energies outside the trained range, raises on non-positive ones, and raises
    ``FloatingPointError`` rather than return non-finite showers.
    """
    stats, threshold = model.stats, model.stats["threshold"]

    @jax.jit
    def _sample(params1, params2, key, e_inc):
        k1, k2 = jax.random.split(key)
        n = e_inc.shape[0]
        u = model.flow1.sample(params1, k1, _context1(e_inc, stats["log_e_range"]), n)
        e_layers = decode_layers(u, e_inc)
        x = model.flow2.sample(params2, k2, _context2(e_inc, e_layers, stats), n)
        return jnp.concatenate(
            [threshold_layer(x[:, s], e_layers[:, i], threshold) for i, s in enumerate(layer_slices())], axis=1
        )

    lo, hi = np.exp(stats["log_e_range"])

    def sample(params1, params2, key, energies):
        energies = check_energies(
            energies, low=lo * (1 - 1e-6), high=hi * (1 + 1e-6), what="incident energies (trained range)"
        )
        out = np.asarray(_sample(params1, params2, key, jnp.asarray(energies, jnp.float32)))
        bad = ~np.isfinite(out)
        if bad.any():
            raise FloatingPointError(f"the flow produced {int(bad.sum())} non-finite voxel energies")
        return out

    sample.jitted = _sample  # for timing without host checks
    return sample
