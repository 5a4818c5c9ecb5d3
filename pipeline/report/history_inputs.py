"""The sessions of a follow-up across visits: found, read, ordered by recording time, analysed or reused.

A subject's visits are session files (``*.h5``, ``*.hdf5``) in a folder (and its sub-folders, one per visit) or
listed one by one. Each file's metadata is read first (:func:`read_heads`: cheap, no frames), so that a folder
holding several subjects is refused before any analysis. Each visit is then analysed, or its stored analysis is
reused (:func:`load_visit`) when a ``metrics.json`` and ``steps.csv`` next to the file were made from this very
file (``provenance.input_sha256`` equals the file's SHA-256) by this software version. The nightly batch gives its
own stored outputs (:func:`visit_from_outputs`). A file that cannot be read or analysed becomes a
:class:`FailedVisit` with the reason; the other visits are still drawn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from insole.errors import InsoleError
from insole.provenance import file_sha256
from insole.session import open_session
from pipeline import __version__
from pipeline.analysis.result import AnalysisResult, SessionMetrics
from pipeline.analysis.result.steps_csv import read_steps_csv
from pipeline.errors import PipelineError, ReportError

#: File names taken as session files in a subject folder (case-insensitive).
SESSION_SUFFIXES = (".h5", ".hdf5")
#: Names skipped in a folder: uploads still being written.
PARTIAL_SUFFIXES = (".partial", ".part", ".tmp", ".crdownload", ".filepart")
SOFTWARE = f"insole {__version__}"


class HistoryError(ReportError):
    """A follow-up across visits cannot be drawn (no sessions, several subjects); the message says what to do."""


@dataclass(frozen=True)
class Head:
    """What is known of a session file before it is analysed: who, when, under which name."""

    path: Path
    shown: str
    subject_id: str | None
    created_utc: str | None


@dataclass
class Visit:
    """One analysed visit.

    Attributes
    ----------
    result : AnalysisResult
        Metrics and the per-step table (curves and layouts may be empty when the analysis was reused).
    shown : str
        The name the views show for the file.
    origin : str
        ``analysed``, or what was reused.
    report_href : str or None
        Relative link to the visit's own session report (batch pages).
    """

    result: AnalysisResult
    shown: str
    origin: str = "analysed"
    report_href: str | None = None

    @property
    def metrics(self) -> SessionMetrics:
        """The visit's typed result."""
        return self.result.metrics


@dataclass(frozen=True)
class FailedVisit:
    """A session that could not be read or analysed, with the reason (listed; the other visits are drawn)."""

    shown: str
    reason: str


def parse_utc(text: str | None) -> dt.datetime | None:
    """An ISO 8601 recording time as an aware UTC datetime (naive times are taken as UTC); None if unreadable."""
    if not text:
        return None
    try:
        t = dt.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def session_files(inputs: Sequence[Path]) -> list[Path]:
    """Session files of the inputs: a folder gives every ``*.h5`` / ``*.hdf5`` under it (hidden names and uploads
    still being written skipped), a file is taken as it is.

    Raises
    ------
    HistoryError
        An input does not exist, or no session file was found.
    """
    out: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SESSION_SUFFIXES
                           and not any(part.startswith(".") for part in f.relative_to(p).parts)
                           and not f.name.lower().endswith(PARTIAL_SUFFIXES))
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise HistoryError(f"{p}: no such file or folder; give the subject's folder or its session files")
    unique = list(dict.fromkeys(f.resolve() for f in out))
    if not unique:
        raise HistoryError("no session file (*.h5, *.hdf5) in " + ", ".join(str(i) for i in inputs)
                           + "; give the subject's folder of session files or the files themselves")
    return unique


def _shown_names(paths: Sequence[Path]) -> dict[Path, str]:
    """Each file's path relative to the folder all the files are in (a visit sub-folder stays in the name)."""
    common = Path(paths[0]).parent
    for p in paths[1:]:
        while not p.is_relative_to(common):
            common = common.parent
    return {p: p.relative_to(common).as_posix() for p in paths}


