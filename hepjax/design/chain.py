"""The one differentiable chain: detector → smearing → Deep Sets W tagger → soft selection → jet-mass
histograms → HistFactory likelihood with systematics → expected Z0 − cost (design study (c)).

``objective(params, key)`` is a pure function of

* ``params["budget"]`` ``[K]``: logits of the share of a fixed detector budget spent on each subsystem of
  :data:`SUBSYSTEMS` (:func:`hepjax.design.equal_cost_scales`: the cost equals ``cost_target`` exactly for
  every value, so the optimiser can only *redistribute* the budget). Each subsystem's share buys a
  resolution scale (a multiple of the reference detector's resolution terms, :func:`scale_detector`);
* ``params["threshold"]``: the cut on the tagger score sigmoid(logit) in (0, 1).

For both classes (W jets, QCD jets) the particle-level constituents are smeared with fixed noise drawn from
``key`` (:func:`hepjax.detector.smear_with_noise`, soft efficiencies), tagged by a fixed Deep Sets tagger,
selected by :func:`hepjax.design.soft_cut` on the score and histogrammed in the detector-level jet mass by
:func:`hepjax.design.kde_histogram`. The same chain with the reconstructed constituents' pT and energy scaled
by ``1 ± jes`` gives the jet-energy-scale histosys templates (one nuisance parameter on both samples); the
background has a normalisation normsys. Z0 is :func:`hepjax.stats.expected_z0` (profile likelihood,
nuisances fitted, gradients by implicit differentiation). With ``hard=True`` the same function evaluates
the analysis as it would be run: hard detector cuts with the efficiencies sampled, a hard score cut and
plain histograms.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hepjax.data.particles import Particles
from hepjax.detector import DetectorParams, draw_noise, smear, smear_with_noise
from hepjax.errors import ConfigError, DataError, is_concrete
from hepjax.stats import build_model, expected_z0, with_templates
from hepjax.tagging import DeepSets, constituent_features, jet_inputs

from .costs import budget_cost, equal_cost_scales
from .relaxed import kde_histogram, soft_cut

#: Detector subsystems of the budget: ``name -> (share of the reference detector's cost, cost power)``.
#: Placeholders (no claim of realism; pass your own ``subsystems=``): the tracker's pT resolution (a and b of
#: every species) with cost ~ 1/σ, the ECAL and HCAL stochastic terms with cost ~ 1/S² (sampling layers)
#: and their constant terms with cost ~ 1/C (calibration). The shares sum to 1: ``cms_like()`` costs 1.
SUBSYSTEMS: dict[str, tuple[float, float]] = {
    "tracker_pt": (0.30, 1.0),
    "ecal_stochastic": (0.15, 2.0),
    "ecal_constant": (0.10, 1.0),
    "hcal_stochastic": (0.30, 2.0),
    "hcal_constant": (0.15, 1.0),
}


class JetSample(NamedTuple):
    """Particle-level fat-jet constituents of one class and what each jet stands for.

    Attributes:
      constituents: :class:`Particles` ``[n_jets, M]`` (GeV, rad; padded, ``mask``).
      weight: expected jets per simulated jet (``total_yield / n_jets``), a float.
    """

    constituents: Particles
    weight: float


def scale_detector(det: DetectorParams, scales: dict) -> DetectorParams:
    """``det`` with each subsystem's resolution multiplied by its scale (names of :data:`SUBSYSTEMS`).

    ``tracker_pt`` scales both terms of σ(pT)/pT of every species; ``{ecal,hcal}_{stochastic,constant}`` the
    calorimeter's S or C of every |η| region. Missing names keep their scale 1.
    """
    unknown = set(scales) - set(SUBSYSTEMS)
    if unknown:
        raise ConfigError(f"scale_detector: unknown subsystem(s) {sorted(unknown)}; known: {list(SUBSYSTEMS)}")
    one = jnp.asarray(1.0)
    s = {name: scales.get(name, one) for name in SUBSYSTEMS}
    tr = det.tracker
    tr = dataclasses.replace(
        tr, pt=dataclasses.replace(tr.pt, a=tr.pt.a * s["tracker_pt"], b=tr.pt.b * s["tracker_pt"])
    )

    def calo(c, prefix):
        r = c.resolution
        r = dataclasses.replace(
            r, stochastic=r.stochastic * s[f"{prefix}_stochastic"], constant=r.constant * s[f"{prefix}_constant"]
        )
        return dataclasses.replace(c, resolution=r)

    return dataclasses.replace(det, tracker=tr, ecal=calo(det.ecal, "ecal"), hcal=calo(det.hcal, "hcal"))


def tagger_inputs(reco) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(features [B, M, 6], weights [B, M], jet inputs [B, 2])`` of smeared constituents (as the demo)."""
    feats, w, jet = constituent_features(reco)
    return feats, w, jet_inputs(jet)


