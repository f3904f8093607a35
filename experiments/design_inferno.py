"""Design study (b): an inference-aware observable on INFERNO's synthetic benchmark 4 (arXiv:1806.04743).

The same network (3 → 2 × 100 ReLU) is trained twice on fresh batches of the 3-D mixture
(:mod:`hepjax.design.inferno`): with the INFERNO loss (the Asimov variance of s from the inverse Hessian of the
binned likelihood over s, r, λ, b; 10 softmax outputs as soft bins, temperature τ) and with binary cross
entropy (one output; its sigmoid in 10 equal-width bins, the paper's classifier baseline). Both observables
are then measured the same way on a large test sample: hard bins (argmax of the 10 outputs; the sigmoid's
bin), the Asimov data at the nominal point, the 68 % profile-likelihood interval on s with r, λ and b profiled
under their benchmark-4 constraints (width = upper − lower end), and the Hessian width 2√([H⁻¹]_ss).
Paper (Table 2, benchmark 4): cross entropy 26.71, INFERNO 18.68, analytic bound 16.89.

Writes ``losses.png`` (both training curves), ``histograms.png`` (the 10-bin signal and background counts of
both observables) and ``scans.png`` (both profile scans). Run: ``hepjax run configs/design_inferno.yaml``.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from hepjax.config import RunConfig, param, section
from hepjax.design import inferno as inf
from hepjax.plotting import figure, label, savefig


@dataclasses.dataclass(frozen=True)
class BenchmarkConfig:
    s: float = param(50.0, gt=0.0, doc="expected signal events (the parameter of interest's nominal value)")
    b: float = param(1000.0, gt=0.0, doc="expected background events")
    r_sigma: float = param(0.4, gt=0.0, doc="Gaussian constraint width of the background shift r")
    lam_sigma: float = param(1.0, gt=0.0, doc="Gaussian constraint width of the background rate λ")
    b_sigma: float = param(100.0, gt=0.0, doc="Gaussian constraint width of b")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    hidden: tuple[int, ...] = param((100, 100), doc="hidden ReLU layers")
    bins: int = param(10, ge=2, doc="softmax outputs = histogram bins (also the BCE output's bins)")
    temperature: float = param(0.1, gt=0.0, doc="softmax temperature of the INFERNO soft bins")


@dataclasses.dataclass(frozen=True)
class TrainingConfig:
    inferno_steps: int = param(5000, ge=1)
    bce_steps: int = param(2000, ge=1)
    batch: int = param(2000, ge=10, doc="fresh events per class per step")
    learning_rate: float = param(1e-3, gt=0.0, doc="Adam, INFERNO")
    bce_learning_rate: float = param(1e-3, gt=0.0, doc="Adam, BCE")
    cosine: bool = param(True, doc="cosine-decay both learning rates to 0 over the steps")
    progress: bool = param(False, doc="tqdm bar")


@dataclasses.dataclass(frozen=True)
class EvaluationConfig:
    n_test: int = param(100_000, ge=100, doc="test events per class")
    scan_points: int = param(25, ge=5, doc="profile-scan points over s0 ± span·σ_Hessian")
    scan_span: float = param(2.0, gt=1.0)


@dataclasses.dataclass(frozen=True)
class Config:
    benchmark: BenchmarkConfig = section(BenchmarkConfig)
    model: ModelConfig = section(ModelConfig)
    training: TrainingConfig = section(TrainingConfig)
    evaluation: EvaluationConfig = section(EvaluationConfig)


def _hard_bins(kind: str, apply, params, x, bins: int):
    out = apply(params, x.astype(jnp.float32))
    if kind == "inferno":
        return jnp.argmax(out, axis=-1)
    return jnp.clip(jnp.floor(jax.nn.sigmoid(out[:, 0]) * bins), 0, bins - 1).astype(jnp.int32)


def _plots(workdir: Path, losses: dict, hists: dict, scans: dict) -> None:
    fig, axes = figure(ncols=2)
    for ax, (name, curve) in zip(axes, losses.items()):
        ax.plot(curve)
        ax.set(xlabel="step", ylabel=name, yscale="log" if name.startswith("INFERNO") else "linear")
    savefig(fig, workdir / "losses.png")
    fig, axes = figure(ncols=2)
    for ax, (name, (ns, nb)) in zip(axes, hists.items()):
        edges = np.arange(len(ns) + 1)
        ax.stairs(nb, edges, label="background")
        ax.stairs(ns, edges, label="signal")
        ax.set(xlabel=f"{name} bin", ylabel="expected events", yscale="log")
        ax.legend()
        label(ax, "INFERNO benchmark 4", rlabel="")
    savefig(fig, workdir / "histograms.png")
    fig, ax = figure()
    for name, w in scans.items():
        ax.plot(w["s_scan"], w["q"], label=f"{name}: width {w['width_profile']:.2f}")
    ax.axhline(1.0, color="grey", ls="--")
    ax.set(xlabel="s", ylabel=r"$-2\Delta\ln L$ (Asimov, profiled)", ylim=(0, 4))
    ax.legend()
    savefig(fig, workdir / "scans.png")


def run(cfg: RunConfig, workdir: Path) -> dict:
    c: Config = cfg.sections
    bm, m, t, e = c.benchmark, c.model, c.training, c.evaluation
    workdir = Path(workdir)
    bench = inf.Benchmark(s=bm.s, b=bm.b, r_sigma=bm.r_sigma, lam_sigma=bm.lam_sigma, b_sigma=bm.b_sigma)
    k_init, k_inf, k_bce, k_test = jax.random.split(jax.random.key(cfg.seed), 4)
    nets = {"inferno": inf.network(tuple(m.hidden), m.bins), "bce": inf.network(tuple(m.hidden), 1)}
    losses = {
        "inferno": lambda p, k: inf.inferno_loss(
            p, k, apply=nets["inferno"].apply, batch=t.batch, temperature=m.temperature, bench=bench
        ),
        "bce": lambda p, k: inf.bce_loss(p, k, apply=nets["bce"].apply, batch=t.batch),
    }
    steps = {"inferno": (t.inferno_steps, t.learning_rate, k_inf), "bce": (t.bce_steps, t.bce_learning_rate, k_bce)}
    trained, curves, times = {}, {}, {}
    for name, net in nets.items():
        n, lr, key = steps[name]
        t0 = time.perf_counter()
        p0 = net.init(k_init, jnp.zeros((1, 3)))
        trained[name], curves[name] = inf.train(
            losses[name], p0, key, steps=n, learning_rate=lr, cosine=t.cosine, progress=t.progress
        )
        times[name] = time.perf_counter() - t0

    metrics, hists, scans = {}, {}, {}
    with jax.enable_x64(True):
        ks, kb = jax.random.split(k_test)
        x_s, x_b = inf.sample_signal(ks, e.n_test), inf.sample_background(kb, e.n_test, bench.r, bench.lam)
        for name, net in nets.items():
            b_s, b_b = (_hard_bins(name, net.apply, trained[name], x, m.bins) for x in (x_s, x_b))
            counts = inf.hard_templates(b_s, b_b, x_b, m.bins, bench)
            w = inf.widths(counts, bench, points=e.scan_points, span=e.scan_span)
            scans[name] = w
            nom = bench.theta0
            hists[name] = (
                np.asarray(counts(nom.at[3].set(0.0))),
                np.asarray(counts(nom.at[0].set(0.0))),
            )
            tag = "ours" if name == "inferno" else "bce"
            # the paper's figure is σ_s, half the 68 % interval (see docs/design_inferno.md)
            metrics[f"inferno_b4_width_{tag}"] = w["width_profile"] / 2
            metrics[f"inferno_b4_width_{tag}_hessian"] = w["width_hessian"] / 2
            metrics[f"inferno_b4_full_width_{tag}"] = w["width_profile"]
            metrics[f"{name}_interval"] = [w["lo"], w["hi"]]
            metrics[f"{name}_bin_counts"] = {"signal": hists[name][0].tolist(), "background": hists[name][1].tolist()}

        bound = inf.unbinned_sigma_bound(jax.random.fold_in(k_test, 1), bench)

    # the INFERNO training loss is the batch variance of s: plot it as the soft Hessian width
    soft_width = 2 * np.sqrt(np.maximum(curves["inferno"], 0.0))
    _plots(workdir, {"INFERNO soft width 2σ_s": soft_width, "BCE loss": curves["bce"]}, hists, scans)
    every = max(1, len(soft_width) // 100)
    return {
        **metrics,
        "unbinned_bound_sigma": bound,
        "paper_b4": {"bce": 26.71, "inferno": 18.68, "analytic": 16.89},
        "curves": {"inferno_soft_width": soft_width[::every].tolist(), "bce_loss": curves["bce"][::every].tolist()},
        "final_soft_width": float(soft_width[-max(1, len(soft_width) // 20) :].mean()),
        "train_time_s": times,
    }
