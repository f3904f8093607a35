"""Mass-decorrelated W tagging: R50 vs 1/JSD for DisCo, MoDe and an adversary, scanned in λ.

Boosted W -> qq' jets (signal) against QCD jets (background), anti-kT R = 0.8 at particle level,
constituents smeared once through the CMS-like detector (``hard`` cuts, fixed key); the
detector-level jet mass ``m`` is the mass of the smeared constituents. A tagger (the project's
Deep Sets, or the EdgeConv tagger with ``model.kind=edgeconv``) sees the constituents and the
jet pT but not ``m``. For each method and each strength λ it is trained through
:func:`hepjax.train.fit` on the class-balanced loss

    BCE + λ · penalty(score, m | background),

with the penalties of :mod:`hepjax.decorrelation.penalties`: ``none`` (λ = 0), ``disco`` (distance
correlation), ``mode0`` / ``mode1`` (MoDe) and ``adversarial`` (gradient reversal, λ ramped up).

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
from pathlib import Path
from typing import Any

import jax
import numpy as np
from tqdm.auto import tqdm

from hepjax.config import CrossFieldError, RunConfig, param, section
from hepjax.data import JetConfig, SampleConfig, check_jet_threshold
from hepjax.decorrelation.penalties import PENALTIES
from hepjax.decorrelation.plots import NAMES, pareto_plot, sculpting_plots
from hepjax.decorrelation.study import (
    build_dataset,
    run_line,
    run_record,
    scan_penalty,
    scan_summary,
    split_and_weight,
    train_and_score,
)
from hepjax.tagging.factory import make_tagger
from hepjax.train import TrainConfig

log = logging.getLogger(__name__)

METHODS = tuple(PENALTIES)  # none, disco, mode0, mode1, adversarial


@dataclasses.dataclass(frozen=True)
class DataConfig:
    qcd_pthat_min: float = param(300.0, ge=0.0, doc="GeV, Pythia pT-hat window of the QCD sample")
    qcd_pthat_max: float = param(600.0, gt=0.0, doc="GeV")
    jet_pt_min: float = param(300.0, ge=0.0, doc="GeV")
    jet_pt_max: float = param(600.0, gt=0.0, doc="GeV")
    jet_eta_max: float = param(2.0, gt=0.0)
    mass_min: float = param(30.0, ge=0.0, doc="GeV; jets outside [mass_min, mass_max] are dropped")
    mass_max: float = param(250.0, gt=0.0, doc="GeV")
    mass_bins: int = param(20, ge=2, doc="bins of the JSD mass histograms over [mass_min, mass_max]")
    test_fraction: float = param(0.4, gt=0.0, lt=1.0)

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

    def points(self) -> list[tuple[str, float]]:
        """(method, λ) of every run: the undecorrelated one first, then each method's λ values."""
        scan = [(m, 0.0) for m in self.methods if m == "none"]
        return scan + [(m, float(lam)) for m in self.methods if m != "none" for lam in getattr(self, f"lambdas_{m}")]

    def validate(self):
        bad = [m for m in self.methods if m not in METHODS]
        if bad or not self.methods:
            raise CrossFieldError(("methods",), f"unknown {bad or 'empty list'}; choose from {list(METHODS)}")
        for m in (m for m in self.methods if m != "none"):
            lams = getattr(self, f"lambdas_{m}")
            if not lams or min(lams) <= 0:
                raise CrossFieldError(("methods", f"lambdas_{m}"), "every scanned method needs values > 0")


@dataclasses.dataclass(frozen=True)
class Config:
    signal: tuple[SampleConfig, ...] = param(
        (SampleConfig("boosted_w", 2500, 101, workers=2), SampleConfig("boosted_w", 1500, 0, workers=2)),
        doc="boosted W samples, concatenated (jets matched to a W)",
    )
    background: SampleConfig = section(SampleConfig, process="qcd_dijet", n_events=8500, seed=0, workers=2)
    jets: JetConfig = section(JetConfig, R=0.8, ptmin=240.0, max_jets=2, max_constituents=48)
    data: DataConfig = section(DataConfig)
    model: ModelConfig = section(ModelConfig)
    scan: ScanConfig = section(ScanConfig)
    train: TrainConfig = section(TrainConfig)

    def validate(self):
        if not self.signal:
            raise CrossFieldError(("signal",), "give at least one signal sample")
        check_jet_threshold(self.jets, self.data.jet_pt_min)
        if self.model.kind == "edgeconv" and not self.model.k < self.jets.max_constituents:
            raise CrossFieldError(("model.k", "jets.max_constituents"), "EdgeConv needs k < max_constituents")


# --------------------------------------------------------------------------------------------
# The study
# --------------------------------------------------------------------------------------------
def run(cfg: RunConfig, workdir: Path) -> dict:
    c = cfg.sections
    t0 = time.perf_counter()
    key = jax.random.PRNGKey(cfg.seed)
    train, test, mass_scale = split_and_weight(build_dataset(c, cfg.seed), c.data.test_fraction, cfg.seed)
    edges = np.linspace(c.data.mass_min, c.data.mass_max, c.data.mass_bins + 1)
    t_data = time.perf_counter() - t0

    init_fn, apply_fn = make_tagger(c.model)
    batch_size = min(c.train.batch_size, len(train["label"]))
    tcfg = dataclasses.replace(c.train, batch_size=batch_size)
    scan = c.scan.points()

    runs: dict[str, list[dict]] = {m: [] for m in c.scan.methods}
    all_scores: dict[tuple[str, float], np.ndarray] = {}
    bar = tqdm(scan, desc="decorrelation scan", unit="run", disable=not (c.train.progress and sys.stderr.isatty()))
    for method, lam in bar:
        t_run = time.perf_counter()
        k_init, k_adv, k_train = jax.random.split(jax.random.fold_in(key, 0), 3)  # same init for every run
        penalty = scan_penalty(method, lam, c.scan, (c.data.mass_min, c.data.mass_max), c.train.steps, mass_scale)
        scores, result = train_and_score(
            init_fn,
            apply_fn,
            penalty,
            train,
            test,
            tcfg,
            keys=(k_init, k_adv, k_train),
            seed=cfg.seed,
            workdir=workdir / "runs" / f"{method}_lam{lam:g}",
        )
        all_scores[(method, lam)] = scores
        rec = {"lambda": lam, **run_record(scores, test, edges, draws=c.scan.random_cut_draws, seed=cfg.seed)}
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
