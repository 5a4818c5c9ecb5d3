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

How: in blocks of :data:`BLOCK_ROWS` rows (a 24-hour table never becomes one string), each block by one
``msgspec.json.encode`` of a flat, row-major list of its fields (``[a,b,c,...]``): msgspec writes the shortest
round-trip digits of every float in C, Python ints as Arrow does, bools as ``true``/``false``, and
:class:`msgspec.Raw` bytes verbatim. The floats come from one row-major float64 matrix (``tolist``), so msgspec
reads them in memory order. Fields msgspec would write differently from Arrow are replaced in that list first:
NaN by an empty Raw, integral values below 1e10 by ints (``2`` not ``2.0``), and ``-0.0``, inf and the magnitudes
Arrow writes in the other notation ([1e-6, 1e-5) and >= 1e10) by the Raw text of :func:`arrow_float_text`; text
by its quoted Raw. A CSV line break has no comma around it, so each row's last field and the next row's first
are formatted beforehand and given as one Raw ``last\\nfirst``. A float32 column is first mapped, in vectorised
float64 arithmetic, to the double nearest its shortest single-precision decimal
(:func:`float32_shortest_as_float64`), whose float64 shortest digits are those same digits.

Neither pandas nor pyarrow is imported here. (pandas 3 imports pyarrow itself, about 0.14 s of its own import,
so pyarrow leaves ``insole analyze`` together with pandas; what this module no longer costs is ``pyarrow.csv``,
``pyarrow.pandas_compat`` and the table conversion.) A pandas DataFrame is accepted as well as a mapping of
column name to 1-D array (it iterates its column names).

Speed (the 6,702-row x 87-column table of a one-hour session, 2 x 16 cells at 100 Hz; 25 alternating runs of
each writer in one process on the shared 2-core machine, best wall): 108 ms = 62,000 rows/s, against 76 ms =
88,000 rows/s for Arrow's writer (1.4 x its time; CPU 105 against 69 ms). About half of it is msgspec formatting
the 516,000 floats and Python creating and freeing them, a fifth the float32 digits. A 24-hour-sized table
(160,848 rows, 178 MB of text) is written with a peak of 35 MB allocated by the writer (tracemalloc).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

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

    Method, vectorised: with E the number of integer digits of ``|f|`` (floor(log10) + 1; off by one it only
    costs a step), ``t = |f| * 10**(p - E)`` is ``|f|`` in units of the p-digit grid, and the p-digit candidates
    are the grid points ``floor(t)`` and ``floor(t) + 1``; one fits when its distance to ``t`` is below the
    half-gap to the float32 neighbour on its side (exact in float64, scaled the same way). ``t`` carries a relative
    error of a few 1e-16, so distances within 1e-6 of a half-gap (the half-gap is at least 3e-8 t) count as
    undecided. Whether some p-digit decimal fits only grows with p. Most values need 7 or 8 digits, so p = 7 is
    decided for all, then p = 6 where 7 fits and p = 8 where it does not; the others walk down from 7 while a
    candidate fits and up while none does.
    The chosen point ``k`` is built once as ``(k * 10**max(q, 0)) / 10**max(-q, 0)`` (q = E - p), correctly
    rounded since 10**|q| <= 1e22 is exact. Undecided values (a distance at a half-gap, two candidates equally
    near, magnitudes outside [1e-12, 1e12)) take numpy's own float32 ``str`` (Dragon4): 90 of the 201,042 float32
    values of a one-hour session's step table; 3 % of the tests' random sample (integers above 2**24 and short
    decimals lying exactly on a midpoint).

    Parameters
    ----------
    values : ndarray of float32, any shape

    Returns
    -------
    ndarray of float64, same shape
    """
    f32 = np.asarray(values, dtype=np.float32)
    with np.errstate(invalid="ignore"):  # signalling NaNs
        out = f32.astype(np.float64)
        mag32 = np.abs(f32.reshape(-1))
        mag = mag32.astype(np.float64)
        fast_mask = (mag >= 1e-12) & (mag < 1e12)  # also drops zeros, inf and NaN
    flat_out = out.reshape(-1)
    fast = None if fast_mask.all() else np.flatnonzero(fast_mask)
    m32 = mag32 if fast is None else mag32[fast]
    m = mag if fast is None else mag[fast]
    e_int = np.floor(np.log10(m)).astype(np.int64) + 1
    scale = _POW10_SIGNED[7 - e_int + 22]
    t = m * scale  # |f| in units of the 7-digit grid
    # the half-gaps to the float32 neighbours (exact), in the same units
    gap_below = (m - np.nextafter(m32, np.float32(0)).astype(np.float64)) * (0.5 * scale)
    gap_above = (np.nextafter(m32, np.float32(np.inf)).astype(np.float64) - m) * (0.5 * scale)
    # most values need 7 or 8 digits: decide 7 for all, then 6 where 7 fits and 8 where it does not; walk the rest
    fit7, k7, unsure7 = _grid_fit(t, gap_below, gap_above)
    step = np.where(fit7, 0.1, 10.0)
    fit2, k2, unsure2 = _grid_fit(t * step, gap_below * step, gap_above * step)
    digits = np.where(fit7, 7, 8)
    k_fit = np.where(fit7, k7, k2)
    unsure = unsure7 | unsure2
    rest = np.flatnonzero((fit7 == fit2) & ~unsure)  # 6 digits fit too, or 8 do not
    if rest.size:
        k_rest, p_rest, unsure_rest = _walk_digits(t[rest], gap_below[rest], gap_above[rest])
        k_fit[rest], digits[rest], unsure[rest] = k_rest, p_rest, unsure_rest
    q = e_int - digits
    found = k_fit * _POW10[np.clip(q, 0, 22)] / _POW10[np.clip(-q, 0, 22)]
    slow_at = np.flatnonzero(unsure)
    if slow_at.size:
        found[slow_at] = [float(str(v)) for v in m32[slow_at]]
    if fast is None:
        flat_out[:] = np.copysign(found, flat_out)
    else:
        flat_out[fast] = np.copysign(found, flat_out[fast])
        other = np.flatnonzero(~fast_mask & np.isfinite(mag) & (mag > 0))  # beyond [1e-12, 1e12)
        flat_out[other] = np.copysign([float(str(v)) for v in mag32[other]], flat_out[other])
    return out


def _grid_fit(t: np.ndarray, gap_below: np.ndarray, gap_above: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Whether a grid point fits (is within the half-gap on its side of ``t``), which one, and the undecided."""
    below = np.floor(t)
    to_below = t - below  # in [0, 1) up to the error of t
    to_above = 1.0 - to_below
    fit_below, fit_above = to_below < gap_below, to_above < gap_above
    unsure = (np.abs(to_below - gap_below) <= 1e-6 * gap_below) | (np.abs(to_above - gap_above) <= 1e-6 * gap_above)
    both = fit_below & fit_above
    if both.any():  # the nearer one; equally near is undecided
        unsure |= both & (np.abs(to_below - to_above) < 1e-4)
        fit_below &= ~both | (to_below < to_above)
    return fit_below | fit_above, below + ~fit_below, unsure