def make_tagger(width: int = 32, latent: int = 32) -> DeepSets:
    """The Deep Sets W tagger of the demo (pooled sum / 20), at the given widths."""
    return DeepSets(phi=(width, latent), f=(width, width), pool_scale=1.0 / 20.0)


def train_tagger(
    model: DeepSets,
    signal: Particles,
    background: Particles,
    det: DetectorParams,
    key: jax.Array,
    *,
    steps: int,
    batch_size: int,
    learning_rate: float,
):
    """Train ``model`` (fresh weights from ``key``) on W (1) vs QCD (0) jets seen through ``det``.

    Each Adam step (cosine decay) draws a balanced batch of ``batch_size`` jets and smears it with a fresh
    key (soft detector, as the demo); binary cross entropy on the logits. Returns the flax variables.
    """
    n = min(len(signal.pt), len(background.pt))
    if n < 2 or batch_size < 2:
        raise DataError(f"train_tagger: need >= 2 jets per class and batch_size >= 2, got {n} and {batch_size}")
    half = min(batch_size // 2, n)
    both = jax.tree.map(lambda a, b: jnp.concatenate([jnp.asarray(a[:n]), jnp.asarray(b[:n])]), signal, background)
    k_init, k_loop = jax.random.split(key)
    params = model.init(
        k_init, *tagger_inputs(smear(k_init, jax.tree.map(lambda x: x[:2], both), det, with_cells=False))
    )
    opt = optax.adam(optax.cosine_decay_schedule(learning_rate, steps))
    labels = jnp.concatenate([jnp.ones(half), jnp.zeros(half)])

    def loss(p, k):
        k_s, k_b, k_d = jax.random.split(k, 3)
        idx = jnp.concatenate([jax.random.choice(k_s, n, (half,)), n + jax.random.choice(k_b, n, (half,))])
        batch = jax.tree.map(lambda x: x[idx], both)
        logits = model.apply(p, *tagger_inputs(smear(k_d, batch, det, with_cells=False)))
        return optax.sigmoid_binary_cross_entropy(logits, labels).mean()

    @jax.jit
    def step(p, state, k):
        g = jax.grad(loss)(p, k)
        updates, state = opt.update(g, state, p)
        return optax.apply_updates(p, updates), state

    state = opt.init(params)
    for i in range(steps):
        params, state = step(params, state, jax.random.fold_in(k_loop, i))
    return params


def _histosys_model(n_bins: int, bkg_norm: float):
    """The HistFactory model's structure (templates replaced per evaluation by :func:`hepjax.stats.with_templates`): one channel, signal with
    ``mu`` and the ``jes`` histosys, background with the ``bkg_norm`` normsys and the same ``jes``."""
    ones = [1.0] * n_bins
    hs = {"name": "jes", "type": "histosys", "data": {"hi_data": ones, "lo_data": ones}}
    spec = {
        "channels": [
            {
                "name": "SR",
                "samples": [
                    {
                        "name": "signal",
                        "data": ones,
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}, hs],
                    },
                    {
                        "name": "background",
                        "data": ones,
                        "modifiers": [
                            {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1 + bkg_norm, "lo": 1 - bkg_norm}},
                            hs,
                        ],
                    },
                ],
            }
        ]
    }
    return build_model(spec)


