"""Fixed layouts of the report figures: every axes placed by a rectangle in inches, sized from the text it must hold.

Why: ``savefig(bbox_inches="tight")`` and ``Figure.tight_layout()`` each lay the whole figure out (every text
measured, every tick made) before the real drawing, so a figure was drawn about twice and the ten figures of a
report cost about 1.9 s whatever the session's length (issue 15). Here the margins come from the font's metrics of
the few strings that decide them (tick labels, titles, colour-bar labels), measured without drawing, and the figure
is drawn once. Every figure is a new :class:`matplotlib.figure.Figure` (no pyplot, nothing global to close), so no
state passes from one report to the next.

Sizes are in inches (the SVG is written in points, 72 per inch); font sizes in points.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import text_to_path

#: Space between a tick label and the axis: tick length + pad, both matplotlib's default 3.5 pt (rcParams
#: ``ytick.major.size``, ``ytick.major.pad``).
TICK_ROOM_PT = 7.0
#: Space between tick labels and an axis label (matplotlib's default ``axes.labelpad``, 4 pt).
LABEL_PAD_PT = 4.0
#: Line spacing as a share of the font size (matplotlib's default ``text.linespacing``).
LINE_HEIGHT = 1.2
#: Height of one line of text as matplotlib lays it out, as a share of the font size: ascent of the tallest glyph
#: to descent of the lowest (brackets: 1.37 in DejaVu Sans, measured with the Agg renderer).
LINE_BOX = 1.4
#: Slack added to every measured margin (inches): anti-aliasing and rounding must never clip a glyph.
SLACK_IN = 0.04


def text_width_in(texts: Sequence[str], size_pt: float | str) -> float:
    """Width of the widest line of ``texts`` set in the current font at ``size_pt`` (inches), without drawing.

    ``size_pt`` may be a relative size (``"medium"``: the current ``font.size``). Uses the same font metrics as
    the SVG backend (``matplotlib.textpath.text_to_path``); 0 for no text.
    """
    prop = FontProperties(size=size_pt)
    lines = [line for t in texts for line in str(t).split("\n") if line]
    if not lines:
        return 0.0
    return max(text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0] for line in lines) / 72.0


def font_size_pt(size: float | str) -> float:
    """A font size in points (``"medium"``, ``"small"``... resolved against the current ``font.size``)."""
    return float(FontProperties(size=size).get_size_in_points())


def lines_height_in(n_lines: int, size_pt: float | str) -> float:
    """Height of ``n_lines`` lines of text at ``size_pt`` (inches): line spacing between them, a line box for the
    last."""
    return (max(n_lines - 1, 0) * LINE_HEIGHT + LINE_BOX) * font_size_pt(size_pt) / 72.0 if n_lines else 0.0


class InchLayout:
    """A new figure of ``width_in`` x ``height_in`` inches whose axes are placed by rectangles in inches.

    :meth:`place` can move an axes once what it holds has been measured (tick labels follow the data), and
    :meth:`resize` changes the figure's size keeping every rectangle. The figure is not registered with pyplot.
    """

    def __init__(self, width_in: float, height_in: float) -> None:
        self.fig = Figure(figsize=(width_in, height_in))
        self._rects: dict[Axes, tuple[float, float, float, float]] = {}

    def axes(self, left_in: float, bottom_in: float, width_in: float, height_in: float, **kwargs: Any) -> Axes:
        """A new axes at a rectangle in inches from the figure's bottom-left corner (``kwargs``: ``add_axes``)."""
        ax = self.fig.add_axes((0.0, 0.0, 1.0, 1.0), **kwargs)
        self.place(ax, left_in, bottom_in, width_in, height_in)
        return ax

    def place(self, ax: Axes, left_in: float, bottom_in: float, width_in: float, height_in: float) -> None:
        """Put ``ax`` at a rectangle in inches from the figure's bottom-left corner."""
        self._rects[ax] = (left_in, bottom_in, width_in, height_in)
        w, h = self.fig.get_size_inches()
        ax.set_position((left_in / w, bottom_in / h, width_in / w, height_in / h))

    def rect(self, ax: Axes) -> tuple[float, float, float, float]:
        """Where ``ax`` was placed: (left, bottom, width, height) in inches."""
        return self._rects[ax]

    def resize(self, width_in: float, height_in: float) -> None:
        """Change the figure's size; every axes keeps its rectangle in inches."""
        self.fig.set_size_inches(width_in, height_in)
        for ax, rect in self._rects.items():
            self.place(ax, *rect)


