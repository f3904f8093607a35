"""L1 anomaly-detection samples: Standard-Model background and BSM signals as 57-number L1 summaries."""

from __future__ import annotations

import numpy as np

#: SM background processes, in the order of the ``background`` event counts
BACKGROUNDS = ("w_lnu", "qcd_dijet", "z_ll", "ttbar")
SIGNALS = ("scalar_4l", "leptoquark", "charged_higgs", "h_tautau")


def make_events(cfg, seed: int) -> dict[str, np.ndarray]:
    """57-feature summaries ``[n, 57]`` per process name (Pythia -> CMS-like smearing -> L1 summary).

    ``cfg`` has ``background`` (events of each of :data:`BACKGROUNDS`), ``n_signal`` (events per
    signal process) and ``workers`` (Pythia processes).
    """
    from hepjax.data import generate
    from hepjax.trigger.l1_inputs import smeared_summary

    counts = dict(zip(BACKGROUNDS, cfg.background))
    counts.update({s: cfg.n_signal for s in SIGNALS})
    out = {}
    for i, (proc, n) in enumerate(counts.items()):
        s = generate(proc, n, seed + 1000 + i, workers=cfg.workers, progress=False)
        out[proc] = smeared_summary(s.particles, seed + 2000 + i)
    return out
