"""``metrics.jsonl``: one JSON record per logged step, appended, never rewritten."""

from __future__ import annotations

import json
import math
from pathlib import Path


def _plain(v):
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


class MetricsLog:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def append(self, record: dict) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps({k: _plain(v) for k, v in record.items()}) + "\n")


def read_metrics(path: str | Path) -> list[dict]:
    """Records in step order; after a resume, the newest record of a repeated step wins."""
    by_step: dict[int, dict] = {}
    for line in Path(path).read_text().splitlines():
        if line.strip():
            rec = json.loads(line)
            by_step[rec.get("step", len(by_step))] = rec
    return [by_step[s] for s in sorted(by_step)]
