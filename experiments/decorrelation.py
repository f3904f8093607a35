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
from hepjax.data import Particles, qcd_settings
from hepjax.decorrelation import (
    adversary_nll,
    distance_correlation,
    gradient_reversal,
    init_adversary,
    inverse_jsd,
    lambda_schedule,
    mode_loss,
)
from hepjax.detector import cms_like, smear
from hepjax.evaluation import jensen_shannon, rejection_at_efficiency, roc_auc, weighted_quantile
from hepjax.plotting import figure, label, savefig
from hepjax.tagging import (
    ETA_PHI,
    DeepSets,
    EdgeConvTagger,
    constituent_features,
    jet_constituents,
    jet_inputs,
)
from hepjax.train import ArrayDataset, TrainConfig, fit, split

log = logging.getLogger(__name__)

METHODS = ("none", "disco", "mode0", "mode1", "adversarial")
NAMES = {
    "none": "no decorrelation",
    "disco": "DisCo",
    "mode0": "MoDe[0]",
    "mode1": "MoDe[1]",
    "adversarial": "adversary",
}


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


# --------------------------------------------------------------------------------------------
# Data: detector-level constituents and mass, smeared once
# --------------------------------------------------------------------------------------------
def build_dataset(c: DataConfig, seed: int) -> dict:
    """Arrays with leading axis = jets.

    ``feats [N, M, 6]`` (:func:`hepjax.tagging.constituent_features`), ``points [N, M, 2]``
    (5 Δη, 5 Δφ: EdgeConv's first kNN coordinates), ``weights [N, M]`` (0/1: reconstructed),
    ``jet [N, 2]`` (pT, mass; GeV), ``label [N]`` (1: W), ``mass [N]`` (GeV, detector level).
    """
    kw = {
        "radius": c.jet_radius,
        "pt_min": c.jet_pt_min,
        "pt_max": c.jet_pt_max,
        "eta_max": c.jet_eta_max,
        "max_constituents": c.max_constituents,
        "workers": c.workers,
    }
    sig = [jet_constituents("boosted_w", n, s, want_pdg=24, **kw) for n, s in zip(c.signal_events, c.signal_seeds)]
    bkg = jet_constituents(
        "qcd_dijet",
        c.background_events,
        c.background_seed,
        settings=qcd_settings(c.qcd_pthat_min, c.qcd_pthat_max),
        **kw,
    )
    cons = Particles(*(np.concatenate(parts) for parts in zip(*sig, bkg)))
    n_sig = sum(len(s.pt) for s in sig)
    labels = np.r_[np.ones(n_sig), np.zeros(len(bkg.pt))].astype(np.float32)
    reco = jax.jit(lambda k, p: smear(k, p, cms_like(), hard=True, with_cells=False))(jax.random.PRNGKey(seed), cons)
    feats, weights, jet = (np.asarray(a) for a in constituent_features(reco))
    mass = jet[:, 1]
    keep = (mass >= c.mass_min) & (mass <= c.mass_max)
    data = {
        "feats": feats[keep],
        "points": feats[keep][..., ETA_PHI],
        "weights": weights[keep],
        "jet": jet[keep],
        "label": labels[keep],
        "mass": mass[keep],
    }
    n_s, n_b = int(data["label"].sum()), int((1 - data["label"]).sum())
    if min(n_s, n_b) < 20:
        raise ValueError(f"only {n_s} signal and {n_b} background jets pass the selection; raise data.*_events")
    return data


def class_weights(labels: np.ndarray) -> np.ndarray:
    """Per-jet weights giving both classes the same total, with mean 1."""
    n_s = labels.sum()
    n_b = len(labels) - n_s
    w = np.where(labels > 0.5, 0.5 / n_s, 0.5 / n_b) * len(labels)
    return w.astype(np.float32)


