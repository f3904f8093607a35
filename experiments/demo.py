"""The default demo: Pythia events -> differentiable detector -> a trained tagger -> plots.

Boosted W -> qq' jets (signal) against QCD jets (background), anti-kT R = 0.8 from FastJet at
particle level. Each training step smears the jet constituents through the CMS-like detector
with that step's key (the detector is part of the model's input pipeline, inside ``jit``), and a
Deep Sets tagger learns from the detector-level constituents. Because the smearing is
differentiable, the trained tagger's loss is differentiated with respect to every detector
parameter: the "sensitivity" of the tagger to each resolution and efficiency figure.

Compilations: one train step (fixed batch shape), one evaluation, one sensitivity gradient.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hepjax.config import CrossFieldError, param, section
from hepjax.data import Particles, qcd_settings
from hepjax.design import sensitivities
from hepjax.design.plots import sensitivity_plot
from hepjax.detector import cms_like, smear
from hepjax.evaluation import bootstrap_interval, rejection_at_efficiency, roc_auc, roc_curve
from hepjax.tagging import DeepSets, constituent_features, jet_constituents, jet_inputs
from hepjax.tagging.plots import tagger_plots
from hepjax.train import ArrayDataset, TrainConfig, fit, split


@dataclasses.dataclass(frozen=True)
class DataConfig:
    n_events: int = param(1500, ge=20, doc="Pythia events per process")
    jet_radius: float = param(0.8, gt=0.0, le=1.5)
    jet_pt_min: float = param(300.0, ge=0.0, doc="GeV")
    jet_pt_max: float = param(600.0, gt=0.0, doc="GeV")
    jet_eta_max: float = param(2.0, gt=0.0)
    max_constituents: int = param(48, ge=4)
    test_fraction: float = param(0.3, gt=0.0, lt=1.0)
    workers: int = param(2, ge=1, doc="Pythia processes")

    def validate(self):
        if not self.jet_pt_min < self.jet_pt_max:
            raise CrossFieldError(
                ("jet_pt_min", "jet_pt_max"), "the jet pT window must satisfy jet_pt_min < jet_pt_max"
            )


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    width: int = param(64, ge=4)
    latent: int = param(64, ge=4)


@dataclasses.dataclass(frozen=True)
class Config:
    data: DataConfig = section(DataConfig)
    model: ModelConfig = section(ModelConfig)
    train: TrainConfig = section(TrainConfig)


# --------------------------------------------------------------------------------------------
# Data: particle-level jets and their constituents
# --------------------------------------------------------------------------------------------
def _jets(process: str, settings: tuple[str, ...], want: int | None, c: DataConfig, seed: int) -> Particles:
    """Constituents ``[n_jets, max_constituents]`` of jets in the pT/η window (W-matched if ``want``)."""
    return jet_constituents(
        process,
        c.n_events,
        seed,
        settings=settings,
        want_pdg=want,
        radius=c.jet_radius,
        pt_min=c.jet_pt_min,
        pt_max=c.jet_pt_max,
        eta_max=c.jet_eta_max,
        max_constituents=c.max_constituents,
        workers=c.workers,
    )


def _dataset(c: DataConfig, seed: int) -> dict:
    sig = _jets("boosted_w", (), 24, c, seed)
    bkg = _jets("qcd_dijet", qcd_settings(0.8 * c.jet_pt_min, c.jet_pt_max), None, c, seed + 1)
    n = min(len(sig.pt), len(bkg.pt))
    if n < 20:
        raise ValueError(f"only {n} jets per class pass the selection; raise data.n_events")
    cons = jax.tree.map(lambda a, b: np.concatenate([a[:n], b[:n]]), sig, bkg)
    return {"cons": cons, "label": np.concatenate([np.ones(n), np.zeros(n)]).astype(np.float32)}


# --------------------------------------------------------------------------------------------
# The tagger: the project's Deep Sets on detector-level constituents and jet (mass, pT)
# --------------------------------------------------------------------------------------------
def make_model(c: ModelConfig) -> DeepSets:
    """``phi``: width -> latent; sum weighted by the soft reconstruction weights / 20; ``F``: width, width."""
    return DeepSets(phi=(c.width, c.latent), f=(c.width, c.width), pool_scale=1.0 / 20.0)


def tagger_inputs(reco) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(features [B, M, 6], weights [B, M], jet inputs [B, 2])`` of the smeared constituents."""
    feats, w, jet = constituent_features(reco)
    return feats, w, jet_inputs(jet)


