"""Validation of the reference cascade against Grindhammer–Peters and the sampling resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hepjax.fastsim import grindhammer_peters as gp
from hepjax.fastsim.cascade import simulate_showers
from hepjax.fastsim.geometry import CalorimeterConfig
from hepjax.plotting import figure, label, savefig


def validate_cascade(
    energies: tuple[float, ...] = (10.0, 100.0),
    n_showers: int = 20,
    *,
    seed: int = 0,
    cfg: CalorimeterConfig = CalorimeterConfig(),
    plot_path: str | Path | None = None,
) -> dict:
    """Simulate ``n_showers`` at each energy; compare with the analytic expectations.

    Returns per energy ``E``: ``mean_depth_sim/gp_E`` (X0), ``containment_1rm_sim/gp_E``,
    ``containment_2rm_sim/gp_E``, ``resolution_sim/expected_E`` (sigma/E), ``response_E``.
    """
    out: dict[str, float] = {}
    curves = []
    for e in energies:
        s = simulate_showers(np.full(n_showers, float(e)), seed=seed, cfg=cfg, profiles=True)
        t = (np.arange(s.longitudinal.shape[1]) + 0.5) * cfg.sampling_step
        lon = s.longitudinal.mean(0)
        tot = lon.sum()
        rad = s.radial.mean(0)
        visible = s.longitudinal.sum(1)
        key = f"{e:g}"
        out[f"mean_depth_sim_{key}"] = float((lon * t).sum() / tot)
        out[f"mean_depth_gp_{key}"] = gp.mean_depth(e)
        out[f"containment_1rm_sim_{key}"] = float(rad[:10].sum() / tot)
        out[f"containment_1rm_gp_{key}"] = gp.radial_containment(e, 1.0)
        out[f"containment_2rm_sim_{key}"] = float(rad[:20].sum() / tot)
        out[f"containment_2rm_gp_{key}"] = gp.radial_containment(e, 2.0)
        out[f"resolution_sim_{key}"] = float(visible.std(ddof=1) / visible.mean())
        out[f"resolution_expected_{key}"] = float(gp.sampling_resolution(e, cfg.sampling_step))
        out[f"response_{key}"] = float(visible.mean() / e)
        curves.append((e, t, lon / tot / cfg.sampling_step, rad / tot / 0.1))
    if plot_path is not None:
        fig, (ax1, ax2) = figure(2, 1)
        for e, t, lon, rad in curves:
            line = ax1.plot(t, lon, drawstyle="steps-mid", label=f"cascade {e:g} GeV")[0]
            ax1.plot(t, gp.longitudinal_profile(e, t), color=line.get_color(), ls="--", label=f"G–P {e:g} GeV")
            r = (np.arange(rad.size) + 0.5) * 0.1
            ax2.semilogy(r, rad, drawstyle="steps-mid", color=line.get_color(), label=f"cascade {e:g} GeV")
            tt = np.linspace(0, 40, 401)
            w = gp.longitudinal_profile(e, tt)
            mean_r = np.trapezoid(
                w[:, None] * gp.radial_profile(e, tt[:, None], r[None, :]), tt, axis=0
            ) / np.trapezoid(w, tt)
            ax2.semilogy(r, mean_r, color=line.get_color(), ls="--", label=f"G–P {e:g} GeV")
        ax1.set_xlabel(r"depth $t$ [$X_0$]")
        ax1.set_ylabel(r"$(1/E)\,dE/dt$ [$1/X_0$]")
        ax1.legend(fontsize=10)
        label(ax1)
        ax2.set_xlabel(r"radius $r$ [$R_M$]")
        ax2.set_ylabel(r"$(1/E)\,dE/dr$ [$1/R_M$]")
        ax2.legend(fontsize=10)
        savefig(fig, plot_path)
    return out