class WithStep:
    """A batch source adding the optimiser step to every example (the adversary's λ ramp reads it)."""

    def __init__(self, source: ArrayDataset):
        self.source, self.batch_size = source, source.batch_size

    def batch(self, step: int) -> Any:
        return {**self.source.batch(step), "step": np.full(self.batch_size, step, np.float32)}

    def position(self, step: int) -> dict:
        return self.source.position(step)


# --------------------------------------------------------------------------------------------
# Tagger and losses
# --------------------------------------------------------------------------------------------
def make_tagger(c: ModelConfig) -> tuple[Callable, Callable]:
    """``(init(key, batch) -> params, apply(params, batch) -> logits [B])`` of the configured tagger."""
    if c.kind == "deepsets":
        model = DeepSets(phi=(c.width, c.latent), f=(c.width, c.width), pool_scale=1.0 / 20.0)

        def inputs(b):
            return b["feats"], b["weights"], jet_inputs(b["jet"], with_mass=c.use_mass)
    else:
        model = EdgeConvTagger(blocks=((c.width,) * 3, (2 * c.width,) * 3), k=c.k, f=(2 * c.width,))

        def inputs(b):
            return b["points"], b["feats"], b["weights"] > 0, jet_inputs(b["jet"], with_mass=c.use_mass)

    return jax.jit(lambda key, b: model.init(key, *inputs(b))), (lambda p, b: model.apply(p, *inputs(b)))


def make_loss(method: str, lam: float, apply_fn: Callable, c: Config, mass_scale: tuple[float, float]):
    """``loss(params, batch, key) -> (loss, metrics)`` for ``method`` at strength ``lam``.

    ``params`` is ``{"tagger": ...}`` (plus ``"adversary"`` for the adversarial method).
    """
    s = c.scan
    mass_range = (c.data.mass_min, c.data.mass_max)

    def loss_fn(params, batch, key):
        del key  # the inputs are smeared once, up front: nothing random in the step
        logits = apply_fn(params["tagger"], batch)
        w = batch["weight"]
        bce = jnp.sum(w * optax.sigmoid_binary_cross_entropy(logits, batch["label"])) / jnp.sum(w)
        score = jax.nn.sigmoid(logits)
        bkg = 1.0 - batch["label"]
        if method == "none":
            pen = jnp.zeros(())
            total = bce
        elif method == "disco":
            pen = distance_correlation(score, batch["mass"], bkg)
            total = bce + lam * pen
        elif method in ("mode0", "mode1"):
            pen = mode_loss(score, batch["mass"], bkg, order=int(method[-1]), bins=s.mode_bins, mass_range=mass_range)
            total = bce + lam * pen
        else:  # adversarial: one loss, the reversed gradient makes the tagger fight the adversary
            lam_t = lambda_schedule(batch["step"][0], lam, int(s.adversary_ramp * c.train.steps))
            target = (batch["mass"] - mass_scale[0]) / mass_scale[1]
            pen = adversary_nll(params["adversary"], gradient_reversal(score, lam_t), target, bkg)
            total = bce + pen
        return total, {"bce": bce, "penalty": pen}

    return loss_fn


def predict(apply_fn: Callable, params, data: dict, chunk: int = 1024) -> np.ndarray:
    """Scores ``[N]`` in fixed-size chunks (one compilation; the last chunk is padded)."""
    f = jax.jit(lambda p, b: jax.nn.sigmoid(apply_fn(p, b)))
    n = len(data["label"])
    chunk = min(chunk, n)
    out = []
    for i in range(0, n, chunk):
        b = {k: v[i : i + chunk] for k, v in data.items()}
        pad = chunk - len(b["label"])
        if pad:
            b = {k: np.concatenate([v, np.repeat(v[-1:], pad, 0)]) for k, v in b.items()}
        out.append(np.asarray(f(params, b))[: chunk - pad])
    return np.concatenate(out)


