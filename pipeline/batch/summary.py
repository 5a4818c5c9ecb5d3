"""The nightly summary (HTML and CSV) across all sessions of the inbox.

It lists counts, every failure with its reason, quality flags, and the sessions whose findings changed versus
the same subject's previous session. Metrics are read from each session's ``metrics.json`` as the typed analysis
result (:class:`~pipeline.analysis.result.SessionMetrics`); a metric that was not computed is shown as empty, with
nothing guessed, and a ``metrics.json`` that cannot be read as a result of this version counts as missing.

Change rule (:func:`compare_findings`)
--------------------------------------
* Continuous findings (stride time, stance time, stance %, CPEI, per side): *changed* when the two sessions'
  95 % confidence intervals of the median do not overlap. Non-overlap of two 95 % CIs implies a difference at
  (at least) the 5 % level, so this rule is conservative [1]_. When a CI is missing, the relative change of the
  medians is compared with ``change_pct`` (default 10 %, a screening convention of this tool, not a clinical
  minimal detectable change; set it with ``--change-pct``).
* Categorical findings: the foot-function label of a side changed (only between two determined labels), or the
  leg-length-discrepancy pattern flag (``bilateral.lld_pattern.consistent``) changed.

Sessions of a subject (``<clinic>/<subject>`` folder) are ordered by the recording time stored in the file
(``created_utc``), then by path.

Every text cell comes from untrusted uploads: it is neutralised (bidirectional and control characters shown as
``[U+XXXX]``) in both files, and CSV cells that a spreadsheet would run as a formula are prefixed with ``'``
(:mod:`pipeline.batch.text`).

References
----------
.. [1] Schenker N, Gentleman JF (2001). On judging the significance of differences by examining the overlap
   between confidence intervals. The American Statistician 55(3):182-186.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from pipeline.analysis.result import Metric, SessionMetrics
from pipeline.batch.atomic import write_text_atomic
from pipeline.batch.text import csv_cell, neutral_value
from pipeline.errors import AnalysisError

#: Continuous findings compared between sessions (metric name in the per-side metrics, label).
CONTINUOUS = (
    ("stride_time_s", "stride time (s)"),
    ("stance_time_s", "stance time (s)"),
    ("stance_pct", "stance (% stride)"),
    ("cpei_pct", "CPEI (%)"),
)
SIDES = ("left", "right")

CSV_COLUMNS = [
    "rel_path", "clinic", "subject", "session", "status", "new_this_run", "reason", "message", "duplicate_of",
    "recorded_utc", "subject_id_in_file", "output_folder", "quarantine_folder", "quality_passed",
    "quality_warnings", "quality_failures", "strides_left", "strides_right",
    *[f"{m}_{s}" for m, _ in CONTINUOUS for s in SIDES],
    "foot_function_left", "foot_function_right", "lld_consistent", "previous_session", "changes", "duration_s",
]


def _median(metrics: SessionMetrics | None, side: str, name: str) -> Metric | None:
    sr = metrics.side(side) if metrics is not None else None
    m = sr.metric(name) if sr is not None else None
    return m if m is not None and m.available else None


def findings(metrics: SessionMetrics | None) -> dict[str, Any]:
    """Flat findings of one session's result (None where a finding is not available)."""
    out: dict[str, Any] = {}
    for name, _ in CONTINUOUS:
        for side in SIDES:
            m = _median(metrics, side, name)
            out[f"{name}_{side}"] = m.median if m is not None else None
    for side in SIDES:
        sr = metrics.side(side) if metrics is not None else None
        out[f"foot_function_{side}"] = sr.foot_function.label if sr is not None and sr.foot_function else None
        q = metrics.quality.side(side) if metrics is not None else None
        out[f"strides_{side}"] = q.strides if q is not None else None
    out["lld_consistent"] = metrics.bilateral.lld_pattern.consistent if metrics is not None else None
    q = metrics.quality if metrics is not None else None
    out["quality_passed"] = q.passed if q is not None else None
    out["quality_warnings"] = "; ".join(w.message for w in q.warnings) if q is not None else ""
    out["quality_failures"] = "; ".join(f.message for f in q.failures) if q is not None else ""
    return out


def compare_findings(prev: SessionMetrics | None, cur: SessionMetrics | None, change_pct: float = 10.0) -> list[str]:
    """Findings that changed from ``prev`` to ``cur`` (see the module notes for the rule)."""
    if prev is None or cur is None:
        return []
    changes: list[str] = []
    for name, label in CONTINUOUS:
        for side in SIDES:
            a, b = _median(prev, side, name), _median(cur, side, name)
            if a is None or b is None:
                continue
            ma, mb = a.median, b.median
            if a.ci95 is not None and b.ci95 is not None:
                if a.ci95[1] < b.ci95[0] or b.ci95[1] < a.ci95[0]:
                    changes.append(f"{side} {label}: {ma:.3g} -> {mb:.3g} (95% CIs do not overlap)")
            elif ma != 0 and abs(mb - ma) > change_pct / 100 * abs(ma):
                changes.append(f"{side} {label}: {ma:.3g} -> {mb:.3g} ({100 * (mb - ma) / abs(ma):+.0f}%, "
                               f"no CI; > {change_pct:g}%)")
    for side in SIDES:
        fa, fb = prev.side(side), cur.side(side)
        la = fa.foot_function.label if fa is not None and fa.foot_function else None
        lb = fb.foot_function.label if fb is not None and fb.foot_function else None
        if la and lb and la != lb and "not assessed" not in (la, lb):
            changes.append(f"{side} foot function: {la} -> {lb}")
    pa, pb = prev.bilateral.lld_pattern.consistent, cur.bilateral.lld_pattern.consistent
    if pa is not None and pb is not None and pa != pb:
        changes.append(f"leg-length-discrepancy pattern: {'present' if pa else 'absent'} -> "
                       f"{'present' if pb else 'absent'}")
    return changes


