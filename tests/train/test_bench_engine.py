"""`hepjax bench engine --quick` writes its JSON report."""

import json


def test_bench_engine_quick_writes_report(tmp_path):
    from hepjax.bench import list_areas, run_area

    assert "engine" in list_areas()
    out = tmp_path / "engine.json"
    report = run_area("engine", quick=True, out=out)
    on_disk = json.loads(out.read_text())
    assert on_disk["area"] == "engine" and on_disk == json.loads(json.dumps(report, default=float))
    assert {"cpu", "devices", "jax_version"} <= on_disk["machine"].keys()
    m = on_disk["metrics"]
    assert m["examples_per_s_1dev"] > 0 and m["examples_per_s_8hostdev"] > 0
    assert on_disk["ratios"]["sharded8_vs_1dev"] > 0