def read_heads(paths: Sequence[Path]) -> tuple[list[Head], list[FailedVisit]]:
    """The subject and recording time of every file (no frames read); unreadable files as failures."""
    shown = _shown_names(paths)
    heads, failed = [], []
    for p in paths:
        try:
            with open_session(p) as sf:
                created = sf.attrs.get("created_utc")
                heads.append(Head(p, shown[p], sf.metadata.subject_id, str(created) if created else None))
        except (InsoleError, OSError) as exc:
            failed.append(FailedVisit(shown[p], _reason(exc)))
    return heads, failed


def _reason(exc: BaseException) -> str:
    problem = getattr(exc, "problem", None)
    return str(problem or getattr(exc, "strerror", None) or exc)


def subjects_of(heads: Iterable[Head | Visit]) -> dict[str | None, list[str]]:
    """File names per subject id (None: not given)."""
    out: dict[str | None, list[str]] = {}
    for h in heads:
        sid = h.subject_id if isinstance(h, Head) else h.metrics.session.subject_id
        out.setdefault(sid, []).append(h.shown)
    return out


def refuse_mixed(by_subject: dict[str | None, list[str]]) -> None:
    """Raise :class:`HistoryError` naming every subject (and its files) when there is more than one."""
    if len(by_subject) <= 1:
        return
    parts = [f"{sid if sid is not None else '(subject id not given)'}: {', '.join(files)}"
             for sid, files in sorted(by_subject.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))]
    raise HistoryError("the sessions belong to " + str(len(by_subject)) + " subjects (" + "; ".join(parts)
                       + "): a follow-up is drawn for one subject; choose one with --subject ID, or give only "
                       "that subject's files")


def _stored_analysis(path: Path) -> tuple[Path, Path] | None:
    for metrics, steps in ((path.with_name(path.stem + ".metrics.json"), path.with_name(path.stem + ".steps.csv")),
                           (path.with_name("metrics.json"), path.with_name("steps.csv"))):
        if metrics.is_file() and steps.is_file():
            return metrics, steps
    return None


def reuse_stored(path: Path) -> AnalysisResult | None:
    """The analysis stored next to ``path`` (``<stem>.metrics.json`` + ``<stem>.steps.csv``, or ``metrics.json`` +
    ``steps.csv``) when it was made from this file's bytes by this software version; else None."""
    stored = _stored_analysis(path)
    if stored is None:
        return None
    try:
        metrics = SessionMetrics.from_json(stored[0].read_bytes(), source=str(stored[0]))
    except (OSError, PipelineError):
        return None
    if metrics.provenance.software != SOFTWARE or metrics.provenance.input_sha256 != file_sha256(path):
        return None
    try:
        steps = read_steps_csv(stored[1])
    except (OSError, ValueError):
        return None
    return AnalysisResult(metrics=metrics, steps=steps, path=path)


def load_visit(head: Head, cohort: object = "auto") -> Visit | FailedVisit:
    """Analyse one visit (or reuse its stored analysis); a failure is returned with its reason, never raised."""
    from pipeline.analysis import analyze_session

    try:
        reused = reuse_stored(head.path)
        if reused is not None:
            return Visit(reused, head.shown, "reused the stored metrics.json and steps.csv (same file hash and "
                         "software version)")
        return Visit(analyze_session(head.path, cohort=cohort), head.shown)
    except (InsoleError, PipelineError, OSError) as exc:
        return FailedVisit(head.shown, _reason(exc))


def visit_from_outputs(folder: Path, shown: str, report_href: str | None) -> Visit | FailedVisit:
    """A visit from a batch output folder (``metrics.json`` and ``steps.csv``, written from the same analysis)."""
    try:
        metrics = SessionMetrics.from_json((folder / "metrics.json").read_bytes(), source=f"{shown} metrics.json")
        steps = read_steps_csv(folder / "steps.csv")
    except (OSError, ValueError, PipelineError) as exc:
        return FailedVisit(shown, f"stored analysis cannot be read ({_reason(exc)})")
    return Visit(AnalysisResult(metrics=metrics, steps=steps), shown, "stored analysis of the nightly batch",
                 report_href)
