"""The Python API: the README example runs as written, and every public entry point is documented."""

from __future__ import annotations

import importlib
import inspect
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
API_DOC = ROOT / "docs" / "python-api.md"
#: The entry points the README and docs/python-api.md promise, by module.
ENTRY_POINTS = {
    "insole": ["open_session", "read_session", "SessionMetadata", "Gap", "GapCause", "SensorLayout", "open_device",
               "import_recording", "InsoleError"],
    "insole.session": ["SessionReader", "FootInfo", "FrameBlock", "FootData", "Session"],
    "pipeline": ["analyze_session", "AnalysisParams", "AnalysisResult", "write_report", "write_c3d", "write_tables",
                 "PipelineError"],
    "pipeline.analysis": ["SessionMetrics", "Metric"],
    "pipeline.export": ["foot_signals", "FootSignals"],
}


def readme_example() -> str:
    text = README.read_text()
    m = re.search(r"<!-- python-api-example -->\n```python\n(.*?)```", text, re.S)
    assert m, "README has no python-api-example block"
    return m[1]


def test_readme_example_runs(tmp_path):
    sample = tmp_path / "sample_recordings" / "simulated"
    sample.mkdir(parents=True)
    shutil.copy(ROOT / "sample_recordings" / "simulated" / "neutral.h5", sample)
    r = subprocess.run([sys.executable, "-c", readme_example()], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "kPa 100.0 generic-16 generic" in r.stdout and "(500, 16)" in r.stdout
    assert sorted(p.name for p in (tmp_path / "api-example-tables").iterdir()) == ["cells.csv", "frames.csv",
                                                                                  "steps.csv"]


def test_foot_dataframe_view_has_time_index_and_cell_columns():
    import insole

    foot = insole.read_session(ROOT / "sample_recordings" / "simulated" / "neutral.h5").feet["right"]
    df = foot.to_dataframe()
    assert df.index.name == "time_s" and list(df.columns) == [f"cell_{i}" for i in range(1, 17)]
    np.testing.assert_array_equal(df.to_numpy(), foot.pressure)
    np.testing.assert_array_equal(df.index.to_numpy(), foot.time_s)
    assert df.attrs == {"side": "right", "units": "kPa", "sampling_rate_hz": 100.0, "layout_id": "generic-16"}


def test_every_entry_point_has_a_docstring_and_is_in_the_api_page():
    page = API_DOC.read_text()
    missing_doc, missing_page = [], []
    for module, names in ENTRY_POINTS.items():
        mod = importlib.import_module(module)
        for name in names:
            obj = getattr(mod, name)
            doc = inspect.getdoc(obj) or ""
            if len(doc) < 20:
                missing_doc.append(f"{module}.{name}")
            if not re.search(rf"`([\w.]+\.)?{name}\b", page):
                missing_page.append(name)
    assert missing_doc == [] and missing_page == []


def test_import_insole_stays_light():
    code = "import sys, insole; print('h5py' in sys.modules, 'pandas' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.stdout.split() == ["False", "False"]
