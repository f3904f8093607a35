"""Bench area ``design``: the differentiable likelihood against pyhf, and design study (a) against its grid.

* ``metrics.pyhf_max_rel_diff``: over ``n_models`` random HistFactory models with every modifier type
  (:func:`hepjax.stats.random_models.random_specs`; 100, quick 20), the largest relative difference to
  pyhf 0.7.6 (numpy backend, SLSQP at tolerance 1e-14) of the minimum −2 ln L, q0, q̃μ(1) and the observed
  CLs (float64), with the per-quantity maxima beside it (``pyhf_rel_diff/<quantity>``, including the best-fit
  parameters and the expected CLs band, which pyhf's optimizer limits to ~1e-6).
* ``ratios.fit_speedup``: one maximum-likelihood fit, pyhf (numpy, default tolerance) time / hepjax time
  (compiled; best of 5) on the same random model (up to 2 channels × 4 bins), in the same run.
* ``metrics.grid_gap`` and ``metrics.evals_ratio``: design study (a) (``configs/design_resonance.yaml``;
  quick: 1000 signal and 4000 background events, a 6 × 6 × 4 × 6 grid): (grid optimum − gradient optimum)
  / |grid optimum| of Z0 − cost, and grid evaluations / gradient evaluations.

* ``metrics.inferno_b4_width_ours`` and ``metrics.inferno_b4_width_bce``: design study (b)
  (``configs/design_inferno.yaml``; quick: 1000 / 500 training steps, 20k test events per class): the
  profile-likelihood σ of the signal yield on INFERNO's benchmark 4 for the inference-aware observable and
  for the cross-entropy one trained in the same run, and the exact-likelihood bound beside them.

* ``metrics.chain_z0_gain`` and ``metrics.chain_fd_max_rel_err``: design study (c)
  (``configs/design_chain.yaml``; quick: 2000 W and 3000 QCD events, 150 tagger steps, 40 design steps): the
  relative Z0 gain of the jointly optimised detector and analysis over ``cms_like()`` at equal cost, after
  retraining the tagger at both, on held-out jets and fresh detector noise; and the largest relative
  difference between the chain's gradient and central finite differences (float64, fixed noise).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import jax

from hepjax.bench.harness import experiment_metrics

STUDY_QUICK = [
    "signal.n_events=1000",
    "background.n_events=4000",
    "design.grid_points=[6,6,4,6]",
    "design.steps=80",
    "design.fresh_keys=2",
]
INFERNO_QUICK = ["training.inferno_steps=1000", "training.bce_steps=500", "evaluation.n_test=20000"]
CHAIN_QUICK = [
    "signal.n_events=2000",
    "background.n_events=3000",
    "tagger.steps=150",
    "design.steps=40",
    "design.fd_jets=16",
    "design.threshold_grid=10",
    "design.fresh_keys=2",
]
HEADLINE = ("nll", "q0", "qtilde", "cls")


def pyhf_agreement(n_models: int, seed: int = 0) -> dict:
    """Per-quantity maximum differences to pyhf over ``n_models`` random models (see module doc)."""
    from hepjax.bench.peers.pyhf_peer import compare_model
    from hepjax.stats.random_models import random_specs

    worst: dict[str, float] = {}
    below = 0
    with jax.enable_x64(True):
        for spec, observed in random_specs(jax.random.key(seed), n_models):
            diffs = compare_model(spec, observed)
            below += diffs.pop("ours_below_pyhf")
            for k, v in diffs.items():
                worst[k] = max(worst.get(k, 0.0), v)
    return {"worst": worst, "n_models": n_models, "ours_at_or_below_pyhf_minimum": below}


def run(*, quick: bool, n_models: int | None = None) -> dict:
    from hepjax.bench.peers.pyhf_peer import fit_times
    from hepjax.stats.random_models import random_spec

    n = n_models or (20 if quick else 100)
    agree = pyhf_agreement(n)
    with jax.enable_x64(True):
        spec, observed = random_spec(jax.random.key(7), max_channels=2, max_bins=4)
        times = fit_times(spec, observed)
    with tempfile.TemporaryDirectory(prefix="bench_design_") as tmp:
        study = experiment_metrics("design_resonance", STUDY_QUICK if quick else [], Path(tmp) / "a")
        inferno = experiment_metrics("design_inferno", INFERNO_QUICK if quick else [], Path(tmp) / "b")
        chain = experiment_metrics("design_chain", CHAIN_QUICK if quick else [], Path(tmp) / "c")
    metrics = {
        "pyhf_max_rel_diff": max(agree["worst"][k] for k in HEADLINE),
        **{f"pyhf_rel_diff/{k}": v for k, v in agree["worst"].items()},
        "pyhf_models": agree["n_models"],
        "pyhf_ours_at_or_below_minimum": agree["ours_at_or_below_pyhf_minimum"],
        "grid_gap": study["grid_gap"],
        "evals_ratio": study["evals_ratio"],
        "design_resonance_objective_start": study["start"]["objective"],
        "design_resonance_objective_gradient": study["optimum"]["objective"],
        "design_resonance_objective_grid": study["grid_optimum"]["objective"],
        "hepjax_fit_s": times["hepjax_fit_s"],
        "inferno_b4_width_ours": inferno["inferno_b4_width_ours"],
        "inferno_b4_width_bce": inferno["inferno_b4_width_bce"],
        "inferno_b4_unbinned_bound": inferno["unbinned_bound_sigma"],
        "chain_z0_gain": chain["chain_z0_gain"],
        "chain_fd_max_rel_err": chain["chain_fd_max_rel_err"],
        "chain_z0_start": chain["chain_z0_start"],
        "chain_z0_opt": chain["chain_z0_opt"],
    }
    return {
        "metrics": metrics,
        "peer": {"pyhf": {"fit_s": times["pyhf_fit_s"], "version": _pyhf_version()}},
        "ratios": {"fit_speedup": times["pyhf_fit_s"] / times["hepjax_fit_s"]},
        "notes": f"{n} random HistFactory models vs pyhf; design_resonance "
        f"({'quick' if quick else 'full'} config): {study['grid_evals']} grid points vs "
        f"{study['gradient_evals']} gradient steps; design_inferno and design_chain "
        f"({'quick' if quick else 'full'}; chain: {chain['n_evals']} chain evaluations).",
    }


def _pyhf_version() -> str:
    import pyhf

    return str(pyhf.__version__)


__all__ = ["HEADLINE", "pyhf_agreement", "run"]
