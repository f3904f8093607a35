"""Shared tiny Pythia samples for the data tests (Pythia is slow: generate each once per session)."""

import pytest

from hepjax.data import generate


@pytest.fixture(scope="session")
def cache_root(tmp_path_factory):
    return tmp_path_factory.mktemp("hepjax_cache")


@pytest.fixture(scope="session")
def z_sample(cache_root):
    """40 Z -> ee/mumu events, seed 11."""
    return generate("z_ll", 40, 11, cache_dir=cache_root, progress=False)


@pytest.fixture(scope="session")
def w_jets_sample(cache_root):
    """40 boosted W + jet events (W -> qq'), seed 5."""
    return generate("boosted_w", 40, 5, cache_dir=cache_root, progress=False)
