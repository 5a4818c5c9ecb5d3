"""Processing of ONE upload: convert (if needed), check, analyse, write report HTML, metrics JSON and steps CSV.

:func:`process_session` is the single place where the batch touches the analysis and the report, so those can
evolve behind their fixed contract (``pipeline.analysis.analyze_session``, ``pipeline.report.write_report``).
It never raises for a bad upload: every failure becomes a :class:`ProcessOutcome` with a reason code and a
message a clinician can act on. :func:`process_task` is the same with plain-dict input and output, the form the
workers (local processes or Dask) receive: only strings, numbers and plain dicts cross process boundaries.
"""

from __future__ import annotations

import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from insole.errors import SessionFileError, SessionUnsafeError
from pipeline.analysis import AnalysisParams, AnalysisResult, analyze_session
from pipeline.batch.atomic import write_with_atomic
from pipeline.batch.discovery import NATIVE, format_by_name
from pipeline.batch.identity import UploadChanged, UploadIdentity, check_unchanged
from pipeline.batch.safety import (
    EmptyRecordingError,
    InvalidContentError,
    Limits,
    UnsafeInputError,
    check_session_limits,
)
from pipeline.errors import AnalysisError, PipelineError
from pipeline.norms.cohort import CohortError
from pipeline.norms.command import cohort_argument
from pipeline.report import write_report

#: Output files of a processed session, in the session's output folder.
OUTPUT_FILES = ("report.html", "metrics.json", "steps.csv")

#: Reason codes of failures and what they mean (shown in the summary).
REASONS = {
    "unreadable": "not a readable HDF5 file (truncated, corrupted, random bytes or empty)",
    "invalid-format": "readable but not a valid insole session (missing or malformed parts)",
    "unsafe": "refused for safety (external links, virtual datasets, declared sizes beyond the limits, "
    "links leaving the inbox, special files)",
    "empty": "a valid session without any frames",
    "not-analysable": "the analysis found nothing to analyse (no walking, no load, unusable units)",
    "cohort": "the reference cohort given with --cohort covers other insoles than this upload's",
    "conversion": "the importer for this format could not convert the file",
    "analysis-error": "unexpected error in the analysis or report (a software defect: please report it)",
    "memory": "the memory guard stopped the worker",
    "timeout": "processing took longer than the per-file time limit",
    "crashed": "the worker process died while processing the file",
    "output-error": "outputs could not be written (disk full, permissions); retried next run",
    "changed": "the upload was replaced, modified or deleted in the inbox while the night ran; processed next run",
    "worker-lost": "the worker did not report back in time (stalled worker or lost Dask worker); retried next run",
    "inaccessible": "a folder could not be listed or a file could not be examined (permissions); retried next run",
}
#: Reasons that are not the upload's fault: nothing is quarantined, the upload is tried again next run.
RETRIED = ("output-error", "changed", "worker-lost", "inaccessible")


@dataclass
class ProcessOutcome:
    """What happened to one upload.

    Attributes
    ----------
    ok : bool
    reason : str
        Reason code (key of :data:`REASONS`), empty when ``ok``.
    message : str
        Human-readable explanation (what was wrong, where).
    duration_s : float
        Wall-clock processing time in the worker.
    outputs : list of str
        Names of the files written in the output folder.
    info : dict
        ``subject_id`` (from the file), ``created_utc``, ``frames`` per side (when the file could be opened).
    detail : str
        Traceback of an unexpected error (empty otherwise).
    """

    ok: bool
    reason: str = ""
    message: str = ""
    duration_s: float = 0.0
    outputs: list[str] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    detail: str = ""

    @property
    def retry(self) -> bool:
        """True when the failure is not the upload's fault and the file should be tried again next run."""
        return not self.ok and self.reason in RETRIED

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProcessOutcome:
        """Inverse of :meth:`to_dict` (unknown keys ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def analysis_params(params: dict[str, Any] | None) -> AnalysisParams:
    """Build :class:`AnalysisParams` from a plain dict (unknown names raise ``TypeError``)."""
    return AnalysisParams(**(params or {}))


def _classify_session_error(exc: SessionFileError) -> str:
    problem = exc.problem
    if isinstance(exc, SessionUnsafeError):
        return "unsafe"
    if any(k in problem for k in ("not an HDF5 file", "cannot be opened", "is damaged", "does not exist")):
        return "unreadable"
    return "invalid-format"


def _os_error_in(exc: BaseException) -> OSError | None:
    """The OSError that caused ``exc`` (itself, or along its ``__cause__`` / ``__context__`` chain)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, OSError):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


