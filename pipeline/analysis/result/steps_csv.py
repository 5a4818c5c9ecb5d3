"""The per-step table as CSV, formatted with numpy and msgspec (no pandas or pyarrow on the write path).

What is written, byte for byte what Arrow's C++ CSV writer (pyarrow 26) wrote for the same table before (the
tests compare the two): the header line with the plain column names, then one line per step, fields separated by
``,`` and lines ended by ``\\n``:

- float64 values in their shortest round-trip digits, as Arrow's double-conversion settings write them: plain
  decimals when the decimal exponent is in [-6, 10) (``0.000001``, ``9999999999``, integral values without
  ``.0``), otherwise ``d.ddde+XX`` / ``d.ddde-X`` (``1e+10``, ``1.5e+16``, ``1e-7``, ``5e-324``); ``-0`` for
  negative zero, ``inf`` / ``-inf``; NaN (a missing value) as an empty field;
- float32 values in their shortest single-precision digits (``63.69617``, not ``63.696170806884766``), same layout;
- integers in decimal; booleans as ``true`` / ``false`` (read back as booleans by pandas, R and spreadsheets);
- text values always quoted, with ``"`` doubled (commas, line breaks and non-ASCII kept as they are, UTF-8);
  missing text (None / NaN in an object column) as an empty, unquoted field.

How: the table is written in blocks of :data:`BLOCK_ROWS` rows (a 24-hour table never becomes one string). In a
block, each float column is formatted in one call: ``msgspec.json.encode(values.tolist())`` gives the shortest
round-trip digits of every value in C, and the few values msgspec lays out differently from Arrow (integral values
end in ``.0``; magnitudes in [1e-6, 1e-5) or >= 1e10; inf and NaN) are rewritten (a string replace for the first,
:func:`arrow_float_text` for the rest). A float32 column is first mapped, in vectorised float64 arithmetic, to the
double nearest its shortest single-precision decimal (:func:`float32_shortest_as_float64`), whose float64
shortest digits are those same digits. Rows are then joined column by column with ``zip``.

Speed (benchmarks/bench_cli.py, ``steps.csv``, the 6,702 x 87 table of a one-hour session): TBD
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np

if TYPE_CHECKING:
    import pandas as pd

#: Rows formatted and written at a time (8,192 rows of the 87-column table are about 6 MB of text).
BLOCK_ROWS = 8192

#: Exact powers of ten in float64 (10**22 is the largest one a double holds exactly).
_POW10 = 10.0 ** np.arange(23)
#: 10**-22 .. 10**22, index n + 22 (the negative powers are rounded: used only to scale, never to build a value).
_POW10_SIGNED = 10.0 ** np.arange(-22, 23)

#: Arrow writes a float in plain decimal notation when its decimal exponent is in [-6, 10) (double-conversion's
#: ``decimal_in_shortest_low = -6``, ``decimal_in_shortest_high = 10``); msgspec does so in [-5, 16). Values in
#: the difference are rewritten. Since rounding a decimal to the nearest double is monotone and these bounds are
#: the doubles nearest 1e-6, 1e-5 and 1e10, a magnitude comparison picks exactly the values concerned.
_ARROW_LOW, _MSGSPEC_LOW, _ARROW_HIGH = 1e-6, 1e-5, 1e10


def arrow_float_text(x: float) -> str:
    """``x`` as Arrow's CSV writer writes a float: shortest round-trip digits, plain in [1e-6, 1e10).

    The digits are Python's ``repr`` (shortest round-trip, nearest of the shortest, as double-conversion's); only
    the layout is Arrow's. NaN gives ``""`` (Arrow writes a missing value).
    """
    if x != x:
        return ""
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    text = repr(x)
    sign = "-" if text[0] == "-" else ""
    text = text.lstrip("-")
    mantissa, _, exp = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = whole + frac
    point = len(whole) + int(exp or 0)  # value = 0.DIGITS x 10**point
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    if not digits:
        return sign + "0"
    exponent = point - 1
    if -6 <= exponent < 10:
        if point <= 0:
            return sign + "0." + "0" * -point + digits
        if point >= len(digits):
            return sign + digits + "0" * (point - len(digits))
        return sign + digits[:point] + "." + digits[point:]
    tail = "." + digits[1:] if len(digits) > 1 else ""
    return f"{sign}{digits[0]}{tail}e{'+' if exponent >= 0 else '-'}{abs(exponent)}"


def float32_shortest_as_float64(values: np.ndarray) -> np.ndarray:
    """The double nearest the shortest decimal that reads back as each float32 value (NaN, inf and zeros kept).

    The shortest decimal of ``f`` is the one with the fewest significant digits inside ``f``'s rounding interval
    (between the midpoints to its float32 neighbours), the nearest ``f`` if several: what double-conversion's
    ``ToShortestSingle`` (Arrow) and numpy's Dragon4 write. A decimal of at most 15 digits is the shortest float64
    form of its nearest double, so ``repr`` of the returned double gives the float32 shortest digits.

    Method, vectorised: with E >= the number of integer digits of ``|f|`` (floor(log10) + 1; an overestimate only
    costs a step), ``t = |f| * 10**(p - E)`` is ``|f|`` in units of the p-digit grid, and the p-digit candidates
    are the grid points ``floor(t)`` and ``floor(t) + 1``; one fits when its distance to ``t`` is below the
    half-gap to the float32 neighbour on its side (exact in float64, scaled the same way). ``t`` carries a relative
    error of a few 1e-16, so distances within 1e-6 of a half-gap (the half-gap is at least 3e-8 t) count as
    undecided. Whether some p-digit decimal fits only grows with p, so p walks down from 7 while a candidate fits
    and up while none does. The chosen point ``k`` is built once as ``(k * 10**max(q, 0)) / 10**max(-q, 0)``
    (q = E - p), correctly rounded since 10**|q| <= 1e22 is exact. Undecided values (a distance at a half-gap,
    two candidates equally near, magnitudes outside [1e-12, 1e12)) take numpy's own float32 ``str`` (Dragon4).

    Parameters
    ----------
    values : ndarray of float32, any shape

    Returns
    -------
    ndarray of float64, same shape
    """
    f32 = np.asarray(values, dtype=np.float32)
    out = f32.astype(np.float64)
    flat_out = out.reshape(-1)
    mag32 = np.abs(f32.reshape(-1))
    todo = np.flatnonzero(np.isfinite(mag32) & (mag32 > 0))
    if todo.size == 0:
        return out
    m32 = mag32[todo]
    mag = m32.astype(np.float64)
    slow = ~((mag >= 1e-12) & (mag < 1e12))
    active = np.flatnonzero(~slow)
    m = mag[active]
    half_below = m - np.nextafter(m32[active], np.float32(0)).astype(np.float64)  # twice the half-gaps, exact
    half_above = np.nextafter(m32[active], np.float32(np.inf)).astype(np.float64) - m
    e_int = np.floor(np.log10(m)).astype(np.int64) + 1
    scale = _POW10_SIGNED[7 - e_int + 22]
    t = m * scale
    low_in, low_out = -half_below * scale * (0.5 * (1 - 1e-6)), -half_below * scale * (0.5 * (1 + 1e-6))
    high_in, high_out = half_above * scale * (0.5 * (1 - 1e-6)), half_above * scale * (0.5 * (1 + 1e-6))
    e_all = np.zeros(todo.size, dtype=np.int64)
    e_all[active] = e_int
    k_fit = np.zeros(todo.size)
    p_fit = np.full(todo.size, 99)  # the fewest digits known to fit
    p_miss = np.zeros(todo.size, dtype=np.int64)  # the most digits known not to fit
    p = np.full(active.size, 7)
    while active.size:
        below = np.floor(t)
        d_below = below - t  # in (-1, 0] up to the error of t
        d_above = d_below + 1
        fit_below, fit_above = d_below > low_in, d_above < high_in
        unsure = ((d_below > low_out) ^ fit_below) | ((d_above < high_out) ^ fit_above) | (p > 11)
        both = fit_below & fit_above
        if both.any():
            unsure |= both & (np.abs(2 * d_below + 1) < 1e-4)
            fit_below &= ~both | (2 * d_below + 1 > 0)  # the nearer one
        fits = (fit_below | fit_above) & ~unsure
        idx = active[fits]
        k_fit[idx] = np.where(fit_below, below, below + 1)[fits]
        p_fit[idx] = p[fits]
        miss = ~fits & ~unsure
        p_miss[active[miss]] = p[miss]
        slow[active[unsure]] = True
        # next: one digit fewer after a fit (unless that is known not to fit), one more after a miss (unless known to)
        fewer = fits & (p - 1 > p_miss[active])
        more = miss & (p + 1 < p_fit[active])
        keep = fewer | more
        step = np.where(fewer, 0.1, 10.0)[keep]
        active, p = active[keep], np.where(fewer, p - 1, p + 1)[keep]
        t, low_in, low_out, high_in, high_out = (a[keep] * step for a in (t, low_in, low_out, high_in, high_out))
    found = np.empty(todo.size)
    done = np.flatnonzero(~slow)
    q = e_all[done] - p_fit[done]
    found[done] = k_fit[done] * _POW10[np.maximum(q, 0)] / _POW10[np.maximum(-q, 0)]
    slow_at = np.flatnonzero(slow)
    if slow_at.size:
        found[slow_at] = [float(str(v)) for v in m32[slow_at]]
    flat_out[todo] = np.copysign(found, flat_out[todo])
    return out


def _numeric_rows(block: list[np.ndarray]) -> list[str]:
    """Arrow's text of a run of adjacent numeric columns, one ``"a,b,c"`` string per row.

    Each column is float32 (mapped by :func:`float32_shortest_as_float64`), float64, or integers below 1e10 in
    magnitude (written as float64: exact, and their text is the same once ``.0`` is dropped).
    """
    matrix = np.empty((len(block[0]), len(block)))
    for j, col in enumerate(block):
        matrix[:, j] = float32_shortest_as_float64(col) if col.dtype == np.float32 else col
    mag = np.abs(matrix)
    odd = np.flatnonzero((mag >= _ARROW_HIGH) | ((mag < _MSGSPEC_LOW) & (mag >= _ARROW_LOW)))  # inf included
    if odd.size:
        fixed = [arrow_float_text(v) for v in matrix.flat[odd].tolist()]
        matrix.flat[odd] = _SENTINEL
    text = msgspec.json.encode(matrix.tolist()).decode("ascii")
    # integral values lose their ".0"; NaN (msgspec's null) is an empty field
    text = text.replace(".0,", ",").replace(".0]", "]").replace("null", "")
    if odd.size:
        parts = text.split(_SENTINEL_TEXT)
        pieces = [""] * (2 * len(parts) - 1)
        pieces[::2] = parts
        pieces[1::2] = fixed
        text = "".join(pieces)
    return text[2:-2].split("],[")


#: Stands in for the values msgspec lays out differently from Arrow. Its text ``1e300`` is no part of any other
#: field's text: the rest are plain decimals and exponents of magnitudes below 1e-6 (``e-``).
_SENTINEL, _SENTINEL_TEXT = 1e300, "1e300"


_BOOL_TEXT = ("false", "true")


def _text_field(value: Any, column: str) -> str:
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if value is None or (isinstance(value, float) and value != value) or type(value).__name__ == "NAType":
        return ""
    raise TypeError(f"steps.csv: column {column!r} holds a {type(value).__name__} ({value!r}) among its text; "
                    "a text column must hold only str (or None/NaN for a missing value)")


def _other_fields(values: np.ndarray, column: str) -> list[str]:
    """Arrow's text of every value of one block of a boolean, text or wide-integer column."""
    kind = values.dtype.kind
    if kind in "iu":
        return list(map(str, values.tolist()))
    if kind == "b":
        return list(map(_BOOL_TEXT.__getitem__, values.tolist()))
    if kind == "U":
        return ['"' + v.replace('"', '""') + '"' for v in values.tolist()]
    return [_text_field(v, column) for v in values.tolist()]