# --------------------------------------------------------------------------------------------
# Figures of merit
# --------------------------------------------------------------------------------------------
def random_cut_inv_jsd(m_bkg: np.ndarray, eps_b: float, edges: np.ndarray, draws: int, seed: int) -> float:
    """Median 1/JSD of cuts passing a random fraction ``eps_b`` of the background: the finite-sample limit."""
    rng = np.random.default_rng(seed)
    n_pass = round(eps_b * len(m_bkg))
    if n_pass < 1 or n_pass >= len(m_bkg):
        return float("nan")
    vals = []
    for _ in range(draws):
        passed = np.zeros(len(m_bkg), bool)
        passed[rng.choice(len(m_bkg), n_pass, replace=False)] = True
        hp, _ = np.histogram(m_bkg[passed], edges)
        hf, _ = np.histogram(m_bkg[~passed], edges)
        vals.append(1.0 / max(jensen_shannon(hp, hf), 1e-12))
    return float(np.median(vals))


def evaluate(scores: np.ndarray, labels: np.ndarray, mass: np.ndarray, edges: np.ndarray) -> dict:
    """R50, 1/JSD, AUC and ε_B at ε_S = 50% on held-out jets."""
    sig = labels > 0.5
    r50 = rejection_at_efficiency(scores, labels, eff=0.5)
    ijsd = inverse_jsd(scores[sig], scores[~sig], mass[~sig], edges=edges, eff=0.5)
    return {
        "r50": _finite(r50),
        "inv_jsd": _finite(ijsd),
        "auc": float(roc_auc(scores, labels)),
        "eps_b_at_eps_s_50": float(1.0 / r50) if np.isfinite(r50) and r50 > 0 else 0.0,
    }


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def best_at(runs: list[dict], target: float) -> float | None:
    """The best R50 among ``runs`` with 1/JSD >= ``target`` (None if none reaches it)."""
    ok = [r["r50"] for r in runs if r["inv_jsd"] is not None and r["inv_jsd"] >= target and r["r50"] is not None]
    return max(ok) if ok else None


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
    # Standardise each feature over the real training constituents (it lifts R50 from ~8 to ~20).
    real = train["weights"] > 0
    mu, sd = train["feats"][real].mean(0), train["feats"][real].std(0) + 1e-6
    for part in (train, test):
        part["feats"] = np.where(part["weights"][..., None] > 0, (part["feats"] - mu) / sd, 0.0).astype(np.float32)
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
        if method == "adversarial":
            params["adversary"] = init_adversary(
                k_adv, n_components=c.scan.adversary_components, hidden=c.scan.adversary_hidden
            )
        loss_fn = make_loss(method, lam, apply_fn, c, mass_scale)
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
        scores = predict(apply_fn, result.state.params["tagger"], test)
        all_scores[(method, lam)] = scores
        rec = {"lambda": lam, **evaluate(scores, test["label"], test["mass"], edges)}
        m_bkg = test["mass"][test["label"] < 0.5]
        rec["inv_jsd_random_cut"] = _finite(
            random_cut_inv_jsd(m_bkg, rec["eps_b_at_eps_s_50"], edges, c.scan.random_cut_draws, cfg.seed)
        )
        rec["final_bce"] = result.history[-1]["bce"] if result.history else None
        rec["train_s"] = time.perf_counter() - t_run
        runs[method].append(rec)
        msg = (
            f"{NAMES[method]:>16s} λ={lam:<6g} R50={_fmt(rec['r50'])} 1/JSD={_fmt(rec['inv_jsd'])} "
            f"(random-cut limit {_fmt(rec['inv_jsd_random_cut'])}) AUC={rec['auc']:.3f} [{rec['train_s']:.0f} s]"
        )
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
    ref = runs.get("none", [])
    r50_ref = ref[0]["r50"] if ref else None
    metrics["r50_undecorrelated"] = r50_ref
    metrics["inv_jsd_undecorrelated"] = ref[0]["inv_jsd"] if ref else None
    goal = {}
    for m in c.scan.methods:
        if m == "none":
            continue
        best = best_at(runs[m], c.scan.target_inv_jsd)
        metrics[f"best_r50_at_inv_jsd_{c.scan.target_inv_jsd:g}_{m}"] = best
        goal[m] = bool(best is not None and r50_ref is not None and best >= 0.5 * r50_ref)
    metrics["goal_r50_within_2x_at_target"] = goal
    metrics["data_s"] = t_data
    metrics["total_s"] = time.perf_counter() - t0

    _pareto_plot(workdir / "pareto.png", runs, c.scan.target_inv_jsd, r50_ref)
    m_bkg = test["mass"][test["label"] < 0.5]
    for m in c.scan.methods:
        lam = _showcase(runs[m], c.scan.target_inv_jsd)
        _sculpting_plot(
            workdir / f"sculpting_{m}.png",
            all_scores[(m, lam)][test["label"] < 0.5],
            m_bkg,
            edges,
            f"{NAMES[m]}" + (f", λ = {lam:g}" if m != "none" else ""),
        )
    return metrics


