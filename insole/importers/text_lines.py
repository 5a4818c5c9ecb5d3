"""Reading large ASCII exports in bounded memory: numbered lines in chunks, and numeric blocks with exact errors.

Vendor exports (pedar ``.asc``, F-Scan ``.asf`` movies, XSENSOR CSV) reach hundreds of MB of text. The importers
never hold a whole file: :class:`LineReader` hands out lines with their 1-based line numbers, and
:func:`numeric_rows` turns a run of lines into one float64 array, or raises :class:`ImportSourceError` naming the
file, the line and what is wrong with it (wrong number of cells, a cell that is not a number, a truncated last
line).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from insole.errors import ImportSourceError

#: Lines handed to the numeric parser at a time (bounded memory: a few MB of text per chunk).
CHUNK_LINES = 4096


class LineReader:
    """Numbered lines of a text file, read lazily.

    Parameters
    ----------
    path : Path
    encoding : str
        ``utf-8-sig`` drops a byte-order mark; undecodable bytes are replaced (the numbers are ASCII).

    Attributes
    ----------
    line_no : int
        1-based number of the last line returned (0 before the first).
    """

    def __init__(self, path: Path, encoding: str = "utf-8-sig") -> None:
        self.path = path
        try:
            self._fh = open(path, "rb")  # noqa: SIM115 - closed by close() / the context manager
        except OSError as exc:
            raise ImportSourceError(str(path), f"cannot be read ({exc.strerror or exc})") from None
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._pending: list[str] = []
        self._tail = ""
        self._eof = False
        self.line_no = 0
        self.ended_with_newline = True

    def _fill(self) -> bool:
        while not self._pending and not self._eof:
            block = self._fh.read(1 << 20)
            if not block:
                self._eof = True
                text = self._tail + self._decoder.decode(b"", final=True)
                self._tail = ""
                if text:
                    self.ended_with_newline = False
                    self._pending.append(text.rstrip("\r"))
                break
            text = self._tail + self._decoder.decode(block)
            parts = text.split("\n")
            self._tail = parts.pop()
            self._pending.extend(p[:-1] if p.endswith("\r") else p for p in parts)
            self._pending.reverse()
        return bool(self._pending)

    def next_line(self) -> str | None:
        """The next line without its line break, or None at the end of the file."""
        if not self._fill():
            return None
        self.line_no += 1
        return self._pending.pop()

    def at_last_line(self) -> bool:
        """True when the line just returned was the file's last one."""
        return not self._fill()

    def chunks(self, n_lines: int = CHUNK_LINES) -> Iterator[tuple[int, list[str]]]:
        """Runs of up to ``n_lines`` lines as ``(line number of the first, lines)``."""
        while True:
            first = self.line_no + 1
            lines = []
            while len(lines) < n_lines and (line := self.next_line()) is not None:
                lines.append(line)
            if not lines:
                return
            yield first, lines

    def close(self) -> None:
        """Close the file (safe to call twice)."""
        self._fh.close()

    def __enter__(self) -> LineReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def numeric_rows(
    path: Path, lines: list[str], first_line_no: int, n_cells: int, *, sep: str | None = None,
    last_chunk: bool = False, what: str = "data line",
) -> np.ndarray:
    """Parse ``lines`` (each ``n_cells`` numbers) into a float64 array of shape (len(lines), n_cells).

    Parameters
    ----------
    path : Path
        The file, for error messages.
    lines : list of str
    first_line_no : int
        1-based line number of ``lines[0]`` in the file.
    n_cells : int
    sep : str or None
        Cell separator (None: any whitespace).
    last_chunk : bool
        ``lines`` ends the file: a short last line is reported as a truncated file.
    what : str
        What a line is, for messages.

    Raises
    ------
    ImportSourceError
        A line with the wrong number of cells or a cell that is not a number; the message names the line.
    """
    if not lines:
        return np.zeros((0, n_cells))
    try:  # numpy's C parser: no Python object per cell, so a chunk costs about its text and its floats
        values = np.loadtxt(lines, dtype=np.float64, delimiter=sep, ndmin=2, comments=None)
        if values.shape == (len(lines), n_cells):
            return values
    except ValueError:
        pass
    _diagnose(path, lines, first_line_no, n_cells, sep, last_chunk, what)
    raise ImportSourceError(str(path), f"lines {first_line_no}-{first_line_no + len(lines) - 1}: {what}s cannot "
                            "be read as numbers")  # pragma: no cover - _diagnose names the line


def _diagnose(path: Path, lines: list[str], first_line_no: int, n_cells: int, sep: str | None, last_chunk: bool,
              what: str) -> None:
    """Raise the error for the first bad line of a chunk the fast parser refused (slow, only on error)."""
    for k, line in enumerate(lines):
        row = [c.strip() for c in line.split(sep)]
        line_no = first_line_no + k
        if len(row) != n_cells:
            hint = " (truncated file?)" if last_chunk and k == len(lines) - 1 else ""
            raise ImportSourceError(str(path), f"line {line_no}: {what} has {len(row)} cells, expected "
                                    f"{n_cells}{hint}")
        for j, cell in enumerate(row):
            try:
                float(cell)
            except ValueError:
                raise ImportSourceError(str(path), f"line {line_no}, cell {j + 1}: {cell[:40]!r} is not a "
                                        "number") from None


def number_after(path: Path, line_no: int, text: str, key: str) -> float:
    """The number in a header value such as ``5.08 mm``; raises naming the line when there is none."""
    head = text.strip().split()
    try:
        return float(head[0])
    except (IndexError, ValueError):
        raise ImportSourceError(str(path), f"line {line_no}: {key} must start with a number, got "
                                f"{text.strip()[:40]!r}") from None
