"""The self-contained HTML session report (and its JSON twin).

One file, no network, no script: CSS and figures (SVG data URIs) are inline; every string that comes from a file
(subject id, notes, condition, device names, warnings) goes through Jinja2's autoescaping. The content is
:func:`pipeline.report.report_data.report_json`; this module adds the figures and renders the templates in
``pipeline/report/templates/``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import ChainableUndefined, Environment, PackageLoader, Undefined

from pipeline.analysis.result import AnalysisResult
from pipeline.errors import ReportError
from pipeline.report import figures, plantar_figures
from pipeline.report.norm_bar import norm_bar
from pipeline.report.report_data import report_json

#: Foot length used to draw the outline when neither the session nor the layout gives one (mm).
DEFAULT_FOOT_LENGTH_MM = 260.0


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or isinstance(value, bool | Undefined):
        return "not available"
    try:
        f = float(value)
        text = f"{f:.{digits}f}"
        return text[1:] if text.startswith("-") and float(text) == 0 else text
    except (TypeError, ValueError):
        return "not available"


def _fmt_summary(s: Mapping[str, Any] | None, digits: int = 2) -> str:
    if not isinstance(s, Mapping) or not s:
        return "not available"
    centre = s.get("mean") if s.get("mean") is not None else s.get("median")
    text = _fmt(centre, digits)
    if s.get("sd") is not None:
        text += f" \u00b1 {_fmt(s['sd'], digits)}"
    return text


def _fmt_ci(ci: Any, digits: int = 2) -> str:
    if not isinstance(ci, list | tuple) or len(ci) != 2 or ci[0] is None or ci[1] is None:
        return "not available"
    return f"{_fmt(ci[0], digits)} to {_fmt(ci[1], digits)}"


#: How a metric status reads in the report (the status values are fixed names of the typed result).
STATUS_TEXT = {"computed": "computed", "not_applicable": "not applicable", "not_computed": "not computed"}


def _status_text(status: Any) -> str:
    return STATUS_TEXT.get(str(status), "status unknown")


@cache
def environment() -> Environment:
    """The Jinja2 environment of the report templates (autoescape always on); one per process, so that each
    template is compiled once, not at every report (compiling was most of a report's rendering time)."""
    env = Environment(loader=PackageLoader("pipeline.report", "templates"), autoescape=True,
                      undefined=ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.filters["fmt_summary"] = _fmt_summary
    env.filters["fmt_ci"] = _fmt_ci
    env.filters["status_text"] = _status_text
    env.globals["norm_bar"] = norm_bar
    return env


def _foot_length_mm(result: AnalysisResult) -> float:
    fl = result.metrics.session.foot_length_mm
    if fl:
        return float(fl)
    for layout in result.layouts.values():
        if layout.foot_length_mm:
            return float(layout.foot_length_mm)
    return DEFAULT_FOOT_LENGTH_MM


def _figure(key: str, doc: Mapping[str, Any], draw, sides: list[str], missing: str = "") -> dict[str, Any]:
    """Draw a figure for the sides not withheld; record what was withheld and why (``missing``: why it may be empty)."""
    withheld = doc["withheld"].get(key)
    shown = [s for s in sides if not withheld or s not in withheld["sides"]]
    out: dict[str, Any] = {"key": key, "uri": None, "n": {}, "withheld": withheld, "missing": None}
    if not shown:
        return out
    drawn = draw(shown)
    if drawn is None:
        out["missing"] = missing or "not available: the analysis did not provide the data for this figure"
        return out
    out["uri"], out["n"] = drawn
    return out


def _not_applicable(result: AnalysisResult, metric: str) -> str:
    """``not applicable: REASON`` when ``metric`` does not apply to any recorded foot (the figure's data), else ""."""
    reasons = {sr.metric(metric).reason for s in result.metrics.sides if (sr := result.metrics.side(s)) is not None
               and sr.metric(metric).status == "not_applicable"}
    return f"not applicable: {reasons.pop()}" if len(reasons) == 1 else ""


def build_figures(result: AnalysisResult, doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every figure of the session report, keyed by section."""
    curves, layouts = result.curves, result.layouts
    sides = list(doc["sides"])
    foot_length = _foot_length_mm(result)
    figs = {
        "force_curves": _figure("force_curves", doc, lambda s: figures.force_curves(curves, s), sides),
        "cop": _figure("cop", doc, lambda s: figures.cop_gait_lines(curves, s, foot_length), sides,
                       _not_applicable(result, "cop_path_length_pct")),
    }

    def regions(shown: list[str]):
        drawn = figures.region_map({s: doc["regions"].get(s) for s in shown}, layouts, foot_length)
        if drawn is None:
            return None
        uri, unplaced = drawn
        figs_unplaced.extend(unplaced)
        return uri, {s: (doc["steps"].get(s) or {}).get("valid") for s in shown}

    figs_unplaced: list[str] = []
    no_regions = {sr.region_rule for s in result.metrics.sides if (sr := result.metrics.side(s)) is not None
                  and sr.analysed and not sr.regions}
    figs["regions"] = _figure("regions", doc, regions, sides,
                              f"not applicable: {no_regions.pop()}" if len(no_regions) == 1 else "")
    figs["regions"]["unplaced"] = figs_unplaced

    def symmetry(_shown: list[str]):
        rows = [r for r in doc["symmetry"] if r.get("in_chart")]
        uri = figures.symmetry_chart(rows)
        if uri is None:
            return None
        counted = [r for r in rows if r.get("n_left") is not None and r.get("n_right") is not None]
        n = {"left": int(max(r["n_left"] for r in counted)), "right": int(max(r["n_right"] for r in counted))} \
            if counted else {}
        return uri, n

    figs.update(plantar_figures.report_figures(result, doc, _figure))
    figs["symmetry"] = _figure("symmetry", doc, symmetry, sides if len(sides) == 2 else [])
    if len(sides) < 2:
        figs["symmetry"]["missing"] = "not available: symmetry needs both feet"
    return figs


def render_report_html(result: AnalysisResult, doc: Mapping[str, Any] | None = None) -> str:
    """The HTML text of the session report of ``result``."""
    doc = doc or report_json(result)
    return environment().get_template("report.html.j2").render(doc=doc, figs=build_figures(result, doc))


def _write_text(path: str | os.PathLike[str], text: str) -> Path:
    out = Path(path)
    if out.is_dir():
        raise ReportError(f"{out}: is a folder; give a file name for the report (e.g. {out / 'report.html'})")
    if not out.parent.exists():
        raise ReportError(f"{out}: folder {out.parent} does not exist; create it or choose another path")
    tmp = out.with_name(out.name + ".partial")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ReportError(f"{out}: cannot write the report ({exc.strerror or exc})") from exc
    return out


def write_report(result: AnalysisResult, path: str | os.PathLike[str]) -> Path:
    """Write the self-contained HTML report of ``result`` to ``path`` (atomically); return the path."""
    return _write_text(path, render_report_html(result))


def write_report_json(result: AnalysisResult, path: str | os.PathLike[str]) -> Path:
    """Write :func:`report_json` of ``result`` to ``path`` as indented JSON; return the path."""
    return _write_text(path, json.dumps(report_json(result), indent=2, allow_nan=False))
