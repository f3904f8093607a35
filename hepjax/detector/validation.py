"""Validation of the smearing against its parameterisation: pulls, binned resolutions, plots.

Used by ``experiments/detector_validation.py``. Host-side NumPy on the outputs of
:func:`hepjax.detector.smear`; every plot in the hepjax style (:mod:`hepjax.plotting`).
"""

from __future__ import annotations

from pathlib import Path

import jax.numpy as jnp
import numpy as np
from scipy import stats

from hepjax.data.particles import Particles
from hepjax.detector.params import DetectorParams
from hepjax.detector.response import calo_relative, edge_steps, efficiency, quadrature
from hepjax.detector.smearing import Reco, impact_parameters
from hepjax.detector.species import (
    CHARGED_HADRON,
    ELECTRON,
    MUON,
    NEUTRAL_HADRON,
    PHOTON,
)
from hepjax.kinematics import delta_phi
from hepjax.plotting import figure, label, savefig

PULL_RANGE = 5.0


def pulls(particles: Particles, reco: Reco) -> dict[str, np.ndarray]:
    """(measured − true)/σ_param of every resolution term, for the particles that carry it.

    Keys: ``pt`` (curvature: (q/pT)_reco − (q/pT)_true over σ(pT)/pT · 1/pT), ``phi``,
    ``cot_theta``, ``d0``, ``z0`` (tracked species), ``ecal`` (e, γ), ``hcal`` (hadrons).
    σ_param is the per-particle parameterised resolution the smearing reports in ``reco``.
    """
    p = Particles(*(np.asarray(x) for x in particles))
    r = Reco(*(np.asarray(x) for x in reco))
    m = p.mask
    trk = m & np.isin(r.species, (CHARGED_HADRON, ELECTRON, MUON))
    d0, z0 = (np.asarray(x) for x in impact_parameters(p))
    e_true = np.sqrt(p.mass.astype(np.float64) ** 2 + (p.pt * np.cosh(p.eta.astype(np.float64))) ** 2)
    pt = p.pt.astype(np.float64)
    out = {
        "pt": (
            (r.charge / np.where(r.pt > 0, r.pt, 1) - p.charge / np.where(pt > 0, pt, 1))
            * pt
            / np.where(r.sigma_pt_rel > 0, r.sigma_pt_rel, 1)
        )[trk],
        "phi": delta_phi(r.phi, p.phi)[trk] / r.sigma_phi[trk],
        "cot_theta": (np.sinh(r.eta.astype(np.float64)) - np.sinh(p.eta.astype(np.float64)))[trk]
        / r.sigma_cot_theta[trk],
        "d0": (r.d0 - d0)[trk] / r.sigma_d0[trk],
        "z0": (r.z0 - z0)[trk] / r.sigma_z0[trk],
    }
    ecal = m & np.isin(r.species, (ELECTRON, PHOTON)) & (r.sigma_ecal > 0)
    hcal = m & np.isin(r.species, (CHARGED_HADRON, NEUTRAL_HADRON)) & (r.sigma_hcal > 0)
    out["ecal"] = (r.ecal_e - e_true)[ecal] / r.sigma_ecal[ecal]
    out["hcal"] = (r.hcal_e - e_true)[hcal] / r.sigma_hcal[hcal]
    return out


def fit_gaussian(x: np.ndarray) -> dict[str, float]:
    """Maximum-likelihood N(μ, σ) fit of the values within ±5 (σ of the pull scale).

    Returns ``mean, width, mean_err, width_err, n`` (errors: σ/√n and σ/√(2n)).
    """
    x = np.asarray(x, np.float64)
    x = x[np.isfinite(x) & (np.abs(x) < PULL_RANGE)]
    if x.size < 2:
        return {
            "mean": float("nan"),
            "width": float("nan"),
            "mean_err": float("nan"),
            "width_err": float("nan"),
            "n": int(x.size),
        }
    mu, sd = stats.norm.fit(x)
    return {
        "mean": float(mu),
        "width": float(sd),
        "mean_err": float(sd / np.sqrt(x.size)),
        "width_err": float(sd / np.sqrt(2 * x.size)),
        "n": int(x.size),
    }


def binned_width(x: np.ndarray, residual: np.ndarray, edges: np.ndarray, *, min_count: int = 20):
    """Per bin of ``x``: the RMS of ``residual`` (after dropping > 5·IQR outliers) and its error.

    Returns ``(centres, width, width_err)``; bins with fewer than ``min_count`` entries are NaN.
    """
    centres = np.sqrt(edges[1:] * edges[:-1])
    width = np.full(len(centres), np.nan)
    err = np.full(len(centres), np.nan)
    idx = np.digitize(x, edges) - 1
    for k in range(len(centres)):
        v = residual[idx == k]
        if v.size < min_count:
            continue
        q1, q3 = np.percentile(v, [25, 75])
        med = np.median(v)
        v = v[np.abs(v - med) < 5 * max(q3 - q1, 1e-12)]
        width[k] = v.std()
        err[k] = width[k] / np.sqrt(2 * v.size)
    return centres, width, err