def chain_objective(
    signal: JetSample,
    background: JetSample,
    model: DeepSets,
    tagger_params,
    det: DetectorParams,
    *,
    edges,
    bandwidth: float,
    slope: float,
    bkg_norm: float,
    jes: float,
    cost_target: float = 1.0,
    cost_weight: float = 1.0,
    background_floor: float = 1.0,
    subsystems: dict[str, tuple[float, float]] | None = None,
) -> Callable:
    """``objective(params, key) -> Z0 - cost_weight * cost``, the figure of merit of design study (c).

    Args:
      signal, background: the W and QCD jets (:class:`JetSample`).
      model, tagger_params: the Deep Sets tagger and its (fixed) variables.
      det: the reference detector (``cms_like()``), scale 1 of every subsystem.
      edges: ``[n_bins + 1]`` jet-mass bin edges, GeV.
      bandwidth: KDE bandwidth of the soft histograms, GeV.
      slope: soft score cut sharpness, per unit of score.
      bkg_norm: relative background-normalisation uncertainty (normsys hi/lo = 1 ± bkg_norm).
      jes: relative jet-energy-scale uncertainty (histosys from the chain at 1 ± jes).
      cost_target: the detector cost held fixed (1 = ``cms_like()``'s with the default subsystems).
      cost_weight: λ, significance units per unit of cost.
      background_floor: added to every background bin (nominal and JES variations), in simulated background
        jets (``background_floor * background.weight`` events): a bin the finite sample leaves empty is not
        taken to be free of background (which would make Z0 infinite with a hard cut).
      subsystems: ``name -> (share, power)``, default :data:`SUBSYSTEMS`.

    ``params``: ``{"budget": [K] logits, "threshold": score cut}``. The returned function carries
    ``.parts(params, key, hard=False, tagger_params=None) -> dict`` (objective, z0, cost, histograms; another
    tagger's variables may be passed, e.g. a retrained one), ``.masses(params, key, hard, tagger_params)``
    (per-jet nominal mass [n] GeV, selected weight [n] and is-signal [n]), ``.scales(params)``,
    ``.detector(params)``, ``.init(threshold)`` (the reference detector's params) and ``.bounds``.

    Raises:
      ConfigError: a non-positive ``cost_target`` (no detector meets it), ``bkg_norm``/``jes`` not in (0, 1),
        unknown subsystems, fewer than 2 edges.
      DataError: (when calling ``objective`` on concrete params) a threshold outside (0, 1), budget logits of
        the wrong shape or non-finite.
    """
    subsystems = dict(SUBSYSTEMS if subsystems is None else subsystems)
    unknown = set(subsystems) - set(SUBSYSTEMS)
    if unknown:
        raise ConfigError(f"subsystems: unknown {sorted(unknown)}; known: {list(SUBSYSTEMS)}")
    if not float(cost_target) > 0:
        raise ConfigError(f"cost_target={cost_target}: the equal-cost constraint cannot be met (needs > 0)")
    for name, v in (("bkg_norm", bkg_norm), ("jes", jes)):
        if not 0 < float(v) < 1:
            raise ConfigError(f"{name}={v} must lie in (0, 1)")
    edges = jnp.asarray(np.asarray(edges, np.float64))
    if edges.ndim != 1 or edges.shape[0] < 2:
        raise ConfigError(f"edges: need >= 2 bin edges, got shape {edges.shape}")
    names = list(subsystems)
    shares = jnp.asarray([subsystems[n][0] for n in names])
    powers = jnp.asarray([subsystems[n][1] for n in names])
    model_params = tagger_params
    hf = _histosys_model(edges.shape[0] - 1, bkg_norm)
    if hf.info.samples != ("SR/signal", "SR/background"):
        raise AssertionError(hf.info.samples)  # the template rows below rely on this order
    # both classes in one array: one smearing and one tagger pass (vmapped over the JES variations) keep the
    # traced graph, and so the compile time, small
    n_sig = int(np.shape(signal.constituents.pt)[0])
    cons = jax.tree.map(
        lambda a, b: np.concatenate([np.asarray(a), np.asarray(b)]), signal.constituents, background.constituents
    )
    weight = np.concatenate([np.full(n_sig, signal.weight), np.full(len(cons.pt) - n_sig, background.weight)])
    is_sig = np.arange(len(weight)) < n_sig
    variations = np.array([1.0, 1.0 + jes, 1.0 - jes])

    def check(params):
        b, t = params["budget"], params["threshold"]
        if np.shape(b) != (len(names),):
            raise DataError(
                f"params['budget'] must have shape ({len(names)},) (one logit per {names}), got {np.shape(b)}"
            )
        if is_concrete(b) and not np.all(np.isfinite(np.asarray(b))):
            raise DataError(f"params['budget'] must be finite, got {np.asarray(b)}")
        if is_concrete(t) and not 0.0 < float(t) < 1.0:
            raise DataError(f"params['threshold']={float(t)} is out of its bounds (0, 1): the tagger score's range")

    def scales(params) -> dict:
        s = equal_cost_scales(params["budget"], cost_target, shares, powers)
        return dict(zip(names, s))

    def detector(params) -> DetectorParams:
        return scale_detector(det, scales(params))

    floor = float(background_floor) * float(background.weight)

    def selected(d, noise, threshold, hard: bool, tp, v):
        """(mass [n] GeV, selection weight [n]) of all jets, reconstructed pT and energy scaled by ``v``."""
        reco = smear_with_noise(noise, cons, d, hard=hard, with_cells=False)
        if hard:  # a sampled event: each constituent is reconstructed or not
            reco = reco._replace(weight=reco.mask.astype(reco.pt.dtype))
        feats, w, jet = tagger_inputs(reco._replace(pt=reco.pt * v, energy=reco.energy * v))
        score = jax.nn.sigmoid(model.apply(tp, feats, w, jet))
        mass = jet[:, 0] * 100.0  # jet_inputs holds (m / 100 GeV, log(pT / 400 GeV))
        sel = (score > threshold).astype(mass.dtype) if hard else soft_cut(score, threshold, slope)
        return mass, sel

    def histograms(d, noise, threshold, hard: bool, tp):
        """``[3, 2, n_bins]``: (nominal, JES up, JES down) × (signal, background)."""
        w_class = jnp.stack([jnp.where(is_sig, weight, 0.0), jnp.where(is_sig, 0.0, weight)])  # [2, n]

        def one(v):
            mass, sel = selected(d, noise, threshold, hard, tp, v)
            if hard:
                h = [jnp.histogram(mass, edges, weights=wc * sel)[0] for wc in w_class]
            else:
                h = [kde_histogram(mass, edges, bandwidth, weights=wc * sel) for wc in w_class]
            return jnp.stack([h[0], h[1] + floor])

        return jax.vmap(one)(jnp.asarray(variations, jnp.result_type(float)))

    def masses(params, key, *, hard: bool = True, tagger_params=None):
        check(params)
        noise = draw_noise(key, np.shape(cons.pt), jnp.result_type(float))
        tp = model_params if tagger_params is None else tagger_params
        mass, sel = selected(detector(params), noise, params["threshold"], hard, tp, 1.0)
        return mass, weight * sel, is_sig

    def parts(params, key, *, hard: bool = False, tagger_params=None) -> dict:
        check(params)
        tp = model_params if tagger_params is None else tagger_params
        noise = draw_noise(key, np.shape(cons.pt), jnp.result_type(float))
        h = histograms(detector(params), noise, params["threshold"], hard, tp)
        (s, b), (s_up, b_up), (s_dn, b_dn) = h[0], h[1], h[2]
        m = with_templates(hf, jnp.stack([s, b]), jnp.stack([s_up, b_up]), jnp.stack([s_dn, b_dn]))
        # a concrete (eager) call warns on a non-converged fit with its gradient norm; under jit the fits
        # cannot report, which the study covers by evaluating its start and optimum eagerly as well
        z0 = expected_z0(m, on_fail="warn" if is_concrete(h) else "ignore")
        cost = budget_cost(jnp.stack(list(scales(params).values())), shares, powers)
        return {
            "objective": z0 - cost_weight * cost,
            "z0": z0,
            "cost": cost,
            "signal": s,
            "background": b,
            "signal_total": jnp.sum(s),
            "background_total": jnp.sum(b),
        }

    def objective(params, key):
        return parts(params, key)["objective"]

    def init(threshold: float = 0.5) -> dict:
        """The reference detector (budget logits log(shares / sum(shares))) and a score cut."""
        return {"budget": jnp.log(shares / jnp.sum(shares)), "threshold": jnp.asarray(threshold, dtype=shares.dtype)}

    objective.masses = masses
    objective.parts, objective.scales, objective.detector, objective.init = parts, scales, detector, init
    objective.bounds = {"budget": None, "threshold": (0.0, 1.0)}
    objective.names = names
    return objective


