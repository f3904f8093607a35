"""Figures of the detector validation: calorimeter cells, a tracker event display, the jet pT response."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from hepjax.data import JetConfig, cluster_from_config, delta_r
from hepjax.data.particles import Particles
from hepjax.detector.tracker import TrackerGeometry, simulate_event_hits
from hepjax.plotting import figure, label, savefig


def calo_display(r, params, event: int, workdir: Path) -> None:
    """``calo_cells.png``: ECAL and HCAL cell energies (GeV) of event ``event`` of the smeared ``r``, in (φ, η)."""
    fig, axes = figure(ncols=2)
    for ax, name in zip(axes, ("ecal", "hcal")):
        grid = getattr(params, name).grid
        cells = np.asarray(getattr(r, f"{name}_cells")[event])
        i, j = np.nonzero(cells > 0)  # cells as markers: 0.0174-wide ECAL crystals vanish in an image
        eta_c = -grid.eta_max + (i + 0.5) * grid.d_eta
        phi_c = -np.pi + (j + 0.5) * grid.d_phi
        e = cells[i, j]
        im = ax.scatter(phi_c, eta_c, c=e, s=6 + 10 * np.log1p(e), cmap="viridis", norm="log", marker="s")
        fig.colorbar(im, ax=ax, label=f"{name.upper()} cell E [GeV] ({grid.n_eta}x{grid.n_phi} cells)")
        ax.set_xlim(-np.pi, np.pi)
        ax.set_ylim(-grid.eta_max, grid.eta_max)
        ax.set_xlabel(r"$\phi$ [rad]")
        ax.set_ylabel(r"$\eta$")
        label(ax)
    savefig(fig, workdir / "calo_cells.png")


def event_display(p: Particles, event: int, geometry: TrackerGeometry, seed: int, min_pt: float, workdir: Path) -> dict:
    """``event_display.png``: tracker hits of event ``event`` (charged particles with pT >= ``min_pt`` GeV).

    Left: x-y (mm), right: r-z (mm), one colour per particle, noise hits as grey crosses. Returns the
    number of hits, of charged particles drawn, and the hit-simulation rate (hits per second).
    """
    one = Particles(*(x[event] for x in p))
    one = one._replace(mask=one.mask & (one.pt >= min_pt))
    t0 = time.perf_counter()
    hits = simulate_event_hits(one, geometry, seed)
    dt = time.perf_counter() - t0
    fig, (a1, a2) = figure(ncols=2)
    sig = hits.particle_id >= 0
    for ax, (x, y, xl, yl) in ((a1, (hits.x, hits.y, "x [mm]", "y [mm]")), (a2, (hits.z, hits.r, "z [mm]", "r [mm]"))):
        for pid in np.unique(hits.particle_id[sig]):  # hits are sorted by particle, then along the trajectory
            h = hits.particle_id == pid
            ax.plot(
                np.r_[0.0, x[h]] if ax is a1 else np.r_[one.vz[pid], x[h]],
                np.r_[0.0, y[h]],
                color=f"C{pid % 10}",
                lw=0.4,
                alpha=0.6,
            )
        ax.scatter(x[sig], y[sig], c=[f"C{i % 10}" for i in hits.particle_id[sig]], s=4, label="particle hits")
        ax.scatter(x[~sig], y[~sig], c="grey", marker="x", s=6, label="noise hits")
        ax.set_xlabel(xl)
        ax.set_ylabel(yl)
        label(ax)
    t = np.linspace(0, 2 * np.pi, 200)
    for rad in geometry.barrel_radii:
        a1.plot(rad * np.cos(t), rad * np.sin(t), color="0.85", lw=0.6, zorder=0)
    for rad, hl in zip(geometry.barrel_radii, geometry.barrel_half_lengths):
        a2.plot([-hl, hl], [rad, rad], color="0.85", lw=0.6, zorder=0)
    a1.set_aspect("equal")
    a1.legend(fontsize=9, loc="upper right")
    savefig(fig, workdir / "event_display.png")
    return {
        "display_hits": int(hits.n),
        "display_charged_particles": int(np.sum(one.mask & (one.charge != 0))),
        "tracker_hits_per_s": float(hits.n / max(dt, 1e-9)),
    }


def jet_response(p: Particles, det: Particles, jcfg: JetConfig, workdir: Path) -> dict:
    """Detector / particle-level pT of anti-kT jets matched within ``0.5 R``; plotted in ``jets.png``.

    ``p`` are the particle-level and ``det`` the detector-level particles (``[events, particles]``).
    Returns the number of matched jets, the median response and its IQR / 1.349 (a Gaussian width).
    """
    gen = cluster_from_config(p, jcfg)
    reco = cluster_from_config(det, jcfg)
    g_pt, g_eta, g_phi = (np.asarray(x) for x in (gen.pt, gen.eta, gen.phi))
    r_pt, r_eta, r_phi = (np.asarray(x) for x in (reco.pt, reco.eta, reco.phi))
    resp = []
    for ev in range(g_pt.shape[0]):
        for j in np.flatnonzero(np.asarray(gen.mask[ev])):
            dr = np.asarray(delta_r(g_eta[ev, j], g_phi[ev, j], r_eta[ev], r_phi[ev]))
            dr = np.where(np.asarray(reco.mask[ev]), dr, np.inf)
            k = int(np.argmin(dr)) if dr.size else -1
            if k >= 0 and dr[k] < 0.5 * jcfg.R:
                resp.append(r_pt[ev, k] / g_pt[ev, j])
    resp = np.asarray(resp)
    fig, ax = figure()
    ax.hist(resp, bins=np.linspace(0.0, 2.0, 41), histtype="step", lw=1.5, label=f"matched jets (n={resp.size})")
    ax.set_xlabel(r"$p_T^{\mathrm{det}} / p_T^{\mathrm{particle}}$")
    ax.set_ylabel("jets")
    ax.legend()
    label(ax)
    savefig(fig, workdir / "jets.png")
    if resp.size == 0:
        return {"jet_matched": 0}
    return {
        "jet_matched": int(resp.size),
        "jet_response_median": float(np.median(resp)),
        "jet_response_iqr_over_1p349": float(np.subtract(*np.percentile(resp, [75, 25])) / 1.349),
    }
