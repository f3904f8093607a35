"""Mass-decorrelated W tagging: R50 vs 1/JSD for DisCo, MoDe and an adversary, scanned in λ.

Boosted W -> qq' jets (signal) against QCD jets (background), anti-kT R = 0.8 at particle level,
constituents smeared once through the CMS-like detector (``hard`` cuts, fixed key); the
detector-level jet mass ``m`` is the mass of the smeared constituents. A tagger (the project's
Deep Sets, or the EdgeConv tagger with ``model.kind=edgeconv``) sees the constituents and the
jet pT but not ``m``. For each method and each strength λ it is trained through
:func:`hepjax.train.fit` on the class-balanced loss

    BCE + λ · penalty(score, m | background),

* ``none``: no penalty (the undecorrelated tagger, λ = 0);
* ``disco``: squared distance correlation of score and mass (Kasieczka & Shih, PRL 125 (2020) 122001);
* ``mode0`` / ``mode1``: MoDe, efficiency flat / linear in mass (Kitouni et al., JHEP 03 (2021) 070);
* ``adversarial``: a Gaussian-mixture adversary predicts ``m`` from the score, trained through
  gradient reversal with λ ramped up (Louppe, Kagan & Cranmer, NeurIPS 2017).

On held-out jets it reports R50 (``1/ε_B`` at ``ε_S = 50%``) and 1/JSD (the Jensen–Shannon
divergence, base 2, of the background mass histograms passing and failing that cut), as the
DisCo paper does, and, for each method, the best R50 among its runs with 1/JSD >= 10. Each run
also records the 1/JSD of a random cut with the same background efficiency: the largest value
the finite test sample can show.

Writes ``metrics.json``, ``pareto.png`` (R50 vs 1/JSD, all methods), ``sculpting_<method>.png``
(background mass at cuts of ε_B = 100%, 50%, 10%, 2%), and ``runs/<method>_lam<λ>/`` (one
trainer folder per run: checkpoints, ``metrics.jsonl``, ``loss.png``). Running again resumes:
finished runs are read back from their checkpoints.

Run: ``hepjax run configs/decorrelation.yaml``.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from tqdm.auto import tqdm

from hepjax.config import ConfigError, CrossFieldError, RunConfig, param, section
from hepjax.decorrelation.penalties import PENALTIES, get_penalty
from hepjax.decorrelation.plots import NAMES, pareto_plot, sculpting_plots
from hepjax.decorrelation.study import (
    WithStep,
    build_dataset,
    class_weights,
    evaluate,
    finite_or_none,
    random_cut_inv_jsd,
    run_line,
    scan_summary,
    standardise_features,
)
from hepjax.tagging.factory import make_tagger
from hepjax.train import ArrayDataset, TrainConfig, fit, split
from hepjax.train.predict import predict_in_chunks

log = logging.getLogger(__name__)

METHODS = tuple(PENALTIES)  # none, disco, mode0, mode1, adversarial


@dataclasses.dataclass(frozen=True)
class DataConfig:
    signal_events: tuple[int, ...] = param((2500, 1500), doc="boosted_w events of each signal sample")
    signal_seeds: tuple[int, ...] = param((101, 0), doc="Pythia seed of each signal sample")
    background_events: int = param(8500, ge=10, doc="qcd_dijet events")
    background_seed: int = param(0, ge=0)
    qcd_pthat_min: float = param(300.0, ge=0.0, doc="GeV, Pythia pT-hat window of the QCD sample")
    qcd_pthat_max: float = param(600.0, gt=0.0, doc="GeV")
    jet_radius: float = param(0.8, gt=0.0, le=1.5)
    jet_pt_min: float = param(300.0, ge=0.0, doc="GeV")
    jet_pt_max: float = param(600.0, gt=0.0, doc="GeV")
    jet_eta_max: float = param(2.0, gt=0.0)
    max_constituents: int = param(48, ge=4)
    mass_min: float = param(30.0, ge=0.0, doc="GeV; jets outside [mass_min, mass_max] are dropped")
    mass_max: float = param(250.0, gt=0.0, doc="GeV")
    mass_bins: int = param(20, ge=2, doc="bins of the JSD mass histograms over [mass_min, mass_max]")
    test_fraction: float = param(0.4, gt=0.0, lt=1.0)
    workers: int = param(2, ge=1, doc="Pythia processes (only if a sample is not cached)")

    def validate(self):
        for lo, hi in (("jet_pt_min", "jet_pt_max"), ("qcd_pthat_min", "qcd_pthat_max"), ("mass_min", "mass_max")):
            if not getattr(self, lo) < getattr(self, hi):
                raise CrossFieldError((lo, hi), f"the window must satisfy {lo} < {hi}")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    kind: str = param("deepsets", choices=("deepsets", "edgeconv"))
    width: int = param(64, ge=4, doc="Deep Sets Phi/F width; EdgeConv first-block width (doubled in the second)")
    latent: int = param(64, ge=4, doc="Deep Sets latent (pooled) width")
    k: int = param(8, ge=1, doc="EdgeConv neighbours per constituent")
    use_mass: bool = param(False, doc="give the tagger the jet mass as an input")


@dataclasses.dataclass(frozen=True)
class ScanConfig:
    methods: tuple[str, ...] = param(METHODS, doc=f"subset of {METHODS}")
    lambdas_disco: tuple[float, ...] = param((0.3, 1.0, 3.0, 10.0))
    lambdas_mode0: tuple[float, ...] = param((3.0, 5.0, 7.0, 10.0, 20.0))
    lambdas_mode1: tuple[float, ...] = param((10.0, 30.0, 100.0))
    lambdas_adversarial: tuple[float, ...] = param((0.3, 1.0, 1.5, 2.0, 2.5, 3.0))
    # each MoDe bin needs ~50 QCD jets per batch, or the noise of its efficiencies dominates the penalty
    mode_bins: int = param(8, ge=3, doc="MoDe mass bins over [mass_min, mass_max]")
    adversary_components: int = param(5, ge=1)
    adversary_hidden: int = param(32, ge=2)
    adversary_ramp: float = param(0.3, ge=0.0, le=1.0, doc="fraction of the steps over which λ ramps up")
    target_inv_jsd: float = param(10.0, gt=0.0, doc="1/JSD a decorrelated tagger must reach")
    random_cut_draws: int = param(20, ge=1, doc="random cuts for the 1/JSD statistical limit")


@dataclasses.dataclass(frozen=True)
class Config:
    data: DataConfig = section(DataConfig)
    model: ModelConfig = section(ModelConfig)
    scan: ScanConfig = section(ScanConfig)
    train: TrainConfig = section(TrainConfig)


def _check(cfg: RunConfig) -> None:
    c = cfg.sections
    src = cfg.source
    bad = [m for m in c.scan.methods if m not in METHODS]
    if bad or not c.scan.methods:
        raise ConfigError(f"{src}: scan.methods = {list(c.scan.methods)}: unknown {bad}; choose from {list(METHODS)}")
    if len(c.data.signal_events) != len(c.data.signal_seeds) or not c.data.signal_seeds:
        raise ConfigError(f"{src}: data.signal_events and data.signal_seeds must be non-empty lists of one length")
    for m in METHODS[1:]:
        lams = getattr(c.scan, f"lambdas_{m}")
        if m in c.scan.methods and (not lams or min(lams) <= 0):
            raise ConfigError(f"{src}: scan.lambdas_{m} = {list(lams)} must be a non-empty list of values > 0")
    if c.model.kind == "edgeconv" and not c.model.k < c.data.max_constituents:
        raise ConfigError(f"{src}: model.k = {c.model.k} must be < data.max_constituents = {c.data.max_constituents}")


def make_loss(method: str, lam: float, apply_fn: Callable, c: Config, mass_scale: tuple[float, float]):
    """``loss(params, batch, key) -> (loss, metrics)``: class-balanced BCE plus the ``method`` penalty at ``lam``.

    ``params`` is ``{"tagger": ...}`` (plus ``"adversary"``: the parameters of a penalty that has some).
    Returns ``(loss_fn, penalty)``.
    """
    s = c.scan
    mode = {"bins": s.mode_bins, "mass_range": (c.data.mass_min, c.data.mass_max)}
    options = {
        "mode0": mode,
        "mode1": mode,
        "adversarial": {
            "ramp_steps": int(s.adversary_ramp * c.train.steps),
            "mass_scale": mass_scale,
            "n_components": s.adversary_components,
            "hidden": s.adversary_hidden,
        },
    }
    penalty = get_penalty(method, strength=lam, **options.get(method, {}))

    def loss_fn(params, batch, key):
        del key  # the inputs are smeared once, up front: nothing random in the step
        logits = apply_fn(params["tagger"], batch)
        w = batch["weight"]
        bce = jnp.sum(w * optax.sigmoid_binary_cross_entropy(logits, batch["label"])) / jnp.sum(w)
        score = jax.nn.sigmoid(logits)
        term, pen = penalty.loss(params.get("adversary"), score, batch["mass"], 1.0 - batch["label"], batch["step"][0])
        return bce + term, {"bce": bce, "penalty": pen}

    return loss_fn, penalty


# --------------------------------------------------------------------------------------------
# The study
# --------------------------------------------------------------------------------------------
def run(cfg: RunConfig, workdir: Path) -> dict:
    _check(cfg)
    c = cfg.sections
    t0 = time.perf_counter()
    key = jax.random.PRNGKey(cfg.seed)
    data = build_dataset(c.data, cfg.seed)
    train, test = split(data, (1 - c.data.test_fraction, c.data.test_fraction), cfg.seed)
    standardise_features(train, test)
    train["weight"] = class_weights(train["label"])
    test["weight"] = np.ones_like(test["label"])
    bkg_train = train["mass"][train["label"] < 0.5]
    mass_scale = (float(bkg_train.mean()), float(bkg_train.std()))
    edges = np.linspace(c.data.mass_min, c.data.mass_max, c.data.mass_bins + 1)
    t_data = time.perf_counter() - t0

    init_fn, apply_fn = make_tagger(c.model)
    batch_size = min(c.train.batch_size, len(train["label"]))
    tcfg = dataclasses.replace(c.train, batch_size=batch_size)
    scan = [(m, 0.0) for m in c.scan.methods if m == "none"]
    scan += [(m, float(lam)) for m in c.scan.methods if m != "none" for lam in getattr(c.scan, f"lambdas_{m}")]

    runs: dict[str, list[dict]] = {m: [] for m in c.scan.methods}
    all_scores: dict[tuple[str, float], np.ndarray] = {}
    bar = tqdm(scan, desc="decorrelation scan", unit="run", disable=not (c.train.progress and sys.stderr.isatty()))
    for method, lam in bar:
        t_run = time.perf_counter()
        k_init, k_adv, k_train = jax.random.split(jax.random.fold_in(key, 0), 3)  # same init for every run
        sample = {k: v[:2] for k, v in train.items()}
        params = {"tagger": init_fn(k_init, sample)}
        loss_fn, penalty = make_loss(method, lam, apply_fn, c, mass_scale)
        penalty_params = penalty.init(k_adv)
        if penalty_params is not None:
            params["adversary"] = penalty_params
        source = WithStep(ArrayDataset(train, batch_size, cfg.seed))
        result = fit(
            loss_fn,
            params,
            source,
            tcfg,
            workdir=workdir / "runs" / f"{method}_lam{lam:g}",
            key=k_train,
            plot_keys=("loss", "bce", "penalty"),
        )
        scores = predict_in_chunks(lambda p, b: jax.nn.sigmoid(apply_fn(p, b)), result.state.params["tagger"], test)
        all_scores[(method, lam)] = scores
        rec = {"lambda": lam, **evaluate(scores, test["label"], test["mass"], edges)}
        m_bkg = test["mass"][test["label"] < 0.5]
        rec["inv_jsd_random_cut"] = finite_or_none(
            random_cut_inv_jsd(m_bkg, rec["eps_b_at_eps_s_50"], edges, c.scan.random_cut_draws, cfg.seed)
        )
        rec["final_bce"] = result.history[-1]["bce"] if result.history else None
        rec["train_s"] = time.perf_counter() - t_run
        runs[method].append(rec)
        msg = run_line(NAMES[method], lam, rec)
        bar.write(msg) if not bar.disable else print(msg, file=sys.stderr)

    metrics: dict[str, Any] = {
        "n_train_jets": len(train["label"]),
        "n_test_signal": int(test["label"].sum()),
        "n_test_background": int((1 - test["label"]).sum()),
        "model": c.model.kind,
        "mass_edges_gev": [float(edges[0]), float(edges[-1]), int(len(edges) - 1)],
        "target_inv_jsd": c.scan.target_inv_jsd,
        "runs": runs,
    }
    metrics.update(scan_summary(runs, c.scan.methods, c.scan.target_inv_jsd))
    metrics["data_s"] = t_data
    metrics["total_s"] = time.perf_counter() - t0

    pareto_plot(workdir / "pareto.png", runs, c.scan.target_inv_jsd, metrics["r50_undecorrelated"])
    sculpting_plots(workdir, runs, all_scores, test["label"], test["mass"], edges, c.scan.target_inv_jsd)
    return metrics
