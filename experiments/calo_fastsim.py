"""CaloFlow-style fast simulation of photon showers, trained on the reference EM cascade.

Steps: simulate showers with :func:`hepjax.fastsim.reference_showers` (cached on disk, keyed by
count, seed, energy range and calorimeter config),
validate the cascade against Grindhammer–Peters, train flow 1 (layer energies) and flow 2
(normalised voxels), generate showers for the held-out incident energies, and evaluate as
CaloChallenge does: feature histograms with separation powers, a classifier AUC (flow vs
cascade, held-out showers) and showers per second at 1, 10 and 100 GeV. Each flow's NLL on the
held-out and on as many training showers (``flow{1,2}_test_nll`` / ``_train_nll``) shows overtraining. To show *what* the
classifier sees, it is also trained on subsets of its inputs (``classifier_auc_by_input``):
the CaloChallenge high-level features, the layer energies, and each layer's voxels alone.

Run: ``hepjax run configs/calo_fastsim.yaml`` (under :data:`hepjax.fastsim.caloflow.CPU_RUNTIME`). Compilations: one train step per flow, one
sampler per batch size.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jax
import numpy as np

from hepjax.config import RunConfig, param, section
from hepjax.evaluation import classifier_two_sample_auc
from hepjax.fastsim import (
    CaloFlowConfig,
    CalorimeterConfig,
    build_caloflow,
    high_level_features,
    layer_slices,
    make_sampler,
    plot_features,
    plot_mean_profiles,
    reference_showers,
    separation_powers,
    simulate_showers,
    train_caloflow,
    validate_cascade,
)
from hepjax.fastsim.caloflow import CPU_RUNTIME as HOST_RUNTIME  # noqa: F401  (read by `hepjax run`)
from hepjax.fastsim.caloflow import flow_arrays
from hepjax.fastsim.plots import plot_roc, plot_timing
from hepjax.flows import FlowConfig, mean_log_prob
from hepjax.timing import time_call
from hepjax.train import TrainConfig


@dataclasses.dataclass(frozen=True)
class DataConfig:
    n_showers: int = param(2000, ge=10, doc="reference showers (train + test)")
    e_min: float = param(1.0, gt=0.0, doc="incident energy range, log-uniform [GeV]")
    e_max: float = param(100.0, gt=0.0)
    test_fraction: float = param(0.25, gt=0.0, lt=1.0)
    cache_dir: str | None = param(None, doc="shower cache; default $HEPJAX_CACHE_DIR or ~/.cache/hepjax")


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    timing_energies: tuple[float, ...] = param((1.0, 10.0, 100.0), doc="GeV")
    timing_showers: int = param(10, ge=1, doc="cascade showers per energy for the timing")
    flow_batch: int = param(1000, ge=1, doc="flow showers per jitted sampling call")
    validation_showers: int = param(20, ge=2, doc="showers per energy for the Grindhammer–Peters check")
    input_subsets: bool = param(True, doc="also train the classifier on input subsets (what it sees)")


@dataclasses.dataclass(frozen=True)
class Config:
    data: DataConfig = section(DataConfig)
    calorimeter: CalorimeterConfig = section(CalorimeterConfig)
    caloflow: CaloFlowConfig = section(CaloFlowConfig)
    flow1: FlowConfig = section(FlowConfig)
    flow2: FlowConfig = section(FlowConfig)
    train1: TrainConfig = section(TrainConfig)
    train2: TrainConfig = section(TrainConfig)
    classifier: TrainConfig = section(TrainConfig)
    eval: EvalConfig = section(EvalConfig)


def _classifier_inputs(voxels: np.ndarray, energies: np.ndarray) -> np.ndarray:
    """CaloChallenge's low-level classifier inputs: ``[n, 1 + 368]`` log incident energy and voxels / incident."""
    return np.concatenate([np.log(energies)[:, None], voxels / energies[:, None]], axis=1)


