#!/usr/bin/env python3
"""Write the JSON schema of metrics.json (docs/analysis-result.schema.json) and the metric and column tables of
docs/analysis-result.md from the result types and the metric catalogue.

Run after changing pipeline/analysis/result/ or pipeline/analysis/metric_catalogue.py; tests/test_analysis_result.py
fails while the committed files differ from the generated ones.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "docs" / "analysis-result.schema.json"
CONTRACT_DOC = ROOT / "docs" / "analysis-result.md"
BEGIN, END = "<!-- begin generated tables (tools/analysis_schema.py) -->", "<!-- end generated tables -->"
NEEDS = {"nothing": "always", "both_feet": "both feet analysed",
         "cop": "cell positions known, spread along and across the foot",
         "medial_lateral": "cells known on both sides of the foot axis", "regions": "several cells at known positions",
         "imu": "an insole IMU that passes the sensor checks"}


def schema_text() -> str:
    """The schema as committed: indented, keys sorted, trailing newline."""
    sys.path.insert(0, str(ROOT))
    from pipeline.analysis.result import json_schema

    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def tables_text() -> str:
    """The generated tables of the contract document (between its markers)."""
    sys.path.insert(0, str(ROOT))
    from pipeline.analysis.metric_catalogue import BILATERAL_METRICS, EVENT_COLUMNS, REGION_COLUMNS, SIDE_METRICS

    lines = ["### Per-side metrics", "", "| name | label | unit | group | applies when | method |",
             "|---|---|---|---|---|---|"]
    lines += [f"| `{m.name}` | {m.label} | {m.unit} | {m.group} | {NEEDS[m.needs.value]} | {m.method} |"
              for m in SIDE_METRICS]
    lines += ["", "### Bilateral metrics", "", "| name | label | unit | method |", "|---|---|---|---|"]
    lines += [f"| `{m.name}` | {m.label} | {m.unit} | {m.method} |" for m in BILATERAL_METRICS]
    lines += ["", "### Per-step columns that are not metrics", "", "| column | unit | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | {c.unit} | {c.description} |" for c in EVENT_COLUMNS]
    lines += ["", "### Per-region columns (`REGION` = heel, midfoot, forefoot, toes, medial, lateral)", "",
              "| column | unit | meaning |", "|---|---|---|"]
    lines += [f"| `REGION_{c.name}` | {c.unit} | {c.description} |" for c in REGION_COLUMNS]
    return "\n".join(lines)


def document_text() -> str:
    """The contract document with its generated tables replaced by the current ones."""
    text = CONTRACT_DOC.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{tables_text()}\n{END}{tail}"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    CONTRACT_DOC.write_text(document_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE} and the tables of {CONTRACT_DOC}")
