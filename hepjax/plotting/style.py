"""The one plotting style of hepjax (mplhep's ROOT style), applied inside a context, never globally.

Nothing happens at import: no backend is chosen and no ``rcParams`` change. Figures are
``matplotlib.figure.Figure`` objects drawn on the Agg canvas explicitly, so saving works headless
without ``matplotlib.use`` and without pyplot's figure registry (a notebook's backend and its open
figures are left alone).

The style is a ``matplotlib.rc_context``. ``with style(): ...`` applies it to anything drawn inside.
:func:`figure` enters the same context and :func:`savefig` leaves it when the last open hepjax
figure is saved (or garbage collected), so plot code between the two (``ax.plot``, labels,
legends, which read ``rcParams`` when they are made) is drawn in the style, and ``rcParams``
afterwards are exactly what they were before the first :func:`figure`.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from pathlib import Path

import matplotlib
import matplotlib.style
import mplhep
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Applied on top of mplhep's ROOT style: the figure size, font size and resolution of hepjax plots.
OVERRIDES = {"figure.figsize": (7, 5.5), "font.size": 14, "savefig.dpi": 110}
# ``plt.subplots`` keywords that shape the grid; every other keyword goes to ``Figure``.
_GRID_KEYS = ("sharex", "sharey", "squeeze", "width_ratios", "height_ratios", "subplot_kw", "gridspec_kw")

_open_figures: set[int] = set()  # ids of figures made by figure() and not yet saved or collected
_session: contextlib.ExitStack | None = None  # the style context those figures are drawn in


@contextlib.contextmanager
def style() -> Iterator[None]:
    """The hepjax style (mplhep ROOT + :data:`OVERRIDES`) for the duration of the ``with`` block."""
    with matplotlib.style.context(mplhep.style.ROOT), matplotlib.rc_context(OVERRIDES):
        yield


def _release(fig_id: int) -> None:
    global _session
    _open_figures.discard(fig_id)
    if not _open_figures and _session is not None:
        session, _session = _session, None
        session.close()


def figure(ncols: int = 1, nrows: int = 1, **kw):
    """A ``(Figure, axes)`` pair like ``plt.subplots``, in the hepjax style, on the Agg canvas.

    ``figsize`` (inches) defaults to 6.5 x 5.2 per panel. The style stays in effect until the
    figure is passed to :func:`savefig`.
    """
    global _session
    if _session is None:
        _session = contextlib.ExitStack()
        _session.enter_context(style())
    size = kw.pop("figsize", (6.5 * ncols, 5.2 * nrows))
    grid = {k: kw.pop(k) for k in _GRID_KEYS if k in kw}
    fig = Figure(figsize=size, **kw)
    FigureCanvasAgg(fig)  # explicit canvas: saving needs no pyplot backend
    _open_figures.add(id(fig))
    weakref.finalize(fig, _release, id(fig))  # an unsaved figure must not keep the style on
    return fig, fig.subplots(nrows, ncols, **grid)


def label(ax, text: str = "", *, data: bool = False, rlabel: str = "√s = 13.6 TeV") -> None:
    """The hepjax corner label (not an experiment's)."""
    mplhep.label.exp_label(exp="hepjax", text=text, data=data, rlabel=rlabel, ax=ax, fontsize=13)


def savefig(fig, path: str | Path) -> Path:
    """Lay out and write ``fig`` to ``path`` (parents created); return the path.

    A figure made by :func:`figure` is saved in the hepjax style and then releases it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path)
    _release(id(fig))
    return path
