"""Hostile and damaged session files made from a real recorded session: each one changes exactly one thing.

The variants are those an adversarial campaign sent to ``insole info`` and ``insole analyze`` (issue 14): values
stored with the wrong type, implausible metadata, declared sizes far beyond the data, an unknown compression filter,
an interrupted crash-safe recording with one damaged metadata block.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
from recording_wait import wait_for_data

INSOLE = [sys.executable, "-c", "from pipeline.cli import main; main()"]


def _retype(f: h5py.File, path: str, convert: Callable[[np.ndarray], np.ndarray]) -> None:
    ds = f[path]
    data, attrs = ds[()], dict(ds.attrs)
    del f[path]
    f[path] = convert(data)
    for key, value in attrs.items():
        f[path].attrs[key] = value


def _as_v1_gaps(f: h5py.File, rows: int) -> None:
    f.attrs["format_version"] = 1
    for side in ("left", "right"):
        del f[f"{side}/gaps"]
    f["right"].create_dataset("gaps", (0, 2), np.float64)
    f["left"].create_dataset("gaps", (rows, 2), np.float64, chunks=(1 << 16, 2), compression="gzip")


def _one_chunk(f: h5py.File, n: int = 6_000_000) -> None:
    g = f["left"]
    attrs = dict(g["pressure"].attrs)
    for name in ("pressure", "time_s", "sequence", "device_time_us", "saturated"):
        del g[name]
    p = g.create_dataset("pressure", (n, 16), np.float32, chunks=(n, 16), compression="gzip", maxshape=(None, 16))
    for key, value in attrs.items():
        p.attrs[key] = value
    g.create_dataset("time_s", data=np.arange(n) / 100.0, chunks=(1 << 16,), compression="gzip")


def _times(f: h5py.File, key: str, value: object) -> None:
    f["session"].attrs[key] = value


#: name -> (change to the file, text the one-line error must contain)
VARIANTS: dict[str, tuple[Callable[[h5py.File], None], str]] = {
    "time_s as text": (lambda f: _retype(f, "left/time_s", lambda a: a.astype("S20")),
                       "/left/time_s must hold floating-point numbers, holds text"),
    "gap starts as text": (lambda f: _retype(f, "left/gaps/start_s", lambda a: a.astype("S20")),
                           "/left/gaps/start_s must hold numbers"),
    "sensor positions as text": (lambda f: _retype(f, "left/sensors/x_mm", lambda a: a.astype("S20")),
                                 "/left/sensors/x_mm must hold numbers"),
    "layout length 'abc'": (lambda f: f["left"].attrs.__setitem__("foot_length_mm", "abc"),
                            "/left attribute foot_length_mm must be a number, got 'abc'"),
    "subject foot length 'abc'": (lambda f: _times(f, "foot_length_mm", "abc"),
                                  "/session attribute foot_length_mm must be a number"),
    "sampling rate 1e9": (lambda f: f["left"].attrs.__setitem__("sampling_rate_hz", 1e9),
                          "/left attribute sampling_rate_hz 1e+09 Hz is outside the plausible range 1-10000 Hz"),
    "body mass -70 kg": (lambda f: _times(f, "body_mass_kg", -70.0),
                         "/session body_mass_kg -70 kg is outside the plausible range 15-300 kg"),
    "body mass 1e12 kg": (lambda f: _times(f, "body_mass_kg", 1e12),
                          "/session body_mass_kg 1e+12 kg is outside the plausible range"),
    "foot length -260 mm": (lambda f: _times(f, "foot_length_mm", -260.0),
                            "/session foot_length_mm -260 mm is outside the plausible range 150-350 mm"),
    "format_version 1.9": (lambda f: f.attrs.__setitem__("format_version", 1.9),
                           "format_version 1.9 is stored as float"),
    "format_version '1'": (lambda f: f.attrs.__setitem__("format_version", "1"),
                           "format_version '1' is stored as text"),
    "4e8 gaps declared": (lambda f: _as_v1_gaps(f, 400_000_000),
                          "/left/gaps declares shape (400000000, 2)"),
    "6M frames in one chunk": (_one_chunk, "/left/pressure is stored in chunks of (6000000, 16)"),
}


def make_variant(base: Path, folder: Path, name: str) -> tuple[Path, str]:
    """A copy of ``base`` with the change ``name`` of :data:`VARIANTS`; returns it and the expected error text."""
    change, expected = VARIANTS[name]
    out = folder / (re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") + ".h5")
    shutil.copy(base, out)
    with h5py.File(out, "r+") as f:
        change(f)
    return out, expected


def with_unknown_filter(base_folder: Path) -> Path:
    """A session whose left pressure is compressed with filter 32123, which no HDF5 installation knows.

    Written with LZF (32000), then the filter number in the dataset's filter-pipeline message is patched (format
    version 1 object headers carry no checksum).
    """
    from insole.layouts import builtin_layout
    from insole.session import SessionMetadata, SessionWriter

    path = base_folder / "unknown_filter.h5"
    with SessionWriter(path, SessionMetadata()) as w:
        for side in ("left", "right"):
            w.add_foot(side, builtin_layout(16), units="kPa", sampling_rate_hz=100)
            w.append(side, np.arange(3000) / 100.0, np.full((3000, 16), 50.0, np.float32))
    with h5py.File(path, "r+") as f:
        data, attrs = f["left/pressure"][()], dict(f["left/pressure"].attrs)
        del f["left/pressure"]
        f["left"].create_dataset("pressure", data=data, compression="lzf", chunks=(1024, 16), maxshape=(None, 16))
        for key, value in attrs.items():
            f["left/pressure"].attrs[key] = value
    raw = bytearray(path.read_bytes())
    hits = [m.start() for m in re.finditer(rb"lzf\x00", raw)]
    assert hits, "no LZF filter message found"
    for at in hits:
        ident = at - 8  # version-1 filter description: id, name length, flags, value count (u16 each), name
        assert raw[ident : ident + 2] == (32000).to_bytes(2, "little")
        raw[ident : ident + 2] = (32123).to_bytes(2, "little")
    path.write_bytes(bytes(raw))
    return path


def interrupted_recording(path: Path, seconds: float = 3.0) -> Path:
    """A crash-safe recording of two simulated insoles killed with SIGKILL after ``seconds`` of data."""
    urls = ["sim://neutral?side=left&seed=4", "sim://neutral?side=right&seed=4"]
    proc = subprocess.Popen([*INSOLE, "record", "--device", urls[0], "--device", urls[1], "-o", str(path), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wait_for_data(path, seconds, proc)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return path


def damage_metadata(src: Path, out: Path) -> Path:
    """A copy of ``src`` with one byte flipped inside a checksummed object header (``OHDR``) of a foot."""
    raw = bytearray(src.read_bytes())
    headers = [m.start() for m in re.finditer(rb"OHDR", raw)]
    raw[headers[3] + 10] ^= 0xFF
    out.write_bytes(bytes(raw))
    return out


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The ``insole`` program in a real process."""
    return subprocess.run([*INSOLE, *args], capture_output=True, text=True, timeout=timeout)
