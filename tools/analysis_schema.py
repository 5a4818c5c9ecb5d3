#!/usr/bin/env python3
"""Write the JSON schema of metrics.json (docs/analysis-result.schema.json) from the result types.

Run after changing pipeline/analysis/result.py or the metric catalogue; tests/test_analysis_result.py fails while
the committed schema differs from the generated one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_FILE = ROOT / "docs" / "analysis-result.schema.json"


def schema_text() -> str:
    """The schema as committed: indented, keys sorted, trailing newline."""
    sys.path.insert(0, str(ROOT))
    from pipeline.analysis.result import json_schema

    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_FILE}")
