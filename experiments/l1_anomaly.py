"""L1 anomaly-detection trigger (AXOL1TL / ADC2021 style): QAT autoencoder and VAE, exported bit-exactly.

Events: Pythia 8 -> CMS-like smearing (:func:`hepjax.detector.smear`, exact cuts) -> 57-number
L1 summaries (:mod:`hepjax.trigger.l1_inputs`). Background: an SM mix of ``w_lnu``, ``qcd_dijet``,
``z_ll`` and ``ttbar`` (the ``background`` samples); signals (the ``signals`` samples): ``scalar_4l``,
``leptoquark``, ``charged_higgs``, ``h_tautau``. The network sees log(1 + pT) and eta, phi,
standardised on the training background (read-out preprocessing, before the firmware).

Models (both quantization-aware, ``qat`` types, <= 8-bit weights):
* ``ae``: 57 -> 32-16-``latent``-16-32 -> 57; score = mean squared reconstruction error;
* ``vae``: encoder 57 -> 32-16 -> (mu, log sigma^2) [2 x latent], decoder as the AE; trained on
  reconstruction + ``beta`` KL; score = sum mu^2 (the AXOL1TL choice: only the encoder runs in the
  FPGA).
Per-layer widths: ``qat.layers`` entries named ``ae/dense_<i>``, ``vae/encoder/dense_<i>`` or
``vae/decoder/dense_<i>`` (:mod:`hepjax.hls.layer_config`; weights stay <= 8 bits).
The firmware network of each (the AE; the VAE encoder) is saved in ``<run>/<name>/`` with its
checkpoint, ``hls_export.json`` and ``validation.npz`` for ``hepjax export-hls``.

Metrics (:func:`hepjax.anomaly.metrics.summarise_scores`): ROC AUC per signal, TPR at the lowest FPR
the background test sample resolves (``1 / n_background_test``, reported as ``fpr_floor``), and TPR at
FPR 1e-3, an upper limit when the sample cannot resolve it. Compilations: one train step and one eval per model.
"""

from __future__ import annotations

import dataclasses
import json
from functools import partial
from pathlib import Path

import jax
import numpy as np

from hepjax.anomaly import (
    BACKGROUNDS,
    SIGNALS,
    anomaly_score,
    build_model,
    make_events,
    networks,
    sample_name,
    trigger_mlp,
)
from hepjax.anomaly.metrics import summarise_scores
from hepjax.anomaly.plots import roc_plot
from hepjax.config import CrossFieldError, param, section
from hepjax.data import SampleConfig
from hepjax.hls.layer_config import ExportConfig, LayerQat
from hepjax.train import ArrayDataset, TrainConfig, fit


@dataclasses.dataclass(frozen=True)
class DataConfig:
    train_fraction: float = param(0.5, gt=0.0, lt=1.0, doc="of the background; the rest is the test sample")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    hidden: tuple[int, ...] = param((32, 16))
    latent: int = param(3, ge=1)
    beta: float = param(0.05, ge=0.0, doc="VAE KL weight (0.5 collapsed the latent: most mu quantized to 0)")
    kinds: tuple[str, ...] = param(("ae", "vae"), doc="which models to train: ae, vae")


@dataclasses.dataclass(frozen=True)
class QatConfig:
    input_type: str = param("ap_fixed<16,6,AP_RND,AP_SAT>")
    weight_bits: int = param(8, ge=2, le=8, doc="<= 8 bits")
    weight_integer: int = param(2)
    activation_bits: int = param(8, ge=2, le=16)
    activation_integer: int = param(4)
    result_type: str = param("ap_fixed<16,6,AP_RND,AP_SAT>")
    layers: tuple[LayerQat, ...] = param(
        (),
        doc="per-layer overrides named <model>/dense_<i> (ae/..., vae/encoder/..., vae/decoder/...), "
        "e.g. [{name: ae/dense_0, weight_bits: 6}]",
    )


@dataclasses.dataclass(frozen=True)
class Config:
    background: tuple[SampleConfig, ...] = param(
        tuple(
            SampleConfig(p, n, 1000 + i, workers=2)
            for i, (p, n) in enumerate(zip(BACKGROUNDS, (6000, 4000, 1500, 500)))
        ),
        doc="Standard-Model samples, mixed: the training and test background",
    )
    signals: tuple[SampleConfig, ...] = param(
        tuple(SampleConfig(p, 1000, 1004 + i, workers=2) for i, p in enumerate(SIGNALS)),
        doc="BSM samples, each scored against the test background (metrics named by process or file stem)",
    )
    data: DataConfig = section(DataConfig)
    model: ModelConfig = section(ModelConfig)
    qat: QatConfig = section(QatConfig)
    train: TrainConfig = section(TrainConfig)
    export: ExportConfig = section(ExportConfig)

    def validate(self):
        for key in ("background", "signals"):
            if not getattr(self, key):
                raise CrossFieldError((key,), "give at least one sample")


