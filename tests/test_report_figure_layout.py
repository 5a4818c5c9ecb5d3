"""The report figures' fixed layouts (pipeline/report/figure_layout.py) on real recordings: every text a figure
draws lies inside the figure, and no text of one panel runs into a text of another panel (titles, notes under the
feet, tick and axis labels, colour bars, legends), also when only some of the steps are drawn (long sessions)."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Text

from pipeline.analysis import analyze_session, curve_summary
from pipeline.report import figures, plantar_figures
from pipeline.report.html_report import build_figures
from pipeline.report.report_data import report_json

SAMPLES = Path(__file__).resolve().parents[1] / "sample_recordings"
SESSIONS = {
    "gaitpdb": SAMPLES / "gaitpdb" / "GaCo01_01.h5",  # 8 cells per foot, force in BW, pressure in N per cell
    "simulated": SAMPLES / "simulated" / "neutral.h5",  # 16 cells, kPa
}
#: Tolerance of the inside-the-figure check (pixels at 100 dpi): glyph anti-aliasing.
EDGE_PX = 0.5


@pytest.fixture(scope="module")
def results():
    """The analysed sessions by (name, drawn limit): with a limit, analysed as a long session is, where only some
    steps are drawn (the analysis keeps the curves of the drawn steps only)."""
    out = {}
    for name, path in SESSIONS.items():
        out[name, None] = analyze_session(path)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(curve_summary, "MAX_STEPS_DRAWN", 20)
            out[name, 20] = analyze_session(path)
    return out


def _drawn_figures(result, monkeypatch) -> dict[str, Figure]:
    """Build the report's figures as the report does, keeping each Figure (keyed by the function that drew it)."""
    kept: dict[str, Figure] = {}
    real = figures._to_data_uri

    def keep(fig: Figure) -> str:
        kept[f"figure {len(kept) + 1}: {fig.axes[0].get_title() or fig.axes[0].get_ylabel() or 'untitled'}"] = fig
        return real(fig)

    monkeypatch.setattr(figures, "_to_data_uri", keep)
    monkeypatch.setattr(plantar_figures, "_to_data_uri", keep)
    figs = build_figures(result, report_json(result))
    assert len(kept) == sum(1 for f in figs.values() if f["uri"]) >= 8
    return kept


def _texts(fig: Figure) -> list[tuple[str, Text]]:
    """Every text the figure draws, with the group it belongs to (its axes, or the figure for figure legends)."""
    out: list[tuple[str, Text]] = [("figure", t) for t in fig.texts]
    for leg in fig.legends:
        out += [("figure", t) for t in leg.get_texts()]
    for i, ax in enumerate(fig.axes):
        group = f"axes {i}"
        out += [(group, t) for t in (*ax.texts, ax.title, ax._left_title, ax._right_title)]
        if ax.get_legend() is not None:
            out += [(group, t) for t in ax.get_legend().get_texts()]
        if not ax.axison:
            continue
        for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            if not axis.get_visible():
                continue
            out.append((group, axis.label))
            lo, hi = sorted(lim)
            out += [(group, tick.label1) for tick, loc in zip(axis.get_major_ticks(), axis.get_majorticklocs(),
                                                                strict=False) if lo <= loc <= hi]
    return [(g, t) for g, t in out if t.get_visible() and t.get_text().strip()]


@pytest.mark.parametrize("name", list(SESSIONS))
@pytest.mark.parametrize("drawn_limit", [None, 20])
def test_every_figure_text_is_inside_and_clear_of_the_other_panels(results, name, drawn_limit, monkeypatch):
    if drawn_limit:  # as a long session: only some steps drawn, and the figures say so on a line of their own
        monkeypatch.setattr(curve_summary, "MAX_STEPS_DRAWN", drawn_limit)
    noted = 0
    for label, fig in _drawn_figures(results[name, drawn_limit], monkeypatch).items():
        # drawn again as the SVG was: under the figures' rc settings (tick locators read the font size when drawing)
        with matplotlib.rc_context(figures._RC):
            canvas = FigureCanvasAgg(fig)
            canvas.draw()
            renderer = canvas.get_renderer()
            box = fig.bbox
            texts = [(g, t, t.get_window_extent(renderer)) for g, t in _texts(fig)]
        assert texts, label
        for _g, t, b in texts:
            assert (b.x0 >= box.x0 - EDGE_PX and b.x1 <= box.x1 + EDGE_PX and b.y0 >= box.y0 - EDGE_PX
                    and b.y1 <= box.y1 + EDGE_PX), f"{name}, {label}: {t.get_text()!r} at {b.bounds} is clipped"
        for i, (g1, t1, b1) in enumerate(texts):
            for g2, t2, b2 in texts[i + 1:]:
                if g1 != g2:
                    assert not b1.overlaps(b2), f"{name}, {label}: {t1.get_text()!r} runs into {t2.get_text()!r}"
        noted += sum(f"({drawn_limit} of " in t.get_text() for _g, t, _b in texts)
    # the CoP gait lines, the gait-line ends and the per-step force curves, once per foot
    assert noted == (6 if drawn_limit else 0)
