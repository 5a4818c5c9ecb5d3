"""Reference cohorts: the shipped ones are what the real controls give, the command builds and shows them, and a
cohort that cannot be used gets a clear error (real sessions: simulated by the real recorder or imported)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from insole.importers import import_recording
from pipeline.analysis import analyze_session
from pipeline.cli import cli
from pipeline.norms.cohort import CohortError, load_cohort
from pipeline.norms.registry import shipped_cohorts

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"
SAMPLES = ROOT / "sample_recordings"
sys.path.insert(0, str(ROOT / "tools"))

import build_cohorts  # noqa: E402

INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def _error(*args: str) -> str:
    """Run the ``insole`` program as a user does; it must fail with a one-line message (returned)."""
    r = subprocess.run([*INSOLE, *args], capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr
    return r.stderr.strip().splitlines()[-1]


#: Relative difference allowed between a rebuilt cohort value and the committed one. The float32 products of the
#: analysis (total force, regions, CoP: cells @ weights) are summed in an order that OpenBLAS chooses by CPU: the
#: gaitpdb cohort rebuilt with its SkylakeX (AVX-512) kernel differs from the one built with its Haswell kernel in
#: 258 of 640 values, by at most 4.6e-7 relative (a few float32 roundings; identical with OPENBLAS_CORETYPE=Haswell
#: on the same machine, 2026-12-03). Any change of the analysis itself moves values by far more.
CPU_RTOL = 1e-5
#: The same for the symmetry indices (SI, %), in percentage points: an SI is the difference of two nearly equal
#: side medians over their mean, which turns their float32-level differences into up to 4.9e-5 points (gaitpdb,
#: the same two kernels), more than 1e-5 relative of an SI near 0.
CPU_SI_ATOL = 1e-3


def _values(table: dict) -> dict:
    """Every value of a cohort's metrics or symmetry table by (metric, subject, recording, side)."""
    return {(name, e.subject, e.recording, e.side): e.value for name, m in table.items() for e in m.entries}


@pytest.mark.datasets
@pytest.mark.slow
@pytest.mark.skipif(not DATASETS.is_dir(), reason="../shared/datasets not present")
def test_shipped_cohorts_are_what_the_real_controls_give(tmp_path):
    """Rebuilding from ../shared/datasets gives the committed cohorts (all but the build time and version): the
    same subjects, recordings and sides, and every value to within :data:`CPU_RTOL` (SIs: :data:`CPU_SI_ATOL`)."""
    rebuilt = build_cohorts.build(DATASETS, tmp_path)
    shipped = {c.name: c for c in shipped_cohorts()}
    assert set(rebuilt) == {"gaitndd", "gaitpdb"}
    for key, path in rebuilt.items():
        new, old = load_cohort(path), shipped[f"{key} healthy controls"]
        assert new.device == old.device and new.sources == old.sources
        assert (new.n_subjects, new.n_recordings) == (old.n_subjects, old.n_recordings)
        hint = f"{key}: run tools/build_cohorts.py and commit"
        for table in ("metrics", "symmetry"):
            units = [{name: m.unit for name, m in getattr(c, table).items()} for c in (new, old)]
            assert units[0] == units[1], hint
        assert _values(new.metrics) == pytest.approx(_values(old.metrics), rel=CPU_RTOL, abs=0), hint
        assert _values(new.symmetry) == pytest.approx(_values(old.symmetry), rel=0, abs=CPU_SI_ATOL), hint
        assert new.notes == old.notes
    ndd, pdb = (load_cohort(rebuilt[k]) for k in ("gaitndd", "gaitpdb"))
    assert ndd.n_subjects == 16 and ndd.device.n_sensors == 1
    assert "stride_time_s" in ndd.metrics and "max_force" not in ndd.metrics  # raw counts are not compared
    assert "max_force" not in ndd.symmetry and "stance_time_s" in ndd.symmetry  # nor their asymmetry
    assert pdb.n_subjects == 7 and pdb.n_recordings == 8 and "cpei_pct" in pdb.metrics
    assert any("subjects" in note and "coarse" in note for note in pdb.notes)  # small n said plainly


def test_norms_build_and_show_through_the_command(session_factory, tmp_path):
    folder = tmp_path / "healthy"
    folder.mkdir()
    for seed in range(5):
        shutil.copy(session_factory("neutral", 30.0, 40 + seed), folder / f"walker{seed}.h5")
    out = tmp_path / "clinic.json"
    res = CliRunner().invoke(cli, ["norms", "build", str(folder), "-o", str(out), "--name", "clinic test",
                                   "--description", "five simulated walkers"])
    assert res.exit_code == 0, res.output
    assert "clinic test (5 subjects, 5 recordings, generic-16 (16 cells, kPa))" in res.output
    cohort = load_cohort(out)
    assert cohort.n_subjects == 5 and len(cohort.sources) == 5 and all(len(s.sha256) == 64 for s in cohort.sources)
    assert len(cohort.metrics["stance_time_s"].entries) == 10  # one value per foot
    show = CliRunner().invoke(cli, ["norms", "show", str(out)])
    assert show.exit_code == 0 and "stance_time_s: median" in show.output and "10 feet of 5 subjects" in show.output
    assert "coarse" in show.output  # 5 subjects: the percentiles are coarse, and the command says so
    # and the analysis positions a session in it when asked
    analysed = CliRunner().invoke(cli, ["analyze", str(session_factory("neutral", 30.0, 99)), "--cohort", str(out)])
    assert analysed.exit_code == 0, analysed.output
    assert "percentile of clinic test" in analysed.output


