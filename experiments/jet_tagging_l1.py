"""hls4ml jet-tagging benchmark on Pythia jets: float vs ap_fixed<16,6> vs 6-bit QAT, exported bit-exactly.

Jets: anti-kT R = 0.8 on final-state particles of ``qcd_dijet`` (pT-hat 300-600 GeV: q and g
jets), ``boosted_w``, ``boosted_z`` and ``boosted_top``; labels from
:func:`hepjax.data.match_jets_to_partons` (q = |pdg| 1-5, g = 21, W = 24, Z = 23, t = 6), classes
balanced by down-sampling. Inputs: the 16 substructure features of
:mod:`hepjax.hls.jet_features`, standardised on the training jets (the standardisation is part of
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
import jax.numpy as jnp
import numpy as np
import optax

from hepjax.config import param, section
from hepjax.hls.layer_config import LayerQat
from hepjax.train import ArrayDataset, TrainConfig, fit, make_optimizer

CLASSES = ("q", "g", "W", "Z", "t")


@dataclasses.dataclass(frozen=True)
class DataCfg:
    n_events: int = param(8500, ge=20, doc="events per process (qcd_dijet, boosted_w, boosted_z, boosted_top)")
    jet_ptmin: float = param(250.0, ge=0.0, doc="GeV, fat-jet threshold")
    max_eta: float = param(2.0, gt=0.0)
    max_constituents: int = param(64, ge=8)
    test_fraction: float = param(0.4, gt=0.0, lt=1.0, doc="held-out jets (accuracy and export agreement)")
    workers: int = param(2, ge=1, doc="Pythia processes")


@dataclasses.dataclass(frozen=True)
class ModelCfg:
    hidden: tuple[int, ...] = param((64, 32, 32), doc="hidden widths (the benchmark: 64-32-32)")


@dataclasses.dataclass(frozen=True)
class QatCfg:
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
class ExportCfg:
    enabled: bool = param(True)
    ptq_precision: str = param(
        "ap_fixed<16,6,AP_RND,AP_SAT>",
        doc="hls4ml type of the float model (post-training quantization); hls4ml's plain ap_fixed<16,6> truncates (AP_TRN) and wraps",
    )
    reuse_factor: int = param(1, ge=1)
    io_type: str = param("parallel", choices=("parallel", "stream"))


@dataclasses.dataclass(frozen=True)
class Config:
    data: DataCfg = section(DataCfg)
    model: ModelCfg = section(ModelCfg)
    qat: QatCfg = section(QatCfg)
    train: TrainConfig = section(TrainConfig)
    export: ExportCfg = section(ExportCfg)


def make_jets(cfg: DataCfg, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features ``[n, 16]`` and labels ``[n]`` (index into :data:`CLASSES`), class-balanced."""
    from hepjax.data import cluster_jets, generate, match_jets_to_partons, qcd_settings
    from hepjax.hls.jet_features import jet_features

    label_of = {**{q: 0 for q in (1, 2, 3, 4, 5)}, 21: 1, 24: 2, 23: 3, 6: 4}
    feats, labels = [], []
    for i, (proc, settings) in enumerate(
        (("qcd_dijet", qcd_settings(300.0, 600.0)), ("boosted_w", ()), ("boosted_z", ()), ("boosted_top", ()))
    ):
        s = generate(proc, cfg.n_events, seed + 101 * i, settings=settings, workers=cfg.workers, progress=False)
        jets = cluster_jets(s.particles, R=0.8, ptmin=cfg.jet_ptmin, max_jets=2, max_constituents=cfg.max_constituents)
        lab = np.abs(match_jets_to_partons(jets, s.partons, dr=0.8))
        ok = jets.mask & (np.abs(jets.eta) < cfg.max_eta) & np.isin(lab, list(label_of))
        if proc != "qcd_dijet":  # from the boson/top samples keep only the boson/top jets
            ok &= np.isin(lab, (24, 23, 6))
        c = jets.constituents
        sel = lambda a, ok=ok: np.asarray(a)[ok]
        const = type(c)(*(sel(getattr(c, f)) for f in c._fields))
        feats.append(jet_features(const, sel(jets.pt), sel(jets.mass)))
        labels.append(np.array([label_of[int(v)] for v in lab[ok]], np.int32))
    x, y = np.concatenate(feats), np.concatenate(labels)
    rng = np.random.default_rng(seed)
    n_min = min(int((y == k).sum()) for k in range(len(CLASSES)))
    if n_min == 0:
        raise ValueError(f"a jet class is empty (counts {np.bincount(y, minlength=5).tolist()}); raise data.n_events")
    keep = np.concatenate([rng.choice(np.flatnonzero(y == k), n_min, replace=False) for k in range(len(CLASSES))])
    keep = rng.permutation(keep)
    return x[keep], y[keep]


