"""Reports: the self-contained HTML report and its JSON twin."""

from pipeline.report.html_report import write_report

__all__ = ["write_report"]