def test_norms_build_refuses_mixed_insoles_and_too_few_recordings(session_factory, tmp_path):
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for seed in range(4):
        shutil.copy(session_factory("neutral", 30.0, 40 + seed), mixed / f"w{seed}.h5")
    shutil.copy(session_factory("neutral", 30.0, 50, sensors=8), mixed / "eight-cells.h5")
    msg = _error("norms", "build", str(mixed), "-o", str(tmp_path / "c.json"), "--name", "x")
    assert "one insole model" in msg and "eight-cells.h5" in msg
    assert not (tmp_path / "c.json").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    msg = _error("norms", "build", str(empty), "-o", str(tmp_path / "c.json"), "--name", "x")
    assert "no session files found" in msg


@pytest.mark.parametrize("content, message", [
    ("{not json", "JSON is malformed"),
    ('{"schema": "insole-analysis", "schema_version": 2}', "is not 'insole-cohort'"),
    ('{"schema": "insole-cohort", "schema_version": 99}', "schema version 99 cannot be read"),
    ('{"schema": "insole-cohort", "schema_version": 1, "name": 3}', "at `$.name`"),
])
def test_a_malformed_cohort_file_gets_a_clear_error(tmp_path, neutral_session, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(CohortError, match=message.replace("$", r"\$").replace(".", r"\.")):
        load_cohort(bad)
    msg = _error("analyze", str(neutral_session), "--cohort", str(bad))
    assert str(bad) in msg and message in msg
    assert "cannot read the cohort file" in _error("norms", "show", str(tmp_path / "missing.json"))


def test_a_cohort_of_another_insole_is_refused(tmp_path):
    """The gaitndd cohort (one FSR, raw counts) cannot position an 8-cell gaitpdb walk: clear error, no result."""
    walk = import_recording("gaitpdb", SAMPLES / "gaitpdb" / "GaCo01_01.txt", tmp_path / "walk.h5")
    ndd = next(c for c in shipped_cohorts() if c.device.n_sensors == 1)
    path = ndd.save(tmp_path / "gaitndd.json")
    with pytest.raises(CohortError, match="covers gaitndd-fsr-1 .*not the left insole of this session"):
        analyze_session(walk, cohort=path)
    msg = _error("report", str(walk), "-o", str(tmp_path / "r.html"), "--cohort", str(path))
    assert "insole norms build" in msg and not (tmp_path / "r.html").exists()
    # with the shipped cohort chosen automatically, the same walk is positioned
    auto = analyze_session(walk)
    assert auto.metrics.provenance.reference_cohort.startswith("gaitpdb healthy controls")
    assert json.loads(auto.metrics.to_json())["provenance"]["reference_cohort_sha256"]


def test_reference_interval_rule_and_leaving_the_subject_out():
    """Below 39 values the healthy range is the observed range; from 39 on, the 2.5th-97.5th percentile by the rank
    rule p(n+1); the session's subject is always left out (the shipped gaitpdb cohort, and a larger one from it)."""
    import numpy as np

    from pipeline.norms.cohort import CohortEntry, CohortMetric
    from pipeline.norms.position import MIN_VALUES_CENTRAL_95, reference_interval

    cohort = next(c for c in shipped_cohorts() if c.device.layout_ids == ["gaitpdb-8"])
    metric = cohort.metrics["stance_pct"]
    subject = metric.entries[0].subject
    kept = np.array([e.value for e in metric.entries if e.subject != subject])
    ri = reference_interval(metric, subject)
    assert ri.left_out and ri.n == kept.size < MIN_VALUES_CENTRAL_95
    assert (ri.low, ri.high) == (kept.min(), kept.max()) and ri.rule.startswith("observed range")
    assert reference_interval(metric, "not-in-the-cohort").n == len(metric.entries)
    # a cohort of 50 values: every entry of the real metric under three more names, plus one
    entries = [CohortEntry(subject=f"{e.subject}-{k}", recording=e.recording, side=e.side, value=e.value)
               for k in range(4) for e in metric.entries][:50]
    big = CohortMetric(name=metric.name, unit=metric.unit, entries=entries)
    vals = np.sort([e.value for e in entries])
    ri = reference_interval(big, None)
    ranks = np.array([0.025, 0.975]) * (vals.size + 1) - 1
    assert ri.rule.startswith("central 95 %") and not ri.left_out
    assert (ri.low, ri.high) == tuple(np.interp(ranks, np.arange(vals.size), vals))
    assert vals[0] <= ri.low <= ri.q1 <= ri.median <= ri.q3 <= ri.high <= vals[-1]
