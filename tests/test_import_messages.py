"""Import messages (issue 14, "smaller messages to fix"): each names the file and line and says what is wrong in words.

Real sample files, altered the way a user's or a hostile file would be, through the real importers and the CLI.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from insole.errors import ImportSourceError
from insole.importers import detect_format, import_recording
from insole.session import open_session, read_session

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_recordings"
INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*INSOLE, *args], capture_output=True, text=True, timeout=120)


def _gaitndd_record(folder: Path, record: str = "control1") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for ext in (".hea", ".let", ".rit"):
        shutil.copy(SAMPLES / "gaitndd" / f"{record}{ext}", folder)
    return folder / f"{record}.hea"


def _rename_left_signal(hea: Path, name: str) -> None:
    lines = hea.read_text().splitlines(keepends=True)
    assert lines[1].startswith("control1.let ")
    lines[1] = name + lines[1][len("control1.let"):]
    hea.write_text("".join(lines))


# --------------------------------------------------------------------------------------------- gaitndd paths
@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink"])
@pytest.mark.parametrize("outside_exists", [True, False])
def test_gaitndd_signal_outside_the_record_folder_is_refused_without_looking_at_it(tmp_path, how, outside_exists):
    secret = tmp_path / "secret.bin"
    if outside_exists:
        secret.write_bytes(b"x" * 1294)
    hea = _gaitndd_record(tmp_path / "rec")
    if how == "dotdot":
        name = "../secret.bin"
    elif how == "absolute":
        name = str(secret)
    else:
        name = "link.let"
        (tmp_path / "rec" / "link.let").symlink_to(secret)
    _rename_left_signal(hea, name)
    with pytest.raises(ImportSourceError) as info:
        import_recording("gaitndd", hea, tmp_path / "s.h5")
    msg = str(info.value)
    # the name as the header gives it, cut to 80 characters (a hostile header's name is bounded; a long temporary
    # folder, e.g. under pytest-xdist, makes the absolute name longer than that)
    assert msg.startswith(f"{hea}: line 2: signal file {name[:80]!r} ")
    assert "record's folder" in msg or "absolute path" in msg
    # nothing about the outside file: not its size, not whether it exists, not that it is truncated
    for fact in ("1294", "bytes", "missing", "truncated", "does not exist", "empty"):
        assert fact not in msg, msg
    assert "\n" not in msg and not (tmp_path / "s.h5").exists()


def test_gaitndd_outside_signal_message_is_the_same_whether_or_not_the_file_exists(tmp_path):
    messages = []
    for k, exists in enumerate((True, False)):
        folder = tmp_path / f"case{k}"
        hea = _gaitndd_record(folder / "rec")
        if exists:
            (folder / "secret.bin").write_bytes(b"\0" * 27000)
        _rename_left_signal(hea, "../secret.bin")
        r = _cli("import", "gaitndd", str(hea), "-o", str(folder / "s.h5"))
        assert r.returncode == 1 and "Traceback" not in r.stderr
        messages.append(r.stderr.replace(str(folder), "<dir>"))
    assert messages[0] == messages[1]
    assert messages[0].strip().count("\n") == 0


def test_gaitndd_signal_symlink_inside_the_folder_is_still_read(tmp_path):
    hea = _gaitndd_record(tmp_path / "rec")
    (tmp_path / "rec" / "control1.let").rename(tmp_path / "rec" / "real.let")
    (tmp_path / "rec" / "control1.let").symlink_to("real.let")
    out = import_recording("gaitndd", hea, tmp_path / "s.h5")
    assert out.exists()


# --------------------------------------------------------------------------------------------- gaitndd rate
@pytest.mark.parametrize("rate", ["0", "-300", "nan"])
def test_gaitndd_header_rate_that_is_not_a_rate(tmp_path, rate):
    hea = _gaitndd_record(tmp_path / "rec")
    lines = hea.read_text().splitlines(keepends=True)
    head = lines[0].split(" ")
    head[2] = rate
    lines[0] = " ".join(head)
    hea.write_text("".join(lines))
    with pytest.raises(ImportSourceError) as info:
        import_recording("gaitndd", hea, tmp_path / "s.h5")
    assert str(info.value).startswith(f"{hea}: line 1: the sampling rate {rate!r} is not a valid rate")
    r = _cli("import", "gaitndd", str(hea), "-o", str(tmp_path / "s.h5"))
    assert r.returncode == 1 and "time_s" not in r.stderr and "Warning" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "line 1: the sampling rate" in r.stderr


# --------------------------------------------------------------------------------------------- byte-order marks
BOM = b"\xef\xbb\xbf"


@pytest.mark.parametrize(
    ("fmt", "sample"),
    [("moticon", "moticon/230927_102114.txt"), ("gaitpdb", "gaitpdb/GaCo01_01.txt"), ("csv", "csv/diy_example.csv")],
)
def test_text_export_with_a_byte_order_mark_imports_like_without(tmp_path, fmt, sample):
    src = SAMPLES / sample
    with_bom = tmp_path / "bom" / src.name
    with_bom.parent.mkdir()
    with_bom.write_bytes(BOM + src.read_bytes())
    assert detect_format(with_bom) == fmt
    plain = read_session(import_recording(fmt, src, tmp_path / "plain.h5"))
    bom = read_session(import_recording(fmt, with_bom, tmp_path / "bom.h5"))
    assert set(bom.feet) == set(plain.feet)
    for side, foot in plain.feet.items():
        np.testing.assert_array_equal(bom.feet[side].time_s, foot.time_s)
        np.testing.assert_array_equal(bom.feet[side].pressure, foot.pressure)


def test_gaitndd_header_with_a_byte_order_mark(tmp_path):
    hea = _gaitndd_record(tmp_path / "rec")
    hea.write_bytes(BOM + hea.read_bytes())
    assert detect_format(hea) == "gaitndd"
    s = read_session(import_recording("gaitndd", hea, tmp_path / "s.h5"))
    assert s.feet["left"].pressure.shape == (18000, 1)


# --------------------------------------------------------------------------------------------- Moticon steps
def _moticon_with_step_cells(dst: Path, change) -> tuple[list[list[str]], list[str]]:
    """The sample export with its step cells rewritten by ``change(name, cell) -> cell``; its data rows, names."""
    lines = (SAMPLES / "moticon" / "230927_102114.txt").read_text(encoding="utf-8").split("\n")
    names = [c.split("[")[0].strip() for c in lines[[k for k, ln in enumerate(lines) if ln.startswith("#")][-1]]
             [2:].split("\t")]
    cols = {n: names.index(n) for n in ("left steps", "right steps")}
    rows = []
    for k, ln in enumerate(lines):
        if ln and not ln.startswith("#"):
            cells = ln.split("\t")
            for name, j in cols.items():
                cells[j] = change(name, cells[j])
            lines[k] = "\t".join(cells)
            rows.append(cells)
    dst.write_text("\n".join(lines), encoding="utf-8")
    return rows, names


@pytest.mark.parametrize("nan_text", ["NaN", "nan"])
def test_moticon_nan_step_cells_are_missing_events(tmp_path, nan_text):
    seen = {"left steps": 0}

    def change(name, cell):  # the first two left events become NaN, every empty right cell too
        if name == "left steps" and cell and seen[name] < 2:
            seen[name] += 1
            return nan_text
        return nan_text if name == "right steps" and not cell else cell

    src = tmp_path / "m.txt"
    rows, names = _moticon_with_step_cells(src, change)
    out = import_recording("moticon", src, tmp_path / "s.h5")
    t = np.array([float(r[0]) for r in rows])
    with open_session(out) as sf:
        for side, code in (("left", 11.0), ("right", 21.0)):
            j = names.index(f"{side} steps")
            codes = np.array([float(r[j]) if r[j] else np.nan for r in rows])
            np.testing.assert_array_equal(sf.read_extra(f"vendor_events/{side}/ic_s"), t[codes == code])
            np.testing.assert_array_equal(sf.read_extra(f"vendor_events/{side}/to_s"), t[codes == code + 4])
    assert seen["left steps"] == 2


def test_moticon_unknown_step_code_is_a_plain_number(tmp_path):
    src = tmp_path / "m.txt"
    _moticon_with_step_cells(src, lambda name, cell: "12.5" if name == "left steps" and cell else cell)
    with pytest.raises(ImportSourceError) as info:
        import_recording("moticon", src, tmp_path / "s.h5")
    msg = str(info.value)
    assert "column 'left steps' has event code(s) 12.5; expected 11" in msg and "np." not in msg