def _walk_digits(t: np.ndarray, gap_below: np.ndarray, gap_above: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fewest digits p (from 7, ``t`` in 7-digit grid units) with a fitting grid point, that point, undecided."""
    n = t.size
    k_fit = np.zeros(n)
    p_fit = np.full(n, 99)  # the fewest digits known to fit
    p_miss = np.zeros(n, dtype=np.int64)  # the most digits known not to fit
    unsure_all = np.zeros(n, dtype=bool)
    active = np.arange(n)
    p = np.full(n, 7)
    while active.size:
        fit, k, unsure = _grid_fit(t, gap_below, gap_above)
        unsure |= p > 11  # not reached: 9 digits always suffice
        fits = fit & ~unsure
        k_fit[active[fits]] = k[fits]
        p_fit[active[fits]] = p[fits]
        miss = ~(fits | unsure)
        p_miss[active[miss]] = p[miss]
        unsure_all[active[unsure]] = True
        # next: one digit fewer after a fit (unless known not to fit), one more after a miss (unless known to fit)
        fewer = fits & (p - 1 > p_miss[active])
        keep = fewer | (miss & (p + 1 < p_fit[active]))
        step = np.where(fewer, 0.1, 10.0)[keep]
        active, p = active[keep], np.where(fewer, p - 1, p + 1)[keep]
        t, gap_below, gap_above = t[keep] * step, gap_below[keep] * step, gap_above[keep] * step
    return k_fit, p_fit, unsure_all


def _float_specials(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of a float64 column block that msgspec does not write as Arrow does, and what to put there.

    NaN (msgspec: ``null``; Arrow: empty) and inf (msgspec: ``null``), integral values below 1e10 (msgspec:
    ``2.0``; Arrow: ``2``; given as Python ints), ``-0.0`` and the magnitudes Arrow writes in another notation
    ([1e-6, 1e-5) and >= 1e10) are given as :class:`msgspec.Raw` text.
    """
    mag = np.abs(values)
    with np.errstate(invalid="ignore"):  # signalling NaNs
        # integral (zeros and inf included), NaN / inf / >= 1e10, [1e-6, 1e-5): the candidates, sorted below
        rows = np.flatnonzero((values == np.floor(values)) | ~(mag < _ARROW_HIGH)
                              | ((mag < _MSGSPEC_LOW) & (mag >= _ARROW_LOW)))
    fields = np.empty(rows.size, dtype=object)
    if rows.size:
        v = values[rows]
        nan = np.isnan(v)
        a = np.abs(v)
        odd = ~nan & ((a >= _ARROW_HIGH) | ((a < _MSGSPEC_LOW) & (a >= _ARROW_LOW)) | ((v == 0) & np.signbit(v)))
        whole = ~(nan | odd)
        fields[nan] = _EMPTY
        fields[whole] = v[whole].astype(np.int64)
        texts = [msgspec.Raw(arrow_float_text(x).encode()) for x in v[odd].tolist()]
        fields[odd] = np.fromiter(texts, dtype=object, count=len(texts))
    return rows, fields


#: An empty field (a missing value), as msgspec writes it verbatim.
_EMPTY = np.empty(1, dtype=object)
_EMPTY[0] = msgspec.Raw(b"")


def _text_field(value: Any, column: str) -> bytes:
    """Arrow's text of one value of a text column: quoted with ``"`` doubled; empty for a missing value."""
    if isinstance(value, str):
        return ('"' + value.replace('"', '""') + '"').encode()
    if value is None or (isinstance(value, float) and value != value) or type(value).__name__ == "NAType":
        return b""
    raise TypeError(f"steps.csv: column {column!r} holds a {type(value).__name__} ({value!r}) among its text; "
                    "a text column must hold only str (or None/NaN for a missing value)")


def _text_fields(values: np.ndarray, column: str) -> list[bytes]:
    """Arrow's text of a text column block: each distinct value quoted (``"`` doubled) once."""
    cache: dict[str, bytes] = {}
    out = []
    for v in values.tolist():
        text = cache.get(v) if isinstance(v, str) else None
        if text is None:
            text = _text_field(v, column)
            if isinstance(v, str):
                cache[v] = text
        out.append(text)
    return out


def _field_texts(values: np.ndarray, column: str) -> list[bytes]:
    """Arrow's text of every value of one column block."""
    kind = values.dtype.kind
    if kind in "UO":
        return _text_fields(values, column)
    if kind == "f":
        values = float32_shortest_as_float64(values) if values.dtype == np.float32 else values
        rows, specials = _float_specials(values)
        if rows.size:
            values = values.astype(object)
            values[rows] = specials
    return msgspec.json.encode(values.tolist())[1:-1].split(b",")


def _other_objects(values: np.ndarray, column: str) -> list[Any]:
    """The values of an integer, boolean or text column block as msgspec writes them like Arrow (ints, bools, Raw)."""
    if values.dtype.kind in "UO":
        raw: dict[bytes, msgspec.Raw] = {}
        return [raw.get(t) or raw.setdefault(t, msgspec.Raw(t)) for t in _text_fields(values, column)]
    return values.tolist()  # msgspec writes ints, and bools as true/false, as Arrow does


def _write_block(f: BinaryIO, columns: list[np.ndarray], names: list[str]) -> None:
    """Write the CSV lines of one block of rows, each ended by ``\\n``.

    The fields are laid out row-major in one flat list and written by one ``msgspec.json.encode`` (``[a,b,...]``):
    floats in msgspec's shortest digits (created from one row-major float matrix, so that msgspec reads them in
    memory order), the rest as Python ints, bools or :class:`msgspec.Raw` text. A line break has no comma around
    it, so each row's last field and the next row's first are one Raw ``last\\nfirst``.
    """
    n_rows, n_cols = len(columns[0]), len(columns)
    first = _field_texts(columns[0], names[0])
    if n_cols == 1:
        f.write(b"\n".join(first) + b"\n")
        return
    last = _field_texts(columns[-1], names[-1])
    width = n_cols - 1
    matrix = np.zeros((n_rows, width))
    specials, whole_columns = [], []
    for j in range(1, n_cols - 1):
        values = columns[j]
        if values.dtype.kind == "f":
            if values.dtype == np.float32:
                values = float32_shortest_as_float64(values)
            matrix[:, j - 1] = values
            rows, objects = _float_specials(values)
            if rows.size > n_rows // 2:  # mostly special (e.g. all integral): the whole column as objects
                column_objects = values.astype(object)
                column_objects[rows] = objects
                whole_columns.append((j - 1, column_objects.tolist()))
            elif rows.size:
                specials.append((rows * width + (j - 1), objects))
    flat: list[Any] = matrix.ravel().tolist()
    del matrix
    for j in range(1, n_cols - 1):
        if columns[j].dtype.kind != "f":
            flat[j - 1::width] = _other_objects(columns[j], names[j])
    for j, column_objects in whole_columns:
        flat[j::width] = column_objects
    for at, objects in specials:
        deque(map(flat.__setitem__, at.tolist(), objects.tolist()), maxlen=0)
    flat[width - 1::width] = [msgspec.Raw(a + b"\n" + b) for a, b in zip(last, [*first[1:], b""], strict=True)]
    data = msgspec.json.encode(flat)
    del flat
    f.write(first[0] + b",")
    f.write(memoryview(data)[1:-1])


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
        for start in range(0, n_rows, BLOCK_ROWS):
            _write_block(f, [col[start:start + BLOCK_ROWS] for col in columns], names)
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