def param_curve(params: DetectorParams, kind: str, x: np.ndarray, eta: float, row: int = 0) -> np.ndarray:
    """The parameterised relative resolution at |η| = ``eta`` vs ``x`` (pT or E in GeV).

    ``kind``: ``"tracker"`` (σ(pT)/pT, species ``row``), ``"ecal"`` or ``"hcal"`` (σ(E)/E).
    """
    x = jnp.asarray(x, jnp.float32)
    eta_arr = jnp.full(x.shape, abs(eta), jnp.float32)
    kw = dict(hard=True, temperature=1.0)
    if kind == "tracker":
        w = edge_steps(eta_arr, params.tracker.pt.eta_edges, params.edge_width, **kw)
        return np.asarray(quadrature(params.tracker.pt, x, w, jnp.full(x.shape, row)))
    calo = params.ecal if kind == "ecal" else params.hcal
    w = edge_steps(eta_arr, calo.resolution.eta_edges, params.edge_width, **kw)
    return np.asarray(calo_relative(calo.resolution, x, w))


def param_efficiency(
    params: DetectorParams, pt: np.ndarray, eta: float, row: int, *, hard: bool, temperature: float = 1.0
):
    """Tracking efficiency (turn-on × plateau) of species ``row`` at |η| = ``eta`` vs pT."""
    pt = jnp.asarray(pt, jnp.float32)
    e = jnp.full(pt.shape, abs(eta), jnp.float32)
    w = edge_steps(e, params.tracker.efficiency.eta_edges, params.edge_width, hard=hard, temperature=temperature)
    return np.asarray(
        efficiency(params.tracker.efficiency, pt, w, jnp.full(pt.shape, row), hard=hard, temperature=temperature)
    )


def plot_pulls(pull: dict[str, np.ndarray], fits: dict[str, dict], path: Path) -> Path:
    """One panel per term: pull histogram, N(0,1) and the fitted Gaussian."""
    names = list(pull)
    ncols = 4
    nrows = (len(names) + ncols - 1) // ncols
    fig, axes = figure(ncols=ncols, nrows=nrows, squeeze=False)
    xs = np.linspace(-PULL_RANGE, PULL_RANGE, 201)
    bins = np.linspace(-PULL_RANGE, PULL_RANGE, 51)
    for ax, name in zip(axes.ravel(), names):
        v = pull[name]
        ax.hist(v, bins=bins, density=True, histtype="step", lw=1.5, label=f"pulls (n={v.size})")
        ax.plot(xs, stats.norm.pdf(xs), "k--", label="N(0, 1)")
        f = fits[name]
        ax.plot(
            xs, stats.norm.pdf(xs, f["mean"], f["width"]), "r-", lw=1, label=f"fit μ={f['mean']:.3f} σ={f['width']:.3f}"
        )
        ax.set_xlabel(f"pull {name}")
        ax.set_yscale("log")
        ax.set_ylim(1e-5, 1.0)
        ax.legend(fontsize=9, loc="lower center")
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    label(axes.ravel()[0])
    return savefig(fig, path)


def plot_resolution(curves: list[dict], path: Path, *, xlabel: str, ylabel: str) -> Path:
    """Measured relative resolution points with the parameterisation curve overlaid.

    Each curve dict: ``x, width, err`` (binned measurement), ``x_line, line`` (parameterisation),
    ``label``.
    """
    fig, ax = figure()
    for i, c in enumerate(curves):
        color = f"C{i}"
        ax.errorbar(c["x"], c["width"], yerr=c["err"], fmt="o", color=color, ms=4, label=f"{c['label']} (smeared)")
        ax.plot(c["x_line"], c["line"], "-", color=color, lw=1, label=f"{c['label']} (parameterisation)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=9)
    label(ax)
    return savefig(fig, path)


def plot_efficiency(curves: list[dict], path: Path, *, xlabel: str) -> Path:
    """Measured efficiency (fraction of ``mask``) with the exact and soft parameterisations."""
    fig, ax = figure()
    for i, c in enumerate(curves):
        color = f"C{i}"
        ax.errorbar(c["x"], c["eff"], yerr=c["err"], fmt="o", color=color, ms=4, label=f"{c['label']} (sampled)")
        ax.plot(c["x_line"], c["hard"], "-", color=color, lw=1, label=f"{c['label']} (exact cut)")
        ax.plot(c["x_line"], c["soft"], ":", color=color, lw=1.5, label=f"{c['label']} (soft, T=1)")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("tracking efficiency")
    ax.legend(fontsize=9)
    label(ax)
    return savefig(fig, path)


def binned_fraction(x: np.ndarray, passed: np.ndarray, edges: np.ndarray):
    """Per bin of ``x``: the fraction ``passed`` and its binomial error; ``(centres, frac, err)``."""
    centres = np.sqrt(edges[1:] * edges[:-1])
    idx = np.digitize(x, edges) - 1
    n = np.array([np.sum(idx == k) for k in range(len(centres))], np.float64)
    k = np.array([np.sum(passed[idx == j]) for j in range(len(centres))], np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = k / n
        err = np.sqrt(frac * (1 - frac) / n)
    return centres, frac, err