def load_metrics(path: Path) -> SessionMetrics | None:
    """A session's ``metrics.json`` as the typed result (None when missing, unreadable or of another version)."""
    try:
        return SessionMetrics.from_json(path.read_bytes(), source=str(path))
    except (OSError, AnalysisError):
        return None


def add_changes(rows: list[dict[str, Any]], metrics: dict[str, SessionMetrics | None], change_pct: float) -> None:
    """Fill ``previous_session`` and ``changes`` of processed rows, subject by subject (in place).

    ``metrics`` maps a row's ``rel_path`` to its metrics (processed canonical uploads only).
    """
    by_subject: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["status"] == "processed":
            by_subject[(r["clinic"], r["subject"])].append(r)
    for group in by_subject.values():
        group.sort(key=lambda r: (r.get("recorded_utc") or "", r["rel_path"]))
        for prev, cur in zip(group, group[1:], strict=False):
            cur["previous_session"] = prev["rel_path"]
            cur["changes"] = "; ".join(compare_findings(metrics.get(prev["rel_path"]), metrics.get(cur["rel_path"]),
                                                        change_pct))


def to_csv(rows: list[dict[str, Any]]) -> str:
    """CSV text of the summary rows (columns :data:`CSV_COLUMNS`, sorted by path; cells made safe with
    :func:`pipeline.batch.text.csv_cell`)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in sorted(rows, key=lambda r: r["rel_path"]):
        w.writerow({k: csv_cell(r.get(k)) for k in CSV_COLUMNS})
    return buf.getvalue()


#: The page template (a file next to this module, shipped as package data).
_TEMPLATE = (Path(__file__).with_name("summary.html.j2")).read_text(encoding="utf-8")


def to_html(rows: list[dict[str, Any]], counts: dict[str, int], night: dict[str, Any], *, change_pct: float,
            reasons: dict[str, str], base: str = "") -> str:
    """The summary page (``base``: prefix of links to session folders, relative to where the page is saved)."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    rows = [{k: neutral_value(v) for k, v in r.items()} for r in sorted(rows, key=lambda r: r["rel_path"])]
    night = {k: ([neutral_value(x) for x in v] if isinstance(v, list) else neutral_value(v))
             for k, v in night.items()}
    return env.from_string(_TEMPLATE).render(
        rows=rows,
        counts=counts,
        night=night,
        failures=[r for r in rows if r["status"] in ("quarantined", "error")],
        flagged=[r for r in rows if r["status"] == "processed"
                 and (r.get("quality_passed") is False or r.get("quality_warnings") or r.get("quality_failures"))],
        changed=[r for r in rows if r.get("changes")],
        followed=_latest_per_subject(rows),
        change_pct=f"{change_pct:g}",
        reasons=reasons,
        base=base,
        fmt=lambda x: f"{x:.3f}" if isinstance(x, int | float) and not isinstance(x, bool) else "-",
    )


def _latest_per_subject(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The latest processed session (by recording time, then path) of each subject with a follow-up page or a
    reason why there is none (:mod:`pipeline.batch.history_pages`), by subject."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        if r["status"] == "processed" and (r.get("history_page") or r.get("history_problem")):
            key = (r["clinic"], r["subject"])
            if key not in latest or (r.get("recorded_utc") or "", r["rel_path"]) >= (
                    latest[key].get("recorded_utc") or "", latest[key]["rel_path"]):
                latest[key] = r
    return [latest[k] for k in sorted(latest)]


def write_summary(out_root: Path, rows: list[dict[str, Any]], counts: dict[str, int], night: dict[str, Any], *,
                  change_pct: float, reasons: dict[str, str]) -> dict[str, Path]:
    """Write ``summary.html`` / ``summary.csv`` in ``out_root`` and an archived copy in ``nights/<run id>/``."""
    csv_text = to_csv(rows)
    archive = out_root / "nights" / night["run_id"]
    paths = {
        "html": write_text_atomic(out_root / "summary.html",
                                  to_html(rows, counts, night, change_pct=change_pct, reasons=reasons)),
        "csv": write_text_atomic(out_root / "summary.csv", csv_text),
    }
    write_text_atomic(archive / "summary.html",
                      to_html(rows, counts, night, change_pct=change_pct, reasons=reasons, base="../../"))
    write_text_atomic(archive / "summary.csv", csv_text)
    return paths
