"""Reports: the self-contained HTML report, its JSON twin, and the before/after comparison."""

from pipeline.report.html_report import render_report_html, write_report, write_report_json
from pipeline.report.report_data import report_json

__all__ = ["render_report_html", "report_json", "write_report", "write_report_json"]
