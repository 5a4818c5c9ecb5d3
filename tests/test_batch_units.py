"""Unit tests of the nightly batch parts: names, discovery, limits, per-file processing, isolation, ledger,
summary rule. Real files and real child processes throughout."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import h5py
import msgspec
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from batch_inbox import Inbox, add_hostile, variant  # noqa: E402

from insole.provenance import file_sha256  # noqa: E402
from pipeline.batch.discovery import InputFormat, discover, format_for, register_format  # noqa: E402
from pipeline.batch.isolation import run_isolated  # noqa: E402
from pipeline.batch.ledger import Ledger, job_key  # noqa: E402
from pipeline.batch.process import OUTPUT_FILES, process_session  # noqa: E402
from pipeline.batch.safety import Limits, safe_component, safe_relpath  # noqa: E402
from pipeline.batch.summary import compare_findings, findings, load_metrics  # noqa: E402


@pytest.fixture(scope="module")
def base(session_factory) -> Path:
    return session_factory("neutral", duration_s=12, seed=5)


# ---------------------------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "/abs/path", "..", ".", ".hidden", "a\x00b", "C:\\win\\x", "Müller Klinik", "x" * 500,
     "$(rm -rf ~)", "", "séance/..", "\u202eevil"],
)
def test_safe_component_never_escapes(name, tmp_path):
    comp = safe_component(name)
    assert comp and "/" not in comp and "\\" not in comp and not comp.startswith(".") and len(comp) <= 80
    assert all(c.isascii() and (c.isalnum() or c in "._+-") for c in comp)
    target = (tmp_path / safe_relpath("clinic", name, name)).resolve()
    assert target.is_relative_to(tmp_path.resolve())


# ---------------------------------------------------------------------------------------------- discovery
def test_discovery_classifies_links_fifos_hidden_and_unknown(tmp_path, base):
    inbox = tmp_path / "inbox"
    outside = tmp_path / "outside"
    outside.mkdir()
    d = inbox / "c" / "s"
    d.mkdir(parents=True)
    shutil.copyfile(base, d / "a.h5")
    os.symlink(d / "a.h5", d / "inside-link.h5")
    shutil.copyfile(base, outside / "x.h5")
    os.symlink(outside / "x.h5", d / "outside-link.h5")
    os.symlink(outside, inbox / "c" / "linked-folder")
    os.symlink(tmp_path / "missing.h5", d / "broken.h5")
    os.mkfifo(d / "fifo.h5")
    (d / ".hidden.h5").write_bytes(b"x")
    (d / "upload.h5.partial").write_bytes(b"x")
    (d / "notes.txt").write_text("x")
    with open(os.fsencode(d) + b"/bad-\xff-name.h5", "wb") as fh:
        fh.write(b"x")
    entries = {e.rel_path: e for e in discover(inbox)}
    assert entries["c/s/bad-\ufffd-name.h5"].kind == "refused" and "UTF-8" in entries["c/s/bad-\ufffd-name.h5"].reason
    assert entries["c/s/a.h5"].kind == "candidate" and entries["c/s/a.h5"].format == "insole-h5"
    assert entries["c/s/inside-link.h5"].kind == "candidate"
    link = entries["c/s/outside-link.h5"]
    assert link.kind == "refused" and "outside the inbox" in link.reason
    assert entries["c/s/broken.h5"].kind == "refused"
    assert entries["c/s/fifo.h5"].kind == "refused" and "FIFO" in entries["c/s/fifo.h5"].reason
    assert entries["c/linked-folder"].kind == "ignored"
    assert entries["c/s/notes.txt"].kind == "ignored"
    assert "c/s/.hidden.h5" not in entries and "c/s/upload.h5.partial" not in entries
    e = entries["c/s/a.h5"]
    assert (e.clinic, e.subject, e.session) == ("c", "s", "a")
    # a fresh upload is deferred when a minimum age is asked for
    assert {x.kind for x in discover(inbox, min_age_s=3600) if x.rel_path == "c/s/a.h5"} == {"deferred"}


def test_format_registry_is_pluggable(tmp_path, base):
    """An importer registers a pattern and a converter; process_session converts, then analyses."""
    def convert(src: Path, dst: Path) -> None:
        payload = json.loads(src.read_text())
        shutil.copyfile(payload["session"], dst)

    register_format(InputFormat("test-json", ("*.testsession.json",), convert), replace=True)
    assert format_for("X.TESTSESSION.JSON").name == "test-json"
    assert format_for("a.h5").name == "insole-h5" and format_for("a.csv") is None
    src = tmp_path / "up.testsession.json"
    src.write_text(json.dumps({"session": str(base)}))
    out = process_session(src, tmp_path / "out", format_name="test-json")
    assert out.ok, out.message
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(OUTPUT_FILES)
    bad = tmp_path / "bad.testsession.json"
    bad.write_text("{not json")
    out = process_session(bad, tmp_path / "out2", format_name="test-json")
    assert not out.ok and out.reason == "conversion" and "test-json importer" in out.message


# ---------------------------------------------------------------------------------------------- processing
def test_process_session_writes_complete_outputs(tmp_path, base):
    out = process_session(base, tmp_path / "o")
    assert out.ok and out.outputs == list(OUTPUT_FILES)
    metrics = json.loads((tmp_path / "o" / "metrics.json").read_text())
    assert "provenance" in metrics
    assert (tmp_path / "o" / "steps.csv").read_text().startswith("side,")
    assert "<html" in (tmp_path / "o" / "report.html").read_text()
    assert not [p for p in (tmp_path / "o").iterdir() if p.name.startswith(".")]  # no temp files left


def test_process_session_quarantine_reasons_for_hostile_files(tmp_path, base):
    inbox = Inbox(tmp_path / "inbox")
    add_hostile(inbox, base, tmp_path / "outside")
    limits = Limits()
    for rel, reason in inbox.bad.items():
        path = inbox.root / rel
        if path.is_symlink() or not path.is_file():
            continue  # refused by discovery before any worker sees them (tested above)
        out = process_session(path, tmp_path / "o" / rel, limits=limits, display_name=rel)
        assert not out.ok, rel
        assert out.reason == reason, (rel, out.reason, out.message)
        assert rel in out.message and str(tmp_path) not in out.message.replace(str(tmp_path / "outside"), "")
        assert not (tmp_path / "o" / rel).exists() or not any((tmp_path / "o" / rel).iterdir())


def test_declared_shape_cap_refuses_before_reading(tmp_path, base):
    p = tmp_path / "big.h5"
    shutil.copyfile(base, p)
    with h5py.File(p) as f:
        n = f["left/pressure"].shape[0]
    out = process_session(p, tmp_path / "o", limits=Limits(max_frames=n - 1))
    assert not out.ok and out.reason == "unsafe" and "frames" in out.message
    out = process_session(p, tmp_path / "o", limits=Limits(max_file_mb=0.001))
    assert not out.ok and out.reason == "unsafe" and "MB" in out.message


# ---------------------------------------------------------------------------------------------- isolation
def test_isolation_timeout_kills_the_child():
    out = run_isolated({"sleep_s": 60}, timeout_s=1.5, max_memory_mb=1024, entry="batch_tasks:sleepy")
    assert out["ok"] is False and out["reason"] == "timeout" and out["duration_s"] < 30


def test_isolation_memory_guard():
    out = run_isolated({"mb": 4096}, timeout_s=60, max_memory_mb=256, entry="batch_tasks:hungry")
    assert out["ok"] is False and out["reason"] == "memory"
    ok = run_isolated({"mb": 64}, timeout_s=60, max_memory_mb=512, entry="batch_tasks:hungry")
    assert ok["ok"] is True and ok["size"] == 64 * 2**20


def test_isolation_crash_is_contained():
    out = run_isolated({}, timeout_s=60, max_memory_mb=512, entry="batch_tasks:crash")
    assert out["ok"] is False and out["reason"] == "crashed" and "SIGABRT" in out["message"]


@pytest.mark.parametrize("mode", ["fork", "subprocess"])
def test_isolation_runs_in_another_process_and_returns_json(mode, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))  # the subprocess child imports batch_tasks
    out = run_isolated({"a": [1, 2], "b": "x"}, timeout_s=60, max_memory_mb=512, mode=mode, entry="batch_tasks:echo")
    assert out["ok"] and out["task"] == {"a": [1, 2], "b": "x"} and out["pid"] != os.getpid()


# ---------------------------------------------------------------------------------------------- ledger
def test_ledger_key_and_hash_cache(tmp_path, base):
    sha = file_sha256(base)
    assert job_key(sha, "insole 1", "{}") != job_key(sha, "insole 2", "{}") != job_key(sha, "insole 1", '{"a":1}')
    led = Ledger(tmp_path / "l.sqlite")
    st = base.stat()
    led.record_files([{"rel_path": "a.h5", "size": st.st_size, "mtime_ns": st.st_mtime_ns, "inode": st.st_ino,
                       "ctime_ns": st.st_ctime_ns, "sha256": sha, "format": "insole-h5"}], "r1", "t")
    status = (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
    assert led.cached_sha256("a.h5", *status) == sha
    assert led.cached_sha256("a.h5", st.st_size, st.st_mtime_ns + 1, st.st_ino, st.st_ctime_ns) is None
    # a rewrite that restores size and mtime (cp -p, touch -r) still changes the status-change time
    assert led.cached_sha256("a.h5", st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns + 1) is None
    assert led.cached_identity("a.h5") == (status, sha)
    led.close()
    assert Ledger(tmp_path / "l.sqlite").cached_sha256("a.h5", *status) == sha


# ---------------------------------------------------------------------------------------------- summary rule
@pytest.fixture(scope="module")
def real_metrics(result_factory):
    """The typed result of a real analysed session, to vary one finding at a time."""
    return result_factory("neutral", 30.0, 1).metrics


def _metrics(real, stride: float, ci: tuple[float, float] | None, label: str = "neutral", lld: bool = False):
    """``real`` with the left stride time, left foot-function label and LLD flag set (everything else real)."""
    rep = msgspec.structs.replace
    left = rep(real.left, stride_time_s=rep(real.left.stride_time_s, median=stride, ci95=ci),
               foot_function=rep(real.left.foot_function, label=label))
    bil = rep(real.bilateral, lld_pattern=rep(real.bilateral.lld_pattern, consistent=lld))
    return rep(real, left=left, bilateral=bil)


def test_compare_findings_uses_ci_overlap_then_relative_change(real_metrics):
    m = real_metrics
    assert compare_findings(_metrics(m, 1.0, (0.98, 1.02)), _metrics(m, 1.03, (1.01, 1.05))) == []  # CIs overlap
    ch = compare_findings(_metrics(m, 1.0, (0.98, 1.02)), _metrics(m, 1.08, (1.05, 1.11)))
    assert len(ch) == 1 and "left stride time" in ch[0] and "do not overlap" in ch[0]
    assert compare_findings(_metrics(m, 1.0, None), _metrics(m, 1.05, None)) == []
    assert "no CI" in compare_findings(_metrics(m, 1.0, None), _metrics(m, 1.2, None))[0]
    ch = compare_findings(_metrics(m, 1.0, None, "neutral", False), _metrics(m, 1.0, None, "pronation", True))
    assert any("foot function: neutral -> pronation" in c for c in ch) and any("leg-length" in c for c in ch)
    assert compare_findings(_metrics(m, 1.0, None, "neutral"), _metrics(m, 1.0, None, "not assessed")) == []
    assert compare_findings(None, m) == []  # no previous result: nothing claimed
    f = findings(_metrics(m, 1.0, None))
    assert f["stride_time_s_left"] == 1.0 and f["stride_time_s_right"] == m.right.stride_time_s.median
    assert f["quality_passed"] is True and f["strides_left"] == m.quality.left.strides
    assert findings(None)["stride_time_s_left"] is None


def test_unreadable_metrics_count_as_missing(tmp_path, real_metrics):
    good = tmp_path / "metrics.json"
    good.write_bytes(real_metrics.to_json())
    assert load_metrics(good) == real_metrics
    for text in ("{not json", '{"schema": "insole-analysis", "schema_version": 99}', '{"schema": "other"}', "[]"):
        good.write_text(text)
        assert load_metrics(good) is None, text
    assert load_metrics(tmp_path / "missing.json") is None


def test_variant_changes_the_hash(tmp_path, base):
    a, b = variant(base, tmp_path / "a.h5", "S1", 1), variant(base, tmp_path / "b.h5", "S1", 2)
    assert file_sha256(a) != file_sha256(b)
    with h5py.File(a) as f:
        assert np.array_equal(f["left/pressure"][()], h5py.File(base)["left/pressure"][()])
