"""Detector validation: smear a Pythia sample and check the response against its parameterisation.

Writes to the workdir:
  pulls.png                 pull distributions of every resolution term with N(0,1) and the fit
  resolution_tracker.png    σ(pT)/pT vs pT (charged hadrons, electrons, muons; |η| < 0.5)
  resolution_calo.png       σ(E)/E vs E (ECAL: photons; HCAL: hadrons; |η| < 0.5)
  efficiency.png            tracking efficiency vs pT (barrel / endcap) with exact and soft curves
  calo_cells.png            ECAL and HCAL cell energies of one event
  event_display.png         tracker hits of one event in r–φ (x–y) and r–z
  jets.png                  detector-level / particle-level jet pT response (anti-kT)
metrics.json: fitted pull means and widths (``pull_width_<term>``), jet response, timings,
the number of ``smear`` compilations.

Run: ``hepjax run configs/detector_validation.yaml`` (tiny: ``sample.n_events=10``).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import jax
import numpy as np

from hepjax.config import RunConfig, param, section
from hepjax.data import (
    JetConfig,
    SampleConfig,
    generate_from_config,
)
from hepjax.data.particles import Particles
from hepjax.detector import cms_like, smear_checked, to_particles
from hepjax.detector import validation as val
from hepjax.detector.plots import calo_display, event_display, jet_response
from hepjax.detector.smearing import _smear_jit
from hepjax.detector.species import (
    CHARGED_HADRON,
    ELECTRON,
    MUON,
    NEUTRAL_HADRON,
    PHOTON,
)
from hepjax.detector.tracker import TrackerGeometry


@dataclasses.dataclass(frozen=True)
class SmearConfig:
    hard: bool = param(True, doc="exact cuts and nearest-cell deposition (True) or soft (False)")
    temperature: float = param(1.0, gt=0.0, doc="soft-step temperature (hard=False only)")
    n_bins: int = param(12, ge=3, doc="bins of the resolution and efficiency curves")
    display_event: int = param(0, ge=0, doc="event shown in the calorimeter and tracker displays")
    display_min_pt: float = param(0.5, ge=0.0, doc="charged particles drawn in the event display, GeV")


@dataclasses.dataclass(frozen=True)
class Config:
    sample: SampleConfig = section(SampleConfig)
    smear: SmearConfig = section(SmearConfig)
    jets: JetConfig = section(JetConfig)
    tracker: TrackerGeometry = section(TrackerGeometry)


def _np(p: Particles) -> Particles:
    return Particles(*(np.asarray(x) for x in p))


def _resolution_plots(p: Particles, r, params, cfg: SmearConfig, workdir: Path) -> dict:
    m = p.mask & (np.abs(p.eta) < 0.5)
    pt = p.pt.astype(np.float64)
    e_true = np.sqrt(p.mass.astype(np.float64) ** 2 + (pt * np.cosh(p.eta.astype(np.float64))) ** 2)
    sp = np.asarray(r.species)
    rpt = np.asarray(r.pt, np.float64)
    curv = np.where(rpt > 0, pt * np.asarray(r.charge) * p.charge / np.where(rpt > 0, rpt, 1), np.nan) - 1.0
    out = {}
    curves = []
    edges = np.geomspace(0.5, 500.0, cfg.n_bins + 1)
    x_line = np.geomspace(0.5, 500.0, 100)
    for row, (code, name) in enumerate(((CHARGED_HADRON, "charged hadrons"), (ELECTRON, "electrons"), (MUON, "muons"))):
        sel = m & (sp == code)
        x, w, err = val.binned_width(pt[sel], curv[sel], edges)
        curves.append(
            dict(
                x=x,
                width=w,
                err=err,
                x_line=x_line,
                line=val.param_curve(params, "tracker", x_line, 0.25, row),
                label=name,
            )
        )
        ok = np.isfinite(w)
        if ok.any():
            ratio = w[ok] / val.param_curve(params, "tracker", x[ok], 0.25, row)
            out[f"tracker_res_ratio_{name.split()[-1]}"] = float(np.median(ratio))
    val.plot_resolution(
        curves, workdir / "resolution_tracker.png", xlabel=r"$p_T$ [GeV]", ylabel=r"$\sigma(p_T)/p_T$ (curvature)"
    )
    edges = np.geomspace(1.0, 1000.0, cfg.n_bins + 1)
    x_line = np.geomspace(1.0, 1000.0, 100)
    curves = []
    for kind, codes, field, name in (
        ("ecal", (PHOTON,), "ecal_e", "ECAL photons"),
        ("hcal", (CHARGED_HADRON, NEUTRAL_HADRON), "hcal_e", "HCAL hadrons"),
    ):
        sel = m & np.isin(sp, codes)
        rel = np.asarray(getattr(r, field), np.float64)[sel] / e_true[sel] - 1.0
        x, w, err = val.binned_width(e_true[sel], rel, edges)
        curves.append(
            dict(x=x, width=w, err=err, x_line=x_line, line=val.param_curve(params, kind, x_line, 0.25), label=name)
        )
        ok = np.isfinite(w)
        if ok.any():
            out[f"{kind}_res_ratio"] = float(np.median(w[ok] / val.param_curve(params, kind, x[ok], 0.25)))
    val.plot_resolution(curves, workdir / "resolution_calo.png", xlabel="E [GeV]", ylabel=r"$\sigma(E)/E$")
    return out


def _efficiency_plot(p: Particles, r, params, cfg: SmearConfig, workdir: Path) -> dict:
    sp = np.asarray(r.species)
    mask = np.asarray(r.mask)
    edges = np.geomspace(0.1, 100.0, cfg.n_bins + 1)
    x_line = np.geomspace(0.1, 100.0, 200)
    curves, out = [], {}
    for name, lo, hi, centre in (("barrel |η|<1.5", 0.0, 1.5, 0.75), ("endcap 1.5<|η|<2.5", 1.5, 2.5, 2.0)):
        sel = p.mask & (sp == CHARGED_HADRON) & (np.abs(p.eta) >= lo) & (np.abs(p.eta) < hi)
        x, f, err = val.binned_fraction(p.pt[sel], mask[sel], edges)
        curves.append(
            dict(
                x=x,
                eff=f,
                err=err,
                x_line=x_line,
                label=name,
                hard=val.param_efficiency(params, x_line, centre, 0, hard=True),
                soft=val.param_efficiency(params, x_line, centre, 0, hard=False),
            )
        )
        hi_pt = sel & (p.pt > 1.0)
        if hi_pt.any():
            out[f"track_eff_plateau_{'barrel' if lo == 0 else 'endcap'}"] = float(mask[hi_pt].mean())
    val.plot_efficiency(curves, workdir / "efficiency.png", xlabel=r"charged-hadron $p_T$ [GeV]")
    return out


def run(cfg: RunConfig, workdir: Path) -> dict:
    c: Config = cfg.sections
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    params = cms_like()
    t0 = time.perf_counter()
    sample = generate_from_config(c.sample)
    t_gen = time.perf_counter() - t0
    p = _np(sample.particles)
    key = jax.random.key(cfg.seed)
    t0 = time.perf_counter()
    reco = jax.block_until_ready(smear_checked(key, p, params, hard=c.smear.hard, temperature=c.smear.temperature))
    t_smear = time.perf_counter() - t0
    reco = jax.tree_util.tree_map(np.asarray, reco)

    pull = val.pulls(p, reco)
    fits = {k: val.fit_gaussian(v) for k, v in pull.items()}
    val.plot_pulls(pull, fits, workdir / "pulls.png")
    metrics = {
        "n_events": int(p.pt.shape[0]),
        "max_particles": int(p.pt.shape[1]),
        "n_particles": int(p.mask.sum()),
        "generation_s": round(t_gen, 3),
        "smear_first_call_s": round(t_smear, 3),
        "smear_compilations": int(_smear_jit._cache_size()),
    }
    for k, f in fits.items():
        metrics[f"pull_mean_{k}"] = f["mean"]
        metrics[f"pull_width_{k}"] = f["width"]
        metrics[f"pull_mean_err_{k}"] = f["mean_err"]
        metrics[f"pull_width_err_{k}"] = f["width_err"]
        metrics[f"pull_n_{k}"] = f["n"]
    metrics.update(_resolution_plots(p, reco, params, c.smear, workdir))
    metrics.update(_efficiency_plot(p, reco, params, c.smear, workdir))
    ev = min(c.smear.display_event, p.pt.shape[0] - 1)
    calo_display(reco, params, ev, workdir)
    metrics.update(event_display(p, ev, c.tracker, cfg.seed, c.smear.display_min_pt, workdir))
    metrics.update(jet_response(p, to_particles(reco), c.jets, workdir))
    return metrics
