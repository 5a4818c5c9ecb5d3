"""Text importers read in blocks (issue 14, item 15): the Python memory an import needs does not grow with the file.

A 100 MB gaitpdb file used to need 1.75 GB (every line as a Python string, then every cell); the importer now
parses blocks of lines. The check is tracemalloc's peak (numpy arrays and Python objects) against the file size,
on a real ~20 MB file in gaitpdb format: the whole-file reader peaked at 275 MiB (14 times the file), the
block reader at 6 MiB.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np

from insole.importers import import_recording
from insole.session import open_session

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_recordings" / "gaitpdb" / "GaCo01_01.txt"


def _big_gaitpdb(path: Path, target_bytes: int) -> int:
    """The sample walk repeated (times continued at 100 Hz) until the file reaches ``target_bytes``; its rows."""
    rows = [ln.split("\t") for ln in SAMPLE.read_text().splitlines() if ln.strip()]
    size = k = 0
    with open(path, "w") as fh:
        while size < target_bytes:
            line = "\t".join([f"{k / 100:.2f}", *rows[k % len(rows)][1:]]) + "\n"
            fh.write(line)
            size += len(line)
            k += 1
    return k


def assert_import_is_bounded(fmt: str, src: Path, n: int, sep: str, right_cells: slice, tmp_path: Path) -> None:
    """Import ``src``: tracemalloc's peak stays under half the file's size, and the last rows arrive intact."""
    tracemalloc.start()
    try:
        out = import_recording(fmt, src, tmp_path / "s.h5")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    size = src.stat().st_size
    assert peak < size / 2, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.1f} MiB file"
    with open_session(out) as sf:  # and nothing was lost on the way
        assert sf.n_frames("left") == sf.n_frames("right") == n
        last = sf.read("right", n - 3, n, fields=("time_s", "pressure"))
    expected = np.array([ln.split(sep) for ln in src.read_text().splitlines()[-3:]], dtype=np.float64)
    np.testing.assert_array_equal(last.time_s, expected[:, 0])
    np.testing.assert_array_equal(last.pressure, expected[:, right_cells].astype(np.float32))


def test_gaitpdb_import_memory_is_bounded_by_a_block_not_the_file(tmp_path):
    src = tmp_path / "GaCo99_01.txt"
    assert_import_is_bounded("gaitpdb", src, _big_gaitpdb(src, 20_000_000), "\t", slice(9, 17), tmp_path)


CSV_SAMPLE = ROOT / "sample_recordings" / "csv" / "diy_example.csv"


def _big_csv(path: Path, target_bytes: int) -> int:
    """The sample CSV's rows repeated (times continued at 100 Hz) until the file reaches ``target_bytes``; its rows."""
    lines = CSV_SAMPLE.read_text().splitlines()
    header = [ln for ln in lines if ln.startswith("#")]
    table = [ln for ln in lines if ln and not ln.startswith("#")]
    columns, rows = table[0], [ln.split(",", 1)[1] for ln in table[1:]]
    size = k = 0
    with open(path, "w") as fh:
        fh.write("\n".join([*header, columns]) + "\n")
        while size < target_bytes:
            line = f"{k / 100:.2f},{rows[k % len(rows)]}\n"
            fh.write(line)
            size += len(line)
            k += 1
    return k


def test_csv_import_memory_is_bounded_by_a_block_not_the_file(tmp_path):
    src = tmp_path / "big.csv"
    assert_import_is_bounded("csv", src, _big_csv(src, 20_000_000), ",", slice(17, 33), tmp_path)
