"""Build a reference cohort from a folder of session files of healthy people recorded with one insole model.

Every ``*.h5`` session below the folder is analysed with the real analysis (no cohort of its own); a session that
fails its quality gates is left out and listed in the cohort's notes. Per recorded foot, the median of every
computed per-side metric becomes one value; per recording, every computed symmetry index one value. Measures in
raw counts are left out: uncalibrated sensors differ by their gains, so their values are not comparable between
people. All sessions must come from one device family (same layout id, cell count and stored units): a cohort
describes one insole model, and mixing models would make every percentile meaningless.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from insole.errors import InsoleError
from insole.provenance import utc_now_iso
from insole.session import open_session
from pipeline import __version__
from pipeline.errors import PipelineError
from pipeline.norms.cohort import (
    SCHEMA,
    SCHEMA_VERSION,
    Cohort,
    CohortEntry,
    CohortError,
    CohortMetric,
    CohortSource,
    DeviceFamily,
)

#: Fewer recordings than this make no cohort (a percentile needs something to rank against).
MIN_RECORDINGS = 5
#: Below this many subjects the cohort's notes say plainly that its percentiles are coarse.
SMALL_N_SUBJECTS = 20


def _comparable(unit: str) -> bool:
    """Values comparable across people: not raw counts (uncalibrated sensors differ by their gains)."""
    return "counts" not in unit


def _original(path: Path) -> tuple[str, str]:
    """(file name, SHA-256) of the original recording an imported session was converted from, ("", "") for a
    session recorded by this software."""
    with open_session(path) as sf:
        return str(sf.attrs.get("source_file") or ""), str(sf.attrs.get("source_sha256") or "")


def session_files(folder: Path) -> list[Path]:
    """Session files below ``folder``, sorted."""
    return sorted(p for p in folder.rglob("*.h5") if p.is_file())


def build_cohort(files: Iterable[Path], *, name: str, description: str, dataset: str = "",
                 min_recordings: int = MIN_RECORDINGS) -> Cohort:
    """Analyse ``files`` and collect their per-foot medians and symmetry indices into a cohort.

    Raises
    ------
    CohortError
        Too few usable recordings, or sessions of more than one device family.
    """
    from pipeline.analysis import analyze_session  # the analysis uses cohorts; build is above it

    metrics: dict[str, tuple[str, list[CohortEntry]]] = {}
    symmetry: dict[str, tuple[str, list[CohortEntry]]] = {}
    families: dict[tuple[str, int, str], list[str]] = defaultdict(list)
    sources: list[CohortSource] = []
    notes: list[str] = []
    for path in files:
        try:
            result = analyze_session(path, cohort=None)
        except (InsoleError, PipelineError) as exc:
            notes.append(f"left out {path.name}: {exc}")
            continue
        m = result.metrics
        if not m.quality.passed:
            notes.append(f"left out {path.name}: quality failed ({'; '.join(f.message for f in m.quality.failures)})")
            continue
        subject = m.session.subject_id or path.stem
        for side in m.sides:
            foot = m.session.foot(side)
            families[(foot.layout_id, foot.n_sensors, foot.units)].append(path.name)
            sr = m.side(side)
            for metric in sr.metrics():
                if metric.available and _comparable(metric.unit):
                    metrics.setdefault(metric.name, (metric.unit, []))[1].append(
                        CohortEntry(subject=subject, recording=path.stem, side=side, value=float(metric.median)))
        for sym in m.bilateral.symmetry.items():
            if sym.available and _comparable(sym.unit):
                symmetry.setdefault(sym.metric, (sym.unit, []))[1].append(
                    CohortEntry(subject=subject, recording=path.stem, side="both", value=float(sym.si_pct)))
        original, sha = _original(path)
        sources.append(CohortSource(file=original or path.name, sha256=sha or m.provenance.input_sha256,
                                    subject=subject, dataset=dataset))
    if len(families) > 1:
        mix = "; ".join(f"{lid} ({n} cells, {u}): {', '.join(sorted(set(fs))[:3])}"
                        for (lid, n, u), fs in families.items())
        raise CohortError(f"the sessions come from more than one device family ({mix}); a cohort describes one "
                          "insole model: build one cohort per model")
    if len(sources) < min_recordings:
        raise CohortError(f"only {len(sources)} usable recordings (at least {min_recordings} needed); "
                          + ("; ".join(notes[:5]) or "no session files found"))
    (layout_id, n_sensors, units), _ = next(iter(families.items()))
    n_subjects = len({s.subject for s in sources})
    if n_subjects < SMALL_N_SUBJECTS:
        notes.insert(0, f"small cohort: {n_subjects} subjects; a percentile rests on few values and its interval "
                        "is wide; positions near the cohort's ends are coarse")
    return Cohort(
        schema=SCHEMA, schema_version=SCHEMA_VERSION, name=name, description=description,
        device=DeviceFamily(layout_ids=[layout_id], n_sensors=n_sensors, units=units), sources=sources,
        n_subjects=n_subjects, n_recordings=len(sources), built_utc=utc_now_iso(), software=f"insole {__version__}",
        metrics={k: CohortMetric(name=k, unit=u, entries=e) for k, (u, e) in metrics.items()},
        symmetry={k: CohortMetric(name=k, unit=u, entries=e) for k, (u, e) in symmetry.items()},
        notes=notes,
    )
