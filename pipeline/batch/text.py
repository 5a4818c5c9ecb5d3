"""Untrusted text made safe to show: in the summary (HTML, CSV), the reason files and the batch's log lines.

Names and metadata come from the clinics' uploads (file and folder names, subject codes, recording times stored in
the files). Two kinds of characters in them can deceive the reader:

* **bidirectional controls** (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) reorder what is displayed
  ("Trojan Source", CVE-2021-42574), so ``visit\\u202egnp.h5`` shows as ``visith5.png``; and **control
  characters** (C0, DEL, C1, line and paragraph separators) move the cursor, clear a terminal (``ESC [2J``) or break
  lines. :func:`neutral_text` replaces each by a visible ``[U+XXXX]`` (tab, newline and carriage return by a space),
  so the character is shown, never obeyed;
* **spreadsheet formulas**: a CSV cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run
  as a formula by spreadsheet programs (OWASP "CSV injection"). :func:`csv_cell` prefixes such text with ``'``,
  which spreadsheets show as text; numbers are written as numbers.
"""

from __future__ import annotations

import re
from typing import Any

#: Characters that reorder displayed text.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_SPACE = {"\t": " ", "\n": " ", "\r": " "}
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029" + BIDI_CONTROLS + "]")
#: First characters that make a spreadsheet evaluate a cell (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutral_text(text: str) -> str:
    """``text`` with bidirectional and control characters replaced by visible ``[U+XXXX]`` (whitespace: space).

    Examples
    --------
    >>> neutral_text("visit\\u202egnp.h5")
    'visit[U+202E]gnp.h5'
    >>> neutral_text("S01\\x1b[2J")
    'S01[U+001B][2J'
    """
    return _UNSAFE.sub(lambda m: _SPACE.get(m.group(), f"[U+{ord(m.group()):04X}]"), text)


def neutral_value(value: Any) -> Any:
    """:func:`neutral_text` of strings; other values unchanged."""
    return neutral_text(value) if isinstance(value, str) else value


def csv_cell(value: Any) -> Any:
    """A summary value as a CSV cell: empty for None, numbers as they are, text neutralised and, when it would
    start a formula, prefixed with ``'``.

    Examples
    --------
    >>> csv_cell('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> csv_cell(-0.5)
    -0.5
    """
    if value is None:
        return ""
    if not isinstance(value, str):
        return value
    text = neutral_text(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


__all__ = ["BIDI_CONTROLS", "FORMULA_STARTS", "csv_cell", "neutral_text", "neutral_value"]
