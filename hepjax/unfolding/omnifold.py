"""OmniFold (Andreassen, Komiske, Metodiev, Nachman, Thaler, arXiv:1911.09107): unbinned unfolding by
iterated classifier reweighting of the simulation, with an ensemble of replicas trained at once.

Notation: a simulated event ``m`` has a generator weight ``w0_m``, particle-level (gen) features ``t_m``
and detector-level (reco) features ``x_m``; the data has reco features and weights ``w_data``.
``nu`` ("push") weights live on the generator level, ``omega`` ("pull") weights on the detector level;
both multiply ``w0``. Starting from ``nu_0 = 1``, iteration ``n`` is

* step 1 (reco): a classifier separates the data (label 1, weights ``w_data``) from the simulation
  (label 0, weights ``w0 nu_{n-1}``); ``omega_n = nu_{n-1} f / (1 - f)`` at each simulated ``x``;
* step 2 (gen): a classifier separates the simulation's gen features weighted by ``w0 omega_n``
  (label 1) from the same features weighted by ``w0`` (label 0); ``nu_n = f / (1 - f)`` at each ``t``.

The classifiers train on classes of equal total weight; their odds are then scaled by the ratio of the
classes' totals, so the weights are absolute: ``sum w0 omega_n`` over reconstructed events equals the
data's ``sum w_data``, and ``sum w0 nu_n`` estimates the data's number of events at the generator level
(efficiency corrected).

**Acceptance.** Events passing only one level are kept and counted. Masks (``sim_pass_reco``,
``sim_pass_gen``) say which level an event lacks; the features of the missing level may hold any dummy
value (NaN included), they are never read. A simulated event without a reco-level object (an
inefficiency) cannot be in step 1: its ``omega_n`` is ``nu_{n-1}`` times the average ``omega_n / nu_{n-1}``
of reconstructed events with the same gen features, learnt by a gen-level classifier (step 1b); a fake
(no gen-level object) cannot be in step 2: its ``nu_n`` is ``omega_n`` times the average ``nu_n /
omega_n`` at its reco features (step 2b). Masks stand for the dummy values of arXiv:1911.09107 (an
event at the dummy point is never compared with a data event in step 1, so it needs the gen-level
average); steps 1b / 2b follow the acceptance treatment of later OmniFold measurements. With
``acceptance_steps=False`` such events keep their previous weight instead (two classifiers fewer per
iteration, slower convergence where the efficiency is low).

**Weights are checked.** After every step the classifier's logits must be finite (else
:class:`~hepjax.errors.DataError` naming the iteration and the step); a diverging training
(:class:`~hepjax.train.NonFiniteError` from :func:`hepjax.train.fit`) is re-raised the same way. Each
step's weights are clipped to at most ``max_weight`` (default :data:`MAX_WEIGHT`, in units of ``w0``)
and the clipped events are counted. The effective sample size ``(sum w)^2 / sum w^2`` of ``w0 omega_n``
and ``w0 nu_n`` is reported every iteration.

**Ensemble.** ``n_replicas`` classifiers (one per bootstrap replica of the data, ``data_weights
[n_replicas, n_data]``, or per seed) are trained in one :func:`hepjax.train.fit` call: their parameters are
stacked on a leading axis, the loss is the sum of the replicas' losses (``jax.vmap``), so each
replica's gradient is its own; with an element-wise optimiser (Adam, AdamW, SGD; no global-norm
clipping, ``train.grad_clip = 0``) each replica follows the path it would follow alone with the same
key and batches. The OmniFold package retrains per replica instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from hepjax.errors import ConfigError, DataError
from hepjax.nn import MLP
from hepjax.train import ArrayDataset, NonFiniteError, Standardizer, TrainConfig, fit

MAX_WEIGHT = 50.0  # default upper clip of each step's weights (units of w0): a ratio beyond it is noise
_CHUNK = 8192  # events per prediction call


class OmniFoldResult(NamedTuple):
    """Output of :func:`omnifold`; ``R`` replicas, ``n`` simulated events, ``I`` iterations.

    Attributes:
      push: ``[I, R, n]`` gen-level weights ``nu_n`` of every iteration (multiply ``w0``); the unfolded
        distribution of replica ``r`` is the simulation's gen level weighted by ``w0 * push[-1, r]``.
      pull: ``[I, R, n]`` reco-level weights ``omega_n``.
      ess_push, ess_pull: ``[I, R]`` effective sample sizes ``(sum w)^2 / sum w^2`` of ``w0 nu_n``, ``w0 omega_n``.
      n_clipped: ``[I, 2, R]`` events clipped at ``max_weight`` in step 1 and step 2.
      counts: numbers of simulated events passing both levels, only reco (fakes), only gen (inefficiency).
    """

    push: np.ndarray
    pull: np.ndarray
    ess_push: np.ndarray
    ess_pull: np.ndarray
    n_clipped: np.ndarray
    counts: dict


def effective_sample_size(w: np.ndarray, axis: int = -1) -> np.ndarray:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` along ``axis`` (= n for equal weights)."""
    w = np.asarray(w, np.float64)
    return np.sum(w, axis) ** 2 / np.sum(w**2, axis)


