"""The nightly summary (HTML and CSV) across all sessions of the inbox.

It lists counts, every failure with its reason, quality flags, and the sessions whose findings changed versus
the same subject's previous session. Metrics are read from each session's ``metrics.json`` (the analysis
contract: per-side summaries with ``median`` and ``ci95``, ``foot_function.label``, ``bilateral.lld_pattern``,
``quality``); anything absent is shown as empty, never guessed.

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

References
----------
.. [1] Schenker N, Gentleman JF (2001). On judging the significance of differences by examining the overlap
   between confidence intervals. The American Statistician 55(3):182-186.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

from pipeline.batch.atomic import write_text_atomic

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


def _get(d: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _num(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) else None


def findings(metrics: dict[str, Any] | None) -> dict[str, Any]:
    """Flat findings of one session's metrics (None where the metrics do not have them)."""
    m = metrics or {}
    out: dict[str, Any] = {}
    for name, _ in CONTINUOUS:
        for side in SIDES:
            out[f"{name}_{side}"] = _num(_get(m, side, name, "median"))
    for side in SIDES:
        out[f"foot_function_{side}"] = _get(m, side, "foot_function", "label")
        out[f"strides_{side}"] = _get(m, "quality", "strides", side)
        if out[f"strides_{side}"] is None:
            out[f"strides_{side}"] = _get(m, side, "stride_time_s", "n")
    lld = _get(m, "bilateral", "lld_pattern", "consistent")
    out["lld_consistent"] = lld if isinstance(lld, bool) else None
    q = m.get("quality") if isinstance(m.get("quality"), dict) else {}
    out["quality_passed"] = q.get("passed") if isinstance(q.get("passed"), bool) else None
    out["quality_warnings"] = "; ".join(str(w) for w in q.get("warnings") or [])
    out["quality_failures"] = "; ".join(str(w) for w in q.get("failures") or [])
    return out


def compare_findings(prev: dict[str, Any] | None, cur: dict[str, Any] | None, change_pct: float = 10.0) -> list[str]:
    """Findings that changed from ``prev`` to ``cur`` metrics (see the module notes for the rule)."""
    changes: list[str] = []
    for name, label in CONTINUOUS:
        for side in SIDES:
            a, b = _get(prev, side, name), _get(cur, side, name)
            ma, mb = _num(_get(a, "median")), _num(_get(b, "median"))
            if ma is None or mb is None:
                continue
            ca, cb = _get(a, "ci95"), _get(b, "ci95")
            cis = [ca, cb]
            if all(isinstance(c, list | tuple) and len(c) == 2 and all(_num(v) is not None for v in c) for c in cis):
                if ca[1] < cb[0] or cb[1] < ca[0]:
                    changes.append(f"{side} {label}: {ma:.3g} -> {mb:.3g} (95% CIs do not overlap)")
            elif ma != 0 and abs(mb - ma) > change_pct / 100 * abs(ma):
                changes.append(f"{side} {label}: {ma:.3g} -> {mb:.3g} ({100 * (mb - ma) / abs(ma):+.0f}%, "
                               f"no CI; > {change_pct:g}%)")
    for side in SIDES:
        la, lb = _get(prev, side, "foot_function", "label"), _get(cur, side, "foot_function", "label")
        if la and lb and la != lb and "undetermined" not in (la, lb):
            changes.append(f"{side} foot function: {la} -> {lb}")
    fa, fb = _get(prev, "bilateral", "lld_pattern", "consistent"), _get(cur, "bilateral", "lld_pattern", "consistent")
    if isinstance(fa, bool) and isinstance(fb, bool) and fa != fb:
        changes.append(f"leg-length-discrepancy pattern: {'present' if fa else 'absent'} -> "
                       f"{'present' if fb else 'absent'}")
    return changes


def load_metrics(path: Path) -> dict[str, Any] | None:
    """A session's metrics JSON (None when missing or unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def add_changes(rows: list[dict[str, Any]], metrics: dict[str, dict[str, Any] | None], change_pct: float) -> None:
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
    """CSV text of the summary rows (columns :data:`CSV_COLUMNS`, sorted by path)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in sorted(rows, key=lambda r: r["rel_path"]):
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in CSV_COLUMNS})
    return buf.getvalue()


#: The page template (a file next to this module, shipped as package data).
_TEMPLATE = (Path(__file__).with_name("summary.html.j2")).read_text(encoding="utf-8")


def to_html(rows: list[dict[str, Any]], counts: dict[str, int], night: dict[str, Any], *, change_pct: float,
            reasons: dict[str, str], base: str = "") -> str:
    """The summary page (``base``: prefix of links to session folders, relative to where the page is saved)."""
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    rows = sorted(rows, key=lambda r: r["rel_path"])
    return env.from_string(_TEMPLATE).render(
        rows=rows,
        counts=counts,
        night=night,
        failures=[r for r in rows if r["status"] in ("quarantined", "error")],
        flagged=[r for r in rows if r["status"] == "processed"
                 and (r.get("quality_passed") is False or r.get("quality_warnings") or r.get("quality_failures"))],
        changed=[r for r in rows if r.get("changes")],
        change_pct=f"{change_pct:g}",
        reasons=reasons,
        base=base,
        fmt=lambda x: f"{x:.3f}" if isinstance(x, int | float) and not isinstance(x, bool) else "-",
    )


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
