"""The typed analysis result as a contract: documented JSON schema, lossless JSON, clear errors, documented columns.

Every metrics.json here is written by the real ``insole analyze`` command from a real session file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from insole.importers import import_recording
from pipeline.analysis import MetricStatus, SessionMetrics
from pipeline.analysis.metric_catalogue import BILATERAL_METRICS, EVENT_COLUMNS, REGION_COLUMNS, SIDE_METRICS
from pipeline.analysis.result import SCHEMA_VERSION
from pipeline.cli import cli
from pipeline.errors import AnalysisError

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_recordings"
SCHEMA_FILE = ROOT / "docs" / "analysis-result.schema.json"
CONTRACT_DOC = ROOT / "docs" / "analysis-result.md"


@pytest.fixture(scope="module")
def written(tmp_path_factory, session_factory):
    """metrics.json and steps.csv written by `insole analyze` for sessions in BW, N and raw counts, one foot, and a
    failed quality gate (a 9 s walk)."""
    root = tmp_path_factory.mktemp("analyze")
    sources = {
        "bw": session_factory("neutral", 30.0, 1),
        "short": session_factory("neutral", 9.0, 3),
        "raw16": session_factory("neutral", 30.0, 1, device_params="units=raw"),
        "counts": import_recording("gaitndd", SAMPLES / "gaitndd" / "control1.hea", root / "ndd.h5"),
        "newton": import_recording("moticon", SAMPLES / "moticon" / "230927_102114.txt", root / "mot.h5"),
    }
    out = {}
    for name, src in sources.items():
        res = CliRunner().invoke(cli, ["analyze", str(src), "--json", str(root / f"{name}.json"), "--steps",
                                       str(root / f"{name}.csv")])
        assert res.exit_code == 0, res.output
        out[name] = (root / f"{name}.json", root / f"{name}.csv")
    return out


def test_the_committed_schema_and_tables_are_the_generated_ones():
    code = ("import sys, json; sys.path.insert(0, 'tools'); from analysis_schema import schema_text, document_text; "
            "print(json.dumps([schema_text(), document_text()]))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=True)
    schema, doc = json.loads(proc.stdout)
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema, "run tools/analysis_schema.py and commit"
    assert CONTRACT_DOC.read_text(encoding="utf-8") == doc, "run tools/analysis_schema.py and commit"


def test_every_metrics_json_validates_against_the_documented_schema(written):
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for name, (path, _) in written.items():
        doc = json.loads(path.read_text())
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        assert errors == [], (name, [f"{list(e.path)}: {e.message}" for e in errors[:3]])
        assert doc["schema"] == "insole-analysis" and doc["schema_version"] == SCHEMA_VERSION
    # the schema is strict enough to catch a wrong type
    doc = json.loads(written["bw"][0].read_text())
    doc["left"]["stance_time_s"]["n"] = "many"
    assert not validator.is_valid(doc)


def test_json_round_trip_is_lossless(written):
    for name, (path, _) in written.items():
        raw = path.read_bytes()
        metrics = SessionMetrics.from_json(raw)
        assert metrics.to_json() + b"\n" == raw, name
        assert SessionMetrics.from_json(metrics.to_json()) == metrics


def test_metric_names_and_presence_never_depend_on_the_units(written):
    """Every metric is present under the same name in every session; the unit is a field beside the value."""
    units = {}
    for name, (path, _) in written.items():
        m = SessionMetrics.from_json(path.read_bytes())
        for side in m.sides:
            sr = m.side(side)
            assert [x.name for x in sr.metrics()] == [s.name for s in SIDE_METRICS], name
            units[(name, side)] = sr.peak1_force.unit
            for metric in sr.metrics():
                assert (metric.status is MetricStatus.COMPUTED) == (metric.reason == ""), (name, metric)
                assert metric.status is not MetricStatus.COMPUTED or metric.n > 0
    assert units[("bw", "left")] == "BW" and units[("newton", "left")] == "N"
    assert units[("counts", "left")] == "counts" and units[("raw16", "left")] == "counts"


def test_metrics_that_cannot_be_computed_are_present_with_their_reason(written):
    ndd = SessionMetrics.from_json(written["counts"][0].read_bytes())
    for name in ("cop_path_length_pct", "cop_velocity_mm_s", "cpei_pct", "lmfi_terminal"):
        metric = ndd.left.metric(name)
        assert metric.status is MetricStatus.NOT_APPLICABLE and "one sensor" in metric.reason
        assert metric.median is None and metric.n == 0
    assert ndd.left.regions == [] and "one sensor" in ndd.left.region_rule
    short = SessionMetrics.from_json(written["short"][0].read_bytes())
    assert not short.quality.passed
    assert ndd.bilateral.symmetry.cpei_pct.status is MetricStatus.NOT_APPLICABLE


def test_steps_csv_columns_are_documented_with_units(written):
    import pandas as pd

    for name, (jpath, cpath) in written.items():
        m = SessionMetrics.from_json(jpath.read_bytes())
        steps = pd.read_csv(cpath)
        assert list(steps.columns) == [c.name for c in m.step_columns], name
        for c in m.step_columns:
            assert c.description, (name, c.name)
        units = {c.name: c.unit for c in m.step_columns}
        assert units["ic_s"] == "s" and units["impulse"] == f"{m.left.force_unit} s"
    doc = CONTRACT_DOC.read_text(encoding="utf-8")
    for spec in (*SIDE_METRICS, *BILATERAL_METRICS, *EVENT_COLUMNS):
        assert f"`{spec.name}`" in doc, f"{spec.name} is not documented in {CONTRACT_DOC.name}"
    for spec in REGION_COLUMNS:
        assert f"`REGION_{spec.name}`" in doc, spec.name


def test_bad_metrics_json_gets_a_clear_error(written, tmp_path):
    good = json.loads(written["bw"][0].read_text())
    cases = {
        "[1, 2]": "not an analysis result",
        '{"schema": "insole-report", "schema_version": 2}': "'insole-report' is not 'insole-analysis'",
        json.dumps({**good, "schema_version": SCHEMA_VERSION + 1}):
            f"schema version {SCHEMA_VERSION + 1} cannot be read",
        json.dumps({**good, "left": {**good["left"], "stance_pct": {"median": "high"}}}): "left.stance_pct",
        "{not json": "not an analysis result",
    }
    for text, message in cases.items():
        with pytest.raises(AnalysisError, match=message.replace("(", r"\(")):
            SessionMetrics.from_json(text, source="upload/metrics.json")
