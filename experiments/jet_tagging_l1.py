"""hls4ml jet-tagging benchmark on Pythia jets: float vs ap_fixed<16,6> vs 6-bit QAT, exported bit-exactly.

Jets: anti-kT R = 0.8 on final-state particles of ``qcd_dijet`` (pT-hat 300-600 GeV: q and g
jets), ``boosted_w``, ``boosted_z`` and ``boosted_top``; labels from
:func:`hepjax.data.match_jets_to_partons` (q = |pdg| 1-5, g = 21, W = 24, Z = 23, t = 6), classes
balanced by down-sampling. Inputs: the 16 substructure features of
:mod:`hepjax.trigger.jet_features`, standardised on the training jets (the standardisation is part of
the read-out, before the firmware). Model: 16 -> 64-32-32-5 (ReLU, softmax).

Three models: float; the float model post-training-quantized at ``ap_fixed<16,6>`` (hls4ml
default types, C-simulated); and a quantization-aware one (``qat`` section: 6-bit weights and
activations by default). Each trained model sits in ``<run>/<name>/`` with its checkpoint,
``hls_export.json`` and ``validation.npz``, so ``hepjax export-hls <run>/<name> --out DIR`` rebuilds it.

Compilations: one train step per model (fixed batch), one eval per model; C simulation: one g++
build per export.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jax
import numpy as np

from hepjax.config import CrossFieldError, param, section
from hepjax.data import JetConfig, SampleConfig, check_jet_threshold
from hepjax.evaluation import roc_curve
from hepjax.hls.layer_config import ExportConfig, LayerQat
from hepjax.train import TrainConfig
from hepjax.trigger.jet_tagging import CLASSES, accuracy, make_jets, qat_model_types, train_tagger

_PTHAT = ("PhaseSpace:pTHatMin = 300.0", "PhaseSpace:pTHatMax = 600.0")  # q and g jets around the fat-jet pT


@dataclasses.dataclass(frozen=True)
class DataConfig:
    jet_pt_min: float = param(250.0, ge=0.0, doc="GeV, fat-jet threshold")
    jet_eta_max: float = param(2.0, gt=0.0)
    test_fraction: float = param(0.4, gt=0.0, lt=1.0, doc="held-out jets (accuracy and export agreement)")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    hidden: tuple[int, ...] = param((64, 32, 32), doc="hidden widths (the benchmark: 64-32-32)")


@dataclasses.dataclass(frozen=True)
class QatConfig:
    input_type: str = param("ap_fixed<16,6,AP_RND,AP_SAT>")
    weight_bits: int = param(6, ge=2, le=16)
    weight_integer: int = param(1, doc="integer bits incl. sign of weights and biases")
    activation_bits: int = param(6, ge=2, le=16)
    activation_integer: int = param(3)
    result_type: str = param("ap_fixed<16,6,AP_RND,AP_SAT>", doc="hidden Dense results (before ReLU)")
    logit_type: str = param("ap_fixed<12,5,AP_RND,AP_SAT>", doc="output Dense (softmax input)")
    sparsity: float = param(0.0, ge=0.0, lt=1.0, doc="magnitude-pruning target")
    layers: tuple[LayerQat, ...] = param(
        (), doc="per-layer overrides, e.g. [{name: dense_0, weight_bits: 8, weight_integer: 2}]"
    )


@dataclasses.dataclass(frozen=True)
class Config:
    qcd: SampleConfig = section(SampleConfig, process="qcd_dijet", n_events=8500, seed=0, settings=_PTHAT, workers=2)
    w: SampleConfig = section(SampleConfig, process="boosted_w", n_events=8500, seed=101, workers=2)
    z: SampleConfig = section(SampleConfig, process="boosted_z", n_events=8500, seed=202, workers=2)
    top: SampleConfig = section(SampleConfig, process="boosted_top", n_events=8500, seed=303, workers=2)
    jets: JetConfig = section(JetConfig, R=0.8, ptmin=250.0, max_jets=2, max_constituents=64)
    data: DataConfig = section(DataConfig)
    model: ModelConfig = section(ModelConfig)
    qat: QatConfig = section(QatConfig)
    train: TrainConfig = section(TrainConfig)
    export: ExportConfig = section(ExportConfig)

    def validate(self):
        check_jet_threshold(self.jets, self.data.jet_pt_min)
        if self.jets.max_constituents == 0:
            raise CrossFieldError(("jets.max_constituents",), "the jet features need constituents: set it > 0")


def run(cfg, workdir: Path) -> dict:
    from hepjax.hls.export import export_model, save_export_spec
    from hepjax.hls.models import TriggerMLP

    c: Config = cfg.sections
    workdir = Path(workdir)
    features = (*c.model.hidden, len(CLASSES))
    types = qat_model_types(c.qat, len(features), source=cfg.source)  # config errors before any Pythia
    d = c.data
    x, y = make_jets(c.qcd, (c.w, c.z, c.top), c.jets, pt_min=d.jet_pt_min, eta_max=d.jet_eta_max, seed=cfg.seed)
    n_test = int(round(c.data.test_fraction * len(x)))
    x_tr, y_tr, x_te, y_te = x[n_test:], y[n_test:], x[:n_test], y[:n_test]
    mean, std = x_tr.mean(0), x_tr.std(0) + 1e-6
    x_tr, x_te = (x_tr - mean) / std, (x_te - mean) / std
    (workdir / "standardisation.json").write_text(json.dumps({"mean": mean.tolist(), "std": std.tolist()}))

    q = c.qat
    w = f"ap_fixed<{q.weight_bits},{q.weight_integer},AP_RND,AP_SAT>"
    models = {
        "float": TriggerMLP(features, output_activation="softmax"),
        "qat": TriggerMLP(features, output_activation="softmax", **types),
    }
    metrics: dict = {
        "n_jets_train": len(x_tr),
        "n_jets_test": len(x_te),
        "weight_type": w,
        "qat_weight_types": list(types["weight_types"]),
        "qat_activation_types": list(types["activation_types"]),
    }
    key = jax.random.PRNGKey(cfg.seed)
    trained = {}
    for i, (name, model) in enumerate(models.items()):
        params, res = train_tagger(
            model,
            x_tr,
            y_tr,
            c.train,
            workdir / name,
            jax.random.fold_in(key, i),
            q.sparsity if name == "qat" else 0.0,
            cfg.seed + i,
        )
        trained[name] = params
        metrics[f"accuracy_{name}"] = accuracy(model, params, x_te, y_te)
        metrics[f"compilations_{name}"] = res.compilations
        prec = c.export.ptq_precision
        save_export_spec(
            workdir / name,
            model,
            (x.shape[1],),
            x_te,
            y_val=y_te,
            default_precision=prec,
            note=f"jet tagger ({name}); inputs standardised with {workdir / 'standardisation.json'}",
        )
    if c.export.enabled:
        for name, model in models.items():
            rep = export_model(
                model,
                {"params": trained[name]},
                (x.shape[1],),
                x_te,
                workdir / name / "hls4ml_prj",
                y_val=y_te,
                reuse_factor=c.export.reuse_factor,
                io_type=c.export.io_type,
                default_precision=c.export.ptq_precision,
            )
            a = rep["agreement"]
            metrics[f"{name}_argmax_agreement"] = a["argmax_agreement"]
            metrics[f"{name}_bit_mismatches"] = a["bit_mismatches"]
            metrics[f"{name}_accuracy_csim"] = a.get("accuracy_csim")
            metrics[f"{name}_max_abs_diff"] = a["max_abs_diff"]
            metrics[f"{name}_multiplications"], metrics[f"{name}_bops"] = rep["multiplications"], rep["bops"]
            metrics[f"{name}_csim_s"] = rep["timing_s"]["csim_compile_and_run"]
        metrics["accuracy_ptq_16_6"] = metrics["float_accuracy_csim"]
        metrics["jet_tagging_bit_mismatches"] = metrics["qat_bit_mismatches"]
        metrics["jet_tagging_argmax_agreement"] = metrics["qat_argmax_agreement"]
    metrics["jet_tagging_accuracy_qat"] = metrics["accuracy_qat"]
    metrics["qat_minus_float_accuracy"] = metrics["accuracy_qat"] - metrics["accuracy_float"]
    _plot(models, trained, x_te, y_te, workdir)
    return metrics


def _plot(models, trained, x, y, workdir: Path) -> None:
    """Per-class ROC (one vs rest) of the float and QAT taggers."""
    from hepjax.plotting import figure, label, savefig

    fig, ax = figure()
    for (name, model), ls in zip(models.items(), ("-", "--")):
        p = np.asarray(jax.jit(model.apply)({"params": trained[name]}, x))
        for k, cls in enumerate(CLASSES):
            fpr, tpr = roc_curve(p[:, k], y == k)
            ax.plot(tpr[1:], np.maximum(fpr[1:], 1e-4), ls, label=f"{cls} ({name})")
    ax.set_yscale("log")
    ax.set_xlabel("signal efficiency")
    ax.set_ylabel("background efficiency")
    ax.legend(ncol=2, fontsize=9)
    label(ax)
    savefig(fig, workdir / "roc.png")
