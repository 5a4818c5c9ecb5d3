"""``insole report`` and ``insole compare``: the HTML reports of one session and of a before/after pair."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.commands.outputs import check_outputs
from pipeline.norms.command import cohort_argument, cohort_option


@click.command("report")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("more_files", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="HTML file.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the report's content as JSON here.")
@click.option("--pdf", "pdf_path", is_flag=False, flag_value="", default=None, metavar="[FILE]",
              help="Also print the report to an A4 PDF with headless Chromium (Debian package `chromium`); "
                   "FILE defaults to the HTML file's name with .pdf.")
@click.option("--history", is_flag=True,
              help="Follow-up across visits: FILE is the subject's folder of sessions (or give several session "
                   "files); each key measure over visits with its 95 % CI, MDC and the changes of 'insole compare'.")
@click.option("--subject", help="With --history: draw this subject's sessions only (the folder holds several).")
@click.option("--sem", "sem_path", type=click.Path(dir_okay=False, path_type=Path),
              help="With --history: published test-retest SEMs, as for 'insole compare --sem'.")
@click.option("--allow-different-devices", is_flag=True,
              help="With --history: compare visits recorded with different insoles (caveated), as 'insole compare'.")
@cohort_option
def report_command(file: Path, output: Path, json_path: Path | None, pdf_path: str | None, cohort: str,
                   more_files: tuple[Path, ...] = (), history: bool = False, subject: str | None = None,
                   sem_path: Path | None = None, allow_different_devices: bool = False) -> None:
    """Write the self-contained HTML report of a session FILE (and optionally its JSON twin and an A4 PDF).

    With --history: the follow-up of one subject across visits, from a folder FILE of session files (or several
    files).
    """
    pdf = None if pdf_path is None else (Path(pdf_path) if pdf_path else output.with_suffix(".pdf"))
    if history:
        from pipeline.commands.history import run_history

        check_outputs(output=output, json=json_path, pdf=pdf)
        if pdf is not None:
            from pipeline.report.chromium import require_chromium

            require_chromium()
        run_history([file, *more_files], output, json_path, subject=subject, cohort=cohort_argument(cohort),
                    sem_path=sem_path, allow_different_devices=allow_different_devices)
        if pdf is not None:
            from pipeline.report.chromium import print_pdf

            click.echo(f"wrote {print_pdf(output, pdf)}")
        return
    if more_files or subject or sem_path or allow_different_devices:
        raise click.UsageError("several files, --subject, --sem and --allow-different-devices go with --history")
    if file.is_dir():
        raise click.UsageError(f"{file} is a folder; for the follow-up of a subject's sessions add --history")
    from pipeline.analysis import analyze_session
    from pipeline.report import write_report, write_report_json

    check_outputs(output=output, json=json_path, pdf=pdf)
    if pdf is not None:
        from pipeline.report.chromium import require_chromium

        require_chromium()  # before the analysis: a missing browser is known at once
    result = analyze_session(file, cohort=cohort_argument(cohort))
    out = write_report(result, output)
    click.echo(f"wrote {out}")
    if json_path:
        click.echo(f"wrote {write_report_json(result, json_path)}")
    if pdf is not None:
        from pipeline.report.chromium import print_pdf

        click.echo(f"wrote {print_pdf(out, pdf)}")


@click.command("compare")
@click.argument("before", type=click.Path(path_type=Path))
@click.argument("after", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="HTML file.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the comparison as JSON here.")
@click.option("--allow-different-devices", is_flag=True,
              help="Compare sessions recorded with different sensor layouts, cell counts or units (caveated).")
@click.option("--sem", "sem_path", type=click.Path(dir_okay=False, path_type=Path),
              help='JSON of published test-retest SEMs: {"stance_time_s": {"sem": 0.012, "source": "..."}}.')
@cohort_option
def compare_command(before: Path, after: Path, output: Path, json_path: Path | None, allow_different_devices: bool,
                    sem_path: Path | None, cohort: str) -> None:
    """Compare two sessions, BEFORE and AFTER (e.g. shoes vs orthotic): change, effect size, CI and MDC95."""
    from pipeline.analysis import analyze_session
    from pipeline.report.comparison import load_sem_file, write_comparison, write_comparison_json

    check_outputs(output=output, json=json_path)
    sem = load_sem_file(sem_path) if sem_path else None
    chosen = cohort_argument(cohort)
    b, a = analyze_session(before, cohort=chosen), analyze_session(after, cohort=chosen)
    kwargs = {"allow_different_devices": allow_different_devices, "sem_overrides": sem}
    click.echo(f"wrote {write_comparison(b, a, output, **kwargs)}")
    if json_path:
        click.echo(f"wrote {write_comparison_json(b, a, json_path, **kwargs)}")