def make_loss(model: DeepSets, *, hard: bool):
    """``loss(params, det_params, batch, key)``: smear with ``key``, tag, binary cross entropy."""

    def loss(params, det_params, batch, key):
        reco = smear(key, batch["cons"], det_params, hard=hard, with_cells=False)
        logits = model.apply(params, *tagger_inputs(reco))
        return optax.sigmoid_binary_cross_entropy(logits, batch["label"]).mean(), logits

    return loss


# --------------------------------------------------------------------------------------------
# The study
# --------------------------------------------------------------------------------------------
def run(cfg, workdir: Path) -> dict:
    c = cfg.sections
    key = jax.random.PRNGKey(cfg.seed)
    k_init, k_train, k_eval = jax.random.split(key, 3)
    data = _dataset(c.data, cfg.seed)
    train, test = split(data, (1 - c.data.test_fraction, c.data.test_fraction), cfg.seed)
    det = cms_like()
    model = make_model(c.model)
    soft_loss, hard_loss = make_loss(model, hard=False), make_loss(model, hard=True)

    sample = jax.tree.map(lambda x: x[:2], train)
    params = model.init(k_init, *tagger_inputs(smear(k_init, sample["cons"], det, with_cells=False)))

    def loss_fn(p, batch, k):
        loss, logits = soft_loss(p, det, batch, k)
        acc = jnp.mean((logits > 0) == (batch["label"] > 0.5))
        return loss, {"accuracy": acc}

    batch_size = min(c.train.batch_size, len(train["label"]))
    tcfg = dataclasses.replace(c.train, batch_size=batch_size)
    result = fit(
        loss_fn,
        params,
        ArrayDataset(train, batch_size, cfg.seed),
        tcfg,
        workdir=workdir,
        key=k_train,
        plot_keys=("loss", "accuracy"),
    )
    params = result.state.params

    # Evaluation with exact (hard) detector cuts on held-out jets.
    test_loss, logits = jax.jit(hard_loss)(params, det, test, k_eval)
    scores, labels = np.asarray(jax.nn.sigmoid(logits)), test["label"]
    auc = bootstrap_interval(roc_auc, scores, labels, seed=cfg.seed, stratify=labels)  # 68.3 %, 200 replicas
    eps_b, eps_s = roc_curve(scores, labels)  # (false, true) positive rates
    r50 = rejection_at_efficiency(scores, labels, eff=0.5)

    # Sensitivity: d(loss)/d(log p) for every detector parameter (soft smearing, fixed key).
    sens = sensitivities(lambda d: soft_loss(params, d, test, k_eval)[0], det)

    reco = smear(k_eval, test["cons"], det, hard=True, with_cells=False)
    _, _, jet_reco = constituent_features(reco)
    tagger_plots(workdir, scores, labels, eps_s, eps_b, np.asarray(jet_reco[:, 1]), _true_mass(test["cons"]))
    sensitivity_plot(workdir / "detector_sensitivity.png", sens)
    return {
        "n_train_jets": len(train["label"]),
        "n_test_jets": len(labels),
        "test_auc": float(auc.value),
        "test_auc_interval": [float(auc.lower), float(auc.upper)],
        "test_r50": r50 if np.isfinite(r50) else None,  # None: no background passes the cut
        "test_loss": float(test_loss),
        "final_train_loss": result.history[-1]["loss"] if result.history else None,
        "train_compilations": result.compilations,
        "detector_sensitivity_dloss_dlogp": dict(sorted(sens.items(), key=lambda kv: -abs(kv[1]))[:12]),
    }


def _true_mass(cons: Particles) -> np.ndarray:
    m = cons.mask
    e = np.sqrt(cons.mass**2 + (cons.pt * np.cosh(cons.eta)) ** 2) * m
    px, py, pz = (cons.pt * f * m for f in (np.cos(cons.phi), np.sin(cons.phi), np.sinh(cons.eta)))
    s = [v.sum(-1) for v in (e, px, py, pz)]
    return np.sqrt(np.maximum(s[0] ** 2 - s[1] ** 2 - s[2] ** 2 - s[3] ** 2, 0))
