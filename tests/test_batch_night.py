"""The nightly batch end to end: a few hundred uploads with ~10 % malformed or hostile files, run by the real
``insole`` program in subprocesses (real worker processes, real SQLite, real SIGKILL)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from batch_inbox import Inbox, build_inbox, make_bases  # noqa: E402

from pipeline.analysis import SessionMetrics  # noqa: E402
from pipeline.batch import night as night_module  # noqa: E402
from pipeline.batch.night import BatchConfig, BatchError, run_night  # noqa: E402
from pipeline.batch.progress import NightProgress  # noqa: E402

INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]
ROOT = Path(__file__).resolve().parents[1]
VOLATILE_COLUMNS = {"new_this_run", "duration_s"}
ISO_TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?")


def batch_cmd(inbox: Path, out: Path, *extra: str) -> list[str]:
    return [*INSOLE, "batch", str(inbox), "--out", str(out), "--min-age-s", "0", "--workers", "2", *extra]


def run_batch(inbox: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(batch_cmd(inbox, out, *extra), capture_output=True, text=True, cwd=ROOT, timeout=600)


def summary_rows(out: Path) -> dict[str, dict[str, str]]:
    with open(out / "summary.csv", newline="") as fh:
        return {r["rel_path"]: r for r in csv.DictReader(fh)}


def _strip_utc(obj):
    if isinstance(obj, dict):
        return {k: _strip_utc(v) for k, v in obj.items() if not k.endswith("_utc")}
    if isinstance(obj, list):
        return [_strip_utc(v) for v in obj]
    return obj


def tree_digest(out: Path) -> dict[str, str]:
    """Digest of every output, ignoring time stamps, durations, the ledger and the per-night archive."""
    res = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        if p.is_dir() or rel.startswith(("nights/", "ledger.sqlite")) or rel in (".batch.lock", "summary.html"):
            continue
        data = p.read_bytes()
        if p.name == "metrics.json":
            data = json.dumps(_strip_utc(json.loads(data)), sort_keys=True).encode()
        elif p.suffix == ".html":
            data = ISO_TIME.sub(b"T", data)
        elif rel == "summary.csv":
            rows = list(csv.DictReader(io.StringIO(data.decode())))
            data = json.dumps([{k: v for k, v in r.items() if k not in VOLATILE_COLUMNS} for r in rows]).encode()
        res[rel] = hashlib.sha256(data).hexdigest()
    return res


def inbox_digest(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            out[rel] = "link:" + os.readlink(p)
        elif p.is_file():
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> list[Path]:
    """The simulated base sessions every inbox of this module is made of (12 s each)."""
    return make_bases(tmp_path_factory.mktemp("bases"))


@pytest.fixture(scope="module")
def inbox(tmp_path_factory, bases) -> Inbox:
    """~205 uploads: 171 valid sessions, 3 duplicates, 1 standing still, 2 x 14 malformed/hostile (+2 refused)."""
    tmp = tmp_path_factory.mktemp("night")
    return build_inbox(tmp / "inbox", bases, n_good=170, outside=tmp / "outside", hostile=2)


@pytest.fixture(scope="module")
def reference(inbox, tmp_path_factory):
    """One uninterrupted run; returns (out folder, completed process, inbox digest before the run)."""
    before = inbox_digest(inbox.root)
    out = tmp_path_factory.mktemp("ref") / "out"
    proc = run_batch(inbox.root, out)
    return out, proc, before


@pytest.fixture(scope="module")
def kill_inbox(tmp_path_factory, bases) -> Inbox:
    """The killed-run inbox: the same kinds of upload as :func:`inbox` with fewer valid sessions (13 valid sessions,
    3 duplicates, 1 standing still, 14 malformed/hostile + 2 refused). Resuming is about the ledger and the outputs
    of the files killed half-way, not about the number of files, and the kill test needs its own uninterrupted
    run to compare with: two runs of this inbox cost less than one of :func:`inbox`."""
    tmp = tmp_path_factory.mktemp("kill")
    return build_inbox(tmp / "inbox", bases, n_good=12, outside=tmp / "outside", hostile=1)


def test_every_upload_is_processed_or_quarantined_with_a_reason(inbox, reference):
    out, proc, before = reference
    n_bad = len(inbox.bad)
    assert n_bad >= 0.1 * (len(inbox.good) + n_bad)  # ~10 % malformed or hostile
    assert proc.returncode == 3, proc.stderr  # files were quarantined
    rows = summary_rows(out)
    expected = set(inbox.good) | set(inbox.bad) | set(inbox.duplicates)
    assert set(rows) == expected  # nothing lost, nothing invented (README.txt and hidden partials are not uploads)
    for rel in inbox.good:
        r = rows[rel]
        if r["status"] == "duplicate":  # a copy uploaded under a name that sorts first was processed instead
            assert rel in inbox.duplicates.values() and rows[r["duplicate_of"]]["status"] == "processed"
            continue
        assert r["status"] == "processed", (rel, r["reason"], r["message"])
        folder = out / r["output_folder"]
        assert folder.is_relative_to(out / "sessions")
        assert sorted(p.name for p in folder.iterdir()) == ["batch.json", "metrics.json", "report.html", "steps.csv"]
        metrics = SessionMetrics.from_json((folder / "metrics.json").read_bytes())
        assert metrics.sides == ["left", "right"] and metrics.left.stride_time_s.available
    for rel, reason in inbox.bad.items():
        r = rows[rel]
        assert r["status"] == "quarantined" and r["reason"] == reason, (rel, r["reason"], r["message"])
        q = out / r["quarantine_folder"]
        assert q.is_relative_to(out / "quarantine") and (q / "REASON.txt").is_file()
        record = json.loads((q / "reason.json").read_text())
        assert record["file"] == rel and record["reason"] == reason and record["message"]
        refused_unread = (inbox.root / rel).is_symlink() or not (inbox.root / rel).is_file()
        copies = [p for p in q.iterdir() if p.name not in ("REASON.txt", "reason.json")]
        if refused_unread:
            assert copies == [] and record["copy"] is None  # a link leaving the inbox is never read or copied
        else:
            assert len(copies) == 1 and copies[0].read_bytes() == (inbox.root / rel).read_bytes()
    for rel, original in inbox.duplicates.items():
        first, second = sorted((rel, original))  # the name sorting first is processed, the other is the duplicate
        assert rows[first]["status"] == "processed"
        assert rows[second]["status"] == "duplicate" and rows[second]["duplicate_of"] == first
    assert "never unloads" in rows["clinic-1/S8000/standing.h5"]["message"]  # the analysis says why it refused
    # the weird file name became a safe output path
    weird = next(r for k, r in rows.items() if "Müller" in k)
    assert re.fullmatch(r"sessions/clinic-0/S7000/[A-Za-z0-9._+-]+", weird["output_folder"])
    # the clinic's inbox was not changed at all; no temporary file was left behind
    assert inbox_digest(inbox.root) == before
    assert not [p for p in out.rglob("*") if ".tmp-" in p.name]
    # the ledger agrees: one job per content, done or failed
    db = sqlite3.connect(out / "ledger.sqlite")
    statuses = dict(db.execute("SELECT status, count(*) FROM jobs GROUP BY status").fetchall())
    assert statuses.get("running", 0) == 0 and statuses.get("error", 0) == 0
    assert statuses["done"] == sum(1 for r in rows.values() if r["status"] == "processed")
    # the summary HTML names the failures and the counts
    html = (out / "summary.html").read_text()
    assert "Failures" in html and "external-link.h5" in html and "Quality flags" in html
    assert f"{sum(1 for r in rows.values() if r['status'] == 'quarantined')} quarantined" in proc.stdout


def test_second_run_processes_nothing(inbox, reference):
    out, _, _ = reference
    first = tree_digest(out)
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "sessions").rglob("*") if p.is_file()}
    proc = run_batch(inbox.root, out)
    assert proc.returncode == 0, proc.stderr
    assert "0 processed" in proc.stdout and "0 quarantined" in proc.stdout
    assert tree_digest(out) == first
    assert {p: p.stat().st_mtime_ns for p in (out / "sessions").rglob("*") if p.is_file()} == mtimes


#: Jobs done before the kill: well into the night (5 of 13 valid uploads, 2 more running), most of it still to do.
KILL_AFTER_DONE = 5


def test_killed_run_resumes_to_the_same_outputs(kill_inbox, tmp_path):
    inbox = kill_inbox
    ref_out = tmp_path / "ref"
    uninterrupted = run_batch(inbox.root, ref_out)
    assert uninterrupted.returncode == 3, uninterrupted.stderr  # the hostile uploads were quarantined
    out = tmp_path / "out"
    proc = subprocess.Popen(batch_cmd(inbox.root, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    done = 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        try:
            with sqlite3.connect(f"file:{out / 'ledger.sqlite'}?mode=ro", uri=True, timeout=1) as db:
                done = db.execute("SELECT count(*) FROM jobs WHERE status='done'").fetchone()[0]
        except sqlite3.Error:
            continue
        if done >= KILL_AFTER_DONE:
            break
    assert proc.poll() is None, "the batch finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)  # kill -9 of the batch process, mid-night
    proc.wait()
    assert KILL_AFTER_DONE <= done < len(inbox.good)
    resumed = run_batch(inbox.root, out)
    assert resumed.returncode in (0, 3), resumed.stderr
    assert tree_digest(out) == tree_digest(ref_out)
    db = sqlite3.connect(out / "ledger.sqlite")
    assert db.execute("SELECT count(*) FROM jobs WHERE status NOT IN ('done', 'failed')").fetchone()[0] == 0
    # no upload processed twice to completion: each content has exactly one job and one output folder
    assert db.execute("SELECT count(*) FROM jobs").fetchone()[0] == db.execute(
        "SELECT count(DISTINCT sha256) FROM jobs").fetchone()[0]


def test_new_software_version_or_parameters_reprocess(tmp_path, monkeypatch, batch_bases):
    bases = batch_bases
    small = build_inbox(tmp_path / "inbox", bases, n_good=6, outside=tmp_path / "outside", hostile=0)
    cfg = BatchConfig(inbox=small.root, out_dir=tmp_path / "out", workers=2)
    quiet = NightProgress(quiet=True)
    first = run_night(cfg, quiet)
    n = first.counts["processed"]
    assert n >= 7 and run_night(cfg, quiet).counts["processed"] == 0
    cfg.params = {"on_share": 0.06}
    assert run_night(cfg, quiet).counts["processed"] == n  # parameters changed: everything again
    assert run_night(cfg, quiet).counts["processed"] == 0
    monkeypatch.setattr(night_module, "SOFTWARE", "insole 99.0.0")
    assert run_night(cfg, quiet).counts["processed"] == n  # software changed: everything again
    # outputs deleted behind the ledger's back are noticed and rebuilt
    victim = next((tmp_path / "out" / "sessions").rglob("report.html"))
    victim.unlink()
    again = run_night(cfg, quiet)
    assert again.counts["processed"] == 1 and again.counts["retried_outputs_missing"] == 1 and victim.is_file()


def test_a_clinic_cohort_positions_every_upload_and_a_changed_cohort_reprocesses(
        tmp_path, simulated_cohort, batch_bases):
    """``--cohort FILE``: every report is positioned in the clinic's cohort; the ledger knows the cohort by its
    content, so a rebuilt cohort analyses everything again; a cohort of other insoles quarantines each upload with
    its own reason, and an unreadable cohort stops the night before any work."""
    bases = batch_bases
    small = build_inbox(tmp_path / "inbox", bases, n_good=4, outside=tmp_path / "outside", hostile=0)
    cohort = simulated_cohort(16)
    path = cohort.save(tmp_path / "clinic.json")
    cfg = BatchConfig(inbox=small.root, out_dir=tmp_path / "out", workers=2, cohort=str(path))
    quiet = NightProgress(quiet=True)
    first = run_night(cfg, quiet)
    n = first.counts["processed"]
    assert n >= 4 and first.counts["quarantined"] == 1  # the standing upload
    analysed = [SessionMetrics.from_json(p.read_bytes())
                for p in (tmp_path / "out" / "sessions").rglob("metrics.json")]
    assert len(analysed) == n and all(m.provenance.reference_cohort == cohort.label() for m in analysed)
    assert run_night(cfg, quiet).counts["processed"] == 0
    path.write_bytes(msgspec.json.encode(msgspec.structs.replace(cohort, name="clinic, rebuilt")))
    assert run_night(cfg, quiet).counts["processed"] == n  # another cohort: everything again
    other = simulated_cohort(8).save(tmp_path / "eight.json")
    mismatched = run_night(BatchConfig(inbox=small.root, out_dir=tmp_path / "out2", workers=2,
                                       cohort=str(other)), quiet)
    assert mismatched.counts["processed"] == 0 and mismatched.counts["quarantined"] >= n + 1
    rows = summary_rows(tmp_path / "out2").values()
    assert {r["reason"] for r in rows if r["status"] != "duplicate"} == {"cohort"}
    (tmp_path / "broken.json").write_text("{not json")
    r = run_batch(small.root, tmp_path / "out3", "--cohort", str(tmp_path / "broken.json"))
    assert r.returncode == 1 and "broken.json" in r.stderr and "JSON is malformed" in r.stderr
    assert not (tmp_path / "out3" / "sessions").exists()


def test_refuses_overlapping_folders_and_concurrent_runs(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    r = run_batch(inbox, inbox / "out")
    assert r.returncode == 1 and "must not contain each other" in r.stderr
    out = tmp_path / "out"
    out.mkdir()
    import fcntl

    with open(out / ".batch.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(BatchError, match="another batch is running"):
            run_night(BatchConfig(inbox=inbox, out_dir=out), NightProgress(quiet=True))
    r = run_batch(inbox, out, "--param", "nonsense=1")
    assert r.returncode == 2 and "nonsense" in r.stderr


@pytest.mark.parametrize(("entry", "limits", "reason"), [
    ("batch_tasks:sleepy", {"timeout_s": 1.5}, "timeout"),
    ("batch_tasks:hungry_task", {"max_memory_mb": 256}, "memory"),
])
def test_timeouts_and_memory_guard_quarantine_and_the_night_goes_on(tmp_path, entry, limits, reason, batch_bases):
    """Real child processes that hang or over-allocate (test task functions stand in for a pathological file)."""
    from pipeline.batch.safety import Limits

    bases = batch_bases
    small = build_inbox(tmp_path / "inbox", bases, n_good=2, outside=tmp_path / "outside", hostile=0)
    cfg = BatchConfig(inbox=small.root, out_dir=tmp_path / "out", workers=2, entry=entry,
                      limits=Limits(**limits))
    result = run_night(cfg, NightProgress(quiet=True))
    rows = summary_rows(tmp_path / "out")
    assert result.exit_code == 3 and result.counts["processed"] == 0
    assert {r["reason"] for r in rows.values() if r["status"] == "quarantined"} == {reason}
    assert all(r["status"] in ("quarantined",) for r in rows.values())
    text = next((tmp_path / "out" / "quarantine").rglob("REASON.txt")).read_text()
    assert reason in text and "what to do" in text


def test_summary_flags_changes_against_the_previous_session_and_progress_lines(tmp_path, batch_bases):
    bases = batch_bases
    small = build_inbox(tmp_path / "inbox", bases, n_good=8, outside=tmp_path / "outside", hostile=0,
                        sessions_per_subject=4)
    stream = io.StringIO()
    cfg = BatchConfig(inbox=small.root, out_dir=tmp_path / "out", workers=2, change_pct=0.0)
    run_night(cfg, NightProgress(stream))  # not a terminal: plain time-stamped lines
    log = stream.getvalue()
    assert re.search(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ done clinic-0/S0000/visit-0\.h5", log, re.M)
    rows = summary_rows(tmp_path / "out")
    later = [r for r in rows.values() if r["status"] == "processed" and r["previous_session"]]
    assert later, "each subject has several sessions"
    for r in later:
        prev = rows[r["previous_session"]]
        assert (prev["clinic"], prev["subject"]) == (r["clinic"], r["subject"])
        assert prev["recorded_utc"] <= r["recorded_utc"]
    # consecutive sessions of a subject come from different simulated walkers: with a 0 % threshold, changes show
    assert any(r["changes"] for r in later)
    assert "Findings changed" in (tmp_path / "out" / "summary.html").read_text()
    rich_stream = io.StringIO()
    progress = NightProgress(rich_stream, rich=True)
    progress.start(2)
    progress.advance("done a")
    progress.advance("failed b", warning=True)
    progress.stop()
    assert "2/2" in rich_stream.getvalue() and "failed b" in rich_stream.getvalue()
