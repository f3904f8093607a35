"""Particle-level constituents of fat jets from the cached Pythia samples (the taggers' inputs).

Example::

    from hepjax.data import JetConfig, SampleConfig, qcd_settings
    fat = JetConfig(R=0.8, ptmin=240.0, max_jets=2, max_constituents=48)
    sig = jet_constituents(SampleConfig("boosted_w", 1500, 0), fat, want_pdg=24)   # W-matched jets
    bkg = jet_constituents(SampleConfig("qcd_dijet", 1500, 1, settings=qcd_settings(240., 600.)), fat)
    sig.pt.shape   # (n_jets, 48)
"""

from __future__ import annotations

import numpy as np

from hepjax.data import (
    JetConfig,
    Particles,
    SampleConfig,
    cluster_from_config,
    generate_from_config,
    match_jets_to_partons,
    require_partons,
)


def jet_constituents(
    sample: SampleConfig,
    jets: JetConfig,
    *,
    want_pdg: int | None = None,
    pt_min: float = 300.0,
    pt_max: float = 600.0,
    eta_max: float = 2.0,
) -> Particles:
    """Constituents ``[n_jets, jets.max_constituents]`` (pT-ordered, padded) of the selected jets.

    Generates (or loads from the cache, or reads from ``sample.file``) the events of ``sample``,
    clusters the ``jets.max_jets`` leading jets of ``jets`` (pT > ``jets.ptmin``) and keeps those
    with ``pt_min < pT < pt_max`` GeV and ``|η| < eta_max``; with ``want_pdg`` only the jets matched
    (within ``jets.R``) to a parton of that ``|PDG id|`` (24: a W boson; needs the sample's partons).
    """
    events = generate_from_config(sample)
    found = cluster_from_config(events.particles, jets)
    ok = found.mask & (found.pt > pt_min) & (found.pt < pt_max) & (np.abs(found.eta) < eta_max)
    if want_pdg is not None:
        require_partons(events, sample, f"matching jets to |PDG id| {want_pdg}")
        ok &= np.abs(match_jets_to_partons(found, events.partons, dr=jets.R)) == want_pdg
    return Particles(*(np.asarray(x)[ok] for x in found.constituents))
