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
from hepjax.data import JetConfig, Particles, SampleConfig, check_jet_threshold, qcd_settings
from hepjax.design import sensitivities
from hepjax.design.plots import sensitivity_plot
from hepjax.detector import cms_like, smear
from hepjax.errors import DataError
from hepjax.evaluation import bootstrap_interval, rejection_at_efficiency, roc_auc, roc_curve
from hepjax.tagging import DeepSets, constituent_features, jet_constituents, jet_inputs
from hepjax.tagging.plots import tagger_plots
from hepjax.train import ArrayDataset, TrainConfig, fit, split


@dataclasses.dataclass(frozen=True)
class DataConfig:
    jet_pt_min: float = param(300.0, ge=0.0, doc="GeV")
    jet_pt_max: float = param(600.0, gt=0.0, doc="GeV")
    jet_eta_max: float = param(2.0, gt=0.0)
    test_fraction: float = param(0.3, gt=0.0, lt=1.0)

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
    signal: SampleConfig = section(SampleConfig, process="boosted_w", n_events=1500, seed=0, workers=2)
    background: SampleConfig = section(SampleConfig, process="qcd_dijet", n_events=1500, seed=1, workers=2)
    jets: JetConfig = section(JetConfig, R=0.8, ptmin=240.0, max_jets=2, max_constituents=48)
    data: DataConfig = section(DataConfig)
    model: ModelConfig = section(ModelConfig)
    train: TrainConfig = section(TrainConfig)

    def validate(self):
        check_jet_threshold(self.jets, self.data.jet_pt_min)


# --------------------------------------------------------------------------------------------
# Data: particle-level jets and their constituents
# --------------------------------------------------------------------------------------------
def _dataset(c: Config) -> dict:
    """W-matched signal jets and QCD jets in the pT/η window, ``n`` of each (the smaller count).

    The QCD sample's pT-hat window follows the jet selection (``qcd_settings(0.8 jet_pt_min, jet_pt_max)``,
    before ``background.settings``), so the selected jets are not cut by the generator.
    """
    d = c.data
    window = {"pt_min": d.jet_pt_min, "pt_max": d.jet_pt_max, "eta_max": d.jet_eta_max}
    bkg_sample = dataclasses.replace(
        c.background, settings=qcd_settings(0.8 * d.jet_pt_min, d.jet_pt_max) + tuple(c.background.settings)
    )
    sig = jet_constituents(c.signal, c.jets, want_pdg=24, **window)
    bkg = jet_constituents(bkg_sample, c.jets, **window)
    n = min(len(sig.pt), len(bkg.pt))
    if n < 20:
        raise DataError(f"only {n} jets per class pass the selection; raise signal.n_events and background.n_events")
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
    data = _dataset(c)
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