def poisson_bootstrap_weights(key: jax.Array, n_replicas: int, n_events: int) -> np.ndarray:
    """``[n_replicas, n_events]`` Poisson(1) event weights, replica 0 all ones (the nominal measurement)."""
    w = np.asarray(jax.random.poisson(key, 1.0, (n_replicas, n_events)), np.float32)
    w[0] = 1.0
    return w


class _Classifier(nn.Module):
    """``[..., d] -> logit [...]``: :class:`hepjax.nn.MLP` with ReLU hidden layers and one output."""

    hidden: Sequence[int]

    @nn.compact
    def __call__(self, x):
        return MLP((*self.hidden, 1))(x)[..., 0]


def _check_features(name: str, x: np.ndarray, n: int, used: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or len(x) != n:
        raise DataError(f"omnifold: {name} must be [{n}, n_features], got shape {x.shape}")
    bad = ~np.all(np.isfinite(x), axis=1) & used
    if np.any(bad):
        raise DataError(
            f"omnifold: {name} has {int(bad.sum())} event(s) with NaN/Inf features that pass this level "
            f"(first: event {int(np.flatnonzero(bad)[0])}); mark missing levels with the pass masks instead"
        )
    return x


def _check_weights(name: str, w, shape: tuple[int, ...]) -> np.ndarray:
    w = np.asarray(w, np.float64)
    if w.ndim == 0 or (w.shape == shape[1:] and len(shape) == 2):  # a scalar, or one row shared by the replicas
        w = np.broadcast_to(w, shape)
    if w.shape != shape:
        raise DataError(f"omnifold: {name} must have shape {shape}, got {np.shape(w)}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        bad = int(np.flatnonzero(~(np.isfinite(w) & (w >= 0)).ravel())[0])
        raise DataError(f"omnifold: {name} must be finite and >= 0; entry {bad} is {w.ravel()[bad]}")
    return np.array(w, np.float64)


_STEP_CODE = {"1": 1, "2": 2, "1b": 3, "2b": 4}  # key derivation: fold_in(key, 4 * iteration + code)


def _check_step_weights(logits: np.ndarray, iteration: int, step: str) -> None:
    """A NaN/Inf logit means the classifier is broken; the weights it implies are never silently used."""
    bad = ~np.isfinite(logits)
    if np.any(bad):
        level = "reco" if step in ("1", "2b") else "gen"
        raise DataError(
            f"omnifold iteration {iteration}, step {step} ({level}-level classifier): {int(bad.sum())} "
            f"NaN/Inf weight(s) (first: replica {np.argwhere(bad)[0][0]}, event {np.argwhere(bad)[0][1]})"
        )


def _train_classifier(
    model, x_all, idx0, idx1, w0, w1, *, train_cfg, workdir, keys, seed, iteration, step, method="omnifold"
) -> np.ndarray:
    """Train ``R`` classifiers (stacked params) on events ``idx1`` (label 1, weights ``w1 [R, n1]``) vs
    ``idx0`` (label 0, ``w0 [R, n0]``) of ``x_all`` in one :func:`fit`; return logits ``[R, n_all]``.
    ``method`` names the caller in errors (also used by the iterative cINN)."""
    n0, n1 = len(idx0), len(idx1)
    # Trained on equal class totals (balanced classes learn best), the odds f / (1 - f) are the ratio of the
    # unit-normalised densities; times the ratio of the class totals they are the ratio of the weighted
    # densities themselves, so the weights keep their absolute normalisation.
    log_totals = np.log(w1.sum(1) / w0.sum(1))[:, None]  # [R, 1]
    w0 = w0 / w0.sum(1, keepdims=True) * (n0 + n1) / 2
    w1 = w1 / w1.sum(1, keepdims=True) * (n0 + n1) / 2
    idx = np.concatenate([idx0, idx1])
    xs = Standardizer.fit(x_all[idx]).apply(x_all, np.float32)
    batch_size = min(train_cfg.batch_size, len(idx))
    cfg = dataclasses.replace(train_cfg, batch_size=batch_size, resume=False)
    data = ArrayDataset(
        {
            "x": xs[idx],
            "y": np.concatenate([np.zeros(n0), np.ones(n1)]).astype(np.float32),
            "w": np.concatenate([w0, w1], axis=1).T.astype(np.float32),  # [n, R]: axis 0 is the event axis
        },
        batch_size,
        seed=seed,
    )
    k = jax.vmap(lambda kr: jax.random.fold_in(kr, 4 * iteration + _STEP_CODE[step]))(keys)
    params = jax.vmap(lambda kr: model.init(kr, xs[:1]))(k)

    def loss_fn(p, batch, _key):
        def one(pr, wr):
            bce = optax.sigmoid_binary_cross_entropy(model.apply(pr, batch["x"]), batch["y"])
            return jnp.sum(wr * bce) / jnp.maximum(jnp.sum(wr), 1e-12)

        losses = jax.vmap(one, in_axes=(0, 1))(p, batch["w"])
        return jnp.sum(losses), {"loss_mean": jnp.mean(losses)}

    try:
        res = fit(
            loss_fn, params, data, cfg, workdir=Path(workdir) / f"iter{iteration}_step{step}", key=k[0], plot_keys=()
        )
    except NonFiniteError as e:
        raise DataError(f"{method} iteration {iteration}, step {step}: classifier training diverged: {e}") from e
    return _predict_logits(model, res.state.params, xs) + log_totals


def _predict_logits(model, params, xs: np.ndarray) -> np.ndarray:
    """``[R, n]`` logits of every replica's classifier on the standardised features ``xs [n, d]``."""
    f = jax.jit(jax.vmap(model.apply, in_axes=(0, None)))
    return np.concatenate([np.asarray(f(params, xs[i : i + _CHUNK])) for i in range(0, len(xs), _CHUNK)], axis=1)


def omnifold(
    sim_gen: np.ndarray,
    sim_reco: np.ndarray,
    data_reco: np.ndarray,
    *,
    key: jax.Array,
    train_cfg: TrainConfig,
    workdir: str | Path,
    n_iterations: int = 3,
    sim_weights: np.ndarray | None = None,
    data_weights: np.ndarray | None = None,
    sim_pass_reco: np.ndarray | None = None,
    sim_pass_gen: np.ndarray | None = None,
    n_replicas: int = 1,
    hidden: Sequence[int] = (50, 50),
    max_weight: float = MAX_WEIGHT,
    seed: int = 0,
    acceptance_steps: bool = True,
) -> OmniFoldResult:
    """Unfold ``data_reco`` with ``n_iterations`` OmniFold iterations on the simulation ``(sim_gen, sim_reco)``.

    Args:
      sim_gen: ``[n, d_gen]`` (or ``[n]``) particle-level features of the simulated events.
      sim_reco: ``[n, d_reco]`` their detector-level features (same event order).
      data_reco: ``[n_data, d_reco]`` measured detector-level features.
      key: PRNG key of the classifiers' initialisation (replica ``r`` uses ``fold_in(key, r)``), or a
        stack of ``n_replicas`` keys ``[R, 2]`` (so a replica can be re-run alone with its own key).
      train_cfg: the classifiers' :class:`~hepjax.train.TrainConfig` (``batch_size`` is capped at the
        training set size; ``resume`` is forced off: every iteration trains fresh classifiers).
      workdir: folder for :func:`hepjax.train.fit`'s runs, one ``iter<i>_step<s>`` per step.
      n_iterations: OmniFold iterations (>= 1).
      sim_weights: ``[n]`` generator weights ``w0`` (>= 0), 1 when None; honoured in both steps.
      data_weights: ``[n_data]`` or ``[n_replicas, n_data]`` data event weights (bootstrap replicas:
        :func:`poisson_bootstrap_weights`); 1 when None.
      sim_pass_reco, sim_pass_gen: ``[n]`` bool, whether the event has a reco-level / gen-level object;
        all true when None. An event must pass at least one level.
      n_replicas: classifiers trained together (vmap over their parameters) per step.
      hidden: hidden widths of the MLP classifiers.
      max_weight: upper clip of each step's weights, in units of ``w0``.
      seed: shuffling seed of the training batches (shared by all replicas).
      acceptance_steps: run steps 1b / 2b for events passing one level only (see the module docstring);
        when false they keep their previous weight (slower convergence where the efficiency is low).

    Returns:
      :class:`OmniFoldResult`; the unfolded weights are ``sim_weights * result.push[-1]``.
    """
    if int(n_iterations) < 1:
        raise ConfigError(f"omnifold: n_iterations must be >= 1, got {n_iterations}")
    if not max_weight > 1.0:
        raise ConfigError(f"omnifold: max_weight must be > 1, got {max_weight}")
    if train_cfg.grad_clip > 0 and n_replicas > 1:
        raise ConfigError("omnifold: train.grad_clip must be 0 with n_replicas > 1 (global-norm clipping couples them)")
    n = len(sim_gen)
    pass_reco = np.ones(n, bool) if sim_pass_reco is None else np.asarray(sim_pass_reco, bool)
    pass_gen = np.ones(n, bool) if sim_pass_gen is None else np.asarray(sim_pass_gen, bool)
    if pass_reco.shape != (n,) or pass_gen.shape != (n,):
        raise DataError(f"omnifold: sim_pass_reco and sim_pass_gen must have shape ({n},)")
    if np.any(~pass_reco & ~pass_gen):
        raise DataError(f"omnifold: {int(np.sum(~pass_reco & ~pass_gen))} simulated event(s) pass neither level")
    t = _check_features("sim_gen", sim_gen, n, pass_gen)
    x = _check_features("sim_reco", sim_reco, n, pass_reco)
    xd = _check_features("data_reco", data_reco, len(data_reco), np.ones(len(data_reco), bool))
    if xd.shape[1] != x.shape[1]:
        raise DataError(f"omnifold: data_reco has {xd.shape[1]} features, sim_reco {x.shape[1]}")
    if len(xd) == 0 or not pass_reco.any() or not pass_gen.any():
        raise DataError("omnifold: no data events, or no simulated event passes the reco or the gen level")
    R = int(n_replicas)
    w_sim = _check_weights("sim_weights", 1.0 if sim_weights is None else sim_weights, (n,))
    w_data = _check_weights("data_weights", 1.0 if data_weights is None else data_weights, (R, len(xd)))
    if np.any(w_data.sum(1) <= 0) or w_sim[pass_reco].sum() <= 0 or w_sim[pass_gen].sum() <= 0:
        raise DataError("omnifold: data_weights of a replica or the sim_weights of a level sum to zero")
    keys = jnp.asarray(key)
    if jnp.issubdtype(keys.dtype, jax.dtypes.prng_key):  # typed keys (jax.random.key) -> raw uint32[2]
        keys = jax.random.key_data(keys)
    if keys.ndim == 1:
        key = keys
        keys = jax.vmap(lambda r: jax.random.fold_in(key, r))(jnp.arange(R))
    if keys.shape[0] != R:
        raise ConfigError(f"omnifold: {keys.shape[0]} keys given for n_replicas = {R}")

    # step 1 features: data then simulation (reco); step 2: the simulation's gen features
    x_step1 = np.concatenate([xd, np.where(pass_reco[:, None], x, 0.0)])
    t_step2 = np.where(pass_gen[:, None], t, 0.0)
    i_data, i_sim_reco = np.arange(len(xd)), len(xd) + np.flatnonzero(pass_reco)
    i_gen = np.flatnonzero(pass_gen)
    both = pass_reco & pass_gen
    i_both = np.flatnonzero(both)
    x_sim = np.where(pass_reco[:, None], x, 0.0)
    model = _Classifier(tuple(hidden))
    common = dict(train_cfg=train_cfg, workdir=workdir, keys=keys, seed=seed)

    nu = np.ones((R, n))
    push, pull, n_clipped = [], [], []
    for it in range(1, int(n_iterations) + 1):
        # step 1: data (1) vs simulation weighted by w0 nu (0), at reco level
        logits = _train_classifier(
            model, x_step1, i_sim_reco, i_data, (w_sim * nu)[:, pass_reco], w_data, iteration=it, step="1", **common
        )
        _check_step_weights(logits[:, len(xd) :][:, pass_reco], it, "1")
        omega = nu.copy()
        omega[:, pass_reco] = nu[:, pass_reco] * np.exp(np.minimum(logits[:, len(xd) :][:, pass_reco], 80.0))
        if acceptance_steps and np.any(pass_gen & ~pass_reco):
            # step 1b: an event without a reco object gets the average omega / nu of the events with its gen
            # features: a gen-level classifier of reconstructed events weighted w0 omega (1) vs w0 nu (0)
            logits = _train_classifier(
                model, t_step2, i_both, i_both, (w_sim * nu)[:, both], (w_sim * omega)[:, both],
                iteration=it, step="1b", **common,
            )  # fmt: skip
            miss = pass_gen & ~pass_reco
            _check_step_weights(logits[:, miss], it, "1b")
            omega[:, miss] = nu[:, miss] * np.exp(np.minimum(logits[:, miss], 80.0))
        clipped1 = np.sum(omega > max_weight, axis=1)
        omega = np.minimum(omega, max_weight)
        # step 2: simulation weighted by w0 omega (1) vs by w0 (0), at gen level; the same events twice
        logits = _train_classifier(
            model,
            t_step2,
            i_gen,
            i_gen,
            np.broadcast_to(w_sim[pass_gen], (R, len(i_gen))),
            (w_sim * omega)[:, pass_gen],
            iteration=it,
            step="2",
            **common,
        )
        _check_step_weights(logits[:, pass_gen], it, "2")
        nu_new = omega.copy()  # fakes (no gen-level object) keep their pulled weight unless step 2b runs
        nu_new[:, pass_gen] = np.exp(np.minimum(logits[:, pass_gen], 80.0))
        if acceptance_steps and np.any(pass_reco & ~pass_gen):
            # step 2b: a fake gets the average nu / omega of the events with its reco features
            logits = _train_classifier(
                model, x_sim, i_both, i_both, (w_sim * omega)[:, both], (w_sim * nu_new)[:, both],
                iteration=it, step="2b", **common,
            )  # fmt: skip
            fake = pass_reco & ~pass_gen
            _check_step_weights(logits[:, fake], it, "2b")
            nu_new[:, fake] = omega[:, fake] * np.exp(np.minimum(logits[:, fake], 80.0))
        nu = nu_new
        clipped2 = np.sum(nu > max_weight, axis=1)
        nu = np.minimum(nu, max_weight)
        push.append(nu)
        pull.append(omega)
        n_clipped.append(np.stack([clipped1, clipped2]))
    push, pull = np.stack(push), np.stack(pull)
    return OmniFoldResult(
        push=push,
        pull=pull,
        ess_push=effective_sample_size(w_sim * push),
        ess_pull=effective_sample_size(w_sim * pull),
        n_clipped=np.stack(n_clipped),
        counts={
            "both_levels": int(np.sum(pass_reco & pass_gen)),
            "reco_only": int(np.sum(pass_reco & ~pass_gen)),
            "gen_only": int(np.sum(~pass_reco & pass_gen)),
            "data": len(xd),
        },
    )


__all__ = ["MAX_WEIGHT", "OmniFoldResult", "effective_sample_size", "omnifold", "poisson_bootstrap_weights"]
