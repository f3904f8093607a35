"""Design study (b), hepjax variant: an inference-aware W-jet observable under a jet-energy-scale systematic.

Pythia W jets (``boosted_w``, W-matched) and QCD jets (``qcd_dijet``) through the detector (:func:`smear` at
``cms_like()``), four jet features (mass, pT, τ21, D2; :func:`hepjax.design.jes.jet_features`). The same
network is trained twice on the training jets: with the INFERNO loss (the Asimov variance of the signal strength
from the HistFactory likelihood with the JES histosys and the background normsys profiled; soft bins) and with
binary cross entropy. Both are then measured on held-out jets the same way: hard 10-bin histograms, JES ±1σ
templates by re-binning the scaled jets, the expected 68 % profile-likelihood interval on the signal strength
(:func:`hepjax.stats.expected_mu_interval`); ``jes_width_* = s0 · (upper − lower) / 2``, the σ on the signal
yield, beside the width without systematics (``*_stat``).

Writes ``losses.png`` and ``histograms.png``. Run: ``hepjax run configs/design_inferno_jes.yaml``.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.config import RunConfig, param, section
from hepjax.data import JetConfig, SampleConfig, check_jet_threshold, qcd_settings
from hepjax.design import inferno as inf
from hepjax.design import jes
from hepjax.detector import cms_like, smear
from hepjax.plotting import figure, label, savefig
from hepjax.stats import expected_mu_interval
from hepjax.tagging import jet_constituents
from hepjax.train import Standardizer, split


@dataclasses.dataclass(frozen=True)
class SelectionConfig:
    jet_pt_min: float = param(300.0, ge=0.0, doc="GeV")
    jet_pt_max: float = param(600.0, gt=0.0, doc="GeV")
    jet_eta_max: float = param(2.0, gt=0.0)
    test_fraction: float = param(0.5, gt=0.0, lt=1.0)


@dataclasses.dataclass(frozen=True)
class LikelihoodConfig:
    s0: float = param(100.0, gt=0.0, doc="expected signal jets at mu = 1")
    b0: float = param(1000.0, gt=0.0, doc="expected background jets")
    jes_sigma: float = param(0.05, gt=0.0, lt=0.5, doc="relative jet-energy-scale uncertainty (1σ)")
    bkg_sigma: float = param(0.1, gt=0.0, lt=1.0, doc="relative background-normalisation uncertainty")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    hidden: tuple[int, ...] = param((100, 100), doc="hidden ReLU layers")
    bins: int = param(10, ge=2, doc="softmax outputs = histogram bins (also the BCE output's bins)")
    temperature: float = param(0.1, gt=0.0, doc="softmax temperature of the soft bins")


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    inferno_steps: int = param(3000, ge=1)
    bce_steps: int = param(2000, ge=1)
    batch: int = param(2000, ge=10, doc="jets per class per step, drawn from the training jets")
    learning_rate: float = param(1e-3, gt=0.0, doc="Adam, both losses")
    cosine: bool = param(True, doc="cosine-decay the learning rate to 0")
    progress: bool = param(False, doc="tqdm bar")


@dataclasses.dataclass(frozen=True)
class Config:
    signal: SampleConfig = section(SampleConfig, process="boosted_w", n_events=16000, seed=0, workers=2)
    background: SampleConfig = section(SampleConfig, process="qcd_dijet", n_events=16000, seed=1, workers=2)
    jets: JetConfig = section(JetConfig, R=0.8, ptmin=240.0, max_jets=2, max_constituents=48)
    selection: SelectionConfig = section(SelectionConfig)
    likelihood: LikelihoodConfig = section(LikelihoodConfig)
    model: ModelConfig = section(ModelConfig)
    training: TrainingConfig = section(TrainingConfig)

    def validate(self):
        check_jet_threshold(self.jets, self.selection.jet_pt_min, section="selection")


def _features(s: SampleConfig, jc: JetConfig, sel: SelectionConfig, key, *, want_w: bool) -> np.ndarray:
    if not want_w:  # the QCD sample's pT-hat window follows the selection (as the demo's)
        s = dataclasses.replace(s, settings=qcd_settings(0.8 * sel.jet_pt_min, sel.jet_pt_max) + tuple(s.settings))
    window = dict(pt_min=sel.jet_pt_min, pt_max=sel.jet_pt_max, eta_max=sel.jet_eta_max)
    cons = jet_constituents(s, jc, want_pdg=24 if want_w else None, **window)
    return jes.jet_features(smear(key, cons, cms_like(), hard=True, with_cells=False), R=jc.R)


def _plots(workdir: Path, curves: dict, hists: dict) -> None:
    fig, axes = figure(ncols=2)
    for ax, (name, curve) in zip(axes, curves.items()):
        ax.plot(curve)
        ax.set(xlabel="step", ylabel=name, yscale="log" if name.startswith("INFERNO") else "linear")
    savefig(fig, workdir / "losses.png")
    fig, axes = figure(ncols=2)
    for ax, (name, h) in zip(axes, hists.items()):
        edges = np.arange(len(h["signal"]) + 1)
        for k, ls in (("background", "-"), ("signal", "-"), ("background_up", ":"), ("signal_up", ":")):
            ax.stairs(h[k], edges, label=k.replace("_up", " (JES +1σ)"), ls=ls)
        ax.set(xlabel=f"{name} bin", ylabel="expected jets", yscale="log")
        ax.legend(fontsize="small")
        label(ax, "Simulation", rlabel="W vs QCD jets")
    savefig(fig, workdir / "histograms.png")


def run(cfg: RunConfig, workdir: Path) -> dict:
    c: Config = cfg.sections
    lm, m, t = c.likelihood, c.model, c.training
    workdir = Path(workdir)
    jm = jes.JesModel(s0=lm.s0, b0=lm.b0, jes_sigma=lm.jes_sigma, bkg_sigma=lm.bkg_sigma)
    k_init, k_inf, k_bce, k_det_s, k_det_b = jax.random.split(jax.random.key(cfg.seed), 5)
    f_s = _features(c.signal, c.jets, c.selection, k_det_s, want_w=True)
    f_b = _features(c.background, c.jets, c.selection, k_det_b, want_w=False)
    frac = (1 - c.selection.test_fraction, c.selection.test_fraction)
    (tr_s, te_s), (tr_b, te_b) = split(f_s, frac, cfg.seed), split(f_b, frac, cfg.seed + 1)
    std = Standardizer.fit(np.concatenate([tr_s, tr_b]))

    nets = {"inferno": inf.network(tuple(m.hidden), m.bins), "bce": inf.network(tuple(m.hidden), 1)}
    steps = {"inferno": (t.inferno_steps, k_inf), "bce": (t.bce_steps, k_bce)}
    trained, curves, times = {}, {}, {}
    for name, net in nets.items():
        n, key = steps[name]
        loss = jes.batch_loss(
            name, net.apply, std, tr_s, tr_b, bins=m.bins, batch=t.batch, temperature=m.temperature, m=jm
        )
        t0 = time.perf_counter()
        p0 = net.init(k_init, jnp.zeros((1, 4)))
        trained[name], curves[name] = inf.train(
            loss, p0, key, steps=n, learning_rate=t.learning_rate, cosine=t.cosine, progress=t.progress
        )
        times[name] = time.perf_counter() - t0

    metrics, hists = {}, {}
    with jax.enable_x64(True):
        for name, net in nets.items():
            bin_fn = jes.bin_function(name, net.apply, trained[name], std, m.bins)
            tag = "ours" if name == "inferno" else "bce"
            for label_, model_cfg in (("", jm), ("_stat", dataclasses.replace(jm, jes_sigma=1e-6, bkg_sigma=1e-6))):
                model = jes.hard_model(bin_fn, te_s, te_b, m.bins, model_cfg)
                sigma_h = float(jnp.sqrt(jes.mu_variance(model)))
                # scan inside 1 ± 5σ (mu ≥ 0: a signal-only bin must not go negative)
                lo, hi = (
                    float(v) for v in expected_mu_interval(model, mu_range=(max(1 - 5 * sigma_h, 0.0), 1 + 5 * sigma_h))
                )
                metrics[f"jes_width_{tag}{label_}"] = lm.s0 * (hi - lo) / 2
                metrics[f"jes_width_{tag}{label_}_hessian"] = lm.s0 * sigma_h
                if not label_:
                    metrics[f"{name}_mu_interval"] = [lo, hi]
                    nom = np.asarray(model.nominal)
                    up = nom + np.asarray(model.hs_up)
                    hists[name] = {
                        "signal": nom[0],
                        "background": nom[1],
                        "signal_up": up[0],
                        "background_up": up[1],
                    }
    metrics["jes_width_ratio_bce_over_ours"] = metrics["jes_width_bce"] / metrics["jes_width_ours"]
    soft = lm.s0 * np.sqrt(np.maximum(curves["inferno"], 0.0))
    _plots(workdir, {"INFERNO soft σ on s": soft, "BCE loss": curves["bce"]}, hists)
    every = max(1, len(soft) // 100)
    return {
        **metrics,
        "n_jets": {"signal_train": len(tr_s), "signal_test": len(te_s), "bkg_train": len(tr_b), "bkg_test": len(te_b)},
        "bin_counts": {k: {kk: np.asarray(vv).tolist() for kk, vv in h.items()} for k, h in hists.items()},
        "curves": {"inferno_soft_sigma": soft[::every].tolist(), "bce_loss": curves["bce"][::every].tolist()},
        "train_time_s": times,
    }