def run(cfg, workdir: Path) -> dict:
    from hepjax.hls.export import export_model, save_export_spec
    from hepjax.hls.layer_config import check_layer_names, dense_names
    from hepjax.trigger.l1_inputs import preprocess

    c: Config = cfg.sections
    workdir = Path(workdir)
    q, m = c.qat, c.model
    check_layer_names(
        q.layers,
        [n for _, k, p in networks(m, cfg.source) for n in dense_names(k, p)],
        source=cfg.source,
        max_weight_bits=8,
    )
    ev = {k: preprocess(v) for k, v in make_events((*c.background, *c.signals), cfg.seed).items()}
    signals = [sample_name(s) for s in c.signals]
    rng = np.random.default_rng(cfg.seed)
    bg = np.concatenate([ev[sample_name(s)] for s in c.background])
    bg = bg[rng.permutation(len(bg))]
    n_tr = int(round(c.data.train_fraction * len(bg)))
    mean, std = bg[:n_tr].mean(0), bg[:n_tr].std(0) + 1e-3
    norm = lambda a: ((a - mean) / std).astype(np.float32)
    x_tr, x_te = norm(bg[:n_tr]), norm(bg[n_tr:])
    sig = {s: norm(ev[s]) for s in signals}
    (workdir / "standardisation.json").write_text(json.dumps({"mean": mean.tolist(), "std": std.tolist()}))

    d = x_tr.shape[1]

    mlp = partial(trigger_mlp, q, source=cfg.source)
    metrics: dict = {
        "n_background_train": len(x_tr),
        "n_background_test": len(x_te),
        "fpr_floor": 1.0 / len(x_te),
        "weight_type": f"ap_fixed<{q.weight_bits},{q.weight_integer},AP_RND,AP_SAT>",
    }
    key = jax.random.PRNGKey(cfg.seed)
    scores, firmware = {}, {}
    for i, kind in enumerate(m.kinds):
        model, loss_fn, params, fw_model, fw_path = build_model(
            kind, m, mlp, d, x_tr[:1], jax.random.fold_in(key, i), key
        )
        res = fit(
            loss_fn,
            params,
            ArrayDataset({"x": x_tr}, c.train.batch_size, seed=cfg.seed + i),
            c.train,
            workdir=workdir / kind,
            key=jax.random.fold_in(key, 100 + i),
            plot_keys=("loss",),
        )
        p = jax.device_get(res.state.params)
        fw_params = p
        for k in fw_path:
            fw_params = fw_params[k]
        firmware[kind] = (fw_model, {"params": fw_params})
        save_export_spec(
            workdir / kind,
            fw_model,
            (d,),
            x_te,
            params_path=fw_path,
            note=f"L1 anomaly {kind}: inputs preprocessed by hepjax.trigger.l1_inputs.preprocess and {workdir / 'standardisation.json'}",
        )
        metrics[f"compilations_{kind}"] = res.compilations
        fn = jax.jit(lambda v, a, fw_model=fw_model: fw_model.apply(v, a))
        score = lambda a, kind=kind, fn=fn: anomaly_score(kind, np.asarray(fn(firmware[kind][1], a)), a, m.latent)
        scores[kind] = {"background": score(x_te), **{s: score(v) for s, v in sig.items()}}

    for kind, sc in scores.items():
        metrics.update(summarise_scores(sc, signals, kind))
    if c.export.enabled:
        for kind, (fw_model, v) in firmware.items():
            rep = export_model(
                fw_model,
                v,
                (d,),
                np.concatenate([x_te, *sig.values()]),
                workdir / kind / "hls4ml_prj",
                reuse_factor=c.export.reuse_factor,
                io_type=c.export.io_type,
            )
            a = rep["agreement"]
            metrics[f"{kind}_bit_mismatches"] = a["bit_mismatches"]
            metrics[f"{kind}_export_inputs"] = a["n_inputs"]
            metrics[f"{kind}_max_abs_diff"] = a["max_abs_diff"]
            metrics[f"{kind}_multiplications"], metrics[f"{kind}_bops"] = rep["multiplications"], rep["bops"]
            metrics[f"{kind}_csim_s"] = rep["timing_s"]["csim_compile_and_run"]
        first = m.kinds[0]
        metrics["l1_anomaly_bit_mismatches"] = int(sum(metrics[f"{k}_bit_mismatches"] for k in m.kinds))
        metrics["l1_anomaly_export_inputs"] = metrics[f"{first}_export_inputs"]
    metrics["l1_anomaly_tpr_at_fpr"] = float(np.mean([metrics[f"{m.kinds[0]}_tpr_{s}"] for s in signals]))
    roc_plot(scores, signals, workdir / "roc.png")
    return metrics
