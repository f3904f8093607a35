"""Benchmarks: ``hepjax bench AREA [--quick] --out F.json``; one module per area."""

from hepjax.bench.harness import list_areas, machine_info, run_area, run_in_subprocess, time_call

__all__ = ["list_areas", "machine_info", "run_area", "run_in_subprocess", "time_call"]