def scan_threshold(hard_z0: Callable, params: dict, tagger_params, thresholds, keys) -> tuple[float, list]:
    """The score cut of ``thresholds`` with the largest mean ``hard_z0(params, key, tagger_params)`` over ``keys``.

    Returns ``(best threshold, [mean Z0 per threshold])``: the analysis choice made for a given detector and
    tagger, e.g. on the optimisation jets before evaluating on held-out ones.
    """
    dtype = jnp.asarray(params["threshold"]).dtype
    scan = [
        float(np.mean([float(hard_z0({**params, "threshold": jnp.asarray(x, dtype)}, k, tagger_params)) for k in keys]))
        for x in thresholds
    ]
    return float(thresholds[int(np.argmax(scan))]), scan


def mean_over_keys(parts_fn: Callable, params: dict, tagger_params, keys) -> dict:
    """Mean and standard deviation over ``keys`` of every scalar of ``parts_fn(params, key, tagger_params)``."""
    vals = [parts_fn(params, k, tagger_params) for k in keys]
    out = {}
    for name in vals[0]:
        if np.ndim(vals[0][name]) == 0:
            x = np.array([float(v[name]) for v in vals])
            out[f"{name}_mean"], out[f"{name}_std"] = float(x.mean()), float(x.std())
    return out


