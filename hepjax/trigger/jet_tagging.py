"""The hls4ml jet-tagging benchmark on Pythia jets: the sample, the QAT types and the training of the MLP tagger."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hepjax.train import ArrayDataset, TrainConfig, fit, make_optimizer

CLASSES = ("q", "g", "W", "Z", "t")


def make_jets(cfg, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Features ``[n, 16]`` and labels ``[n]`` (index into :data:`CLASSES`), class-balanced.

    ``cfg`` has ``n_events`` (per process), ``jet_pt_min`` (GeV), ``jet_eta_max``, ``max_constituents`` and
    ``workers``. Jets: anti-kT R = 0.8 of ``qcd_dijet`` (pT-hat 300-600 GeV), ``boosted_w``,
    ``boosted_z`` and ``boosted_top``, labelled by the matched parton (q, g, W, Z, t).
    """
    from hepjax.data import cluster_jets, generate, match_jets_to_partons, qcd_settings
    from hepjax.trigger.jet_features import jet_features

    label_of = {**{q: 0 for q in (1, 2, 3, 4, 5)}, 21: 1, 24: 2, 23: 3, 6: 4}
    feats, labels = [], []
    for i, (proc, settings) in enumerate(
        (("qcd_dijet", qcd_settings(300.0, 600.0)), ("boosted_w", ()), ("boosted_z", ()), ("boosted_top", ()))
    ):
        s = generate(proc, cfg.n_events, seed + 101 * i, settings=settings, workers=cfg.workers, progress=False)
        jets = cluster_jets(s.particles, R=0.8, ptmin=cfg.jet_pt_min, max_jets=2, max_constituents=cfg.max_constituents)
        lab = np.abs(match_jets_to_partons(jets, s.partons, dr=0.8))
        ok = jets.mask & (np.abs(jets.eta) < cfg.jet_eta_max) & np.isin(lab, list(label_of))
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


def train_tagger(
    model, x, y, tcfg: TrainConfig, workdir: Path, key, sparsity: float, seed: int = 0
) -> tuple[dict, object]:
    """Train ``model`` (softmax over classes) on ``x [n, f]``, ``y [n]`` by cross entropy; ``(params, FitResult)``.

    ``sparsity > 0`` adds magnitude pruning to that target between 20% and 80% of the steps.
    """

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


def accuracy(model, params, x, y) -> float:
    """Fraction of ``x [n, f]`` whose argmax class is ``y [n]``."""
    p = jax.jit(lambda v, a: model.apply(v, a))({"params": params}, x)
    return float(np.mean(np.argmax(np.asarray(p), 1) == y))


def qat_model_types(q, n_layers: int, *, source: str = "") -> dict:
    """TriggerMLP type kwargs of the QAT tagger: the section's uniform types and its ``layers`` overrides.

    Raises:
      ConfigError: an override names no layer of the model, or asks for an impossible type.
    """
    from hepjax.hls.layer_config import check_layer_names, dense_names
    from hepjax.hls.models import qat_types_from_section

    check_layer_names(q.layers, dense_names(n_layers), source=source)
    return qat_types_from_section(q, n_layers, source=source)
