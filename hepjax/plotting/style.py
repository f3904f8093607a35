"""The one plotting style of hepjax (mplhep), and a saver that closes figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mplhep

_STYLED = False


def use_style() -> None:
    global _STYLED
    if not _STYLED:
        plt.style.use(mplhep.style.ROOT)
        plt.rcParams.update({"figure.figsize": (7, 5.5), "font.size": 14, "savefig.dpi": 110})
        _STYLED = True


def figure(ncols: int = 1, nrows: int = 1, **kw):
    """``plt.subplots`` in the hepjax style."""
    use_style()
    size = kw.pop("figsize", (6.5 * ncols, 5.2 * nrows))
    return plt.subplots(nrows, ncols, figsize=size, **kw)


def label(ax, text: str = "", *, data: bool = False, rlabel: str = "√s = 13.6 TeV") -> None:
    """The hepjax corner label (not an experiment's)."""
    mplhep.label.exp_label(exp="hepjax", text=text, data=data, rlabel=rlabel, ax=ax, fontsize=13)


def savefig(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
