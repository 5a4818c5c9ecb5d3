"""First, simple HTML report (the report issue replaces it with the full, evidence-graded report)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, select_autoescape

from pipeline import __version__
from pipeline.analysis import AnalysisResult

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Insole gait report</title></head>
<body>
<h1>Insole gait report</h1>
<p>Subject: {{ subject }} &middot; software insole {{ version }}</p>
<table>
<tr><th>Side</th><th>Measure</th><th>Median</th><th>n</th></tr>
{% for side, m in sides.items() %}{% for name, s in m.items() %}
<tr><td>{{ side }}</td><td>{{ name }}</td><td>{{ "%.3f"|format(s.median) if s.median is not none else "-" }}</td>
<td>{{ s.n }}</td></tr>
{% endfor %}{% endfor %}
</table>
</body></html>
"""


def write_report(result: AnalysisResult, path: str | Path) -> Path:
    """Write the HTML report of ``result`` to ``path``."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    sides = {
        s: {k: v for k, v in result.metrics[s].items() if isinstance(v, dict) and "median" in v}
        for s in ("left", "right")
        if s in result.metrics
    }
    html = env.from_string(_TEMPLATE).render(
        subject=result.session.metadata.subject_id or "(not given)", version=__version__, sides=sides
    )
    out = Path(path)
    out.write_text(html, encoding="utf-8")
    return out
