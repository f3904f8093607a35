"""Particle-level constituents of fat jets from the cached Pythia samples (the taggers' inputs).

Example::

    sig = jet_constituents("boosted_w", 1500, 0, want_pdg=24)                     # W-matched jets
    bkg = jet_constituents("qcd_dijet", 1500, 1, settings=qcd_settings(240., 600.))
    sig.pt.shape   # (n_jets, 48)
"""

from __future__ import annotations

import numpy as np

from hepjax.data import Jets, Particles, cluster_jets, generate, match_jets_to_partons


def jet_constituents(
    process: str,
    n_events: int,
    seed: int,
    *,
    settings: tuple[str, ...] = (),
    want_pdg: int | None = None,
    radius: float = 0.8,
    pt_min: float = 300.0,
    pt_max: float = 600.0,
    eta_max: float = 2.0,
    max_constituents: int = 48,
    max_jets: int = 2,
    workers: int = 1,
) -> Particles:
    """Constituents ``[n_jets, max_constituents]`` (pT-ordered, padded) of the selected jets.

    Generates (or loads from the cache) ``n_events`` events of ``process``, clusters anti-kT
    jets of radius ``radius`` (the ``max_jets`` leading ones with pT > 0.8 ``pt_min``) and keeps
    those with ``pt_min < pT < pt_max`` GeV and ``|η| < eta_max``; with ``want_pdg`` only the
    jets matched (within ``radius``) to a parton of that ``|PDG id|`` (24: a W boson).
    """
    sample = generate(process, n_events, seed, settings=settings, workers=workers)
    jets = cluster_jets(
        sample.particles, R=radius, ptmin=0.8 * pt_min, max_jets=max_jets, max_constituents=max_constituents
    )
    return select_jets(
        jets, sample.partons, pt_min=pt_min, pt_max=pt_max, eta_max=eta_max, want_pdg=want_pdg, match_radius=radius
    )


def select_jets(
    jets: Jets,
    partons: Particles,
    *,
    pt_min: float,
    pt_max: float,
    eta_max: float,
    want_pdg: int | None = None,
    match_radius: float = 0.8,
) -> Particles:
    """Constituents ``[n_selected, max_constituents]`` of the clustered ``jets`` with ``pt_min < pT < pt_max``
    GeV and ``|η| < eta_max``; with ``want_pdg`` only those matched within ``match_radius`` to a parton of
    that ``|PDG id|``. ``jets`` must carry constituents (``max_constituents > 0``)."""
    ok = jets.mask & (jets.pt > pt_min) & (jets.pt < pt_max) & (np.abs(jets.eta) < eta_max)
    if want_pdg is not None:
        ok &= np.abs(match_jets_to_partons(jets, partons, dr=match_radius)) == want_pdg
    return Particles(*(np.asarray(x)[ok] for x in jets.constituents))