def central_differences(f: Callable, params: dict, *, rel_step: float = 1e-4) -> dict:
    """Central finite differences of scalar ``f(params)`` per parameter entry (same pytree as ``params``).

    Step ``h = rel_step * max(|x|, 1)`` per entry (float64 is the caller's: run under ``jax.enable_x64``).
    """
    leaves, treedef = jax.tree.flatten(params)
    out = []
    for i, leaf in enumerate(leaves):
        x = np.asarray(leaf, np.float64)
        g = np.zeros_like(x)
        for j in np.ndindex(x.shape):
            h = rel_step * max(abs(float(x[j])), 1.0)
            vals = []
            for sign in (1.0, -1.0):
                xp = x.copy()
                xp[j] += sign * h
                new = list(leaves)
                new[i] = jnp.asarray(xp)
                vals.append(float(f(jax.tree.unflatten(treedef, new))))
            g[j] = (vals[0] - vals[1]) / (2 * h)
        out.append(g)
    return jax.tree.unflatten(treedef, out)


def fd_max_rel_err(grad: dict, fd: dict, *, floor: float = 1e-3) -> float:
    """Largest ``|grad - fd| / max(|fd|, floor * max|fd|)`` over all entries (relative, with a floor for
    entries whose derivative is ~0 next to the others)."""
    g = np.concatenate([np.ravel(np.asarray(x)) for x in jax.tree.leaves(grad)])
    f = np.concatenate([np.ravel(np.asarray(x)) for x in jax.tree.leaves(fd)])
    scale = np.maximum(np.abs(f), floor * np.max(np.abs(f)))
    return float(np.max(np.abs(g - f) / scale))


__all__ = [
    "SUBSYSTEMS",
    "JetSample",
    "central_differences",
    "chain_objective",
    "fd_max_rel_err",
    "make_tagger",
    "mean_over_keys",
    "scale_detector",
    "scan_threshold",
    "tagger_inputs",
    "train_tagger",
]
