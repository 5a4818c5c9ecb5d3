"""Progress of a night: a rich progress bar on a terminal, plain time-stamped log lines otherwise (cron, systemd).

Messages carry names and metadata from the uploads; every line is neutralised first
(:func:`pipeline.batch.text.neutral_text`), so a file name cannot reorder, recolour or clear the operator's terminal
or forge log lines.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from insole.provenance import utc_now_iso
from pipeline.batch.text import neutral_text


def _stamp() -> str:
    return utc_now_iso()


class NightProgress:
    """Report what the night does.

    Parameters
    ----------
    stream : file, optional
        Where to write (default ``sys.stderr``).
    rich : bool or None
        Force the rich progress bar on or off; by default it is used when ``stream`` is a terminal.
    quiet : bool
        Only warnings and the final line.
    """

    def __init__(self, stream: TextIO | None = None, *, rich: bool | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.use_rich = (self.stream.isatty() if rich is None else rich) and not quiet
        self._progress: Any = None
        self._task: Any = None

    def log(self, message: str, *, warning: bool = False) -> None:
        """One line of information (always shown when ``warning``)."""
        if self.quiet and not warning:
            return
        message = neutral_text(message)
        if self._progress is not None:
            self._progress.console.print(message, markup=False, highlight=False)
        else:
            print(f"{_stamp()} {'WARNING ' if warning else ''}{message}", file=self.stream, flush=True)

    def start(self, total: int, description: str = "processing") -> None:
        """Begin the per-file phase of ``total`` files."""
        if self.use_rich and total:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                console=Console(file=self.stream), transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(description, total=total)

    def advance(self, message: str, *, warning: bool = False) -> None:
        """One file finished."""
        if self._progress is not None:
            self._progress.advance(self._task)
            if warning:
                self.log(message, warning=True)
        else:
            self.log(message, warning=warning)

    def stop(self) -> None:
        """End the per-file phase."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
