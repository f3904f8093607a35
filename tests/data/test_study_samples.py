"""Every study that generates events describes its samples with SampleConfig and its jets with JetConfig;
so any of its samples can come from a file (``file:``): the same pipeline as from the Pythia sample the
file was written from, and a file lacking what the study needs is a one-line DataError."""

import dataclasses
import json

import pytest

from hepjax.data import JetConfig, SampleConfig
from hepjax.errors import DataError
from hepjax.runner import load_config, run
from tests.tiny import DEMO_TINY

EVENT_STUDIES = (
    "demo",
    "tracking",
    "morphing",
    "decorrelation",
    "jet_tagging_l1",
    "l1_anomaly",
    "detector_validation",
    "design_resonance",
)
#: what a study's own sections must not redefine: it belongs to its SampleConfig / JetConfig sections
SAMPLE_KEYS = {"process", "n_events", "workers", "cache_dir", "jet_radius", "max_constituents", "settings"}


def _values(sections):
    for f in dataclasses.fields(sections):
        v = getattr(sections, f.name)
        yield from (v if isinstance(v, tuple) else (v,))


@pytest.mark.parametrize("name", EVENT_STUDIES)
def test_event_studies_take_their_samples_from_sample_config(name):
    sections = load_config(name).sections
    values = list(_values(sections))
    assert any(isinstance(v, SampleConfig) for v in values), name
    for v in values:
        if dataclasses.is_dataclass(v) and not isinstance(v, (SampleConfig, JetConfig)):
            own = {f.name for f in dataclasses.fields(v)} & SAMPLE_KEYS
            assert not own, (name, type(v).__name__, own)


def test_jets_below_the_selection_threshold_are_a_config_error():
    from hepjax.config import ConfigError

    with pytest.raises(ConfigError, match="jets.ptmin and data.jet_pt_min"):
        load_config("demo", ["jets.ptmin=350"])


def test_a_file_without_partons_cannot_feed_w_matching(tmp_path):
    pytest.importorskip("pyhepmc")
    from hepjax.io import write_hepmc3
    from tests.io.samples import random_events

    path = write_hepmc3(tmp_path / "w.hepmc3", random_events(120, seed=1))  # DEMO_TINY: signal.n_events=120
    with pytest.raises(DataError, match=r"w\.hepmc3: holds no partons, and matching jets to \|PDG id\| 24 needs"):
        run("configs/demo.yaml", [f"output_dir={tmp_path / 'out'}", *DEMO_TINY, f"signal.file={path}"])


@pytest.mark.slow  # two tiny demo runs
def test_demo_from_parquet_files_equals_demo_from_pythia(tmp_path):
    pytest.importorskip("pyarrow")
    from hepjax.data import generate_from_config, qcd_settings
    from hepjax.io import write_parquet

    c = load_config("demo", list(DEMO_TINY)).sections
    qcd = dataclasses.replace(c.background, settings=qcd_settings(0.8 * c.data.jet_pt_min, c.data.jet_pt_max))
    sig = write_parquet(tmp_path / "w.parquet", generate_from_config(c.signal, progress=False))
    bkg = write_parquet(tmp_path / "qcd.parquet", generate_from_config(qcd, progress=False))
    pythia = run("configs/demo.yaml", [f"output_dir={tmp_path / 'pythia'}", *DEMO_TINY])
    files = [f"signal.file={sig}", f"background.file={bkg}"]
    from_files = run("configs/demo.yaml", [f"output_dir={tmp_path / 'files'}", *DEMO_TINY, *files])
    a, b = (json.loads((p / "metrics.json").read_text()) for p in (pythia, from_files))
    assert a == b
