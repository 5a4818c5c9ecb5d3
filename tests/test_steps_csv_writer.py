"""steps.csv is written without pyarrow or pandas, byte for byte as Arrow's CSV writer wrote it (issue 15).

The reference is the writer this one replaced: pyarrow's ``write_csv`` of ``Table.from_pandas(steps)`` after a
plain header line (pyarrow stays installed for Parquet export). It is compared on adversarial tables of every
column type, on a dense random sample of float64 and float32 values, and on real step tables of sample recordings.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest

from pipeline.analysis import analyze_session
from pipeline.analysis.result.steps_csv import (
    BLOCK_ROWS,
    arrow_float_text,
    float32_shortest_as_float64,
    read_steps_csv,
    write_steps_csv,
)

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "pipeline" / "analysis" / "result" / "steps_csv.py"


def arrow_reference(table: pd.DataFrame) -> bytes:
    """What the previous writer (Arrow's C++ CSV writer) wrote for ``table``."""
    out = io.BytesIO()
    out.write((",".join(map(str, table.columns)) + "\n").encode())
    pa_csv.write_csv(pa.Table.from_pandas(table, preserve_index=False), out,
                     pa_csv.WriteOptions(include_header=False))
    return out.getvalue()


def written(steps, tmp_path: Path) -> bytes:
    return write_steps_csv(steps, tmp_path / "steps.csv").read_bytes()


def edge_floats() -> np.ndarray:
    """Float64 values at and around every place where a shortest-digit layout can change."""
    base = [0.0, 1e-5, 1e-7, 1e16, 1e21, 1e22, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1.0, 2.0,
            100.0, 1e9, 9999999999.0, 1e10, 12345678901.5, 1e15, 123456789012345.6, 1e-6, 9.99e-7, 1e-4, 0.1,
            1 / 3, 2 / 3, 0.5, 1.5, 2.5e-6, 1.25e-5, 4.35, 0.30000000000000004, 9007199254740993.0, 1e100, 1e-100,
            1e300, 1.5e300, 2.1e300, 123.0, 1e-300]
    powers = [10.0 ** e for e in range(-40, 41)] + [2.0 ** e for e in range(-1074, 1024, 7)]
    near = []
    for v in [1e-6, 1e-5, 1e-4, 1e10, 1e16, 1e15] + powers[::4]:
        near += [np.nextafter(v, 0), v, np.nextafter(v, np.inf)]
    values = np.array(base + powers + near, dtype=np.float64)
    return np.concatenate([values, -values, [np.nan, np.inf, -np.inf, -0.0]])


def test_float64_edge_values_are_written_as_arrow_writes_them(tmp_path):
    values = edge_floats()
    table = pd.DataFrame({"x": values, "y": values[::-1].copy()})
    assert written(table, tmp_path) == arrow_reference(table)
    # and the layout rules Arrow follows, spelled out
    assert [arrow_float_text(v) for v in (1.0, -0.0, 1e-5, 1e-7, 1e16, 1e10, 9999999999.0, 5e-324, np.inf, np.nan)] \
        == ["1", "-0", "0.00001", "1e-7", "1e+16", "1e+10", "9999999999", "5e-324", "inf", ""]


def test_random_float64_bit_patterns_and_decimals(tmp_path):
    rng = np.random.default_rng(15)
    bits = rng.integers(0, 2**64, size=150_000, dtype=np.uint64).view(np.float64)
    decimals = rng.integers(-10**9, 10**9, 150_000) / 10.0 ** rng.integers(0, 12, 150_000)
    spread = rng.uniform(1, 10, 150_000) * 10.0 ** rng.integers(-12, 20, 150_000)
    table = pd.DataFrame({"bits": bits, "decimals": decimals, "spread": spread})
    assert written(table, tmp_path) == arrow_reference(table)


def float32_sample() -> np.ndarray:
    """About a million float32 values: random bit patterns over every exponent, measurement-like magnitudes,
    short decimals (ties and trailing zeros), every power of two, integers and the extremes."""
    rng = np.random.default_rng(32)
    bits = rng.integers(0, 2**32, size=150_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    # every mantissa pattern at exponents 2**-40 .. 2**40 (where the vectorised method decides alone)
    mantissa = rng.integers(0, 2**23, size=350_000, dtype=np.uint32)
    exponent = rng.integers(127 - 40, 127 + 40, size=350_000).astype(np.uint32)
    in_range = ((exponent << np.uint32(23)) | mantissa).view(np.float32)
    measured = (rng.uniform(0, 1, 250_000) * 10.0 ** rng.integers(-3, 6, 250_000)).astype(np.float32)
    short = (rng.integers(1, 100_000, 200_000) * 10.0 ** rng.integers(-9, 9, 200_000)).astype(np.float32)
    halves = (rng.integers(0, 20_000, 50_000) / 8).astype(np.float32)
    twos = np.ldexp(np.float32(1), np.arange(-149, 128)).astype(np.float32)
    extremes = np.array([np.finfo(np.float32).max, np.finfo(np.float32).tiny, np.float32(1e-45), 0.0, -0.0,
                         16777216, 16777217, 1e10, 1e-6, 1e-5, 1e16, 3.4e38, 1.17549435e-38], dtype=np.float32)
    around = np.concatenate([np.nextafter(twos, np.float32(0)), np.nextafter(twos, np.float32(np.inf))])
    values = np.concatenate([bits, in_range, measured, short, halves, twos, around, extremes])
    return np.concatenate([values, -values[150_000:200_000]])


def test_float32_shortest_digits_equal_numpy_and_arrow(tmp_path):
    values = float32_sample()
    finite = values[np.isfinite(values)]
    got = float32_shortest_as_float64(finite)
    # numpy's float32 str is Dragon4's shortest round-trip digits; the double of those digits is the same double
    expected = np.array([float(str(v)) for v in finite])
    mismatch = np.flatnonzero(got != expected)
    assert mismatch.size == 0, [(finite[i], got[i], expected[i]) for i in mismatch[:5]]
    assert np.array_equal(np.signbit(got), np.signbit(finite))
    table = pd.DataFrame({"f32": values})
    assert written(table, tmp_path) == arrow_reference(table)


def adversarial_table(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    texts = np.array(["left", "", "a,b", 'say "hi"', "two\nlines", "cr\rlf\r\n", "ünïcödé ✓", "null", "1e300",
                      "],[", "x.0,y", "\\back\\", "tab\there", "\x01ctl", " lead and trail "], dtype=object)
    floats = edge_floats()
    f32 = float32_sample()[:5000]
    return {
        "side": texts[rng.integers(0, texts.size, n)],
        "step": rng.integers(-(2**63), 2**63 - 1, n, dtype=np.int64),
        "f64": floats[rng.integers(0, floats.size, n)],
        "valid": rng.random(n) < 0.5,
        "f32": f32[rng.integers(0, f32.size, n)],
        "small": rng.integers(0, 200, n).astype(np.uint8),
        "note": np.where(rng.random(n) < 0.3, None, texts[rng.integers(0, texts.size, n)]),
        "count32": rng.integers(-5, 5, n).astype(np.int32),
        "last": rng.normal(0, 1e6, n).astype(np.float32),
    }


@pytest.mark.parametrize("n", [0, 1, 2, 7, BLOCK_ROWS + 3])
def test_adversarial_tables_of_every_type(tmp_path, n):
    columns = adversarial_table(n, np.random.default_rng(n))
    table = pd.DataFrame(columns)
    reference = arrow_reference(table)
    assert written(table, tmp_path) == reference  # a DataFrame
    assert written(columns, tmp_path) == reference  # a dict of numpy arrays
    # every column order puts each type first and last (the fields around a line break)
    names = list(columns)
    for k in range(len(names)):
        rolled = {c: columns[c] for c in names[k:] + names[:k]}
        assert written(rolled, tmp_path) == arrow_reference(pd.DataFrame(rolled)), names[k]


def test_single_columns_and_an_empty_table(tmp_path):
    for name, values in adversarial_table(40, np.random.default_rng(1)).items():
        table = pd.DataFrame({name: values})
        assert written(table, tmp_path) == arrow_reference(table), name
    assert written({}, tmp_path) == arrow_reference(pd.DataFrame()) == b"\n"
    empty = pd.DataFrame({"a": np.zeros(0), "b": np.zeros(0, bool), "c": np.array([], dtype=object)})
    assert written(empty, tmp_path) == arrow_reference(empty) == b"a,b,c\n"


def test_numpy_unicode_text_columns(tmp_path):
    columns = {"s": np.array(["a", 'q"q', "", "é,\n"]), "x": np.array([1.0, 2.5, -0.0, 1e-7])}
    assert written(columns, tmp_path) == arrow_reference(pd.DataFrame(columns))


@pytest.mark.parametrize("name", ["neutral.h5", "running.h5"])
def test_sample_recordings_step_tables_are_byte_identical_and_read_back(tmp_path, name):
    result = analyze_session(ROOT / "sample_recordings/simulated" / name)
    out = result.write_steps(tmp_path / "steps.csv")
    reference = arrow_reference(result.steps)
    assert out.read_bytes() == reference
    # the round trip: read back as the table analysed (float32 columns as float64 of their shortest form)
    back = read_steps_csv(out)
    (tmp_path / "arrow.csv").write_bytes(reference)
    pd.testing.assert_frame_equal(back, read_steps_csv(tmp_path / "arrow.csv"), check_exact=True)
    assert list(back.columns) == list(result.steps.columns)
    for c in result.steps.columns:
        original = result.steps[c]
        if original.dtype == np.float32:
            np.testing.assert_array_equal(back[c].to_numpy(np.float64).astype(np.float32), original.to_numpy())
        elif original.dtype.kind in "fi":
            np.testing.assert_array_equal(back[c].to_numpy(), original.to_numpy())
        else:
            assert back[c].tolist() == original.tolist(), c


def test_bad_tables_are_refused_with_the_column_named(tmp_path):
    with pytest.raises(ValueError, match="'b' has 2 values"):
        write_steps_csv({"a": np.zeros(3), "b": np.zeros(2)}, tmp_path / "x.csv")
    with pytest.raises(ValueError, match="'a' has shape"):
        write_steps_csv({"a": np.zeros((2, 2))}, tmp_path / "x.csv")
    with pytest.raises(TypeError, match="'t' is datetime64"):
        write_steps_csv({"t": np.array(["2024-01-01"], dtype="datetime64[s]")}, tmp_path / "x.csv")
    with pytest.raises(TypeError, match="'s' holds a int"):
        write_steps_csv({"s": np.array(["a", 3], dtype=object)}, tmp_path / "x.csv")
    with pytest.raises(TypeError, match="'h' is float16"):
        write_steps_csv({"h": np.zeros(2, np.float16)}, tmp_path / "x.csv")


def test_the_writer_imports_neither_pyarrow_nor_pandas(tmp_path):
    # the module loaded on its own, in a fresh interpreter, writes a table
    code = (
        "import importlib.util, sys, numpy as np\n"
        f"spec = importlib.util.spec_from_file_location('steps_csv', {str(MODULE)!r})\n"
        "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
        "table = {'a': np.array([1.5, np.nan]), 'b': np.array(['x', 'y'])}\n"
        f"mod.write_steps_csv(table, {str(tmp_path / 'o.csv')!r})\n"
        "print(sorted(m for m in ('pyarrow', 'pandas') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert proc.stdout.strip() == "[]"
    assert (tmp_path / "o.csv").read_bytes() == b'a,b\n1.5,"x"\n,"y"\n'
