"""Design study (c): the one differentiable chain, detector and analysis optimised together at equal cost.

W → qq̄' jets against QCD jets (Pythia 8, anti-kT R = 0.8): detector → ``smear`` → Deep Sets W tagger → soft
score cut → jet-mass histograms → HistFactory likelihood (background normsys, JES histosys) → expected Z0 − cost
(:func:`hepjax.design.chain.chain_objective`). From ``cms_like()``, Adam moves the share of a fixed budget spent
on each detector subsystem (the cost stays ``cms_like()``'s) and the score cut; the tagger, trained once at
``cms_like()``, is fixed in the loop. Confirmation: fresh taggers trained at the start and at the optimum, the
hard cut chosen for each on the optimisation jets, Z0 with hard cuts on held-out jets and fresh detector noise
(``chain_z0_gain``); the gradient against central finite differences (float64, fixed noise, a small sample).
Writes ``paths.png`` (objective, subsystem scales and cut per step) and ``mass.png`` (selected jet mass at the
start and the optimum, retrained taggers, held-out jets). Run: ``hepjax run configs/design_chain.yaml``.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hepjax.config import RunConfig, param, section
from hepjax.data import JetConfig, SampleConfig
from hepjax.design import chain, optimize
from hepjax.design.plots import optimisation_paths, window_histograms
from hepjax.detector import cms_like
from hepjax.errors import DataError
from hepjax.tagging import jet_constituents
from hepjax.train import split


@dataclasses.dataclass(frozen=True)
class SelectionConfig:
    pt_min: float = param(300.0, gt=0.0, doc="jet pT window, GeV")
    pt_max: float = param(600.0, gt=0.0, doc="GeV")
    eta_max: float = param(2.0, gt=0.0)
    fractions: tuple[float, float] = param((0.5, 0.25), doc="tagger training, optimisation; the rest held out")


@dataclasses.dataclass(frozen=True)
class AnalysisConfig:
    signal_yield: float = param(500.0, gt=0.0, doc="expected W jets in the pT window before tagging")
    background_yield: float = param(50000.0, gt=0.0, doc="expected QCD jets in the pT window")
    mass_range: tuple[float, float] = param((50.0, 130.0), doc="jet-mass histogram range, GeV")
    n_bins: int = param(8, ge=1)
    bandwidth: float = param(4.0, gt=0.0, doc="KDE bandwidth, GeV")
    slope: float = param(50.0, gt=0.0, doc="soft score-cut sharpness")
    bkg_norm: float = param(0.1, gt=0.0, lt=1.0, doc="background normalisation uncertainty (normsys)")
    jes: float = param(0.03, gt=0.0, lt=1.0, doc="jet energy scale uncertainty (histosys)")
    cost_target: float = param(1.0, gt=0.0, doc="cost held fixed (1: cms_like())")
    cost_weight: float = param(1.0, ge=0.0)


@dataclasses.dataclass(frozen=True)
class TaggerConfig:
    width: int = param(32, ge=2)
    latent: int = param(32, ge=2)
    steps: int = param(400, ge=1)
    batch_size: int = param(128, ge=2)
    learning_rate: float = param(2e-3, gt=0.0)


@dataclasses.dataclass(frozen=True)
class DesignConfig:
    init_threshold: float = param(0.8, gt=0.0, lt=1.0, doc="score cut at the start")
    steps: int = param(150, ge=1)
    learning_rate: float = param(0.05, gt=0.0, doc="Adam, on the unconstrained parameters")
    fresh_noise: bool = param(True, doc="new detector noise every step")
    fd_jets: int = param(64, ge=2, doc="jets per class of the finite-difference check")
    threshold_grid: int = param(19, ge=1, doc="score cuts scanned for the retrained taggers")
    fresh_keys: int = param(5, ge=1, doc="fresh detector-noise keys of the held-out evaluation")


@dataclasses.dataclass(frozen=True)
class Config:
    signal: SampleConfig = section(SampleConfig)
    background: SampleConfig = section(SampleConfig)
    jets: JetConfig = section(JetConfig)
    selection: SelectionConfig = section(SelectionConfig)
    analysis: AnalysisConfig = section(AnalysisConfig)
    tagger: TaggerConfig = section(TaggerConfig)
    design: DesignConfig = section(DesignConfig)


def _jets(s: SampleConfig, c: Config, want_pdg):
    sel = c.selection
    return jet_constituents(s, c.jets, want_pdg=want_pdg, pt_min=sel.pt_min, pt_max=sel.pt_max, eta_max=sel.eta_max)


def _cast(tree, dtype):
    return jax.tree.map(
        lambda x: jnp.asarray(x, dtype) if jnp.issubdtype(jnp.asarray(x).dtype, jnp.floating) else x, tree
    )


def run(cfg: RunConfig, workdir: Path) -> dict:
    c: Config = cfg.sections
    a, t, d = c.analysis, c.tagger, c.design
    fr = (*c.selection.fractions, 1.0 - sum(c.selection.fractions))  # tagger training, optimisation, held out
    splits = {k: split(_jets(s, c, w), fr, cfg.seed) for k, s, w in (("s", c.signal, 24), ("b", c.background, None))}
    n_jets = {k: [len(p.pt) for p in v] for k, v in splits.items()}
    if min(n_jets["s"] + n_jets["b"]) < 2:
        raise DataError(f"too few jets per split (signal, background): {n_jets}; raise n_events")
    k_tag, k_retrain, k_opt, k_fd, k_eval = jax.random.split(jax.random.key(cfg.seed), 5)
    model, det = chain.make_tagger(t.width, t.latent), cms_like()
    train = dict(steps=t.steps, batch_size=t.batch_size, learning_rate=t.learning_rate)
    t0 = time.perf_counter()
    tagger0 = chain.train_tagger(model, splits["s"][0], splits["b"][0], det, k_tag, **train)
    t_train = time.perf_counter() - t0
    okw = dict(edges=np.linspace(*a.mass_range, a.n_bins + 1), bandwidth=a.bandwidth, slope=a.slope)
    okw.update(bkg_norm=a.bkg_norm, jes=a.jes, cost_target=a.cost_target, cost_weight=a.cost_weight)

    def objective_on(i, n=None):  # the chain on split i (1 optimisation, 2 held out), float64, tagger0 fixed
        s, b = (jax.tree.map(lambda x: x[:n], splits[k][i]) for k in "sb")
        sig, bkg = chain.JetSample(s, a.signal_yield / len(s.pt)), chain.JetSample(b, a.background_yield / len(b.pt))
        return chain.chain_objective(sig, bkg, model, _cast(tagger0, jnp.float64), _cast(det, jnp.float64), **okw)

    with jax.enable_x64(True):
        obj = objective_on(1)
        init = obj.init(d.init_threshold)
        t0 = time.perf_counter()
        res = optimize(
            obj,
            init,
            optimizer=optax.adam(d.learning_rate),
            steps=d.steps,
            key=k_opt,
            bounds=obj.bounds,
            fresh_noise=d.fresh_noise,
            maximize=True,
        )
        t_opt = time.perf_counter() - t0
        opt = res.params if d.fresh_noise else res.path_params[int(np.argmax(res.path_objective))]
        # eager, so a non-converged profile fit at either point warns with its gradient norm
        at_start, at_opt = ({**_scales(obj, p), **_floats(obj.parts(p, k_eval))} for p in (init, opt))
        small = objective_on(1, d.fd_jets)  # the gradient check: fixed noise, float64, a small sample
        f_small = jax.jit(small)
        fd = chain.central_differences(lambda p: f_small(p, k_fd), opt)
        fd_err = chain.fd_max_rel_err(jax.jit(jax.grad(small))(opt, k_fd), fd)
        det_opt = jax.tree.map(np.asarray, obj.detector(opt))
        init, opt = jax.tree.map(np.asarray, init), jax.tree.map(np.asarray, opt)

    t0 = time.perf_counter()  # fresh taggers (same key, data, steps) at the start and at the optimum, float32
    dets = {"start": det, "optimum": _cast(det_opt, jnp.float32)}
    retrained = {
        n: chain.train_tagger(model, splits["s"][0], splits["b"][0], v, k_retrain, **train) for n, v in dets.items()
    }
    t_retrain = time.perf_counter() - t0
    with jax.enable_x64(True):
        obj, test = objective_on(1), objective_on(2)
        hard_opt = jax.jit(lambda p, k, tp: obj.parts(p, k, hard=True, tagger_params=tp)["z0"])
        hard_test = jax.jit(lambda p, k, tp: test.parts(p, k, hard=True, tagger_params=tp))
        grid, keys = np.linspace(0.05, 0.95, d.threshold_grid), jax.random.split(k_eval, d.fresh_keys)
        confirm, masses = {}, {}
        for name, p in (("start", init), ("optimum", opt)):
            p, tp = _cast(p, jnp.float64), _cast(retrained[name], jnp.float64)
            cut, scan = chain.scan_threshold(hard_opt, p, tp, grid, keys[:2])
            best = {**p, "threshold": jnp.float64(cut)}
            confirm[name] = {"threshold": cut, **chain.mean_over_keys(hard_test, best, tp, keys), "scan_z0": scan}
            fixed = chain.mean_over_keys(hard_test, p, _cast(tagger0, jnp.float64), keys)  # as optimised
            confirm[name]["fixed_tagger_z0_mean"] = fixed["z0_mean"]
            m, w, is_sig = (np.asarray(x) for x in test.masses(best, k_eval, tagger_params=tp))
            label = f"{name}: retrained tagger, score > {cut:.2f}"
            masses[label] = ((m[is_sig], w[is_sig]), (m[~is_sig], w[~is_sig]), tuple(a.mass_range))
        paths = {n: np.array([float(obj.scales(p)[n]) for p in res.path_params]) for n in obj.names}
        paths["threshold"] = np.array([float(p["threshold"]) for p in res.path_params])
    optimisation_paths(Path(workdir) / "paths.png", res.path_objective, paths)
    window_histograms(Path(workdir) / "mass.png", masses, xlabel="jet mass [GeV]", bins=32)
    z_start, z_opt = confirm["start"]["z0_mean"], confirm["optimum"]["z0_mean"]
    return {
        "n_jets": {"signal": n_jets["s"], "background": n_jets["b"]},
        "start": at_start,
        "optimum": {**at_opt, "threshold": float(opt["threshold"])},
        "confirmation": confirm,
        "chain_z0_start": z_start,
        "chain_z0_opt": z_opt,
        "chain_z0_gain": z_opt / z_start - 1.0,
        "chain_fd_max_rel_err": fd_err,
        "cost_start": at_start["cost"],
        "cost_opt": at_opt["cost"],
        "n_evals": res.n_evals,
        "time_s": {"train_tagger": t_train, "optimize": t_opt, "retrain": t_retrain},
        "compilations": {
            "optimize": res.compilations,
            "hard_scan": hard_opt._cache_size(),
            "hard_test": hard_test._cache_size(),
        },
    }


def _scales(obj, params) -> dict:
    return {f"scale_{n}": float(v) for n, v in obj.scales(params).items()}


def _floats(parts: dict) -> dict:
    return {k: float(v) for k, v in parts.items() if np.ndim(v) == 0}