def _fmt(x) -> str:
    return "   n/a" if x is None else f"{x:6.3g}"


def _showcase(runs: list[dict], target: float) -> float:
    """λ of the run to show: the best R50 at 1/JSD >= target, else the most decorrelated one."""
    ok = [r for r in runs if r["inv_jsd"] is not None and r["inv_jsd"] >= target and r["r50"] is not None]
    if ok:
        return max(ok, key=lambda r: r["r50"])["lambda"]
    return max(runs, key=lambda r: r["inv_jsd"] or 0.0)["lambda"]


def _pareto_plot(path: Path, runs: dict, target: float, r50_ref: float | None) -> None:
    fig, ax = figure()
    markers = {"disco": "o", "mode0": "s", "mode1": "D", "adversarial": "^"}
    for m, rs in runs.items():
        pts = [(r["inv_jsd"], r["r50"], r["lambda"]) for r in rs if r["inv_jsd"] and r["r50"]]
        if not pts:
            continue
        if m == "none":
            ax.plot([pts[0][0]], [pts[0][1]], "*", ms=18, color="k", label="no decorrelation", zorder=5)
            continue
        x, y, lam = zip(*sorted(pts, key=lambda p: p[2]))
        ax.plot(x, y, marker=markers[m], ms=7, label=NAMES[m])
        for xi, yi, li in zip(x, y, lam):
            ax.annotate(f"{li:g}", (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.axvline(target, ls="--", color="grey", lw=1)
    if r50_ref:
        ax.axhline(0.5 * r50_ref, ls=":", color="grey", lw=1, label="½ × undecorrelated R50")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"1 / JSD  (background mass, pass vs fail at $\epsilon_S$ = 50%)")
    ax.set_ylabel(r"R50 = 1/$\epsilon_B$ at $\epsilon_S$ = 50%")
    ax.legend(fontsize=10, title="labels: λ", title_fontsize=9)
    label(ax)
    savefig(fig, path)


def _sculpting_plot(path: Path, s_bkg: np.ndarray, m_bkg: np.ndarray, edges: np.ndarray, title: str) -> None:
    fig, ax = figure()
    for eps in (1.0, 0.5, 0.1, 0.02):
        cut = -np.inf if eps >= 1.0 else weighted_quantile(s_bkg, 1.0 - eps)
        sel = s_bkg > cut
        if sel.sum() == 0:
            continue
        name = "inclusive" if eps >= 1.0 else rf"$\epsilon_B$ = {eps:.0%} ({int(sel.sum())} jets)"
        ax.hist(m_bkg[sel], edges, histtype="step", density=True, lw=2, label=name)
    ax.set_xlabel("detector-level jet mass [GeV]")
    ax.set_ylabel("normalised (QCD jets)")
    ax.set_title(title, fontsize=13)
    ax.legend(fontsize=10)
    label(ax)
    savefig(fig, path)