def tick_labels(ax: Axes, axis: str = "y") -> list[str]:
    """The major tick labels ``ax`` will draw on ``axis`` with its current limits (locator and formatter as drawn)."""
    a = ax.yaxis if axis == "y" else ax.xaxis
    locs = np.asarray(a.get_majorticklocs(), float)
    labels = a.get_major_formatter().format_ticks(locs)
    lo, hi = sorted(ax.get_ylim() if axis == "y" else ax.get_xlim())
    tol = 1e-9 * max(1.0, abs(hi - lo))
    return [s for s, v in zip(labels, locs, strict=True) if lo - tol <= v <= hi + tol]


def y_label_room_in(ax: Axes, label_size_pt: float | str | None = "medium",
                    tick_size_pt: float | str | None = None) -> float:
    """Room left of ``ax`` for its y tick labels (at ``ytick.labelsize`` unless given) and, unless
    ``label_size_pt`` is None, a one-line y label."""
    size = tick_size_pt if tick_size_pt is not None else rcParams["ytick.labelsize"]
    room = text_width_in(tick_labels(ax, "y"), size) + TICK_ROOM_PT / 72.0
    if label_size_pt is not None:
        room += LABEL_PAD_PT / 72.0 + lines_height_in(1, label_size_pt)
    return room + SLACK_IN


def y_label_overhang_in(label: str, label_size_pt: float | str, axes_h_in: float) -> float:
    """How far a y label (centred on its axes) runs past the axes' top and bottom when it is longer than the axes
    is tall (inches; 0 when it fits)."""
    return max(0.0, (text_width_in([label], label_size_pt) - axes_h_in) / 2 + 2 * SLACK_IN)


def x_label_room_in(label_lines: int = 1, label_size_pt: float | str = "medium",
                    tick_size_pt: float | str | None = None) -> float:
    """Room below an axes for one line of x tick labels (at ``xtick.labelsize`` unless given) and an x label of
    ``label_lines`` lines (none for 0)."""
    size = tick_size_pt if tick_size_pt is not None else rcParams["xtick.labelsize"]
    room = TICK_ROOM_PT / 72.0 + lines_height_in(1, size)
    if label_lines:
        room += LABEL_PAD_PT / 72.0 + lines_height_in(label_lines, label_size_pt)
    return room + SLACK_IN


#: Space between a title and its axes (matplotlib's default ``axes.titlepad``, 6 pt).
TITLE_PAD_PT = 6.0


def foot_panels(titles: Sequence[str], title_size_pt: float, *, axes_h_in: float, below_in: float = 0.0,
                min_col_in: float = 0.0, aspect: float = 0.42) -> tuple[InchLayout, list[Axes]]:
    """One column per foot drawing, titled: each column as wide as its axes (``aspect`` x ``axes_h_in``, an
    upper bound of the outline's width over its length) or its widest title line, whichever is wider, and at least
    ``min_col_in``; ``below_in`` left free under the axes (for a note or a legend).

    The axes have equal scales, so each drawing keeps its height and is centred in its column.
    """
    col = max(aspect * axes_h_in + 0.2, text_width_in(titles, title_size_pt) + 0.15, min_col_in)
    n_lines = max((str(t).count("\n") + 1 for t in titles), default=1)
    top = lines_height_in(n_lines, title_size_pt) + TITLE_PAD_PT / 72.0 + SLACK_IN
    layout = InchLayout(col * len(titles), below_in + axes_h_in + top)
    axes = [layout.axes(i * col, below_in, col, axes_h_in) for i in range(len(titles))]
    return layout, axes


def legend_size_in(labels: Sequence[str], size_pt: float | str, ncol: int) -> tuple[float, float]:
    """Width and height (inches) of a frameless legend of ``labels`` in ``ncol`` columns (split as matplotlib
    splits them: ``np.array_split``), from matplotlib's default legend spacings (``legend.borderpad`` 0.4,
    ``labelspacing`` 0.5, ``handlelength`` 2.0, ``handletextpad`` 0.8, ``columnspacing`` 2.0, ``borderaxespad``
    0.5, in font sizes)."""
    fs = font_size_pt(size_pt) / 72.0
    columns = [list(c) for c in np.array_split(np.asarray(labels, dtype=object), ncol) if len(c)]
    rows = max((len(c) for c in columns), default=0)
    width = sum(text_width_in(c, size_pt) + (2.0 + 0.8) * fs for c in columns) + 2.0 * fs * max(0, len(columns) - 1)
    height = rows * (LINE_HEIGHT + 0.5) * fs - 0.5 * fs
    return width + 2 * 0.4 * fs + SLACK_IN, height + 2 * (0.4 + 0.5) * fs + SLACK_IN