class OutputWriteError(PipelineError):
    """The outputs of a session could not be written (disk full, permissions): not the upload's fault."""


def _write_outputs(result: AnalysisResult, out_dir: Path) -> list[str]:
    """Write the three outputs; any failure caused by the file system becomes :class:`OutputWriteError`."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_with_atomic(out_dir / "steps.csv", result.write_steps)
        write_with_atomic(out_dir / "report.html", lambda tmp: write_report(result, tmp))
        write_with_atomic(out_dir / "metrics.json", result.write_metrics)
    except Exception as exc:  # the report wraps OSError in ReportError: look for the cause
        os_error = _os_error_in(exc)
        if os_error is None:
            raise
        where = Path(os_error.filename).name if os_error.filename else out_dir.name
        raise OutputWriteError(f"cannot write the outputs ({where}: {os_error.strerror or os_error})") from exc
    return list(OUTPUT_FILES)


def _analyse(src: Path, tmp: str, fmt: Any, params_obj: AnalysisParams, params: dict[str, Any] | None,
             limits: Limits, cohort: str, expected: UploadIdentity | None, outcome: ProcessOutcome,
             clean: Any) -> AnalysisResult | None:
    """Convert (if needed), check and analyse; None when the converter failed (``outcome`` says why)."""
    if expected is not None:
        check_unchanged(src, expected, "before it was read")
    session_path = src
    if fmt.convert is not None:
        size_mb = src.stat().st_size / 2**20
        if size_mb > limits.max_file_mb:
            raise UnsafeInputError(f"file is {size_mb:.1f} MB, above the limit of {limits.max_file_mb:g} MB")
        session_path = Path(tmp) / "converted.h5"
        try:
            fmt.convert(src, session_path)
        except MemoryError:
            raise
        except Exception as exc:
            outcome.reason, outcome.message = "conversion", clean(f"{fmt.name} importer: {exc}")
            return None
        if expected is not None:
            check_unchanged(src, expected, "while it was converted")
    outcome.info = check_session_limits(session_path, limits, params)
    result = analyze_session(session_path, params_obj, cohort=cohort_argument(cohort))
    if expected is not None:
        check_unchanged(src, expected, "while it was analysed")
        if fmt.convert is None and result.metrics.provenance.input_sha256 != expected.sha256:
            raise UploadChanged("the bytes analysed are not the upload that was planned (it was replaced)")
    return result


def process_session(
    path: str | Path,
    out_dir: str | Path,
    params: dict[str, Any] | None = None,
    *,
    format_name: str = NATIVE.name,
    limits: Limits | None = None,
    display_name: str | None = None,
    cohort: str = "auto",
    expected: UploadIdentity | None = None,
) -> ProcessOutcome:
    """Process one upload into ``out_dir`` (report.html, metrics.json, steps.csv), atomically.

    Parameters
    ----------
    path : path
        The upload (an insole session, or a file of a registered import format).
    out_dir : path
        Folder for this session's outputs; created if needed. Each file is written under a temporary name and
        renamed, so ``out_dir`` never holds a half-written output.
    params : dict, optional
        Analysis parameters (field names of :class:`pipeline.analysis.AnalysisParams`).
    format_name : str
        Name of the registered :class:`~pipeline.batch.discovery.InputFormat`.
    limits : Limits, optional
        Size and shape limits checked before reading data.
    display_name : str, optional
        Name used for the file in messages (e.g. its path relative to the inbox) instead of the full path.
    cohort : str
        ``auto``, ``none`` or a cohort file (``--cohort``).
    expected : UploadIdentity, optional
        The content the night planned with (hash and file status). The upload's status is checked before it is
        read and again before any output is written, and the hash of the bytes the analysis read must match;
        otherwise nothing is written and the reason is ``changed`` (processed again next run).

    Returns
    -------
    ProcessOutcome
        Never raises for a bad upload; ``ok`` is False with a reason code and message instead.
    """
    t0 = time.perf_counter()
    src = Path(path)
    limits = limits or Limits()
    shown = display_name or src.name
    outcome = ProcessOutcome(ok=False)

    def clean(msg: str) -> str:
        return msg.replace(str(src), shown)

    try:
        params_obj = analysis_params(params)
        fmt = format_by_name(format_name)
        with tempfile.TemporaryDirectory(prefix="insole-batch-") as tmp:
            result = _analyse(src, tmp, fmt, params_obj, params, limits, cohort, expected, outcome, clean)
            if result is not None:  # None: the converter failed, outcome says why
                outcome.outputs = _write_outputs(result, Path(out_dir))
                outcome.ok = True
    except UploadChanged as exc:
        outcome.reason, outcome.message = "changed", f"{shown}: {exc}; processed next run"
    except OutputWriteError as exc:
        outcome.reason, outcome.message = "output-error", f"{shown}: {exc}"
    except SessionFileError as exc:
        outcome.reason, outcome.message = _classify_session_error(exc), f"{shown}: {exc.problem}"
    except (UnsafeInputError, EmptyRecordingError, InvalidContentError) as exc:
        outcome.reason = {UnsafeInputError: "unsafe", EmptyRecordingError: "empty"}.get(type(exc), "invalid-format")
        outcome.message = f"{shown}: {exc}"
    except AnalysisError as exc:
        outcome.reason, outcome.message = "not-analysable", clean(str(exc))
    except CohortError as exc:
        outcome.reason, outcome.message = "cohort", clean(f"{shown}: {exc}")
    except MemoryError:
        outcome.reason = "memory"
        outcome.message = f"{shown}: ran out of the memory allowed per file ({limits.max_memory_mb:g} MB)"
    except OSError as exc:  # reading the upload (writing is OutputWriteError)
        outcome.reason, outcome.message = "unreadable", clean(f"{shown}: {exc.strerror or exc}")
    except Exception as exc:  # a defect in analysis/report must quarantine the file, not stop the night
        outcome.reason = "analysis-error"
        outcome.message = clean(f"{shown}: {type(exc).__name__}: {exc}")
        outcome.detail = clean(traceback.format_exc(limit=20))
    finally:
        outcome.duration_s = time.perf_counter() - t0
    if not outcome.ok and expected is not None and outcome.reason not in ("changed", "output-error"):
        try:  # a failure of bytes that are no longer the upload says nothing about the upload
            check_unchanged(src, expected, "while it was processed")
        except UploadChanged as exc:
            outcome.reason, outcome.message, outcome.detail = "changed", f"{shown}: {exc}; processed next run", ""
    return outcome


def process_task(task: dict[str, Any]) -> dict[str, Any]:
    """:func:`process_session` on a plain-dict task (keys ``path``, ``out_dir``, ``params``, ``format``,
    ``limits``, ``rel_path``, ``cohort``, ``identity``); returns :meth:`ProcessOutcome.to_dict`."""
    identity = task.get("identity")
    return process_session(
        task["path"],
        task["out_dir"],
        task.get("params") or {},
        format_name=task.get("format") or NATIVE.name,
        limits=Limits.from_dict(task.get("limits") or {}),
        display_name=task.get("rel_path"),
        cohort=task.get("cohort") or "auto",
        expected=UploadIdentity.from_dict(identity) if identity else None,
    ).to_dict()
