"""The bench harness records load and threads and flags ratios measured on a busy machine."""

from __future__ import annotations

import json
import os
import sys
import types

import pytest

from hepjax.bench import harness


@pytest.fixture
def fake_area(monkeypatch):
    """A bench area ``fake`` whose run records the thread env it saw."""
    seen = {}

    def run(*, quick, scale=1.0):
        seen.update({var: os.environ.get(var) for var in harness.THREAD_ENV}, quick=quick, scale=scale)
        return {"metrics": {"t": 1.0}, "peer": {"t": 2.0}, "ratios": {"speedup": 2.0 * scale}}

    mod = types.ModuleType("hepjax.bench.fake")
    mod.run = run
    monkeypatch.setitem(sys.modules, "hepjax.bench.fake", mod)
    monkeypatch.setattr(harness, "list_areas", lambda: ["fake"])
    return seen


def test_report_records_load_and_threads_and_options(fake_area, tmp_path, monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    rep = harness.run_area("fake", quick=True, out=tmp_path / "r.json", options={"scale": 3.0})
    n = harness.bench_threads()
    assert fake_area["OMP_NUM_THREADS"] == str(n) and fake_area["scale"] == 3.0  # peers get XLA's count
    assert os.environ["OMP_NUM_THREADS"] == "7"  # and the caller's env comes back
    assert rep["ratios"] == {"speedup": 6.0} and rep["reliable"] is True and rep["warnings"] == []
    assert rep["threads"]["xla_cpu"] == n and rep["threads"]["env_before"]["OMP_NUM_THREADS"] == "7"
    assert rep["load_average"] == {"before": [0.0, 0.0, 0.0], "after": [0.0, 0.0, 0.0], "cpu_count": os.cpu_count()}
    assert json.loads((tmp_path / "r.json").read_text())["reliable"] is True


def test_ratios_under_load_above_the_core_count_are_unreliable(fake_area, tmp_path, monkeypatch):
    busy = float(os.cpu_count() + 1)
    monkeypatch.setattr(os, "getloadavg", lambda: (busy, busy, busy))
    with pytest.warns(RuntimeWarning, match="ratios marked unreliable"):
        rep = harness.run_area("fake", quick=True, out=tmp_path / "r.json")
    assert rep["reliable"] is False and "unreliable" in rep["warnings"][0]


def test_torch_gets_the_same_threads(monkeypatch):
    torch = pytest.importorskip("torch")
    old = torch.get_num_threads()
    before = harness.align_threads(1)
    try:
        assert torch.get_num_threads() == 1 and harness.peer_threads()["torch"] == 1
    finally:
        torch.set_num_threads(old)
        for var, value in before.items():
            if value is None:
                monkeypatch.delenv(var, raising=False)
            else:
                monkeypatch.setenv(var, value)


def test_experiment_metrics_runs_the_pipeline_without_the_runner(tmp_path):
    overrides = ["signal.n_events=120", "background.n_events=120", "jets.max_constituents=24", "train.steps=6"]
    overrides += ["signal.workers=1", "background.workers=1"]
    overrides += ["train.batch_size=16", "train.checkpoint_every=0", "model.width=8", "model.latent=8"]
    m = harness.experiment_metrics("demo", overrides, tmp_path / "demo")
    assert 0.0 <= m["test_auc"] <= 1.0 and m["train_compilations"] == 1
    assert json.loads(json.dumps(m)) == m  # JSON-plain, as metrics.json would hold it
    assert not (tmp_path / "demo" / "run.json").exists() and not (tmp_path / "demo" / "metrics.json").exists()
