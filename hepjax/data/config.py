"""Config sections for experiments that generate events and cluster jets.

Embed them in an experiment's ``Config`` (``sample: SampleConfig = section(SampleConfig)``,
``jets: JetConfig = section(JetConfig)``) and call :func:`generate_from_config` /
:func:`cluster_from_config`, so every experiment describes its sample the same way in YAML::

    sample:
      process: boosted_w
      n_events: 2000
      seed: 3
      settings: ["Tune:pp = 14"]
      workers: 2
    jets: {R: 0.8, ptmin: 200.0, max_jets: 2, max_constituents: 100}
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np

from hepjax.config.schema import CrossFieldError, param

from .generate import DEFAULT_CHUNK_SIZE, generate
from .jets import ALGORITHMS, Jets, cluster_jets
from .particles import Particles
from .processes import PROCESSES
from .sample import EventSample


@dataclasses.dataclass(frozen=True)
class SampleConfig:
    """Arguments of :func:`hepjax.data.generate` (see there for units and meaning)."""

    process: Literal[tuple(sorted(PROCESSES))] = param("z_ll", doc="named Pythia process")
    n_events: int = param(1000, ge=1)
    seed: int = param(0, ge=0, doc="generation seed (same seed -> same events)")
    settings: tuple[str, ...] = param((), doc="extra Pythia 'Key = value' strings")
    sqrt_s: float = param(13600.0, gt=0.0, doc="centre-of-mass energy, GeV")
    workers: int = param(1, ge=1, doc="generation processes")
    max_particles: int | None = param(None, ge=1, doc="pad/truncate final-state particles to this")
    cache_dir: str | None = param(None, doc="sample cache; default $HEPJAX_CACHE_DIR or ~/.cache/hepjax")
    chunk_size: int = param(DEFAULT_CHUNK_SIZE, ge=1, doc="events per independently seeded chunk")
    file: str | None = param(
        None,
        doc="read the first n_events from this HepMC3 / ROOT / parquet file instead of running Pythia "
        "(needs hepjax[io]; process, seed and settings are then unused)",
    )


@dataclasses.dataclass(frozen=True)
class JetConfig:
    """Arguments of :func:`hepjax.data.cluster_jets`."""

    R: float = param(0.4, gt=0.0, lt=10.0, doc="jet radius")
    ptmin: float = param(20.0, ge=0.0, doc="minimum jet pT, GeV")
    algorithm: Literal[ALGORITHMS] = param("antikt")
    max_jets: int = param(10, ge=1)
    max_constituents: int = param(0, ge=0, doc="0: no constituent arrays")


def check_jet_threshold(jets: JetConfig, jet_pt_min: float, *, section: str = "data") -> None:
    """A study's ``Config.validate`` rule: jets are clustered above ``jets.ptmin``, so the
    selection's ``<section>.jet_pt_min`` must not lie below it (an error naming both keys)."""
    if jets.ptmin > jet_pt_min:
        raise CrossFieldError(
            ("jets.ptmin", f"{section}.jet_pt_min"),
            f"jets are clustered above jets.ptmin, so it must not exceed the selection's {section}.jet_pt_min",
        )


def require_partons(sample: EventSample, cfg: SampleConfig, why: str) -> None:
    """A clear :class:`~hepjax.errors.DataError` when ``cfg.file`` gave no partons but ``why`` needs them."""
    if cfg.file is not None and not np.asarray(sample.partons.mask).any():
        from hepjax.errors import DataError

        raise DataError(
            f"{cfg.file}: holds no partons, and {why} needs them (HepMC3 and external ROOT files carry the final "
            "state only; a parquet or hepjax ROOT file written by hepjax.io keeps the partons)"
        )


def generate_from_config(cfg: SampleConfig, *, progress: bool = True) -> EventSample:
    """:func:`generate` with the fields of a :class:`SampleConfig`, or the events of its ``file``."""
    if cfg.file is not None:
        return _from_file(cfg)
    kwargs = dataclasses.asdict(cfg)
    kwargs.pop("file")
    return generate(
        kwargs.pop("process"),
        kwargs.pop("n_events"),
        kwargs.pop("seed"),
        progress=progress,
        **{**kwargs, "settings": tuple(cfg.settings)},
    )


def _from_file(cfg: SampleConfig) -> EventSample:
    """The first ``cfg.n_events`` of ``cfg.file`` (particles truncated to ``cfg.max_particles`` if set)."""
    from hepjax.errors import DataError
    from hepjax.io import read_events  # the io extra; hepjax.io imports hepjax.data, so not at module level

    sample = read_events(cfg.file)
    n = len(sample.weights)
    if n < cfg.n_events:
        raise DataError(f"{cfg.file}: holds {n} events, the config asks for n_events={cfg.n_events}")

    def cut(p: Particles) -> Particles:  # first n_events; particles padded (zeros, mask False) or cut to the width
        width = p.mask.shape[-1] if cfg.max_particles is None else cfg.max_particles
        pad = ((0, 0), (0, max(width - p.mask.shape[-1], 0)))
        return Particles(*(np.pad(np.asarray(x)[: cfg.n_events, :width], pad) for x in p))

    info = {**sample.info, "n_events": cfg.n_events, "source_file": str(cfg.file)}
    return EventSample(cut(sample.particles), cut(sample.partons), np.asarray(sample.weights)[: cfg.n_events], info)


def cluster_from_config(particles: Particles, cfg: JetConfig) -> Jets:
    """:func:`cluster_jets` with the fields of a :class:`JetConfig`."""
    return cluster_jets(particles, **dataclasses.asdict(cfg))
