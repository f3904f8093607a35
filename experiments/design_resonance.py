"""Design study (a): a diphoton resonance, the ECAL resolution it needs and what that costs.

A narrow H(125) → γγ signal sits on the falling prompt-γγ background (both Pythia 8). The two leading
isolated photons of each event go through the differentiable detector; the ECAL stochastic and constant
terms (as multiples of ``cms_like()``'s) and the mass window (centre, half-width) are optimised by
gradient ascent on

    Z0(s, b; σ_b = f·b) − λ · cost(ECAL),

the Asimov discovery significance with a background-normalisation uncertainty minus a calorimeter cost
(:func:`hepjax.design.calorimeter_cost`, 1 for ``cms_like()``). The same objective, with the same
detector noise, is evaluated on a dense grid of the four parameters: the gradient optimum is compared
with the grid's, in objective and in evaluations. The optimum is re-evaluated on fresh detector noise
and with a hard window.

Writes ``paths.png`` (objective and parameters per step), ``grid_contours.png`` (the grid's maximum
over the other two parameters, with the gradient path drawn on it) and ``mass.png`` (the diphoton mass
of signal and background at the start and at the optimum, with the windows).

Run: ``hepjax run configs/design_resonance.yaml``.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax

from hepjax.config import RunConfig, param, section
from hepjax.data import SampleConfig, generate_from_config
from hepjax.design import optimize
from hepjax.design.plots import grid_contours, optimisation_paths, window_histograms
from hepjax.design.resonance import DESIGN_PARAMS, grid_search, resonance_objective, select_diphotons, smeared_mass
from hepjax.detector import cms_like, draw_noise
from hepjax.errors import ConfigError

MB_TO_FB = 1e12


@dataclasses.dataclass(frozen=True)
class AnalysisConfig:
    luminosity_fb: float = param(300.0, gt=0.0, doc="integrated luminosity, 1/fb")
    pt_min: tuple[float, float] = param((35.0, 25.0), doc="leading, subleading photon pT, GeV")
    eta_max: float = param(2.5, gt=0.0)
    iso_cone: float = param(0.3, gt=0.0, doc="isolation cone ΔR")
    iso_max: float = param(0.1, ge=0.0, doc="visible pT in the cone / photon pT below this")
    bkg_uncertainty: float = param(0.01, ge=0.0, doc="relative background-normalisation uncertainty")
    cost_weight: float = param(1.0, ge=0.0, doc="λ: significance units per unit of calorimeter cost")
    slope: float = param(4.0, gt=0.0, doc="soft window edge sharpness, 1/GeV")


@dataclasses.dataclass(frozen=True)
class DesignConfig:
    init: tuple[float, float, float, float] = param((1.0, 1.0, 125.0, 3.0), doc="stochastic, constant, centre, hw")
    scale_bounds: tuple[float, float] = param((0.25, 4.0), doc="of both ECAL scales")
    centre_bounds: tuple[float, float] = param((120.0, 130.0), doc="GeV")
    half_width_bounds: tuple[float, float] = param((0.3, 6.0), doc="GeV")
    steps: int = param(120, ge=1)
    learning_rate: float = param(0.05, gt=0.0, doc="Adam, on the unconstrained parameters")
    grid_points: tuple[int, int, int, int] = param((12, 12, 7, 12), doc="grid points per parameter")
    grid_scale_range: tuple[float, float] = param((0.3, 3.0), doc="log-spaced grid of both ECAL scales")
    grid_centre_range: tuple[float, float] = param((123.5, 126.5), doc="GeV")
    grid_half_width_range: tuple[float, float] = param((0.5, 4.0), doc="GeV")
    fresh_keys: int = param(5, ge=1, doc="fresh detector-noise keys of the final re-evaluation")


@dataclasses.dataclass(frozen=True)
class Config:
    signal: SampleConfig = section(SampleConfig)
    background: SampleConfig = section(SampleConfig)
    analysis: AnalysisConfig = section(AnalysisConfig)
    design: DesignConfig = section(DesignConfig)


def _sample(s: SampleConfig, a: AnalysisConfig, section: str):
    ev = generate_from_config(s)
    if "cross_section_mb" not in ev.info:
        raise ConfigError(f"{section}.file: {s.file} carries no cross-section; the yields need one (use Pythia)")
    xs = ev.info["cross_section_mb"] * MB_TO_FB
    sel = dict(pt_min=tuple(a.pt_min), eta_max=a.eta_max, cone=a.iso_cone, iso_max=a.iso_max)
    return select_diphotons(ev.particles, xs, a.luminosity_fb, weights=ev.weights, **sel), xs


def _floats(tree) -> dict:
    return {k: float(v) for k, v in tree.items()}


def run(cfg: RunConfig, workdir: Path) -> dict:
    c: Config = cfg.sections
    a, d = c.analysis, c.design
    workdir = Path(workdir)
    (sig, xs_s), (bkg, xs_b) = _sample(c.signal, a, "signal"), _sample(c.background, a, "background")
    det = cms_like()
    kw = dict(bkg_uncertainty=a.bkg_uncertainty, cost_weight=a.cost_weight)
    objective = resonance_objective(sig, bkg, det, slope=a.slope, **kw)
    hard = resonance_objective(sig, bkg, det, slope=1e4, **kw)  # the window as a cut
    key_fixed, key_fresh = jax.random.split(jax.random.key(cfg.seed))

    init = dict(zip(DESIGN_PARAMS, (jnp.float32(v) for v in d.init)))
    bounds = dict(
        zip(DESIGN_PARAMS, (tuple(d.scale_bounds),) * 2 + (tuple(d.centre_bounds), tuple(d.half_width_bounds)))
    )
    t0 = time.perf_counter()
    res = optimize(
        objective,
        init,
        optimizer=optax.adam(d.learning_rate),
        steps=d.steps,
        key=key_fixed,
        bounds=bounds,
        fresh_noise=False,
        maximize=True,
    )
    t_grad = time.perf_counter() - t0
    best = int(np.argmax(res.path_objective))
    grad_best, grad_params = float(res.path_objective[best]), res.path_params[best]

    axes = {
        "stochastic_scale": np.geomspace(*d.grid_scale_range, d.grid_points[0]),
        "constant_scale": np.geomspace(*d.grid_scale_range, d.grid_points[1]),
        "centre": np.linspace(*d.grid_centre_range, d.grid_points[2]),
        "half_width": np.linspace(*d.grid_half_width_range, d.grid_points[3]),
    }
    t0 = time.perf_counter()
    scan = grid_search(objective, axes, key_fixed)
    grid = scan.values
    t_grid = time.perf_counter() - t0
    idx = np.unravel_index(np.argmax(grid), grid.shape)
    grid_params = {n: float(axes[n][i]) for n, i in zip(DESIGN_PARAMS, idx)}
    grid_best = float(grid[idx])

    parts = jax.jit(objective.parts)
    hard_parts = jax.jit(hard.parts)
    fresh = jax.random.split(key_fresh, d.fresh_keys)
    evaluation = {}
    for name, p in (("start", init), ("optimum", grad_params), ("grid", grid_params)):
        p = {k: jnp.float32(v) for k, v in p.items()}
        for tag, fn in (("soft", parts), ("hard", hard_parts)):
            vals = [_floats(fn(p, k)) for k in fresh]
            for q in ("objective", "z0", "cost"):
                x = np.array([v[q] for v in vals])
                evaluation[f"{name}_{tag}_{q}_mean"], evaluation[f"{name}_{tag}_{q}_std"] = (
                    float(x.mean()),
                    float(x.std()),
                )

    paths = {n: np.array([float(p[n]) for p in res.path_params]) for n in DESIGN_PARAMS}
    optimisation_paths(workdir / "paths.png", res.path_objective, paths, grid_best=grid_best)
    grid_contours(workdir / "grid_contours.png", grid, axes, paths, log_axes=("stochastic_scale", "constant_scale"))
    masses = {}
    for name, p in (("start", init), ("optimum", grad_params)):
        dd = objective.detector(p)
        noise_s, noise_b = (
            draw_noise(k, np.shape(x.photons.pt)) for k, x in zip(jax.random.split(key_fixed), (sig, bkg))
        )
        masses[name] = (
            (np.asarray(smeared_mass(sig.photons, dd, noise_s)[0]), sig.weight),
            (np.asarray(smeared_mass(bkg.photons, dd, noise_b)[0]), bkg.weight),
            (float(p["centre"] - p["half_width"]), float(p["centre"] + p["half_width"])),
        )
    window_histograms(workdir / "mass.png", masses, xlabel=r"$m_{\gamma\gamma}$ [GeV]")

    at_start = _floats(parts(init, key_fixed))
    return {
        "n_signal_selected": len(sig.weight),
        "n_background_selected": len(bkg.weight),
        "signal_cross_section_fb": xs_s,
        "background_cross_section_fb": xs_b,
        "start": {**_floats(init), **at_start},
        "optimum": {**_floats(grad_params), **_floats(parts(grad_params, key_fixed))},
        "grid_optimum": {**grid_params, "objective": grid_best},
        "grid_gap": (grid_best - grad_best) / abs(grid_best),
        "gradient_evals": res.n_evals,
        "grid_evals": int(grid.size),
        "evals_ratio": grid.size / res.n_evals,
        "objective_gain": grad_best - at_start["objective"],
        "fresh_noise": evaluation,
        "gradient_time_s": t_grad,
        "grid_time_s": t_grid,
        "compilations": {
            "optimize": res.compilations,
            "grid": scan.compilations,
            "evaluation": parts._cache_size() + hard_parts._cache_size(),
        },
    }
