"""L1 anomaly-detection samples: Standard-Model background and BSM signals as 57-number L1 summaries."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from hepjax.data import SampleConfig

#: the default SM background and BSM signal processes
BACKGROUNDS = ("w_lnu", "qcd_dijet", "z_ll", "ttbar")
SIGNALS = ("scalar_4l", "leptoquark", "charged_higgs", "h_tautau")


def sample_name(sample: SampleConfig) -> str:
    """A sample's label in the metrics: its process, or its file's stem."""
    return sample.process if sample.file is None else Path(sample.file).stem


def make_events(samples: tuple[SampleConfig, ...], seed: int) -> dict[str, np.ndarray]:
    """57-feature summaries ``[n, 57]`` per sample name (Pythia or file -> CMS-like smearing -> L1 summary).

    Sample ``i`` is smeared with seed ``seed + 2000 + i``.
    """
    from hepjax.data import generate_from_config
    from hepjax.errors import ConfigError
    from hepjax.trigger.l1_inputs import smeared_summary

    out = {}
    for i, sample in enumerate(samples):
        name = sample_name(sample)
        if name in out:
            raise ConfigError(f"two samples are named {name!r}: the metrics need one name per sample")
        s = generate_from_config(sample, progress=False)
        out[name] = smeared_summary(s.particles, seed + 2000 + i)
    return out
