"""Interpretation of analysis results: the evidence base and the evidence-graded back-strain findings."""

from pipeline.interpretation.evidence import LINKS, REFERENCES, STATISTICS_REFERENCES
from pipeline.interpretation.findings import FORBIDDEN_PATTERNS, build_findings, forbidden_phrases, quality_status

__all__ = [
    "FORBIDDEN_PATTERNS",
    "LINKS",
    "REFERENCES",
    "STATISTICS_REFERENCES",
    "build_findings",
    "forbidden_phrases",
    "quality_status",
]
