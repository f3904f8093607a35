"""Training curves from the records of ``metrics.jsonl``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from hepjax.plotting.style import figure, savefig


def plot_training_curves(records: Sequence[dict], out: str | Path, keys: tuple[str, ...] = ("loss",)) -> Path:
    """Plot each of ``keys`` (train and, when logged, ``val_`` counterparts) against the step.

    ``records``: one dict per logged step with a ``"step"`` entry, in step order (as
    :func:`hepjax.train.metrics_log.read_metrics` returns them; plotting reads no files itself so
    that it imports nothing of hepjax).
    """
    fig, axes = figure(ncols=len(keys), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for name, fmt in ((key, "-"), (f"val_{key}", "o-")):
            pts = [(r["step"], r[name]) for r in records if isinstance(r.get(name), (int, float))]
            if pts:
                ax.plot(*zip(*pts), fmt, label=name, ms=4)
        ax.set_xlabel("step")
        ax.set_ylabel(key)
        ax.legend()
    return savefig(fig, out)
