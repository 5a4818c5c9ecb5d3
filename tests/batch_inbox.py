"""Build test inboxes for the nightly batch: many small valid sessions plus malformed and hostile uploads.

Valid sessions are byte-level variations of a few simulated sessions (real simulator, real recorder): each copy
gets its own subject, notes and recording time in the HDF5 attributes, so every copy has a different content hash.
Used by ``tests/test_batch*.py`` and ``benchmarks/bench_batch.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from insole.layouts import builtin_layout
from insole.session import SessionMetadata, SessionWriter
from insole.simulator.session import simulate_session

BASE_PROFILES = ("neutral", "overpronation", "leg-length-discrepancy")


@dataclass
class Inbox:
    """What was put in a test inbox (paths relative to the inbox, POSIX)."""

    root: Path
    good: list[str] = field(default_factory=list)
    bad: dict[str, str] = field(default_factory=dict)  # rel path -> expected reason code
    duplicates: dict[str, str] = field(default_factory=dict)  # rel path -> path with the same content


def make_bases(folder: Path, duration_s: float = 12.0) -> list[Path]:
    """Simulate the base sessions (one per profile in :data:`BASE_PROFILES`, plus a standing one)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, profile in enumerate((*BASE_PROFILES, "standing")):
        path = folder / f"{profile}.h5"
        if not path.exists():
            simulate_session(path, profile=profile, duration_s=duration_s, seed=11 + i)
        out.append(path)
    return out


