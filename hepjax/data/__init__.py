"""Events and jets: Pythia 8 samples by process name, cached on disk, and FastJet jets.

Every stage of hepjax exchanges the padded :class:`Particles` record (GeV, rad, mm).

Example (tiny sample; Pythia makes ~40-100 events/s per core)::

    from hepjax.data import generate, cluster_jets, match_jets_to_partons, qcd_settings

    sample = generate("z_ll", 20, seed=1)                      # EventSample, cached on disk
    sample.particles.pt.shape                                  # (20, P): final state, pT-ordered
    jets = cluster_jets(sample.particles, R=0.4, ptmin=20.0)   # Jets [20, 10], anti-kT
    fat = generate("boosted_w", 20, seed=1, workers=2)         # W+jet, W -> qq', pT-hat 300-600 GeV
    fj = cluster_jets(fat.particles, R=0.8, ptmin=200.0, max_jets=2, max_constituents=100)
    labels = match_jets_to_partons(fj, fat.partons, dr=0.8)    # 24 for W jets, 1-5/21 for q/g
    qcd = generate("qcd_dijet", 20, seed=2, settings=qcd_settings(300, 600))
    plot_sample(fat, "boosted_w.png", jets=fj)                 # pT, eta, multiplicity, jet mass

Experiments describe samples and jets with the config sections :class:`SampleConfig` and
:class:`JetConfig` (:func:`generate_from_config`, :func:`cluster_from_config`).

Processes: see :data:`PROCESSES` and :mod:`hepjax.data.processes`. Cache layout and reading it
with plain numpy or awkward: :mod:`hepjax.data.cache`.
"""

from .cache import CacheError, default_cache_dir
from .config import (
    JetConfig,
    SampleConfig,
    check_jet_threshold,
    cluster_from_config,
    generate_from_config,
    require_partons,
)
from .generate import DEFAULT_CHUNK_SIZE, CacheWarning, generate, read_sample
from .jets import ALGORITHMS, RESONANCES, Jets, cluster_jets, delta_r, match_jets_to_partons
from .particles import DTYPES, FIELDS, Particles, empty, pad_events
from .plots import plot_sample
from .processes import COMMON, PROCESSES, beam_spot_settings, qcd_settings
from .sample import EventSample

__all__ = [
    "ALGORITHMS",
    "COMMON",
    "CacheError",
    "CacheWarning",
    "DEFAULT_CHUNK_SIZE",
    "DTYPES",
    "EventSample",
    "FIELDS",
    "JetConfig",
    "Jets",
    "PROCESSES",
    "Particles",
    "RESONANCES",
    "SampleConfig",
    "beam_spot_settings",
    "check_jet_threshold",
    "cluster_from_config",
    "cluster_jets",
    "default_cache_dir",
    "delta_r",
    "empty",
    "generate",
    "generate_from_config",
    "match_jets_to_partons",
    "pad_events",
    "plot_sample",
    "qcd_settings",
    "require_partons",
    "read_sample",
]
