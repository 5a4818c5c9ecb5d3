"""``insole report --history``: the follow-up of one subject across visits (a folder of sessions, or files)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click


def run_history(inputs: Sequence[Path], output: Path, json_path: Path | None, *, subject: str | None = None,
                cohort: object = "auto", sem_path: Path | None = None,
                allow_different_devices: bool = False) -> None:
    """Find the subject's sessions, analyse (or reuse) each, write the follow-up HTML (and its JSON twin).

    Raises
    ------
    pipeline.report.history_inputs.HistoryError
        No session found or analysable; sessions of several subjects without ``subject``.
    """
    from pipeline.report.comparison import load_sem_file
    from pipeline.report.history import build_history, write_history, write_history_json
    from pipeline.report.history_inputs import (
        FailedVisit,
        Visit,
        load_visit,
        read_heads,
        refuse_mixed,
        session_files,
        subjects_of,
    )

    sem = load_sem_file(sem_path) if sem_path else None
    heads, failed = read_heads(session_files(inputs))
    excluded = []
    if subject is not None:
        excluded = [FailedVisit(h.shown, f"another subject ({h.subject_id or 'subject id not given'}), left out by "
                                f"--subject {subject}") for h in heads if h.subject_id != subject]
        heads = [h for h in heads if h.subject_id == subject]
        if not heads:
            found = ", ".join(sorted(str(s) for s in subjects_of(h for h in read_heads(session_files(inputs))[0])))
            raise click.BadParameter(f"no session of subject {subject!r}; the sessions are of: {found or 'none'}",
                                     param_hint="--subject")
    refuse_mixed(subjects_of(heads))  # before any analysis
    visits: list[Visit] = []
    for h in heads:
        loaded = load_visit(h, cohort)
        (visits if isinstance(loaded, Visit) else failed).append(loaded)
        click.echo(f"{'analysed' if isinstance(loaded, Visit) else 'FAILED  '} {h.shown}", err=True)
    doc = build_history(visits, failed, excluded=excluded, subject=subject,
                        allow_different_devices=allow_different_devices, sem_overrides=sem)
    click.echo(f"wrote {write_history(doc, output)}")
    if json_path:
        click.echo(f"wrote {write_history_json(doc, json_path)}")
    for f in failed:
        click.echo(f"not drawn: {f.shown}: {f.reason}", err=True)
