"""Data/MC morphing of jet substructure with one switched flow.

Two Pythia 8 QCD dijet samples play "simulation" (``sim_sample``, default: Monash tune) and
"data" (``data_sample``, default: final-state shower alpha_s lowered to 0.115; or a ``file``). The leading
anti-kT R=0.4 jet's observables (log pT, m/pT, multiplicity, girth, pT_D) of both train one
conditional flow with a data/simulation switch. Held-out simulated jets are corrected through
the switch, and compared with held-out data before and after: per-observable chi2/ndf and a
classifier AUC (data vs simulation). To show which observable the classifier keys on, it is
also retrained after correction with each observable left out (``auc_after_without``).

Run: ``hepjax run configs/morphing.yaml``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import numpy as np

from hepjax.config import CrossFieldError, RunConfig, param, section
from hepjax.data import JetConfig, SampleConfig, check_jet_threshold, cluster_from_config, generate_from_config
from hepjax.evaluation import classifier_two_sample_auc
from hepjax.flows import FlowConfig, mean_log_prob, standardize
from hepjax.morphing import (
    DATA,
    OBSERVABLES,
    SIMULATION,
    chi2_ndf,
    fit_switched_flow,
    leading_jet_observables,
    make_switched_flow,
    morph,
    switch_context,
)
from hepjax.plotting import figure, label, savefig
from hepjax.train import TrainConfig


@dataclasses.dataclass(frozen=True)
class DataConfig:
    jet_pt_min: float = param(50.0, ge=0.0, doc="GeV, leading-jet threshold")
    test_fraction: float = param(0.5, gt=0.0, lt=1.0)
    bins: int = param(30, ge=4, doc="histogram bins for chi2/ndf")


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    leave_one_out: bool = param(True, doc="retrain the classifier after correction without each observable")


_MONASH = ("PartonLevel:MPI = off", "Tune:pp = 14")


@dataclasses.dataclass(frozen=True)
class Config:
    sim_sample: SampleConfig = section(SampleConfig, process="qcd_dijet", n_events=4000, seed=0, settings=_MONASH)
    data_sample: SampleConfig = section(
        SampleConfig, process="qcd_dijet", n_events=4000, seed=1, settings=(*_MONASH, "TimeShower:alphaSvalue = 0.115")
    )
    jets: JetConfig = section(JetConfig, R=0.4, ptmin=50.0, max_jets=1, max_constituents=128)
    data: DataConfig = section(DataConfig)
    flow: FlowConfig = section(FlowConfig)
    train: TrainConfig = section(TrainConfig)
    classifier: TrainConfig = section(TrainConfig)
    eval: EvalConfig = section(EvalConfig)

    def validate(self):
        check_jet_threshold(self.jets, self.data.jet_pt_min)
        if self.jets.max_constituents == 0:
            raise CrossFieldError(("jets.max_constituents",), "the observables need constituents: set it > 0")


def _observables(sample: SampleConfig, c: Config) -> np.ndarray:
    """Observables of each event's leading jet above ``data.jet_pt_min`` (multiplicity dequantised with the sample's seed)."""
    jets = cluster_from_config(generate_from_config(sample).particles, c.jets)
    jets = jets._replace(mask=np.asarray(jets.mask) & (np.asarray(jets.pt) > c.data.jet_pt_min))
    return leading_jet_observables(jets, seed=sample.seed)


def _bins(a: np.ndarray, b: np.ndarray, n: int, integer: bool) -> np.ndarray:
    lo, hi = np.percentile(np.concatenate([a, b]), [0.5, 99.5])
    if integer:
        return np.arange(np.floor(lo), np.ceil(hi) + 2) - 0.5
    return np.linspace(lo, hi, n + 1)


def run(cfg: RunConfig, workdir: Path) -> dict:
    c: Config = cfg.sections
    s = c.data
    workdir = Path(workdir)
    x_sim, x_data = _observables(c.sim_sample, c), _observables(c.data_sample, c)
    rng = np.random.default_rng(cfg.seed)
    x_sim, x_data = x_sim[rng.permutation(len(x_sim))], x_data[rng.permutation(len(x_data))]
    ns, nd = int(len(x_sim) * (1 - s.test_fraction)), int(len(x_data) * (1 - s.test_fraction))
    sim_tr, sim_te, data_tr, data_te = x_sim[:ns], x_sim[ns:], x_data[:nd], x_data[nd:]
    pooled = np.concatenate([sim_tr, data_tr])
    flow = make_switched_flow(
        len(OBSERVABLES), c.flow, preprocess=(standardize(pooled.mean(0), pooled.std(0)),), seed=cfg.seed
    )
    key = jax.random.PRNGKey(cfg.seed)
    k_fit, k_before, k_after = jax.random.split(key, 3)
    res = fit_switched_flow(flow, sim_tr, data_tr, c.train, workdir=workdir / "flow", key=k_fit)
    nll = {}  # held-out vs as many training jets per branch: a gap is the flow fitting its sample
    for name, branch, train, test in (("sim", SIMULATION, sim_tr, sim_te), ("data", DATA, data_tr, data_te)):
        for split, x in (("test", test), ("train", train[: len(test)])):
            nll[f"flow_{name}_{split}_nll"] = -mean_log_prob(
                flow, res.state.params, x.astype(np.float32), np.asarray(switch_context(branch, len(x)))
            )
    corrected = np.array(jax.jit(lambda p, x: morph(flow, p, x))(res.state.params, sim_te))  # writable copy
    corrected[:, 2] = np.floor(corrected[:, 2]) + 0.5  # multiplicity back to integers (+ 1/2)
    sim_te_i, data_te_i = sim_te.copy(), data_te.copy()
    sim_te_i[:, 2], data_te_i[:, 2] = np.floor(sim_te[:, 2]) + 0.5, np.floor(data_te[:, 2]) + 0.5

    chi2 = {}
    fig, axes = figure(len(OBSERVABLES), 1, figsize=(5.0 * len(OBSERVABLES), 4.6))
    for i, (name, ax) in enumerate(zip(OBSERVABLES, axes)):
        edges = _bins(sim_te_i[:, i], data_te_i[:, i], s.bins, integer=(name == "n_constituents"))
        before, ndf = chi2_ndf(sim_te_i[:, i], data_te_i[:, i], edges)
        after, _ = chi2_ndf(corrected[:, i], data_te_i[:, i], edges)
        chi2[name] = {"before": before, "after": after, "ndf": ndf}
        ax.hist(data_te_i[:, i], edges, density=True, histtype="stepfilled", alpha=0.35, label="data")
        ax.hist(sim_te_i[:, i], edges, density=True, histtype="step", lw=2, label=f"sim ($\\chi^2$/ndf {before:.1f})")
        ax.hist(corrected[:, i], edges, density=True, histtype="step", lw=2, ls="--", label=f"corrected ({after:.1f})")
        ax.set_xlabel(name)
        ax.legend(fontsize=9)
    label(axes[0])
    savefig(fig, workdir / "observables.png")

    auc_before = classifier_two_sample_auc(
        data_te_i, sim_te_i, key=k_before, train_cfg=c.classifier, workdir=workdir / "cls_before"
    )
    auc_after = classifier_two_sample_auc(
        data_te_i, corrected, key=k_after, train_cfg=c.classifier, workdir=workdir / "cls_after"
    )
    without = {}
    if c.eval.leave_one_out:
        for i, name in enumerate(OBSERVABLES):
            keep = [j for j in range(len(OBSERVABLES)) if j != i]
            without[name] = classifier_two_sample_auc(
                data_te_i[:, keep],
                corrected[:, keep],
                key=k_after,
                train_cfg=c.classifier,
                workdir=workdir / f"cls_after_without_{name}",
            )["auc"]
    return {
        "auc_before": auc_before["auc"],
        "auc_after": auc_after["auc"],
        "auc_after_without": without,
        "chi2_ndf": chi2,
        "chi2_ndf_mean_before": float(np.mean([v["before"] for v in chi2.values()])),
        "chi2_ndf_mean_after": float(np.mean([v["after"] for v in chi2.values()])),
        "n_sim_train": int(ns),
        "n_data_train": int(nd),
        "n_sim_test": int(len(sim_te)),
        "n_data_test": int(len(data_te)),
        "flow_final_nll": res.history[-1]["nll"] if res.history else float("nan"),
        **nll,
        "compilations": res.compilations,
    }