def _is_numeric(values: np.ndarray) -> bool:
    """Whether a column goes through :func:`_numeric_rows` (floats, and integers that float64 writes alike)."""
    if values.dtype.kind == "f":
        return True
    if values.dtype.kind not in "iu" or values.size == 0:
        return False
    return bool(max(abs(int(values.min())), abs(int(values.max()))) < _ARROW_HIGH)


def _block_rows(columns: list[np.ndarray], names: list[str], numeric: list[bool]) -> list[str]:
    """The CSV lines (without their line ends) of one block of rows."""
    pieces: list[list[str]] = []
    run: list[np.ndarray] = []
    for col, name, is_num in zip(columns, names, numeric, strict=True):
        if is_num:
            run.append(col)
            continue
        if run:
            pieces.append(_numeric_rows(run))
            run = []
        pieces.append(_other_fields(col, name))
    if run:
        pieces.append(_numeric_rows(run))
    return list(map(",".join, zip(*pieces, strict=True)))


def _as_column(values: Any, column: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"steps.csv: column {column!r} has shape {arr.shape}; every column must be 1-D")
    if arr.dtype.kind == "f" and arr.dtype not in (np.float32, np.float64):
        raise TypeError(f"steps.csv: column {column!r} is {arr.dtype}; write float32 or float64")
    if arr.dtype.kind not in "fiubUO":
        raise TypeError(f"steps.csv: column {column!r} is {arr.dtype}; a column must hold floats, integers, "
                        "booleans or text (str)")
    return arr