def _input_subsets(
    f_gen: dict, f_ref: dict, x_gen: np.ndarray, x_ref: np.ndarray
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Named (generated, reference) classifier inputs: high-level features, layer energies, each layer's voxels."""

    def stack(f, keys):
        return np.stack([np.log10(f[k] + 1e-3) if k.startswith("E_layer") else f[k] for k in keys], 1)

    hl = list(f_ref)
    layers = [k for k in hl if k.startswith("E_layer")]
    out = {
        "high_level": (stack(f_gen, hl), stack(f_ref, hl)),
        "layer_energies": (stack(f_gen, layers), stack(f_ref, layers)),
    }
    for i, s in enumerate(layer_slices()):
        cols = np.r_[0, 1 + np.arange(s.start, s.stop)]  # log E_inc + the layer's voxels
        out[f"voxels_layer{i}"] = (x_gen[:, cols], x_ref[:, cols])
    return out


def _timing(cfg: Config, sampler, p1, p2, seed: int) -> dict:
    out = {}
    for e in cfg.eval.timing_energies:
        n_ref = cfg.eval.timing_showers
        t0 = time.perf_counter()
        simulate_showers(np.full(n_ref, e), seed=seed + 7, cfg=cfg.calorimeter)
        ref_rate = n_ref / (time.perf_counter() - t0)
        energies = jax.numpy.full((cfg.eval.flow_batch,), e, jax.numpy.float32)
        key = jax.random.PRNGKey(seed)
        dt = time_call(lambda: sampler.jitted(p1, p2, key, energies), repeats=5, warmup=1)
        out[f"{e:g}"] = {"flow_showers_per_s": cfg.eval.flow_batch / dt, "reference_showers_per_s": ref_rate}
    return out


def _held_out_nll(model, p1, p2, train: dict, test: dict) -> dict:
    """Mean NLL (nats per shower) of each flow on the held-out showers and on as many training
    showers: a gap between the two is the flow fitting its training sample (overtraining)."""
    n = len(test["u"])
    out = {}
    for name, flow, p, x, c in (("flow1", model.flow1, p1, "u", "c1"), ("flow2", model.flow2, p2, "x2", "c2")):
        out[f"{name}_test_nll"] = -mean_log_prob(flow, p, test[x], test[c])
        out[f"{name}_train_nll"] = -mean_log_prob(flow, p, train[x][:n], train[c][:n])
    return out


def run(cfg: RunConfig, workdir: Path) -> dict:
    c: Config = cfg.sections
    workdir = Path(workdir)
    validation = validate_cascade(
        n_showers=c.eval.validation_showers,
        seed=cfg.seed,
        cfg=c.calorimeter,
        plot_path=workdir / "cascade_vs_grindhammer_peters.png",
    )
    d = c.data
    energies, voxels, sim_seconds = reference_showers(
        d.n_showers, seed=cfg.seed, low=d.e_min, high=d.e_max, cfg=c.calorimeter, cache_dir=d.cache_dir, progress=True
    )
    n_test = int(round(c.data.test_fraction * len(energies)))
    e_tr, v_tr, e_te, v_te = energies[n_test:], voxels[n_test:], energies[:n_test], voxels[:n_test]
    model, arrays = build_caloflow(e_tr, v_tr, c.caloflow, c.flow1, c.flow2, seed=cfg.seed)
    key = jax.random.PRNGKey(cfg.seed)
    k_train, k_gen, k_cls = jax.random.split(key, 3)
    t0 = time.perf_counter()
    p1, p2, info = train_caloflow(model, arrays, c.train1, c.train2, workdir=workdir, key=k_train)
    train_seconds = time.perf_counter() - t0
    likelihood = _held_out_nll(
        model, p1, p2, arrays, flow_arrays(model.stats, c.caloflow, e_te, v_te, seed=cfg.seed + 3)
    )
    sampler = make_sampler(model)
    gen = sampler(p1, p2, k_gen, e_te)
    f_gen, f_ref = high_level_features(gen, e_te), high_level_features(v_te, e_te)
    seps = separation_powers(f_gen, f_ref)
    plot_features(f_gen, f_ref, seps, workdir / "features.png")
    plot_mean_profiles(gen, v_te, workdir / "mean_showers.png")
    x_gen, x_ref = _classifier_inputs(gen, e_te), _classifier_inputs(v_te, e_te)
    cls = classifier_two_sample_auc(x_gen, x_ref, key=k_cls, train_cfg=c.classifier, workdir=workdir / "classifier")
    plot_roc(cls["scores"], cls["labels"], cls["auc"], workdir / "classifier_roc.png")
    by_input = {"voxels": cls["auc"]}
    if c.eval.input_subsets:
        for name, (a, b) in _input_subsets(f_gen, f_ref, x_gen, x_ref).items():
            by_input[name] = classifier_two_sample_auc(
                a, b, key=k_cls, train_cfg=c.classifier, workdir=workdir / f"classifier_{name}"
            )["auc"]
    timing = _timing(c, sampler, p1, p2, cfg.seed)
    plot_timing(timing, workdir / "showers_per_second.png")
    t100 = timing.get("100", next(iter(timing.values())))
    return {
        "classifier_auc": cls["auc"],
        "classifier_auc_train": cls["auc_train"],
        "classifier_auc_by_input": by_input,
        "showers_per_s": t100["flow_showers_per_s"],
        "reference_showers_per_s": t100["reference_showers_per_s"],
        "speedup_100GeV": t100["flow_showers_per_s"] / t100["reference_showers_per_s"],
        "timing": timing,
        "separation_power": seps,
        "separation_power_mean": float(np.mean(list(seps.values()))),
        "validation": validation,
        "n_train": int(len(e_tr)),
        "n_test": int(n_test),
        "reference_sim_seconds": sim_seconds,
        "train_seconds": train_seconds,
        **likelihood,
        **info,
    }
