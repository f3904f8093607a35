"""The hls4ml jet-tagging benchmark on Pythia jets: the sample, the QAT types and the training of the MLP tagger."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hepjax.train import ArrayDataset, TrainConfig, fit, make_optimizer

if TYPE_CHECKING:  # hepjax.data is imported where events are made, not when the tagger is
    from hepjax.data import JetConfig, SampleConfig

CLASSES = ("q", "g", "W", "Z", "t")


def make_jets(
    qcd: SampleConfig,
    heavy: tuple[SampleConfig, ...],
    jets: JetConfig,
    *,
    pt_min: float,
    eta_max: float,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Features ``[n, 16]`` and labels ``[n]`` (index into :data:`CLASSES`), class-balanced.

    Jets of ``jets`` (fat jets: anti-kT R = 0.8) with pT > ``pt_min`` GeV and ``|η| < eta_max``, labelled by
    the matched parton (q = |pdg| 1-5, g = 21, W = 24, Z = 23, t = 6): all matched jets of the ``qcd``
    sample (q and g jets), only the W/Z/t jets of the ``heavy`` samples (boosted W, Z, top). ``seed``
    draws the class balancing.
    """
    from hepjax.data import cluster_from_config, generate_from_config, match_jets_to_partons, require_partons
    from hepjax.trigger.jet_features import jet_features

    label_of = {**{q: 0 for q in (1, 2, 3, 4, 5)}, 21: 1, 24: 2, 23: 3, 6: 4}
    feats, labels = [], []
    for i, sample in enumerate((qcd, *heavy)):
        s = generate_from_config(sample, progress=False)
        require_partons(s, sample, "labelling jets by their matched parton")
        found = cluster_from_config(s.particles, jets)
        lab = np.abs(match_jets_to_partons(found, s.partons, dr=jets.R))
        ok = found.mask & (found.pt > pt_min) & (np.abs(found.eta) < eta_max) & np.isin(lab, list(label_of))
        if i > 0:  # from the boson/top samples keep only the boson/top jets
            ok &= np.isin(lab, (24, 23, 6))
        c = found.constituents
        sel = lambda a, ok=ok: np.asarray(a)[ok]
        const = type(c)(*(sel(getattr(c, f)) for f in c._fields))
        feats.append(jet_features(const, sel(found.pt), sel(found.mass)))
        labels.append(np.array([label_of[int(v)] for v in lab[ok]], np.int32))
    x, y = np.concatenate(feats), np.concatenate(labels)
    rng = np.random.default_rng(seed)
    n_min = min(int((y == k).sum()) for k in range(len(CLASSES)))
    if n_min == 0:
        raise ValueError(f"a jet class is empty (counts {np.bincount(y, minlength=5).tolist()}); raise the n_events")
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