def write_steps_csv(steps: Mapping[str, Any] | pd.DataFrame, path: str | Path) -> Path:
    """Write ``steps`` (one row per step) to ``path`` as CSV with a header line; returns the path.

    Parameters
    ----------
    steps : mapping of str to 1-D array-like, or pandas DataFrame
        Column name -> values, in column order, all of one length (a DataFrame iterates its column names).
    path : str or Path
        The file to write (replaced if it exists).

    Raises
    ------
    ValueError
        A column is not 1-D, or the columns differ in length.
    TypeError
        A column holds something other than floats, integers, booleans or text.
    """
    names = [str(name) for name in steps]
    columns = [_as_column(steps[name], str(name)) for name in steps]
    n_rows = len(columns[0]) if columns else 0
    for name, col in zip(names, columns, strict=True):
        if len(col) != n_rows:
            raise ValueError(f"steps.csv: column {name!r} has {len(col)} values, column {names[0]!r} {n_rows}; "
                             "every column of the step table must have one value per step")
    out = Path(path)
    with out.open("wb") as f:
        # the column names are identifiers: a plain header line (Arrow would quote every name)
        f.write((",".join(names) + "\n").encode())
        numeric = [_is_numeric(col) for col in columns]
        for start in range(0, n_rows, BLOCK_ROWS):
            rows = _block_rows([col[start:start + BLOCK_ROWS] for col in columns], names, numeric)
            f.write(("\n".join(rows) + "\n").encode())
    return out


#: Text columns of the per-step table, and its integer columns (every other column is a float or a boolean).
TEXT_COLUMNS = ("side", "exclusion", "imu_reason")
INTEGER_COLUMNS = ("step", "bout")


def read_steps_csv(path: str | Path) -> pd.DataFrame:
    """Read a ``steps.csv`` written by :func:`write_steps_csv` back into the per-step table.

    Booleans come back as booleans, empty text fields as ``""``, missing numbers as NaN and every numeric column
    but :data:`INTEGER_COLUMNS` as float64. Columns the analysis keeps in single precision come back as float64
    of their shortest decimal form (within 1e-7 relative of the values analysed).
    """
    import pandas as pd

    steps = pd.read_csv(path, dtype={c: str for c in TEXT_COLUMNS})
    for c in steps.columns:
        if c in TEXT_COLUMNS:
            steps[c] = steps[c].fillna("")
        elif c not in INTEGER_COLUMNS and pd.api.types.is_integer_dtype(steps[c].dtype):
            steps[c] = steps[c].astype(float)
    return steps
