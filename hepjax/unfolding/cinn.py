"""Unfolding with a conditional invertible network (cINN, Bellagente et al., arXiv:2006.06685) and its
iterative version (Backes, Butter, Dunford, Malaescu, arXiv:2212.08674).

**cINN.** A conditional normalizing flow ``p(truth | reco)`` (:func:`hepjax.flows.make_flow`; the truth
standardised inside the flow, the reco context standardised by a :class:`~hepjax.train.Standardizer`) is
trained by maximum likelihood on matched simulated pairs ``(t_m, x_m)`` with generator weights ``w0_m``
(:func:`hepjax.flows.fit_flow` with ``weights``), so it learns the simulation's posterior
``p_sim(t | x) ∝ p_sim(t) p(x | t)``. Each measured event ``x_j`` gets ``n_samples`` posterior samples; the
unfolded distribution is all of them pooled (each with weight ``w_data_j / n_samples``), in all observables
at once. Only matched pairs are used: events passing one level only (efficiency, fakes) are not modelled.

**Prior dependence.** The posterior carries the simulation's prior ``p_sim(t)``: where the data's truth
differs, the unfolded distribution is biased towards the prior (the more so the wider the smearing).

**Iterative cINN** (2212.08674). Iteration ``0`` is the plain cINN. Iteration ``n >= 1``: a classifier
(:class:`hepjax.nn.MLP` through :func:`hepjax.train.fit`, the one OmniFold uses) separates the previous
iteration's unfolded samples (label 1, weights ``w_data / n_samples``) from the simulation's truth (label 0,
weights ``w0``); its odds ``f / (1 - f)``, times the ratio of the classes' totals, give the new truth
weights ``nu_n(t)`` (multiplying ``w0``: the simulation's truth weighted by ``w0 nu_n`` follows the unfolded
distribution, and ``sum w0 nu_n`` the data's total weight). The cINN is retrained on the simulation weighted
by ``w0 nu_n`` (whose posterior now carries the unfolded prior; warm-started from the previous parameters
unless ``warm_start=False``) and unfolds again. This is D'Agostini's iteration, unbinned: the prior is
replaced by the last unfolded distribution.

**Weights are checked.** A NaN/Inf classifier logit raises :class:`~hepjax.errors.DataError` naming the
iteration; a diverging training (classifier or flow, :class:`~hepjax.train.NonFiniteError`) too. The weights
``nu_n`` are clipped at ``max_weight`` (default :data:`~hepjax.unfolding.MAX_WEIGHT`), the clipped events
counted, and the Kish effective sample size of ``w0 nu_n`` reported per iteration.

**Calibration.** :func:`rank_calibration`: the rank of each held-out event's true value among its posterior
samples (per dimension) is uniform on ``0..n_samples`` for a calibrated posterior; a KS test of the
randomised probability integral transform against U(0, 1) gives a p-value per dimension.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.stats

from hepjax.errors import ConfigError, DataError
from hepjax.flows import Flow, FlowConfig, fit_flow, flow_from_config, standardize
from hepjax.train import ArrayDataset, NonFiniteError, Standardizer, TrainConfig, fit
from hepjax.unfolding.omnifold import MAX_WEIGHT, _Classifier, _train_classifier, effective_sample_size

_CHUNK = 65536  # posterior samples per sampling call


@dataclasses.dataclass(frozen=True)
class CINN:
    """A trained cINN: ``flow`` on the ``dim`` truth observables, conditioned on the standardised reco.

    Attributes:
      flow: the :class:`~hepjax.flows.Flow` (its ``preprocess`` standardises the truth).
      params: the flow's parameters.
      context: the :class:`~hepjax.train.Standardizer` of the reco features (the flow's context).
      dim: number of truth observables (the flow has one more, independent N(0, 1) noise, when ``dim = 1``:
        coupling layers need two coordinates).
    """

    flow: Flow
    params: Any
    context: Standardizer
    dim: int

    def sample(self, key: jax.Array, reco: np.ndarray, n_samples: int) -> np.ndarray:
        """``[n, n_samples, dim]`` posterior samples of the truth for each reco event ``reco [n, d_reco]``.

        Events are sampled in chunks of equal size (the last one padded), so one compilation serves all;
        chunk ``i`` uses ``fold_in(key, i)``.
        """
        reco = _as_2d("reco", reco)
        if reco.shape[1] != self.flow.context_dim:
            raise DataError(f"cinn: reco has {reco.shape[1]} features, the cINN was trained on {self.flow.context_dim}")
        c = self.context.apply(reco, np.float32)
        s = int(n_samples)
        per = max(1, min(len(c), _CHUNK // s))  # events per sampling call
        sample = jax.jit(self.flow.sample, static_argnums=3)
        out = []
        for i, a in enumerate(range(0, len(c), per)):
            chunk = c[a : a + per]
            ctx = np.repeat(np.pad(chunk, ((0, per - len(chunk)), (0, 0))), s, axis=0)
            xs = np.asarray(sample(self.params, jax.random.fold_in(key, i), jnp.asarray(ctx), len(ctx)))
            out.append(xs[: len(chunk) * s])
        return np.concatenate(out).reshape(len(c), s, self.flow.dim)[..., : self.dim]


class CINNResult(NamedTuple):
    """Output of :func:`cinn`; ``n`` data events, ``S`` samples each, ``d`` truth observables.

    Attributes:
      model: the trained :class:`CINN` (``model.params`` are the flow's parameters).
      samples: ``[n, S, d]`` posterior samples of every data event.
      unfolded: ``[n * S, d]`` the unfolded distribution: all samples pooled (event-major).
      unfolded_weights: ``[n * S]`` their weights, ``w_data / S`` (sum: the data's total weight).
      loss: ``[k, 2]`` (step, weighted mean NLL in nats per event of the training batch) as logged by ``fit``.
    """

    model: CINN
    samples: np.ndarray
    unfolded: np.ndarray
    unfolded_weights: np.ndarray
    loss: np.ndarray

    @property
    def params(self) -> Any:
        return self.model.params


class IterativeCINNResult(NamedTuple):
    """Output of :func:`iterative_cinn`; ``I`` reweighting iterations, ``n_sim`` simulated events.

    Attributes:
      iterations: ``I + 1`` :class:`CINNResult`; ``iterations[0]`` is the plain cINN, ``iterations[-1]``
        the final unfolding.
      weights: ``[I + 1, n_sim]`` truth weights ``nu_n`` (multiplying ``w0``) the cINN of iteration ``n``
        was trained with; row 0 is all ones.
      ess: ``[I + 1]`` Kish effective sample size of ``w0 nu_n``.
      n_clipped: ``[I + 1]`` events clipped at ``max_weight`` per iteration.
    """

    iterations: list[CINNResult]
    weights: np.ndarray
    ess: np.ndarray
    n_clipped: np.ndarray

    @property
    def final(self) -> CINNResult:
        return self.iterations[-1]


class Calibration(NamedTuple):
    """Output of :func:`rank_calibration`: ``ranks [n, d]`` in ``0..S``, per-dimension KS statistic and
    p-value ``[d]`` of the randomised PIT ``(rank + U) / (S + 1)`` against U(0, 1)."""

    ranks: np.ndarray
    ks: np.ndarray
    pvalue: np.ndarray


def _as_2d(name: str, a) -> np.ndarray:
    a = np.asarray(a, np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise DataError(f"cinn: {name} must be [n_events, n_features], got shape {a.shape}")
    return a


def _check_features(name: str, a, n: int | None = None) -> np.ndarray:
    a = _as_2d(name, a)
    if n is not None and len(a) != n:
        raise DataError(f"cinn: {name} has {len(a)} events, expected {n} (one per simulated event)")
    if len(a) == 0:
        raise DataError(f"cinn: {name} is empty")
    bad = ~np.all(np.isfinite(a), axis=1)
    if np.any(bad):
        raise DataError(
            f"cinn: {name} has {int(bad.sum())} event(s) with NaN/Inf features (first: event {int(np.argmax(bad))})"
        )
    return a


def _check_weights(name: str, w, n: int) -> np.ndarray:
    if w is None:
        return np.ones(n)
    w = np.asarray(w, np.float64)
    if w.shape != (n,):
        raise DataError(f"cinn: {name} must have shape ({n},), got {w.shape}")
    bad = ~(np.isfinite(w) & (w > 0))
    if np.any(bad):
        i = int(np.argmax(bad))
        raise DataError(f"cinn: {name} must be finite and > 0; {int(bad.sum())} are not (first: event {i}: {w[i]})")
    return w


def _loss_history(history: list[dict]) -> np.ndarray:
    rows = [(r["step"], r["nll"]) for r in history if "nll" in r and "step" in r]
    return np.asarray(rows, np.float64).reshape(-1, 2)


def _default_flow_cfg() -> FlowConfig:
    return FlowConfig(kind="rqs", layers=4, hidden=(64, 64), num_bins=8)


def _build_flow(flow_cfg: FlowConfig | None, t: np.ndarray, w: np.ndarray, context_dim: int, seed: int) -> Flow:
    """The flow on the truth (plus one auxiliary N(0, 1) coordinate when ``d = 1``), truth standardised inside."""
    cfg = _default_flow_cfg() if flow_cfg is None else flow_cfg
    mean = np.average(t, axis=0, weights=w)
    std = np.sqrt(np.average((t - mean) ** 2, axis=0, weights=w)) + 1e-6
    if t.shape[1] == 1:  # coupling flows need two coordinates: the second is independent noise, dropped on sampling
        mean, std = np.append(mean, 0.0), np.append(std, 1.0)
    pre = (standardize(mean.astype(np.float32), std.astype(np.float32)),)
    return flow_from_config(cfg, len(mean), context_dim=context_dim, preprocess=pre, seed=seed)


def _aux_noise(key: jax.Array, x: jax.Array) -> jax.Array:
    """Fresh N(0, 1) in the auxiliary coordinate of every batch: p(t, aux | reco) = p(t | reco) N(aux)."""
    return x.at[:, 1].set(jax.random.normal(key, x.shape[:1], x.dtype))


def _train(flow, t, xc, w, train_cfg, workdir, key, params, what: str):
    cfg = dataclasses.replace(train_cfg, batch_size=min(train_cfg.batch_size, len(t)), resume=False)
    aux = flow.dim > t.shape[1]
    if aux:
        t = np.concatenate([t, np.zeros_like(t)], axis=1)
    try:
        return fit_flow(
            flow, t, xc, cfg, workdir=workdir, key=key, params=params, weights=w / w.mean(),
            augment=_aux_noise if aux else None,
        )  # fmt: skip
    except NonFiniteError as e:
        raise DataError(f"{what}: the flow's training diverged: {e}") from e


def _unfold(model: CINN, key, xd, wd, n_samples, loss) -> CINNResult:
    samples = model.sample(key, xd, n_samples)
    unfolded = samples.reshape(-1, samples.shape[-1])
    return CINNResult(model, samples, unfolded, np.repeat(wd / n_samples, n_samples), loss)


def _inputs(sim_truth, sim_reco, data_reco, sim_weights, data_weights, n_samples):
    t = _check_features("sim_truth", sim_truth)
    x = _check_features("sim_reco", sim_reco, len(t))
    xd = _check_features("data_reco", data_reco)
    if xd.shape[1] != x.shape[1]:
        raise DataError(f"cinn: data_reco has {xd.shape[1]} features, sim_reco {x.shape[1]}")
    if int(n_samples) < 1:
        raise ConfigError(f"cinn: n_samples must be >= 1, got {n_samples}")
    w0 = _check_weights("sim_weights", sim_weights, len(t))
    wd = _check_weights("data_weights", data_weights, len(xd))
    return t, x, xd, w0, wd


def cinn(
    sim_truth: np.ndarray,
    sim_reco: np.ndarray,
    data_reco: np.ndarray,
    *,
    key: jax.Array,
    train_cfg: TrainConfig,
    workdir: str | Path,
    sim_weights: np.ndarray | None = None,
    data_weights: np.ndarray | None = None,
    n_samples: int = 10,
    flow_cfg: FlowConfig | None = None,
    seed: int = 0,
) -> CINNResult:
    """Train a cINN ``p(truth | reco)`` on matched simulated pairs and sample the posterior of every data event.

    Args:
      sim_truth: ``[n, d]`` (or ``[n]``) particle-level observables of the simulated events.
      sim_reco: ``[n, d_reco]`` their detector-level observables (same event order; matched pairs).
      data_reco: ``[n_data, d_reco]`` measured detector-level observables.
      key: PRNG key; ``fold_in(key, 0)`` trains, ``fold_in(key, 1)`` samples.
      train_cfg: the flow's :class:`~hepjax.train.TrainConfig` (``batch_size`` capped at ``n``; ``resume`` off).
      workdir: :func:`hepjax.train.fit`'s run folder.
      sim_weights: ``[n]`` generator weights ``w0`` (> 0), 1 when None: the flow's loss is their weighted mean.
      data_weights: ``[n_data]`` data event weights (> 0), 1 when None.
      n_samples: posterior samples per data event.
      flow_cfg: the flow's coupling architecture (default: 4 rqs layers, 8 bins, hidden (64, 64)); with ``d = 1``
        an auxiliary N(0, 1) coordinate is added (fresh every batch) and dropped from the samples.
      seed: seed of the flow's fixed permutations.

    Returns:
      :class:`CINNResult`; the unfolded distribution is ``result.unfolded`` weighted by ``result.unfolded_weights``.

    Raises:
      DataError: mismatched lengths, NaN/Inf observables, weights that are not finite and > 0 (naming the
        array and first bad event), or a diverging training.
    """
    t, x, xd, w0, wd = _inputs(sim_truth, sim_reco, data_reco, sim_weights, data_weights, n_samples)
    scaler = Standardizer.fit(x)
    flow = _build_flow(flow_cfg, t, w0, x.shape[1], seed)
    res = _train(
        flow, t, scaler.apply(x, np.float32), w0, train_cfg, Path(workdir), jax.random.fold_in(key, 0), None, "cinn"
    )
    model = CINN(flow, res.state.params, scaler, t.shape[1])
    return _unfold(model, jax.random.fold_in(key, 1), xd, wd, int(n_samples), _loss_history(res.history))


def iterative_cinn(
    sim_truth: np.ndarray,
    sim_reco: np.ndarray,
    data_reco: np.ndarray,
    *,
    key: jax.Array,
    train_cfg: TrainConfig,
    workdir: str | Path,
    n_iterations: int = 3,
    sim_weights: np.ndarray | None = None,
    data_weights: np.ndarray | None = None,
    n_samples: int = 10,
    flow_cfg: FlowConfig | None = None,
    classifier_cfg: TrainConfig | None = None,
    hidden: Sequence[int] = (50, 50),
    max_weight: float = MAX_WEIGHT,
    warm_start: bool = True,
    retrain_cfg: TrainConfig | None = None,
    seed: int = 0,
) -> IterativeCINNResult:
    """The iterative cINN of arXiv:2212.08674: the plain :func:`cinn`, then ``n_iterations`` rounds of
    reweighting the simulation's truth to the unfolded data with a classifier and retraining.

    Args (beyond :func:`cinn`'s):
      n_iterations: reweighting rounds ``I`` (>= 1); ``I + 1`` cINNs are trained.
      classifier_cfg: the classifiers' :class:`~hepjax.train.TrainConfig` (default ``train_cfg``).
      hidden: hidden widths of the MLP classifier.
      max_weight: upper clip of the truth weights ``nu_n`` (units of ``w0``).
      warm_start: retrain each cINN from the previous iteration's parameters (else from scratch).
      retrain_cfg: the flow's config for iterations >= 1 (default ``train_cfg``; warm starts need fewer steps).

    Keys: iteration ``n`` uses ``k_n = fold_in(key, n)``: ``fold_in(k_n, 0)`` trains the flow, ``fold_in(k_n, 1)``
    samples, ``fold_in(k_n, 2)`` initialises the classifier. Each run writes to ``workdir/iter<n>/{flow,...}``.

    Raises:
      DataError: bad input (as :func:`cinn`); NaN/Inf classifier weights or a diverging training, naming
        the iteration.
    """
    if int(n_iterations) < 1:
        raise ConfigError(f"iterative_cinn: n_iterations must be >= 1, got {n_iterations}")
    if not max_weight > 1.0:
        raise ConfigError(f"iterative_cinn: max_weight must be > 1, got {max_weight}")
    t, x, xd, w0, wd = _inputs(sim_truth, sim_reco, data_reco, sim_weights, data_weights, n_samples)
    s = int(n_samples)
    workdir = Path(workdir)
    scaler = Standardizer.fit(x)
    xc = scaler.apply(x, np.float32)
    flow = _build_flow(flow_cfg, t, w0, x.shape[1], seed)  # fixed across iterations: warm starts stay valid
    classifier_cfg = train_cfg if classifier_cfg is None else classifier_cfg
    model_c = _Classifier(tuple(hidden))
    # the classifier sees about as many unfolded samples as simulated events (balanced counts, less noise)
    k_cls = int(np.clip(np.ceil(len(t) / len(xd)), 1, s))

    nu = np.ones(len(t))
    weights, clipped, results, params = [nu], [0], [], None
    for it in range(int(n_iterations) + 1):
        k_it = jax.random.fold_in(key, it)
        if it > 0:
            prev = results[-1]
            u = prev.samples[:, :k_cls].reshape(-1, t.shape[1])
            feats = np.concatenate([t, u])
            i_sim, i_unf = np.arange(len(t)), len(t) + np.arange(len(u))
            w_unf = np.repeat(wd / k_cls, k_cls)
            logits = _train_classifier(
                model_c, feats, i_sim, i_unf, w0[None], w_unf[None], train_cfg=classifier_cfg,
                workdir=workdir / f"iter{it}", keys=jax.random.fold_in(k_it, 2)[None], seed=seed,
                iteration=it, step="2", method="iterative_cinn",
            )[0, : len(t)]  # fmt: skip
            bad = ~np.isfinite(logits)
            if np.any(bad):
                raise DataError(
                    f"iterative_cinn iteration {it} (truth-level classifier): {int(bad.sum())} NaN/Inf weight(s) "
                    f"(first: simulated event {int(np.argmax(bad))})"
                )
            nu = np.exp(np.minimum(logits, 80.0))
            clipped.append(int(np.sum(nu > max_weight)))
            nu = np.minimum(nu, max_weight)
            weights.append(nu)
        cfg = train_cfg if it == 0 or retrain_cfg is None else retrain_cfg
        res = _train(flow, t, xc, w0 * nu, cfg, workdir / f"iter{it}" / "flow", jax.random.fold_in(k_it, 0),
                     params if warm_start else None, f"iterative_cinn iteration {it}")  # fmt: skip
        params = res.state.params
        results.append(
            _unfold(
                CINN(flow, params, scaler, t.shape[1]),
                jax.random.fold_in(k_it, 1),
                xd,
                wd,
                s,
                _loss_history(res.history),
            )
        )
    weights = np.stack(weights)
    return IterativeCINNResult(results, weights, effective_sample_size(w0 * weights), np.asarray(clipped))


class CINNEnsembleResult(NamedTuple):
    """Output of :func:`cinn_ensemble`; ``R`` replicas, ``n`` data events, ``S`` samples, ``d`` observables.

    Attributes:
      params: the replicas' flow parameters stacked on a leading axis ``[R, ...]``.
      models: ``R`` :class:`CINN` (views of ``params``, one per replica).
      samples: ``[R, n, S, d]`` posterior samples of every data event by every replica.
      unfolded_weights: ``[n * S]`` weights of each replica's pooled samples ``samples[r].reshape(-1, d)``.
      loss: ``[k, 2]`` (step, mean over replicas of the weighted NLL) as logged by ``fit``.
    """

    params: Any
    models: list[CINN]
    samples: np.ndarray
    unfolded_weights: np.ndarray
    loss: np.ndarray


def cinn_ensemble(
    sim_truth: np.ndarray,
    sim_reco: np.ndarray,
    data_reco: np.ndarray,
    *,
    key: jax.Array,
    train_cfg: TrainConfig,
    workdir: str | Path,
    replica_weights: np.ndarray,
    replica_keys: jax.Array | None = None,
    sim_weights: np.ndarray | None = None,
    data_weights: np.ndarray | None = None,
    n_samples: int = 10,
    flow_cfg: FlowConfig | None = None,
    seed: int = 0,
) -> CINNEnsembleResult:
    """``R`` cINNs trained together in one :func:`hepjax.train.fit` (``vmap`` over stacked parameters), replica
    ``r`` on the simulation weighted by ``sim_weights * replica_weights[r]`` (bootstrap replicas of the
    simulation: :func:`~hepjax.unfolding.poisson_bootstrap_weights`; all ones for an ensemble of seeds).

    The loss is the sum of the replicas' weighted NLLs, so each replica's gradient is its own; with an
    element-wise optimiser (Adam/AdamW/SGD, ``grad_clip = 0``, enforced) each follows the path it would follow
    alone: ``cinn_ensemble(..., replica_weights=w[r:r+1], replica_keys=keys[r:r+1])`` with the same ``key``
    trains the same network as replica ``r`` of the ensemble (the batches and the auxiliary noise come from
    ``key``, shared; the initialisation and the posterior samples from the replica's key).

    Args (beyond :func:`cinn`'s):
      replica_weights: ``[R, n]`` per-replica event weights (finite, >= 0, each row with a positive sum).
      replica_keys: ``[R, 2]`` keys of the replicas (default ``split(fold_in(key, 1), R)``): replica ``r``
        initialises with ``fold_in(k_r, 0)`` and samples with ``fold_in(k_r, 1)``.
    """
    t, x, xd, w0, wd = _inputs(sim_truth, sim_reco, data_reco, sim_weights, data_weights, n_samples)
    if train_cfg.grad_clip > 0:
        raise ConfigError("cinn_ensemble: train.grad_clip must be 0 (global-norm clipping couples the replicas)")
    wr = np.asarray(replica_weights, np.float64)
    if wr.ndim != 2 or wr.shape[1] != len(t):
        raise DataError(f"cinn_ensemble: replica_weights must be [n_replicas, {len(t)}], got shape {wr.shape}")
    if not np.all(np.isfinite(wr)) or np.any(wr < 0) or np.any(wr.sum(1) <= 0):
        raise DataError("cinn_ensemble: replica_weights must be finite and >= 0, with a positive sum per replica")
    n_rep = len(wr)
    keys = jax.random.split(jax.random.fold_in(key, 1), n_rep) if replica_keys is None else replica_keys
    if len(keys) != n_rep:
        raise DataError(f"cinn_ensemble: {len(keys)} replica_keys for {n_rep} replicas")
    scaler = Standardizer.fit(x)
    flow = _build_flow(flow_cfg, t, w0, x.shape[1], seed)
    aux = flow.dim > t.shape[1]
    tt = np.concatenate([t, np.zeros_like(t)], axis=1) if aux else t
    w = w0 * wr
    w = w / w.mean(1, keepdims=True)
    cfg = dataclasses.replace(train_cfg, batch_size=min(train_cfg.batch_size, len(t)), resume=False)
    k_data, k_fit = jax.random.split(jax.random.fold_in(key, 0))
    data = ArrayDataset(
        {"x": tt.astype(np.float32), "c": scaler.apply(x, np.float32), "w": w.T.astype(np.float32)},  # w: [n, R]
        cfg.batch_size,
        seed=int(jax.random.randint(k_data, (), 0, 2**30)),
    )
    params = jax.vmap(lambda k: flow.init(jax.random.fold_in(k, 0)))(keys)

    def loss_fn(p, batch, k):
        xb = _aux_noise(k, batch["x"]) if aux else batch["x"]

        def one(pr, wr_):
            lp = flow.log_prob(pr, xb, batch["c"])
            return -jnp.sum(wr_ * lp) / jnp.maximum(jnp.sum(wr_), 1e-30)

        losses = jax.vmap(one, in_axes=(0, 1))(p, batch["w"])
        return jnp.sum(losses), {"nll": jnp.mean(losses)}

    try:
        res = fit(loss_fn, params, data, cfg, workdir=Path(workdir), key=k_fit, plot_keys=())
    except NonFiniteError as e:
        raise DataError(f"cinn_ensemble: the flows' training diverged: {e}") from e
    params = res.state.params
    models = [CINN(flow, jax.tree.map(lambda a, r=r: a[r], params), scaler, t.shape[1]) for r in range(n_rep)]
    s = int(n_samples)
    samples = np.stack([m.sample(jax.random.fold_in(k, 1), xd, s) for m, k in zip(models, keys)])
    return CINNEnsembleResult(params, models, samples, np.repeat(wd / s, s), _loss_history(res.history))


def rank_calibration(samples: np.ndarray, truth: np.ndarray, *, seed: int = 0) -> Calibration:
    """Rank of each event's true value among its posterior samples, per dimension, and a KS test of uniformity.

    Args:
      samples: ``[n, S, d]`` (or ``[n, S]``) posterior samples of ``n`` held-out simulated events.
      truth: ``[n, d]`` (or ``[n]``) their true values.
      seed: seed of the uniform jitter that makes the discrete ranks a continuous PIT (ties are broken too).

    Returns:
      :class:`Calibration`: ``ranks [n, d]`` (number of samples below the truth, ``0..S``; uniform for a
      calibrated posterior), ``ks [d]`` and ``pvalue [d]`` of ``scipy.stats.kstest`` of ``(rank + U) / (S + 1)``
      against U(0, 1). Too-narrow posteriors pile the ranks at 0 and S, too-wide ones in the middle, biased
      ones at one end; all give small p-values.
    """
    samples = np.asarray(samples, np.float64)
    truth = np.asarray(truth, np.float64)
    if samples.ndim == 2:
        samples = samples[..., None]
    if truth.ndim == 1:
        truth = truth[:, None]
    if samples.ndim != 3 or truth.shape != (samples.shape[0], samples.shape[2]):
        raise DataError(f"rank_calibration: samples {samples.shape} must be [n, S, d] and truth {truth.shape} [n, d]")
    for name, a in (("samples", samples), ("truth", truth)):
        if not np.all(np.isfinite(a)):
            raise DataError(f"rank_calibration: {name} holds {int(np.sum(~np.isfinite(a)))} NaN/Inf value(s)")
    below = np.sum(samples < truth[:, None, :], axis=1)
    ties = np.sum(samples == truth[:, None, :], axis=1)
    rng = np.random.default_rng(seed)
    ranks = below + np.floor(rng.uniform(size=below.shape) * (ties + 1)).astype(int)  # a tie is broken at random
    u = (ranks + rng.uniform(size=ranks.shape)) / (samples.shape[1] + 1)
    tests = [scipy.stats.kstest(u[:, i], "uniform") for i in range(u.shape[1])]
    return Calibration(ranks, np.array([r.statistic for r in tests]), np.array([r.pvalue for r in tests]))


__all__ = [
    "CINN",
    "CINNEnsembleResult",
    "CINNResult",
    "Calibration",
    "IterativeCINNResult",
    "cinn",
    "cinn_ensemble",
    "iterative_cinn",
    "rank_calibration",
]
