"""Training curves from ``metrics.jsonl``."""

from __future__ import annotations

from pathlib import Path

from hepjax.plotting.style import figure, savefig
from hepjax.train.metrics_log import read_metrics


def plot_training_curves(metrics_path: str | Path, out: str | Path, keys: tuple[str, ...] = ("loss",)) -> Path:
    """Plot each of ``keys`` (train and, when logged, ``val_`` counterparts) against the step."""
    recs = read_metrics(metrics_path)
    fig, axes = figure(ncols=len(keys), squeeze=False)
    for ax, key in zip(axes[0], keys):
        for name, style in ((key, "-"), (f"val_{key}", "o-")):
            pts = [(r["step"], r[name]) for r in recs if isinstance(r.get(name), (int, float))]
            if pts:
                ax.plot(*zip(*pts), style, label=name, ms=4)
        ax.set_xlabel("step")
        ax.set_ylabel(key)
        ax.legend()
    return savefig(fig, out)