def variant(base: Path, dest: Path, subject: str, k: int) -> Path:
    """Copy ``base`` to ``dest`` with its own subject, notes and recording time (a new content hash)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(base, dest)
    with h5py.File(dest, "r+") as f:
        f["session"].attrs["subject_id"] = subject
        f["session"].attrs["notes"] = f"test upload {k}"
        t = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=k % 97, minutes=k)
        f.attrs["created_utc"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
    return dest


def _session_skeleton(path: Path, n_frames: int = 100, side: str = "left") -> None:
    layout = builtin_layout(16)
    with SessionWriter(path, SessionMetadata(subject_id="X"), source="imported", overwrite=True) as w:
        w.add_foot(side, layout, units="kPa", sampling_rate_hz=100)
        if n_frames:
            w.append(side, np.arange(n_frames) / 100.0, np.ones((n_frames, 16), np.float32))


def add_hostile(inbox: Inbox, base: Path, outside: Path, folder: str = "hostile-clinic/H001") -> None:
    """Malformed and hostile uploads (16), each with the reason code the batch must give."""
    root = inbox.root
    d = root / folder
    d.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(sum(folder.encode()))
    safe = folder.replace("/", "_")
    data = base.read_bytes()

    def bad(name: str, reason: str) -> Path:
        inbox.bad[f"{folder}/{name}"] = reason
        return d / name

    bad("truncated.h5", "unreadable").write_bytes(data[: len(data) // 2])
    bad("truncated-header.h5", "unreadable").write_bytes(data[:600])
    bad("random-bytes.h5", "unreadable").write_bytes(rng.bytes(50_000))
    bad("empty.h5", "unreadable").write_bytes(b"")
    p = bad("nan-pressure.h5", "not-analysable")
    shutil.copyfile(base, p)
    with h5py.File(p, "r+") as f:
        for side in ("left", "right"):
            f[side]["pressure"][...] = np.nan
    _session_skeleton(bad("zero-frames.h5", "empty"), n_frames=0)
    p = bad("enormous-shape.h5", "unsafe")
    with h5py.File(p, "w") as f:
        f.attrs["format"], f.attrs["format_version"] = "insole-session", 1
        f.create_group("session")
        g = f.create_group("left")
        g.create_dataset("pressure", (10**9, 99), np.float32, chunks=(1024, 99), compression="gzip")
        g["pressure"].attrs["units"] = "kPa"
        g.create_dataset("time_s", (10**9,), np.float64, chunks=(4096,), compression="gzip")
        for name in ("x_mm", "y_mm", "area_mm2"):
            g[f"sensors/{name}"] = np.ones(99)
        g.attrs["units"], g.attrs["sampling_rate_hz"] = "kPa", 100.0
    secret = outside / f"secret-{safe}.h5"
    _session_skeleton(secret)
    p = bad("external-link.h5", "unsafe")
    _session_skeleton(p)
    with h5py.File(p, "r+") as f:
        del f["left/pressure"]
        f["left/pressure"] = h5py.ExternalLink(str(secret), "/left/pressure")
    p = bad("virtual-dataset.h5", "unsafe")
    _session_skeleton(p)
    with h5py.File(p, "r+") as f:
        lay = h5py.VirtualLayout(shape=(100, 16), dtype=np.float32)
        lay[:] = h5py.VirtualSource(str(secret), "left/pressure", shape=(100, 16))
        del f["left/pressure"]
        f.create_virtual_dataset("left/pressure", lay)
        f["left/pressure"].attrs["units"] = "kPa"
    p = bad("external-storage.h5", "unsafe")
    _session_skeleton(p)
    raw = outside / f"raw-{safe}.bin"
    raw.write_bytes(np.ones((100, 16), np.float32).tobytes())
    with h5py.File(p, "r+") as f:
        del f["left/pressure"]
        f.create_dataset("left/pressure", (100, 16), np.float32, external=[(str(raw), 0, 100 * 16 * 4)])
        f["left/pressure"].attrs["units"] = "kPa"
    p = bad("not-a-session.h5", "invalid-format")
    with h5py.File(p, "w") as f:
        f["data"] = np.arange(10)
    p = bad("future-version.h5", "invalid-format")
    shutil.copyfile(base, p)
    with h5py.File(p, "r+") as f:
        f.attrs["format_version"] = 99
    link = bad("link-outside.h5", "unsafe")
    shutil.copyfile(base, outside / f"elsewhere-{safe}.h5")
    os.symlink(outside / f"elsewhere-{safe}.h5", link)
    fifo = bad("pipe.h5", "unsafe")
    os.mkfifo(fifo)
    inbox.bad[f"{folder}/bad-\ufffd-name.h5"] = "unsafe"  # a name that is not UTF-8 (shown with U+FFFD)
    with open(os.fsencode(d) + b"/bad-\xff-name.h5", "wb") as fh:
        fh.write(data)


def build_inbox(root: Path, bases: list[Path], *, n_good: int, outside: Path, hostile: int = 1,
                n_clinics: int = 3, sessions_per_subject: int = 4) -> Inbox:
    """Make an inbox with ``n_good`` valid sessions (plus duplicates, odd names and hostile files)."""
    inbox = Inbox(root)
    walking = [b for b in bases if b.stem != "standing"]
    for k in range(n_good):
        clinic = f"clinic-{k % n_clinics}"
        subject = f"S{k // sessions_per_subject:04d}"
        rel = f"{clinic}/{subject}/visit-{k % sessions_per_subject}.h5"
        variant(walking[k % len(walking)], root / rel, subject, k)
        inbox.good.append(rel)
    # duplicates under other names (one processed, others reported as duplicates)
    for k, src in enumerate(inbox.good[:3]):
        rel = f"clinic-0/S9000/copy of upload {k}.h5"
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / src, root / rel)
        inbox.duplicates[rel] = src
    # awkward but harmless names
    weird = "clinic-0/S7000/Müller ; rm -rf $HOME ..  visit #1 \\x00.HDF5"
    (root / weird).parent.mkdir(parents=True, exist_ok=True)
    variant(walking[0], root / weird, "weird", 10_000)
    inbox.good.append(weird)
    standing = next((b for b in bases if b.stem == "standing"), None)
    if standing is not None:
        rel = "clinic-1/S8000/standing.h5"
        variant(standing, root / rel, "S8000", 10_001)
        inbox.bad[rel] = "not-analysable"  # a valid file of someone standing: the analysis refuses it, with why
    (root / "clinic-0" / "README.txt").write_text("not a session\n")
    (root / "clinic-0" / ".upload-in-progress.h5.partial").write_bytes(b"partial")
    for h in range(hostile):
        add_hostile(inbox, walking[h % len(walking)], outside, folder=f"hostile-clinic/H{h + 1:03d}")
    return inbox
