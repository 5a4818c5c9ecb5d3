"""Issue 14 (batch part): no silent wrong result, no lost upload, every wait bounded.

Each test reproduces one defect found by the adversarial campaign with real files, real worker processes, real
SQLite and, where the defect is seen by the operator, the real ``insole`` program in a subprocess.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from batch_inbox import make_bases, variant  # noqa: E402
from batch_os import permissions_are_enforced, without_permission_override  # noqa: E402
from test_batch_night import INSOLE, ROOT, batch_cmd, run_batch, summary_rows  # noqa: E402

from insole.provenance import file_sha256  # noqa: E402
from pipeline.analysis import SessionMetrics  # noqa: E402
from pipeline.batch.night import BatchConfig, run_night  # noqa: E402
from pipeline.batch.progress import NightProgress  # noqa: E402
from pipeline.batch.safety import RECORDER_ENVELOPE, SessionShape  # noqa: E402

TESTS = Path(__file__).resolve().parent
QUIET = NightProgress(quiet=True)


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> dict[str, Path]:
    """Simulated walks (real simulator and recorder), one per profile."""
    return {p.stem: p for p in make_bases(tmp_path_factory.mktemp("bases"), duration_s=10)}


def upload(inbox: Path, rel: str, base: Path, subject: str, k: int) -> Path:
    """A valid upload at ``inbox/rel`` with its own content (subject, notes, recording time)."""
    return variant(base, inbox / rel, subject, k)


def assert_outputs_belong_to_their_uploads(out: Path, inbox: Path) -> None:
    """Every processed or duplicate row shows the metrics of the bytes now in the inbox under its name."""
    for rel, row in summary_rows(out).items():
        if row["status"] not in ("processed", "duplicate"):
            continue
        metrics = SessionMetrics.from_json((out / row["output_folder"] / "metrics.json").read_bytes())
        assert metrics.provenance.input_sha256 == file_sha256(inbox / rel), rel
        assert row["output_folder"].endswith(metrics.provenance.input_sha256[:8]), rel


# ------------------------------------------------------------------------------------------------ item 1
def test_upload_replaced_after_planning_is_never_stored_under_the_old_content(tmp_path, bases):
    """Replace an upload between planning and processing: its new content must not be filed under the old
    hash, and a later re-upload of the original must get its own findings (not the other content's)."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    original = upload(inbox, "north/S0001/visit.h5", bases["neutral"], "S0001", 1)
    keep = tmp_path / "original-copy.h5"
    shutil.copyfile(original, keep)
    upload(inbox, "north/S0001/visit.h5.replacement", bases["overpronation"], "S0001-other", 2)
    cfg = BatchConfig(inbox=inbox, out_dir=out, workers=1, entry="batch_tasks:replaced_before_reading")
    first = run_night(cfg, QUIET)
    row = summary_rows(out)["north/S0001/visit.h5"]
    assert row["status"] == "deferred" and "changed" in row["message"], row
    assert first.counts["processed"] == 0 and first.counts["quarantined"] == 0 and first.exit_code == 0
    assert not list(out.glob("sessions/**/metrics.json"))
    # the clinic uploads the original again under another name; the night runs normally
    shutil.copyfile(keep, inbox / "north/S0001/original.h5")
    second = run_night(BatchConfig(inbox=inbox, out_dir=out, workers=1), QUIET)
    rows = summary_rows(out)
    assert second.counts["processed"] == 2, rows
    assert rows["north/S0001/original.h5"]["status"] == "processed"
    assert rows["north/S0001/original.h5"]["subject_id_in_file"] == "S0001"
    assert rows["north/S0001/visit.h5"]["subject_id_in_file"] == "S0001-other"
    assert_outputs_belong_to_their_uploads(out, inbox)


# ------------------------------------------------------------------------------------------------ item 7
def test_upload_deleted_before_processing_is_processed_once_restored(tmp_path, bases):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    path = upload(inbox, "north/S0002/visit.h5", bases["neutral"], "S0002", 3)
    path.with_name("visit.h5.vanish").write_text("")
    cfg = BatchConfig(inbox=inbox, out_dir=out, workers=1, entry="batch_tasks:replaced_before_reading")
    first = run_night(cfg, QUIET)
    assert first.counts["quarantined"] == 0 and not (out / "quarantine").exists()
    assert summary_rows(out)["north/S0002/visit.h5"]["status"] == "deferred"
    os.replace(path.with_name("visit.h5.away"), path)  # restored
    second = run_night(BatchConfig(inbox=inbox, out_dir=out, workers=1), QUIET)
    assert second.counts["processed"] == 1
    assert summary_rows(out)["north/S0002/visit.h5"]["status"] == "processed"
    assert_outputs_belong_to_their_uploads(out, inbox)


def test_future_modification_time_does_not_defer_an_upload_for_ever(tmp_path, bases):
    """A device with a wrong clock (mtime a year ahead) must not defer its upload night after night; the age
    test uses the time the file last changed on this server."""
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    path = upload(inbox, "north/S0003/visit.h5", bases["neutral"], "S0003", 4)
    ahead = time.time() + 365 * 86400
    os.utime(path, (ahead, ahead))
    deadline = time.monotonic() + 60
    while time.time() - path.stat().st_ctime < 3 and time.monotonic() < deadline:  # hang guard, not a timing test
        time.sleep(0.2)
    r = subprocess.run([*INSOLE, "batch", str(inbox), "--out", str(out), "--min-age-s", "2", "--workers", "1"],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr
    row = summary_rows(out)["north/S0003/visit.h5"]
    assert row["status"] == "processed"
    assert "365.0 days ahead of this server's clock" in row["message"]  # flagged, in the CSV and the log
    assert "365.0 days ahead" in r.stderr
    assert "365.0 days ahead" in (out / "summary.html").read_text(encoding="utf-8")


def test_discovery_age_uses_the_servers_change_time(tmp_path, bases):
    from pipeline.batch.discovery import discover

    inbox = tmp_path / "inbox"
    path = upload(inbox, "north/S0004/visit.h5", bases["neutral"], "S0004", 5)
    ahead = time.time() + 365 * 86400
    os.utime(path, (ahead, ahead))
    kinds = {e.rel_path: e.kind for e in discover(inbox, min_age_s=120)}
    assert kinds["north/S0004/visit.h5"] == "deferred"  # just written here: maybe still uploading
    later = {e.rel_path: e.kind for e in discover(inbox, min_age_s=120, now=time.time() + 3600)}
    assert later["north/S0004/visit.h5"] == "candidate"  # an hour later it is processed, whatever its mtime


@pytest.fixture()
def enforced(tmp_path):
    if not permissions_are_enforced(tmp_path):
        pytest.skip("file permissions cannot be enforced for a child process here")


def test_a_folder_that_cannot_be_listed_is_in_the_summary_and_fails_the_night(tmp_path, bases, enforced):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    upload(inbox, "north/S0005/visit.h5", bases["neutral"], "S0005", 6)
    upload(inbox, "north/S0006/visit.h5", bases["neutral"], "S0006", 7)
    locked = inbox / "north" / "S0006"
    locked.chmod(0)
    try:
        r = subprocess.run(batch_cmd(inbox, out), capture_output=True, text=True, cwd=ROOT, timeout=600,
                           preexec_fn=without_permission_override)
    finally:
        locked.chmod(0o755)
    assert r.returncode == 3, r.stderr
    rows = summary_rows(out)
    assert rows["north/S0005/visit.h5"]["status"] == "processed"
    row = rows["north/S0006"]
    assert row["status"] == "error" and row["reason"] == "inaccessible" and "cannot be listed" in row["message"]
    assert "1 error(s)" in r.stdout
    # once the permissions are fixed, the next night finds and processes the uploads inside
    again = run_batch(inbox, out)
    assert again.returncode == 0 and summary_rows(out)["north/S0006/visit.h5"]["status"] == "processed"
    assert "north/S0006" not in summary_rows(out)


DRIVER = r"""
import json, os, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from batch_os import limit_file_size
from pipeline.batch.night import BatchConfig, run_night
from pipeline.batch.progress import NightProgress
limit_file_size(int(sys.argv[3]))
r = run_night(BatchConfig(inbox=Path(sys.argv[1]), out_dir=Path(sys.argv[2]), workers=1,
                          entry="batch_tasks:small_disk_task"), NightProgress(quiet=True))
print(json.dumps({{"counts": r.counts, "exit_code": r.exit_code}}))
"""


def test_full_disk_is_an_output_error_retried_next_night_and_the_night_goes_on(tmp_path, bases):
    """Writes beyond a size fail with the kernel's EFBIG (RLIMIT_FSIZE) in the worker (its report) and in the
    batch process (the copy of a large failed upload into quarantine)."""
    from pipeline.batch.process import process_session

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    good = upload(inbox, "north/S0007/visit.h5", bases["neutral"], "S0007", 8)
    probe = process_session(good, tmp_path / "probe")
    assert probe.ok
    steps, report = ((tmp_path / "probe" / f).stat().st_size for f in ("steps.csv", "report.html"))
    assert steps < report  # written first, so a limit between the two fails the report itself
    worker_limit = (steps + report) // 2
    big = inbox / "north/S0008/garbage.h5"
    big.parent.mkdir(parents=True)
    big.write_bytes(os.urandom(3 * 2**20))
    env = {**os.environ, "INSOLE_TEST_WORKER_FSIZE": str(worker_limit)}
    r = subprocess.run([sys.executable, "-c", DRIVER.format(tests=str(TESTS)), str(inbox), str(out),
                        str(2**20)], capture_output=True, text=True, cwd=ROOT, timeout=600, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    night = json.loads(r.stdout.strip().splitlines()[-1])
    assert night["exit_code"] == 3 and night["counts"]["errors"] == 2 and night["counts"]["quarantined"] == 0
    rows = summary_rows(out)
    assert rows["north/S0007/visit.h5"]["status"] == "error"
    assert rows["north/S0007/visit.h5"]["reason"] == "output-error"
    assert "File too large" in rows["north/S0007/visit.h5"]["message"]
    bad = rows["north/S0008/garbage.h5"]
    assert bad["status"] == "error" and bad["reason"] == "unreadable" and "quarantine" in bad["message"]
    # room again: the report is written and the large upload is copied into quarantine
    again = run_batch(inbox, out)
    assert again.returncode == 3, again.stderr
    rows = summary_rows(out)
    assert rows["north/S0007/visit.h5"]["status"] == "processed"
    assert rows["north/S0008/garbage.h5"]["status"] == "quarantined"
    copy = out / rows["north/S0008/garbage.h5"]["quarantine_folder"] / "garbage.h5"
    assert copy.read_bytes() == big.read_bytes()


def _small_tmpfs_works(tmp: Path) -> bool:
    """True when this process may mount a tmpfs in a private mount namespace (``unshare -m``, root)."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = tmp / "tmpfs-probe"
    probe.mkdir()
    try:
        r = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=16k tmpfs {probe}"],
                           capture_output=True, timeout=30)
        return r.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        probe.rmdir()


def test_disk_full_under_the_session_outputs_is_retried_not_quarantined(tmp_path, bases):
    """A real ENOSPC: the batch runs in its own mount namespace with ``OUT/sessions`` on a 16 kB tmpfs (the ledger,
    quarantine and summary on the normal disk). Before issue 14 such uploads were quarantined as analysis-error."""
    if not _small_tmpfs_works(tmp_path):
        pytest.skip("cannot mount a tmpfs here (needs root and unshare)")
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    upload(inbox, "north/S0030/visit.h5", bases["neutral"], "S0030", 40)
    upload(inbox, "north/S0031/visit.h5", bases["overpronation"], "S0031", 41)
    (out / "sessions").mkdir(parents=True)
    script = f"mount -t tmpfs -o size=16k tmpfs {out / 'sessions'} && exec \"$@\""
    r = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", *batch_cmd(inbox, out)], capture_output=True,
                       text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 3, r.stderr
    assert "Traceback" not in r.stderr
    rows = summary_rows(out)
    for rel in ("north/S0030/visit.h5", "north/S0031/visit.h5"):
        assert rows[rel]["status"] == "error" and rows[rel]["reason"] == "output-error", rows[rel]
        assert "No space left on device" in rows[rel]["message"]
    assert not (out / "quarantine").exists()
    again = run_batch(inbox, out)  # room again (the tmpfs is gone with its namespace)
    assert again.returncode == 0, again.stderr
    assert {r["status"] for r in summary_rows(out).values()} == {"processed"}
    assert_outputs_belong_to_their_uploads(out, inbox)


# ------------------------------------------------------------------------------------------------ item 8
def _declared_session(path: Path, shape) -> dict[str, int]:
    """A real session file of ``shape`` as the recorder stores it (pressure float32, time float64, sequence,
    device time and saturation), its first frames written and its datasets declared at full size (the other
    chunks are not written, so the file stays small). Returns the bytes each dataset declares (both feet)."""
    import h5py
    import numpy as np

    from insole.layouts import builtin_layout
    from insole.session import SessionMetadata, SessionWriter

    written = 5000
    with SessionWriter(path, SessionMetadata(subject_id="ENVELOPE"), source="recorded") as w:
        for side in ("left", "right")[:shape.feet]:
            w.add_foot(side, builtin_layout(shape.cells), units="kPa", sampling_rate_hz=shape.rate_hz)
            w.append(side, np.arange(written) / shape.rate_hz, np.ones((written, shape.cells), np.float32))
    names = ("pressure", "time_s", "saturated", "sequence", "device_time_us")
    with h5py.File(path, "r+") as f:
        for side in ("left", "right")[:shape.feet]:
            for name in names:
                f[side][name].resize(shape.frames, axis=0)
        return {name: sum(f[s][name].nbytes for s in ("left", "right")[:shape.feet]) for name in names}


@pytest.mark.parametrize("shape", RECORDER_ENVELOPE, ids=lambda s: s.name)
def test_every_session_the_recorder_writes_passes_the_safety_checks(tmp_path, shape):
    """Before issue 14, the cap counted float64 bytes (frames x cells x 8 within a quarter of the memory limit):
    a 24 h, 100 Hz, 16-cell recording was quarantined as 'unsafe'. Each shape of the recorder's envelope, in a real
    file declaring its full size, must pass with the default limits."""
    from pipeline.batch.safety import Limits, check_session_limits

    path = tmp_path / "envelope.h5"
    declared = _declared_session(path, shape)
    assert sum(declared.values()) == shape.file_bytes  # the envelope's arithmetic is the recorder's layout
    assert path.stat().st_size < 4 * 2**20
    limits = Limits()
    info = check_session_limits(path, limits)
    assert info["frames"] == {"left": shape.frames, "right": shape.frames}
    # even stored without compression, the file would be within the upload size limit
    assert shape.file_bytes <= limits.max_file_mb * 2**20


def test_the_memory_cap_still_refuses_what_does_not_fit(tmp_path):
    from pipeline.batch.safety import Limits, UnsafeInputError, check_session_limits

    path = tmp_path / "day.h5"
    _declared_session(path, RECORDER_ENVELOPE[0])
    with pytest.raises(UnsafeInputError, match=r"about 3320 MB, more than the memory allowed per file \(3072 MB"):
        check_session_limits(path, Limits(max_memory_mb=3072))  # the old default
    longer = SessionShape("48 h at 200 Hz", 48, 200, 16)
    _declared_session(tmp_path / "two-days.h5", longer)
    with pytest.raises(UnsafeInputError, match="34560000 frames, above the limit of 17280000"):
        check_session_limits(tmp_path / "two-days.h5", Limits())


# ------------------------------------------------------------------------------------------------ item 9
BIDI_AND_CONTROL = {"\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u200f", "\x1b", "\x07", "\x00"}


def _forbidden(text: str) -> set[str]:
    return {c for c in text if c in BIDI_AND_CONTROL or (unicodedata.category(c) == "Cc" and c not in "\n")}


def test_summary_escapes_formulas_and_neutralises_bidi_and_control_characters(tmp_path, bases):
    import h5py

    inbox, out = tmp_path / "inbox", tmp_path / "out"
    p = upload(inbox, "north/S0009/visit.h5", bases["neutral"], "S0009", 9)
    with h5py.File(p, "r+") as f:
        f["session"].attrs["subject_id"] = '=HYPERLINK("http://evil.example/x","open")'
        f.attrs["created_utc"] = "@SUM(1+1)"
    p = upload(inbox, "north/S\u202e0010/visit.h5", bases["neutral"], "S0010", 10)
    with h5py.File(p, "r+") as f:
        f["session"].attrs["subject_id"] = "S\u202e0010\x1b[2J\u2066x"
    upload(inbox, "=1+2/+S0011/-visit.h5", bases["neutral"], "S0011", 11)
    (inbox / "north/S0012").mkdir(parents=True)
    (inbox / "north/S0012/\u202egnp.h5").write_bytes(b"not a session")
    r = run_batch(inbox, out)
    assert r.returncode == 3, r.stderr
    text = (out / "summary.csv").read_text(encoding="utf-8")
    assert not _forbidden(text.replace("\n", ""))
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    for row in table:
        for cell in row:
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                float(cell)  # only numbers may start like a formula
    rows = {r["subject_id_in_file"]: r for r in summary_rows(out).values() if r["subject_id_in_file"]}
    assert "'=HYPERLINK(\"http://evil.example/x\",\"open\")" in rows
    assert any(r["recorded_utc"] == "'@SUM(1+1)" for r in rows.values())
    assert any(r["clinic"] == "'=1+2" for r in summary_rows(out).values())
    html = (out / "summary.html").read_text(encoding="utf-8")
    assert not _forbidden(html.replace("\n", ""))
    assert "U+202E" in html  # shown, not obeyed
    assert not _forbidden(r.stderr.replace("\n", "")) and not _forbidden(r.stdout.replace("\n", ""))
    reason = next((out / "quarantine").rglob("REASON.txt")).read_text(encoding="utf-8")
    assert not _forbidden(reason.replace("\n", ""))


# ------------------------------------------------------------------------------------------------ item 12
def test_a_damaged_ledger_is_moved_aside_and_rebuilt_from_the_outputs(tmp_path, bases):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    for k in range(8):
        upload(inbox, f"north/S{k:04d}/visit.h5", bases[("neutral", "overpronation")[k % 2]], f"S{k:04d}", 20 + k)
    (inbox / "north/S0000/broken.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + os.urandom(4000))
    first = run_batch(inbox, out)
    assert first.returncode == 3, first.stderr
    before = summary_rows(out)
    ledger = out / "ledger.sqlite"
    assert ledger.stat().st_size > 45056
    os.truncate(ledger, 45056)  # the campaign's `truncate -s 45056 ledger.sqlite`
    second = run_batch(inbox, out)
    assert second.returncode == 0, second.stderr
    assert "Traceback" not in second.stderr and "ledger" in second.stderr and "rebuilt" in second.stderr
    assert "0 processed" in second.stdout and "0 quarantined" in second.stdout
    after = summary_rows(out)
    assert {k: (r["status"], r["output_folder"], r["quarantine_folder"]) for k, r in after.items()} == {
        k: (r["status"], r["output_folder"], r["quarantine_folder"]) for k, r in before.items()}
    assert "rebuilt" in (out / "summary.html").read_text(encoding="utf-8")
    damaged = list(out.glob("ledger.damaged-*.sqlite"))
    assert len(damaged) == 1 and damaged[0].stat().st_size == 45056
    third = run_batch(inbox, out)
    assert third.returncode == 0 and "rebuilt" not in third.stderr and "0 processed" in third.stdout


# ------------------------------------------------------------------------------------------------ item 13
def test_read_only_output_folder_is_a_one_line_error(tmp_path, enforced):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    (inbox / "north").mkdir(parents=True)
    out.mkdir()
    out.chmod(0o555)
    try:
        for target in (out, out / "nightly"):
            r = subprocess.run(batch_cmd(inbox, target), capture_output=True, text=True, cwd=ROOT, timeout=600,
                               preexec_fn=without_permission_override)
            assert r.returncode == 1, r.stderr
            lines = r.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: ") and str(out) in lines[0], r.stderr
            assert "ermission denied" in lines[0]
    finally:
        out.chmod(0o755)


# ------------------------------------------------------------------------------------------------ item 16
@pytest.mark.parametrize(("item", "name", "allowed"), [
    ("block_frames=0", "block_frames", "1024"),
    ("block_frames=-5", "block_frames", "1024"),
    ("cache_mb=nan", "cache_mb", "finite"),
    ("on_share=1.5", "on_share", "0"),
    ("off_share=0.2", "off_share", "on_share"),
    ("baseline_window_s=inf", "baseline_window_s", "finite"),
    ("event_definition=guess", "event_definition", "onset"),
])
def test_analysis_parameters_are_checked_at_the_command_line(tmp_path, bases, item, name, allowed):
    inbox, out = tmp_path / "inbox", tmp_path / "out"
    upload(inbox, "north/S0020/visit.h5", bases["neutral"], "S0020", 30)
    r = run_batch(inbox, out, "--param", item)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert name in r.stderr and allowed in r.stderr and "Traceback" not in r.stderr
    assert not (out / "sessions").exists() and not (out / "quarantine").exists()


def test_analysis_parameters_are_checked_by_run_night(tmp_path):
    from pipeline.errors import PipelineError

    (tmp_path / "inbox").mkdir()
    for params in ({"block_frames": 0}, {"cache_mb": float("nan")}, {"block_frames": "many"}, {"nonsense": 1}):
        with pytest.raises(PipelineError, match=next(iter(params))):
            run_night(BatchConfig(inbox=tmp_path / "inbox", out_dir=tmp_path / "out", params=params), QUIET)
    assert not (tmp_path / "out" / "ledger.sqlite").exists()


# ------------------------------------------------------------------------------------------------ invalid input
def _set_attr(where: str, key: str, value):
    def change(f):
        f[where].attrs[key] = value
    return change


def _scale_dataset(where: str, factor: float):
    def change(f):
        data = f[where][()]
        del f[where]
        f[where] = data * factor
    return change


@pytest.mark.parametrize(("name", "change", "words"), [
    ("subject-not-utf8", _set_attr("session", "subject_id", b"\xff\xfe"), "/session subject_id"),
    ("notes-not-utf8", _set_attr("session", "notes", b"S\xe9ance"), "/session notes"),
    ("device-not-utf8", _set_attr("left", "device_model", b"\xc3\x28"), "/left device_model"),
    ("created-not-utf8", lambda f: f.attrs.__setitem__("created_utc", b"\xff"), "created_utc"),
    ("cells-nan", _scale_dataset("left/sensors/x_mm", float("nan")), "/left/sensors/x_mm"),
    ("cells-inf", _scale_dataset("right/sensors/y_mm", float("inf")), "/right/sensors/y_mm"),
    ("rate-absurd", _set_attr("left", "sampling_rate_hz", 1e12), "sampling_rate_hz"),
    ("rate-infinite", _set_attr("right", "sampling_rate_hz", float("inf")), "sampling_rate_hz"),
    ("rate-against-time", _set_attr("left", "sampling_rate_hz", 1e4), "time stamps"),
])
def test_uploads_with_invalid_content_are_invalid_input_not_software_defects(tmp_path, bases, name, change, words):
    import h5py

    from pipeline.batch.process import process_session

    path = tmp_path / f"{name}.h5"
    shutil.copyfile(bases["neutral"], path)
    with h5py.File(path, "r+") as f:
        change(f)
    out = process_session(path, tmp_path / "out", display_name=f"north/S1/{name}.h5")
    assert not out.ok and out.reason == "invalid-format", (out.reason, out.message)
    assert words in out.message and f"north/S1/{name}.h5" in out.message and not out.detail