def _train(model, x, y, tcfg: TrainConfig, workdir: Path, key, sparsity: float, seed: int = 0) -> tuple[dict, object]:
    def loss_fn(params, batch, k):
        logp = jnp.log(model.apply({"params": params}, batch["x"]) + 1e-7)
        loss = -jnp.mean(jnp.take_along_axis(logp, batch["y"][:, None], 1))
        return loss, {"acc": jnp.mean(jnp.argmax(logp, 1) == batch["y"])}

    params = model.init(key, x[:1])["params"]
    opt = make_optimizer(tcfg)
    if sparsity > 0:
        from hepjax.hls.prune import magnitude_pruning

        opt = optax.chain(opt, magnitude_pruning(sparsity, begin_step=tcfg.steps // 5, end_step=(4 * tcfg.steps) // 5))
    res = fit(
        loss_fn,
        params,
        ArrayDataset({"x": x, "y": y}, tcfg.batch_size, seed=seed),
        tcfg,
        workdir=workdir,
        key=key,
        optimizer=opt,
        plot_keys=("loss", "acc"),
    )
    return jax.device_get(res.state.params), res


def _accuracy(model, params, x, y) -> float:
    p = jax.jit(lambda v, a: model.apply(v, a))({"params": params}, x)
    return float(np.mean(np.argmax(np.asarray(p), 1) == y))


def qat_model_types(q: QatCfg, n_layers: int, *, source: str = "") -> dict:
    """TriggerMLP type kwargs of the QAT tagger: the section's uniform types and its ``layers`` overrides.

    Raises:
      ConfigError: an override names no layer of the model, or asks for an impossible type.
    """
    from hepjax.hls.layer_config import check_layer_names, dense_names
    from hepjax.hls.models import qat_types

    check_layer_names(q.layers, dense_names(n_layers), source=source)
    return qat_types(
        n_layers,
        input_type=q.input_type,
        weight_bits=q.weight_bits,
        integer_bits=q.weight_integer,
        result_type=q.result_type,
        activation_bits=q.activation_bits,
        activation_integer=q.activation_integer,
        output_type=q.logit_type,
        layers=q.layers,
        source=source,
    )


def run(cfg, workdir: Path) -> dict:
    from hepjax.hls.export import export_model, save_export_spec
    from hepjax.hls.models import TriggerMLP

    c: Config = cfg.sections
    workdir = Path(workdir)
    features = (*c.model.hidden, len(CLASSES))
    types = qat_model_types(c.qat, len(features), source=cfg.source)  # config errors before any Pythia
    x, y = make_jets(c.data, cfg.seed)
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
        params, res = _train(
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
        metrics[f"accuracy_{name}"] = _accuracy(model, params, x_te, y_te)
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
            metrics[f"{name}_multiplications"] = rep["multiplications"]
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
            s = p[:, k]
            order = np.argsort(-s)
            t = y[order] == k
            tpr = np.cumsum(t) / max(t.sum(), 1)
            fpr = np.cumsum(~t) / max((~t).sum(), 1)
            ax.plot(tpr, np.maximum(fpr, 1e-4), ls, label=f"{cls} ({name})")
    ax.set_yscale("log")
    ax.set_xlabel("signal efficiency")
    ax.set_ylabel("background efficiency")
    ax.legend(ncol=2, fontsize=9)
    label(ax)
    savefig(fig, workdir / "roc.png")
